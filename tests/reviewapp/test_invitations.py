"""Probe finding 1: anyone who signed up with an address that had a pending invitation got its
role at once (lead included), and an account registered before its address was invited was
added directly. An invitation is now accepted only through the signed, expiring link sent to
the address, by an account with that address."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from reviewapp import services
from reviewapp.errors import DomainError
from reviewapp.models import Invitation, Membership, VerifiedEmail
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/invitations/(?P<token>[^/\s]+)/")


def _invite(review, lead, who, roles, capture):
    with capture(execute=True):
        invitation = services.membership_invite(
            review=review, invited_by=lead, who=who, roles=roles
        )
    return invitation, LINK.search(mail.outbox[-1].body)["token"]


def test_signing_up_with_an_invited_address_grants_nothing(
    review, lead, django_capture_on_commit_callbacks
):
    _invite(review, lead, "pi@uni.example", ["lead"], django_capture_on_commit_callbacks)
    squatter = services.user_signup(
        username="squatter", email="pi@uni.example", password="a-long-pass-phrase"
    )
    assert not Membership.objects.filter(review=review, user=squatter).exists()
    assert Invitation.objects.get(review=review).accepted_at is None


def test_an_account_registered_before_its_address_is_invited_is_not_added_directly(
    review, lead, django_capture_on_commit_callbacks
):
    early = UserFactory(username="early", email="pi@uni.example")
    invitation, _token = _invite(
        review, lead, "pi@uni.example", ["lead"], django_capture_on_commit_callbacks
    )
    assert isinstance(invitation, Invitation)
    assert not Membership.objects.filter(review=review, user=early).exists()
    assert mail.outbox[-1].to == ["pi@uni.example"]


def test_inviting_by_username_sends_the_link_to_that_accounts_address(
    review, lead, django_capture_on_commit_callbacks
):
    ana = UserFactory(username="ana", email="ana@uni.example")
    invitation, token = _invite(
        review, lead, "ana", ["reviewer"], django_capture_on_commit_callbacks
    )
    assert invitation.email == "ana@uni.example"
    assert not Membership.objects.filter(review=review, user=ana).exists()
    membership = services.invitation_accept(token=token, user=ana)
    assert membership.roles == ["reviewer"]
    assert VerifiedEmail.objects.get(user=ana).email == "ana@uni.example"


def test_the_link_is_accepted_only_by_the_account_with_the_invited_address(
    review, lead, django_capture_on_commit_callbacks
):
    invitation, token = _invite(
        review, lead, "pi@uni.example", ["lead"], django_capture_on_commit_callbacks
    )
    intruder = UserFactory(username="intruder", email="intruder@uni.example")
    with pytest.raises(DomainError, match="pi@uni.example"):
        services.invitation_accept(token=token, user=intruder)
    owner = UserFactory(username="owner", email="PI@uni.example")
    membership = services.invitation_accept(token=token, user=owner)
    assert membership.is_lead
    invitation.refresh_from_db()
    assert invitation.accepted_by == owner and invitation.accepted_at is not None
    with pytest.raises(DomainError, match="already been accepted"):
        services.invitation_accept(token=token, user=owner)


def test_a_tampered_revoked_expired_or_replaced_link_is_refused(
    review, lead, django_capture_on_commit_callbacks
):
    owner = UserFactory(username="owner", email="pi@uni.example")
    invitation, token = _invite(
        review, lead, "pi@uni.example", ["reviewer"], django_capture_on_commit_callbacks
    )
    with pytest.raises(DomainError, match="not valid"):
        services.invitation_accept(token=token[:-2] + "xx", user=owner)
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_resend(invitation=invitation)
    fresh = LINK.search(mail.outbox[-1].body)["token"]
    assert fresh != token
    with pytest.raises(DomainError, match="replaced"):
        services.invitation_accept(token=token, user=owner)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(DomainError, match="expired"):
        services.invitation_accept(token=fresh, user=owner)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() + timedelta(days=1)
    )
    services.invitation_revoke(invitation=invitation)
    with pytest.raises(DomainError, match="withdrawn"):
        services.invitation_accept(token=fresh, user=owner)
    assert not Membership.objects.filter(review=review, user=owner).exists()


def test_an_expired_invitation_can_be_sent_again_and_a_pending_one_cannot_be_doubled(
    review, lead, django_capture_on_commit_callbacks
):
    invitation, _ = _invite(
        review, lead, "pi@uni.example", ["reviewer"], django_capture_on_commit_callbacks
    )
    with pytest.raises(DomainError, match="already been invited"):
        services.membership_invite(
            review=review, invited_by=lead, who="pi@uni.example", roles=["reviewer"]
        )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    again, _ = _invite(
        review, lead, "pi@uni.example", ["arbiter"], django_capture_on_commit_callbacks
    )
    assert again.pk != invitation.pk and again.is_arbiter
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_signing_up_through_the_link_joins_with_the_invited_address(
    review, lead, django_capture_on_commit_callbacks
):
    _invitation, token = _invite(
        review, lead, "new@uni.example", ["reviewer"], django_capture_on_commit_callbacks
    )
    # Someone registered the address first (no one checked it): the owner still gets in.
    UserFactory(username="squatter", email="new@uni.example")
    user = services.user_signup(
        username="newbie",
        email="new@uni.example",
        password="a-long-pass-phrase",
        invitation_token=token,
    )
    assert Membership.objects.get(review=review, user=user).roles == ["reviewer"]
    assert VerifiedEmail.objects.get(user=user).email == "new@uni.example"
    with pytest.raises(DomainError, match="already been accepted"):
        services.user_signup(
            username="another",
            email="new@uni.example",
            password="a-long-pass-phrase",
            invitation_token=token,
        )


def test_a_verified_address_belongs_to_one_account(
    review, lead, django_capture_on_commit_callbacks
):
    first = UserFactory(username="first", email="pi@uni.example")
    _, token = _invite(
        review, lead, "pi@uni.example", ["viewer"], django_capture_on_commit_callbacks
    )
    services.invitation_accept(token=token, user=first)
    other_review = services.review_create(created_by=lead, title="Another review")
    _, token = _invite(
        other_review, lead, "pi@uni.example", ["viewer"], django_capture_on_commit_callbacks
    )
    second = UserFactory(username="second", email="pi@uni.example")
    with pytest.raises(DomainError, match="first"):
        services.invitation_accept(token=token, user=second)


# --- in the browser pages ------------------------------------------------------------------


def test_a_visitor_follows_the_link_signs_up_and_joins(
    client, review, lead, django_capture_on_commit_callbacks
):
    _, token = _invite(
        review, lead, "new@uni.example", ["reviewer"], django_capture_on_commit_callbacks
    )
    page = client.get(f"/invitations/{token}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert review.title in body and "new@uni.example" in body
    assert f"/accounts/signup/?invitation={token}" in body
    signup = client.get(f"/accounts/signup/?invitation={token}")
    assert 'value="new@uni.example"' in signup.content.decode()
    response = client.post(
        f"/accounts/signup/?invitation={token}",
        {
            "username": "newbie",
            # The address comes from the invitation, whatever the form says.
            "email": "someone-else@uni.example",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
            "invitation": token,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/reviews/{review.pk}/"
    member = Membership.objects.get(review=review, user__username="newbie")
    assert member.user.email == "new@uni.example" and member.roles == ["reviewer"]


def test_a_signup_without_the_link_is_not_on_the_review(
    client, review, lead, django_capture_on_commit_callbacks
):
    _invite(review, lead, "pi@uni.example", ["lead"], django_capture_on_commit_callbacks)
    response = client.post(
        "/accounts/signup/",
        {
            "username": "squatter",
            "email": "pi@uni.example",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert b"not on any review yet" in response.content
    assert client.get(f"/reviews/{review.pk}/").status_code == 404


def test_an_existing_account_accepts_through_the_link_once_logged_in(
    client, review, lead, django_capture_on_commit_callbacks
):
    ana = UserFactory(username="ana", email="ana@uni.example")
    _, token = _invite(
        review, lead, "ana@uni.example", ["reviewer"], django_capture_on_commit_callbacks
    )
    page = client.get(f"/invitations/{token}/").content.decode()
    assert f"/accounts/login/?next=/invitations/{token}/" in page
    intruder = UserFactory(username="intruder", email="intruder@uni.example")
    client.force_login(intruder)
    refused = client.post(f"/invitations/{token}/")
    assert refused.status_code == 400
    assert "ana@uni.example" in refused.content.decode()
    assert not Membership.objects.filter(review=review, user=intruder).exists()
    client.force_login(ana)
    assert b'<button type="submit">Accept' in client.get(f"/invitations/{token}/").content
    accepted = client.post(f"/invitations/{token}/")
    assert accepted.status_code == 302 and accepted["Location"] == f"/reviews/{review.pk}/"
    assert Membership.objects.get(review=review, user=ana).is_reviewer


def test_a_broken_or_withdrawn_link_says_so(
    client, review, lead, django_capture_on_commit_callbacks
):
    invitation, token = _invite(
        review, lead, "pi@uni.example", ["reviewer"], django_capture_on_commit_callbacks
    )
    assert client.get("/invitations/not-a-real-token/").status_code == 404
    services.invitation_revoke(invitation=invitation)
    gone = client.get(f"/invitations/{token}/")
    assert gone.status_code == 410 and b"withdrawn" in gone.content


def test_the_team_page_lists_pending_invitations_to_resend_or_revoke(
    client, review, lead, django_capture_on_commit_callbacks
):
    invitation, _ = _invite(
        review, lead, "pi@uni.example", ["reviewer"], django_capture_on_commit_callbacks
    )
    client.force_login(lead)
    page = client.get(f"/reviews/{review.pk}/team/").content.decode()
    assert "pi@uni.example" in page and "Expires" in page
    assert f"/reviews/{review.pk}/invitations/{invitation.pk}/resend/" in page
    assert f"/reviews/{review.pk}/invitations/{invitation.pk}/revoke/" in page
    assert "onsubmit" not in page and "<script>" not in page
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/reviews/{review.pk}/invitations/{invitation.pk}/resend/")
    assert len(mail.outbox) == sent + 1
    response = client.post(f"/reviews/{review.pk}/invitations/{invitation.pk}/revoke/", follow=True)
    assert b"withdrawn" in response.content
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert "pi@uni.example" not in client.get(f"/reviews/{review.pk}/team/").content.decode()


# --- through the API -----------------------------------------------------------------------


def test_invitations_through_the_api(api_for, review, lead, django_capture_on_commit_callbacks):
    ana = UserFactory(username="ana", email="ana@uni.example")
    api = api_for(lead)
    base = f"/api/reviews/{review.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(base + "members/", {"who": "ana", "roles": ["reviewer"]}, format="json")
    assert created.status_code == 202
    assert created.json()["email"] == "ana@uni.example"
    assert not Membership.objects.filter(review=review, user=ana).exists()
    listed = api.get(base + "invitations/").json()["results"]
    assert [i["email"] for i in listed] == ["ana@uni.example"]
    pk = listed[0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(base + f"invitations/{pk}/resend/").status_code == 200
    token = LINK.search(mail.outbox[-1].body)["token"]
    accepted = api_for(ana).post("/api/invitations/accept/", {"token": token}, format="json")
    assert accepted.status_code == 201 and accepted.json()["roles"] == ["reviewer"]
    assert api.get(base + "invitations/").json()["results"] == []

    with django_capture_on_commit_callbacks(execute=True):
        other = api.post(base + "members/", {"who": "x@uni.example", "roles": ["viewer"]}).json()
    revoked = api.post(base + f"invitations/{other['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    token = LINK.search(mail.outbox[-1].body)["token"]
    someone = UserFactory(username="x", email="x@uni.example")
    refused = api_for(someone).post("/api/invitations/accept/", {"token": token}, format="json")
    assert refused.status_code == 400 and "withdrawn" in str(refused.json())


def test_only_the_lead_resends_or_revokes(
    api_for, review, lead, screener_a, django_capture_on_commit_callbacks
):
    invitation, _ = _invite(
        review, lead, "pi@uni.example", ["reviewer"], django_capture_on_commit_callbacks
    )
    api = api_for(screener_a)
    base = f"/api/reviews/{review.pk}/invitations/{invitation.pk}/"
    assert api.post(base + "resend/").status_code == 403
    assert api.post(base + "revoke/").status_code == 403
