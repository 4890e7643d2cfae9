"""The relevance model: which unscreened records look most like the included ones.

The chosen method (see docs/screening.md, "How the ranking was chosen", for the measurements):
a linear support vector machine (squared hinge loss, C = 0.11) on the TF-IDF features, fitted
with ASReview's "balanced" sample weights at ratio 9.8: the includes together weigh 9.8 times
as much as the excludes together, whatever their numbers. With the includes rare (one in ten
to one in a hundred) and the first ones few, the model then errs towards "looks relevant",
which is what finding the last includes early needs.

`ModelSpec` can also make an ensemble (logistic regression, complement naive Bayes), combined by
averaging the records' rank percentiles; the benchmark measures those alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from .features import InMemoryRows, WeightedRows


@dataclass(frozen=True)
class ModelSpec:
    """What the model is made of. The defaults are the method the app uses."""

    members: tuple[str, ...] = ("svm",)
    svm_c: float = 0.11
    logistic_c: float = 2.0
    cnb_alpha: float = 0.3
    # Total weight of the includes over that of the excludes (1 = scikit-learn's "balanced").
    include_ratio: float = 9.8

    def describe(self) -> str:
        return " + ".join(self.members) + f" (include weight ratio {self.include_ratio:g})"


DEFAULT_SPEC = ModelSpec()


def sample_weights(y: np.ndarray, include_ratio: float) -> np.ndarray:
    """Weights under which the includes together weigh `include_ratio` times the excludes,
    scaled to average 1 (so the regularisation strength C keeps its meaning)."""
    n_include = int(y.sum())
    n_exclude = len(y) - n_include
    weight = np.where(y == 1, include_ratio / n_include, 1.0 / n_exclude)
    return weight * (len(y) / weight.sum())


@dataclass(frozen=True)
class LinearScorer:
    """A fitted member as a weight per column and an intercept: scoring a block of rows is one
    float32 product, instead of the estimators' predict methods, which copy the rows to
    float64 first."""

    coef: np.ndarray  # float32
    intercept: float


def _fit_member(
    name: str, spec: ModelSpec, X_train: sp.csr_matrix, y: np.ndarray, seed: int
) -> LinearScorer:
    weight = sample_weights(y, spec.include_ratio)
    if name in ("svm", "logistic"):
        if name == "svm":
            fitted: LinearSVC | LogisticRegression = LinearSVC(
                C=spec.svm_c, random_state=seed, max_iter=5000
            )
        else:
            fitted = LogisticRegression(
                C=spec.logistic_c, solver="liblinear", dual=True, max_iter=1000
            )
        fitted.fit(X_train, y, sample_weight=weight)
        coef = np.asarray(fitted.coef_, dtype=np.float32).ravel()
        return LinearScorer(coef, float(np.ravel(fitted.intercept_)[0]))
    if name == "cnb":
        cnb = ComplementNB(alpha=spec.cnb_alpha)
        cnb.fit(X_train, y, sample_weight=weight)
        # ComplementNB's joint log likelihood is X @ feature_log_prob_.T (no class prior with
        # two classes): the difference of its two columns is the score.
        log_prob = np.asarray(cnb.feature_log_prob_, dtype=np.float32)
        return LinearScorer(log_prob[1] - log_prob[0], 0.0)
    raise ValueError(f"unknown model '{name}'")


def relevance_scores(
    X: sp.csr_matrix | WeightedRows,
    train_rows: np.ndarray,
    labels: np.ndarray,
    *,
    seed: int = 0,
    spec: ModelSpec = DEFAULT_SPEC,
) -> np.ndarray:
    """Scores for every row of X (higher = more likely relevant), from models fitted on the
    rows `train_rows` with their `labels` (1 relevant, 0 irrelevant): the rank percentile of
    the row's decision value, in (0, 1] (for an ensemble, the mean of the members').

    X is a weighted matrix or a `WeightedRows` source (a review's store, read by blocks).
    Needs at least one label of each class. Rows with equal scores keep no particular order;
    the caller breaks ties.
    """
    rows = X if isinstance(X, WeightedRows) else InMemoryRows(X)
    y = np.asarray(labels, dtype=np.int64)
    if y.min() == y.max():
        raise ValueError("the model needs at least one relevant and one irrelevant record")
    X_train = rows.select(np.asarray(train_rows, dtype=np.int64))
    scorers = [_fit_member(name, spec, X_train, y, seed) for name in spec.members]
    del X_train
    coef = np.column_stack([s.coef for s in scorers])
    intercept = np.asarray([s.intercept for s in scorers], dtype=np.float32)
    raw = np.empty((rows.n_rows, len(scorers)), dtype=np.float32)
    for r0, block in rows.blocks():
        raw[r0 : r0 + block.shape[0]] = block @ coef + intercept
    n = rows.n_rows
    return np.mean([rankdata(raw[:, k]) / n for k in range(len(scorers))], axis=0)
