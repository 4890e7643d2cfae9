"""Issue 11, figures: the dashboard's risk-of-bias chart has a bar for each domain the review's
studies were judged on, not for every variant's domains (RoB 2's cluster D1b and crossover DS
stay off a review of parallel trials)."""

import json

import pytest

from analysis.inputs import review_progress
from extraction.rob import services
from tests.extraction.rob.conftest import ROB2_ANSWERS

pytestmark = pytest.mark.django_db


def test_the_dashboard_chart_lists_only_the_domains_judged(rob2, studies, outcome, lead):
    for study in studies:
        a = services.assessment_open(tool=rob2, study=study, outcome=outcome, user=lead)
        services.assessment_save(
            assessment=a, user=lead, version=1, answers=ROB2_ANSWERS, complete=True
        )
    (figure,) = review_progress(rob2.review, lead)["rob_figures"]
    rows = [y for trace in json.loads(figure["json"])["data"][:1] for y in trace["y"]]
    keys = [row.rsplit("(", 1)[-1].rstrip(")") if "(" in row else "Overall" for row in rows]
    assert keys == ["D1", "D2", "D3", "D4", "D5", "Overall"], rows
