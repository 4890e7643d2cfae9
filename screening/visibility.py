"""Who sees whose screening votes: one rule for the pages, the exports, the API and the history.

At a blind stage a vote (its verdict, reason, note, tags and every earlier version of them) is
its author's alone until its record is complete at that stage (every vote is in: decided, in
conflict or resolved). From then on it also shows to:

- the members who voted on that record at that stage (and their own vote is then locked:
  `services_screening` refuses to change or withdraw it; the arbiter or the lead amends it,
  with a reason);
- members who cannot screen (viewers; arbiters who are not reviewers): they never vote, so
  what they see biases no vote;
- arbiters and leads, on records in conflict or resolved: resolving needs the votes.

A lead can vote at any stage, so a lead counts as a screener: the lead sees another reviewer's
vote on an agreed record only after voting on it too. Nobody sees a vote on an incomplete
record, leads included; counts that reveal no single vote (progress, agreement over complete
records, PRISMA) stay public. At a stage that is not blind every member sees every vote.

The rule is a `Q` over any rows with `reviewer_id`, `record_id` and `stage` (votes and their
historical versions), so each reader filters in the database before it counts or pages.
"""

from typing import Any

from django.db.models import Exists, OuterRef, Q

from reviewapp.models import Membership, Review, Role
from screening.models import Decision, ScreeningItem, Stage, StageSettings


def blind_stages(review: Review | int) -> list[str]:
    """Stages of the review screened blind; a stage without saved settings is (the default)."""
    review_id = review if isinstance(review, int) else review.pk
    open_stages = set(
        StageSettings.objects.filter(review_id=review_id, blind=False).values_list(
            "stage", flat=True
        )
    )
    return [s for s in Stage.values if s not in open_stages]


def _membership(review: Review | int, user: Any) -> Membership | None:
    review_id = review if isinstance(review, int) else review.pk
    return Membership.objects.filter(review_id=review_id, user_id=user.pk).first()


def votes_visible_q(*, review: Review | int, user: Any, membership: Membership | None = None) -> Q:
    """The votes (or historical versions of votes) `user` may see on `review`."""
    membership = membership or _membership(review, user)
    if membership is None:
        return Q(pk__in=[])
    blind = blind_stages(review)
    S = ScreeningItem.Status
    item = ScreeningItem.objects.filter(record_id=OuterRef("record_id"), stage=OuterRef("stage"))
    complete = Q(Exists(item.exclude(status=S.OPEN)))
    visible = Q(reviewer_id=user.pk) | ~Q(stage__in=blind)
    if not membership.has_role(Role.REVIEWER):
        return visible | complete
    voted = Q(
        Exists(
            Decision.objects.filter(
                record_id=OuterRef("record_id"), stage=OuterRef("stage"), reviewer_id=user.pk
            )
        )
    )
    visible |= complete & voted
    if membership.has_role(Role.ARBITER):
        visible |= Q(Exists(item.filter(status__in=[S.CONFLICT, S.RESOLVED])))
    return visible


def items_visible_q(*, review: Review | int) -> Q:
    """Versions of screening items anyone on the team may see: at a blind stage, only of items
    complete now (an open item's history tells that someone voted, and when)."""
    complete = ScreeningItem.objects.filter(pk=OuterRef("id")).exclude(
        status=ScreeningItem.Status.OPEN
    )
    return ~Q(stage__in=blind_stages(review)) | Q(Exists(complete))
