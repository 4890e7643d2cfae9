"""Writes on extraction: forms and their fields, outcomes, extractions, dual extraction and
consensus. Keyword-only, atomic, raising DomainError with the field it concerns."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from extraction import consensus, rules, selectors
from extraction.models import (
    COLUMN_TYPES,
    Extraction,
    ExtractionForm,
    FieldType,
    FormField,
    FormSection,
    FormVersion,
    Outcome,
    OutcomeData,
)
from extraction.validation import (
    MEASURES,
    Errors,
    clean_arms,
    clean_outcome_rows,
    clean_table,
    clean_value,
    is_blank,
)
from reviewapp import events
from reviewapp.errors import DomainError, StaleVersion
from reviewapp.models import Review
from screening.models import Study

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
CHOICE_TYPES = (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE)
NUMBER_TYPES = (FieldType.INTEGER, FieldType.DECIMAL)
SCHEMA_FORMAT = "reviewapp-extraction-form"


class ValidationFailed(DomainError):
    """Several inputs are wrong at once; `errors` maps each input to its messages."""

    def __init__(self, errors: Errors | dict[str, list[str]]) -> None:
        by_key = errors.by_key if isinstance(errors, Errors) else errors
        count = sum(len(v) for v in by_key.values())
        first_key = next(iter(by_key))
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} to fix; nothing was saved. "
            f"First: {by_key[first_key][0]}",
            field=first_key,
        )
        self.errors = by_key


class ConflictError(StaleVersion):
    """Someone saved this record after you opened it; `current` is what is stored now."""

    current: Extraction | None

    def __init__(self, current: Extraction | None, yours: Mapping[str, Any]) -> None:
        who = "someone"
        if current is not None and current.updated_by is not None:
            who = current.updated_by.get_username()
        super().__init__(
            f"{who} saved this record while you were editing it (now version "
            f"{current.version if current else '?'}). Nothing of yours was saved: compare both "
            "versions below, then save again.",
            current=current,
            yours=yours,
        )


# --- forms ---------------------------------------------------------------------------------


def _snapshot(form: ExtractionForm, user: Any) -> None:
    FormVersion.objects.update_or_create(
        form=form,
        number=form.version,
        defaults={"schema": selectors.form_schema(form=form), "created_by": user},
    )


def _bump(form: ExtractionForm, user: Any) -> None:
    """Every structural change makes a new form version with its snapshot. The count is read
    under a row lock, so a stale instance in the caller cannot move the version backwards."""
    locked = ExtractionForm.objects.select_for_update().get(pk=form.pk)
    locked.version += 1
    locked._history_user = user  # type: ignore[attr-defined]  # django-simple-history attributes the change to this user
    locked.save(update_fields=["version", "updated_at"])
    form.version = locked.version
    _snapshot(locked, user)


def _clean_name(name: str, what: str, field: str = "name") -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(f"Give the {what} a name.", field=field)
    if len(name) > 200:
        raise DomainError(f"The {what}'s name is longer than 200 characters.", field=field)
    return name


@transaction.atomic
def form_create(
    *,
    review: Review,
    name: str,
    user: Any,
    mode: str = ExtractionForm.Mode.SINGLE,
    description: str = "",
    collects_outcomes: bool = True,
) -> ExtractionForm:
    name = _clean_name(name, "form")
    if mode not in ExtractionForm.Mode.values:
        raise DomainError("Choose single or dual extraction.", field="mode")
    if ExtractionForm.objects.filter(review=review, name__iexact=name).exists():
        raise DomainError(f"This review already has a form called '{name}'.", field="name")
    position = (
        ExtractionForm.objects.filter(review=review).aggregate(m=Max("position"))["m"] or 0
    ) + 1
    form = ExtractionForm.objects.create(
        review=review,
        name=name,
        mode=mode,
        description=description.strip(),
        collects_outcomes=collects_outcomes,
        position=position,
    )
    _snapshot(form, user)
    return form


@transaction.atomic
def form_update(
    *,
    form: ExtractionForm,
    user: Any,
    name: str | None = None,
    mode: str | None = None,
    description: str | None = None,
    collects_outcomes: bool | None = None,
) -> ExtractionForm:
    form = ExtractionForm.objects.select_for_update().get(pk=form.pk)
    if name is not None:
        name = _clean_name(name, "form")
        clash = ExtractionForm.objects.filter(review_id=form.review_id, name__iexact=name)
        if clash.exclude(pk=form.pk).exists():
            raise DomainError(f"This review already has a form called '{name}'.", field="name")
        form.name = name
    if mode is not None and mode != form.mode:
        if mode not in ExtractionForm.Mode.values:
            raise DomainError("Choose single or dual extraction.", field="mode")
        if form.extractions.exists():
            raise DomainError(
                "Extraction has started on this form, so single or dual can no longer change: "
                "make a new form (export and import this one) instead.",
                field="mode",
            )
        form.mode = mode
    if description is not None:
        form.description = description.strip()
    if collects_outcomes is not None:
        form.collects_outcomes = collects_outcomes
    form.save()
    return form


@transaction.atomic
def form_move(*, form: ExtractionForm, direction: str) -> None:
    siblings = ExtractionForm.objects.select_for_update().filter(review_id=form.review_id)
    _move(form, siblings, direction)


@transaction.atomic
def section_add(*, form: ExtractionForm, title: str, user: Any, help_text: str = "") -> FormSection:
    title = _clean_name(title, "section", "title")
    position = (form.sections.aggregate(m=Max("position"))["m"] or 0) + 1
    section = FormSection.objects.create(
        form=form, title=title, help_text=help_text.strip(), position=position
    )
    _bump(form, user)
    return section


@transaction.atomic
def section_update(
    *, section: FormSection, user: Any, title: str, help_text: str = ""
) -> FormSection:
    section.title = _clean_name(title, "section", "title")
    section.help_text = help_text.strip()
    section.save()
    _bump(section.form, user)
    return section


@transaction.atomic
def section_remove(*, section: FormSection, user: Any) -> None:
    """Hides the section and its fields from the form; answers to them stay stored."""
    for field in section.fields.filter(removed_in_version__isnull=True):
        # A rule inside the section leaves with it; only rules elsewhere on the form count.
        _check_not_used_by_rules(field, leaving=section)
    form = section.form
    version = form.version + 1
    section.fields.filter(removed_in_version__isnull=True).update(removed_in_version=version)
    section.removed_in_version = version
    section.save()
    _bump(form, user)


def _move(item: Any, siblings: Any, direction: str) -> None:
    ordered = list(siblings)
    index = next(i for i, s in enumerate(ordered) if s.pk == item.pk)
    target = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down"):
        raise DomainError("Move up or down.", field="direction")
    if not 0 <= target < len(ordered):
        raise DomainError(f"'{item}' is already {'first' if direction == 'up' else 'last'}.")
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, sibling in enumerate(ordered, start=1):
        if sibling.position != position:
            sibling.position = position
            sibling.save(update_fields=["position"])


@transaction.atomic
def section_move(*, section: FormSection, direction: str, user: Any) -> None:
    siblings = FormSection.objects.select_for_update().filter(
        form_id=section.form_id, removed_in_version__isnull=True
    )
    _move(section, siblings, direction)
    _bump(section.form, user)


@transaction.atomic
def field_move(*, field: FormField, direction: str, user: Any) -> None:
    siblings = FormField.objects.select_for_update().filter(
        section_id=field.section_id, removed_in_version__isnull=True
    )
    _move(field, siblings, direction)
    _bump(field.form, user)


def _decimal(value: Any, what: str, field: str) -> Decimal | None:
    if is_blank(value):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(f"The {what} '{value}' is not a number.", field=field) from exc
    if not number.is_finite() or abs(number) >= Decimal("1e14"):
        raise DomainError(f"The {what} '{value}' is out of range.", field=field)
    return number


def _clean_choices(choices: Any, field: str = "choices") -> list[str]:
    if isinstance(choices, str):
        choices = choices.splitlines()
    items: list[str] = []
    for choice in choices or []:
        text = " ".join(str(choice).split())
        if text and text not in items:
            items.append(text[:200])
    return items


def clean_columns(columns: Any) -> list[dict[str, Any]]:
    """Table columns from JSON, or from text, one per line:
    `key | label | type | choice; choice | required`."""
    if isinstance(columns, str):
        parsed = []
        for line in columns.splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            column: dict[str, Any] = {
                "key": parts[0],
                "label": parts[1] if len(parts) > 1 else parts[0],
            }
            column["type"] = parts[2] if len(parts) > 2 and parts[2] else "short_text"
            if len(parts) > 3:
                column["choices"] = [c for c in parts[3].split(";") if c.strip()]
            if len(parts) > 4 and parts[4].lower() in ("required", "yes"):
                column["required"] = True
            parsed.append(column)
        columns = parsed
    if not isinstance(columns, list) or not columns:
        raise DomainError("A table needs at least one column.", field="columns")
    cleaned: list[dict[str, Any]] = []
    keys: set[str] = set()
    for i, column in enumerate(columns):
        if not isinstance(column, dict):
            raise DomainError(f"Column {i + 1} is not a column.", field="columns")
        key = str(column.get("key") or "").strip().lower()
        if not KEY_PATTERN.match(key):
            raise DomainError(
                f"Column {i + 1}: key '{key}' must start with a letter and use only "
                "a-z, 0-9 and _.",
                field="columns",
            )
        if key in keys:
            raise DomainError(f"Column key '{key}' is used twice.", field="columns")
        keys.add(key)
        kind = str(column.get("type") or "short_text")
        if kind not in COLUMN_TYPES:
            allowed = ", ".join(str(t) for t in COLUMN_TYPES)
            raise DomainError(
                f"Column '{key}': type '{kind}' is not one of {allowed}.", field="columns"
            )
        spec: dict[str, Any] = {
            "key": key,
            "label": " ".join(str(column.get("label") or key).split())[:200],
            "type": kind,
            "required": bool(column.get("required")),
        }
        if kind in CHOICE_TYPES:
            spec["choices"] = _clean_choices(column.get("choices"))
            if not spec["choices"]:
                raise DomainError(f"Column '{key}' needs choices.", field="columns")
        if kind in NUMBER_TYPES:
            for bound in ("min", "max"):
                number = _decimal(column.get(bound), f"{bound} of column '{key}'", "columns")
                spec[bound] = None if number is None else float(number)
            if spec["min"] is not None and spec["max"] is not None and spec["min"] > spec["max"]:
                raise DomainError(
                    f"Column '{key}': the minimum is above the maximum.", field="columns"
                )
            spec["unit"] = str(column.get("unit") or "")[:40]
        cleaned.append(spec)
    return cleaned


def _check_rule(form: ExtractionForm, text: str, *, key: str, choices: list[str]) -> str:
    try:
        rule = rules.parse(text)
    except rules.RuleError as exc:
        raise DomainError(f"Rule: {exc}", field="rule") from exc
    fields = {f.key: f for f in form.fields.filter(removed_in_version__isnull=True)}
    for name in sorted(rule.fields):
        if name == key:
            raise DomainError("A derived field cannot use itself.", field="rule")
        if name not in fields:
            raise DomainError(f"Rule: there is no field '{name}' on this form.", field="rule")
        if fields[name].field_type == FieldType.TABLE:
            raise DomainError(f"Rule: '{name}' is a table; use a study-level field.", field="rule")
    if choices:
        unknown = sorted(rule.literals - set(choices))
        if unknown:
            raise DomainError(
                f"Rule gives {', '.join(repr(u) for u in unknown)}, not among the categories "
                f"({', '.join(choices)}).",
                field="rule",
            )
    # A derived field may use another derived field, but not in a circle.
    graph = {
        f.key: rules.parse(f.rule).fields
        for f in fields.values()
        if f.field_type == FieldType.DERIVED and f.key != key
    }
    graph[key] = rule.fields
    if _has_cycle(graph):
        raise DomainError(
            "Rule: derived fields would depend on each other in a circle.", field="rule"
        )
    return rule.text


def _has_cycle(graph: Mapping[str, set[str]]) -> bool:
    state: dict[str, int] = {}

    def visit(node: str) -> bool:
        if state.get(node) == 1:
            return True
        if state.get(node) == 2:
            return False
        state[node] = 1
        if any(visit(n) for n in graph.get(node, set()) if n in graph):
            return True
        state[node] = 2
        return False

    return any(visit(n) for n in graph)


@dataclass
class FieldInput:
    label: str
    field_type: str = FieldType.SHORT_TEXT
    key: str = ""
    help_text: str = ""
    required: bool = False
    min_value: Any = None
    max_value: Any = None
    unit: str = ""
    choices: Any = None
    columns: Any = None
    rule: str = ""

    @classmethod
    def from_schema(
        cls, data: Mapping[str, Any], *, key: str | None = None, rule: str | None = None
    ) -> FieldInput:
        """A field as the form export writes it (`type`, `min`, `max`); `key` and `rule` replace
        the export's (a copy under a fresh key, a rule rewritten to read the copies)."""
        return cls(
            key=str(data.get("key") or "") if key is None else key,
            label=str(data.get("label") or ""),
            field_type=str(data.get("type") or ""),
            help_text=str(data.get("help_text") or ""),
            required=bool(data.get("required")),
            min_value=data.get("min"),
            max_value=data.get("max"),
            unit=str(data.get("unit") or ""),
            choices=data.get("choices"),
            columns=data.get("columns"),
            rule=str(data.get("rule") or "") if rule is None else rule,
        )


def _slug(label: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"f_{slug}"
    return slug[:50]


def _apply(field: FormField, data: FieldInput, form: ExtractionForm) -> None:
    field.label = _clean_name(data.label, "field", "label")[:300]
    field.help_text = (data.help_text or "").strip()
    field.required = bool(data.required) and field.field_type != FieldType.DERIVED
    field.min_value = field.max_value = None
    field.unit = ""
    field.choices, field.columns, field.rule = [], [], ""
    kind = field.field_type
    if kind in NUMBER_TYPES:
        field.min_value = _decimal(data.min_value, "minimum", "min_value")
        field.max_value = _decimal(data.max_value, "maximum", "max_value")
        if (
            field.min_value is not None
            and field.max_value is not None
            and field.min_value > field.max_value
        ):
            raise DomainError("The minimum is above the maximum.", field="min_value")
        if kind == FieldType.INTEGER:
            for bound, name in ((field.min_value, "min_value"), (field.max_value, "max_value")):
                if bound is not None and bound != bound.to_integral_value():
                    raise DomainError("An integer field takes whole-number bounds.", field=name)
        field.unit = (data.unit or "").strip()[:40]
    if kind in CHOICE_TYPES:
        field.choices = _clean_choices(data.choices)
        if len(field.choices) < 2:
            raise DomainError("Give at least two choices, one per line.", field="choices")
    if kind == FieldType.TABLE:
        field.columns = clean_columns(data.columns)
    if kind == FieldType.DERIVED:
        field.choices = _clean_choices(data.choices)
        field.rule = _check_rule(form, data.rule, key=field.key, choices=field.choices)


@transaction.atomic
def field_add(*, section: FormSection, data: FieldInput, user: Any) -> FormField:
    form = ExtractionForm.objects.select_for_update().get(pk=section.form_id)
    if section.removed_in_version is not None:
        raise DomainError("This section was removed from the form.", field="section")
    if data.field_type not in FieldType.values:
        raise DomainError(f"'{data.field_type}' is not a field type.", field="field_type")
    key = (data.key or "").strip().lower() or _slug(data.label)
    if not KEY_PATTERN.match(key):
        raise DomainError(
            f"Key '{key}' must start with a letter and use only a-z, 0-9 and _ (at most 60).",
            field="key",
        )
    if FormField.objects.filter(form=form, key=key).exists():
        raise DomainError(
            f"Key '{key}' is taken on this form (removed fields keep their key so their answers "
            "stay readable). Choose another.",
            field="key",
        )
    position = (section.fields.aggregate(m=Max("position"))["m"] or 0) + 1
    field = FormField(
        form=form,
        section=section,
        key=key,
        field_type=data.field_type,
        position=position,
        added_in_version=form.version + 1,
    )
    _apply(field, data, form)
    field.save()
    _bump(form, user)
    if field.field_type == FieldType.DERIVED:
        derived_recompute(form=form)
    return field


@transaction.atomic
def field_update(*, field: FormField, data: FieldInput, user: Any) -> FormField:
    """Everything but the key and the type can change; answers are kept by key."""
    form = ExtractionForm.objects.select_for_update().get(pk=field.form_id)
    field = FormField.objects.get(pk=field.pk)
    if field.removed_in_version is not None:
        raise DomainError("This field was removed; add a new one instead.")
    if data.field_type and data.field_type != field.field_type:
        raise DomainError(
            "A field's type cannot change once made, because its answers were entered as that "
            "type: remove it (its answers stay readable) and add a new field.",
            field="field_type",
        )
    _apply(field, data, form)
    field.save()
    _bump(form, user)
    derived_recompute(form=form)
    return field


def _check_not_used_by_rules(field: FormField, leaving: FormSection | None = None) -> None:
    users = [
        f.label
        for f in field.form.fields.filter(
            field_type=FieldType.DERIVED, removed_in_version__isnull=True
        )
        if f.pk != field.pk
        and (leaving is None or f.section_id != leaving.pk)
        and field.key in rules.parse(f.rule).fields
    ]
    if users:
        raise DomainError(
            f"'{field.label}' is used by the rule of: {', '.join(users)}. Change that rule first."
        )


@transaction.atomic
def field_remove(*, field: FormField, user: Any) -> None:
    """The field leaves the form; its answers stay stored and readable under 'removed fields'."""
    form = ExtractionForm.objects.select_for_update().get(pk=field.form_id)
    if field.removed_in_version is not None:
        return  # removing twice (a double click) changes nothing
    _check_not_used_by_rules(field)
    field.removed_in_version = form.version + 1
    field.save()
    _bump(form, user)


@transaction.atomic
def field_restore(*, field: FormField, user: Any) -> None:
    form = ExtractionForm.objects.select_for_update().get(pk=field.form_id)
    if field.removed_in_version is None:
        return
    if field.section.removed_in_version is not None:
        field.section.removed_in_version = None
        field.section.save()
    field.removed_in_version = None
    field.save()
    _bump(form, user)


@transaction.atomic
def form_import(*, review: Review, data: Any, user: Any, name: str | None = None) -> ExtractionForm:
    """A new form from the JSON `form_schema` writes; any error leaves nothing behind."""
    if not isinstance(data, dict) or data.get("format") != SCHEMA_FORMAT:
        raise DomainError(
            f"This is not an extraction form export (format '{SCHEMA_FORMAT}').", field="file"
        )
    form = form_create(
        review=review,
        name=name or str(data.get("name") or ""),
        user=user,
        mode=str(data.get("mode") or ExtractionForm.Mode.SINGLE),
        description=str(data.get("description") or ""),
        collects_outcomes=bool(data.get("collects_outcomes", True)),
    )
    sections = data.get("sections")
    if not isinstance(sections, list):
        raise DomainError("The export has no sections.", field="file")
    derived: list[tuple[FormSection, dict[str, Any]]] = []
    for s_index, section_data in enumerate(sections):
        if not isinstance(section_data, dict):
            raise DomainError(f"Section {s_index + 1} is not a section.", field="file")
        section = section_add(
            form=form,
            title=str(section_data.get("title") or ""),
            help_text=str(section_data.get("help_text") or ""),
            user=user,
        )
        for f_index, field_data in enumerate(section_data.get("fields") or []):
            if not isinstance(field_data, dict):
                raise DomainError(
                    f"Section {s_index + 1}, field {f_index + 1} is not a field.", field="file"
                )
            if field_data.get("type") == FieldType.DERIVED:
                derived.append((section, field_data))  # after the fields their rules name
                continue
            _import_field(section, field_data, user)
    for section, field_data in derived:
        _import_field(section, field_data, user)
    # Derived fields were added last; put every field back where the export had it.
    for section_data in sections:
        for position, field_data in enumerate(section_data.get("fields") or [], start=1):
            FormField.objects.filter(form=form, key=str(field_data.get("key") or "")).update(
                position=position
            )
    _snapshot(form, user)
    return form


def _import_field(section: FormSection, data: dict[str, Any], user: Any) -> None:
    try:
        field_add(
            section=section,
            data=FieldInput.from_schema(data),
            user=user,
        )
    except DomainError as exc:
        label = data.get("label") or data.get("key") or "?"
        raise DomainError(f"Field '{label}': {exc.message}", field="file") from exc


# --- outcomes ------------------------------------------------------------------------------


@transaction.atomic
def outcome_save(
    *,
    review: Review,
    name: str,
    outcome_type: str,
    desirable_direction: str = Outcome.Direction.HIGHER,
    timepoint_rule: str = Outcome.TimepointRule.LONGEST,
    timepoint_name: str = "",
    effect_measure: str = "",
    description: str = "",
    scale_min: float | None = None,
    scale_max: float | None = None,
    outcome: Outcome | None = None,
) -> Outcome:
    name = _clean_name(name, "outcome")
    if outcome_type not in Outcome.Type.values:
        raise DomainError(
            "Choose continuous, dichotomous, generic estimate, single-group proportion, "
            "correlation, events with person-time, single-group rate or paired pre-post.",
            field="outcome_type",
        )
    if desirable_direction not in Outcome.Direction.values:
        raise DomainError("Say whether higher or lower is better.", field="desirable_direction")
    if timepoint_rule not in Outcome.TimepointRule.values:
        raise DomainError("Choose longest follow-up or a named timepoint.", field="timepoint_rule")
    timepoint_name = " ".join(timepoint_name.split())
    if timepoint_rule == Outcome.TimepointRule.NAMED and not timepoint_name:
        raise DomainError("Name the timepoint to use (e.g. '12 months').", field="timepoint_name")
    if timepoint_rule == Outcome.TimepointRule.LONGEST:
        timepoint_name = ""
    _check_scale(scale_min, scale_max)
    clash = Outcome.objects.filter(review=review, name__iexact=name)
    if outcome is not None:
        clash = clash.exclude(pk=outcome.pk)
    if clash.exists():
        raise DomainError(f"This review already has an outcome called '{name}'.", field="name")
    if outcome is not None and outcome.outcome_type != outcome_type and outcome.data.exists():
        raise DomainError(
            "Data were entered for this outcome as "
            f"{outcome.get_outcome_type_display().lower()}; its type can no longer change.",
            field="outcome_type",
        )
    edited = outcome is not None
    if outcome is None:
        position = (
            Outcome.objects.filter(review=review).aggregate(m=Max("position"))["m"] or 0
        ) + 1
        outcome = Outcome(review=review, position=position)
    outcome.name = name
    outcome.outcome_type = outcome_type
    outcome.desirable_direction = desirable_direction
    outcome.timepoint_rule = timepoint_rule
    outcome.timepoint_name = timepoint_name
    outcome.effect_measure = effect_measure.strip()[:20]
    outcome.description = description.strip()
    outcome.scale_min, outcome.scale_max = scale_min, scale_max
    outcome.save()
    if edited:
        # The timepoint rule picks which rows analyses read; the direction reads the result.
        events.publish(events.OutcomeDataChanged(review.pk, frozenset({outcome.pk})))
    return outcome


def _check_scale(low: float | None, high: float | None) -> None:
    for value, name in ((low, "scale_min"), (high, "scale_max")):
        if value is not None and not math.isfinite(value):
            raise DomainError("The scale's bounds must be finite numbers.", field=name)
    if (low is None) != (high is None):
        raise DomainError(
            "Give both ends of the scale (minimum and maximum), or neither.",
            field="scale_max" if high is None else "scale_min",
        )
    if low is not None and high is not None and low >= high:
        raise DomainError(
            f"The scale's minimum ({low:g}) must be below its maximum ({high:g}).",
            field="scale_max",
        )


@transaction.atomic
def outcome_move(*, outcome: Outcome, direction: str) -> None:
    siblings = Outcome.objects.select_for_update().filter(review_id=outcome.review_id)
    _move(outcome, siblings, direction)


@transaction.atomic
def outcome_delete(*, outcome: Outcome) -> None:
    if outcome.data.exists():
        raise DomainError(
            f"'{outcome.name}' has data for "
            f"{outcome.data.values('extraction__study').distinct().count()} "
            "study(ies); delete those rows first."
        )
    outcome.delete()


# --- extraction ----------------------------------------------------------------------------


def field_spec(field: FormField) -> dict[str, Any]:
    return {
        "type": field.field_type,
        "label": field.label,
        "choices": field.choices,
        "columns": field.columns,
        "min": field.min_value,
        "max": field.max_value,
        "required": field.required,
    }


def compute_derived(fields: Sequence[FormField], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Values of the derived fields, each computed after the derived fields its rule uses."""
    values = dict(answers)
    pending = [
        f for f in fields if f.field_type == FieldType.DERIVED and f.removed_in_version is None
    ]
    parsed = {f.key: rules.parse(f.rule) for f in pending}
    derived_keys = set(parsed)
    out: dict[str, Any] = {}
    while pending:
        ready = [f for f in pending if not (parsed[f.key].fields & derived_keys - set(out))]
        if not ready:  # a cycle slipped past the builder: leave those blank
            break
        for f in ready:
            try:
                value = parsed[f.key].evaluate(values)
            except rules.RuleError:
                value = None
            out[f.key] = value
            values[f.key] = value
            pending.remove(f)
    return out


def clean_answers(
    *,
    fields: Sequence[FormField],
    answers: Mapping[str, Any],
    stored: Mapping[str, Any],
    complete: bool,
    errors: Errors,
) -> dict[str, Any]:
    """New answers for the active fields; answers to removed fields are kept as stored."""
    if not isinstance(answers, Mapping):
        errors.add("answers", "Answers are an object of field key to value.")
        return dict(stored)
    active = {f.key: f for f in fields if f.removed_in_version is None}
    removed = {f.key for f in fields if f.removed_in_version is not None}
    result: dict[str, Any] = {k: v for k, v in stored.items() if k in removed}
    for key in answers:
        if key not in active and key not in removed:
            errors.add(key, f"'{key}' is not a field of this form.")
    for key, field in active.items():
        if field.field_type == FieldType.DERIVED:
            continue
        value = answers.get(key)
        if field.field_type == FieldType.TABLE:
            cleaned = clean_table(field_spec(field), value, key, errors, complete=complete)
        else:
            cleaned = clean_value(field_spec(field), value, key, errors)
        if cleaned is None and field.required and complete and is_blank(value):
            errors.add(key, f"{field.label} is required before the extraction is marked complete.")
        if cleaned is not None:
            result[key] = cleaned
    result.update({k: v for k, v in compute_derived(fields, result).items() if v is not None})
    return result


def _store_outcome_rows(extraction: Extraction, rows: Sequence[Any], user: Any) -> set[int]:
    """Write only what changed, with history, so an unchanged save costs one SELECT. Returns
    the outcomes whose rows were created, changed or deleted."""
    existing = {
        (r.outcome_id, r.timepoint.lower(), r.arm.lower()): r for r in extraction.outcome_data.all()
    }
    create: list[OutcomeData] = []
    update: list[OutcomeData] = []
    # Only the columns that changed go into the UPDATE: each column is a CASE over the rows.
    changed_columns: set[str] = set()
    for row in rows:
        values = {
            "timepoint": row.timepoint,
            "timepoint_weeks": row.timepoint_weeks,
            "arm": row.arm,
            **{m: row.values.get(m) for m in MEASURES},
            "conversion": row.conversion,
            "conversion_inputs": row.conversion_inputs,
            "notes": row.notes,
        }
        current = existing.pop(row.cell, None)
        if current is None:
            create.append(OutcomeData(extraction=extraction, outcome_id=row.outcome_id, **values))
        elif differing := [k for k, v in values.items() if _differs(getattr(current, k), v)]:
            for k in differing:
                setattr(current, k, values[k])
            changed_columns.update(differing)
            update.append(current)
    for gone in existing.values():
        gone._history_user = user  # type: ignore[attr-defined]  # django-simple-history attributes the change to this user
        gone.delete()
    if update:
        bulk_update_with_history(
            update, OutcomeData, sorted(changed_columns), batch_size=500, default_user=user
        )
    if create:
        bulk_create_with_history(create, OutcomeData, batch_size=500, default_user=user)
    return {r.outcome_id for r in (*existing.values(), *update, *create)}


def _announce(extraction: Extraction, review_id: int, outcome_ids: Collection[int]) -> None:
    """Tell the later stages what a save changed, in its transaction. Only final records
    (single, or a dual form's consensus) feed them; blind independent copies stay private."""
    if extraction.kind == Extraction.Kind.INDEPENDENT:
        return
    events.publish(events.ExtractionCommitted(review_id, frozenset({extraction.study_id})))
    if outcome_ids:
        events.publish(events.OutcomeDataChanged(review_id, frozenset(outcome_ids)))


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return (None if old is None else Decimal(str(old))) != (
            None if new is None else Decimal(str(new))
        )
    return bool(old != new)


@dataclass(frozen=True)
class ExtractionInput:
    answers: Mapping[str, Any]
    arms: Any = None
    outcomes: Any = None
    notes: str = ""
    complete: bool = False


def _which(form: ExtractionForm, kind: str | None, user: Any) -> tuple[str, Any]:
    if kind == Extraction.Kind.CONSENSUS:
        if not form.is_dual:
            raise DomainError("This form uses single extraction: there is no consensus record.")
        return Extraction.Kind.CONSENSUS, None
    if form.is_dual:
        return Extraction.Kind.INDEPENDENT, user
    return Extraction.Kind.SINGLE, None


@transaction.atomic
def extraction_save(
    *,
    form: ExtractionForm,
    study: Study,
    user: Any,
    data: ExtractionInput,
    expected_version: int,
    kind: str | None = None,
    fields: list[FormField] | None = None,
) -> Extraction:
    """Save one extraction record whole (answers, arms, outcome data) or nothing.

    `fields` are the form's fields (`selectors.form_fields`) when the caller has read them
    already to bind its input; otherwise they are read here.

    `expected_version` is the version the editor started from (0 for a record not yet made);
    if someone saved in between, ConflictError carries the stored version and nothing is written.
    With dual extraction each extractor saves their own blind record; kind="consensus" saves the
    consensus record.
    """
    if study.review_id != form.review_id:
        raise DomainError("This study belongs to another review.", field="study")
    if not selectors.included_studies_qs(review=form.review).filter(pk=study.pk).exists():
        raise DomainError(
            f"{study.label} is not among the studies included for extraction.", field="study"
        )
    kind, extractor = _which(form, kind, user)
    lookup: dict[str, Any] = {"form": form, "study": study, "kind": kind}
    if extractor is not None:
        lookup["extractor"] = extractor
    current = Extraction.objects.select_for_update().filter(**lookup).order_by("pk").first()
    yours = {"answers": dict(data.answers or {}), "arms": data.arms, "outcomes": data.outcomes}
    if (current.version if current else 0) != expected_version:
        raise ConflictError(current, yours)
    if kind == Extraction.Kind.CONSENSUS and current is None:
        independent = Extraction.objects.filter(
            form=form, study=study, kind=Extraction.Kind.INDEPENDENT
        )
        if independent.count() < 2:
            raise DomainError(
                "The consensus is built once both extractors have saved their extraction."
            )

    if fields is None:
        fields = selectors.form_fields(form=form)
    errors = Errors()
    answers = clean_answers(
        fields=fields,
        answers=data.answers,
        stored=current.answers if current else {},
        complete=data.complete,
        errors=errors,
    )
    arms = clean_arms(data.arms, errors)
    rows: list[Any] = []
    if form.collects_outcomes:
        outcomes = {o.pk: o for o in Outcome.objects.filter(review_id=form.review_id)}
        rows = clean_outcome_rows(data.outcomes, outcomes=outcomes, arms=arms, errors=errors)
    elif not is_blank(data.outcomes):
        errors.add("outcomes", "This form does not collect outcome data.")
    if errors:
        raise ValidationFailed(errors)

    status = Extraction.Status.COMPLETE if data.complete else Extraction.Status.IN_PROGRESS
    if current is None:
        try:
            with transaction.atomic():
                current = Extraction(
                    form=form,
                    study=study,
                    kind=kind,
                    extractor=extractor,
                    answers=answers,
                    arms=arms,
                    notes=(data.notes or "").strip(),
                    status=status,
                    version=1,
                    form_version=form.version,
                    updated_by=user,
                )
                current._history_user = user  # type: ignore[attr-defined]  # history's user, also outside requests
                current.save()
        except IntegrityError as exc:
            # Someone created the record between our read and our insert.
            raise ConflictError(Extraction.objects.filter(**lookup).first(), yours) from exc
    else:
        current.answers = answers
        current.arms = arms
        current.notes = (data.notes or "").strip()
        current.status = status
        current.version += 1
        current.form_version = form.version
        current.updated_by = user
        current._history_user = user  # type: ignore[attr-defined]  # django-simple-history attributes the change to this user
        current.save()
    changed = _store_outcome_rows(current, rows, user) if form.collects_outcomes else set()
    _announce(current, form.review_id, changed)
    return current


@transaction.atomic
def derived_recompute(*, form: ExtractionForm) -> int:
    """Recompute every extraction's derived answers after a rule changed; returns how many
    records changed. Versions stay: nobody's edit is in conflict with a recomputation."""
    fields = selectors.form_fields(form=form)
    derived_keys = {f.key for f in fields if f.field_type == FieldType.DERIVED}
    changed = 0
    finals: set[int] = set()
    for extraction in Extraction.objects.filter(form=form).order_by("pk").select_for_update():
        base = {k: v for k, v in extraction.answers.items() if k not in derived_keys}
        new = {**base, **{k: v for k, v in compute_derived(fields, base).items() if v is not None}}
        removed_derived = {
            k: v for k, v in extraction.answers.items() if k in derived_keys and k not in new
        }
        new.update(
            {
                k: v
                for k, v in removed_derived.items()
                if any(f.key == k and f.removed_in_version for f in fields)
            }
        )
        if new != extraction.answers:
            extraction.answers = new
            extraction._change_reason = "derived fields recomputed"  # type: ignore[attr-defined]  # read by simple-history
            extraction.save(update_fields=["answers", "updated_at"])
            changed += 1
            if extraction.kind != Extraction.Kind.INDEPENDENT:
                finals.add(extraction.study_id)
    if finals:
        events.publish(events.ExtractionCommitted(form.review_id, frozenset(finals)))
    return changed


# --- dual extraction: consensus --------------------------------------------------------------


def consensus_allowed(*, form: ExtractionForm, study: Study, membership: Any) -> None:
    """Blindness: an extractor sees the other's answers only once both are complete; the lead
    and arbiters may look at any time."""
    if not form.is_dual:
        raise DomainError("This form uses single extraction; there is nothing to compare.")
    independent = list(
        Extraction.objects.filter(form=form, study=study, kind=Extraction.Kind.INDEPENDENT)
    )
    if len(independent) < 2:
        raise DomainError(
            f"{study.label}: {len(independent)} of 2 extractions saved; "
            "the comparison opens when both are in."
        )
    if membership.is_lead or membership.is_arbiter:
        return
    if any(e.status != Extraction.Status.COMPLETE for e in independent):
        raise DomainError(
            "Extraction is blind until both extractors mark their extraction complete."
        )


@transaction.atomic
def consensus_build(
    *,
    form: ExtractionForm,
    study: Study,
    user: Any,
    membership: Any,
    choices: Mapping[str, str],
    edits: Mapping[str, Any] | None = None,
    expected_version: int,
    complete: bool = True,
) -> Extraction:
    """The consensus record from the two independent extractions: agreed answers as they are,
    each difference resolved by taking one side (`choices[key]` = "first" / "second") or by a
    typed value (`edits[key]`). Arms use the key "arms"; an outcome row uses the key
    "outcome:<outcome id>|<timepoint>|<arm>". Unresolved differences save nothing."""
    consensus_allowed(form=form, study=study, membership=membership)
    comparison = selectors.extraction_comparison(form=form, study=study)
    first, second = comparison.first, comparison.second
    assert first is not None and second is not None
    derived = {f.key for f in comparison.fields if f.field_type == FieldType.DERIVED}
    active = [
        f.key for f in comparison.fields if f.removed_in_version is None and f.key not in derived
    ]
    a = {k: first.answers.get(k) for k in active}
    b = {k: second.answers.get(k) for k in active}
    edits = dict(edits or {})
    rows_a = {selectors.row_key(r): selectors.outcome_row_dict(r) for r in first.outcome_data.all()}
    rows_b = {
        selectors.row_key(r): selectors.outcome_row_dict(r) for r in second.outcome_data.all()
    }
    unresolved: list[str] = []

    def build(one: Mapping[str, Any], two: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        try:
            return consensus.build_consensus(one, two, choices=choices, **kwargs)
        except consensus.UnresolvedError as exc:
            unresolved.extend(exc.keys)
            return {}

    answers = build(a, b, edits={k: v for k, v in edits.items() if k in a}, keys=active)
    arms = build({"arms": first.arms}, {"arms": second.arms}, keys=["arms"]).get("arms", [])
    rows = build(rows_a, rows_b)
    if unresolved:
        labels = {f.key: f.label for f in comparison.fields}
        labels.update(
            {r.key: f"{r.outcome}, {r.timepoint}, {r.arm or 'contrast'}" for r in comparison.rows}
        )
        labels["arms"] = "the arms"
        raise ValidationFailed(
            {k: [f"Choose a side or type a value for {labels.get(k, k)}."] for k in unresolved}
        )
    return extraction_save(
        form=form,
        study=study,
        user=user,
        data=ExtractionInput(
            answers=answers, arms=arms, outcomes=list(rows.values()), complete=complete
        ),
        expected_version=expected_version,
        kind=Extraction.Kind.CONSENSUS,
    )
