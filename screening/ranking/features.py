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


def tfidf(tf: sp.csr_matrix, *, min_df: int = 1, copy: bool = True) -> sp.csr_matrix:
    """Smoothed idf over these rows, then unit-length rows (as scikit-learn's TfidfTransformer),
    keeping only the columns used by at least `min_df` rows.

    Columns are renumbered through a lookup array instead of sliced (`X[:, used]` sorts and
    copies): the models' coefficient vectors then span the terms in use, not all 2**20 hashes.
    With `copy=False` the term frequencies' arrays are reused (a training loads them fresh from
    the cache and needs them no more), so a large review is held in memory once, not twice.
    """
    n = tf.shape[0]
    df = np.bincount(tf.indices, minlength=tf.shape[1])
    # The logarithm only where a term occurs (a few hundred thousand of the 2**20 hashes).
    idf = np.ones(tf.shape[1], dtype=np.float32)
    present = np.flatnonzero(df)
    idf[present] += np.log((1.0 + n) / (1.0 + df[present])).astype(np.float32)
    data = tf.data if not copy else tf.data.copy()
    data *= idf[tf.indices]
    lengths = np.diff(tf.indptr)
    norms = np.sqrt(_row_sums(data * data, tf.indptr)).astype(np.float32)
    norms[norms == 0] = 1.0
    data /= np.repeat(norms, lengths)
    keep_columns = df >= min_df
    remap = np.full(tf.shape[1], -1, dtype=np.int32)
    remap[keep_columns] = np.arange(int(keep_columns.sum()), dtype=np.int32)
    indices = tf.indices if not copy else tf.indices.copy()
    np.take(remap, indices, out=indices)
    indptr = tf.indptr
    if min_df > 1:
        kept = indices >= 0
        indices, data = indices[kept], data[kept]
        counts = _row_sums(kept.astype(np.int64), tf.indptr)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(tf.indptr.dtype)
    shape = (n, int(keep_columns.sum()))
    return sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)


def _row_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Sum of each CSR row's values (0 for an empty row) without building a matrix."""
    padded = np.append(values, values.dtype.type(0))
    sums = np.add.reduceat(padded, indptr[:-1])
    # reduceat gives an empty row the next row's first value: zero those.
    return np.where(np.diff(indptr) > 0, sums, 0)
