"""The assessment form of the Assess and Consensus pages: one place owns its input names
(reading a post into what `services.assessment_save` takes), what the form shows per domain,
and where a refused save's message goes beside the fields."""

from typing import Any

from django.http import QueryDict

from extraction.rob import services
from extraction.rob.models import RobAssessment, RobTool
from extraction.rob.tools import RESPONSE_LABELS, Tool
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review


def preliminary_data(post: QueryDict, base: Tool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for f in base.preliminary:
        if f.kind == "multi":
            data[f.id] = post.getlist(f"pre_{f.id}")
        else:
            data[f.id] = post.get(f"pre_{f.id}", "")
    return data


def form_data(post: QueryDict, shown: Tool, base: Tool) -> dict[str, Any]:
    """Preliminary considerations, answers, per-domain judgements and the overall judgement
    from the assessment form. `shown` is the variant the form was drawn for: when the
    preliminary considerations chose another, only the answers and judgements that still
    mean the same carry over (the page then draws the new variant's questions)."""
    preliminary = preliminary_data(post, base) if "pre_shown" in post else None
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


def version(post: QueryDict, default: int = 0) -> int:
    """The version the form was loaded at; anything unreadable can only conflict."""
    raw = post.get("version", "")
    return int(raw) if raw.isdigit() else default


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


def sections(spec: Tool, answers: dict, domains: dict) -> list[dict[str, Any]]:
    """What the assessment form shows per domain: questions with their state, proposals."""
    shown = []
    for domain in spec.domains:
        proposal = spec.propose_domain(domain.key, answers)
        entry = domains.get(domain.key) or {}
        override = entry.get("final", "") if entry.get("final") != proposal.judgement else ""
        if not domain.algorithm:
            override = entry.get("final", "")
        shown.append(
            {
                "domain": domain,
                "judgement_options": list(spec.domain_judgements(domain.key)),
                "has_algorithm": domain.algorithm is not None,
                "proposal": proposal,
                "override": override,
                "justification": entry.get("justification", ""),
                "support": entry.get("support", ""),
                "error": "",
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
    return shown


def overall_proposal(spec: Tool, shown: list[dict[str, Any]]) -> str:
    finals = {s["domain"].key: s["override"] or s["proposal"].judgement for s in shown}
    return spec.propose_overall(finals) or ""


def context(
    review: Review,
    membership: Membership,
    tool: RobTool,
    assessment: RobAssessment,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The form drawn for `assessment`, or for what was posted (`data`) after a refusal."""
    base = tool.spec
    preliminary = (
        data["preliminary"] if data and data["preliminary"] is not None else assessment.preliminary
    )
    spec = base.resolve(preliminary)
    answers = data["answers"] if data else assessment.answers
    domains = data["domains"] if data else assessment.domains
    shown = sections(spec, answers, domains)
    proposed_overall = overall_proposal(spec, shown)
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
        "sections": shown,
        "proposed_overall": proposed_overall,
        "overall_override": overall if overall != proposed_overall else "",
        "overall_justification": overall_justification,
        "judgement_options": list(spec.judgements),
    }


def _slot(field: str | None, spec: Tool) -> str:
    """Which part of the form a refused field belongs to: a domain key, "overall",
    "preliminary", or "" (the form as a whole)."""
    parts = (field or "").split(".", 1)
    if parts[0] in ("overall", "overall_justification"):
        return "overall"
    if parts[0] == "preliminary":
        return "preliminary"
    if parts[0] == "domains" and len(parts) == 2:
        return parts[1].split(".", 1)[0]
    if parts[0] == "answers" and len(parts) == 2:
        for domain in spec.domains:
            if any(q.id == parts[1] for q in domain.questions):
                return domain.key
    return ""


def add_refusal(page: dict[str, Any], exc: DomainError) -> None:
    """Put a refused save's message into the page context `page`: a conflict with both
    versions, or the error, repeated beside the field it concerns."""
    if isinstance(exc, services.VersionConflict):
        page["conflict"] = exc
        page["theirs"] = sections(exc.current.spec, exc.current.answers, exc.current.domains)
        return
    page["error"] = exc
    slot = _slot(exc.field, page["spec"])
    for section in page["sections"]:
        if section["domain"].key == slot:
            section["error"] = exc.message
    page["overall_error"] = exc.message if slot == "overall" else ""
    page["preliminary_error"] = exc.message if slot == "preliminary" else ""
