"""The downloadable R script, run by R's metafor, reproduces the app's numbers."""

import shutil
import subprocess
from dataclasses import replace

import pytest

from analysis.inputs import AnalysisInputs, StudyRow
from analysis.rscript import inputs_csv, r_script
from analysis.services import compute_payload
from tests.analysis.payloads import (
    CONTINUOUS,
    DICHOTOMOUS,
    continuous_payload,
    dichotomous_payload,
    spec,
)
from tests.conftest import needs

PRINT = 'cat(sprintf("%.10f %.10f %.10f\\n", as.numeric(coef(res))[1], res$ci.lb, res$ci.ub))\n'


def _run(script: str) -> list[float]:
    needs(shutil.which("Rscript") is not None, "R is not installed (apt-get install r-base-core)")
    probe = subprocess.run(["Rscript", "-e", "library(metafor)"], capture_output=True)
    needs(probe.returncode == 0, "R's metafor is not installed (apt-get install r-cran-metafor)")
    out = subprocess.run(
        ["Rscript", "-e", script + PRINT], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return [float(x) for x in out.stdout.strip().splitlines()[-1].split()]


def test_the_csv_holds_the_pooled_rows_only():
    payload = continuous_payload()
    csv = inputs_csv(payload, [r.to_dict() for r in CONTINUOUS])
    assert csv.splitlines()[0] == "study_id,study,year,n1,m1,sd1,n2,m2,sd2,timepoint,rob"
    assert "Kelly 2017" not in csv and len(csv.splitlines()) == 5


def test_the_csv_writes_counts_as_integers():
    # Extraction stores counts as floats (4.0); the CSV must show them as people (4).
    rows = [
        replace(r, events1=float(r.events1), total1=float(r.total1), year=r.year)
        for r in DICHOTOMOUS
    ]
    payload = dichotomous_payload()
    lines = inputs_csv(payload, [r.to_dict() for r in rows]).splitlines()
    assert lines[0].startswith("study_id,study,year,events1,total1,events2,total2")
    first = dict(zip(lines[0].split(","), lines[1].split(","), strict=True))
    assert (first["events1"], first["total1"], first["events2"]) == ("10", "38", "19")
    fractional = [replace(DICHOTOMOUS[0], events1=10.5)]
    line = inputs_csv(payload, [r.to_dict() for r in fractional]).splitlines()[1]
    assert ",10.5," in line


@pytest.mark.parametrize("choice", [{}, {"tau2_method": "DL", "test": "knha"}, {"model": "fixed"}])
def test_metafor_reproduces_a_continuous_analysis(choice):
    payload = continuous_payload(cumulative=True, subgroup_field="org_support", **choice)
    script = r_script(payload, [r.to_dict() for r in CONTINUOUS], title="t", revman=False)
    est, lb, ub = _run(script)
    o = payload["overall"]
    assert (est, lb, ub) == pytest.approx((o["estimate"], o["ci_lb"], o["ci_ub"]), abs=1e-6)


def test_metafor_reproduces_a_mantel_haenszel_analysis():
    payload = dichotomous_payload(model="fixed", mantel_haenszel=True)
    script = r_script(payload, [r.to_dict() for r in DICHOTOMOUS], title="t", revman=False)
    est, lb, ub = _run(script)
    o = payload["overall"]
    assert (est, lb, ub) == pytest.approx((o["estimate"], o["ci_lb"], o["ci_ub"]), abs=1e-6)


# One group per study: a prevalence review (events of total, with a zero count) and a
# correlational review (r with n), as extraction hands them to the analysis.
PROPORTIONS = (
    StudyRow(21, "Avery 2014", 2014, events=12, total=80),
    StudyRow(22, "Brandt 2016", 2016, events=30, total=150),
    StudyRow(23, "Cole 2018", 2018, events=0, total=45),
    StudyRow(24, "Dunn 2019", 2019, events=41, total=120),
    StudyRow(25, "Ives 2021", 2021, events=5, total=None),
)
CORRELATIONS = (
    StudyRow(31, "Ellis 2012", 2012, r=0.31, n=120),
    StudyRow(32, "Fox 2015", 2015, r=0.12, n=85),
    StudyRow(33, "Grant 2017", 2017, r=0.45, n=60),
    StudyRow(34, "Hale 2020", 2020, r=-0.05, n=200),
)


RATES = (
    StudyRow(41, "Kemp 2011", 2011, events1=14, pt1=410.0, events2=25, pt2=395.5),
    StudyRow(42, "Lund 2014", 2014, events1=9, pt1=220.0, events2=12, pt2=230.0),
    StudyRow(43, "Moss 2017", 2017, events1=30, pt1=1020.0, events2=41, pt2=990.0),
)
SINGLE_RATES = (
    StudyRow(51, "Nash 2010", 2010, events=18, person_time=2400.0),
    StudyRow(52, "Odom 2013", 2013, events=7, person_time=1310.0),
    StudyRow(53, "Pike 2016", 2016, events=33, person_time=5100.0),
    StudyRow(54, "Quinn 2019", 2019, events=0, person_time=640.0),
)
PAIRED = (
    StudyRow(61, "Abel 2013", 2013, mean_pre=22.0, sd_pre=6.1, mean=17.5, sd=6.4, n=40, r=0.62),
    StudyRow(62, "Boyd 2016", 2016, mean_pre=25.3, sd_pre=5.0, mean=21.9, sd=5.6, n=28),
    StudyRow(63, "Cruz 2018", 2018, mean_pre=19.8, sd_pre=7.2, mean=18.1, sd=7.0, n=75, r=0.71),
)
#: SMCR needs no follow-up SD; SMCRH leaves Dale out, in the app as in the script.
PAIRED_BASELINE_SD = PAIRED + (
    StudyRow(64, "Dale 2020", 2020, mean_pre=21.1, sd_pre=5.9, mean=16.0, n=33, r=0.55),
)
MEANS = (
    StudyRow(71, "Kemp 2012", 2012, mean=3.95, sd=1.12, n=25),
    StudyRow(72, "Lowe 2015", 2015, mean=2.25, sd=0.33, n=40),
    StudyRow(73, "Marsh 2018", 2018, mean=6.62, sd=1.63, n=18),
    StudyRow(74, "Nash 2021", 2021, mean=4.10, n=30),  # no SD: left out
)


@pytest.mark.parametrize(
    ("measure", "rows"),
    [(m, PROPORTIONS) for m in ("PLO", "PFT", "PAS", "PLN", "PR")]
    + [(m, CORRELATIONS) for m in ("ZCOR", "COR", "UCOR")]
    + [(m, RATES) for m in ("IRR", "IRD", "IRSD")]
    + [(m, CONTINUOUS) for m in ("VR", "CVR")]
    + [(m, SINGLE_RATES) for m in ("IRLN", "IR", "IRS", "IRFT")]
    + [(m, PAIRED) for m in ("SMCC", "MC")]
    + [(m, PAIRED_BASELINE_SD) for m in ("SMCR", "SMCRH")]
    + [(m, MEANS) for m in ("MN", "MNLN")],
)
def test_metafor_reproduces_single_group_analyses_and_their_natural_scale(measure, rows):
    from analysis import scales

    payload = compute_payload(spec(measure=measure), AnalysisInputs(rows=rows))
    script = r_script(payload, [r.to_dict() for r in rows], title="t", revman=False)
    assert "Ives 2021" not in script  # no total: left out, as in the app
    assert "Nash 2021" not in script  # no SD
    assert ("Dale 2020" in script) is (measure == "SMCR")
    # R shows rates per unit of person-time; the app per 1,000.
    natural = (
        script.split("predict(res, ", 1)[1].split("digits", 1)[0] if "transf" in script else ""
    )
    back = (
        f'p <- predict(res, {natural}digits = 12)\ncat(sprintf("%.10f\\n", p$pred))\n'
        if natural
        else 'cat(sprintf("%.10f\\n", as.numeric(coef(res))[1]))\n'
    )
    est, lb, ub = _run(script + back + PRINT)
    o = payload["overall"]
    assert (est, lb, ub) == pytest.approx((o["estimate"], o["ci_lb"], o["ci_ub"]), abs=1e-6)
    out = subprocess.run(
        ["Rscript", "-e", script + back], capture_output=True, text=True, timeout=120
    )
    shown = float(out.stdout.strip().splitlines()[-1])
    factor = 100 if payload["percent"] else payload.get("per") or 1
    assert scales.natural(payload, o["estimate"]) == pytest.approx(shown * factor, abs=1e-6)


@pytest.mark.parametrize("robust", [False, True])
def test_metafor_reproduces_a_three_level_model(robust):
    rows = tuple(
        replace(r, timepoint=tp, m1=r.m1 + shift)
        for r in CONTINUOUS[:4]
        for tp, shift in (("6 months", 0.0), ("12 months", 0.4 if r.study_id % 2 else -0.3))
    )
    payload = compute_payload(spec(multilevel=True, robust=robust), AnalysisInputs(rows=rows))
    assert (payload["overall"]["k"], payload["overall"]["n_studies"]) == (8, 4)
    script = r_script(payload, [r.to_dict() for r in rows], title="t", revman=False)
    assert "rma.mv(" in script
    assert ("clubSandwich = TRUE" in script) is robust
    est, lb, ub = _run(script)
    o = payload["overall"]
    assert (est, lb, ub) == pytest.approx((o["estimate"], o["ci_lb"], o["ci_ub"]), abs=1e-6)
