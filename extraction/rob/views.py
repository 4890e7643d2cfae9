"""Risk-of-bias pages: tools, the assessment grid, the assessment form with live proposals,
the comparison/consensus page and the robvis-style summary."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from extraction.models import Outcome
from extraction.rob import assess_form, selectors, services
from extraction.rob.forms import ToolForm, definition_as_text
from extraction.rob.models import RobAssessment, RobTool
from extraction.rob.plots import summary_bar, traffic_light
from reviewapp.common.pages import call_and_redirect, refused_status
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening.models import Study

# ----------------------------------------------------------------------------- helpers


def _tool(review: Review, tool_pk: int) -> RobTool:
    return get_object_or_404(RobTool, pk=tool_pk, review=review)


def _outcome(request: HttpRequest, review: Review, tool: RobTool) -> Outcome | None:
    if not tool.per_result:
        return None
    raw = request.GET.get("outcome") or request.POST.get("outcome") or ""
    if not raw.isdigit():
        return None
    return get_object_or_404(Outcome, pk=int(raw), review=review)


def _can_assess(membership: Membership) -> bool:
    return membership.has_role(Role.REVIEWER)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))  # django-htmx middleware sets it


def _with_outcome(url: str, outcome_id: int | None) -> str:
    return url + (f"?outcome={outcome_id}" if outcome_id else "")


def _htmx_refresh() -> HttpResponse:
    response = HttpResponse(status=204)
    response["HX-Refresh"] = "true"
    return response


PageContext = Callable[[RobAssessment, dict[str, Any] | None], dict[str, Any]]


@dataclass(frozen=True)
class SavedAnswer:
    """What a page says after a save: its message, and where a plain (non-htmx) post goes."""

    message: str
    next_url: str
    next_label: str = ""


def _save(
    request: HttpRequest,
    assessment: RobAssessment,
    *,
    tool: RobTool,
    page: PageContext,
    template: str,
    answer: Callable[[RobAssessment], SavedAnswer],
) -> HttpResponse:
    """Save the posted assessment form. From htmx the answer is the fragments a save changes
    (version, status, proposals, a message, errors beside their fields), swapped in place so
    the scroll, the focus and anything typed meanwhile stay; a refusal (400, or 409 when
    someone saved first) is swapped the same way. A plain post gets the page again when
    refused, else a redirect."""
    data = assess_form.form_data(request.POST, assessment.spec, tool.spec)
    try:
        saved = services.assessment_save(
            assessment=assessment,
            user=request.user,
            version=assess_form.version(request.POST),
            complete=request.POST.get("action") == "complete",
            **data,
        )
    except DomainError as exc:
        current = exc.current if isinstance(exc, services.VersionConflict) else assessment
        context = page(current, data)
        assess_form.add_refusal(context, exc)
        template = "rob/fragments/saved.html" if _is_htmx(request) else template
        return render(request, template, context, status=refused_status(exc))
    said = answer(saved)
    before, after = assessment.spec, saved.spec
    if not _is_htmx(request) or (before.variant, before.stopped) != (after.variant, after.stopped):
        messages.success(request, said.message)
        # Another variant asks other questions: htmx loads the page again to draw them.
        return _htmx_refresh() if _is_htmx(request) else redirect(said.next_url)
    context = page(saved, None)
    context["saved"] = said
    return render(request, "rob/fragments/saved.html", context)


# ----------------------------------------------------------------------------- tools


@review_view()
def rob_home(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    tools = list(selectors.rob_tools(review=review))
    context = {
        "review": review,
        "membership": membership,
        "tools": tools,
        "form": ToolForm(),
        "study_count": len(selectors.included_studies(review=review)),
    }
    return render(request, "rob/home.html", context)


@review_view(Role.LEAD)
@require_POST
def tool_add(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    form = ToolForm(request.POST)
    if form.is_valid():
        try:
            tool = services.tool_create(
                review=review,
                user=request.user,
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                mode=form.cleaned_data["mode"],
                definition=form.definition(),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"{tool.name} added.")
            return redirect("rob_assessments", review_pk=review.pk, tool_pk=tool.pk)
    context = {
        "review": review,
        "membership": membership,
        "tools": selectors.rob_tools(review=review),
        "form": form,
        "study_count": len(selectors.included_studies(review=review)),
    }
    return render(request, "rob/home.html", context, status=400)


@review_view(Role.LEAD)
def tool_settings(
    request: HttpRequest, *, review: Review, membership: Membership, tool_pk: int
) -> HttpResponse:
    tool = _tool(review, tool_pk)
    initial = {"kind": tool.kind, "name": tool.name, "mode": tool.mode}
    initial.update(definition_as_text(tool.definition))
    initial["per_result"] = tool.definition.get("per_result", False)
    form = ToolForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and request.POST.get("action") == "delete":
        return call_and_redirect(
            request,
            lambda: services.tool_delete(tool=tool),
            to=reverse("rob_home", args=[review.pk]),
            error_to=reverse("rob_tool_settings", args=[review.pk, tool.pk]),
            success=f"{tool.name} deleted.",
        )
    if request.method == "POST":
        if form.is_valid():
            try:
                services.tool_update(
                    tool=tool,
                    name=form.cleaned_data["name"] or tool.name,
                    mode=form.cleaned_data["mode"],
                    definition=form.definition() if tool.kind == RobTool.Kind.CUSTOM else None,
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "Tool settings saved.")
                return redirect("rob_assessments", review_pk=review.pk, tool_pk=tool.pk)
        status = 400
    context = {"review": review, "membership": membership, "tool": tool, "form": form}
    return render(request, "rob/tool_settings.html", context, status=status)


# ----------------------------------------------------------------------------- assessments


@review_view()
def assessment_list(
    request: HttpRequest, *, review: Review, membership: Membership, tool_pk: int
) -> HttpResponse:
    tool = _tool(review, tool_pk)
    all_outcomes = list(selectors.outcomes(review=review))
    outcome = _outcome(request, review, tool)
    if tool.per_result and outcome is None and all_outcomes:
        outcome = all_outcomes[0]
    rows = selectors.assessment_grid(tool=tool, user=request.user, outcome=outcome)
    context = {
        "review": review,
        "membership": membership,
        "tool": tool,
        "spec": tool.spec,
        "rows": rows,
        "outcomes": all_outcomes,
        "outcome": outcome,
        "can_assess": _can_assess(membership),
        "can_reconcile": membership.has_role(Role.ARBITER),
        "direct_domains": [d for d in tool.spec.domains if d.algorithm is None],
        "grid_domains": selectors.grid_domains(tool=tool),
        "complete": sum(1 for r in rows if r.feeding and r.feeding.status == "complete"),
    }
    return render(request, "rob/assessments.html", context)


def _assessed(
    review: Review, tool: RobTool, study: Study
) -> Callable[[RobAssessment], SavedAnswer]:
    def answer(saved: RobAssessment) -> SavedAnswer:
        state = "complete" if saved.status == "complete" else "saved as a draft"
        here = reverse("rob_assess", args=[review.pk, tool.pk, study.pk])
        grid = reverse("rob_assessments", args=[review.pk, tool.pk])
        return SavedAnswer(
            message=f"Assessment of {study.label} {state} (version {saved.version}).",
            next_url=_with_outcome(grid if state == "complete" else here, saved.outcome_id),
            next_label=f"Back to {tool.name}" if state == "complete" else "",
        )

    return answer


@review_view(Role.REVIEWER)
def assess(
    request: HttpRequest, *, review: Review, membership: Membership, tool_pk: int, study_pk: int
) -> HttpResponse:
    tool = _tool(review, tool_pk)
    study = get_object_or_404(Study, pk=study_pk, review=review)
    outcome = _outcome(request, review, tool)
    # Viewing shows a blank assessment; the first save creates it.
    open_or_blank = (
        services.assessment_open if request.method == "POST" else services.assessment_or_blank
    )
    try:
        assessment = open_or_blank(tool=tool, study=study, outcome=outcome, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("rob_assessments", review_pk=review.pk, tool_pk=tool.pk)

    def page(shown: RobAssessment, data: dict[str, Any] | None) -> dict[str, Any]:
        return assess_form.context(review, membership, tool, shown, data)

    if request.method != "POST":
        return render(request, "rob/assess.html", page(assessment, None))
    return _save(
        request,
        assessment,
        tool=tool,
        page=page,
        template="rob/assess.html",
        answer=_assessed(review, tool, study),
    )


@review_view(Role.REVIEWER)
@require_POST
def judge_all(
    request: HttpRequest, *, review: Review, membership: Membership, tool_pk: int
) -> HttpResponse:
    """One judgement and support for a domain in every included study (e.g. blinding that
    the intervention makes impossible)."""
    tool = _tool(review, tool_pk)
    outcome = _outcome(request, review, tool)
    try:
        result = services.domain_judge_all(
            tool=tool,
            studies=list(selectors.included_studies(review=review)),
            outcome=outcome,
            user=request.user,
            domain=request.POST.get("domain", ""),
            final=request.POST.get("final", ""),
            support=request.POST.get("support", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        text = f"{request.POST.get('domain')} judged {request.POST.get('final')} in "
        text += f"{len(result['done'])} stud{'y' if len(result['done']) == 1 else 'ies'}."
        if result["skipped"]:
            text += " Left as they were (already judged or complete): "
            text += ", ".join(result["skipped"]) + "."
        messages.success(request, text)
    target = reverse("rob_assessments", args=[review.pk, tool.pk])
    return redirect(target + (f"?outcome={outcome.pk}" if outcome else ""))


@review_view(Role.REVIEWER)
@require_POST
def propose(
    request: HttpRequest, *, review: Review, membership: Membership, tool_pk: int
) -> HttpResponse:
    """htmx: the proposed judgements for the answers in the form, as out-of-band swaps."""
    tool = _tool(review, tool_pk)
    base = tool.spec
    post = request.POST
    spec = base.resolve(assess_form.preliminary_data(post, base) if "pre_shown" in post else {})
    data = assess_form.form_data(post, spec, base)
    sections = assess_form.sections(spec, data["answers"], data["domains"])
    context = {
        "sections": sections,
        "proposed_overall": assess_form.overall_proposal(spec, sections),
    }
    return render(request, "rob/fragments/proposals.html", context)


@dataclass(frozen=True)
class ConsensusPage:
    """The study, result and pair of independent assessments a consensus page compares."""

    review: Review
    membership: Membership
    tool: RobTool
    study: Study
    outcome: Outcome | None
    left: RobAssessment
    right: RobAssessment

    @property
    def url(self) -> str:
        here = reverse("rob_consensus", args=[self.review.pk, self.tool.pk, self.study.pk])
        return _with_outcome(here, self.outcome.pk if self.outcome else None)

    def context(
        self, current: RobAssessment | None, data: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        tool, left, right = self.tool, self.left, self.right
        context = {
            "review": self.review,
            "membership": self.membership,
            "tool": tool,
            "study": self.study,
            "outcome": self.outcome,
            "left": left,
            "right": right,
            "consensus": current,
            "diffs": selectors.comparison(tool=tool, left=left, right=right, consensus=current),
            "preliminary_diffs": selectors.preliminary_comparison(
                tool=tool, left=left, right=right, consensus=current
            ),
            "licence": tool.spec.licence,
        }
        if current is not None:
            context.update(assess_form.context(self.review, self.membership, tool, current, data))
        return context

    def saved(self, saved: RobAssessment) -> SavedAnswer:
        return SavedAnswer(message="Consensus saved.", next_url=self.url)


def _take(request: HttpRequest, page: ConsensusPage, current: RobAssessment) -> None:
    """Take one side's preliminary considerations or domain (action "take:<side>:<domain>")."""
    _, side, domain = request.POST.get("action", "").split(":", 2)
    source = page.left if side == "left" else page.right
    services.consensus_accept(
        consensus=current,
        source=source,
        domain=domain,
        user=request.user,
        version=assess_form.version(request.POST, current.version),
    )
    what = "preliminary considerations" if domain == "preliminary" else "answers"
    messages.success(request, f"{domain}: took {source.assessor}'s {what}.")


def _consensus_post(
    request: HttpRequest, page: ConsensusPage, current: RobAssessment | None
) -> HttpResponse:
    """Start the consensus, take a side, or save the consensus form."""
    action = request.POST.get("action", "")
    tool, study, outcome = page.tool, page.study, page.outcome
    try:
        if current is None:
            current = services.consensus_open(
                tool=tool, study=study, outcome=outcome, user=request.user
            )
        if action in ("save", "complete"):
            return _save(
                request,
                current,
                tool=tool,
                page=page.context,
                template="rob/consensus.html",
                answer=page.saved,
            )
        if action.count(":") == 2 and action.startswith("take:"):
            _take(request, page, current)
    except DomainError as exc:
        messages.error(request, exc.message)
        if current is not None:
            current.refresh_from_db()
        context = page.context(current)
        return render(request, "rob/consensus.html", context, status=refused_status(exc))
    return redirect(page.url)


@review_view(Role.ARBITER)
def consensus(
    request: HttpRequest, *, review: Review, membership: Membership, tool_pk: int, study_pk: int
) -> HttpResponse:
    tool = _tool(review, tool_pk)
    study = get_object_or_404(Study, pk=study_pk, review=review)
    outcome = _outcome(request, review, tool)
    pair = selectors.independent_pair(tool=tool, study=study, outcome=outcome)
    if tool.mode != RobTool.Mode.DUAL or len(pair) < 2:
        messages.error(request, "Consensus needs two independent assessments of this study.")
        return redirect("rob_assessments", review_pk=review.pk, tool_pk=tool.pk)
    page = ConsensusPage(review, membership, tool, study, outcome, *pair)
    current = selectors.consensus_of(tool=tool, study=study, outcome=outcome)
    if request.method == "POST":
        return _consensus_post(request, page, current)
    return render(request, "rob/consensus.html", page.context(current))


# ----------------------------------------------------------------------------- summary


@review_view()
def summary(
    request: HttpRequest, *, review: Review, membership: Membership, tool_pk: int
) -> HttpResponse:
    tool = _tool(review, tool_pk)
    outcome = _outcome(request, review, tool)
    weighted = request.GET.get("weighted") == "1"
    rows = selectors.plot_rows(tool=tool, outcome=outcome)
    spec = selectors.plot_spec(tool=tool, rows=rows)
    context = {
        "review": review,
        "membership": membership,
        "tool": tool,
        "outcome": outcome,
        "outcomes": selectors.outcomes(review=review) if tool.per_result else [],
        "weighted": weighted,
        "rows": rows,
        "traffic_light": json.loads(traffic_light(rows, spec).to_json()) if rows else None,
        "summary": json.loads(summary_bar(rows, spec, weighted=weighted).to_json())
        if rows
        else None,
        "robvis": selectors.robvis_export(tool=tool, outcome=outcome),
        "designs": [f.choices for f in tool.spec.preliminary if f.id == "design"][:1][0]
        if any(f.id == "design" for f in tool.spec.preliminary)
        else [],
    }
    return render(request, "rob/summary.html", context)


@review_view()
def robvis_csv(
    request: HttpRequest, *, review: Review, membership: Membership, tool_pk: int
) -> HttpResponse:
    tool = _tool(review, tool_pk)
    outcome = _outcome(request, review, tool)
    export = selectors.robvis_export(
        tool=tool, outcome=outcome, design=request.GET.get("design", "")
    )
    response = HttpResponse(export.csv, content_type="text/csv; charset=utf-8")
    name = f"robvis-{export.template.lower()}-review{review.pk}-tool{tool.pk}"
    if outcome:
        name += f"-outcome{outcome.pk}"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@review_view()
def answers_csv(
    request: HttpRequest, *, review: Review, membership: Membership, tool_pk: int
) -> HttpResponse:
    """Every completed assessment's preliminary considerations, answers with the question
    text, and judgements; the tool's licence notice comes first."""
    tool = _tool(review, tool_pk)
    outcome = _outcome(request, review, tool)
    response = HttpResponse(
        selectors.answers_csv(tool=tool, outcome=outcome), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="rob-answers-review{review.pk}-tool{tool.pk}.csv"'
    )
    return response
