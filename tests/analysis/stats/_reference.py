"""Loader and tolerances for the committed metafor reference values."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

REFERENCE = Path(__file__).parent / "reference" / "metafor_reference.json"

#: Closed-form results (escalc, FE, DL, HE, HS, SJ, MH, Peto, OLS): only floating-point
#: rounding separates us from metafor.
CLOSED_FORM_RTOL = 1e-9
#: REML, ML and EB: we run metafor's Fisher scoring (same HE start, step halving and
#: 1e-5 absolute stopping rule), so the iterates coincide; the tolerance only absorbs
#: rounding in the sums (metafor builds k-by-k matrices, we use sums).
FISHER_RTOL = 1e-7
#: PM and the Q-profile bounds use root finding. metafor's uniroot stops at
#: tol = .Machine$double.eps^0.25 = 1.22e-4 in tau2; we solve to machine precision.
ROOT_TAU2_ATOL = 1.5e-4
#: Against metafor rerun with uniroot tol = 1e-12 the two roots agree closely.
ROOT_TIGHT_ATOL = 1e-7


@cache
def reference() -> dict[str, Any]:
    return json.loads(REFERENCE.read_text())


def cases(kind: str) -> list[dict[str, Any]]:
    return [c for c in reference()["cases"] if c["kind"] == kind]


def case_id(c: dict[str, Any]) -> str:
    parts = [c["dataset"]]
    for key in ("measure", "method", "test", "model", "predictor", "estimator"):
        if c.get(key) not in (None, "NA"):
            parts.append(str(c[key]))
    if c.get("params"):
        parts.append("-".join(f"{k}={v}" for k, v in c["params"].items()))
    return "/".join(parts)


def arr(x: Any) -> np.ndarray:
    """JSON list (None for NA) -> float array with NaN."""
    if isinstance(x, np.ndarray):
        return x.astype(float)
    if not isinstance(x, list):
        x = [x]
    return np.array([np.nan if v is None else v for v in x], dtype=float)


def close(actual: Any, expected: Any, *, rtol: float = 0.0, atol: float = 0.0) -> None:
    """Compare with the reference; JSON has no infinities, so they are stored as null."""
    a = np.atleast_1d(
        np.asarray(
            [np.nan if v is None else v for v in np.atleast_1d(np.asarray(actual, dtype=object))],
            dtype=float,
        )
    )
    a[~np.isfinite(a)] = np.nan
    np.testing.assert_allclose(a, arr(expected), rtol=rtol, atol=atol, equal_nan=True)
