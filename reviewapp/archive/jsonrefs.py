"""Ids stored inside JSON columns, which an import must renumber like foreign keys.

Foreign keys are found from the models; ids inside JSON are not, so every JSON column of a
review-scoped model is listed here: either with a function that rewrites the ids it holds, or
in `NO_IDS`. `tests/archive/test_coverage.py` fails on a JSON column listed in neither, so a new
column cannot silently keep ids that, after an import, point at another review's rows.

A rewrite function takes the column's value and `remap(model, old_id) -> new_id` and returns the
new value; it must not mutate its input. The same function collects the ids in a first pass
(with a `remap` that records and returns its argument).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

Remap = Callable[[type[models.Model], Any], Any]
Rewrite = Callable[[Any, Remap], Any]


def _record() -> type[models.Model]:
    from screening.models import Record

    return Record


def _study() -> type[models.Model]:
    from screening.models import Study

    return Study


def _dedup_before(value: Any, remap: Remap) -> Any:
    # {record_id: duplicate_of_id or None}; JSON object keys are strings.
    if not isinstance(value, dict):
        return value
    record = _record()
    return {
        str(remap(record, int(key))): (None if dup is None else remap(record, int(dup)))
        for key, dup in value.items()
    }


def _record_keys(value: Any, remap: Remap) -> Any:
    # {record_id: text}; JSON object keys are strings.
    if not isinstance(value, dict):
        return value
    record = _record()
    return {str(remap(record, int(key))): text for key, text in value.items()}


def _record_pairs(value: Any, remap: Remap) -> Any:
    if not isinstance(value, list):
        return value
    record = _record()
    return [[remap(record, int(a)), remap(record, int(b))] for a, b in value]


def _record_list(value: Any, remap: Remap) -> Any:
    if not isinstance(value, list):
        return value
    record = _record()
    return [remap(record, int(pk)) for pk in value]


def _dedup_moved(value: Any, remap: Remap) -> Any:
    """[{from, to: record; decisions, items: lists; fulltext, target_fulltext: one; study,
    target_study; stages, target_stages: stage codes}] (screening.keeper.move_work)."""
    if not isinstance(value, list):
        return value
    from screening.models import Decision, FullTextReport, ScreeningItem

    record, study = _record(), _study()

    def one(model: type[models.Model], pk: Any) -> Any:
        return None if pk is None else remap(model, int(pk))

    out = []
    for move in value:
        if not isinstance(move, dict):
            out.append(move)
            continue
        out.append(
            {
                **move,
                "from": one(record, move.get("from")),
                "to": one(record, move.get("to")),
                "decisions": [remap(Decision, int(pk)) for pk in move.get("decisions") or []],
                "items": [remap(ScreeningItem, int(pk)) for pk in move.get("items") or []],
                "fulltext": one(FullTextReport, move.get("fulltext")),
                "study": one(study, move.get("study")),
                "target_study": one(study, move.get("target_study")),
                "target_fulltext": one(FullTextReport, move.get("target_fulltext")),
            }
        )
    return out


def _study_id_items(value: Any, remap: Remap) -> Any:
    """A list of dicts each naming a study by `study_id` (analysis inputs, missing studies)."""
    if not isinstance(value, list):
        return value
    study = _study()
    return [
        {**item, "study_id": remap(study, int(item["study_id"]))}
        if isinstance(item, dict) and item.get("study_id") is not None
        else item
        for item in value
    ]


def _analysis_payload(value: Any, remap: Remap) -> Any:
    if not isinstance(value, dict):
        return value
    study = _study()
    out = dict(value)
    for key in ("studies", "missing"):
        if key in out:
            out[key] = _study_id_items(out[key], remap)
    subgroups = out.get("subgroups")
    if isinstance(subgroups, dict) and isinstance(subgroups.get("groups"), list):
        out["subgroups"] = {
            **subgroups,
            "groups": [
                {**g, "studies": [remap(study, int(s)) for s in g.get("studies", [])]}
                if isinstance(g, dict)
                else g
                for g in subgroups["groups"]
            ],
        }
    return out


# (live model label, column) -> rewrite. History rows of the model use the same entry.
JSON_IDS: dict[tuple[str, str], Rewrite] = {
    ("screening.dedupaction", "before"): _dedup_before,
    ("screening.dedupaction", "cannot_link"): _record_pairs,
    ("screening.dedupaction", "must_link"): _record_pairs,
    ("screening.dedupaction", "moved"): _dedup_moved,
    ("screening.possibleduplicate", "reasons_before"): _record_keys,
    ("analysis.analysisresult", "inputs"): _study_id_items,
    ("analysis.analysisresult", "missing"): _study_id_items,
    ("analysis.analysisresult", "payload"): _analysis_payload,
    # Declared ahead of the ranking branch's model (an entry for a missing model is inert).
    ("screening.stopsample", "record_ids"): _record_list,
}

# JSON columns that hold no ids of rows (text, keys of form fields, numbers).
NO_IDS: set[tuple[str, str]] = {
    ("reviewapp.review", "inclusion_criteria"),
    ("reviewapp.review", "exclusion_criteria"),
    ("screening.importbatch", "skipped"),
    ("screening.record", "authors"),
    ("screening.record", "keywords"),
    ("screening.record", "raw"),
    ("screening.record", "accession_numbers"),  # other databases' record numbers
    ("screening.stagesettings", "exclusion_reasons"),
    ("screening.stagesettings", "include_terms"),
    ("screening.stagesettings", "exclude_terms"),
    ("screening.decision", "tags"),
    ("extraction.formversion", "schema"),
    ("extraction.formfield", "choices"),
    ("extraction.formfield", "columns"),
    ("extraction.extraction", "answers"),
    ("extraction.extraction", "arms"),
    ("extraction.outcomedata", "conversion_inputs"),
    ("rob.robtool", "definition"),
    ("rob.robassessment", "answers"),
    ("rob.robassessment", "domains"),
    ("rob.robassessment", "preliminary"),  # design and aim choices
    ("analysis.graderating", "reasons"),
    ("screening.rankingstate", "score_histogram"),  # counts per score bin
}


def rewrite_for(live_label: str, column: str) -> Rewrite | None:
    return JSON_IDS.get((live_label, column))
