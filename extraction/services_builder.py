"""The form builder's block actions: reorder by a whole new order (drag, keyboard), duplicate a
field or section, bring a removed section back (undo), add a template block, copy a form or a
section from another review.

Every block is added through `services.field_add`, so a copied or templated field is checked
exactly as a typed one, and any refusal leaves nothing behind (one transaction). Keys are never
reused: a copy whose key is taken on this form gets the first free `key_2`, `key_3` ..., and a
derived field's rule is rewritten to read the copies of its own block's fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from simple_history.utils import bulk_update_with_history

from extraction import rules, selectors, services
from extraction.models import ExtractionForm, FieldType, FormField, FormSection
from reviewapp.errors import DomainError
from reviewapp.models import Review

# --- templates -----------------------------------------------------------------------------

ORG_SUPPORT_RULE = (
    'if count_yes(peer_training, peer_supervision, peer_integrated) >= 2 then "higher" else "lower"'
)

# Each template is one section in the JSON shape of the form export (selectors.form_schema).
TEMPLATES: dict[str, dict[str, Any]] = {
    "study_characteristics": {
        "title": "Study characteristics",
        "label": "Study characteristics (design, country, setting, participants, follow-up)",
        "fields": [
            {
                "key": "design",
                "label": "Design",
                "type": "single_choice",
                "required": True,
                "choices": [
                    "Individually randomised",
                    "Cluster randomised",
                    "Crossover",
                    "Non-randomised",
                ],
            },
            {"key": "country", "label": "Country", "type": "short_text"},
            {"key": "setting", "label": "Setting", "type": "short_text"},
            {
                "key": "n_randomised",
                "label": "Participants randomised",
                "type": "integer",
                "min": 1,
                "unit": "people",
            },
            {"key": "mean_age", "label": "Mean age", "type": "decimal", "min": 0, "unit": "years"},
            {
                "key": "percent_female",
                "label": "Women",
                "type": "decimal",
                "min": 0,
                "max": 100,
                "unit": "%",
            },
            {
                "key": "follow_up_weeks",
                "label": "Longest follow-up",
                "type": "decimal",
                "min": 0,
                "unit": "weeks",
            },
            {"key": "funding", "label": "Funding source", "type": "short_text"},
        ],
    },
    "continuous_outcome": {
        "title": "Continuous outcome (per arm)",
        "label": "Arm-level continuous outcome (mean, SD, n per arm)",
        "fields": [
            {"key": "outcome_name", "label": "Outcome", "type": "short_text", "required": True},
            {"key": "instrument", "label": "Instrument or scale", "type": "short_text"},
            {"key": "timepoint", "label": "Timepoint", "type": "short_text"},
            {
                "key": "continuous_arms",
                "label": "Results per arm",
                "type": "table",
                "columns": [
                    {"key": "arm", "label": "Arm", "type": "short_text", "required": True},
                    {"key": "mean", "label": "Mean", "type": "decimal"},
                    {"key": "sd", "label": "SD", "type": "decimal", "min": 0},
                    {"key": "n", "label": "n analysed", "type": "integer", "min": 0},
                ],
            },
        ],
    },
    "dichotomous_outcome": {
        "title": "Dichotomous outcome (per arm)",
        "label": "Arm-level dichotomous outcome (events, total per arm)",
        "fields": [
            {"key": "outcome_name", "label": "Outcome", "type": "short_text", "required": True},
            {"key": "timepoint", "label": "Timepoint", "type": "short_text"},
            {
                "key": "dichotomous_arms",
                "label": "Results per arm",
                "type": "table",
                "columns": [
                    {"key": "arm", "label": "Arm", "type": "short_text", "required": True},
                    {"key": "events", "label": "Events", "type": "integer", "min": 0},
                    {"key": "total", "label": "Total", "type": "integer", "min": 0},
                ],
            },
        ],
    },
    "organisational_support": {
        "title": "Organisational support for peer workers",
        "label": "Organisational support: three indicators and the derived level",
        "help_text": 'A study is "higher" when it meets at least two of the three indicators.',
        "fields": [
            {"key": "peer_training", "label": "Training provided", "type": "yes_no_unclear"},
            {"key": "peer_supervision", "label": "Supervision provided", "type": "yes_no_unclear"},
            {
                "key": "peer_integrated",
                "label": "Peer workers integrated in the service",
                "type": "yes_no_unclear",
            },
            {
                "key": "org_support",
                "label": "Level of organisational support",
                "type": "derived",
                "choices": ["higher", "lower"],
                "rule": ORG_SUPPORT_RULE,
            },
        ],
    },
}


def template_choices() -> list[tuple[str, str]]:
    return [(name, str(t["label"])) for name, t in TEMPLATES.items()]


# --- helpers -------------------------------------------------------------------------------


def _free_key(key: str, taken: set[str]) -> str:
    if key not in taken:
        return key
    stem = key[:55]
    n = 2
    while f"{stem}_{n}" in taken:
        n += 1
    return f"{stem}_{n}"


def _renumber(items: Sequence[Any]) -> None:
    """Numbers `items` (fields or sections) 1, 2, 3... in two statements, whatever their count:
    one UPDATE of the positions that changed, one INSERT of their history rows."""
    changed = []
    for position, item in enumerate(items, start=1):
        if item.position != position:
            item.position = position
            changed.append(item)
    if changed:
        bulk_update_with_history(changed, type(changed[0]), ["position"])


def _active_sections(form_id: int) -> QuerySet[FormSection]:
    return FormSection.objects.select_for_update().filter(
        form_id=form_id, removed_in_version__isnull=True
    )


def _place_after(section: FormSection, anchor: FormSection) -> None:
    ordered = [s for s in _active_sections(section.form_id) if s.pk != section.pk]
    index = next(i for i, s in enumerate(ordered) if s.pk == anchor.pk)
    ordered.insert(index + 1, section)
    _renumber(ordered)


def field_input(data: Mapping[str, Any], *, field_type: str | None = None) -> services.FieldInput:
    """A field as the builder page's form and the API name its inputs (`field_type`,
    `min_value` ...); `field_type` wins over the data's (an edit keeps the field's type)."""
    return services.FieldInput(
        label=data["label"],
        field_type=field_type or data.get("field_type") or FieldType.SHORT_TEXT,
        key=data.get("key", ""),
        help_text=data.get("help_text", ""),
        required=data.get("required", False),
        min_value=data.get("min_value"),
        max_value=data.get("max_value"),
        unit=data.get("unit", ""),
        choices=data.get("choices") or [],
        columns=data.get("columns") or [],
        rule=data.get("rule", ""),
    )


def _add_block(
    *,
    form: ExtractionForm,
    title: str,
    fields: Sequence[Mapping[str, Any]],
    user: Any,
    help_text: str = "",
    after: FormSection | None = None,
) -> FormSection:
    """A new section holding `fields` (export JSON), with fresh keys where a key is taken."""
    section = services.section_add(form=form, title=title, help_text=help_text, user=user)
    taken = set(FormField.objects.filter(form_id=form.pk).values_list("key", flat=True))
    olds = [str(d.get("key") or "") or services._slug(str(d.get("label") or "")) for d in fields]
    renames: dict[str, str] = {}
    for old in olds:
        renames[old] = _free_key(old, taken)
        taken.add(renames[old])
    # Derived fields last: their rules may read the block's other fields.
    pairs = sorted(zip(olds, fields, strict=True), key=lambda p: p[1].get("type") == "derived")
    for old, data in pairs:
        try:
            rule = rules.rename_fields(str(data.get("rule") or ""), renames)
            services.field_add(
                section=section,
                data=services.FieldInput.from_schema(data, key=renames[old], rule=rule),
                user=user,
            )
        except (DomainError, rules.RuleError) as exc:
            message = exc.message if isinstance(exc, DomainError) else str(exc)
            raise DomainError(
                f"Nothing was added. Field '{data.get('label') or old}': {message}"
            ) from exc
    by_key = {f.key: f for f in section.fields.all()}
    _renumber([by_key[renames[old]] for old in olds])
    if after is not None:
        _place_after(section, after)
    return section


def _section_fields(section: FormSection) -> list[dict[str, Any]]:
    return [
        selectors.field_schema(f) for f in section.fields.filter(removed_in_version__isnull=True)
    ]


# --- reorder -------------------------------------------------------------------------------


def _ordered(items: Sequence[Any], order: Sequence[int], what: str) -> list[Any]:
    by_pk = {item.pk: item for item in items}
    wanted = [int(pk) for pk in order]
    if sorted(wanted) != sorted(by_pk):
        raise DomainError(
            f"The new order must list each {what} once; the page may be out of date: reload it.",
            field="order",
        )
    return [by_pk[pk] for pk in wanted]


@transaction.atomic
def field_reorder(*, section: FormSection, order: Sequence[int], user: Any) -> None:
    """Puts the section's fields in `order` (their ids, every active field once)."""
    form = ExtractionForm.objects.select_for_update().get(pk=section.form_id)
    siblings = FormField.objects.select_for_update().filter(
        section_id=section.pk, removed_in_version__isnull=True
    )
    _renumber(_ordered(list(siblings), order, "field of the section"))
    services._bump(form, user)


@transaction.atomic
def section_reorder(*, form: ExtractionForm, order: Sequence[int], user: Any) -> None:
    """Puts the form's sections in `order` (their ids, every active section once)."""
    locked = ExtractionForm.objects.select_for_update().get(pk=form.pk)
    _renumber(_ordered(list(_active_sections(form.pk)), order, "section of the form"))
    services._bump(locked, user)
    form.version = locked.version


# --- move a field to another section ------------------------------------------------------


@dataclass(frozen=True)
class FieldMoved:
    """Where a field went and where it came from, so the move can be undone (moved back)."""

    field: FormField
    from_section: FormSection
    from_position: int
    to_section: FormSection
    to_position: int


def _active_fields(section_id: int) -> list[FormField]:
    return list(
        FormField.objects.select_for_update().filter(
            section_id=section_id, removed_in_version__isnull=True
        )
    )


@transaction.atomic
def field_move_to_section(
    *, field: FormField, section: FormSection, user: Any, position: int | None = None
) -> FieldMoved:
    """Moves an active field into another active section of the same form, at `position`
    (1 is first; None, or past the end, is last). Its key does not change, and answers and
    rules read fields by key, so the answers stay attached and every rule keeps working."""
    form = ExtractionForm.objects.select_for_update().get(pk=field.form_id)
    field = FormField.objects.select_related("section").get(pk=field.pk)
    section = FormSection.objects.get(pk=section.pk)
    if section.form_id != field.form_id:
        raise DomainError(
            f"Section '{section.title}' is on another form; copy the field there instead.",
            field="section",
        )
    if field.removed_in_version is not None:
        raise DomainError(f"'{field.label}' was removed; restore it first.")
    if section.removed_in_version is not None:
        raise DomainError(
            f"Section '{section.title}' was removed; restore it first.", field="section"
        )
    if section.pk == field.section_id:
        raise DomainError(f"'{field.label}' is already in '{section.title}'.", field="section")
    old_section = field.section
    source = _active_fields(old_section.pk)
    from_position = next(i for i, f in enumerate(source, start=1) if f.pk == field.pk)
    target = _active_fields(section.pk)
    index = len(target) if position is None else min(max(position, 1) - 1, len(target))
    target.insert(index, field)
    field.section = section
    field.save(update_fields=["section"])
    _renumber([f for f in source if f.pk != field.pk])
    _renumber(target)
    services._bump(form, user)
    return FieldMoved(field, old_section, from_position, section, index + 1)


# --- duplicate, restore --------------------------------------------------------------------


@transaction.atomic
def field_duplicate(*, field: FormField, user: Any) -> FormField:
    """A copy of the field right below it, with a fresh key and no answers."""
    if field.removed_in_version is not None:
        raise DomainError("This field was removed; restore it first.")
    taken = set(FormField.objects.filter(form_id=field.form_id).values_list("key", flat=True))
    data = selectors.field_schema(field)
    copy = services.field_add(
        section=field.section,
        data=services.FieldInput.from_schema(
            {**data, "label": f"{field.label} (copy)"[:300]},
            key=_free_key(field.key, taken),
            rule=field.rule,
        ),
        user=user,
    )
    siblings = [
        f
        for f in FormField.objects.filter(section_id=field.section_id, removed_in_version=None)
        if f.pk != copy.pk
    ]
    index = next(i for i, f in enumerate(siblings) if f.pk == field.pk)
    siblings.insert(index + 1, copy)
    _renumber(siblings)
    return copy


@transaction.atomic
def section_duplicate(*, section: FormSection, user: Any) -> FormSection:
    """A copy of the section and its fields right below it; a derived field in it reads the
    copies of the section's fields."""
    if section.removed_in_version is not None:
        raise DomainError("This section was removed; restore it first.")
    return _add_block(
        form=section.form,
        title=f"{section.title} (copy)"[:200],
        help_text=section.help_text,
        fields=_section_fields(section),
        user=user,
        after=section,
    )


@transaction.atomic
def section_remove(*, section: FormSection, user: Any) -> int:
    """Removes the section with its fields (`services.section_remove`) and answers how many of
    them had answers, which are kept and come back with an undo."""
    answered = selectors.answered_keys(form=section.form)
    with_answers = section.fields.filter(removed_in_version__isnull=True, key__in=answered)
    count = with_answers.count()
    services.section_remove(section=section, user=user)
    return count


@transaction.atomic
def section_restore(*, section: FormSection, user: Any) -> None:
    """Undoes `section_remove`: the section and the fields removed with it come back where
    they were; their answers were never touched."""
    form = ExtractionForm.objects.select_for_update().get(pk=section.form_id)
    section = FormSection.objects.get(pk=section.pk)
    if section.removed_in_version is None:
        return  # a second click on Undo changes nothing
    section.fields.filter(removed_in_version=section.removed_in_version).update(
        removed_in_version=None
    )
    section.removed_in_version = None
    section.save()
    services._bump(form, user)


# --- templates and copies ------------------------------------------------------------------


@transaction.atomic
def template_add(*, form: ExtractionForm, template: str, user: Any) -> FormSection:
    """Adds a template block as a new section at the end of the form."""
    if template not in TEMPLATES:
        raise DomainError(f"There is no template '{template}'.", field="template")
    block = TEMPLATES[template]
    return _add_block(
        form=form,
        title=block["title"],
        help_text=block.get("help_text", ""),
        fields=block["fields"],
        user=user,
    )


@transaction.atomic
def copy_into(
    *,
    form: ExtractionForm,
    user: Any,
    source_form: ExtractionForm | None = None,
    source_section: FormSection | None = None,
) -> list[FormSection]:
    """Copies another form's sections (or one section) to the end of `form`. The caller has
    checked that the user is a member of the source's review."""
    if source_section is not None:
        if source_section.removed_in_version is not None:
            raise DomainError("That section was removed from its form.", field="source")
        sources = [source_section]
    elif source_form is not None:
        sources = list(source_form.sections.filter(removed_in_version__isnull=True))
        if not sources:
            raise DomainError(f"'{source_form.name}' has no sections to copy.", field="source")
    else:
        raise DomainError("Choose a form or a section to copy.", field="source")
    return [
        _add_block(
            form=form,
            title=s.title,
            help_text=s.help_text,
            fields=_section_fields(s),
            user=user,
        )
        for s in sources
    ]


@transaction.atomic
def form_copy(
    *, review: Review, source: ExtractionForm, user: Any, name: str | None = None
) -> ExtractionForm:
    """A new form in `review` with the structure of `source` (from any review the user is on)."""
    return services.form_import(
        review=review, data=selectors.form_schema(form=source), user=user, name=name
    )
