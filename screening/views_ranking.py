"""Pages of prioritised screening: the ranking panel and its actions."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from reviewapp.common.outbox import outbox_notice
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening import (
    plots_ranking,
    selectors_ranking,
    services_ranking,
)
from screening.models import (
    Stage,
)
from screening.views import _stage


def _ranking_context(review: Review, stage: str) -> dict[str, object]:
    status = selectors_ranking.ranking_status(review=review, stage=stage)
    return {
        "review": review,
        "stage": stage,
        "stage_label": Stage(stage).label,
        "ranking": status,
        "curve_figure": plots_ranking.inclusion_curve(status.curve).to_plotly_json(),
        "histogram_figure": plots_ranking.score_histogram(status.score_histogram).to_plotly_json()
        if status.score_histogram
        else None,
        "curve_id": f"curve-data-{stage}",
        "histogram_id": f"histogram-data-{stage}",
    }


@review_view(Role.LEAD)
def ranking_panel(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str
) -> HttpResponse:
    """The lead's ranking and stopping card of one stage (polled by htmx)."""
    stage = _stage(stage)
    return render(request, "screening/_ranking.html", _ranking_context(review, stage))


@review_view(Role.LEAD)
@require_POST
def ranking_action(
    request: HttpRequest, *, review: Review, membership: Membership, stage: str
) -> HttpResponse:
    stage = _stage(stage)
    action = request.POST.get("action", "")
    try:
        if action == "retrain":
            services_ranking.ranking_retrain_now(review=review)
            messages.success(request, "Retraining queued; screening goes on meanwhile.")
            outbox_notice(request)
        elif action == "sample":
            services_ranking.stop_sample_start(
                review=review,
                stage=stage,
                user=request.user,
                recall_target=_fraction(request.POST.get("recall", "95"), "recall_target"),
                confidence=_fraction(request.POST.get("confidence", "95"), "confidence"),
            )
            messages.success(
                request, "Stopping sample drawn: reviewers are served its records first."
            )
        elif action == "close_sample":
            services_ranking.stop_sample_close(review=review, stage=stage)
            messages.success(request, "Stopping sample closed: back to the chosen order.")
        else:
            raise DomainError(f"Unknown action '{action}'.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(f"{reverse('screening_home', args=[review.pk])}#ranking-{stage}")


def _fraction(value: str, field: str) -> float:
    """A percentage from a form ('95' or '95.5') as a fraction."""
    try:
        number = float(value)
    except ValueError:
        raise DomainError(f"'{value}' is not a percentage.", field=field) from None
    return number / 100.0
