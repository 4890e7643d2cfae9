"""Prioritised screening in the browser's pages and through the API: the lead's ranking card,
the stopping sample, retraining, and a reviewer's skip, release and renew."""

import json
import re

import pytest

from screening.models import RankingState, ScreeningLease, StageSettings, StopSample
from screening.services_screening import decision_record, stage_settings_update
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _cache_dir(settings, tmp_path):
    settings.RANKING_CACHE_DIR = str(tmp_path / "ranking-cache")


@pytest.fixture
def records(review):
    stage_settings_update(
        review=review,
        stage="ta",
        reviewers_required=1,
        blind=True,
        exclusion_reasons=[],
        order=StageSettings.Order.IMPORT,
    )
    return [
        RecordFactory(review=review, title=f"Peer support {n}", abstract="peer support trial")
        for n in range(4)
    ] + [
        RecordFactory(review=review, title=f"Stents {n}", abstract="coronary stent registry")
        for n in range(8)
    ]


def api_url(review, rest):
    return f"/api/reviews/{review.pk}/screening/stages/ta/{rest}"


def page(review, rest):
    return f"/reviews/{review.pk}/screening/{rest}"


def test_the_lead_sees_the_ranking_card_with_its_figures_as_json_and_no_inline_script(
    client_for, review, records, lead, screener_a
):
    decision_record(record=records[0], stage="ta", reviewer=screener_a, verdict="include")
    decision_record(record=records[5], stage="ta", reviewer=screener_a, verdict="exclude")
    html = client_for(lead).get(page(review, "")).content.decode()
    assert 'id="ranking-ta"' in html and "Prioritised screening" in html
    figure = re.search(r'<script id="curve-data-ta" type="application/json">(.*?)</script>', html)
    assert json.loads(figure.group(1))["data"][0]["y"][-1] == 1  # one include so far
    assert "screening/ranking.js" in html
    # Every script is either external or JSON data: nothing a strict CSP would block.
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html)


def test_reviewers_do_not_get_the_ranking_card_or_its_api(
    client_for, api_for, review, records, screener_a
):
    html = client_for(screener_a).get(page(review, "")).content.decode()
    assert 'id="ranking-ta"' not in html
    assert client_for(screener_a).get(page(review, "ta/ranking/")).status_code == 403
    assert api_for(screener_a).get(api_url(review, "ranking/")).status_code == 403


def test_outsiders_get_404_everywhere(client_for, api_for, review, records, outsider):
    assert client_for(outsider).get(page(review, "ta/ranking/")).status_code == 404
    assert api_for(outsider).get(api_url(review, "ranking/")).status_code == 404
    assert api_for(outsider).post(api_url(review, "stop-sample/"), {}).status_code == 404
    response = api_for(outsider).post(
        api_url(review, "lease/"), {"record": records[0].pk, "action": "skip"}
    )
    assert response.status_code == 404


def test_the_lead_draws_and_closes_a_stopping_sample_through_the_api(
    api_for, review, records, lead, screener_a
):
    api = api_for(lead)
    for record in records[:4]:
        decision_record(record=record, stage="ta", reviewer=screener_a, verdict="include")
    bad = api.post(api_url(review, "stop-sample/"), {"recall_target": 1.2}, format="json")
    assert bad.status_code == 400 and "recall_target" in bad.json()
    created = api.post(
        api_url(review, "stop-sample/"), {"recall_target": 0.9, "confidence": 0.95}, format="json"
    )
    assert created.status_code == 201
    body = created.json()
    assert body["sample_open"] and body["stop"]["remaining_at_start"] == 8
    assert body["stop"]["relevant_before"] == 4 and body["stop"]["sampled"] == 0
    again = api.post(api_url(review, "stop-sample/"), {}, format="json")
    assert again.status_code == 400 and "already running" in str(again.json())
    # The sample is served first, in its random order.
    sample = StopSample.objects.get()
    served = api_for(screener_a).get(api_url(review, "next/")).json()["record"]
    assert served["id"] == sample.record_ids[0]
    closed = api.delete(api_url(review, "stop-sample/"))
    assert closed.status_code == 200 and not closed.json()["sample_open"]
    assert api_for(screener_a).post(api_url(review, "stop-sample/"), {}).status_code == 403


def test_the_ranking_api_reports_training_and_retrain_queues_one(
    api_for, review, records, lead, screener_a, django_capture_on_commit_callbacks
):
    decision_record(record=records[0], stage="ta", reviewer=screener_a, verdict="include")
    decision_record(record=records[5], stage="ta", reviewer=screener_a, verdict="exclude")
    api = api_for(lead)
    status = api.get(api_url(review, "ranking/")).json()
    assert status["state"] == "untrained" and status["screened"] == 2 and status["included"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(api_url(review, "ranking/retrain/"))
    assert response.status_code == 202
    trained = api.get(api_url(review, "ranking/")).json()
    assert trained["state"] == "current" and trained["records_ranked"] == 10
    assert sum(trained["score_histogram"]) == 10
    assert RankingState.objects.get(review=review, stage="ta").labelled == 2


def test_skip_release_and_renew_through_the_api(api_for, review, records, screener_a, screener_b):
    api = api_for(screener_a)
    first = api.get(api_url(review, "next/")).json()["record"]["id"]
    assert first == records[0].pk
    skipped = api.post(
        api_url(review, "lease/"), {"record": first, "action": "skip"}, format="json"
    )
    assert skipped.status_code == 200 and skipped.json()["record"]["id"] == records[1].pk
    assert api_for(screener_b).get(api_url(review, "next/")).json()["record"]["id"] == first
    renew = api.post(api_url(review, "lease/"), {"record": records[1].pk, "action": "renew"})
    assert renew.status_code == 204
    release = api.post(api_url(review, "lease/"), {"record": records[1].pk, "action": "release"})
    assert release.status_code == 204
    assert not ScreeningLease.objects.filter(reviewer=screener_a, skipped=False).exists()
    gone = api.post(api_url(review, "lease/"), {"record": records[1].pk, "action": "renew"})
    assert gone.status_code == 400
    nonsense = api.post(api_url(review, "lease/"), {"record": first, "action": "steal"})
    assert nonsense.status_code == 400 and "action" in nonsense.json()


def test_the_page_skips_with_htmx_and_releases_on_close(client_for, review, records, screener_a):
    client = client_for(screener_a)
    html = client.get(page(review, "ta/screen/")).content.decode()
    assert f'data-lease="/reviews/{review.pk}/screening/ta/lease/{records[0].pk}/"' in html
    skipped = client.post(page(review, f"ta/lease/{records[0].pk}/"), {"action": "skip"}, **HTMX)
    assert skipped.status_code == 200 and "Skipped record" in skipped.content.decode()
    assert f"Record {records[1].pk}" in skipped.content.decode()
    released = client.post(page(review, f"ta/lease/{records[1].pk}/"), {"action": "release"})
    assert released.status_code == 204
    assert not ScreeningLease.objects.filter(record=records[1]).exists()


def test_the_lead_draws_a_sample_on_the_page_and_a_bad_target_is_named(
    client_for, review, records, lead
):
    client = client_for(lead)
    bad = client.post(
        page(review, "ta/ranking/action/"), {"action": "sample", "recall": "abc"}, follow=True
    )
    assert "not a percentage" in bad.content.decode() and not StopSample.objects.exists()
    client.post(page(review, "ta/ranking/action/"), {"action": "sample", "recall": "95"})
    assert StopSample.objects.get().recall_target == pytest.approx(0.95)
    html = client.get(page(review, "ta/ranking/")).content.decode()
    assert "Random sample" in html and "Close the sample" in html
