"""Writes for analyses: definitions, recomputation, result versions, GRADE ratings.

Recomputation. A change to an input bumps `Analysis.change_seq` in the transaction that makes
the change and, once it commits, queues `recompute_analysis_task`. A burst is coalesced by a
"pending" flag in the cache: while a task is queued and not yet started, later changes only
bump the counter (the queued task will read their data). The task clears the flag *before*
it reads anything, so a change committed after that queues a task of its own. The state that
matters lives in the database (`change_seq > computed_seq`), so a task lost with a killed
worker is found again when a worker starts (`analyses_requeue_stale`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from analysis.compute import Spec, compute, input_hash
from analysis.inputs import AnalysisInputs, load_inputs, split_usable
from analysis.models import (
    CONTINUOUS_MEASURES,
    CORRELATION_MEASURES,
    DICHOTOMOUS_MEASURES,
    MEAN_MEASURES,
    MH_MEASURES,
    PAIRED_MEASURES,
    PROPORTION_MEASURES,
    RATE_MEASURES,
    SINGLE_RATE_MEASURES,
    Analysis,
    AnalysisResult,
    GradeRating,
    Inference,
    Measure,
    ModelKind,
    Preset,
)
from extraction.models import Outcome
from extraction.selectors import study_variable_fields
from reviewapp.common.outbox import outbox_enqueue
from reviewapp.errors import DomainError, StaleVersion
from reviewapp.models import Review

logger = logging.getLogger(__name__)

PENDING_TTL = timedelta(minutes=2)

PRESETS: dict[str, dict[str, Any]] = {
    Preset.METAFOR: {
        "model": ModelKind.RANDOM,
        "tau2_method": "REML",
        "test": Inference.Z,
        "prediction_interval": True,
        "mantel_haenszel": False,
    },
    Preset.REVMAN5: {
        "model": ModelKind.RANDOM,
        "tau2_method": "DL",
        "test": Inference.Z,
        "prediction_interval": False,
        "mantel_haenszel": True,
    },
}

PRESET_NOTES: dict[str, str] = {
    Preset.REVMAN5: (
        "RevMan 5 defaults: DerSimonian-Laird tau², z-based CI, no prediction interval, "
        "Mantel-Haenszel for dichotomous data (Greenland-Robins RD variance, 0.5 added to "
        "zero-cell tables), Q-based I². Random-effects MH is pooled as RevMan does: DL tau² with "
        "inverse-variance weights. SMD uses the exact Hedges correction, which differs from "
        "RevMan's approximation by less than 0.001 once each arm has 10 participants."
    ),
    Preset.METAFOR: (
        "metafor defaults: REML tau², z-based CI, prediction interval, inverse-variance pooling."
    ),
}

# --- definitions -----------------------------------------------------------------------------

EDITABLE = (
    "name", "preset", "measure", "model", "tau2_method", "test", "prediction_interval",
    "mantel_haenszel", "level", "subgroup_field", "exclude_high_rob", "leave_one_out",
    "cumulative", "show_rob", "harmonise_signs", "intervention_label", "control_label", "sort_by",
    "prepost_correlation", "multilevel", "robust",
)  # fmt: skip


def measures_for(outcome: Outcome) -> tuple[str, ...]:
    if outcome.outcome_type == Outcome.Type.CONTINUOUS:
        return CONTINUOUS_MEASURES
    if outcome.outcome_type == Outcome.Type.DICHOTOMOUS:
        return DICHOTOMOUS_MEASURES
    if outcome.outcome_type == Outcome.Type.PROPORTION:
        return PROPORTION_MEASURES
    if outcome.outcome_type == Outcome.Type.CORRELATION:
        return CORRELATION_MEASURES
    if outcome.outcome_type == Outcome.Type.RATE:
        return RATE_MEASURES
    if outcome.outcome_type == Outcome.Type.SINGLE_RATE:
        return SINGLE_RATE_MEASURES
    if outcome.outcome_type == Outcome.Type.PAIRED:
        return PAIRED_MEASURES
    if outcome.outcome_type == Outcome.Type.MEAN:
        return MEAN_MEASURES
    return (Measure.GEN,)


#: The measure an analysis gets when the lead does not choose one. Proportions: the logit
#: (PLO), metafor's and most prevalence reviews' choice; the Freeman-Tukey transformation's
#: back-transformation can mislead (Schwarzer et al. 2019), so PFT is offered, not default.
#: Correlations: Fisher's z (ZCOR), shown back as r. Rates: the incidence rate ratio (IRR)
#: for two arms, the log rate (IRLN) for one group, both shown back on the rate scale.
DEFAULT_MEASURES = {
    "continuous": "SMD",
    "dichotomous": "RR",
    "proportion": "PLO",
    "correlation": "ZCOR",
    "rate": "IRR",
    "single_rate": "IRLN",
    # Paired: the standardised mean change (change-score SD), as SMD for two groups.
    "paired": "SMCC",
    # One group's mean: the raw mean (MN), as reported.
    "mean": "MN",
}


def default_measure(outcome: Outcome) -> str:
    return DEFAULT_MEASURES.get(outcome.outcome_type, "GEN")


def _validate(analysis: Analysis) -> None:
    allowed = measures_for(analysis.outcome)
    if analysis.measure not in allowed:
        raise DomainError(
            f"{analysis.get_measure_display()} does not fit a {analysis.outcome.outcome_type} "
            f"outcome; choose one of {', '.join(allowed)}.",
            field="measure",
        )
    if analysis.mantel_haenszel and analysis.measure not in MH_MEASURES:
        raise DomainError(
            "Mantel-Haenszel pools risk ratios, odds ratios and risk differences only.",
            field="mantel_haenszel",
        )
    if not (50 < float(analysis.level) < 100):
        raise DomainError("The confidence level must be between 50 and 100.", field="level")
    if analysis.multilevel and (
        analysis.model != ModelKind.RANDOM or analysis.tau2_method not in ("REML", "ML")
    ):
        raise DomainError(
            "The three-level model is a random-effects model fitted by REML or ML; choose "
            "random effects with one of them.",
            field="multilevel",
        )
    if analysis.robust and not analysis.multilevel:
        raise DomainError(
            "Cluster-robust inference is for the three-level model; turn that on first.",
            field="robust",
        )
    if analysis.multilevel and analysis.mantel_haenszel:
        raise DomainError("Mantel-Haenszel pools one table per study; turn it off for the "
                          "three-level model.", field="mantel_haenszel")  # fmt: skip
    if not -1 < float(analysis.prepost_correlation) < 1:
        raise DomainError(
            "The imputed pre-post correlation must lie between -1 and 1.",
            field="prepost_correlation",
        )
    if not analysis.name.strip():
        raise DomainError("Name the analysis.", field="name")
    if analysis.test == Inference.KNHA and analysis.model == ModelKind.FIXED:
        raise DomainError(
            "Knapp-Hartung is for random-effects models; choose z for a common-effect model.",
            field="test",
        )
    _validate_subgroup(analysis)


def _validate_subgroup(analysis: Analysis) -> None:
    """A subgroup variable is a study-level field of the review's forms: a typo would
    otherwise put every study in one subgroup, "Not reported"."""
    key = analysis.subgroup_field
    if not key:
        return
    fields = study_variable_fields(review=analysis.outcome.review)
    if key in fields:
        return
    offered = "; ".join(f"{label} ({k})" for k, label in fields.items()) or "none yet"
    raise DomainError(
        f"'{key}' is not a study-level field of this review's extraction forms. "
        f"Fields you can group by: {offered}.",
        field="subgroup_field",
    )


def _apply_preset(analysis: Analysis) -> None:
    for key, value in PRESETS.get(analysis.preset, {}).items():
        if key == "mantel_haenszel":
            value = value and analysis.measure in MH_MEASURES
        setattr(analysis, key, value)


def _save_checked(analysis: Analysis) -> None:
    try:
        with transaction.atomic():
            analysis.save()
    except IntegrityError as exc:
        raise DomainError(
            f"This outcome already has an analysis named '{analysis.name}'.", field="name"
        ) from exc


@transaction.atomic
def analysis_create(
    *, review: Review, outcome: Outcome, created_by: Any, name: str = "", **settings: Any
) -> Analysis:
    if outcome.review_id != review.pk:
        raise DomainError("That outcome belongs to another review.", field="outcome")
    unknown = set(settings) - set(EDITABLE)
    if unknown:
        raise DomainError(f"Unknown setting: {', '.join(sorted(unknown))}.")
    analysis = Analysis(
        review=review,
        outcome=outcome,
        created_by=created_by,
        name=(name or "Main analysis").strip(),
        measure=settings.pop("measure", None) or default_measure(outcome),
        position=Analysis.objects.filter(outcome=outcome).count(),
    )
    for key, value in settings.items():
        setattr(analysis, key, value)
    _apply_preset(analysis)
    _validate(analysis)
    _save_checked(analysis)
    _queue(analysis.pk)
    return analysis


@transaction.atomic
def analysis_update(*, analysis: Analysis, version: int | None = None, **changes: Any) -> Analysis:
    """Change settings; `version` (when given) must be the one the editor started from."""
    locked = Analysis.objects.select_for_update().select_related("outcome").get(pk=analysis.pk)
    if version is not None and int(version) != locked.version:
        raise StaleVersion(
            "Someone changed this analysis while you were editing it. Reload to see their "
            "settings, then make your change again."
        )
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise DomainError(f"Unknown setting: {', '.join(sorted(unknown))}.")
    for key, value in changes.items():
        setattr(locked, key, value)
    if "preset" in changes or locked.preset != Preset.CUSTOM:
        # A hand-made change to a preset's setting makes the analysis custom.
        preset_keys = set(PRESETS.get(locked.preset, {}))
        if (
            locked.preset != Preset.CUSTOM
            and "preset" not in changes
            and preset_keys & set(changes)
        ):
            locked.preset = Preset.CUSTOM
        _apply_preset(locked)
    _validate(locked)
    # The row is locked (select_for_update), so plain increments are safe here.
    locked.version += 1
    locked.change_seq += 1
    _save_checked(locked)
    _queue(locked.pk)
    return locked


@transaction.atomic
def analysis_delete(*, analysis: Analysis) -> None:
    analysis.delete()


# --- queueing --------------------------------------------------------------------------------


def _claim_send(analysis_id: int) -> bool:
    """True when no task is pending for the analysis (or the pending one is presumed lost)."""
    now = timezone.now()
    return bool(
        Analysis.objects.filter(pk=analysis_id)
        .filter(Q(pending_since__isnull=True) | Q(pending_since__lt=now - PENDING_TTL))
        .update(pending_since=now)
    )


# The task is named, not imported: `analysis.tasks` imports this module (tasks are thin
# adapters over services); the outbox sends by name.
RECOMPUTE_TASK = "analysis.tasks.recompute_analysis_task"


def _queue(analysis_id: int) -> None:
    """Call in the transaction that changed an input: the claim and the outbox row commit with
    the change, so a broker that is down delays the recomputation but never loses it."""
    if _claim_send(analysis_id):
        outbox_enqueue(RECOMPUTE_TASK, analysis_id)

    def bump() -> None:
        review_id = Analysis.objects.filter(pk=analysis_id).values_list("review_id", flat=True)
        bump_review_version(review_id.first())

    transaction.on_commit(bump, robust=True)


def _mark_and_queue(analyses: Any) -> list[int]:
    ids = list(analyses.values_list("pk", flat=True))
    if ids:
        Analysis.objects.filter(pk__in=ids).update(change_seq=F("change_seq") + 1)
        for pk in ids:
            _queue(pk)
    return ids


# What the other stages' events mean for analyses (analysis/receivers.py calls these in the
# transaction of the change; the task is queued once it commits).


@transaction.atomic
def analyses_outcome_data_changed(*, outcome_ids: Collection[int]) -> list[int]:
    """Consensus (or single) outcome data of these outcomes changed: their analyses."""
    return _mark_and_queue(Analysis.objects.filter(outcome_id__in=list(outcome_ids)))


@transaction.atomic
def analyses_study_answers_changed(*, review_id: int) -> list[int]:
    """A final extraction's study-level answers changed: the analyses that read them
    (subgroups) or order studies (cumulative)."""
    return _mark_and_queue(
        Analysis.objects.filter(review_id=review_id).filter(
            ~Q(subgroup_field="") | Q(cumulative=True)
        )
    )


@transaction.atomic
def analyses_inclusion_changed(*, review_id: int) -> list[int]:
    """The included studies (or their reports, which give the years) changed: every analysis
    of the review reads them."""
    return _mark_and_queue(Analysis.objects.filter(review_id=review_id))


@transaction.atomic
def analyses_rob_changed(*, review_id: int) -> list[int]:
    """Risk of bias changed: only analyses that exclude high-risk studies or show RoB."""
    return _mark_and_queue(
        Analysis.objects.filter(review_id=review_id).filter(
            Q(exclude_high_rob=True) | Q(show_rob=True)
        )
    )


def analyses_requeue_stale(*, review_id: int | None = None) -> list[int]:
    """Queue every analysis still behind its inputs (a worker died, a message was lost)."""
    stale = Analysis.objects.filter(change_seq__gt=F("computed_seq"))
    if review_id is not None:
        stale = stale.filter(review_id=review_id)
    ids = list(stale.values_list("pk", flat=True))
    with transaction.atomic():
        Analysis.objects.filter(pk__in=ids).update(pending_since=timezone.now())
        for pk in ids:
            outbox_enqueue(RECOMPUTE_TASK, pk)
    return ids


# --- the dashboard's cheap version -----------------------------------------------------------


# The counter only has to differ from what an open dashboard last saw, so it expires a day
# after its last bump instead of keeping a key per review forever. It restarts from the clock
# (milliseconds), so a recreated counter never repeats a value an old page still holds.
REVIEW_VERSION_TTL = 24 * 3600


def _review_version_key(review_id: int) -> str:
    return f"review-dashboard-version:{review_id}"


def bump_review_version(review_id: int | None) -> None:
    if review_id is None:
        return
    key = _review_version_key(review_id)
    if cache.add(key, time.time_ns() // 1_000_000, timeout=REVIEW_VERSION_TTL):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, time.time_ns() // 1_000_000, timeout=REVIEW_VERSION_TTL)
    else:
        cache.touch(key, timeout=REVIEW_VERSION_TTL)


def review_version(review_id: int) -> int:
    return int(cache.get(_review_version_key(review_id)) or 0)


# --- computing -------------------------------------------------------------------------------


def spec_of(analysis: Analysis) -> Spec:
    """The settings of this analysis that change its numbers or its figures."""
    return Spec(
        measure=analysis.measure,
        model=analysis.model,
        tau2_method=analysis.tau2_method,
        test=analysis.test,
        prediction_interval=analysis.prediction_interval,
        mantel_haenszel=analysis.mantel_haenszel,
        level=float(analysis.level),
        subgroup_field=analysis.subgroup_field,
        subgroup_label=(
            study_variable_fields(review=analysis.outcome.review).get(analysis.subgroup_field)
            or analysis.subgroup_field
            if analysis.subgroup_field
            else ""
        ),
        exclude_high_rob=analysis.exclude_high_rob,
        leave_one_out=analysis.leave_one_out,
        cumulative=analysis.cumulative,
        harmonise_signs=analysis.harmonise_signs,
        direction=analysis.outcome.desirable_direction,
        generic_measure=(getattr(analysis.outcome, "effect_measure", "") or "").upper(),
        revman=analysis.preset == Preset.REVMAN5,
        intervention_label=analysis.intervention_label,
        control_label=analysis.control_label,
        prepost_correlation=float(analysis.prepost_correlation),
        multilevel=analysis.multilevel,
        robust=analysis.robust,
    )


def compute_payload(spec: Spec, inputs: AnalysisInputs) -> dict[str, Any]:
    """Run the engine (`analysis.compute`) on the inputs; the JSON stored as the result.
    Pure: no database. Raises ValueError on impossible data."""
    usable, missing = split_usable(inputs.rows, spec.measure)
    return compute(spec, usable, [*inputs.missing, *missing]).to_json()


def _summary_fields(payload: dict[str, Any]) -> dict[str, Any]:
    overall = payload.get("overall") or {}
    return {
        "k": int(overall.get("k") or 0),
        "participants": payload.get("participants") or None,
        "estimate": overall.get("estimate"),
        "ci_lb": overall.get("ci_lb"),
        "ci_ub": overall.get("ci_ub"),
        "i2": overall.get("i2"),
    }


def analysis_store_result(
    *, analysis: Analysis, inputs: AnalysisInputs, seq: int
) -> AnalysisResult:
    """Store (or find) the result version for these inputs and make it current for `seq`.

    Idempotent: the same inputs give the same hash, so a retried or duplicate task stores
    nothing new. A result never replaces one computed for a later change.
    """
    spec = spec_of(analysis)
    digest = input_hash(spec, inputs)
    result = AnalysisResult.objects.filter(analysis=analysis, input_hash=digest).first()
    if result is None:
        started = time.perf_counter()
        error = ""
        try:
            payload = compute_payload(spec, inputs)
        except (ValueError, ZeroDivisionError, FloatingPointError) as exc:
            # Impossible data (events above the total, ...): a retry cannot fix it, so it is a
            # result of its own, shown to the lead instead of a plot.
            payload, error = {"missing": [m.to_dict() for m in inputs.missing]}, str(exc)
        elapsed = (time.perf_counter() - started) * 1000
        try:
            with transaction.atomic():
                result = AnalysisResult.objects.create(
                    analysis=analysis,
                    input_hash=digest,
                    payload=payload,
                    inputs=[r.to_dict() for r in inputs.rows],
                    missing=payload.get("missing", []),
                    error=error,
                    compute_ms=elapsed,
                    **_summary_fields(payload),
                )
        except IntegrityError:
            # A concurrent duplicate task stored the same version first.
            result = AnalysisResult.objects.get(analysis=analysis, input_hash=digest)
    if django_settings.FIGURES_RENDER_ON_COMPUTE and not result.error:
        from analysis import figures

        # Before the pages hear of the result, so that they find its figures built. A figure
        # that fails to build must not keep the numbers from being shown: the page that asks
        # for it builds it again (and reports the error) itself.
        try:
            figures.figures_json_warm(analysis=analysis, result=result)
        except Exception:
            logger.exception("building the figures of analysis %s failed", analysis.pk)
    updated = Analysis.objects.filter(pk=analysis.pk, computed_seq__lt=seq).update(
        current_result=result, computed_seq=seq, error="", error_at=None, attempts=0
    )
    if updated:
        bump_review_version(analysis.review_id)
        if django_settings.FIGURES_RENDER_ON_COMPUTE and not result.error:
            from analysis import figures

            # The worker draws the download files now, so the web process only serves them.
            figures.figures_request(analysis=analysis, result=result, sort=analysis.sort_by)
    return result


def analysis_recompute(
    *,
    analysis_id: int,
    loader: Callable[[Analysis], AnalysisInputs] = load_inputs,
) -> AnalysisResult | None:
    """Load the inputs, run the engine and store the version (the task's one service call)."""
    Analysis.objects.filter(pk=analysis_id).update(pending_since=None)
    try:
        analysis = Analysis.objects.select_related("outcome", "review").get(pk=analysis_id)
    except Analysis.DoesNotExist:
        return None  # deleted since it was queued
    # Read the counter before the inputs: a change committed after this point bumps it again
    # and queues its own task, so this result can never be marked current for it.
    seq = analysis.change_seq
    inputs = loader(analysis)
    return analysis_store_result(analysis=analysis, inputs=inputs, seq=seq)


def analysis_record_failure(*, analysis_id: int, message: str) -> None:
    """A recomputation failed for a reason a retry may fix; the lead sees it meanwhile."""
    Analysis.objects.filter(pk=analysis_id).update(
        error=message[:2000], error_at=timezone.now(), attempts=F("attempts") + 1
    )
    review_id = Analysis.objects.filter(pk=analysis_id).values_list("review_id", flat=True).first()
    bump_review_version(review_id)


def analysis_retry_now(*, analysis: Analysis) -> None:
    """The lead's "try again" after a failure."""
    with transaction.atomic():
        Analysis.objects.filter(pk=analysis.pk).update(
            change_seq=F("change_seq") + 1, pending_since=None
        )
        _queue(analysis.pk)


# --- GRADE -----------------------------------------------------------------------------------


@transaction.atomic
def grade_save(
    *,
    outcome: Outcome,
    updated_by: Any,
    ratings: dict[str, str],
    reasons: dict[str, str],
    version: int | None = None,
) -> GradeRating:
    grade, _ = GradeRating.objects.select_for_update().get_or_create(
        outcome=outcome, defaults={"review_id": outcome.review_id}
    )
    if version is not None and grade.pk and int(version) != grade.version:
        raise StaleVersion("Someone else changed this rating meanwhile. Reload and rate again.")
    levels = {c.value for c in GradeRating.Level}
    clean_reasons: dict[str, str] = {}
    for domain in GradeRating.DOMAINS:
        level = ratings.get(domain, getattr(grade, domain))
        if level not in levels:
            raise DomainError(f"'{level}' is not a GRADE judgement.", field=domain)
        reason = (reasons.get(domain) or "").strip()
        if level != GradeRating.Level.NONE and not reason:
            label = domain.replace("_", " ")
            raise DomainError(f"Say why {label} is downgraded.", field=domain)
        setattr(grade, domain, level)
        if reason:
            clean_reasons[domain] = reason
    grade.reasons = clean_reasons
    grade.updated_by = updated_by
    grade.version = (grade.version or 0) + 1
    grade.save()
    bump_review_version(outcome.review_id)
    return grade
