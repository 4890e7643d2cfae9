"""Risk-of-bias pages: tools, the assessment grid, the assessment form with live proposals,
the comparison/consensus page and the robvis-style summary."""

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from extraction.models import Outcome
from extraction.rob import selectors, services
from extraction.rob.forms import ToolForm, definition_as_text
from extraction.rob.models import RobAssessment, RobTool
from extraction.rob.plots import summary_bar, traffic_light
from extraction.rob.tools import RESPONSE_LABELS, Tool
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


def _preliminary_data(post: QueryDict, base: Tool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in base.preliminary:
        if f.kind == "multi":
            data[f.id] = post.getlist(f"pre_{f.id}")
        else:
            data[f.id] = post.get(f"pre_{f.id}", "")
    return data


def _form_data(post: QueryDict, shown: Tool, base: Tool) -> dict[str, Any]:
    """Preliminary considerations, answers, per-domain judgements and the overall judgement
    from the assessment form. `shown` is the variant the form was drawn for: when the
    preliminary considerations chose another, only the answers and judgements that still
    mean the same carry over (the page then draws the new variant's questions)."""
    preliminary = _preliminary_data(post, base) if "pre_shown" in post else None
    spec = base.resolve(preliminary) if preliminary is not None else shown
    answers = {
        q.id: post.get(f"q_{q.id}", "")
        for d in shown.domains
        for q in d.questions
        if post.get(f"q_{q.id}", "")
    }
    answers = services.carry_over(shown, spec, answers)
    keys = {d.key for d in spec.domains}
    domains = {
        d.key: {
            "final": post.get(f"final_{d.key}", ""),
            "justification": post.get(f"justification_{d.key}", ""),
            "support": post.get(f"support_{d.key}", ""),
        }
        for d in shown.domains
        if d.key in keys
    }
    return {
        "preliminary": preliminary,
        "answers": answers,
        "domains": domains,
        "overall": post.get("overall", ""),
        "overall_justification": post.get("overall_justification", ""),
    }


def _preliminary_fields(base: Tool, preliminary: dict[str, Any]) -> list[dict[str, Any]]:
    values = base.preliminary_with_defaults(preliminary)
    return [
        {
            "field": f,
            "value": values.get(f.id),
            "shown": f.shown(values),
            "choices": [
                (
                    v,
                    label,
                    v in (values.get(f.id) or []) if f.kind == "multi" else v == values[f.id],
                )
                for v, label in f.choices
            ],
        }
        for f in base.preliminary
    ]


def _sections(spec: Tool, answers: dict, domains: dict) -> list[dict[str, Any]]:
    """What the assessment form shows per domain: questions with their state, proposals."""
    sections = []
    for domain in spec.domains:
        proposal = spec.propose_domain(domain.key, answers)
        entry = domains.get(domain.key) or {}
        override = entry.get("final", "") if entry.get("final") != proposal.judgement else ""
        if not domain.algorithm:
            override = entry.get("final", "")
        sections.append(
            {
                "domain": domain,
                "judgement_options": list(spec.domain_judgements(domain.key)),
                "has_algorithm": domain.algorithm is not None,
                "proposal": proposal,
                "override": override,
                "justification": entry.get("justification", ""),
                "support": entry.get("support", ""),
                "questions": [
                    {
                        "q": q,
                        "dom_id": q.id.replace(".", "-"),
                        "answer": answers.get(q.id, ""),
                        "applies": q.applies(answers),
                        "options": [(o, RESPONSE_LABELS.get(o, o)) for o in q.options],
                    }
                    for q in domain.questions
                ],
            }
        )
    return sections


def _overall_proposal(spec: Tool, sections: list[dict[str, Any]]) -> str:
    finals = {s["domain"].key: s["override"] or s["proposal"].judgement for s in sections}
    return spec.propose_overall(finals) or ""


def _version(post: QueryDict, default: int = 0) -> int:
    """The version the form was loaded at; anything unreadable can only conflict."""
    raw = post.get("version", "")
    return int(raw) if raw.isdigit() else default


def _can_assess(membership: Membership) -> bool:
    return membership.has_role(Role.REVIEWER)


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


def _assess_context(
    review: Review,
    membership: Membership,
    tool: RobTool,
    assessment: RobAssessment,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    base = tool.spec
    preliminary = (
        data["preliminary"] if data and data["preliminary"] is not None else assessment.preliminary
    )
    spec = base.resolve(preliminary)
    answers = data["answers"] if data else assessment.answers
    domains = data["domains"] if data else assessment.domains
    sections = _sections(spec, answers, domains)
    proposed_overall = _overall_proposal(spec, sections)
    overall = data["overall"] if data else assessment.overall
    overall_justification = (
        data["overall_justification"] if data else assessment.overall_justification
    )
    return {
        "review": review,
        "membership": membership,
        "tool": tool,
        "spec": spec,
        "assessment": assessment,
        "preliminary_fields": _preliminary_fields(base, preliminary),
        "licence": base.licence,
        "sections": sections,
        "proposed_overall": proposed_overall,
        "overall_override": overall if overall != proposed_overall else "",
        "overall_justification": overall_justification,
        "judgement_options": list(spec.judgements),
    }


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
    if request.method != "POST":
        return render(
            request, "rob/assess.html", _assess_context(review, membership, tool, assessment)
        )
    data = _form_data(request.POST, assessment.spec, tool.spec)
    try:
        saved = services.assessment_save(
            assessment=assessment,
            user=request.user,
            version=_version(request.POST),
            complete=request.POST.get("action") == "complete",
            **data,
        )
    except services.VersionConflict as exc:
        context = _assess_context(review, membership, tool, exc.current, data)
        context["conflict"] = exc
        context["theirs"] = _sections(exc.current.spec, exc.current.answers, exc.current.domains)
        return render(request, "rob/assess.html", context, status=refused_status(exc))
    except DomainError as exc:
        context = _assess_context(review, membership, tool, assessment, data)
        context["error"] = exc
        return render(request, "rob/assess.html", context, status=400)
    state = "complete" if saved.status == "complete" else "saved as a draft"
    messages.success(request, f"Assessment of {study.label} {state} (version {saved.version}).")
    target = reverse("rob_assess", args=[review.pk, tool.pk, study.pk])
    if saved.outcome_id:
        target += f"?outcome={saved.outcome_id}"
    if request.POST.get("action") == "complete":
        target = reverse("rob_assessments", args=[review.pk, tool.pk])
        if saved.outcome_id:
            target += f"?outcome={saved.outcome_id}"
    return redirect(target)


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
    preliminary = _preliminary_data(request.POST, base) if "pre_shown" in request.POST else {}
    spec = base.resolve(preliminary)
    data = _form_data(request.POST, spec, base)
    sections = _sections(spec, data["answers"], data["domains"])
    context = {
        "sections": sections,
        "proposed_overall": _overall_proposal(spec, sections),
    }
    return render(request, "rob/fragments/proposals.html", context)


@review_view(Role.ARBITER)
def consensus(
    request: HttpRequest, *, review: Review, membership: Membership, tool_pk: int, study_pk: int
) -> HttpResponse:
    tool = _tool(review, tool_pk)
    study = get_object_or_404(Study, pk=study_pk, review=review)
    outcome = _outcome(request, review, tool)
    pair = selectors.independent_pair(
        tool=tool, study=study, outcome=outcome if tool.per_result else None
    )
    if tool.mode != RobTool.Mode.DUAL or len(pair) < 2:
        messages.error(request, "Consensus needs two independent assessments of this study.")
        return redirect("rob_assessments", review_pk=review.pk, tool_pk=tool.pk)
    left, right = pair
    current = RobAssessment.objects.filter(
        tool=tool, study=study, outcome=outcome if tool.per_result else None, kind="consensus"
    ).first()
    status = 200
    if request.method == "POST":
        try:
            if current is None:
                current = services.consensus_open(
                    tool=tool, study=study, outcome=outcome, user=request.user
                )
            action = request.POST.get("action", "")
            version = _version(request.POST, current.version)
            if action.count(":") == 2 and action.startswith("take:"):
                _, side, domain = action.split(":", 2)
                source = left if side == "left" else right
                current = services.consensus_accept(
                    consensus=current,
                    source=source,
                    domain=domain,
                    user=request.user,
                    version=version,
                )
                what = "preliminary considerations" if domain == "preliminary" else "answers"
                messages.success(request, f"{domain}: took {source.assessor}'s {what}.")
            elif action in ("save", "complete"):
                current = services.assessment_save(
                    assessment=current,
                    user=request.user,
                    version=version,
                    complete=action == "complete",
                    **_form_data(request.POST, current.spec, tool.spec),
                )
                messages.success(request, "Consensus saved.")
            target = reverse("rob_consensus", args=[review.pk, tool.pk, study.pk])
            return redirect(target + (f"?outcome={outcome.pk}" if outcome else ""))
        except DomainError as exc:
            messages.error(request, exc.message)
            status = refused_status(exc)
            if current is not None:
                current.refresh_from_db()
    context = {
        "review": review,
        "membership": membership,
        "tool": tool,
        "study": study,
        "outcome": outcome,
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
        context.update(_assess_context(review, membership, tool, current))
    return render(request, "rob/consensus.html", context, status=status)


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
