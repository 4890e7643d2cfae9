"""Reviews, their teams and invitations."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Role(models.TextChoices):
    LEAD = "lead", "Lead"
    REVIEWER = "reviewer", "Reviewer"
    ARBITER = "arbiter", "Arbiter"
    VIEWER = "viewer", "Viewer"


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


def _invitation_token() -> str:
    return secrets.token_urlsafe(24)


class Invitation(models.Model):
    """An invitation by e-mail for someone without an account yet; accepted at sign-up."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    is_lead = models.BooleanField(default=False)
    is_reviewer = models.BooleanField(default=False)
    is_arbiter = models.BooleanField(default=False)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="invitation_one_pending_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.review}"
