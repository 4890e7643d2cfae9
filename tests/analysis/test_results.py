"""The typed result: `analysis.compute` returns it, the stored JSON is its serialisation and
reads back as the same value, payloads stored before the schema was versioned included."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.compute import compute
from analysis.inputs import AnalysisInputs, StudyRow, split_usable
from analysis.results import SCHEMA_VERSION, ComputedResult, Pooled, StudyResult
from tests.analysis.payloads import CONTINUOUS, DICHOTOMOUS, spec

ROOT = Path(__file__).resolve().parents[2]

REPEATED = tuple(
    StudyRow(sid, f"Study {sid}", 2010 + sid, n1=30 + t, m1=10.0 + sid * 0.3 + t * 0.2, sd1=3.0,
             n2=31, m2=9.5 + t * 0.1, sd2=3.1, timepoint=f"{t} months")
    for sid in range(1, 5) for t in (3, 6)
)  # fmt: skip

SETTINGS = [
    ("continuous, every option", CONTINUOUS,
     dict(subgroup_field="org_support", exclude_high_rob=True, cumulative=True)),
    ("Mantel-Haenszel", DICHOTOMOUS,
     dict(measure="RR", direction="lower", model="fixed", mantel_haenszel=True,
          cumulative=True, exclude_high_rob=True)),
    ("Peto", DICHOTOMOUS, dict(measure="PETO", model="fixed")),
    ("harmonised signs", DICHOTOMOUS,
     dict(measure="OR", direction="lower", harmonise_signs=True)),
    ("three-level", REPEATED, dict(multilevel=True)),
    ("no usable study", CONTINUOUS[4:], {}),
]  # fmt: skip


def _result(rows, **overrides):
    s = spec(**overrides)
    usable, missing = split_usable(rows, s.measure)
    return compute(s, usable, missing)


@pytest.mark.parametrize(("name", "rows", "overrides"), SETTINGS, ids=[s[0] for s in SETTINGS])
def test_a_result_reads_back_from_its_stored_json_unchanged(name, rows, overrides):
    result = _result(rows, **overrides)
    stored = json.loads(json.dumps(result.to_json()))  # as the JSON column gives it back
    assert stored["schema_version"] == SCHEMA_VERSION
    assert ComputedResult.from_json(stored) == result
    assert ComputedResult.from_json(stored).to_json() == stored


def test_a_payload_stored_before_the_schema_was_versioned_reads_as_the_current_one():
    result = _result(CONTINUOUS, subgroup_field="org_support", exclude_high_rob=True)
    old = json.loads(json.dumps(result.to_json()))
    del old["schema_version"]
    for key in ("transform", "percent", "single_group"):  # not written by the first payloads
        del old[key]
    read = ComputedResult.from_json(old)
    assert read == result
    assert read.overall is not None and read.overall.estimate == result.overall.estimate


def test_a_payload_from_a_newer_schema_is_refused_rather_than_misread():
    stored = _result(CONTINUOUS).to_json()
    stored["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(ValueError, match="newer"):
        ComputedResult.from_json(stored)


def test_the_result_is_typed_and_frozen():
    result = _result(CONTINUOUS, subgroup_field="org_support")
    assert isinstance(result.overall, Pooled)
    assert all(isinstance(s, StudyResult) for s in result.studies)
    assert result.subgroups is not None
    assert [g.name for g in result.subgroups.groups] == ["higher", "lower"]
    assert result.overall.extra["q"] == pytest.approx(result.overall.get("q"))
    with pytest.raises(AttributeError):
        result.participants = 0  # type: ignore[misc]  # frozen: that is what is tested


def test_the_engine_driver_computes_what_the_service_stores():
    from analysis.services import compute_payload

    s = spec(exclude_high_rob=True, cumulative=True)
    usable, missing = split_usable(CONTINUOUS, s.measure)
    assert compute(s, usable, missing).to_json() == compute_payload(
        s, AnalysisInputs(rows=CONTINUOUS)
    )


def test_importing_the_engine_driver_and_its_results_does_not_import_django():
    code = (
        "import sys\n"
        "import analysis.compute, analysis.results\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(','.join(bad))\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
