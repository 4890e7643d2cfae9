import pytest

from extraction.rob.models import RobAssessment
from tests.extraction.rob.conftest import ROB2_ANSWERS, ROB2_EXPECTED

pytestmark = pytest.mark.django_db


def test_leads_configure_tools_and_reviewers_cannot(api_for, review, lead, screener_a):
    url = f"/api/reviews/{review.pk}/rob/tools/"
    assert api_for(screener_a).post(url, {"kind": "rob2"}, format="json").status_code == 403
    response = api_for(lead).post(url, {"kind": "robins_i", "mode": "dual"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert [d["key"] for d in body["domains"]] == [f"D{i}" for i in range(1, 8)]
    assert body["robvis_template"] == "ROBINS-I"
    listed = api_for(screener_a).get(url).json()
    assert listed["results"][0]["name"] if "results" in listed else listed[0]["name"]


def test_reviewers_assess_through_the_api_and_get_proposals(
    api_for, review, rob2, studies, outcome, screener_a, screener_b
):
    api = api_for(screener_a)
    base = f"/api/reviews/{review.pk}/rob/assessments/"
    opened = api.post(
        base, {"tool": rob2.pk, "study": studies[0].pk, "outcome": outcome.pk}, format="json"
    ).json()
    again = api.post(
        base, {"tool": rob2.pk, "study": studies[0].pk, "outcome": outcome.pk}, format="json"
    ).json()
    assert opened["id"] == again["id"] and opened["version"] == 1
    saved = api.patch(
        f"{base}{opened['id']}/",
        {"version": 1, "answers": ROB2_ANSWERS, "complete": True},
        format="json",
    )
    assert saved.status_code == 200
    assert saved.json()["proposed"] == ROB2_EXPECTED
    stale = api_for(screener_b).patch(
        f"{base}{opened['id']}/", {"version": 1, "answers": {"1.1": "N"}}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["current"]["answers"] == ROB2_ANSWERS
    bad = api.patch(
        f"{base}{opened['id']}/", {"version": 2, "answers": {"1.1": "maybe"}}, format="json"
    )
    assert bad.status_code == 400 and "answers.1.1" in bad.json()


def test_the_propose_endpoint_saves_nothing(api_for, review, rob2, screener_a):
    response = api_for(screener_a).post(
        f"/api/reviews/{review.pk}/rob/tools/propose/",
        {"tool": rob2.pk, "answers": {"1.1": "Y", "1.2": "N"}},
        format="json",
    )
    assert response.json()["domains"]["D1"] == {"judgement": "High", "needs": None}
    assert response.json()["overall"] is None
    assert RobAssessment.objects.count() == 0


def test_dual_assessments_stay_blind_and_arbiters_build_consensus(
    api_for, review, rob2_dual, studies, outcome, screener_a, screener_b, arbiter
):
    base = f"/api/reviews/{review.pk}/rob/assessments/"
    ids = {}
    for user, answers in ((screener_a, ROB2_ANSWERS), (screener_b, {**ROB2_ANSWERS, "2.5": "Y"})):
        api = api_for(user)
        a = api.post(
            base,
            {"tool": rob2_dual.pk, "study": studies[0].pk, "outcome": outcome.pk},
            format="json",
        ).json()
        ids[user.username] = a["id"]
        api.patch(
            f"{base}{a['id']}/", {"version": 1, "answers": answers, "complete": True}, format="json"
        )
    seen = api_for(screener_a).get(base).json()
    seen = seen.get("results", seen) if isinstance(seen, dict) else seen
    assert [a["id"] for a in seen] == [ids["screener_a"]]
    assert (
        api_for(screener_a)
        .patch(f"{base}{ids['screener_b']}/", {"version": 2}, format="json")
        .status_code
        == 404
    )
    scope = {"tool": rob2_dual.pk, "study": studies[0].pk, "outcome": outcome.pk}
    assert api_for(screener_a).post(f"{base}consensus/", scope, format="json").status_code == 403
    consensus = api_for(arbiter).post(f"{base}consensus/", scope, format="json").json()
    taken = api_for(arbiter).post(
        f"{base}{consensus['id']}/accept/",
        {"source": ids["screener_b"], "domain": "D2", "version": consensus["version"]},
        format="json",
    )
    assert taken.status_code == 200 and taken.json()["domains"]["D2"]["final"] == "Some concerns"
    csv = api_for(arbiter).get(f"/api/reviews/{review.pk}/rob/tools/{rob2_dual.pk}/robvis/")
    assert csv.content.decode() == "Study,D1,D2,D3,D4,D5,Overall,Weight\n"  # not complete yet


def test_only_the_lead_deletes_an_unused_tool(api_for, review, rob2, lead, screener_a):
    url = f"/api/reviews/{review.pk}/rob/tools/{rob2.pk}/"
    assert api_for(screener_a).delete(url).status_code == 403
    assert api_for(lead).delete(url).status_code == 204
    assert api_for(lead).get(url).status_code == 404
