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

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypedDict

import numpy as np
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from analysis import scales, stats
from analysis.inputs import AnalysisInputs, MissingStudy, StudyRow, load_inputs, split_usable
from analysis.models import (
    CONTINUOUS_MEASURES,
    CORRELATION_MEASURES,
    DICHOTOMOUS_MEASURES,
    MEAN_MEASURES,
    MH_MEASURES,
    PAIRED_MEASURES,
    PROPORTION_MEASURES,
    RATE_MEASURES,
    SINGLE_GROUP_MEASURES,
    SINGLE_RATE_MEASURES,
    Analysis,
    AnalysisResult,
    GradeRating,
    Inference,
    Measure,
    ModelKind,
    Preset,
)
from analysis.stats.bias import egger, trimfill, z_crit
from analysis.stats.binary import pool_mh, pool_peto
from analysis.stats.sensitivity import cumulative, leave_one_out, leave_one_out_tables
from analysis.stats.sensitivity import subgroups as pool_subgroups
from extraction.models import Outcome
from extraction.selectors import study_variable_fields
from reviewapp.common.outbox import outbox_enqueue
from reviewapp.errors import DomainError, StaleVersion
from reviewapp.models import Review

logger = logging.getLogger(__name__)

# Part of every input hash: a change to how results are computed makes new versions.
ENGINE_VERSION = "1"
PENDING_TTL = timedelta(minutes=2)
RATIO_MEASURES = ("RR", "OR", "PETO", "ROM", "IRR", "VR", "CVR")
GENERIC_RATIOS = ("OR", "RR", "HR", "IRR", "ROM")

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


@dataclass(frozen=True)
class Spec:
    """Everything about an analysis that changes its numbers or its figures."""

    measure: str
    model: str
    tau2_method: str
    test: str
    prediction_interval: bool
    mantel_haenszel: bool
    level: float
    subgroup_field: str
    exclude_high_rob: bool
    leave_one_out: bool
    cumulative: bool
    harmonise_signs: bool
    direction: str
    generic_measure: str
    revman: bool
    intervention_label: str
    control_label: str
    # The subgroup variable's field label, for headings ("Design: cluster").
    subgroup_label: str = ""
    # Paired outcomes: the pre-post correlation used where a study reports none.
    prepost_correlation: float = 0.5
    # Three-level model over every timepoint of every study (analysis.multilevel).
    multilevel: bool = False
    robust: bool = False

    @classmethod
    def of(cls, analysis: Analysis) -> Spec:
        return cls(
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

    @property
    def method(self) -> str:
        return "FE" if self.model == ModelKind.FIXED else self.tau2_method

    @property
    def is_ratio(self) -> bool:
        if self.measure == Measure.GEN:
            return self.generic_measure in GENERIC_RATIOS
        return self.measure in RATIO_MEASURES

    @property
    def flip(self) -> bool:
        # A single group has no comparison whose sign could be harmonised.
        single = self.measure in SINGLE_GROUP_MEASURES
        return self.harmonise_signs and self.direction == "lower" and not single


def input_hash(spec: Spec, inputs: AnalysisInputs) -> str:
    blob = json.dumps(
        {
            "engine": ENGINE_VERSION,
            "spec": spec.__dict__,
            "rows": [r.to_dict() for r in inputs.rows],
            "missing": [m.to_dict() for m in inputs.missing],
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _effect_sizes(spec: Spec, rows: Sequence[StudyRow]) -> stats.EffectSizes:
    labels = [r.label for r in rows]
    if spec.measure in CONTINUOUS_MEASURES:
        return stats.escalc(
            spec.measure,
            n1i=[r.n1 for r in rows], m1i=[r.m1 for r in rows], sd1i=[r.sd1 for r in rows],
            n2i=[r.n2 for r in rows], m2i=[r.m2 for r in rows], sd2i=[r.sd2 for r in rows],
            labels=labels,
        )  # fmt: skip
    if spec.measure in DICHOTOMOUS_MEASURES:
        return stats.escalc(
            spec.measure,
            ai=[r.events1 for r in rows], n1i=[r.total1 for r in rows],
            ci=[r.events2 for r in rows], n2i=[r.total2 for r in rows],
            labels=labels,
        )  # fmt: skip
    if spec.measure in SINGLE_GROUP_MEASURES:
        return _single_group_effect_sizes(spec.measure, rows)
    if spec.measure in ("SMCR", "SMCRH"):
        # Standardised by the baseline SD (Becker 1988): metafor divides by sd1i, so sd1i is
        # the baseline SD; SMCR needs no follow-up SD.
        return stats.escalc(
            spec.measure,
            m1i=[r.mean for r in rows], m2i=[r.mean_pre for r in rows],
            sd1i=[r.sd_pre for r in rows],
            sd2i=[r.sd for r in rows] if spec.measure == "SMCRH" else None,
            ni=[r.n for r in rows], ri=[_prepost_r(spec, r) for r in rows], labels=labels,
        )  # fmt: skip
    if spec.measure in PAIRED_MEASURES:
        return stats.escalc(
            spec.measure,
            m1i=[r.mean for r in rows], sd1i=[r.sd for r in rows],
            m2i=[r.mean_pre for r in rows], sd2i=[r.sd_pre for r in rows],
            ni=[r.n for r in rows], ri=[_prepost_r(spec, r) for r in rows], labels=labels,
        )  # fmt: skip
    if spec.measure in RATE_MEASURES:
        return stats.escalc(
            spec.measure,
            x1i=[r.events1 for r in rows], t1i=[r.pt1 for r in rows],
            x2i=[r.events2 for r in rows], t2i=[r.pt2 for r in rows],
            labels=labels,
        )  # fmt: skip
    est = [r.estimate for r in rows]
    nan = float("nan")
    return stats.generic_iv(
        est,
        se=[nan if r.se is None else r.se for r in rows],
        ci_lb=[nan if r.ci_lower is None else r.ci_lower for r in rows],
        ci_ub=[nan if r.ci_upper is None else r.ci_upper for r in rows],
        ratio=spec.is_ratio,
        level=spec.level,
        labels=labels,
    )


def _prepost_r(spec: Spec, row: StudyRow) -> float:
    return spec.prepost_correlation if row.r is None else row.r


def _imputation_notes(spec: Spec, rows: Sequence[StudyRow]) -> list[str]:
    """Which paired studies had their pre-post correlation imputed, and with what."""
    if spec.measure not in PAIRED_MEASURES:
        return []
    imputed = [r.label for r in rows if r.r is None]
    if not imputed:
        return []
    return [
        f"Pre-post correlation not reported, {spec.prepost_correlation:g} used (a setting of "
        f"this analysis) for: {', '.join(imputed)}."
    ]


def _single_group_effect_sizes(measure: str, rows: Sequence[StudyRow]) -> stats.EffectSizes:
    """Proportions (events of total) and correlations (r with n), in metafor's arguments."""
    labels = [r.label for r in rows]
    if measure in PROPORTION_MEASURES:
        return stats.escalc(
            measure, xi=[r.events for r in rows], ni=[r.total for r in rows], labels=labels
        )
    if measure in SINGLE_RATE_MEASURES:
        return stats.escalc(
            measure, xi=[r.events for r in rows], ti=[r.person_time for r in rows], labels=labels
        )
    if measure in MEAN_MEASURES:
        return stats.escalc(
            measure,
            mi=[r.mean for r in rows], sdi=[r.sd for r in rows], ni=[r.n for r in rows],
            labels=labels,
        )  # fmt: skip
    assert measure in CORRELATION_MEASURES
    return stats.escalc(measure, ri=[r.r for r in rows], ni=[r.n for r in rows], labels=labels)


class _Tables(TypedDict):
    """A 2x2 table per study, in metafor's cell names."""

    ai: list[float]
    bi: list[float]
    ci: list[float]
    di: list[float]


def _tables(rows: Sequence[StudyRow]) -> _Tables:
    return {
        "ai": [float(r.events1 or 0) for r in rows],
        "bi": [float((r.total1 or 0) - (r.events1 or 0)) for r in rows],
        "ci": [float(r.events2 or 0) for r in rows],
        "di": [float((r.total2 or 0) - (r.events2 or 0)) for r in rows],
    }


def _by_tables(spec: Spec) -> str | None:
    """'MH' or 'PETO' when the main model pools 2x2 tables directly, else None (inverse
    variance). Harmonised signs need the per-study effects, so they pool by inverse variance."""
    if spec.flip or spec.model != ModelKind.FIXED:
        return None
    if spec.measure == "PETO":
        return "PETO"
    if spec.mantel_haenszel and spec.measure in MH_MEASURES:
        return "MH"
    return None


def _mh_kwargs(spec: Spec) -> dict[str, Any]:
    return {
        "measure": spec.measure,
        "rd_variance": "GR" if spec.revman else "SGR",
        "zero_cell": "revman" if spec.revman else "metafor",
    }


def _pool(spec: Spec, rows: Sequence[StudyRow], yi: Any, vi: Any) -> stats.PoolResult:
    """The main model on these studies: MH/Peto on 2x2 tables, inverse variance otherwise."""
    labels = [r.label for r in rows]
    kind = _by_tables(spec)
    if kind == "PETO":
        return pool_peto(**_tables(rows), level=spec.level, labels=labels)
    if kind == "MH":
        return pool_mh(**_tables(rows), level=spec.level, labels=labels, **_mh_kwargs(spec))
    # Random-effects MH is RevMan's DL with inverse-variance weights (docs/statistical-methods.md).
    method = "DL" if spec.mantel_haenszel and spec.model == ModelKind.RANDOM else spec.method
    return stats.pool(
        yi, vi, method=method, test=spec.test, level=spec.level, measure=spec.measure,
        labels=labels, pi_type="default",
    )  # fmt: skip


def _pool_dict(spec: Spec, res: stats.PoolResult) -> dict[str, Any]:
    d = res.to_dict()
    if not spec.prediction_interval or spec.model == ModelKind.FIXED or res.k < 3:
        d["pi_lb"] = d["pi_ub"] = None
    d["weights"] = [None if w is None else float(w) for w in d["weights"]]
    return d


def compute_payload(spec: Spec, inputs: AnalysisInputs) -> dict[str, Any]:
    """Run the engine on the inputs. Pure: no database. Raises ValueError on impossible data."""
    if spec.multilevel:
        from analysis.multilevel import multilevel_payload

        return multilevel_payload(spec, inputs, effect_sizes=_effect_sizes)
    usable, missing = split_usable(inputs.rows, spec.measure)
    missing = list(inputs.missing) + missing
    warnings: list[str] = []
    payload: dict[str, Any] = {
        "measure": spec.measure,
        "measure_label": spec.generic_measure if spec.measure == "GEN" else spec.measure,
        "ratio": spec.is_ratio,
        **scales.scale_fields(spec.measure),
        "model": spec.model,
        "method": spec.method,
        "test": spec.test,
        "level": spec.level,
        "direction": spec.direction,
        "harmonised": spec.flip,
        "mantel_haenszel": spec.mantel_haenszel,
        "intervention_label": spec.intervention_label,
        "control_label": spec.control_label,
        "subgroup_field": spec.subgroup_field,
        "subgroup_label": spec.subgroup_label,
        "studies": [],
        "overall": None,
        "subgroups": None,
        "sensitivity": {},
        "bias": {},
        "participants": 0,
    }
    es = _effect_sizes(spec, usable) if usable else None
    if es is not None:
        yi = np.array(es.yi, dtype=float)
        if spec.flip:
            # Harmonised signs, asked for by the lead: lower-is-better effects are negated
            # (ratios inverted on the log scale) so that right always favours intervention.
            yi = -yi
        keep = np.isfinite(yi) & np.isfinite(es.vi)
        for row, ok, note in zip(usable, keep, es.notes, strict=True):
            if not ok:
                missing.append(
                    MissingStudy(row.study_id, row.label, note or "effect not estimable")
                )
        rows = [r for r, ok in zip(usable, keep, strict=True) if ok]
        yi, vi = yi[keep], np.array(es.vi, dtype=float)[keep]
    else:
        rows, yi, vi = [], np.array([]), np.array([])
    payload["missing"] = [m.to_dict() for m in missing]
    if not rows:
        payload["warnings"] = ["No study has usable data for this outcome yet."]
        return payload
    if spec.flip and (spec.mantel_haenszel or spec.measure == "PETO"):
        warnings.append("Signs are harmonised, so studies are pooled by inverse variance.")
    tables = _by_tables(spec)
    main = _pool(spec, rows, yi, vi)
    overall = _pool_dict(spec, main)
    weights = overall["weights"]
    z = z_crit(1 - spec.level / 100)
    studies = []
    for i, (row, y, v) in enumerate(zip(rows, yi.tolist(), vi.tolist(), strict=True)):
        se = math.sqrt(v)
        studies.append(
            {
                **row.to_dict(),
                "yi": y,
                "vi": v,
                "ci_lb": y - z * se,
                "ci_ub": y + z * se,
                "weight": weights[i],
                "group": row.subgroups.get(spec.subgroup_field) or "Not reported"
                if spec.subgroup_field
                else None,
            }
        )
    payload["studies"] = studies
    payload["overall"] = overall
    payload.update(scales.sample_sizes(spec.measure, rows))
    if spec.measure in PAIRED_MEASURES:
        payload["prepost_correlation"] = spec.prepost_correlation
        warnings += _imputation_notes(spec, rows)
    payload["participants"] = sum(r.participants or 0 for r in rows)
    labels = [r.label for r in rows]
    common: dict[str, Any] = {"method": "FE" if tables else main.method,
              "test": spec.test if spec.model == ModelKind.RANDOM else "z",
              "level": spec.level, "measure": spec.measure}  # fmt: skip

    if spec.subgroup_field:
        groups = [s["group"] for s in studies]
        names = list(dict.fromkeys(groups))
        if len(names) >= 2:
            sg = pool_subgroups(yi, vi, groups, labels=labels, **common)
            per_group = []
            for name in names:
                idx = [i for i, g in enumerate(groups) if g == name]
                sub_rows = [rows[i] for i in idx]
                fit = _pool(spec, sub_rows, yi[idx], vi[idx]) if tables else sg.subgroups[name]
                d = _pool_dict(spec, fit)
                per_group.append(
                    {
                        "name": name,
                        "studies": [rows[i].study_id for i in idx],
                        "pool": d,
                        "weights": d["weights"],
                        "participants": sum(r.participants or 0 for r in sub_rows),
                    }
                )
            if tables:
                # Test for subgroup differences on the MH/Peto subtotals: the common-effect Q of
                # the subgroup estimates (engine), which is RevMan's Chi² for subgroups.
                est = [g["pool"]["estimate"] for g in per_group]
                var = [g["pool"]["se"] ** 2 for g in per_group]
                q = stats.pool(est, var, method="FE")
                test = {"q": q.q, "df": q.q_df, "pval": q.q_pval, "i2": q.i2}
            else:
                test = {
                    "q": sg.q_between,
                    "df": sg.q_between_df,
                    "pval": sg.q_between_pval,
                    "i2": sg.i2_between,
                }
            # Weights within the whole analysis, so that subgroup squares compare across groups.
            payload["subgroups"] = {"field": spec.subgroup_field, "groups": per_group, "test": test}
        else:
            warnings.append(
                f"Every study falls in one subgroup of '{spec.subgroup_field}'; "
                "no subgroup analysis."
            )

    sens: dict[str, Any] = {}
    if spec.exclude_high_rob:
        low = [i for i, r in enumerate(rows) if (r.rob or "").lower() != "high"]
        excluded = [rows[i].label for i in range(len(rows)) if i not in low]
        if not any(r.rob for r in rows):
            sens["exclude_high_rob"] = {"excluded": [], "pool": None,
                                        "note": "No risk-of-bias judgements yet."}  # fmt: skip
        elif low:
            fit = _pool(spec, [rows[i] for i in low], yi[low], vi[low])
            sens["exclude_high_rob"] = {"excluded": excluded, "pool": _pool_dict(spec, fit)}
        else:
            sens["exclude_high_rob"] = {"excluded": excluded, "pool": None,
                                        "note": "Every study is at high risk of bias."}  # fmt: skip
    if spec.leave_one_out and len(rows) >= 2:
        if tables:
            fit_fn = pool_peto if tables == "PETO" else pool_mh
            kwargs: dict[str, Any] = {"level": spec.level}
            if tables == "MH":
                kwargs.update(_mh_kwargs(spec))
            t = _tables(rows)
            loo = leave_one_out_tables(fit_fn, t["ai"], t["bi"], t["ci"], t["di"],
                                       labels=labels, **kwargs)  # fmt: skip
        else:
            loo = leave_one_out(yi, vi, labels=labels, **common)
        sens["leave_one_out"] = loo.to_dict()
    if spec.cumulative:
        dated = [i for i, r in enumerate(rows) if r.year is not None]
        if len(dated) >= 1:
            cum = cumulative(
                yi[dated], vi[dated], order=[rows[i].year for i in dated],
                labels=[labels[i] for i in dated], **common,
            )  # fmt: skip
            d = cum.to_dict()
            years = {r.label: r.year for r in rows}
            for row in d["rows"]:
                row["year"] = years.get(row["added"])
            sens["cumulative"] = d
            if len(dated) < len(rows):
                warnings.append("Studies without a year are left out of the cumulative analysis.")
    payload["sensitivity"] = sens

    bias: dict[str, Any] = {}
    if len(rows) >= 3:
        try:
            bias["egger"] = egger(yi, vi, labels=labels, model="lm").to_dict()
            tf = trimfill(yi, vi, labels=labels, method=common["method"],
                          test=common["test"], level=spec.level)  # fmt: skip
            bias["trimfill"] = {
                "k0": tf.k0,
                "side": tf.side,
                "filled": [{"yi": float(y), "vi": float(v), "mirrors": s} for y, v, s in
                           zip(tf.filled_yi, tf.filled_vi, tf.filled_from, strict=True)],
                "adjusted": _pool_dict(spec, tf.adjusted),
            }  # fmt: skip
        except ValueError as exc:
            warnings.append(f"Small-study tests not run: {exc}")
        if len(rows) < 10:
            warnings.append(
                "Fewer than 10 studies: tests for funnel-plot asymmetry have little power."
            )
    payload["bias"] = bias
    payload["warnings"] = warnings + list(overall.get("warnings", []))
    return payload


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
    spec = Spec.of(analysis)
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
