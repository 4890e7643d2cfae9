"""What one stage of a review tells the stages after it: small typed facts, published by the
services that change the data, at the end of their transaction.

A stage publishes what changed, in its own words and with ids only; it never learns who
listens. A later stage subscribes once, from its `AppConfig.ready()` (analysis does it in
`analysis/receivers.py`), and decides there what the fact means for its own data.

Handlers run at once, inside the publisher's transaction: what a handler marks (an analysis
behind its inputs, the outbox row of its task) commits or rolls back with the change itself, so
a crash between the commit and a callback can never lose it. Whatever leaves the database (the
task handed to Celery, a cache bump) waits for the commit, as everywhere here.

This module imports no app: every app may import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar


@dataclass(frozen=True)
class Event:
    """A change in one review."""

    review_id: int


@dataclass(frozen=True)
class ExtractionCommitted(Event):
    """A final extraction record (single, or the consensus of a dual form) was saved: the
    study's study-level answers may have changed. Blind independent copies publish nothing."""

    study_ids: frozenset[int]


@dataclass(frozen=True)
class OutcomeDataChanged(Event):
    """Final outcome data of these outcomes were created, changed or deleted (the bulk writes of
    an extraction save included)."""

    outcome_ids: frozenset[int]


@dataclass(frozen=True)
class RobJudged(Event):
    """Risk-of-bias assessments of these studies were saved, created or deleted."""

    study_ids: frozenset[int]


@dataclass(frozen=True)
class InclusionChanged(Event):
    """The set of included studies, or the reports linked to a study, may have changed: a
    full-text verdict changed to or from include, a report was linked to or unlinked from a
    study, or records were deleted."""


E = TypeVar("E", bound=Event)
Handler = Callable[[E], None]

_handlers: dict[type[Event], list[Callable[[Event], None]]] = {}


def subscribe(event_type: type[E], handler: Handler[E]) -> None:
    """Call `handler(event)` for every published `event_type`. Idempotent, so a second
    `ready()` (tests, management commands) does not run a handler twice."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)  # type: ignore[arg-type]  # keyed by its own event type


def publish(event: Event) -> None:
    """Tell the subscribers of `type(event)`. Call it in the transaction of the change, after the
    change is written; a handler's error rolls the change back with it."""
    for handler in _handlers.get(type(event), ()):
        handler(event)


def subscribers(event_type: type[Event]) -> list[Callable[[Event], None]]:
    """The handlers `publish` calls for `event_type` (for tests and the architecture check)."""
    return list(_handlers.get(event_type, ()))
