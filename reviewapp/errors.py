from typing import Any

from django.core.exceptions import PermissionDenied


class DomainError(Exception):
    """A rule of the domain was broken; the message is shown to the user as it is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class RoleRequired(PermissionDenied):
    """A member of the review lacks the role an action needs (answered 403, see error_pages)."""

    def __init__(self, *, review: Any, membership: Any, role: str) -> None:
        super().__init__(f"This needs the {role} role on this review.")
        self.review = review
        self.membership = membership
        self.role = role
