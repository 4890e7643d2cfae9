"""Reads on extraction: form structure, records, comparisons and the rows analyses consume."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet

from extraction import consensus, plausibility
from extraction.models import (
    Extraction,
    ExtractionForm,
    FieldType,
    FormField,
    FormSection,
    Outcome,
    OutcomeData,
)
from extraction.validation import SINGLE_ROW_TYPES
from reviewapp.models import Review
from screening import selectors as screening_selectors
from screening.models import Study

SCHEMA_FORMAT = "reviewapp-extraction-form"
# Study-level answers offered to analyses as subgroup / meta-regression variables.
VARIABLE_TYPES = {
    FieldType.DERIVED,
    FieldType.SINGLE_CHOICE,
    FieldType.YES_NO_UNCLEAR,
    FieldType.INTEGER,
    FieldType.DECIMAL,
    FieldType.MULTIPLE_CHOICE,
    FieldType.SHORT_TEXT,
}


def included_studies_qs(*, review: Review) -> QuerySet[Study]:
    return screening_selectors.included_studies(review=review)


def forms(*, review: Review) -> QuerySet[ExtractionForm]:
    return ExtractionForm.objects.filter(review=review)


def form_fields(*, form: ExtractionForm) -> list[FormField]:
    """All fields, removed ones included (their answers stay readable), in form order."""
    return list(
        FormField.objects.filter(form=form)
        .select_related("section")
        .order_by("section__position", "section_id", "position", "id")
    )


@dataclass
class SectionView:
    section: FormSection
    fields: list[FormField]


def form_layout(*, form: ExtractionForm) -> tuple[list[SectionView], list[FormField]]:
    """Active sections with their active fields, and the removed fields apart."""
    fields = form_fields(form=form)
    sections = [
        SectionView(s, [f for f in fields if f.section_id == s.pk and f.removed_in_version is None])
        for s in form.sections.filter(removed_in_version__isnull=True)
    ]
    removed = [f for f in fields if f.removed_in_version is not None]
    return sections, removed


def _field_schema(f: FormField) -> dict[str, Any]:
    data: dict[str, Any] = {"key": f.key, "label": f.label, "type": f.field_type}
    if f.help_text:
        data["help_text"] = f.help_text
    if f.required:
        data["required"] = True
    if f.min_value is not None:
        data["min"] = float(f.min_value)
    if f.max_value is not None:
        data["max"] = float(f.max_value)
    if f.unit:
        data["unit"] = f.unit
    if f.choices:
        data["choices"] = list(f.choices)
    if f.columns:
        data["columns"] = list(f.columns)
    if f.rule:
        data["rule"] = f.rule
    return data


def form_schema(*, form: ExtractionForm) -> dict[str, Any]:
    """The form as JSON: what export writes, import reads and each version snapshots."""
    sections, _removed = form_layout(form=form)
    return {
        "format": SCHEMA_FORMAT,
        "format_version": 1,
        "name": form.name,
        "description": form.description,
        "mode": form.mode,
        "collects_outcomes": form.collects_outcomes,
        "version": form.version,
        "sections": [
            {
                "title": s.section.title,
                **({"help_text": s.section.help_text} if s.section.help_text else {}),
                "fields": [_field_schema(f) for f in s.fields],
            }
            for s in sections
        ],
    }


# --- records -------------------------------------------------------------------------------


def extraction_for(
    *, form: ExtractionForm, study: Study, user: Any, consensus_record: bool = False
) -> Extraction | None:
    """The record this user edits: the shared one (single), their own blind one (dual), or
    the consensus record."""
    qs = Extraction.objects.filter(form=form, study=study).select_related("updated_by")
    if consensus_record:
        return qs.filter(kind=Extraction.Kind.CONSENSUS).first()
    if form.is_dual:
        return qs.filter(kind=Extraction.Kind.INDEPENDENT, extractor=user).first()
    return qs.filter(kind=Extraction.Kind.SINGLE).first()


def visible_extractions(*, review: Review, user: Any, membership: Any) -> QuerySet[Extraction]:
    """What a member may read: final records, their own blind ones, and (lead, arbiter) all."""
    from django.db.models import Q

    qs = Extraction.objects.filter(form__review=review).select_related(
        "study", "form", "extractor", "updated_by"
    )
    if membership.is_lead or membership.is_arbiter:
        return qs
    return qs.filter(~Q(kind=Extraction.Kind.INDEPENDENT) | Q(extractor=user))


def row_key(row: OutcomeData) -> str:
    return f"outcome:{row.outcome_id}|{row.timepoint.lower()}|{row.arm.lower()}"


def extraction_warnings(
    *, extraction: Extraction, fields: list[FormField] | None = None
) -> list[plausibility.Finding]:
    """Plausibility warnings for a stored extraction (never refusals), keyed like errors."""
    if fields is None:
        fields = form_fields(form=extraction.form)
    rows = [outcome_row_dict(r) for r in extraction.outcome_data.all()]
    outcomes = {o.pk: o for o in Outcome.objects.filter(review_id=extraction.form.review_id)}
    return plausibility.check(
        fields=fields,
        answers=extraction.answers,
        arms=extraction.arms,
        rows=rows,
        outcomes=outcomes,
    )


def outcome_row_dict(row: OutcomeData) -> dict[str, Any]:
    """A stored row in the shape a save takes, so it can be compared and saved back."""
    data: dict[str, Any] = {
        "outcome": row.outcome_id,
        "timepoint": row.timepoint,
        "timepoint_weeks": None if row.timepoint_weeks is None else float(row.timepoint_weeks),
        "arm": row.arm,
    }
    for measure in ROW_NUMBERS:
        data[measure] = getattr(row, measure)
    if row.conversion:
        data["conversion"] = {"method": row.conversion, "inputs": dict(row.conversion_inputs)}
    if row.notes:
        data["notes"] = row.notes
    return data


@dataclass
class StudyStatus:
    study: Study
    mine: Extraction | None = None
    independent: int = 0
    independent_complete: int = 0
    final: Extraction | None = None

    @property
    def state(self) -> str:
        if self.final is not None:
            return self.final.get_status_display()
        return "Not started"


def extraction_overview(*, form: ExtractionForm, user: Any) -> list[StudyStatus]:
    studies = list(included_studies_qs(review=form.review))
    by_study = {s.pk: StudyStatus(s) for s in studies}
    for e in Extraction.objects.filter(form=form, study_id__in=by_study).only(
        "id", "study_id", "kind", "extractor_id", "status", "version", "updated_at"
    ):
        status = by_study[e.study_id]
        if e.kind == Extraction.Kind.INDEPENDENT:
            status.independent += 1
            status.independent_complete += e.status == Extraction.Status.COMPLETE
            if e.extractor_id == user.pk:
                status.mine = e
        else:
            status.final = e
            if not form.is_dual:
                status.mine = e
    return list(by_study.values())


# --- comparison ----------------------------------------------------------------------------


@dataclass
class FieldComparison:
    field: FormField
    first: Any
    second: Any
    agree: bool
    consensus: Any = None


@dataclass
class RowComparison:
    key: str
    outcome: str
    timepoint: str
    arm: str
    first: dict[str, Any] | None
    second: dict[str, Any] | None
    agree: bool
    differing: list[str] = field(default_factory=list)
    consensus: dict[str, Any] | None = None


@dataclass
class ExtractionComparison:
    form: ExtractionForm
    study: Study
    fields: list[FormField]
    first: Extraction | None
    second: Extraction | None
    consensus: Extraction | None
    items: list[FieldComparison]
    arms_agree: bool
    rows: list[RowComparison]

    @property
    def differences(self) -> int:
        # A derived field follows from the others: resolving those resolves it.
        return (
            sum(not i.agree for i in self.items if i.field.field_type != FieldType.DERIVED)
            + sum(not r.agree for r in self.rows)
            + (not self.arms_agree)
        )


# The numbers an outcome row can carry, in the order they are shown and compared.
ROW_NUMBERS = (
    "mean", "sd", "n", "events", "total", "estimate", "ci_lower", "ci_upper", "se", "r",
    "person_time", "mean_pre", "sd_pre",
)  # fmt: skip
ROW_MEASURES = ("timepoint_weeks", *ROW_NUMBERS, "conversion")


def extraction_comparison(*, form: ExtractionForm, study: Study) -> ExtractionComparison:
    records = list(
        Extraction.objects.filter(form=form, study=study)
        .select_related("extractor", "updated_by")
        .prefetch_related(
            Prefetch("outcome_data", queryset=OutcomeData.objects.select_related("outcome"))
        )
        .order_by("extractor__username", "id")
    )
    independent = [r for r in records if r.kind == Extraction.Kind.INDEPENDENT]
    first = independent[0] if independent else None
    second = independent[1] if len(independent) > 1 else None
    final = next((r for r in records if r.kind == Extraction.Kind.CONSENSUS), None)
    fields = form_fields(form=form)
    a = first.answers if first else {}
    b = second.answers if second else {}
    c = final.answers if final else {}
    items = [
        FieldComparison(
            f, a.get(f.key), b.get(f.key), consensus.agree(a.get(f.key), b.get(f.key)), c.get(f.key)
        )
        for f in fields
        if f.removed_in_version is None or f.key in a or f.key in b
    ]
    rows_by: dict[str, dict[str, Any]] = {}
    for label, record in (("first", first), ("second", second), ("consensus", final)):
        for row in record.outcome_data.all() if record else []:
            entry = rows_by.setdefault(
                row_key(row),
                {
                    "outcome": row.outcome,
                    "timepoint": row.timepoint,
                    "arm": row.arm,
                    "weeks": row.timepoint_weeks,
                },
            )
            entry[label] = outcome_row_dict(row)
    rows: list[RowComparison] = []
    for key, entry in sorted(
        rows_by.items(),
        key=lambda kv: (
            kv[1]["outcome"].position,
            kv[1]["outcome"].pk,
            kv[1]["weeks"] or 0,
            kv[1]["timepoint"],
            kv[1]["arm"],
        ),
    ):
        one, two = entry.get("first"), entry.get("second")
        differing = [
            m for m in ROW_MEASURES if not consensus.agree((one or {}).get(m), (two or {}).get(m))
        ]
        rows.append(
            RowComparison(
                key=key,
                outcome=entry["outcome"].name,
                timepoint=entry["timepoint"],
                arm=entry["arm"],
                first=one,
                second=two,
                agree=one is not None and two is not None and not differing,
                differing=differing,
                consensus=entry.get("consensus"),
            )
        )
    return ExtractionComparison(
        form=form,
        study=study,
        fields=fields,
        first=first,
        second=second,
        consensus=final,
        items=items,
        arms_agree=consensus.agree(first.arms if first else [], second.arms if second else []),
        rows=rows,
    )


# --- what analyses consume -----------------------------------------------------------------


@dataclass(frozen=True)
class ArmData:
    label: str
    role: str
    mean: float | None = None
    sd: float | None = None
    n: int | None = None
    events: int | None = None
    total: int | None = None
    person_time: float | None = None
    conversion: str = ""


@dataclass(frozen=True)
class AnalysisRow:
    """One study's data for one outcome, from consensus (dual) or the single extraction.

    `arms` lists every arm at the chosen timepoint; `intervention` and `control` are the first
    arm of each role. `missing` says why the study cannot enter the analysis (None when it can).
    `variables` holds the study-level answers (derived categories, choices, numbers) that can
    serve as subgroup or meta-regression variables, by field key.
    """

    study_id: int
    study_label: str
    outcome_id: int
    outcome_type: str
    timepoint: str | None = None
    timepoint_weeks: float | None = None
    arms: tuple[ArmData, ...] = ()
    estimate: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    se: float | None = None
    # Single-group outcomes (proportions, correlations): the whole sample's numbers.
    events: int | None = None
    total: int | None = None
    r: float | None = None
    n: int | None = None
    person_time: float | None = None
    # Paired (pre-post) outcomes: follow-up and baseline means and SDs (with `n` and `r`).
    mean: float | None = None
    sd: float | None = None
    mean_pre: float | None = None
    sd_pre: float | None = None
    conversions: tuple[str, ...] = ()
    variables: dict[str, Any] = field(default_factory=dict)
    missing: str | None = None

    @property
    def usable(self) -> bool:
        return self.missing is None

    @property
    def intervention(self) -> ArmData | None:
        return next((a for a in self.arms if a.role == "intervention"), None)

    @property
    def control(self) -> ArmData | None:
        return next((a for a in self.arms if a.role == "control"), None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["arms"] = [asdict(a) for a in self.arms]
        return data


def _final_extractions(
    review: Review, outcome: Outcome | None = None
) -> dict[int, list[Extraction]]:
    """Per study, the records that feed analyses (single, or consensus for dual forms)."""
    rows = OutcomeData.objects.all()
    if outcome is not None:
        rows = rows.filter(outcome=outcome)
    finals = (
        Extraction.objects.filter(
            form__review=review, kind__in=[Extraction.Kind.SINGLE, Extraction.Kind.CONSENSUS]
        )
        .select_related("form")
        .prefetch_related(Prefetch("outcome_data", queryset=rows))
        .order_by("form__position", "form_id")
    )
    by_study: dict[int, list[Extraction]] = {}
    for e in finals:
        if (e.kind == Extraction.Kind.CONSENSUS) == e.form.is_dual:
            by_study.setdefault(e.study_id, []).append(e)
    return by_study


def study_variable_fields(*, review: Review) -> dict[str, str]:
    """Field key -> label of the study-level fields analyses may group or regress on."""
    fields = FormField.objects.filter(
        form__review=review, removed_in_version__isnull=True, field_type__in=VARIABLE_TYPES
    ).order_by("form__position", "form_id", "section__position", "position", "id")
    out: dict[str, str] = {}
    for key, label in fields.values_list("key", "label"):
        out.setdefault(key, label)
    return out


def study_variables(*, review: Review) -> dict[int, dict[str, Any]]:
    """Study id -> {field key: answer} from the final records of every form."""
    kinds = {
        f.key: f.field_type
        for f in FormField.objects.filter(form__review=review, removed_in_version__isnull=True)
    }
    out: dict[int, dict[str, Any]] = {}
    for study_id, records in _final_extractions(review).items():
        values: dict[str, Any] = {}
        for record in records:
            for key, value in record.answers.items():
                if kinds.get(key) in VARIABLE_TYPES and key not in values:
                    values[key] = value
        out[study_id] = values
    return out


def _choose_timepoint(
    outcome: Outcome, rows: list[OutcomeData]
) -> tuple[list[OutcomeData], str | None]:
    if outcome.timepoint_rule == Outcome.TimepointRule.NAMED:
        wanted = outcome.timepoint_name.strip().lower()
        chosen = [r for r in rows if r.timepoint.lower() == wanted]
        return chosen, None if chosen else f"not reported at {outcome.timepoint_name}"
    timepoints: dict[str, list[OutcomeData]] = {}
    for r in rows:
        timepoints.setdefault(r.timepoint.lower(), []).append(r)
    if len(timepoints) == 1:
        return rows, None
    weeks = {
        tp: max(
            (float(r.timepoint_weeks) for r in rs if r.timepoint_weeks is not None), default=None
        )
        for tp, rs in timepoints.items()
    }
    if any(w is None for w in weeks.values()):
        unknown = sorted(rs[0].timepoint for tp, rs in timepoints.items() if weeks[tp] is None)
        return (
            [],
            f"several timepoints; give the follow-up in weeks for {', '.join(unknown)} "
            "to find the longest",
        )
    longest = max(weeks, key=lambda tp: weeks[tp] or 0)
    return timepoints[longest], None


def _missing_measures(
    outcome_type: str, arms: list[ArmData], generic: OutcomeData | None
) -> str | None:
    if outcome_type == Outcome.Type.PROPORTION:
        if generic is None or generic.events is None:
            return "no event count reported"
        return "no total reported" if generic.total is None else None
    if outcome_type == Outcome.Type.SINGLE_RATE:
        if generic is None or generic.events is None:
            return "no event count reported"
        return "no person-time reported" if generic.person_time is None else None
    if outcome_type == Outcome.Type.PAIRED:
        # The follow-up SD is left to the analysis: SMCR (baseline SD) does without it.
        for attr, message in (
            ("mean_pre", "no baseline mean reported"), ("sd_pre", "no baseline SD reported"),
            ("mean", "no follow-up mean reported"), ("n", "no n reported"),
        ):  # fmt: skip
            if generic is None or getattr(generic, attr) is None:
                return message
        return None
    if outcome_type == Outcome.Type.MEAN:
        for attr, message in (
            ("mean", "no mean reported"), ("sd", "no SD reported"), ("n", "no n reported"),
        ):  # fmt: skip
            if generic is None or getattr(generic, attr) is None:
                return message
        return None
    if outcome_type == Outcome.Type.CORRELATION:
        if generic is None or generic.r is None:
            return "no correlation reported"
        return "no n reported" if generic.n is None else None
    if outcome_type == Outcome.Type.GENERIC:
        if generic is None or generic.estimate is None:
            return "no estimate reported"
        if generic.se is None and (generic.ci_lower is None or generic.ci_upper is None):
            return "no SE or CI reported"
        return None
    roles = {a.role: a for a in reversed(arms)}
    for role in ("intervention", "control"):
        if role not in roles:
            return f"no {role} arm with data"
    for role in ("intervention", "control"):
        arm = roles[role]
        needed = (
            (("mean", "no mean reported"), ("sd", "no SD reported"), ("n", "no n reported"))
            if outcome_type == Outcome.Type.CONTINUOUS
            else (("events", "no events reported"), ("person_time", "no person-time reported"))
            if outcome_type == Outcome.Type.RATE
            else (("events", "no events reported"), ("total", "no total reported"))
        )
        for attr, message in needed:
            if getattr(arm, attr) is None:
                return f"{message} ({arm.label})"
    return None


def _single_group_values(outcome: Outcome, row: OutcomeData | None) -> dict[str, Any]:
    if row is None or outcome.outcome_type not in (
        Outcome.Type.PROPORTION,
        Outcome.Type.CORRELATION,
        Outcome.Type.SINGLE_RATE,
        Outcome.Type.PAIRED,
        Outcome.Type.MEAN,
    ):
        return {}
    return {"events": row.events, "total": row.total, "r": row.r, "n": row.n,
            "person_time": row.person_time, "mean": row.mean, "sd": row.sd,
            "mean_pre": row.mean_pre, "sd_pre": row.sd_pre}  # fmt: skip


def _row_at(
    outcome: Outcome, base: dict[str, Any], record: Extraction, chosen: list[OutcomeData]
) -> AnalysisRow:
    """The study's row from its outcome data at one timepoint."""
    roles = {a["label"].lower(): a["role"] for a in record.arms}
    arms = [
        ArmData(
            label=r.arm,
            role=roles.get(r.arm.lower(), "other"),
            mean=r.mean,
            sd=r.sd,
            n=r.n,
            events=r.events,
            total=r.total,
            person_time=r.person_time,
            conversion=r.conversion,
        )
        for r in chosen
        if r.arm
    ]
    generic = next((r for r in chosen if not r.arm), None)
    if outcome.outcome_type in SINGLE_ROW_TYPES and generic is None and chosen:
        generic = chosen[0]
    return AnalysisRow(
        **base,
        timepoint=chosen[0].timepoint,
        timepoint_weeks=None
        if chosen[0].timepoint_weeks is None
        else float(chosen[0].timepoint_weeks),
        arms=tuple(arms),
        estimate=generic.estimate if generic else None,
        ci_lower=generic.ci_lower if generic else None,
        ci_upper=generic.ci_upper if generic else None,
        se=generic.se if generic else None,
        **_single_group_values(outcome, generic),
        conversions=tuple(sorted({r.conversion for r in chosen if r.conversion})),
        missing=_missing_measures(outcome.outcome_type, arms, generic),
    )


def analysis_rows(*, outcome: Outcome, every_timepoint: bool = False) -> list[AnalysisRow]:
    """Per included study, its arm-level data for this outcome from the consensus (dual) or
    single extraction, at the timepoint the outcome's rule picks, or the reason it is missing.
    With `every_timepoint`, one row per timepoint the study reports instead (several dependent
    effect sizes per study, for the three-level model)."""
    review = outcome.review
    studies = list(included_studies_qs(review=review))
    finals = _final_extractions(review, outcome)
    variables = study_variables(review=review)
    dual_forms = ExtractionForm.objects.filter(
        review=review, collects_outcomes=True, mode=ExtractionForm.Mode.DUAL
    ).exists()
    started = set(
        Extraction.objects.filter(
            form__review=review, kind=Extraction.Kind.INDEPENDENT
        ).values_list("study_id", flat=True)
    )
    result: list[AnalysisRow] = []
    for study in studies:
        base: dict[str, Any] = {
            "study_id": study.pk,
            "study_label": study.label,
            "outcome_id": outcome.pk,
            "outcome_type": outcome.outcome_type,
            "variables": variables.get(study.pk, {}),
        }
        records = [e for e in finals.get(study.pk, []) if e.form.collects_outcomes]
        if not records:
            waiting = dual_forms and study.pk in started
            result.append(
                AnalysisRow(
                    **base, missing="consensus not built yet" if waiting else "not extracted yet"
                )
            )
            continue
        record = records[0]
        data = list(record.outcome_data.all())
        if not data:
            result.append(AnalysisRow(**base, missing="outcome not reported"))
            continue
        if every_timepoint:
            # Dependent effect sizes (three-level model): every timepoint, in follow-up order.
            by_tp: dict[str, list[OutcomeData]] = {}
            for r in data:
                by_tp.setdefault(r.timepoint.lower(), []).append(r)
            for rows_at in by_tp.values():
                result.append(_row_at(outcome, base, record, rows_at))
            continue
        chosen, reason = _choose_timepoint(outcome, data)
        if reason:
            result.append(AnalysisRow(**base, missing=reason))
            continue
        result.append(_row_at(outcome, base, record, chosen))
    return result


def outcomes(*, review: Review) -> QuerySet[Outcome]:
    return Outcome.objects.filter(review=review)


@dataclass
class HistoryEntry:
    record: Extraction
    when: Any
    who: str
    version: int | None
    status: str
    changes: list[tuple[str, Any, Any]]


def extraction_history(*, records: list[Extraction]) -> list[HistoryEntry]:
    """Every saved version of these records, newest first, with the answers that changed and
    the outcome-data changes made with it."""
    labels = {}
    if records:
        labels = {f.key: f.label for f in FormField.objects.filter(form_id=records[0].form_id)}
    by_id = {r.pk: r for r in records}
    entries: list[HistoryEntry] = []
    rows = (
        Extraction.history.filter(id__in=by_id)
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )
    previous: dict[int, Any] = {}
    for h in rows:
        before = previous.get(h.id)
        changes: list[tuple[str, Any, Any]] = []
        old_answers = before.answers if before is not None else {}
        for key in dict.fromkeys([*old_answers, *h.answers]):
            if not consensus.agree(old_answers.get(key), h.answers.get(key)):
                changes.append((labels.get(key, key), old_answers.get(key), h.answers.get(key)))
        if (before is None or before.arms != h.arms) and h.arms:
            changes.append(("Arms", before.arms if before else None, h.arms))
        if before is not None and before.status != h.status:
            changes.append(("Status", before.status, h.status))
        entries.append(
            HistoryEntry(
                record=by_id[h.id],
                when=h.history_date,
                who=h.history_user.get_username() if h.history_user else "system",
                version=h.version,
                status=h.get_status_display(),
                changes=changes,
            )
        )
        previous[h.id] = h
    data = (
        OutcomeData.history.filter(extraction_id__in=by_id)
        .select_related("history_user", "outcome")
        .order_by("history_date")
    )
    actions = {"+": "added", "~": "changed", "-": "deleted"}
    for d in data:
        label = (
            f"{d.outcome.name if d.outcome else 'outcome'} · {d.timepoint} · {d.arm or 'contrast'}"
        )
        values = ", ".join(
            f"{m}={getattr(d, m):g}" if isinstance(getattr(d, m), float) else f"{m}={getattr(d, m)}"
            for m in ROW_NUMBERS
            if getattr(d, m) is not None
        )
        entries.append(
            HistoryEntry(
                record=by_id[d.extraction_id],
                when=d.history_date,
                who=d.history_user.get_username() if d.history_user else "system",
                version=None,
                status="",
                changes=[
                    (
                        f"Outcome data {actions.get(d.history_type, '')}: {label}",
                        None,
                        values + (f" ({d.conversion})" if d.conversion else ""),
                    )
                ],
            )
        )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


def extraction_progress(*, review: Review) -> dict[str, int]:
    """Counts for the dashboard, over every form and included study."""
    studies = list(included_studies_qs(review=review).values_list("pk", flat=True))
    counts = {
        "included studies": len(studies),
        "complete": 0,
        "in progress": 0,
        "awaiting consensus": 0,
        "not started": 0,
    }
    forms_ = list(forms(review=review))
    if not forms_:
        return counts
    records = Extraction.objects.filter(form__review=review, study_id__in=studies).values_list(
        "form_id", "study_id", "kind", "status"
    )
    by_pair: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for form_id, study_id, kind, status in records:
        by_pair.setdefault((form_id, study_id), []).append((kind, status))
    for form in forms_:
        for study_id in studies:
            held = by_pair.get((form.pk, study_id), [])
            final = [s for k, s in held if k != Extraction.Kind.INDEPENDENT]
            independent = [s for k, s in held if k == Extraction.Kind.INDEPENDENT]
            if final:
                key = "complete" if final[0] == Extraction.Status.COMPLETE else "in progress"
            elif form.is_dual and len(independent) == 2:
                key = "awaiting consensus"
            elif independent:
                key = "in progress"
            else:
                key = "not started"
            counts[key] += 1
    return counts
