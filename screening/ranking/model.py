"""The relevance model: which unscreened records look most like the included ones.

The chosen method (see docs/screening.md, "How the ranking was chosen", for the measurements):
an ensemble of three linear models on TF-IDF features, each fitted with balanced class weights
(the includes are rare: one in ten to one in a hundred), combined by averaging the records'
rank percentiles, so that no model's scale dominates:

- a linear support vector machine (squared hinge loss),
- L2-regularised logistic regression,
- complement naive Bayes (Rennie et al. 2003), which behaves well with a handful of labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC


@dataclass(frozen=True)
class ModelSpec:
    """What the ensemble is made of. The defaults are the method the app uses."""

    members: tuple[str, ...] = ("svm", "logistic", "cnb")
    svm_c: float = 0.5
    logistic_c: float = 2.0
    cnb_alpha: float = 0.3
    class_weight: str | None = "balanced"
    extra: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        return " + ".join(self.members) + f" ({self.class_weight or 'unweighted'})"


DEFAULT_SPEC = ModelSpec()


def _member_scores(
    name: str,
    spec: ModelSpec,
    X_train: sp.csr_matrix,
    y: np.ndarray,
    X_pool: sp.csr_matrix,
    seed: int,
) -> np.ndarray:
    """Fit one member on the labelled rows and score every row of X_pool. Scores are computed
    as one float32 product with the fitted weights, instead of the estimators' own predict
    methods, which would copy the whole pool to float64 first (a gigabyte at 200,000 records).
    """
    weight = spec.class_weight
    if name in ("svm", "logistic"):
        if name == "svm":
            fitted: LinearSVC | LogisticRegression = LinearSVC(
                C=spec.svm_c, class_weight=weight, random_state=seed, max_iter=5000
            )
        else:
            fitted = LogisticRegression(
                C=spec.logistic_c,
                class_weight=weight,
                solver="liblinear",
                dual=True,
                max_iter=1000,
            )
        fitted.fit(X_train, y)
        coef = np.asarray(fitted.coef_, dtype=np.float32).ravel()
        return np.asarray(X_pool @ coef) + float(np.ravel(fitted.intercept_)[0])
    if name == "cnb":
        sample_weight = None
        if weight == "balanced":
            counts = np.bincount(y, minlength=2).astype(float)
            sample_weight = (len(y) / (2.0 * counts))[y]
        cnb = ComplementNB(alpha=spec.cnb_alpha)
        cnb.fit(X_train, y, sample_weight=sample_weight)
        # ComplementNB's joint log likelihood is X @ feature_log_prob_.T (no class prior with
        # two classes): the difference of its two columns is the score.
        log_prob = np.asarray(cnb.feature_log_prob_, dtype=np.float32)
        return np.asarray(X_pool @ (log_prob[1] - log_prob[0]))
    raise ValueError(f"unknown model '{name}'")


def relevance_scores(
    X: sp.csr_matrix,
    train_rows: np.ndarray,
    labels: np.ndarray,
    *,
    seed: int = 0,
    spec: ModelSpec = DEFAULT_SPEC,
) -> np.ndarray:
    """Scores in [0, 1] for every row of X (higher = more likely relevant), from models fitted
    on the rows `train_rows` with their `labels` (1 relevant, 0 irrelevant).

    Needs at least one label of each class. Rows with equal scores keep no particular order;
    the caller breaks ties.
    """
    y = np.asarray(labels, dtype=np.int64)
    if y.min() == y.max():
        raise ValueError("the model needs at least one relevant and one irrelevant record")
    X_train = X[train_rows]
    n = X.shape[0]
    combined = np.zeros(n, dtype=np.float64)
    for name in spec.members:
        raw = _member_scores(name, spec, X_train, y, X, seed)
        combined += rankdata(raw, method="average") / n
    return combined / len(spec.members)
