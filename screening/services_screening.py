"""Writes for screening: stage settings, votes, undo, conflict resolution, full texts, studies.

Every write that changes a record's votes locks its ScreeningItem row first, so concurrent votes
on one record are serialised: both count, and the item's status is recomputed from the votes the
lock holder can see. The unique constraint on (record, stage, reviewer) is the backstop that
makes a double click or a retried request harmless even if a code path forgot the lock.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from reviewapp import events
from reviewapp.errors import DomainError
from reviewapp.models import Membership, Review, Role
from screening import services_ranking
from screening.models import (
    Decision,
    FullTextReport,
    Record,
    ScreeningItem,
    Stage,
    StageSettings,
    Study,
    Verdict,
)
from screening.prisma import is_not_retrieved_reason

PDF_MAX_BYTES = 50 * 1024 * 1024
NOT_RETRIEVED_IS_NOT_A_REASON = (
    "'{reason}' is not an exclusion reason: a report that could not be retrieved is marked "
    "'not retrieved' on the full-texts page, and PRISMA counts it there, once."
)
MAX_TAGS = 20


# --- settings ------------------------------------------------------------------------------


def stage_settings_defaults(review: Review, stage: str) -> dict[str, Any]:
    """Full text starts with the protocol's exclusion criteria as its reasons (except 'full text
    not retrieved', which is the retrieval flow's, not an exclusion)."""
    reasons = [
        str(c)[:200] for c in review.exclusion_criteria or [] if not is_not_retrieved_reason(str(c))
    ][:9]
    return {
        "review": review,
        "stage": stage,
        "exclusion_reasons": reasons if stage == Stage.FULL_TEXT else [],
    }


def stage_settings_get(*, review: Review, stage: str) -> StageSettings:
    """The stage's settings, created with the defaults on first use."""
    if stage not in Stage.values:
        raise DomainError(f"Unknown stage '{stage}'.", field="stage")
    found = StageSettings.objects.filter(review=review, stage=stage).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return StageSettings.objects.create(**stage_settings_defaults(review, stage))
    except IntegrityError:  # created by a concurrent request
        return StageSettings.objects.get(review=review, stage=stage)


def _clean_list(values: Iterable[str], *, what: str, field: str) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        value = str(value).strip()
        if not value:
            continue
        if len(value) > 200:
            raise DomainError(f"{what} '{value[:40]}…' is longer than 200 characters.", field=field)
        if value.lower() not in (v.lower() for v in cleaned):
            cleaned.append(value)
    return cleaned


@transaction.atomic
def stage_settings_update(
    *,
    review: Review,
    stage: str,
    reviewers_required: int,
    blind: bool,
    exclusion_reasons: Sequence[str],
    include_terms: Sequence[str] = (),
    exclude_terms: Sequence[str] = (),
    order: str = StageSettings.Order.IMPORT,
    votes_need_pdf: bool | None = None,
) -> StageSettings:
    """`votes_need_pdf` None keeps the stored choice."""
    settings = stage_settings_get(review=review, stage=stage)
    settings = StageSettings.objects.select_for_update().get(pk=settings.pk)
    if reviewers_required not in (1, 2):
        raise DomainError(
            "Each record needs 1 or 2 independent decisions.", field="reviewers_required"
        )
    if order not in StageSettings.Order.values:
        raise DomainError(f"Unknown order '{order}'.", field="order")
    reasons = _clean_list(exclusion_reasons, what="Reason", field="exclusion_reasons")
    if stage == Stage.FULL_TEXT:
        for reason in reasons:
            if is_not_retrieved_reason(reason):
                raise DomainError(
                    NOT_RETRIEVED_IS_NOT_A_REASON.format(reason=reason), field="exclusion_reasons"
                )
    if stage == Stage.FULL_TEXT and not reasons:
        raise DomainError(
            "Full-text screening needs at least one exclusion reason (PRISMA reports them).",
            field="exclusion_reasons",
        )
    if len(reasons) > 9:
        raise DomainError(
            "Keep to 9 exclusion reasons: each has a digit key on the screening page.",
            field="exclusion_reasons",
        )
    required_changed = settings.reviewers_required != reviewers_required
    settings.reviewers_required = reviewers_required
    settings.blind = blind
    settings.exclusion_reasons = reasons
    settings.include_terms = _clean_list(include_terms, what="Term", field="include_terms")
    settings.exclude_terms = _clean_list(exclude_terms, what="Term", field="exclude_terms")
    settings.order = order
    if votes_need_pdf is not None:
        settings.votes_need_pdf = votes_need_pdf
    settings.save()
    if required_changed:
        # Items already resolved by an arbiter keep their outcome; the others are recounted.
        items = ScreeningItem.objects.select_for_update().filter(review=review, stage=stage)
        for item in items.exclude(status=ScreeningItem.Status.RESOLVED):
            _item_recount(item, settings)
    return settings


# --- votes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionOutcome:
    decision: Decision
    item: ScreeningItem
    created: bool
    changed: bool


def record_stage_eligible(*, record: Record, stage: str) -> bool:
    if record.duplicate_of_id is not None:
        return False
    if stage == Stage.TITLE_ABSTRACT:
        return True
    return ScreeningItem.objects.filter(
        record=record, stage=Stage.TITLE_ABSTRACT, final_verdict=Verdict.INCLUDE
    ).exists()


def _check_eligible(record: Record, stage: str) -> None:
    if record.duplicate_of_id is not None:
        raise DomainError(
            f"Record {record.pk} is a duplicate of record {record.duplicate_of_id}; screen that "
            "one instead.",
            field="record",
        )
    if stage == Stage.FULL_TEXT:
        if not record_stage_eligible(record=record, stage=stage):
            raise DomainError(
                f"Record {record.pk} has not been included at title and abstract, so it is not "
                "screened at full text.",
                field="record",
            )
        fulltext = FullTextReport.objects.filter(record=record).first()
        if fulltext is not None and fulltext.not_retrieved:
            raise DomainError(
                f"The full text of record {record.pk} is marked as not retrieved "
                f"({fulltext.not_retrieved_reason}); attach the PDF before screening it.",
                field="record",
            )


def _check_pdf(settings: StageSettings, record: Record) -> None:
    if settings.stage != Stage.FULL_TEXT or not settings.votes_need_pdf:
        return
    if not FullTextReport.objects.filter(record=record).exclude(pdf="").exists():
        raise DomainError(
            f"Attach the PDF of record {record.pk} before voting on it: the lead requires the "
            "full text for every vote (full-texts page). If it cannot be found, mark it "
            "'not retrieved' there.",
            field="record",
        )


def _check_verdict(settings: StageSettings, verdict: str, reason: str) -> str:
    if verdict not in Verdict.values:
        raise DomainError(
            f"'{verdict}' is not a decision; use include, exclude or maybe.", field="verdict"
        )
    reason = reason.strip()
    if verdict != Verdict.EXCLUDE:
        if reason:
            raise DomainError("Only an exclusion carries a reason.", field="reason")
        return ""
    if settings.stage == Stage.FULL_TEXT and is_not_retrieved_reason(reason):
        # A reason listed before this rule existed: one path only, the retrieval flow's.
        raise DomainError(NOT_RETRIEVED_IS_NOT_A_REASON.format(reason=reason), field="reason")
    if reason and settings.exclusion_reasons and reason not in settings.exclusion_reasons:
        raise DomainError(
            f"'{reason}' is not one of this stage's exclusion reasons: "
            f"{'; '.join(settings.exclusion_reasons)}.",
            field="reason",
        )
    if not reason and settings.stage == Stage.FULL_TEXT:
        raise DomainError("An exclusion at full text needs a reason.", field="reason")
    return reason


def _lock_record_for_work(record: Record) -> None:
    """Lock the record's row before work is written on it, and refuse when its import is being
    deleted. An import deletion locks the same rows (services_imports.import_delete), so the
    two go in turn: a deletion that comes second sees the work and keeps the record, or
    refuses; work that comes second is told the import is being deleted, or was."""
    # FOR NO KEY UPDATE: it waits for a deletion's FOR UPDATE, never for another reader.
    locked = (
        Record.objects.select_for_update(no_key=True, of=("self",))
        .select_related("import_batch")
        .filter(pk=record.pk)
        .first()
    )
    if locked is None:
        raise DomainError(
            f"Record {record.pk} is no longer in the review: its import was deleted.",
            field="record",
        )
    batch = locked.import_batch
    if batch.is_being_deleted:
        raise DomainError(
            f"Record {record.pk} cannot take new work: this record's import is being "
            f"deleted ({batch.file_name}).",
            field="record",
        )


def _item_for_update(record: Record, stage: str) -> tuple[ScreeningItem, bool]:
    """The record's item, locked, and whether it was just created (then it has no votes:
    a vote is only ever written under this lock)."""
    # get_or_create under FOR UPDATE: a concurrent creator makes our INSERT fail inside a
    # savepoint, and the retried SELECT ... FOR UPDATE then waits for and sees its row.
    return ScreeningItem.objects.select_for_update().get_or_create(
        record=record, stage=stage, defaults={"review_id": record.review_id}
    )


def _check_not_settled(item: ScreeningItem) -> None:
    if item.status == ScreeningItem.Status.RESOLVED:
        raise DomainError(
            f"Record {item.record_id} has been resolved by the arbiter; its votes can no longer "
            "change.",
            field="record",
        )
    if (
        item.stage == Stage.TITLE_ABSTRACT
        # Only an included record can have full-text votes: skip the query for the others.
        and item.final_verdict == Verdict.INCLUDE
        and ScreeningItem.objects.filter(record_id=item.record_id, stage=Stage.FULL_TEXT)
        .exclude(votes=0)
        .exists()
    ):
        raise DomainError(
            f"Record {item.record_id} is already being screened at full text; its title and "
            "abstract votes can no longer change.",
            field="record",
        )


def _check_not_locked(item: ScreeningItem, reviewer: Any) -> None:
    """A vote is locked once its record is complete and has another reviewer's vote: its author
    has now seen that vote (screening/visibility.py), so a change would no longer be
    independent, and would erase the disagreement that agreement statistics count."""
    if (
        item.status != ScreeningItem.Status.OPEN
        and Decision.objects.filter(record_id=item.record_id, stage=item.stage)
        .exclude(reviewer=reviewer)
        .exists()
    ):
        raise DomainError(
            f"Record {item.record_id} has all its votes, so yours is locked: ask the arbiter or "
            "the lead to amend it (they record why).",
            field="record",
        )


def _outcome(settings: StageSettings, decisions: list[Decision]) -> tuple[str, str, str]:
    """(status, final verdict, final reason) from the votes."""
    if len(decisions) < settings.reviewers_required:
        return ScreeningItem.Status.OPEN, "", ""
    verdicts = {d.verdict for d in decisions}
    if len(verdicts) > 1 or Verdict.MAYBE in verdicts:
        return ScreeningItem.Status.CONFLICT, "", ""
    verdict = verdicts.pop()
    reasons = [d.reason for d in decisions]
    if verdict == Verdict.EXCLUDE and settings.stage == Stage.FULL_TEXT and len(set(reasons)) > 1:
        # PRISMA counts full-text exclusions per reason: two reasons need a decision.
        return ScreeningItem.Status.CONFLICT, "", ""
    reason = next((r for r in reasons if r), "")
    return ScreeningItem.Status.DECIDED, verdict, reason


def _announce_inclusion(item: ScreeningItem, was: str) -> None:
    """Tell the later stages when a full-text verdict moved to or from include: the studies
    going on to extraction and analysis changed. Called in the transaction of the change."""
    if item.stage == Stage.FULL_TEXT and (was == Verdict.INCLUDE) != (
        item.final_verdict == Verdict.INCLUDE
    ):
        events.publish(events.InclusionChanged(item.review_id))


def _item_recount(
    item: ScreeningItem, settings: StageSettings, decisions: list[Decision] | None = None
) -> ScreeningItem:
    was = item.final_verdict
    if decisions is None:
        decisions = list(Decision.objects.filter(record_id=item.record_id, stage=item.stage))
    status, verdict, reason = _outcome(settings, decisions)
    was_open = item.status == ScreeningItem.Status.OPEN
    item.votes = len(decisions)
    item.status = status
    item.final_verdict = verdict
    item.final_reason = reason
    item.save(update_fields=["votes", "status", "final_verdict", "final_reason", "updated_at"])
    _give_included_report_a_study(item)
    _announce_inclusion(item, was)
    if not (settings.blind and was_open and status == ScreeningItem.Status.OPEN):
        # A blind vote on a record still open is no label: the ranking must not learn of it.
        services_ranking.ranking_labels_changed(review_id=item.review_id, stage=item.stage)
    return item


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned = _clean_list(tags, what="Tag", field="tags")
    if len(cleaned) > MAX_TAGS:
        raise DomainError(f"Use at most {MAX_TAGS} tags.", field="tags")
    return cleaned


def _check_reviewer(review: Review, reviewer: Any) -> None:
    membership = Membership.objects.filter(review=review, user=reviewer).first()
    if membership is None or not membership.has_role(Role.REVIEWER):
        raise DomainError("Only reviewers of this review can screen.", field="reviewer")


@transaction.atomic
def decision_record(
    *,
    record: Record,
    stage: str,
    reviewer: Any,
    verdict: str,
    reason: str = "",
    note: str = "",
    tags: Iterable[str] = (),
) -> DecisionOutcome:
    """Record or change the reviewer's vote. Idempotent: the same vote twice changes nothing."""
    _lock_record_for_work(record)
    settings = stage_settings_get(review=record.review, stage=stage)
    _check_reviewer(record.review, reviewer)
    reason = _check_verdict(settings, verdict, reason)
    note = note.strip()
    clean_tags = _clean_tags(tags)
    _check_eligible(record, stage)
    _check_pdf(settings, record)
    item, fresh = _item_for_update(record, stage)
    mine = (
        None
        if fresh
        else Decision.objects.filter(record=record, stage=stage, reviewer=reviewer).first()
    )
    if mine is not None:
        if (mine.verdict, mine.reason, mine.note, mine.tags) == (verdict, reason, note, clean_tags):
            return DecisionOutcome(mine, item, created=False, changed=False)
        _check_not_settled(item)
        _check_not_locked(item, reviewer)
        mine.verdict, mine.reason, mine.note, mine.tags = verdict, reason, note, clean_tags
        mine.save()
        return DecisionOutcome(mine, _item_recount(item, settings), created=False, changed=True)
    _check_not_settled(item)
    if item.votes >= settings.reviewers_required:
        raise DomainError(
            f"Record {record.pk} already has its {settings.reviewers_required} "
            f"decision{'s' if settings.reviewers_required > 1 else ''}; go on to the next record.",
            field="record",
        )
    decision = Decision.objects.create(
        review_id=record.review_id,
        record=record,
        stage=stage,
        reviewer=reviewer,
        verdict=verdict,
        reason=reason,
        note=note,
        tags=clean_tags,
    )
    item = _item_recount(item, settings, [decision] if fresh else None)
    services_ranking.lease_drop_on_vote(record_id=record.pk, stage=stage, reviewer_id=reviewer.pk)
    return DecisionOutcome(decision, item, created=True, changed=True)


@transaction.atomic
def decision_undo(*, decision: Decision, reviewer: Any) -> Record:
    """Withdraw one's own vote; the record goes back to the reviewer's queue."""
    if decision.reviewer_id != reviewer.pk:
        raise DomainError("You can only undo your own decisions.", field="decision")
    item, _ = _item_for_update(decision.record, decision.stage)
    _check_not_settled(item)
    _check_not_locked(item, reviewer)
    record = decision.record
    decision.delete()
    _item_recount(item, stage_settings_get(review=record.review, stage=decision.stage))
    return record


def decision_undo_last(*, review: Review, stage: str, reviewer: Any) -> Record:
    last = (
        Decision.objects.filter(review=review, stage=stage, reviewer=reviewer)
        .select_related("record__review")
        .order_by("-updated_at", "-id")
        .first()
    )
    if last is None:
        raise DomainError("There is nothing to undo at this stage.")
    return decision_undo(decision=last, reviewer=reviewer)


@transaction.atomic
def decision_amend(
    *,
    decision: Decision,
    by: Any,
    verdict: str,
    reason: str = "",
    note: str | None = None,
    why: str,
) -> DecisionOutcome:
    """The arbiter or the lead changes a reviewer's locked vote, saying why (kept in the vote's
    history with who did it). Votes still open are their author's to change; a resolved record
    keeps its resolution; nobody amends their own vote."""
    if decision.reviewer_id == by.pk:
        raise DomainError(
            "You cannot amend your own vote: ask another arbiter or the lead.", field="decision"
        )
    membership = Membership.objects.filter(review_id=decision.review_id, user=by).first()
    if membership is None or not membership.has_role(Role.ARBITER):
        raise DomainError("Only the arbiter or the lead amends a locked vote.", field="by")
    why = why.strip()
    if not why:
        raise DomainError("Give the reason for amending this vote.", field="why")
    if len(why) > 100:  # simple_history's change-reason column holds 100
        raise DomainError("Keep the reason under 100 characters.", field="why")
    record = Record.objects.select_related("review").get(pk=decision.record_id)
    settings = stage_settings_get(review=record.review, stage=decision.stage)
    reason = _check_verdict(settings, verdict, reason)
    item, _ = _item_for_update(record, decision.stage)
    _check_not_settled(item)
    decision = Decision.objects.select_related("reviewer").get(pk=decision.pk)
    others = Decision.objects.filter(record_id=item.record_id, stage=item.stage).exclude(
        pk=decision.pk
    )
    if item.status == ScreeningItem.Status.OPEN or not others.exists():
        raise DomainError(
            f"This vote is not locked: {decision.reviewer.get_username()} can still change it.",
            field="decision",
        )
    decision.verdict, decision.reason = verdict, reason
    if note is not None:
        decision.note = note.strip()
    # simple_history stores it beside the new version; the request's user is its author.
    decision._change_reason = why  # type: ignore[attr-defined]  # read by simple_history
    decision.save()
    return DecisionOutcome(decision, _item_recount(item, settings), created=False, changed=True)


# --- conflicts -----------------------------------------------------------------------------


@transaction.atomic
def conflict_resolve(
    *,
    item: ScreeningItem,
    arbiter: Any,
    verdict: str,
    reason: str = "",
    note: str = "",
    membership: Membership | None = None,
) -> ScreeningItem:
    """The arbiter's final decision. The reviewers' votes stay as they were. `membership`: the
    arbiter's in the item's review, when the caller has looked it up already."""
    if (
        membership is None
        or membership.review_id != item.review_id
        or membership.user_id != arbiter.pk
    ):
        membership = Membership.objects.filter(review_id=item.review_id, user=arbiter).first()
    if membership is None or not membership.has_role(Role.ARBITER):
        raise DomainError("Only the arbiter or the lead resolves conflicts.", field="arbiter")
    item = ScreeningItem.objects.select_for_update().select_related("review").get(pk=item.pk)
    settings = stage_settings_get(review=item.review, stage=item.stage)
    if verdict == Verdict.MAYBE:
        raise DomainError("A resolution is include or exclude.", field="verdict")
    reason = _check_verdict(settings, verdict, reason)
    if item.status == ScreeningItem.Status.RESOLVED:
        if (item.final_verdict, item.final_reason) == (verdict, reason):
            return item  # a retried request
        raise DomainError(
            f"Record {item.record_id} was already resolved as {item.final_verdict} "
            f"by {item.resolved_by}.",
            field="record",
        )
    if item.status != ScreeningItem.Status.CONFLICT:
        raise DomainError(
            f"Record {item.record_id} is not in conflict ({item.get_status_display().lower()}).",
            field="record",
        )
    was = item.final_verdict
    item.status = ScreeningItem.Status.RESOLVED
    item.final_verdict = verdict
    item.final_reason = reason
    item.resolved_by = arbiter
    item.resolved_at = timezone.now()
    item.resolution_note = note.strip()
    item.save()
    _give_included_report_a_study(item)
    _announce_inclusion(item, was)
    services_ranking.ranking_labels_changed(review_id=item.review_id, stage=item.stage)
    return item


@transaction.atomic
def conflict_reopen(*, item: ScreeningItem, user: Any, reason: str) -> ScreeningItem:
    """Undo a resolution, with a reason kept in the item's history: the record is in conflict
    again and the arbiter decides anew. Refused when the title/abstract resolution already led
    to full-text votes, which reopening would silently strand."""
    membership = Membership.objects.filter(review_id=item.review_id, user=user).first()
    if membership is None or not membership.has_role(Role.ARBITER):
        raise DomainError("Only the arbiter or the lead reopens a resolution.", field="user")
    if not reason.strip():
        raise DomainError("Say why the resolution is reopened.", field="reason")
    item = ScreeningItem.objects.select_for_update().get(pk=item.pk)
    if item.status != ScreeningItem.Status.RESOLVED:
        raise DomainError(f"Record {item.record_id} is not resolved.", field="record")
    if (
        item.stage == Stage.TITLE_ABSTRACT
        and Decision.objects.filter(record_id=item.record_id, stage=Stage.FULL_TEXT).exists()
    ):
        raise DomainError(
            f"Record {item.record_id} already has full-text votes; reopening its title and "
            "abstract decision would take it out of full-text screening. Resolve it at full "
            "text instead.",
            field="record",
        )
    was = item.final_verdict
    item.status = ScreeningItem.Status.CONFLICT
    item.final_verdict = ""
    item.final_reason = ""
    item.resolved_by = None
    item.resolved_at = None
    item.resolution_note = ""
    item._change_reason = f"Reopened by {user}: {reason.strip()}"  # type: ignore[attr-defined]  # read by simple_history
    item.save()
    _announce_inclusion(item, was)
    services_ranking.ranking_labels_changed(review_id=item.review_id, stage=item.stage)
    return item


# --- full texts and studies ----------------------------------------------------------------


def _check_sought(record: Record) -> None:
    if not record_stage_eligible(record=record, stage=Stage.FULL_TEXT):
        raise DomainError(
            f"Record {record.pk} was not included at title and abstract; its full text is not "
            "sought.",
            field="record",
        )


@transaction.atomic
def fulltext_attach(*, record: Record, pdf: UploadedFile, user: Any) -> FullTextReport:
    _lock_record_for_work(record)
    _check_sought(record)
    name = Path(pdf.name or "fulltext.pdf").name
    if Path(name).suffix.lower() != ".pdf":
        raise DomainError(f"{name} is not a PDF.", field="pdf")
    if not pdf.size:
        raise DomainError(f"{name} is empty.", field="pdf")
    if pdf.size > PDF_MAX_BYTES:
        raise DomainError(
            f"{name} is {pdf.size / 1024 / 1024:.1f} MB; the limit is "
            f"{PDF_MAX_BYTES // 1024 // 1024} MB.",
            field="pdf",
        )
    head = pdf.read(5)
    pdf.seek(0)
    if head != b"%PDF-":
        raise DomainError(f"{name} does not look like a PDF file.", field="pdf")
    report, _ = FullTextReport.objects.select_for_update().get_or_create(
        record=record, defaults={"review_id": record.review_id}
    )
    report.not_retrieved_reason = ""
    report.updated_by = user
    report.pdf.save(name, pdf, save=False)
    report.save()
    return report


@transaction.atomic
def fulltext_mark_not_retrieved(*, record: Record, reason: str, user: Any) -> FullTextReport:
    _lock_record_for_work(record)
    _check_sought(record)
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why the full text could not be retrieved.", field="reason")
    if len(reason) > 300:
        raise DomainError("Keep the reason under 300 characters.", field="reason")
    if Decision.objects.filter(record=record, stage=Stage.FULL_TEXT).exists():
        raise DomainError(
            f"Record {record.pk} has already been screened at full text, so it was retrieved.",
            field="record",
        )
    report, _ = FullTextReport.objects.select_for_update().get_or_create(
        record=record, defaults={"review_id": record.review_id}
    )
    report.pdf = ""
    report.not_retrieved_reason = reason
    report.updated_by = user
    report.save()
    return report


@transaction.atomic
def fulltext_clear(*, record: Record, user: Any) -> None:
    """Forget the PDF or the 'not retrieved' mark."""
    FullTextReport.objects.filter(record=record).delete()


def _give_included_report_a_study(item: ScreeningItem) -> None:
    """An included report is a study of its own until it is linked to another study: give it
    that study now, so that extraction and risk of bias, which work per study, see it, and so
    that every count of included studies is a count of Study rows (docs/screening.md)."""
    if item.stage != Stage.FULL_TEXT or item.final_verdict != Verdict.INCLUDE:
        return
    record = Record.objects.select_for_update().get(pk=item.record_id)
    if record.study_id is None and record.duplicate_of_id is None:
        record.study = Study.objects.create(review_id=record.review_id, label=_free_label(record))
        record.save(update_fields=["study"])


def _free_label(record: Record) -> str:
    """'Chinman 2015' from the first author and year; the record number when that is taken."""
    base = " ".join(p for p in (_surname(record.first_author), str(record.year or "")) if p)
    base = base[:150] or f"Record {record.pk}"
    taken = set(
        Study.objects.filter(review_id=record.review_id, label__startswith=base).values_list(
            "label", flat=True
        )
    )
    for label in (base, f"{base} (record {record.pk})"):
        if label not in taken:
            return label
    n = 2
    while f"{base} (record {record.pk}, {n})" in taken:
        n += 1
    return f"{base} (record {record.pk}, {n})"


def _surname(author: str) -> str:
    """'Chinman, M' / 'Chinman M' / 'Matthew Chinman' -> 'Chinman'."""
    author = (author or "").strip()
    if "," in author:
        return author.split(",")[0].strip()
    words = author.split()
    if len(words) > 1 and words[-1].replace(".", "").isupper() and len(words[-1]) <= 4:
        return words[0]  # PubMed's 'Chinman M'
    return words[-1] if words else ""


def _is_included_report(record: Record) -> bool:
    return ScreeningItem.objects.filter(
        record_id=record.pk, stage=Stage.FULL_TEXT, final_verdict=Verdict.INCLUDE
    ).exists()


def _leave_study(record: Record) -> None:
    """Before the report leaves its study: a study left with no report is dropped, unless it
    holds downstream work (extraction, risk of bias), which a relink must never hide."""
    study_id = record.study_id
    if study_id is None or Record.objects.filter(study_id=study_id).exclude(pk=record.pk).exists():
        return
    study = Study.objects.get(pk=study_id)
    for relation in Study._meta.related_objects:
        if relation.name == "reports" or relation.related_model._meta.label.startswith(
            "screening.Historical"
        ):
            continue
        accessor = relation.get_accessor_name()
        if accessor and getattr(study, accessor).exists():
            raise DomainError(
                f"The study '{study.label}' holds extraction or risk-of-bias work and has no "
                "other report: link another report to it first, so that its work is not lost.",
                field="study",
            )
    record.study = None
    record.save(update_fields=["study"])
    study.delete()


@transaction.atomic
def study_link_report(*, record: Record, study: Study | None = None, new_label: str = "") -> Study:
    """Link a report to an existing study, or to a new one named `new_label`."""
    _lock_record_for_work(record)
    record = Record.objects.select_for_update().get(pk=record.pk)
    if record.duplicate_of_id is not None:
        raise DomainError("Link the kept record of a duplicate group, not a duplicate.")
    if study is None:
        label = new_label.strip()
        if not label:
            raise DomainError("Name the study (e.g. 'Chinman 2015') or pick one.", field="label")
        if len(label) > 200:
            raise DomainError("Keep the study label under 200 characters.", field="label")
        found = Study.objects.filter(review_id=record.review_id, label=label).first()
    elif study.review_id != record.review_id:
        raise DomainError("That study belongs to another review.", field="study")
    else:
        found = study
    if found is not None and found.pk == record.study_id:
        return found
    _leave_study(record)
    if found is None:
        found, _ = Study.objects.get_or_create(review_id=record.review_id, label=label)
    record.study = found
    record.save(update_fields=["study"])
    events.publish(events.InclusionChanged(record.review_id))
    return found


@transaction.atomic
def study_unlink_report(*, record: Record) -> None:
    """Take the report out of its study. An included report then becomes a study of its own
    (it already is one when it is its study's only report)."""
    record = Record.objects.select_for_update().get(pk=record.pk)
    if record.study_id is None:
        return
    if _is_included_report(record):
        if not Record.objects.filter(study_id=record.study_id).exclude(pk=record.pk).exists():
            return
        record.study = Study.objects.create(review_id=record.review_id, label=_free_label(record))
        record.save(update_fields=["study"])
        events.publish(events.InclusionChanged(record.review_id))
        return
    _leave_study(record)
    record.study = None
    record.save(update_fields=["study"])
    events.publish(events.InclusionChanged(record.review_id))
