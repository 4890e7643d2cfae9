import pytest

from extraction.models import Outcome
from extraction.rob import services
from extraction.rob.models import RobTool
from tests.factories import RecordFactory, include_study

# A complete set of RoB 2 answers taken from the guidance's worked logic: random, concealed
# allocation with no baseline problem (D1 low); open-label with deviations that arose from the
# trial context, likely to affect the outcome and unbalanced (D2 high); nearly complete data
# (D3 low); blinded assessors (D4 low); no pre-specified plan but no selection (D5 some concerns).
ROB2_ANSWERS = {
    "1.1": "Y",
    "1.2": "Y",
    "1.3": "N",
    "2.1": "Y",
    "2.2": "Y",
    "2.3": "Y",
    "2.4": "PY",
    "2.5": "N",
    "2.6": "Y",
    "3.1": "Y",
    "4.1": "N",
    "4.2": "N",
    "4.3": "N",
    "5.1": "NI",
    "5.2": "N",
    "5.3": "PN",
}
ROB2_EXPECTED = {
    "D1": "Low",
    "D2": "High",
    "D3": "Low",
    "D4": "Low",
    "D5": "Some concerns",
    "overall": "High",
}


def included_study(review, label):
    """A study that full-text screening included (tests.factories.include_study)."""
    record = RecordFactory(review=review, title=f"{label} trial report")
    return include_study(review, label, record=record)


@pytest.fixture
def studies(review):
    return [
        included_study(review, label) for label in ("Chinman 2015", "Mahlke 2017", "Simpson 2014")
    ]


@pytest.fixture
def outcome(review):
    return Outcome.objects.create(review=review, name="Hope", outcome_type="continuous")


@pytest.fixture
def rob2(review, lead):
    return services.tool_create(review=review, user=lead, kind=RobTool.Kind.ROB2)


@pytest.fixture
def rob2_dual(review, lead):
    return services.tool_create(
        review=review, user=lead, kind=RobTool.Kind.ROB2, name="RoB 2 dual", mode="dual"
    )


# A cluster-randomised trial: random, concealed allocation of clusters; participants recruited
# after randomization by recruiters who probably knew the allocation (D1b high); participants
# unaware they were in a trial and carers blinded, appropriate analysis (D2 low); complete data
# (D3 low); assessors unaware a trial was taking place (D4 low); pre-specified plan (D5 low).
CLUSTER_ANSWERS = {
    "1a.1": "Y",
    "1a.2": "Y",
    "1a.3": "N",
    "1b.1": "N",
    "1b.2": "PY",
    "1b.3": "N",
    "2.1a": "N",
    "2.2": "N",
    "2.6": "Y",
    "3.1a": "Y",
    "3.1b": "Y",
    "4.1": "N",
    "4.2": "N",
    "4.3a": "N",
    "5.1": "Y",
    "5.2": "N",
    "5.3": "N",
}
CLUSTER_EXPECTED = {
    "D1": "Low",
    "D1b": "High",
    "D2": "Low",
    "D3": "Low",
    "D4": "Low",
    "D5": "Low",
    "overall": "High",
}
# ROBINS-I V2, intention-to-treat effect: an important confounder not controlled, with
# negative controls suggesting serious uncontrolled confounding (D1 critical); every other
# domain low.
V2_ANSWERS = {
    "1.1": "SN",
    "1.4": "Y",
    "2.1": "Y",
    "2.4": "N",
    "2.5": "N",
    "3.1": "Y",
    "3.2": "N",
    "3.3": "N",
    "4.1": "Y",
    "4.2": "Y",
    "4.3": "PY",
    "5.1": "N",
    "5.2": "N",
    "6.1": "Y",
}
V2_PRELIMINARY = {"B1": "Y", "B3": "N", "C4": "no", "result": "HR 0.71 (0.52 to 0.97)"}


@pytest.fixture
def robins_v2(review, lead):
    return services.tool_create(review=review, user=lead, kind=RobTool.Kind.ROBINS_I_V2)
