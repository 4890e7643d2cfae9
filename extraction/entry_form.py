"""The entry form: one place owns the entry page's input names, binds a POST to answers, arms
and outcome rows, and maps a save's errors and warnings back onto the inputs they belong to
(HAWC's dynamic-form pattern: the form is built from the extraction form's fields, not declared).

Input names, the only ones the entry page and its script post:

- `a__<key>`: a field's answer (a multiple choice repeats the name);
- `t__<key>__<row>__<column>`: a cell of a table field;
- `arm__<i>__<label|role|n>`: an arm;
- `o__<i>__<measure>`: a cell of outcome row i, `o__<i>__conversion` its conversion method and
  `o__<i>__cv__<input>` that conversion's inputs.

Errors come from the services keyed by path (`answers` keys, `arms.<i>.<k>`,
`outcomes.<i>.<k>`, `<table>.<row>.<column>`); `entry_context` puts each under its input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.http import QueryDict

from extraction import exports, plausibility, selectors, services
from extraction.models import Extraction, ExtractionForm, FieldType, FormField, Outcome
from extraction.validation import (
    ARM_ROLES,
    CONVERSIONS,
    SINGLE_ROW_TYPES,
    YES_NO_UNCLEAR,
    Errors,
    is_blank,
)
from reviewapp.models import Membership, Review, Role
from screening.models import Study

CONVERSION_INPUT_LABELS = {
    "se_mean": "SE of mean",
    "ci_mean_lower": "CI lower",
    "ci_mean_upper": "CI upper",
    "md": "Mean difference",
    "t": "t",
    "p": "p",
    "n_other": "n other arm",
    "median": "Median",
    "q1": "Q1",
    "q3": "Q3",
    "minimum": "Min",
    "maximum": "Max",
}
MEASURES_BY_TYPE: dict[str, tuple[str, ...]] = {
    Outcome.Type.CONTINUOUS: ("mean", "sd", "n"),
    Outcome.Type.DICHOTOMOUS: ("events", "total"),
    Outcome.Type.GENERIC: ("estimate", "ci_lower", "ci_upper", "se", "n"),
    Outcome.Type.PROPORTION: ("events", "total"),
    Outcome.Type.CORRELATION: ("r", "n"),
    Outcome.Type.RATE: ("events", "person_time"),
    Outcome.Type.SINGLE_RATE: ("events", "person_time"),
    Outcome.Type.PAIRED: ("mean_pre", "sd_pre", "mean", "sd", "n", "r"),
    Outcome.Type.MEAN: ("mean", "sd", "n"),
}
MEASURE_LABELS = {
    "mean": "Mean",
    "sd": "SD",
    "n": "n",
    "events": "Events",
    "total": "Total",
    "estimate": "Estimate",
    "ci_lower": "CI lower",
    "ci_upper": "CI upper",
    "se": "SE",
    "r": "r",
    "person_time": "Person-time",
    "mean_pre": "Baseline mean",
    "sd_pre": "Baseline SD",
    "timepoint_weeks": "Weeks",
    "conversion": "Converted:",
}


@dataclass
class EntryField:
    field: FormField
    value: Any
    errors: list[str]
    warnings: list[str] = dc_field(default_factory=list)
    table_rows: list[tuple[int, list[tuple[dict[str, Any], Any, list[str]]]]] = dc_field(
        default_factory=list
    )
    next_row: int = 0
    cell_errors: dict[str, list[str]] = dc_field(default_factory=dict)

    @property
    def values(self) -> list[str]:
        if isinstance(self.value, list):
            return [str(v) for v in self.value]
        return [] if is_blank(self.value) else [str(self.value)]


@dataclass
class RowView:
    index: int
    data: dict[str, Any]
    errors: dict[str, str]
    conversion: str = ""
    inputs: dict[str, Any] = dc_field(default_factory=dict)
    warnings: dict[str, str] = dc_field(default_factory=dict)

    @property
    def messages(self) -> list[str]:
        return list(self.errors.values())


@dataclass
class OutcomeBlock:
    outcome: Outcome
    measures: list[tuple[str, str]]
    rows: list[RowView]

    @property
    def columns(self) -> int:
        """Timepoint, weeks, arm, the measures, (conversion,) notes."""
        conversion = self.outcome.outcome_type == Outcome.Type.CONTINUOUS
        return 4 + len(self.measures) + int(conversion)


def display_number(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else value


def entry_fields(
    fields: Sequence[FormField],
    answers: Mapping[str, Any],
    errors: Mapping[str, list[str]],
    warnings: Mapping[str, list[str]],
) -> list[EntryField]:
    out = []
    for f in fields:
        value = answers.get(f.key)
        # A table's cell warnings are listed under the whole table, where a sentence fits.
        own = [
            m
            for k, msgs in warnings.items()
            if k == f.key or k.startswith(f"{f.key}.")
            for m in msgs
        ]
        entry = EntryField(f, value, list(errors.get(f.key, [])), own)
        if f.field_type == FieldType.TABLE:
            rows = value if isinstance(value, list) else []
            rows = [r for r in rows if isinstance(r, dict)] + [{}]  # always one empty row to fill
            entry.table_rows = [
                (
                    i,
                    [
                        (
                            column,
                            display_number(row.get(column["key"])),
                            errors.get(f"{f.key}.{i}.{column['key']}", []),
                        )
                        for column in f.columns
                    ],
                )
                for i, row in enumerate(rows)
            ]
            entry.next_row = len(rows)
        out.append(entry)
    return out


def outcome_blocks(
    outcomes: Sequence[Outcome],
    rows: Sequence[Mapping[str, Any]],
    arms: Sequence[Mapping[str, Any]],
    errors: Mapping[str, list[str]],
    warnings: Mapping[str, list[str]],
) -> tuple[list[OutcomeBlock], int]:
    blocks = {
        o.pk: OutcomeBlock(
            o, [(m, MEASURE_LABELS[m]) for m in MEASURES_BY_TYPE[o.outcome_type]], []
        )
        for o in outcomes
    }
    index = 0
    for i, row in enumerate(rows):
        try:
            block = blocks[int(row.get("outcome"))]  # type: ignore[arg-type]  # None raises TypeError, caught
        except (KeyError, TypeError, ValueError):
            continue
        conversion = row.get("conversion") or ""
        inputs: dict[str, Any] = {}
        if isinstance(conversion, dict):
            inputs = conversion.get("inputs") or {}
            conversion = conversion.get("method") or ""
        row_errors = {
            key.split(".", 2)[2]: " ".join(msgs)
            for key, msgs in errors.items()
            if key.startswith(f"outcomes.{i}.")
        }
        row_warnings = {
            key.split(".", 2)[2]: " ".join(msgs)
            for key, msgs in warnings.items()
            if key.startswith(f"outcomes.{i}.")
        }
        data = {k: display_number(v) for k, v in row.items() if k != "conversion"}
        block.rows.append(RowView(i, data, row_errors, str(conversion), inputs, row_warnings))
        index = max(index, i + 1)
    # Blank rows to start from: one per arm and outcome not entered yet.
    arm_labels = [a.get("label", "") for a in arms if a.get("label")] or [""]
    for block in blocks.values():
        if block.rows:
            continue
        single = block.outcome.outcome_type in SINGLE_ROW_TYPES
        labels = [""] if single else arm_labels
        for label in labels:
            block.rows.append(RowView(index, {"arm": label}, {}))
            index += 1
    return list(blocks.values()), index


def arm_inputs(
    arms: Any, errors: Mapping[str, list[str]]
) -> list[tuple[int, Mapping[str, Any], dict[str, str]]]:
    """The arms to show, renumbered: the blank row the page always offers is not an arm, so a
    refused save does not come back with one more blank row each time."""
    out: list[tuple[int, Mapping[str, Any], dict[str, str]]] = []
    for i, arm in enumerate(arms or []):
        if not isinstance(arm, Mapping):
            continue
        errs = {
            k.split(".")[2]: " ".join(v) for k, v in errors.items() if k.startswith(f"arms.{i}.")
        }
        if not errs and all(is_blank(v) for k, v in arm.items() if k != "role"):
            continue
        out.append((len(out), arm, errs))
    return out


def with_derived(fields: Sequence[FormField], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers as typed plus the derived values they give, for a page shown again after a
    refused save (the derived fields are not inputs, so the request does not carry them)."""
    cleaned = services.clean_answers(
        fields=fields, answers=answers, stored={}, complete=False, errors=Errors()
    )
    derived = services.compute_derived(fields, cleaned)
    return {**answers, **{k: v for k, v in derived.items() if v is not None}}


def entry_context(
    *,
    review: Review,
    membership: Membership,
    form: ExtractionForm,
    study: Study | None,
    record: Extraction | None,
    answers: Mapping[str, Any] | None = None,
    arms: Any = None,
    rows: Any = None,
    errors: Mapping[str, list[str]] | None = None,
    consensus_record: bool = False,
) -> dict[str, Any]:
    sections, removed = selectors.form_layout(form=form)
    errors = errors or {}
    warnings: dict[str, list[str]] = {}
    if answers is None:
        answers = record.answers if record else {}
        arms = record.arms if record else []
        rows = [selectors.outcome_row_dict(r) for r in record.outcome_data.all()] if record else []
        if record is not None:
            warnings = plausibility.by_key(selectors.extraction_warnings(extraction=record))
    arm_rows = arm_inputs(arms, errors)
    arms = [a for _i, a, _e in arm_rows]
    arm_rows.append((len(arm_rows), {}, {}))
    outcomes = list(selectors.outcomes(review=review)) if form.collects_outcomes else []
    blocks, next_row = outcome_blocks(outcomes, rows or [], arms, errors, warnings)
    return {
        "form": form,
        "study": study,
        "record": record,
        "consensus_record": consensus_record,
        "sections": [
            (s.section, entry_fields(s.fields, answers, errors, warnings)) for s in sections
        ],
        "warning_count": sum(len(v) for v in warnings.values()),
        "removed": [(f, answers.get(f.key)) for f in removed if not is_blank(answers.get(f.key))],
        "arm_rows": arm_rows,
        "arm_labels": [a.get("label") for a in arms if a.get("label")],
        "blocks": blocks,
        "next_row": next_row,
        "conversions": CONVERSIONS,
        "conversion_inputs": CONVERSION_INPUT_LABELS,
        "general_errors": [
            m
            for k, msgs in errors.items()
            if k in ("answers", "arms", "outcomes", "version")
            for m in msgs
        ],
        "error_count": sum(len(v) for v in errors.values()),
        "can_edit": membership.has_role(Role.REVIEWER),
        "disabled": study is None or not membership.has_role(Role.REVIEWER),
        "yes_no_choices": YES_NO_UNCLEAR,
        "arm_roles": ARM_ROLES,
        "blank_row": RowView("IDX", {}, {}),  # type: ignore[arg-type]  # placeholder for page JS
    }


def bind(
    post: QueryDict, fields: Sequence[FormField]
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Answers, arms and outcome rows from the entry page's inputs."""
    answers: dict[str, Any] = {}
    for f in fields:
        if f.removed_in_version is not None or f.field_type == FieldType.DERIVED:
            continue
        if f.field_type == FieldType.TABLE:
            rows: dict[int, dict[str, Any]] = {}
            prefix = f"t__{f.key}__"
            for name, value in post.items():
                if name.startswith(prefix):
                    index, _, column = name[len(prefix) :].partition("__")
                    if index.isdigit():
                        cell = post.getlist(name) if len(post.getlist(name)) > 1 else value
                        rows.setdefault(int(index), {})[column] = cell
            answers[f.key] = [rows[i] for i in sorted(rows)]
        elif f.field_type == FieldType.MULTIPLE_CHOICE:
            answers[f.key] = post.getlist(f"a__{f.key}")
        else:
            answers[f.key] = post.get(f"a__{f.key}", "")
    arms: dict[int, dict[str, Any]] = {}
    outcome_rows: dict[int, dict[str, Any]] = {}
    for name, value in post.items():
        parts = name.split("__")
        if parts[0] == "arm" and len(parts) == 3 and parts[1].isdigit():
            arms.setdefault(int(parts[1]), {})[parts[2]] = value
        elif parts[0] == "o" and len(parts) >= 3 and parts[1].isdigit():
            row = outcome_rows.setdefault(int(parts[1]), {})
            if parts[2] == "cv" and len(parts) == 4:
                if str(value).strip():
                    row.setdefault("conversion_inputs", {})[parts[3]] = value
            else:
                row[parts[2]] = value
    for row in outcome_rows.values():
        if row.get("conversion"):
            row["conversion"] = {
                "method": row["conversion"],
                "inputs": row.pop("conversion_inputs", {}),
            }
        else:
            row.pop("conversion", None)
            row.pop("conversion_inputs", None)
    return answers, [arms[i] for i in sorted(arms)], [outcome_rows[i] for i in sorted(outcome_rows)]


@dataclass
class ConflictItem:
    label: str
    saved: Any
    yours: Any


def conflict_items(
    fields: Sequence[FormField],
    current: Extraction | None,
    answers: Mapping[str, Any],
    arms: Any,
    rows: Any,
) -> list[ConflictItem]:
    from extraction.consensus import agree

    if current is None:
        return []
    items = []
    for f in fields:
        if f.field_type == FieldType.DERIVED or f.removed_in_version is not None:
            continue
        saved, yours = current.answers.get(f.key), answers.get(f.key)
        if f.field_type == FieldType.TABLE and isinstance(yours, list):
            yours = [r for r in yours if any(not is_blank(v) for v in r.values())]
        if not agree(saved, yours):
            items.append(
                ConflictItem(f.label, exports.display(f, saved), exports.display(f, yours))
            )
    saved_arms = ", ".join(f"{a['label']} ({a['role']})" for a in current.arms)
    your_arms = ", ".join(
        f"{a.get('label')} ({a.get('role')})" for a in arms or [] if a.get("label")
    )
    if saved_arms != your_arms:
        items.append(ConflictItem("Arms", saved_arms, your_arms))
    saved_rows = len(current.outcome_data.all())
    your_rows = len([r for r in rows or [] if any(not is_blank(r.get(m)) for m in MEASURE_LABELS)])
    items.append(ConflictItem("Outcome data rows", saved_rows, your_rows))
    return items


def extraction_input(post: QueryDict, fields: Sequence[FormField]) -> services.ExtractionInput:
    """The whole save, bound: answers, arms and rows, notes and the completeness box."""
    answers, arms, rows = bind(post, fields)
    return services.ExtractionInput(
        answers=answers,
        arms=arms,
        outcomes=rows,
        notes=post.get("notes", ""),
        complete=post.get("complete") == "on",
    )


# --- the in-place save: only what a save changes on the page ---------------------------------


def page_indices(post: QueryDict, prefix: str) -> list[int]:
    """The page's numbers of the arms (`arm`) or outcome rows (`o`) posted, in the order `bind`
    lists them. `bind` numbers them afresh from 0; the page keeps its own numbers after an
    in-place save, so a message keyed by bound position is sent back under the page's number."""
    found = set()
    for name in post:
        parts = name.split("__")
        if parts[0] == prefix and len(parts) >= 3 and parts[1].isdigit():
            found.add(int(parts[1]))
    return sorted(found)


def _row_identity(row: Mapping[str, Any]) -> tuple[str, ...]:
    """Outcome, timepoint and arm: what makes a row one row (the model's unique constraint)."""
    return tuple(
        " ".join(str(row.get(k) or "").split()).lower() for k in ("outcome", "timepoint", "arm")
    )


@dataclass
class SaveFeedback:
    """The fragments an in-place save answers with: each field's messages (also those of its
    table cells), the derived values, the outcome rows' messages under their page numbers and
    the arms' errors, for the summary."""

    fields: list[tuple[str, list[str], list[str]]]
    derived: list[tuple[str, Any]]
    rows: list[RowView]
    arm_errors: list[str]
    warning_count: int


def _field_feedback(entries: Sequence[EntryField]) -> list[tuple[str, list[str], list[str]]]:
    out = []
    for e in entries:
        errors = list(e.errors)
        columns = {c["key"]: c.get("label", c["key"]) for c in e.field.columns or []}
        for key, msgs in (e.cell_errors or {}).items():
            row, _, column = key.partition(".")
            where = f"Row {int(row) + 1}, {columns.get(column, column)}" if row.isdigit() else key
            errors += [f"{where}: {m}" for m in msgs]
        if errors or e.warnings:
            out.append((e.field.key, errors, e.warnings))
    return out


def save_feedback(
    *,
    fields: Sequence[FormField],
    answers: Mapping[str, Any],
    post: QueryDict,
    posted_rows: Sequence[Mapping[str, Any]],
    errors: Mapping[str, list[str]] | None = None,
    warnings: Mapping[str, list[str]] | None = None,
    stored_rows: Sequence[Mapping[str, Any]] = (),
) -> SaveFeedback:
    """Place a save's errors (keyed by bound position) and warnings (keyed by the stored rows'
    positions) on the page as it is, which the in-place save leaves untouched. `posted_rows`
    are the outcome rows `bind` made of `post`."""
    errors, warnings = errors or {}, warnings or {}
    live = [f for f in fields if f.removed_in_version is None]
    entries = [EntryField(f, None, list(errors.get(f.key, []))) for f in live]
    for e in entries:
        prefix = f"{e.field.key}."
        e.cell_errors = {k[len(prefix) :]: v for k, v in errors.items() if k.startswith(prefix)}
        e.warnings = [
            m
            for k, msgs in warnings.items()
            if k == e.field.key or k.startswith(prefix)
            for m in msgs
        ]
    numbers = page_indices(post, "o")
    on_page = {_row_identity(r): numbers[i] for i, r in enumerate(posted_rows)}
    rows: dict[int, RowView] = {}

    def row(number: int | None) -> RowView | None:
        if number is None:
            return None
        return rows.setdefault(number, RowView(number, {}, {}))

    for key, msgs in errors.items():
        parts = key.split(".", 2)
        if parts[0] == "outcomes" and len(parts) == 3 and parts[1].isdigit():
            at = int(parts[1])
            if (view := row(numbers[at] if at < len(numbers) else None)) is not None:
                view.errors[parts[2]] = " ".join(msgs)
    for key, msgs in warnings.items():
        parts = key.split(".", 2)
        if parts[0] == "outcomes" and len(parts) == 3 and parts[1].isdigit():
            at = int(parts[1])
            stored = stored_rows[at] if at < len(stored_rows) else {}
            if (view := row(on_page.get(_row_identity(stored)))) is not None:
                view.warnings[parts[2]] = " ".join(msgs)
    return SaveFeedback(
        fields=_field_feedback(entries),
        derived=[(f.key, answers.get(f.key)) for f in live if f.field_type == FieldType.DERIVED],
        rows=[rows[n] for n in sorted(rows)],
        arm_errors=[m for k, msgs in errors.items() if k.startswith("arms.") for m in msgs],
        warning_count=sum(len(v) for v in warnings.values()),
    )
