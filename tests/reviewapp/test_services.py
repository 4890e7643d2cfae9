import pytest

from reviewapp import services
from reviewapp.errors import DomainError
from reviewapp.models import Invitation, Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_makes_the_creator_the_lead():
    pi = UserFactory(username="pi")
    review = services.review_create(
        created_by=pi,
        title="Peer support",
        protocol_registration="CRD42015025621",
        inclusion_criteria=["RCTs", "  ", "One-to-one peer support"],
    )
    membership = Membership.objects.get(review=review, user=pi)
    assert membership.roles == ["lead"]
    assert review.inclusion_criteria == ["RCTs", "One-to-one peer support"]


def test_it_rejects_a_review_without_a_title():
    with pytest.raises(DomainError, match="needs a title"):
        services.review_create(created_by=UserFactory(), title="   ")


def test_it_invites_an_existing_user_by_username_or_email_without_adding_them(review, lead):
    ana = UserFactory(username="ana", email="ana@uni.example")
    by_email = services.membership_invite(
        review=review, invited_by=lead, who="ANA@uni.example", roles=["reviewer", "arbiter"]
    )
    assert isinstance(by_email, Invitation)
    assert by_email.roles == ["reviewer", "arbiter"]
    assert not Membership.objects.filter(review=review, user=ana).exists()
    with pytest.raises(DomainError, match="already been invited"):
        services.membership_invite(review=review, invited_by=lead, who="ana", roles=["reviewer"])


def test_it_refuses_to_invite_a_member(review, lead, screener_a):
    with pytest.raises(DomainError, match="already on this team"):
        services.membership_invite(
            review=review, invited_by=lead, who="screener_a", roles=["reviewer"]
        )


def test_it_rejects_an_unknown_username(review, lead):
    with pytest.raises(DomainError, match="No user called"):
        services.membership_invite(review=review, invited_by=lead, who="ghost", roles=["viewer"])


def test_it_rejects_an_unknown_role(review, lead):
    UserFactory(username="ana")
    with pytest.raises(DomainError, match="Unknown role"):
        services.membership_invite(review=review, invited_by=lead, who="ana", roles=["owner"])


def test_the_last_lead_cannot_be_removed_or_demoted(review, lead):
    membership = Membership.objects.get(review=review, user=lead)
    with pytest.raises(DomainError, match="last lead"):
        services.membership_remove(membership=membership)
    with pytest.raises(DomainError, match="at least one lead"):
        services.membership_set_roles(membership=membership, roles=["reviewer"])
    assert Membership.objects.get(pk=membership.pk).is_lead


def test_a_lead_can_step_down_once_there_is_another(review, lead, screener_a):
    other = Membership.objects.get(review=review, user=screener_a)
    services.membership_set_roles(membership=other, roles=["lead", "reviewer"])
    mine = Membership.objects.get(review=review, user=lead)
    services.membership_remove(membership=mine)
    assert not Membership.objects.filter(pk=mine.pk).exists()


def test_a_member_with_no_role_is_a_viewer(review, viewer):
    membership = Membership.objects.get(review=review, user=viewer)
    assert membership.roles == ["viewer"]
    assert membership.has_role("viewer")
    assert not membership.has_role("reviewer")


def test_the_lead_holds_every_role(review, lead):
    membership = Membership.objects.get(review=review, user=lead)
    assert all(membership.has_role(r) for r in ("lead", "reviewer", "arbiter", "viewer"))
