"""Reviews, their teams and invitations."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from knox.models import AbstractAuthToken
from simple_history.models import HistoricalRecords


class Role(models.TextChoices):
    LEAD = "lead", "Lead"
    REVIEWER = "reviewer", "Reviewer"
    ARBITER = "arbiter", "Arbiter"
    VIEWER = "viewer", "Viewer"


# What each role can do, in one sentence: shown where roles are chosen and on the 403 page.
ROLE_DESCRIPTIONS: dict[str, str] = {
    Role.LEAD: "manages the team, settings, imports and forms, and can do all a reviewer and "
    "an arbiter can.",
    Role.REVIEWER: "screens records and extracts data, blind to the other reviewers' votes.",
    Role.ARBITER: "resolves conflicts between the reviewers' votes.",
    Role.VIEWER: "read-only: follows progress and results, never votes or changes data.",
}


def _empty_list() -> list[str]:
    return []


class ReviewQuerySet(models.QuerySet["Review"]):
    def deleted(self) -> "ReviewQuerySet":
        return self.filter(deleted_at__isnull=False)


class LiveReviewManager(models.Manager["Review"]):
    """The default manager: a deleted review is in the bin, out of every list and lookup."""

    def get_queryset(self) -> ReviewQuerySet:
        return ReviewQuerySet(self.model, using=self._db).filter(deleted_at__isnull=True)


class Review(models.Model):
    title = models.CharField(max_length=300)
    # PICO: the question in the shape every protocol states it.
    population = models.TextField(blank=True)
    intervention = models.TextField(blank=True)
    comparison = models.TextField(blank=True)
    outcomes = models.TextField(blank=True)
    protocol_registration = models.CharField(
        max_length=100, blank=True, help_text="e.g. PROSPERO CRD42015025621"
    )
    inclusion_criteria = models.JSONField(default=_empty_list, blank=True)
    exclusion_criteria = models.JSONField(default=_empty_list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Deleting is a soft delete the lead can undo until a periodic task purges it
    # (settings.REVIEW_RETENTION_DAYS later).
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords()
    objects = LiveReviewManager()
    all_objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # Related lookups (membership.review) still reach a deleted review; the permission
        # layer is what hides it.
        base_manager_name = "all_objects"

    def __str__(self) -> str:
        return self.title

    @property
    def purge_after(self) -> datetime | None:
        """When a deleted review stops being restorable (the purge may run a little later)."""
        if self.deleted_at is None:
            return None
        return self.deleted_at + timedelta(days=settings.REVIEW_RETENTION_DAYS)


class Membership(models.Model):
    """A person's place on a review's team. Roles combine; a member with none is a viewer."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    is_lead = models.BooleanField(default=False)
    is_reviewer = models.BooleanField(default=False)
    is_arbiter = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "user"], name="membership_unique_per_review")
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user} on {self.review}"

    @property
    def roles(self) -> list[str]:
        held = [
            role
            for role, flag in (
                (Role.LEAD, self.is_lead),
                (Role.REVIEWER, self.is_reviewer),
                (Role.ARBITER, self.is_arbiter),
            )
            if flag
        ]
        return [str(r) for r in held] or [str(Role.VIEWER)]

    def has_role(self, role: str) -> bool:
        if role == Role.VIEWER or self.is_lead:
            return True  # the lead can do anything a reviewer or arbiter can
        return (role == Role.REVIEWER and self.is_reviewer) or (
            role == Role.ARBITER and self.is_arbiter
        )


def new_invitation_token() -> str:
    return secrets.token_urlsafe(24)


_invitation_token = new_invitation_token  # the name migration 0001 refers to


def invitation_expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.INVITATION_DAYS)


class Invitation(models.Model):
    """An invitation to join a review, sent by e-mail as a signed link that expires.

    Only the link joins the team, and only for an account with the invited address: signing up
    with the address, or having registered it before, grants nothing (no one checked that the
    address is yours). `token` is the nonce signed into the link; resending replaces it, so an
    older link stops working.
    """

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    is_lead = models.BooleanField(default=False)
    is_reviewer = models.BooleanField(default=False)
    is_arbiter = models.BooleanField(default=False)
    token = models.CharField(max_length=64, unique=True, default=new_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    # The nonce stays out of the audit trail that every lead reads.
    history = HistoricalRecords(excluded_fields=["token"])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.review}"

    @property
    def roles(self) -> list[str]:
        held = [
            str(role)
            for role, flag in (
                (Role.LEAD, self.is_lead),
                (Role.REVIEWER, self.is_reviewer),
                (Role.ARBITER, self.is_arbiter),
            )
            if flag
        ]
        return held or [str(Role.VIEWER)]

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class VerifiedEmail(models.Model):
    """An address its account has shown it receives mail at (by following a link sent there).

    An address is verified for one account at most; an account's address counts as verified
    only while it is still the address on the account.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="verified_email"
    )
    email = models.EmailField()
    verified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="verified_email_one_account_each"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.user_id})"


class ApiToken(AbstractAuthToken):
    """A named API token of one user (django-rest-knox stores only its SHA-512 digest).

    A user holds several (one per script or machine), each revoked or rotated on its own, all
    revoked when the password changes; `token_key` (the first characters) names it in lists.
    """

    name = models.CharField(max_length=100)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"


# The outbox's table lives with the project app; its code is in reviewapp/common/outbox.py.
from reviewapp.common.outbox import OutboxTask  # noqa: E402, F401 -- registers the model here
