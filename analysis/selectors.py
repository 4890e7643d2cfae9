"""Reads for analyses, results, the dashboard and the summary of findings."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from analysis.inputs import progress_token, review_progress
from analysis.models import Analysis, AnalysisResult, GradeRating
from analysis.services import review_version
from extraction.models import Outcome
from reviewapp.models import Review


def analyses(*, review: Review) -> QuerySet[Analysis]:
    return Analysis.objects.filter(review=review).select_related("outcome", "current_result")


def analysis_get(*, review: Review, pk: int) -> Analysis:
    return get_object_or_404(
        Analysis.objects.select_related("outcome", "current_result", "review"), pk=pk, review=review
    )


def results(*, analysis: Analysis) -> QuerySet[AnalysisResult]:
    return AnalysisResult.objects.filter(analysis=analysis).defer("payload", "inputs")


def version(*, review: Review) -> str:
    """What the dashboard polls: one aggregate over the review's analyses plus a counter
    bumped on commit of anything else the dashboard shows. Cheap: no result is loaded."""
    agg = Analysis.objects.filter(review=review).aggregate(
        n=Count("id"), changed=Sum("change_seq"), computed=Sum("computed_seq"),
        failed=Count("id", filter=~Q(error="")),
    )  # fmt: skip
    token = (
        f"{review_version(review.pk)}.{agg['n']}.{agg['changed'] or 0}."
        f"{agg['computed'] or 0}.{agg['failed']}|{progress_token(review)}"
    )
    # A short opaque token: the page sends it back on every poll.
    return hashlib.sha1(token.encode()).hexdigest()[:16]


@dataclass
class OutcomeCard:
    outcome: Outcome
    analysis: Analysis | None
    result: AnalysisResult | None

    @property
    def status(self) -> str:
        return self.analysis.status if self.analysis else "none"

    @property
    def ratio(self) -> bool:
        return bool(self.result and self.result.computed.ratio)

    def _natural(self, x: float | None) -> str:
        if x is None:
            return ""
        return f"{math.exp(x) if self.ratio else x:.2f}"

    @property
    def estimate_text(self) -> str:
        r = self.result
        if r is None or r.estimate is None:
            return ""
        return f"{self._natural(r.estimate)} [{self._natural(r.ci_lb)}, {self._natural(r.ci_ub)}]"

    @property
    def measure(self) -> str:
        if self.result is None:
            return ""
        return self.result.computed.measure_label


def outcome_cards(*, review: Review) -> list[OutcomeCard]:
    """Per outcome, its first analysis and that analysis's current result."""
    first: dict[int, Analysis] = {}
    for a in analyses(review=review).order_by("outcome_id", "position", "id"):
        first.setdefault(a.outcome_id, a)
    return [
        OutcomeCard(o, first.get(o.pk), first[o.pk].current_result if o.pk in first else None)
        for o in Outcome.objects.filter(review=review)
    ]


def dashboard(*, review: Review, user: Any = None) -> dict[str, Any]:
    return {
        "cards": outcome_cards(review=review),
        "progress": review_progress(review, user),
        "version": version(review=review),
    }


@dataclass
class FindingRow:
    outcome: Outcome
    card: OutcomeCard
    grade: GradeRating | None

    @property
    def domains(self) -> list[dict[str, str]]:
        g = self.grade
        return [
            {
                "key": d,
                "label": d.replace("_", " ").capitalize(),
                "level": getattr(g, d) if g else GradeRating.Level.NONE,
                "reason": (g.reasons.get(d, "") if g else ""),
            }
            for d in GradeRating.DOMAINS
        ]


def summary_of_findings(*, review: Review) -> list[FindingRow]:
    grades = {g.outcome_id: g for g in GradeRating.objects.filter(review=review)}
    return [
        FindingRow(card.outcome, card, grades.get(card.outcome.pk))
        for card in outcome_cards(review=review)
    ]
