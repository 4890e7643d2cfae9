"""Writes on risk-of-bias tools and assessments. Keyword-only, atomic, DomainError on a rule."""

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction

from extraction.models import Outcome
from extraction.rob.models import RobAssessment, RobTool
from extraction.rob.tools import Tool
from reviewapp import events
from reviewapp.errors import DomainError, StaleVersion
from reviewapp.models import Review
from screening.models import Study

MAX_TEXT = 5000


class VersionConflict(StaleVersion):
    """Someone saved the assessment since this copy was loaded; `current` is what they saved."""

    current: RobAssessment

    def __init__(self, *, current: RobAssessment, submitted: dict[str, Any]) -> None:
        who = current.updated_by.get_username() if current.updated_by else "someone"
        super().__init__(
            f"{who} saved this assessment (version {current.version}) after you opened it. "
            "Nothing of yours was saved: compare both versions below and save again.",
            current=current,
            yours=submitted,
        )
        self.submitted = submitted


def _announce(review_id: int, study_ids: Iterable[int]) -> None:
    """Tell the later stages (analysis) which studies' judgements changed, in the transaction."""
    studies = frozenset(study_ids)
    if studies:
        events.publish(events.RobJudged(review_id, studies))


# ---------------------------------------------------------------------------- tools


def _validate_definition(definition: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(definition, Mapping):
        raise DomainError("A custom tool is a set of domains and judgements.", field="definition")
    judgements = [str(j).strip() for j in definition.get("judgements") or [] if str(j).strip()]
    if len(judgements) < 2:
        raise DomainError("Give at least two judgement options.", field="judgements")
    if len(set(judgements)) != len(judgements):
        raise DomainError("Judgement options must differ.", field="judgements")
    domains = []
    for i, raw in enumerate(definition.get("domains") or [], start=1):
        if not isinstance(raw, Mapping) or not str(raw.get("name", "")).strip():
            raise DomainError(f"Domain {i} needs a name.", field="domains")
        questions = [str(q).strip() for q in raw.get("questions") or [] if str(q).strip()]
        domains.append({"name": str(raw["name"]).strip()[:200], "questions": questions})
    if not domains:
        raise DomainError("Give at least one domain.", field="domains")
    return {
        "judgements": judgements,
        "domains": domains,
        "per_result": bool(definition.get("per_result", False)),
    }


@transaction.atomic
def tool_create(
    *,
    review: Review,
    user: Any,
    kind: str,
    name: str = "",
    mode: str = RobTool.Mode.SINGLE,
    definition: Mapping[str, Any] | None = None,
) -> RobTool:
    if kind not in RobTool.Kind.values:
        raise DomainError(f"Unknown tool {kind!r}.", field="kind")
    if mode not in RobTool.Mode.values:
        raise DomainError("Choose single or dual assessment.", field="mode")
    name = (name or "").strip() or str(RobTool.Kind(kind).label)
    clean: dict[str, Any] = {}
    if kind == RobTool.Kind.CUSTOM:
        clean = _validate_definition(definition or {})
    if RobTool.objects.filter(review=review, name=name).exists():
        raise DomainError(f"This review already has a tool named {name!r}.", field="name")
    try:
        with transaction.atomic():
            return RobTool.objects.create(
                review=review,
                kind=kind,
                name=name[:200],
                mode=mode,
                definition=clean,
                created_by=user,
            )
    except IntegrityError as exc:
        raise DomainError(f"This review already has a tool named {name!r}.", field="name") from exc


@transaction.atomic
def tool_update(
    *,
    tool: RobTool,
    name: str | None = None,
    mode: str | None = None,
    definition: Mapping[str, Any] | None = None,
) -> RobTool:
    tool = RobTool.objects.select_for_update().get(pk=tool.pk)
    if name is not None:
        name = name.strip()
        if not name:
            raise DomainError("A tool needs a name.", field="name")
        if RobTool.objects.filter(review_id=tool.review_id, name=name).exclude(pk=tool.pk).exists():
            raise DomainError(f"This review already has a tool named {name!r}.", field="name")
        tool.name = name[:200]
    if mode is not None:
        if mode not in RobTool.Mode.values:
            raise DomainError("Choose single or dual assessment.", field="mode")
        if mode != tool.mode:
            # Which assessments count (single ones or the consensus) follows the mode.
            _announce(tool.review_id, tool.assessments.values_list("study_id", flat=True))
        tool.mode = mode
    if definition is not None:
        if tool.kind != RobTool.Kind.CUSTOM:
            raise DomainError("Only custom tools can be redefined.", field="definition")
        clean = _validate_definition(definition)
        old = len(tool.definition.get("domains", []))
        if tool.assessments.exists() and len(clean["domains"]) < old:
            raise DomainError(
                "Assessments exist: add or rename domains, but do not remove them.",
                field="domains",
            )
        tool.definition = clean
    tool.save()
    return tool


# ---------------------------------------------------------------------------- assessments


def _slot(tool: RobTool, outcome: Outcome | None) -> Outcome | None:
    if tool.per_result and outcome is None:
        raise DomainError(
            f"{tool.name} is assessed per result: choose the outcome.", field="outcome"
        )
    if not tool.per_result and outcome is not None:
        return None  # a per-study tool ignores the outcome
    return outcome


def _check_scope(tool: RobTool, study: Study, outcome: Outcome | None) -> None:
    if study.review_id != tool.review_id:
        raise DomainError("That study is not in this review.", field="study")
    if outcome is not None and outcome.review_id != tool.review_id:
        raise DomainError("That outcome is not in this review.", field="outcome")


def _own_lookup(tool: RobTool, study: Study, outcome: Outcome | None, user: Any) -> dict[str, Any]:
    _check_scope(tool, study, outcome)
    dual = tool.mode == RobTool.Mode.DUAL
    return {
        "tool": tool,
        "study": study,
        "outcome": _slot(tool, outcome),
        "kind": RobAssessment.Kind.INDEPENDENT if dual else RobAssessment.Kind.SINGLE,
        "assessor": user if dual else None,
    }


def assessment_or_blank(
    *, tool: RobTool, study: Study, outcome: Outcome | None, user: Any
) -> RobAssessment:
    """The assessment `user` works on, or an unsaved blank one: viewing the page creates
    nothing, so a study nobody has assessed never shows as "In progress"."""
    lookup = _own_lookup(tool, study, outcome, user)
    return _existing(lookup) or RobAssessment(review_id=tool.review_id, **lookup)


def _existing(lookup: dict[str, Any]) -> RobAssessment | None:
    """The stored assessment of `lookup`, holding the caller's tool, study and outcome rather
    than loading each again when the page reads them."""
    found = RobAssessment.objects.filter(**lookup).first()
    if found is not None:
        found.tool, found.study, found.outcome = lookup["tool"], lookup["study"], lookup["outcome"]
    return found


def assessment_open(
    *, tool: RobTool, study: Study, outcome: Outcome | None, user: Any
) -> RobAssessment:
    """The assessment `user` works on for this study (and result): the shared one in single
    mode, the user's own independent one in dual mode. Created by the first save; idempotent."""
    lookup = _own_lookup(tool, study, outcome, user)
    existing = _existing(lookup)
    if existing:
        return existing
    try:
        with transaction.atomic():
            return RobAssessment.objects.create(review_id=tool.review_id, updated_by=user, **lookup)
    except IntegrityError:  # a double click created it first
        return RobAssessment.objects.get(**lookup)


def consensus_open(
    *, tool: RobTool, study: Study, outcome: Outcome | None, user: Any
) -> RobAssessment:
    """The consensus assessment, started from what both assessors agree on."""
    _check_scope(tool, study, outcome)
    outcome = _slot(tool, outcome)
    if tool.mode != RobTool.Mode.DUAL:
        raise DomainError("Consensus is for tools assessed in dual mode.", field="mode")
    lookup = {
        "tool": tool,
        "study": study,
        "outcome": outcome,
        "kind": RobAssessment.Kind.CONSENSUS,
    }
    existing = RobAssessment.objects.filter(**lookup).first()
    if existing:
        return existing
    sides = list(
        RobAssessment.objects.filter(
            tool=tool, study=study, outcome=outcome, kind=RobAssessment.Kind.INDEPENDENT
        ).order_by("id")[:2]
    )
    if len(sides) < 2:
        raise DomainError("Consensus needs two independent assessments.", field="consensus")
    first, second = sides
    preliminary = {k: v for k, v in first.preliminary.items() if second.preliminary.get(k) == v}
    spec = tool.spec.resolve(preliminary)
    # An answer both gave stands only where it answers the same question in the consensus's
    # variant (RoB 2's "2.3" means something else for the effect of adhering).
    answers = {
        q: v
        for q, v in first.answers.items()
        if second.answers.get(q) == v
        and _same_question(first.spec, spec, q)
        and _same_question(second.spec, spec, q)
    }
    domains: dict[str, dict[str, str]] = {}
    for key in {*first.domains, *second.domains}:
        a, b = first.domains.get(key) or {}, second.domains.get(key) or {}
        if a.get("final") and a.get("final") == b.get("final"):
            domains[key] = {
                "final": a["final"],
                "justification": "",
                "support": a.get("support", ""),
            }
    try:
        with transaction.atomic():
            consensus = RobAssessment.objects.create(
                review_id=tool.review_id,
                updated_by=user,
                preliminary=preliminary,
                answers=answers,
                domains={k: v for k, v in domains.items() if k in {d.key for d in spec.domains}},
                **lookup,
            )
    except IntegrityError:
        return RobAssessment.objects.get(**lookup)
    _recompute(consensus, spec)
    consensus.save()
    _announce(consensus.review_id, {consensus.study_id})
    return consensus


def _recompute(assessment: RobAssessment, spec: Tool) -> None:
    """Refresh the proposed judgements; a final judgement left equal to the old proposal
    follows the new proposal (it was never overridden)."""
    keys = {d.key for d in spec.domains}
    domains = {k: v for k, v in assessment.domains.items() if k in keys}
    for domain in spec.domains:
        entry = dict(domains.get(domain.key) or {})
        proposed = spec.propose_domain(domain.key, assessment.answers).judgement or ""
        if entry.get("final", "") in ("", entry.get("proposed", "")) and not entry.get(
            "justification"
        ):
            entry["final"] = proposed
        entry["proposed"] = proposed
        domains[domain.key] = entry
    assessment.domains = domains
    finals = {d.key: domains[d.key].get("final") or None for d in spec.domains}
    old_proposed = assessment.overall_proposed
    assessment.overall_proposed = spec.propose_overall(finals) or ""
    if assessment.overall in ("", old_proposed) and not assessment.overall_justification:
        assessment.overall = assessment.overall_proposed


def _same_question(old: Tool, new: Tool, qid: str) -> bool:
    """Whether `qid` asks the same thing in both variants (an answer can carry over)."""
    try:
        return old.question(qid).text == new.question(qid).text
    except KeyError:
        return False


def carry_over(old: Tool, new: Tool, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers that still answer the same questions after the preliminary considerations
    switch variant (e.g. RoB 2's effect of assignment to the effect of adhering keeps 2.1 and
    2.2 and drops the rest of domain 2)."""
    return {q: v for q, v in answers.items() if q in _question_ids(new) and (
        q not in _question_ids(old) or _same_question(old, new, q)
    )}  # fmt: skip


def _question_ids(spec: Tool) -> set[str]:
    return {q.id for d in spec.domains for q in d.questions}


def _clean_answers(base: Tool, spec: Tool, answers: Mapping[str, Any]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for qid, value in (answers or {}).items():
        value = str(value or "").strip().upper()
        if not value:
            continue
        try:
            question = spec.question(str(qid))
        except KeyError as exc:
            known = any(qid in _question_ids(v) for v in _variants(base))
            message = (
                f"Question {qid} is not asked in this variant ({spec.variant}): check the "
                "preliminary considerations."
                if known
                else f"{base.name} has no question {qid}."
            )
            raise DomainError(message, field="answers") from exc
        if value not in question.options:
            allowed = ", ".join(question.options)
            raise DomainError(
                f"Question {qid}: {value!r} is not one of {allowed}.", field=f"answers.{qid}"
            )
        clean[str(qid)] = value
    return clean


def _variants(base: Tool) -> list[Tool]:
    return [spec for _, spec in variants(base)]


def variants(base: Tool) -> list[tuple[dict[str, Any], Tool]]:
    """Every variant of a tool with preliminary considerations that select it: each choice
    of each "choice" consideration (identical variants listed once)."""
    if base.resolver is None:
        return [({}, base)]
    choices = [
        [(f.id, value) for value, _ in f.choices] for f in base.preliminary if f.kind == "choice"
    ]
    found: dict[tuple[str, str], tuple[dict[str, Any], Tool]] = {}
    for combination in itertools.product(*choices):
        preliminary: dict[str, Any] = dict(combination)
        spec = base.resolve(preliminary)
        found.setdefault((spec.variant, spec.stopped), (preliminary, spec))
    return list(found.values())


def _clean_preliminary(base: Tool, preliminary: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(preliminary, Mapping):
        raise DomainError("Preliminary considerations are named fields.", field="preliminary")
    fields = {f.id: f for f in base.preliminary}
    clean: dict[str, Any] = {}
    for key, value in preliminary.items():
        spec = fields.get(str(key))
        if spec is None:
            raise DomainError(
                f"{base.name} has no preliminary consideration {key!r}.", field="preliminary"
            )
        allowed = {v for v, _ in spec.choices}
        if spec.kind == "multi":
            values = [str(v) for v in (value or [])] if not isinstance(value, str) else [value]
            unknown = [v for v in values if v not in allowed]
            if unknown:
                raise DomainError(
                    f"{spec.label}: {', '.join(unknown)} is not one of the options.",
                    field=f"preliminary.{key}",
                )
            clean[spec.id] = [v for v, _ in spec.choices if v in values]
        elif spec.kind == "choice":
            value = str(value or "").strip()
            if value and value not in allowed:
                raise DomainError(
                    f"{spec.label}: {value!r} is not one of {', '.join(sorted(allowed))}.",
                    field=f"preliminary.{key}",
                )
            if value:
                clean[spec.id] = value
        else:
            text = str(value or "").strip()[:MAX_TEXT]
            if text:
                clean[spec.id] = text
    return clean


def _clean_domains(
    spec: Tool, domains: Mapping[str, Any], answers: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    clean: dict[str, dict[str, str]] = {}
    keys = {d.key for d in spec.domains}
    for key, raw in (domains or {}).items():
        if key not in keys:
            raise DomainError(f"{spec.name} has no domain {key}.", field="domains")
        raw = raw or {}
        final = str(raw.get("final") or "").strip()
        allowed = spec.domain_judgements(key)
        if final and final not in allowed:
            raise DomainError(
                f"{key}: {final!r} is not a judgement of {spec.name} for this domain "
                f"({', '.join(allowed)}).",
                field=f"domains.{key}.final",
            )
        justification = str(raw.get("justification") or "").strip()[:MAX_TEXT]
        support = str(raw.get("support") or "").strip()[:MAX_TEXT]
        proposal = spec.propose_domain(key, answers)
        proposed = proposal.judgement or ""
        if final and proposed and final != proposed and not justification:
            raise DomainError(
                f"{key}: the algorithm proposes {proposed!r}; say why you judge it {final!r}.",
                field=f"domains.{key}.justification",
            )
        if final and not proposed and proposal.needs and not justification:
            # Judged before the answers are complete: the same duty to explain as an override.
            raise DomainError(
                f"{key}: the answers do not give a judgement yet (question {proposal.needs} is "
                f"unanswered); say why you judge it {final!r} already.",
                field=f"domains.{key}.justification",
            )
        clean[key] = {
            "proposed": proposed,
            "final": final or proposed,
            "justification": justification if final and final != proposed else "",
            "support": support,
        }
    return clean


@transaction.atomic
def assessment_save(
    *,
    assessment: RobAssessment,
    user: Any,
    version: int,
    answers: Mapping[str, Any] | None = None,
    domains: Mapping[str, Any] | None = None,
    overall: str | None = None,
    overall_justification: str = "",
    complete: bool = False,
    preliminary: Mapping[str, Any] | None = None,
) -> RobAssessment:
    """Save preliminary considerations, answers, per-domain final judgements and support
    text. A judgement that differs from the algorithm's proposal, or is given before the
    answers yield one, needs a justification. The preliminary considerations choose the
    variant: answers are checked against it, and stored answers to questions the new variant
    does not ask (or asks differently) are dropped. `version` is the one the user loaded: if
    someone saved since, nothing is written and VersionConflict carries both versions."""
    current = (
        RobAssessment.objects.select_for_update(of=("self",))
        .select_related("tool", "updated_by", "assessor")
        .get(pk=assessment.pk)
    )
    submitted = {
        "preliminary": dict(preliminary or {}),
        "answers": dict(answers or {}),
        "domains": dict(domains or {}),
        "overall": overall or "",
        "overall_justification": overall_justification,
    }
    if int(version) != current.version:
        raise VersionConflict(current=current, submitted=submitted)
    base = current.tool.spec
    old_spec = current.spec
    if preliminary is not None:
        current.preliminary = _clean_preliminary(base, preliminary)
    spec = current.spec
    if answers is not None:
        current.answers = _clean_answers(base, spec, answers)
    else:
        current.answers = carry_over(old_spec, spec, current.answers)
    merged = {k: dict(v) for k, v in current.domains.items()}
    if domains is not None:
        merged.update(_clean_domains(spec, domains, current.answers))
    current.domains = merged
    _recompute(current, spec)
    if overall is not None:
        overall = overall.strip()
        if overall and overall not in spec.judgements:
            raise DomainError(f"{overall!r} is not a judgement of {spec.name}.", field="overall")
        justification = overall_justification.strip()[:MAX_TEXT]
        proposed = current.overall_proposed
        if overall and proposed and overall != proposed and not justification:
            raise DomainError(
                f"The proposed overall judgement is {proposed!r}; say why you judge it "
                f"{overall!r}.",
                field="overall_justification",
            )
        if overall and not proposed and spec.overall is not None and not justification:
            raise DomainError(
                "The domains do not give an overall judgement yet; say why you judge it "
                f"{overall!r} already.",
                field="overall_justification",
            )
        current.overall = overall or proposed
        current.overall_justification = justification if overall and overall != proposed else ""
    if complete:
        problem = spec.preliminary_problem(current.preliminary) if spec.preliminary_problem else ""
        if problem:
            raise DomainError(problem, field="preliminary")
        missing = [
            d.key for d in spec.domains if not (current.domains.get(d.key) or {}).get("final")
        ]
        if missing:
            raise DomainError(
                "To complete the assessment, judge every domain: " + ", ".join(missing) + ".",
                field="status",
            )
        if not current.overall:
            raise DomainError(
                "To complete the assessment, give the overall judgement.", field="overall"
            )
    current.status = RobAssessment.Status.COMPLETE if complete else RobAssessment.Status.DRAFT
    current.version += 1
    current.updated_by = user
    current.save()
    if current.kind == current.tool.feeding_kind:
        _announce(current.review_id, {current.study_id})
    return current


@transaction.atomic
def consensus_accept(
    *, consensus: RobAssessment, source: RobAssessment, domain: str, user: Any, version: int
) -> RobAssessment:
    """Take one side's answers, judgement and support for a whole domain into the consensus."""
    if consensus.kind != RobAssessment.Kind.CONSENSUS:
        raise DomainError("Only a consensus assessment takes sides.", field="consensus")
    if (source.tool_id, source.study_id, source.outcome_id) != (
        consensus.tool_id,
        consensus.study_id,
        consensus.outcome_id,
    ) or source.kind != RobAssessment.Kind.INDEPENDENT:
        raise DomainError("That assessment is not one of the two being reconciled.", field="source")
    if domain == "preliminary":
        # Take one side's preliminary considerations (and so its variant); the answers that
        # still fit stay.
        return assessment_save(
            assessment=consensus, user=user, version=version, preliminary=source.preliminary
        )
    spec = consensus.spec
    if source.spec.variant != spec.variant:
        raise DomainError(
            f"{source.assessor} assessed another variant ({source.spec.variant}): take their "
            "preliminary considerations first, or agree on them.",
            field="domain",
        )
    try:
        target = spec.domain(domain)
    except KeyError as exc:
        raise DomainError(f"{spec.name} has no domain {domain}.", field="domain") from exc
    answers = {q: v for q, v in consensus.answers.items()}
    for question in target.questions:
        answers.pop(question.id, None)
        if question.id in source.answers:
            answers[question.id] = source.answers[question.id]
    side = source.domains.get(domain) or {}
    domains = {
        domain: {
            "final": side.get("final", ""),
            "justification": side.get("justification", ""),
            "support": side.get("support", ""),
        }
    }
    return assessment_save(
        assessment=consensus, user=user, version=version, answers=answers, domains=domains
    )


@transaction.atomic
def domain_judge_all(
    *,
    tool: RobTool,
    studies: list[Study],
    outcome: Outcome | None,
    user: Any,
    domain: str,
    final: str,
    support: str = "",
) -> dict[str, list[str]]:
    """Give one domain the same judgement and support in every listed study's assessment (the
    user's own in dual mode), e.g. "blinding of participants: high, peer support cannot be
    blinded". Assessments where the domain is already judged differently, or that are complete,
    are left as they are and reported; all or nothing otherwise."""
    spec = tool.spec
    try:
        target = spec.domain(domain)
    except KeyError as exc:
        raise DomainError(f"{spec.name} has no domain {domain}.", field="domain") from exc
    if target.algorithm is not None:
        raise DomainError(
            f"{domain} is judged from its signalling questions; answer them per study.",
            field="domain",
        )
    if final not in spec.judgements:
        raise DomainError(f"{final!r} is not a judgement of {spec.name}.", field="final")
    done: list[str] = []
    skipped: list[str] = []
    for study in studies:
        assessment = assessment_open(tool=tool, study=study, outcome=outcome, user=user)
        current = (assessment.domains.get(domain) or {}).get("final", "")
        if assessment.status == RobAssessment.Status.COMPLETE or current not in ("", final):
            skipped.append(study.label)
            continue
        assessment_save(
            assessment=assessment,
            user=user,
            version=assessment.version,
            domains={domain: {"final": final, "support": support.strip()}},
        )
        done.append(study.label)
    return {"done": done, "skipped": skipped}


@transaction.atomic
def tool_delete(*, tool: RobTool) -> None:
    """Remove a tool added by mistake. Refused once anyone has recorded an answer or a
    judgement with it, so no assessment work is ever lost this way."""
    tool = RobTool.objects.select_for_update().get(pk=tool.pk)
    used = [
        a
        for a in tool.assessments.only("answers", "domains")
        if a.answers or any((d or {}).get("final") for d in a.domains.values())
    ]
    if used:
        raise DomainError(
            f"{tool.name} has {len(used)} assessment{'s' if len(used) != 1 else ''} with "
            "answers or judgements: it cannot be deleted.",
            field="tool",
        )
    tool.delete()
