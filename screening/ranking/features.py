"""Sparse text features of records: the words of title, abstract and keywords.

Term frequencies are hashed (scikit-learn's HashingVectorizer), so a review's features need no
vocabulary: records imported later are transformed on their own and appended, and 200,000
records never hold a vocabulary of millions of bigrams in memory. The inverse document
frequencies are computed at training time over the records being ranked (`Weighting`), which
is cheap once the term frequencies and their document frequencies exist.

A review's term frequencies live in one file (`TermFrequencyStore`) that a training reads by
blocks of rows, twice: once for the labelled rows the models are fitted on, once to score every
row. The whole matrix (600 MB at 200,000 records) is never in memory, so the memory a training
needs grows with the labelled set and not with the review.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import tempfile
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

N_FEATURES = 2**20
CHUNK = 5_000
ROW_BLOCK = 10_000
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


def _chunks(texts: Iterable[str]) -> Iterator[sp.csr_matrix]:
    """Sublinear term frequencies (1 + log tf) of CHUNK texts at a time."""
    iterator = iter(texts)
    while chunk := list(islice(iterator, CHUNK)):
        yield _transform(chunk)


def _transform(texts: list[str]) -> sp.csr_matrix:
    counts = _VECTORIZER.transform(texts).tocsr()
    counts.data = 1.0 + np.log(counts.data, dtype=np.float32)
    counts.indices = counts.indices.astype(np.int32, copy=False)
    return counts


def term_frequencies(texts: Iterable[str]) -> sp.csr_matrix:
    """Sublinear term frequencies (1 + log tf), one row per text, in memory (the simulation's
    reviews are small; the app streams a review's rows from a `TermFrequencyStore`)."""
    blocks = list(_chunks(texts))
    if not blocks:
        return sp.csr_matrix((0, N_FEATURES), dtype=np.float32)
    return sp.vstack(blocks, format="csr", dtype=np.float32)


# --- weighting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weighting:
    """Smoothed idf over a review's rows (as scikit-learn's TfidfTransformer), and the columns
    in use renumbered from 0: the models' coefficient vectors then span the terms in use, not
    all 2**20 hashes."""

    idf: np.ndarray  # float32, per hashed column
    remap: np.ndarray  # int32, per hashed column: its column in the weighted rows, -1 if unused
    n_columns: int

    @classmethod
    def from_document_frequencies(cls, df: np.ndarray, n_rows: int) -> Weighting:
        idf = np.ones(len(df), dtype=np.float32)
        present = np.flatnonzero(df)
        # The logarithm only where a term occurs (a few hundred thousand of the 2**20 hashes).
        idf[present] += np.log((1.0 + n_rows) / (1.0 + df[present])).astype(np.float32)
        remap = np.full(len(df), -1, dtype=np.int32)
        remap[present] = np.arange(len(present), dtype=np.int32)
        return cls(idf=idf, remap=remap, n_columns=len(present))

    def apply(self, tf: sp.csr_matrix, *, copy: bool = True) -> sp.csr_matrix:
        """TF-IDF rows of unit length in the renumbered columns. With `copy=False` the term
        frequencies' arrays are reused (their owner needs them no more)."""
        values = tf.data.astype(np.float32, copy=copy)
        columns = tf.indices.astype(np.int32, copy=copy)
        indptr = tf.indptr
        values *= self.idf[columns]
        norms = np.sqrt(_row_sums(values * values, indptr)).astype(np.float32)
        norms[norms == 0] = 1.0
        values /= np.repeat(norms, np.diff(indptr))
        columns[:] = self.remap[columns]
        return sp.csr_matrix(
            (values, columns, indptr), shape=(tf.shape[0], self.n_columns), copy=False
        )


def document_frequencies(tf: sp.csr_matrix) -> np.ndarray:
    return np.bincount(tf.indices, minlength=N_FEATURES).astype(np.int64)


def tfidf(tf: sp.csr_matrix, *, copy: bool = True) -> sp.csr_matrix:
    """The weighted rows of an in-memory matrix of term frequencies, by blocks of rows so that
    no temporary array spans the whole matrix."""
    n = tf.shape[0]
    weighting = Weighting.from_document_frequencies(document_frequencies(tf), n)
    if n == 0:
        return sp.csr_matrix((0, weighting.n_columns), dtype=np.float32)
    blocks = [
        weighting.apply(tf[r0 : min(n, r0 + ROW_BLOCK)], copy=copy) for r0 in range(0, n, ROW_BLOCK)
    ]
    return sp.vstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]


def _row_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Sum of each CSR row's values (0 for an empty row) without building a matrix."""
    padded = np.append(values, values.dtype.type(0))
    sums = np.add.reduceat(padded, indptr[:-1])
    # reduceat gives an empty row the next row's first value: zero those.
    return np.where(np.diff(indptr) > 0, sums, 0)


# --- rows to rank ---------------------------------------------------------------------------


class WeightedRows:
    """The rows a training ranks: `select` the labelled ones, score all of them by `blocks`."""

    n_rows: int

    def select(self, rows: np.ndarray) -> sp.csr_matrix:
        raise NotImplementedError

    def blocks(self) -> Iterator[tuple[int, sp.csr_matrix]]:
        raise NotImplementedError


class InMemoryRows(WeightedRows):
    def __init__(self, X: sp.csr_matrix) -> None:
        self.X = X
        self.n_rows = X.shape[0]

    def select(self, rows: np.ndarray) -> sp.csr_matrix:
        return self.X[rows]

    def blocks(self) -> Iterator[tuple[int, sp.csr_matrix]]:
        for r0 in range(0, self.n_rows, ROW_BLOCK):
            yield r0, self.X[r0 : r0 + ROW_BLOCK]


# --- the review's store ---------------------------------------------------------------------

_MAGIC = b"RVTF1\n"
_HEADER = struct.Struct("<6sQQQ")  # magic, rows, non-zero values, hashed columns


class TermFrequencyStore(WeightedRows):
    """A review's term frequencies in one file: a header, the record ids (int64), the CSR row
    pointers (int64), the document frequency of each hashed column (int64), then the column
    numbers (int32) and values (float32) of every row. Small parts are read at once; the rows
    are read by blocks, with plain reads (no memory map, so they leave no pages behind)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # The file stays open for the store's life: another worker may replace it (records
        # imported since) while this one reads, and the open file is still the old one.
        handle = path.open("rb")
        self._handle = handle
        weakref.finalize(self, handle.close)
        header = handle.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise ValueError(f"{path} is truncated")
        magic, n_rows, nnz, n_features = _HEADER.unpack(header)
        if magic != _MAGIC or n_features != N_FEATURES:
            raise ValueError(f"{path} is not a term-frequency store of this version")
        self.ids = _read(handle, np.int64, n_rows)
        self.indptr = _read(handle, np.int64, n_rows + 1)
        self.df = _read(handle, np.int64, n_features)
        self._indices_at = handle.tell()
        self.n_rows = int(n_rows)
        self.nnz = int(nnz)
        self._data_at = self._indices_at + 4 * self.nnz
        self.weighting = Weighting.from_document_frequencies(self.df, self.n_rows)
        if os.fstat(handle.fileno()).st_size != self._data_at + 4 * self.nnz:
            raise ValueError(f"{path} is truncated")

    def raw_blocks(self, rows_per_block: int = ROW_BLOCK) -> Iterator[tuple[int, sp.csr_matrix]]:
        """(first row, term frequencies of the block), in row order."""
        handle = self._handle
        for r0 in range(0, self.n_rows, rows_per_block):
            r1 = min(self.n_rows, r0 + rows_per_block)
            a, b = int(self.indptr[r0]), int(self.indptr[r1])
            handle.seek(self._indices_at + 4 * a)
            columns = _read(handle, np.int32, b - a)
            handle.seek(self._data_at + 4 * a)
            values = _read(handle, np.float32, b - a)
            local = self.indptr[r0 : r1 + 1] - a
            yield r0, sp.csr_matrix((values, columns, local), shape=(r1 - r0, N_FEATURES))

    def blocks(self) -> Iterator[tuple[int, sp.csr_matrix]]:
        for r0, tf in self.raw_blocks():
            yield r0, self.weighting.apply(tf, copy=False)

    def select(self, rows: np.ndarray) -> sp.csr_matrix:
        """The weighted rows `rows`, in that order (one pass over the file)."""
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        wanted = rows[order]
        parts = []
        for r0, tf in self.raw_blocks():
            lo, hi = np.searchsorted(wanted, [r0, r0 + tf.shape[0]])
            if hi > lo:
                parts.append(tf[wanted[lo:hi] - r0])
        if not parts:
            return sp.csr_matrix((0, self.weighting.n_columns), dtype=np.float32)
        picked = sp.vstack(parts, format="csr")
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return self.weighting.apply(picked[inverse], copy=False)


def _read(handle: BinaryIO, dtype: type[np.generic], count: int) -> np.ndarray:
    array = np.fromfile(handle, dtype=dtype, count=count)
    if array.size != count:
        raise ValueError("the term-frequency store is truncated")
    return array


def write_store(path: Path, ids: np.ndarray, blocks: Iterable[sp.csr_matrix]) -> None:
    """Write the rows of `blocks` (term frequencies, in the order of `ids`) as the store at
    `path`, atomically: a concurrent reader sees the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df = np.zeros(N_FEATURES, dtype=np.int64)
    row_ends: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
    nnz = 0
    # Values and column numbers are spooled apart, then written after the small parts.
    with (
        tempfile.TemporaryFile(dir=path.parent) as columns_file,
        tempfile.TemporaryFile(dir=path.parent) as values_file,
    ):
        for block in blocks:
            block.indices.astype(np.int32, copy=False).tofile(columns_file)
            block.data.astype(np.float32, copy=False).tofile(values_file)
            df += np.bincount(block.indices, minlength=N_FEATURES)
            row_ends.append(block.indptr[1:].astype(np.int64) + nnz)
            nnz += block.nnz
        indptr = np.concatenate(row_ends)
        if len(indptr) - 1 != len(ids):
            raise ValueError("the store needs one row per record id")
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(_HEADER.pack(_MAGIC, len(ids), nnz, N_FEATURES))
                np.asarray(ids, dtype=np.int64).tofile(out)
                indptr.tofile(out)
                df.tofile(out)
                for spool in (columns_file, values_file):
                    spool.seek(0)
                    shutil.copyfileobj(spool, out, 16 * 2**20)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)


def build_store(path: Path, ids: np.ndarray, texts: Iterable[str]) -> TermFrequencyStore:
    write_store(path, ids, _chunks(texts))
    return TermFrequencyStore(path)


def extend_store(
    store: TermFrequencyStore, ids: np.ndarray, texts: Iterable[str]
) -> TermFrequencyStore:
    """The store with rows for more records appended (records imported since it was built)."""
    old = (tf for _, tf in store.raw_blocks())
    write_store(store.path, np.concatenate([store.ids, ids]), _chain(old, _chunks(texts)))
    return TermFrequencyStore(store.path)


def _chain(*parts: Iterable[sp.csr_matrix]) -> Iterator[sp.csr_matrix]:
    for part in parts:
        yield from part
