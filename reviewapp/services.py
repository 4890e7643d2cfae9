"""Writes on reviews and teams."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from reviewapp.archive.scope import file_fields, review_rows, review_scoped_models
from reviewapp.errors import DomainError
from reviewapp.models import Invitation, Membership, Review

User = get_user_model()

REVIEW_FIELDS = (
    "title",
    "population",
    "intervention",
    "comparison",
    "outcomes",
    "protocol_registration",
    "inclusion_criteria",
    "exclusion_criteria",
)


def _clean_criteria(value: Any, field: str) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise DomainError("Criteria must be a list of text items.", field=field)
    return [v.strip() for v in value if v.strip()]


def _clean_review_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(REVIEW_FIELDS)
    if unknown:
        raise DomainError(f"Unknown review fields: {', '.join(sorted(unknown))}.")
    cleaned = dict(fields)
    if "title" in cleaned:
        cleaned["title"] = str(cleaned["title"]).strip()
        if not cleaned["title"]:
            raise DomainError("A review needs a title.", field="title")
    for name in ("inclusion_criteria", "exclusion_criteria"):
        if name in cleaned:
            cleaned[name] = _clean_criteria(cleaned[name], name)
    return cleaned


@transaction.atomic
def review_create(*, created_by: Any, title: str, **fields: Any) -> Review:
    cleaned = _clean_review_fields({"title": title, **fields})
    review = Review.objects.create(created_by=created_by, **cleaned)
    Membership.objects.create(review=review, user=created_by, is_lead=True)
    return review


@transaction.atomic
def review_update(*, review: Review, **fields: Any) -> Review:
    cleaned = _clean_review_fields(fields)
    review = Review.objects.select_for_update().get(pk=review.pk)
    for name, value in cleaned.items():
        setattr(review, name, value)
    review.save()
    return review


def _role_flags(roles: list[str] | tuple[str, ...]) -> dict[str, bool]:
    allowed = {"lead", "reviewer", "arbiter", "viewer"}
    bad = set(roles) - allowed
    if bad:
        raise DomainError(f"Unknown role: {', '.join(sorted(bad))}.", field="roles")
    return {
        "is_lead": "lead" in roles,
        "is_reviewer": "reviewer" in roles,
        "is_arbiter": "arbiter" in roles,
    }


@transaction.atomic
def membership_invite(
    *, review: Review, invited_by: Any, who: str, roles: list[str]
) -> Membership | Invitation:
    """Add an existing user (by username or e-mail) or invite an e-mail address."""
    who = who.strip()
    if not who:
        raise DomainError("Give a username or an e-mail address.", field="who")
    flags = _role_flags(roles)
    user = User.objects.filter(Q(username__iexact=who) | Q(email__iexact=who)).first()
    if user is not None:
        if Membership.objects.filter(review=review, user=user).exists():
            raise DomainError(f"{user.get_username()} is already on this team.", field="who")
        try:
            with transaction.atomic():
                return Membership.objects.create(review=review, user=user, **flags)
        except IntegrityError as exc:  # a double click raced the check above
            raise DomainError(f"{user.get_username()} is already on this team.") from exc
    if "@" not in who:
        raise DomainError(f"No user called {who!r}; invite them by e-mail instead.", field="who")
    try:
        validate_email(who)
    except ValidationError as exc:
        raise DomainError(f"{who!r} is not a valid e-mail address.", field="who") from exc
    if Invitation.objects.filter(review=review, email__iexact=who, accepted_at=None).exists():
        raise DomainError(f"{who} has already been invited.", field="who")
    invitation = Invitation.objects.create(review=review, email=who, invited_by=invited_by, **flags)
    transaction.on_commit(
        lambda: send_mail(
            f"You are invited to the review '{review.title}'",
            f"{invited_by} invited you to join the systematic review '{review.title}'.\n"
            "Sign up with this e-mail address and the review will be waiting for you.",
            None,
            [who],
        )
    )
    return invitation


def _lead_count(review: Review) -> int:
    return Membership.objects.filter(review=review, is_lead=True).count()


@transaction.atomic
def membership_set_roles(*, membership: Membership, roles: list[str]) -> Membership:
    flags = _role_flags(roles)
    # Lock the team so two leads demoting each other at once cannot leave none.
    list(Membership.objects.select_for_update().filter(review_id=membership.review_id))
    membership.refresh_from_db()
    if membership.is_lead and not flags["is_lead"] and _lead_count(membership.review) == 1:
        raise DomainError("A review needs at least one lead: make someone else lead first.")
    for name, value in flags.items():
        setattr(membership, name, value)
    membership.save()
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    list(Membership.objects.select_for_update().filter(review_id=membership.review_id))
    membership.refresh_from_db()
    if membership.is_lead and _lead_count(membership.review) == 1:
        raise DomainError("The last lead cannot be removed: make someone else lead first.")
    membership.delete()


@transaction.atomic
def invitation_cancel(*, invitation: Invitation) -> None:
    invitation.delete()


@transaction.atomic
def invitations_accept_for(*, user: Any) -> list[Membership]:
    """Turn the pending invitations for the user's e-mail into memberships."""
    if not user.email:
        return []
    joined = []
    pending = Invitation.objects.select_for_update().filter(
        email__iexact=user.email, accepted_at=None
    )
    for invitation in pending:
        membership, _ = Membership.objects.get_or_create(
            review=invitation.review,
            user=user,
            defaults={
                "is_lead": invitation.is_lead,
                "is_reviewer": invitation.is_reviewer,
                "is_arbiter": invitation.is_arbiter,
            },
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        joined.append(membership)
    return joined


@transaction.atomic
def user_signup(*, username: str, email: str, password: str) -> Any:
    user = User.objects.create_user(username=username, email=email, password=password)
    invitations_accept_for(user=user)
    return user


# --- deleting and restoring a review ------------------------------------------------------


@transaction.atomic
def review_delete(*, review: Review, deleted_by: Any) -> Review:
    """Move the review to its leads' bin: hidden everywhere, restorable until purged.

    Deleting twice (a double click) is harmless: the first deletion's time stands.
    """
    review = Review.all_objects.select_for_update().get(pk=review.pk)
    if review.deleted_at is None:
        review.deleted_at = timezone.now()
        review.deleted_by = deleted_by
        review.save(update_fields=["deleted_at", "deleted_by"])
    return review


@transaction.atomic
def review_restore(*, review: Review) -> Review:
    review = Review.all_objects.select_for_update().get(pk=review.pk)
    if review.deleted_at is None:
        raise DomainError("This review is not deleted.")
    review.deleted_at = None
    review.deleted_by = None
    review.save(update_fields=["deleted_at", "deleted_by"])
    return review


def review_purge(*, review_id: int) -> bool:
    """Delete a review for good: its rows, their history and its stored files.

    The files go once the transaction has committed, so a failed purge keeps them.
    """
    with transaction.atomic():
        review = Review.all_objects.select_for_update().filter(pk=review_id).first()
        if review is None:
            return False
        files = _stored_files(review_id)
        review.delete()
        # Deleting cascades through every review-scoped table and leaves a '-' history row
        # per deleted row; the history (old and new) is the review's too, so it goes as well.
        found = review_rows(review_id, include_excluded=True)
        for entry in review_scoped_models():
            if entry.is_historical and found.pks[entry.label]:
                pk = entry.model._meta.pk.attname
                for batch in _chunked(found.pks[entry.label]):
                    entry.model._base_manager.filter(**{f"{pk}__in": batch}).delete()
        transaction.on_commit(lambda: _delete_stored(files))
    return True


def _chunked(values: list[Any], size: int = 5000) -> list[list[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _stored_files(review_id: int) -> set[str]:
    found = review_rows(review_id, include_excluded=True)
    names: set[str] = set()
    for entry in review_scoped_models():
        columns = file_fields(entry)
        if not columns:
            continue
        pk = entry.model._meta.pk.attname
        for batch in _chunked(found.pks[entry.label]):
            rows = entry.model._base_manager.filter(**{f"{pk}__in": batch})
            for values in rows.values_list(*columns):
                names.update(v for v in values if v)
    return names


def _delete_stored(names: set[str]) -> None:
    for name in names:
        default_storage.delete(name)


def reviews_purge_expired(*, now: Any = None) -> list[int]:
    """Purge the reviews deleted longer ago than the retention period; their ids."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.REVIEW_RETENTION_DAYS)
    expired = list(
        Review.all_objects.filter(deleted_at__lt=cutoff).order_by("pk").values_list("pk", flat=True)
    )
    return [pk for pk in expired if review_purge(review_id=pk)]
