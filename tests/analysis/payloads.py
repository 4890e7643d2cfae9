"""Result payloads built by the real engine from StudyRows: no database involved."""

from analysis.inputs import AnalysisInputs, MissingStudy, StudyRow
from analysis.services import Spec, compute_payload


def spec(**overrides):
    base = dict(
        measure="SMD", model="random", tau2_method="REML", test="z", prediction_interval=True,
        mantel_haenszel=False, level=95.0, subgroup_field="", exclude_high_rob=False,
        leave_one_out=True, cumulative=False, harmonise_signs=False, direction="higher",
        generic_measure="", revman=False, intervention_label="peer support",
        control_label="control",
    )  # fmt: skip
    base.update(overrides)
    return Spec(**base)


# Continuous, as the use case's social-network-support outcome (made-up arm data).
CONTINUOUS = (
    StudyRow(1, "Chinman 2015", 2015, n1=40, m1=10.2, sd1=3.1, n2=42, m2=9.1, sd2=3.3,
             subgroups={"org_support": "higher"}, rob="low"),
    StudyRow(2, "Gillard 2015", 2015, n1=30, m1=8.2, sd1=2.9, n2=31, m2=8.9, sd2=3.0,
             subgroups={"org_support": "higher"}, rob="high"),
    StudyRow(3, "Rogers 2016", 2016, n1=100, m1=11.0, sd1=4.0, n2=98, m2=10.0, sd2=4.1,
             subgroups={"org_support": "lower"}, rob="some concerns"),
    StudyRow(4, "Simpson 2014", 2014, n1=25, m1=9.0, sd1=3.5, n2=24, m2=9.3, sd2=3.6,
             subgroups={"org_support": "higher"}, rob="low"),
    StudyRow(5, "Kelly 2017", 2017, n1=25, m1=9.0, sd1=None, n2=24, m2=9.3, sd2=3.6),
)  # fmt: skip

# Dichotomous: hospitalised during follow-up (lower is better).
DICHOTOMOUS = (
    StudyRow(11, "Sledge 2011", 2011, events1=10, total1=38, events2=19, total2=36),
    StudyRow(12, "Lawn 2008", 2008, events1=8, total1=49, events2=15, total2=50),
    StudyRow(13, "Rivera 2007", 2007, events1=12, total1=68, events2=14, total2=66),
    StudyRow(14, "Forchuk 2005", 2005, events1=20, total1=60, events2=21, total2=58),
    StudyRow(15, "Kaufman 2014", 2014, events1=5, total1=14, events2=6, total2=14),
)


def continuous_payload(**overrides):
    return compute_payload(
        spec(**overrides),
        AnalysisInputs(
            rows=CONTINUOUS, missing=(MissingStudy(6, "Mahlke 2017", "not extracted yet"),)
        ),
    )


def dichotomous_payload(**overrides):
    overrides.setdefault("measure", "RR")
    overrides.setdefault("direction", "lower")
    return compute_payload(spec(**overrides), AnalysisInputs(rows=DICHOTOMOUS))
