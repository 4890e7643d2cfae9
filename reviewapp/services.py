"""Writes on reviews and teams."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from reviewapp.archive.scope import file_fields, review_rows, review_scoped_models
from reviewapp.errors import DomainError
from reviewapp.models import (
    Invitation,
    Membership,
    Review,
    VerifiedEmail,
    invitation_expiry,
    new_invitation_token,
)

User = get_user_model()


class InvitationLinkInvalid(DomainError):
    """A link that was never a real invitation's (mistyped, truncated or forged)."""


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


INVITATION_SALT = "reviewapp.invitation"


def invitation_link(invitation: Invitation) -> str:
    """The absolute link that accepts the invitation: its id and nonce, signed and dated."""
    token = signing.dumps({"i": invitation.pk, "n": invitation.token}, salt=INVITATION_SALT)
    return settings.SITE_URL.rstrip("/") + reverse("invitation_accept", args=[token])


def _send_invitation(invitation: Invitation) -> None:
    review, link = invitation.review, invitation_link(invitation)
    inviter = invitation.invited_by.get_username() if invitation.invited_by else "A review lead"
    expires = timezone.localtime(invitation.expires_at).strftime("%d %B %Y")
    transaction.on_commit(
        lambda: send_mail(
            f"You are invited to the review '{review.title}'",
            f"{inviter} invited you to join the systematic review '{review.title}' as "
            f"{', '.join(invitation.roles)}.\n\n"
            f"Follow this link to accept (log in or create an account with this address, "
            f"{invitation.email}):\n{link}\n\n"
            f"The link works until {expires}. If you were not expecting it, ignore this e-mail.",
            None,
            [invitation.email],
        )
    )


@transaction.atomic
def membership_invite(*, review: Review, invited_by: Any, who: str, roles: list[str]) -> Invitation:
    """Invite someone, by username or e-mail address, with a link sent to their address.

    Nobody joins here, not even an existing account: an account's address may never have been
    checked, so only the link (which reaches the real owner) joins the team.
    """
    who = who.strip()
    if not who:
        raise DomainError("Give a username or an e-mail address.", field="who")
    flags = _role_flags(roles)
    if "@" in who:
        email = User.objects.normalize_email(who)
        try:
            validate_email(email)
        except ValidationError as exc:  # found by schemathesis: any text with an @ was mailed
            raise DomainError(f"{who!r} is not a valid e-mail address.", field="who") from exc
    else:
        user = User.objects.filter(username__iexact=who).first()
        if user is None:
            raise DomainError(
                f"No user called {who!r}; invite them by e-mail instead.", field="who"
            )
        if Membership.objects.filter(review=review, user=user).exists():
            raise DomainError(f"{user.get_username()} is already on this team.", field="who")
        if not user.email:
            raise DomainError(
                f"{user.get_username()} has no e-mail address; invite them by e-mail.", field="who"
            )
        email = user.email
    if Membership.objects.filter(review=review, user__verified_email__email__iexact=email).exists():
        raise DomainError(f"{email} is already on this team.", field="who")
    # Lock the review's open invitations so a double click cannot send two.
    open_ones = Invitation.objects.select_for_update().filter(
        review=review, email__iexact=email, accepted_at=None, revoked_at=None
    )
    for current in open_ones:
        if not current.is_expired:
            raise DomainError(
                f"{email} has already been invited; resend the invitation from the team page.",
                field="who",
            )
        current.revoked_at = timezone.now()  # expired: replaced by the new one
        current.save(update_fields=["revoked_at"])
    invitation = Invitation.objects.create(
        review=review, email=email, invited_by=invited_by, **flags
    )
    _send_invitation(invitation)
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation) -> Invitation:
    """Send a fresh link (the older one stops working) and give it the full time again."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise DomainError(f"The invitation to {invitation.email} is no longer pending.")
    invitation.token = new_invitation_token()
    invitation.sent_at = timezone.now()
    invitation.expires_at = invitation_expiry()
    invitation.save(update_fields=["token", "sent_at", "expires_at"])
    _send_invitation(invitation)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise DomainError(f"{invitation.email} has already accepted; remove them from the team.")
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_from_token(token: str) -> Invitation:
    """The open invitation a link stands for, or a DomainError saying why the link is dead.

    `InvitationLinkInvalid` (a subclass) means the link was never ours: pages answer 404.
    """
    try:
        payload = signing.loads(
            token, salt=INVITATION_SALT, max_age=timedelta(days=settings.INVITATION_DAYS)
        )
    except signing.SignatureExpired as exc:
        raise DomainError(
            "This invitation link has expired; ask the review lead to resend it."
        ) from exc
    except signing.BadSignature as exc:
        raise InvitationLinkInvalid("This invitation link is not valid.") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("i"), int):
        raise InvitationLinkInvalid("This invitation link is not valid.")
    invitation = (
        Invitation.objects.select_related("review", "invited_by").filter(pk=payload["i"]).first()
    )
    if invitation is None:
        raise InvitationLinkInvalid("This invitation link is not valid.")
    if invitation.accepted_at is not None:
        raise DomainError("This invitation has already been accepted.")
    if invitation.revoked_at is not None:
        raise DomainError("This invitation has been withdrawn by the review lead.")
    if invitation.token != payload.get("n"):
        raise DomainError("This invitation link has been replaced by a newer one; use that.")
    if invitation.is_expired:
        raise DomainError("This invitation link has expired; ask the review lead to resend it.")
    return invitation


def _verify_email(user: Any, email: str) -> None:
    """The account just followed a link sent to `email`: the address is theirs."""
    holder = (
        VerifiedEmail.objects.select_related("user")
        .filter(email__iexact=email)
        .exclude(user=user)
        .first()
    )
    if holder is not None:
        raise DomainError(
            f"{email} is already verified for the account {holder.user.get_username()}; "
            "log in as that account to accept."
        )
    VerifiedEmail.objects.update_or_create(
        user=user, defaults={"email": email, "verified_at": timezone.now()}
    )


@transaction.atomic
def invitation_accept(*, token: str, user: Any) -> Membership:
    """Join the review through the link, as the account that has the invited address."""
    found = invitation_from_token(token)
    invitation = Invitation.objects.select_for_update().get(pk=found.pk)
    invitation_from_token(token)  # again under the lock: a concurrent accept or revoke wins
    if (user.email or "").lower() != invitation.email.lower():
        raise DomainError(
            f"This invitation is for {invitation.email}; you are logged in as "
            f"{user.get_username()} ({user.email or 'no e-mail address'}). Log in or sign up "
            f"with {invitation.email} to accept it."
        )
    _verify_email(user, invitation.email)
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
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


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
def user_signup(*, username: str, email: str, password: str, invitation_token: str = "") -> Any:
    """A new account. With an invitation link, the account takes the invited address and joins
    the review; without one it joins nothing, whatever its address."""
    invitation = invitation_from_token(invitation_token) if invitation_token else None
    if invitation is not None:
        email = invitation.email
    user = User.objects.create_user(username=username, email=email, password=password)
    if invitation_token:
        invitation_accept(token=invitation_token, user=user)
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
    # Files no row names: the figure images the worker drew (analysis/figures.py).
    names.update(_files_under(f"figures/{review_id}"))
    return names


def _files_under(folder: str) -> set[str]:
    try:
        dirs, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return set()
    found = {f"{folder}/{name}" for name in files}
    for sub in dirs:
        found |= _files_under(f"{folder}/{sub}")
    return found


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
