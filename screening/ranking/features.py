"""Sparse text features of records: the words of title, abstract and keywords.

Term frequencies are hashed (scikit-learn's HashingVectorizer), so a review's features need no
vocabulary: records imported later are transformed on their own and appended, and 200,000
records never hold a vocabulary of millions of bigrams in memory. The inverse document
frequencies are computed at training time over the records being ranked (`tfidf`), which is
cheap once the term frequencies exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

N_FEATURES = 2**20
CHUNK = 5_000
_TAGS = re.compile(r"<[^>]{1,40}>")


def record_text(title: str, abstract: str, keywords: Sequence[str] = ()) -> str:
    """One document per record. Title and keywords are short and dense in meaning: the title is
    given twice so that its words weigh about as much as the abstract's leading sentences."""
    parts = [title, title, abstract, " ".join(str(k) for k in keywords)]
    return _TAGS.sub(" ", " ".join(p for p in parts if p))


_VECTORIZER = HashingVectorizer(
    n_features=N_FEATURES,
    ngram_range=(1, 2),
    alternate_sign=False,
    norm=None,
    dtype=np.float32,
    strip_accents="unicode",
    lowercase=True,
)


def term_frequencies(texts: Iterable[str]) -> sp.csr_matrix:
    """Sublinear term frequencies (1 + log tf), one row per text, in chunks so that the texts
    of a large review need not all be in memory at once."""
    blocks: list[sp.csr_matrix] = []
    chunk: list[str] = []
    for text in texts:
        chunk.append(text)
        if len(chunk) == CHUNK:
            blocks.append(_transform(chunk))
            chunk = []
    if chunk or not blocks:
        blocks.append(_transform(chunk))
    return sp.vstack(blocks, format="csr", dtype=np.float32)


def _transform(texts: list[str]) -> sp.csr_matrix:
    counts = _VECTORIZER.transform(texts).tocsr()
    counts.data = 1.0 + np.log(counts.data, dtype=np.float32)
    return counts


def tfidf(tf: sp.csr_matrix) -> sp.csr_matrix:
    """Smoothed idf over these rows, then unit-length rows (as scikit-learn's TfidfTransformer,
    without copying the matrix more than once)."""
    n = tf.shape[0]
    df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float32)
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    X = tf.copy()
    X.data *= idf[X.indices]
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel()).astype(np.float32)
    norms[norms == 0] = 1.0
    X.data /= np.repeat(norms, np.diff(X.indptr))
    # Columns no row uses cost nothing in CSR, but the models' coefficient vectors would span
    # all 2**20 hashes: keep only the columns in use.
    used = np.flatnonzero(df)
    return X[:, used].tocsr()
