"""Findings reproduced before they were fixed: numerical breakdown must be reported, the
command line never prints a traceback, and default study labels are a real tuple."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.stats import escalc, metareg, pool

ROOT = Path(__file__).resolve().parents[3]

#: Estimates so far apart that tau2 starts near 1e300 and sum(w^2) underflows to zero, so
#: the first Fisher-scoring step divides by zero.
OVERFLOWING = ([1e150, -1e150, 0.0], [1.0, 1.0, 1.0])


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_a_non_finite_fisher_scoring_step_is_not_reported_as_converged(method: str) -> None:
    res = pool(*OVERFLOWING, method=method)
    assert res.converged is False
    assert any("not finite" in w for w in res.warnings), res.warnings
    assert res.to_dict()["converged"] is False


def test_a_non_finite_step_in_a_meta_regression_is_not_converged() -> None:
    res = metareg([1e150, -1e150, 0.0, 2e150], [1.0] * 4, [0.0, 1.0, 0.0, 1.0])
    assert res.converged is False


def _cli(tmp_path: Path, content: bytes, *args: str) -> subprocess.CompletedProcess[str]:
    f = tmp_path / "data.csv"
    f.write_bytes(content)
    return subprocess.run(
        [sys.executable, "-m", "analysis.stats", *args, str(f)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


_EXTREME = b"study,yi,vi\na,1e150,1\nb,-1e150,1\nc,0,1\n"


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        # These raised OverflowError and ZeroDivisionError, printed as tracebacks.
        (_EXTREME, ("pool", "--measure", "GEN", "--method", "DL"), "computation failed"),
        (_EXTREME, ("pool", "--measure", "GEN", "--method", "PM"), "computation failed"),
        (_EXTREME, ("leave1out", "--measure", "GEN", "--method", "SJ"), "computation failed"),
        (_EXTREME, ("pool", "--measure", "GEN", "--method", "REML"), ""),
        (b"study,yi,vi\n\xff\xfe,0.1,0.2\n", ("pool", "--measure", "GEN"), "UTF-8"),
    ],
    ids=["DL-overflow", "PM-zero-division", "SJ-leave1out", "REML-breakdown", "not-utf8"],
)
def test_the_cli_reports_any_error_on_one_line_without_a_traceback(
    tmp_path: Path, content: bytes, args: tuple[str, ...], expected: str
) -> None:
    out = _cli(tmp_path, content, *args)
    if out.returncode == 0:  # a fit that survives must still print valid JSON
        json.loads(out.stdout)
        return
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert expected in lines[0]


def test_default_labels_behave_like_a_tuple_of_labels() -> None:
    labels = pool([0.1, 0.3, -0.2], [0.04, 0.02, 0.05]).labels
    assert type(labels) is tuple
    assert "2" in labels and "4" not in labels
    assert labels == ("1", "2", "3") and labels.index("3") == 2
    assert ",".join(labels) == "1,2,3"
    assert json.dumps(labels) == '["1", "2", "3"]'
    assert labels + ("x",) == ("1", "2", "3", "x")

    es = escalc("MD", m1i=[1, 2], sd1i=[1, 1], n1i=[5, 5], m2i=[0, 0], sd2i=[1, 1], n2i=[5, 5])
    assert "1" in es.labels and list(es.labels) == ["1", "2"]


def test_default_labels_of_different_sizes_do_not_interfere() -> None:
    big = pool([0.1] * 50 + [0.2] * 50, [0.1] * 100).labels
    small = pool([0.1, 0.2], [0.1, 0.1]).labels
    assert len(big) == 100 and big[-1] == "100" and small == ("1", "2")


def _data(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.5, k)
    return rng.normal(0.2, np.sqrt(vi + 0.09)), vi


def test_results_do_not_share_state_through_the_scratch_buffers() -> None:
    # Fits reuse per-thread buffers; a result's lazy Q-profile, computed after other fits
    # of other sizes, must equal the one computed straight away.
    a_y, a_v = _data(300, 1)
    expected = pool(a_y, a_v, method="PM").to_dict()
    late = pool(a_y, a_v, method="PM")
    for k, seed in ((50, 2), (2000, 3), (300, 4)):
        pool(*_data(k, seed), method="REML").to_dict()
    assert late.to_dict() == expected


def test_fits_in_parallel_threads_agree_with_serial_fits() -> None:
    from concurrent.futures import ThreadPoolExecutor

    sets = [_data(k, seed) for seed, k in enumerate((40, 5000, 200, 5000, 900, 77) * 3)]
    jobs = [(y, v, "PM" if i % 2 else "REML") for i, (y, v) in enumerate(sets)]
    serial = [pool(y, v, method=m).to_dict() for y, v, m in jobs]
    with ThreadPoolExecutor(max_workers=4) as ex:
        threaded = list(ex.map(lambda j: pool(j[0], j[1], method=j[2]).to_dict(), jobs))
    assert threaded == serial
