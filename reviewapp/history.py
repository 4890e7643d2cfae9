"""The models with history that belong to a review, for the review's history page.

Each app lists its own in `<app>/history.py` (`HISTORY_MODELS`: label, history manager, review
field; optionally `HISTORY_FILTERS`: label -> `f(rows, *, review, user) -> rows`, the versions
of that model `user` may read) and registers them from its `AppConfig.ready()`, so a new model
with `HistoricalRecords()` appears on the page once it is listed there.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reviewapp.models import Invitation, Membership, Review

HistoryFilter = Callable[..., Any]


@dataclass(frozen=True)
class HistorySource:
    label: str
    manager: Any
    review_field: str
    visible: HistoryFilter | None = None


# By label, in registration order (INSTALLED_APPS): a second ready() replaces, never doubles.
_sources: dict[str, HistorySource] = {}


def register(
    models: Sequence[tuple[str, Any, str]], filters: Mapping[str, HistoryFilter] | None = None
) -> None:
    for label, manager, review_field in models:
        _sources[label] = HistorySource(label, manager, review_field, (filters or {}).get(label))


def sources() -> list[HistorySource]:
    return list(_sources.values())


HISTORY_MODELS = [
    ("Review", Review.history, "id"),
    ("Team member", Membership.history, "review_id"),
    ("Invitation", Invitation.history, "review_id"),
]
