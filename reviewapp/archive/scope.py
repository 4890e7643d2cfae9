"""Which tables hold a review, found from the app registry rather than from a list.

A model is review-scoped when a chain of foreign keys leads from it to `Review`: `Record` by
`review`, `FormField` by `form -> review`, `HistoricalOutcomeData` by `outcome -> review`. A
django-simple-history model also reaches its live model through the copied primary key, so the
history of a deleted row (whose live row is gone) is still found. A model someone adds tomorrow
is found the same way; `tests/archive/test_coverage.py` fails until the archive carries it.

The rows of one review are found level by level: a model `d` keys away from `Review` is
filtered on its keys to models `d - 1` away, against every id known for those models (the live
rows and the ids named by their history rows). Ids are matched in chunks, so a review of any
size stays within PostgreSQL's limit on query parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models

from reviewapp.models import Review

# Review-scoped models the archive leaves out, each for a reason (shown in docs/archive.md).
EXCLUDED: dict[str, str] = {
    "archive.archiveexport": "a download being prepared, not part of the review",
    "screening.screeninglease": "a record held for a few minutes while a reviewer reads it",
    "screening.recordrank": "derived from the votes: the imported review retrains its ranking",
    "screening.rankingstate": "derived from the votes: the imported review retrains its ranking",
}

ID_CHUNK = 5000


@dataclass(frozen=True)
class Ref:
    """A column holding the id of a row of `target` (a live model)."""

    attname: str
    target: type[models.Model]
    # False for the copied primary key of a history row: it names the live row, no FK.
    is_field: bool = True


@dataclass
class ScopedModel:
    model: type[models.Model]
    distance: int
    refs: list[Ref] = field(default_factory=list)  # every column naming a review-scoped row
    scope_refs: list[Ref] = field(default_factory=list)  # those leading one step closer
    user_refs: list[str] = field(default_factory=list)  # columns naming a user

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def instance_model(self) -> type[models.Model] | None:
        """For a history model, the live model whose versions it stores."""
        return getattr(self.model, "instance_type", None)

    @property
    def is_historical(self) -> bool:
        return self.instance_model is not None

    @property
    def live_model(self) -> type[models.Model]:
        return self.instance_model or self.model

    def concrete_fields(self) -> list[models.Field[Any, Any]]:
        return [f for f in self.model._meta.concrete_fields if not getattr(f, "generated", False)]


def _raw_refs(model: type[models.Model]) -> list[Ref]:
    refs = [
        Ref(f.attname, f.related_model)
        for f in model._meta.concrete_fields
        if f.is_relation and (f.many_to_one or f.one_to_one) and f.related_model is not None
    ]
    instance = getattr(model, "instance_type", None)
    if instance is not None:
        refs.append(Ref(instance._meta.pk.attname, instance, is_field=False))
    return refs


@cache
def review_scoped_models() -> tuple[ScopedModel, ...]:
    """Every model with a foreign-key path to Review (Review itself first), nearest first."""
    user_model = get_user_model()
    candidates = [m for m in apps.get_models(include_auto_created=True) if not m._meta.proxy]
    refs = {m: _raw_refs(m) for m in candidates}
    distance: dict[type[models.Model], int] = {Review: 0}
    changed = True
    while changed:  # shortest paths over a small graph: a few passes
        changed = False
        for model in candidates:
            reachable = [distance[r.target] + 1 for r in refs[model] if r.target in distance]
            if reachable and min(reachable) < distance.get(model, 10**6):
                distance[model] = min(reachable)
                changed = True
    scoped = []
    for model, d in distance.items():
        entry = ScopedModel(model=model, distance=d)
        for ref in refs.get(model, []):
            if ref.target is user_model:
                entry.user_refs.append(ref.attname)
            elif ref.target in distance:
                entry.refs.append(ref)
                if distance[ref.target] < d:
                    entry.scope_refs.append(ref)
        scoped.append(entry)
    scoped.sort(key=lambda s: (s.distance, s.is_historical, s.label))
    return tuple(scoped)


def archived_models() -> list[ScopedModel]:
    return [s for s in review_scoped_models() if s.label not in EXCLUDED]


def chunks(ids: Iterable[Any], size: int = ID_CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in ids:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class ReviewRows:
    """The primary keys of one review's rows in every review-scoped model."""

    pks: dict[str, list[Any]]  # label -> sorted primary keys
    known: dict[type[models.Model], set[Any]]  # live model -> every id known for it


def review_rows(review_id: int, *, include_excluded: bool = False) -> ReviewRows:
    """Find the rows of one review in every review-scoped model (live and history)."""
    known: dict[type[models.Model], set[Any]] = {Review: {review_id}}
    pks: dict[str, list[Any]] = {}
    entries = review_scoped_models() if include_excluded else tuple(archived_models())
    for entry in entries:
        manager = entry.model._base_manager
        found: set[Any] = set()
        instance_ids: set[Any] = set()
        pk_name = entry.model._meta.pk.attname
        instance_pk = entry.instance_model._meta.pk.attname if entry.instance_model else None
        columns = [pk_name] + ([instance_pk] if instance_pk else [])
        if entry.model is Review:
            rows: Iterable[tuple[Any, ...]] = manager.filter(pk=review_id).values_list(*columns)
            found.update(r[0] for r in rows)
        for ref in entry.scope_refs:
            for batch in chunks(sorted(known.get(ref.target, ()))):
                rows = manager.filter(**{f"{ref.attname}__in": batch}).values_list(*columns)
                for row in rows:
                    found.add(row[0])
                    if instance_pk:
                        instance_ids.add(row[1])
        pks[entry.label] = sorted(found)
        known.setdefault(entry.live_model, set()).update(
            instance_ids if entry.is_historical else found
        )
    return ReviewRows(pks=pks, known=known)


def file_fields(entry: ScopedModel) -> list[str]:
    """Columns holding a stored file's name: FileFields, and their copies in history rows."""
    live = entry.live_model
    names = [f.attname for f in live._meta.concrete_fields if isinstance(f, models.FileField)]
    present = {f.attname for f in entry.model._meta.concrete_fields}
    return [n for n in names if n in present]
