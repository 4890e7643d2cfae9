import pytest

from reviewapp import accounts
from reviewapp.models import Membership, Review

pytestmark = pytest.mark.django_db


def test_a_user_creates_and_lists_reviews_through_the_api(api_for, outsider, review):
    api = api_for(outsider)
    created = api.post(
        "/api/reviews/",
        {"title": "Peer support", "inclusion_criteria": ["RCTs"]},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["inclusion_criteria"] == ["RCTs"]
    listed = api.get("/api/reviews/").json()
    assert [r["title"] for r in listed["results"]] == ["Peer support"]  # not the other review


def test_token_authentication_works(client, lead, review):
    _token, plain = accounts.api_token_create(user=lead, name="script")
    response = client.get("/api/reviews/", HTTP_AUTHORIZATION=f"Token {plain}")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_the_lead_invites_and_sets_roles_through_the_api(api_for, review, lead, screener_a):
    api = api_for(lead)
    member = Membership.objects.get(review=review, user=screener_a)
    changed = api.post(
        f"/api/reviews/{review.pk}/members/{member.pk}/roles/",
        {"roles": ["arbiter", "reviewer"]},
        format="json",
    )
    assert changed.json()["roles"] == ["reviewer", "arbiter"]
    invited = api.post(
        f"/api/reviews/{review.pk}/members/",
        {"who": "x@uni.example", "roles": ["viewer"]},
        format="json",
    )
    assert invited.status_code == 202


def test_the_api_refuses_to_remove_the_last_lead(api_for, review, lead):
    membership = Membership.objects.get(review=review, user=lead)
    response = api_for(lead).delete(f"/api/reviews/{review.pk}/members/{membership.pk}/")
    assert response.status_code == 400
    assert "last lead" in response.json()["detail"][0]


def test_a_reviewer_cannot_edit_the_review(api_for, review, screener_a):
    response = api_for(screener_a).patch(
        f"/api/reviews/{review.pk}/", {"title": "Hijacked"}, format="json"
    )
    assert response.status_code == 403
    assert Review.objects.get(pk=review.pk).title != "Hijacked"


def test_the_schema_and_docs_are_served(client, lead):
    client.force_login(lead)
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_a_rule_broken_in_a_service_is_a_400_naming_the_field(api_for, review, lead):
    response = api_for(lead).post(
        f"/api/reviews/{review.pk}/members/", {"who": "ghost", "roles": ["viewer"]}, format="json"
    )
    assert response.status_code == 400
    assert "No user called 'ghost'" in response.json()["who"][0]
