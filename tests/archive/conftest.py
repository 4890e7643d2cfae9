"""The populated review (tests/populated_review.py) and a key-independent picture of the data."""

import hashlib
from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage

from reviewapp.archive.jsonrefs import rewrite_for
from reviewapp.archive.scope import archived_models, file_fields
from tests.populated_review import populated_review  # noqa: F401  # a fixture, used by name

# --- a canonical picture of the database, independent of primary keys ------------------------


def _file_digest(name: str) -> str | None:
    if not name:
        return None
    if not default_storage.exists(name):
        return f"missing:{name}"
    with default_storage.open(name, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def canonical_rows(*, skip_import_history: bool = False) -> dict[str, list[Any]]:
    """Every row of every archived model, with each primary key and reference replaced by its
    rank among the ids of its model, users by username and files by their content's hash.

    Two databases holding the same review (one imported from the other's archive, in the same
    id order) give equal pictures; the comparison needs nothing from the importer.
    """
    user_model = get_user_model()
    usernames = dict(user_model._base_manager.values_list("pk", user_model.USERNAME_FIELD))
    entries = archived_models()
    data: dict[str, list[dict[str, Any]]] = {}
    universe: dict[Any, set[Any]] = defaultdict(set)
    for entry in entries:
        names = [f.attname for f in entry.concrete_fields()]
        rows = list(entry.model._base_manager.order_by("pk").values(*names))
        if skip_import_history and entry.label == "reviewapp.historicalreview":
            rows = [
                r
                for r in rows
                if not (r["history_change_reason"] or "").startswith("Imported from an archive")
            ]
        data[entry.label] = rows

    def collect(model: Any, value: Any) -> Any:
        universe[model].add(value)
        return value

    for entry in entries:
        pk = entry.model._meta.pk.attname
        for row in data[entry.label]:
            universe[entry.model].add(row[pk])
            for ref in entry.refs:
                if row[ref.attname] is not None:
                    universe[ref.target].add(row[ref.attname])
            for column, value in row.items():
                rewrite = rewrite_for(entry.live_model._meta.label_lower, column)
                if rewrite and value is not None:
                    rewrite(value, collect)
    rank = {m: {v: i for i, v in enumerate(sorted(ids))} for m, ids in universe.items()}

    def remap(model: Any, value: Any) -> Any:
        return rank[model][value]

    picture: dict[str, list[Any]] = {}
    for entry in entries:
        pk = entry.model._meta.pk.attname
        refs = {r.attname: r.target for r in entry.refs}
        files = set(file_fields(entry))
        out = []
        for row in data[entry.label]:
            canon = {}
            for column, value in row.items():
                if column == pk:
                    value = rank[entry.model][value]
                elif column in refs and value is not None:
                    value = rank[refs[column]][value]
                elif column in entry.user_refs and value is not None:
                    value = usernames.get(value, f"deleted-user-{value}")
                elif column in files:
                    value = _file_digest(value)
                elif value is not None and (
                    rewrite := rewrite_for(entry.live_model._meta.label_lower, column)
                ):
                    value = rewrite(value, remap)
                canon[column] = value
            out.append(canon)
        out.sort(key=lambda r: r[pk])
        picture[entry.label] = out
    return picture
