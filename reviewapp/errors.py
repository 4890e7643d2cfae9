from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied


class DomainError(Exception):
    """A rule of the domain was broken; the message is shown to the user as it is."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleVersion(DomainError):
    """Someone saved first: the version the editor started from is no longer the stored one, and
    nothing was written. `current` is what is stored now (a model instance, or None), `yours`
    what was submitted. APIs answer it 409 in one place (reviewapp.common.drf.exception_handler),
    pages through `reviewapp.common.pages.refused_status`."""

    def __init__(
        self, message: str, *, current: Any = None, yours: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message, field="version")
        self.current = current
        self.yours = dict(yours or {})


class RoleRequired(PermissionDenied):
    """A member of the review lacks the role an action needs (answered 403, see error_pages)."""

    def __init__(self, *, review: Any, membership: Any, role: str) -> None:
        super().__init__(f"This needs the {role} role on this review.")
        self.review = review
        self.membership = membership
        self.role = role
