import pytest
from django.core import mail

from reviewapp.models import Membership, Review

pytestmark = pytest.mark.django_db


def test_signup_logs_the_new_user_in(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "maria",
            "email": "maria@uni.example",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert response.context["user"].username == "maria"
    assert b"not on any review yet" in response.content


def test_signup_rejects_a_taken_email(client, lead):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "other",
            "email": lead.email,
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert response.status_code == 200
    assert b"already exists" in response.content


def test_password_reset_sends_a_link(client, lead):
    client.post("/accounts/password/reset/", {"email": lead.email})
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body


def test_password_change_works(client, lead):
    client.force_login(lead)
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": "pass-word-123",
            "new_password1": "another-long-phrase",
            "new_password2": "another-long-phrase",
        },
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.check_password("another-long-phrase")


def test_a_user_creates_a_review_with_pico_and_criteria(client, outsider):
    client.force_login(outsider)
    response = client.post(
        "/reviews/new/",
        {
            "title": "Peer support",
            "protocol_registration": "CRD42015025621",
            "population": "Adults using mental health services",
            "intervention": "One-to-one peer support",
            "inclusion_criteria": "RCTs\r\nPeer worker provides support\r\n",
            "exclusion_criteria": "Not English",
        },
    )
    review = Review.objects.get(title="Peer support")
    assert response.status_code == 302
    assert review.inclusion_criteria == ["RCTs", "Peer worker provides support"]
    assert Membership.objects.get(review=review, user=outsider).is_lead
    page = client.get(f"/reviews/{review.pk}/")
    assert b"CRD42015025621" in page.content
    assert b"Peer worker provides support" in page.content


def test_the_lead_edits_criteria(client, review, lead):
    client.force_login(lead)
    client.post(
        f"/reviews/{review.pk}/settings/",
        {"title": review.title, "inclusion_criteria": "A\nB", "exclusion_criteria": ""},
    )
    review.refresh_from_db()
    assert review.inclusion_criteria == ["A", "B"]


def test_the_team_page_invites_and_changes_roles(client, review, lead, screener_a):
    client.force_login(lead)
    response = client.post(
        f"/reviews/{review.pk}/team/invite/",
        {"who": "someone@uni.example", "roles": ["reviewer"]},
        follow=True,
    )
    assert b"Invitation sent to someone@uni.example" in response.content
    membership = Membership.objects.get(review=review, user=screener_a)
    client.post(f"/reviews/{review.pk}/team/{membership.pk}/roles/", {"roles": ["arbiter"]})
    membership.refresh_from_db()
    assert membership.roles == ["arbiter"]


def test_the_team_page_refuses_to_remove_the_last_lead(client, review, lead):
    client.force_login(lead)
    membership = Membership.objects.get(review=review, user=lead)
    response = client.post(f"/reviews/{review.pk}/team/{membership.pk}/remove/", follow=True)
    assert b"last lead cannot be removed" in response.content
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_the_lead_browses_who_changed_what(client, review, lead):
    client.force_login(lead)
    client.post(
        f"/reviews/{review.pk}/settings/",
        {"title": "Renamed review", "inclusion_criteria": "", "exclusion_criteria": ""},
    )
    page = client.get(f"/reviews/{review.pk}/history/")
    assert page.status_code == 200
    entries = page.context["entries"]
    change = next(e for e in entries if e.what == "Review" and e.action == "changed")
    assert change.who == "lead"
    assert any("Renamed review" in c for c in change.changes)


def test_the_history_page_costs_the_same_queries_however_long_the_history(
    client, review, lead, django_assert_max_num_queries
):
    from reviewapp import services
    from tests.factories import UserFactory

    for n in range(30):
        services.review_update(review=review, title=f"Title {n}")
    for n in range(10):
        services.membership_invite(
            review=review, invited_by=lead, who=UserFactory(username=f"m{n}").username,
            roles=["reviewer"],
        )  # fmt: skip
    client.force_login(lead)
    with django_assert_max_num_queries(30):
        page = client.get(f"/reviews/{review.pk}/history/")
    titles = [e for e in page.context["entries"] if e.what == "Review" and e.action == "changed"]
    assert len(titles) == 30
    assert titles[0].changes == ["title: 'Title 28' → 'Title 29'"]
    invited = [e.label for e in page.context["entries"] if e.what == "Invitation"]
    assert "m9@example.org" in invited
