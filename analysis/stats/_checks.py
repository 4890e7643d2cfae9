"""Input validation that names the offending study."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


#: "1", "2", ... shared by every call without labels: making 100,000 strings costs more than
#: a whole REML fit at that size, slicing this real tuple only a pointer copy.
_DEFAULT_LABELS: tuple[str, ...] = ()
_DEFAULT_LABELS_CACHE_MAX = 1_000_000


@lru_cache(maxsize=64)
def default_labels(k: int) -> tuple[str, ...]:
    """The labels "1".."k" as a plain tuple; the same object for the same k (cached)."""
    global _DEFAULT_LABELS
    base = _DEFAULT_LABELS
    if k <= len(base):
        return base[:k]
    labels = base + tuple(str(j) for j in range(len(base) + 1, k + 1))
    if k <= _DEFAULT_LABELS_CACHE_MAX:
        _DEFAULT_LABELS = labels
    return labels


def dot(a: FloatArray, b: FloatArray) -> float:
    """Inner product of two vectors without BLAS.

    ``a @ b`` goes to BLAS ddot, which with a threaded OpenBLAS on a busy machine was
    measured at 7.7 ms for k = 100,000 (thread wake-up); einsum's own loop takes 0.03 ms.
    """
    return float(np.einsum("i,i->", a, b))


def make_labels(labels: Sequence[Any] | None, k: int) -> tuple[str, ...]:
    if labels is None:
        return default_labels(k)
    if labels is default_labels(k):
        return labels
    out = tuple(str(x) for x in labels)
    if len(out) != k:
        raise ValueError(f"got {len(out)} study labels for {k} studies")
    return out


def study_name(labels: Sequence[str], i: int) -> str:
    """'study 3' or 'study 3 (Aronson 1948)' (1-based, as a reviewer counts rows)."""
    lab = labels[i]
    if lab == str(i + 1):
        return f"study {i + 1}"
    return f"study {i + 1} ({lab})"


def as_float_array(x: Any, name: str, k: int | None = None) -> FloatArray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if k is not None and arr.shape[0] != k:
        raise ValueError(f"{name} has {arr.shape[0]} values but {k} studies were given")
    return arr


def first_bad(mask: NDArray[np.bool_]) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def require(mask_bad: NDArray[np.bool_], labels: Sequence[str], message: str) -> None:
    """Raise ``ValueError`` naming the first study where ``mask_bad`` is true."""
    i = first_bad(mask_bad)
    if i is not None:
        n_bad = int(np.count_nonzero(mask_bad))
        more = f" ({n_bad - 1} more studies affected)" if n_bad > 1 else ""
        raise ValueError(f"{study_name(labels, i)}: {message}{more}")


def check_yi_vi(
    yi: Any, vi: Any, labels: Sequence[Any] | None
) -> tuple[FloatArray, FloatArray, tuple[str, ...]]:
    y = as_float_array(yi, "yi")
    k = y.shape[0]
    v = as_float_array(vi, "vi", k)
    labs = make_labels(labels, k)
    if k == 0:
        raise ValueError("no studies to pool (k = 0)")
    # Fast path: two reductions instead of five masks. A sum is finite only if every term
    # is (an overflowing sum falls through to the exact checks below).
    if math.isfinite(float(y.sum()) + float(v.sum())) and float(v.min()) > 0:
        return y, v, labs
    require(np.isnan(y), labs, "effect size yi is NaN (missing or not estimable)")
    require(np.isnan(v), labs, "sampling variance vi is NaN (missing or not estimable)")
    require(~np.isfinite(y), labs, "effect size yi is infinite")
    require(~np.isfinite(v), labs, "sampling variance vi is infinite")
    require(v <= 0, labs, "sampling variance vi must be positive")
    return y, v, labs
