"""The work done on a record, and how it follows the paper when the kept copy changes.

A duplicate group is one paper: only its kept record (the primary) is screened, so the votes,
screening items, full text and study link of the group all sit on that one record. When a
change of deduplication makes another record the kept one (keep this one, merge), that work
moves with the paper to the new kept record, in the same transaction, and the DedupAction keeps
the list of what moved so that undo puts it back. Where both copies carry work of the same kind
(both screened at one stage, both with a full text, linked to two different studies), keeping
one would hide the other's: the change is refused with a message that says what would be lost.

A split moves nothing: the record that carries the work keeps it, and the records taken out of
the group start unscreened. Plans are computed from the rows as they are; the services call
them again after locking the group, so that what is shown and what is done agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from screening.models import (
    Decision,
    FullTextReport,
    Record,
    ScreeningItem,
    ScreeningLease,
    Stage,
)


@dataclass(frozen=True)
class StageWork:
    stage: str
    status: str
    final_verdict: str
    votes: int

    def describe(self) -> str:
        label = Stage(self.stage).label.lower()
        # An open item's votes stay hidden in blind mode: say only that screening started.
        if self.status == ScreeningItem.Status.OPEN:
            return f"{label}: screening started, awaiting votes"
        if self.status == ScreeningItem.Status.CONFLICT:
            return f"{label}: {self.votes} votes, in conflict"
        outcome = {"include": "included", "exclude": "excluded"}.get(self.final_verdict, "")
        how = "resolved by the arbiter" if self.status == ScreeningItem.Status.RESOLVED else ""
        return f"{label}: {outcome}" + (f" ({how})" if how else f" ({self.votes} votes)")


@dataclass(frozen=True)
class RecordWork:
    """What a record carries: screening per stage, its full text and its study link."""

    record_id: int
    stages: tuple[StageWork, ...] = ()
    fulltext: str = ""  # "" when none, else a description
    study_id: int | None = None
    study_label: str = ""

    @property
    def empty(self) -> bool:
        return not (self.stages or self.fulltext or self.study_id)

    def describe(self) -> list[str]:
        lines = [s.describe().capitalize() for s in self.stages]
        if self.fulltext:
            lines.append(f"Full text: {self.fulltext}")
        if self.study_id:
            lines.append(f"Report of the study '{self.study_label}'")
        return lines


def record_work(record_id: int) -> RecordWork:
    stages = tuple(
        StageWork(stage, status, verdict, votes)
        for stage, status, verdict, votes in ScreeningItem.objects.filter(record_id=record_id)
        .order_by("-stage")  # "ta" before "ft"
        .values_list("stage", "status", "final_verdict", "votes")
        # An item whose votes were all withdrawn carries nothing.
        if votes or verdict
    )
    fulltext = ""
    report = FullTextReport.objects.filter(record_id=record_id).first()
    if report is not None:
        fulltext = (
            f"not retrieved ({report.not_retrieved_reason})"
            if report.not_retrieved_reason
            else "PDF attached"
            if report.pdf
            else ""
        )
    study = Record.objects.filter(pk=record_id).values_list("study_id", "study__label").first() or (
        None,
        "",
    )
    return RecordWork(record_id, stages, fulltext, study[0], study[1] or "")


@dataclass(frozen=True)
class Move:
    """The work of `source` goes to `target`; `target` is what the target carries itself."""

    source: RecordWork
    target: RecordWork

    def describe(self) -> list[str]:
        return self.source.describe()


def conflicts(source: RecordWork, target: RecordWork) -> list[str]:
    """What would be lost by moving source's work onto target, in the reviewer's words."""
    lost: list[str] = []
    target_stages = {s.stage: s for s in target.stages}
    for work in source.stages:
        other = target_stages.get(work.stage)
        if other is not None:
            lost.append(
                f"both copies have been screened at {Stage(work.stage).label.lower()} "
                f"(record {source.record_id}: {work.describe().split(': ', 1)[1]}; "
                f"record {target.record_id}: {other.describe().split(': ', 1)[1]})"
            )
    if source.fulltext and target.fulltext:
        lost.append(
            f"both copies have a full text (record {source.record_id}: {source.fulltext}; "
            f"record {target.record_id}: {target.fulltext})"
        )
    if source.study_id and target.study_id and source.study_id != target.study_id:
        lost.append(
            f"the copies are reports of two studies ('{source.study_label}' and "
            f"'{target.study_label}')"
        )
    return lost


def refusal(moves: list[Move], what: str) -> str:
    lost = [c for m in moves for c in conflicts(m.source, m.target)]
    if not lost:
        return ""
    return (
        f"{what} would hide screening work: {'; '.join(lost)}. Only one copy of a paper is "
        "screened, so one copy's work would be lost. Keep the copy that was screened, or ask "
        "the reviewers to withdraw the votes on the other copy first."
    )


def _history(model: Any) -> Any:
    return model.history.model.objects  # simple_history's table for the model


def move_work(*, source_id: int, target_id: int) -> dict[str, Any]:
    """Move every piece of work from one record to another; returns what moved (for undo).

    Callers have checked `conflicts()` under the group's lock. History rows move too, so a
    vote's history reads as the history of the paper it is about."""
    items = list(ScreeningItem.objects.filter(record_id=source_id).values_list("id", "stage"))
    stages = [stage for _, stage in items]
    # The target's items at those stages hold no votes (conflicts() saw to that): drop them.
    ScreeningItem.objects.filter(record_id=target_id, stage__in=stages).delete()
    target_stages = sorted(
        ScreeningItem.objects.filter(record_id=target_id).values_list("stage", flat=True)
    )
    target_fulltext = (
        FullTextReport.objects.filter(record_id=target_id).values_list("id", flat=True).first()
    )
    decisions = list(Decision.objects.filter(record_id=source_id).values_list("id", flat=True))
    fulltext = FullTextReport.objects.filter(record_id=source_id).values_list("id", flat=True)
    fulltext_id = fulltext.first()
    if fulltext_id is not None and target_fulltext is not None:
        FullTextReport.objects.filter(pk=target_fulltext).delete()  # an empty report at most
        target_fulltext = None
    _reassign(Decision, decisions, target_id)
    _reassign(ScreeningItem, [pk for pk, _ in items], target_id)
    _reassign(FullTextReport, [fulltext_id] if fulltext_id else [], target_id)
    source_study, target_study = _studies(source_id, target_id)
    if source_study is not None:
        Record.objects.filter(pk=target_id).update(study_id=source_study)
        Record.objects.filter(pk=source_id).update(study_id=None)
    ScreeningLease.objects.filter(record_id=source_id).delete()
    return {
        "from": source_id,
        "to": target_id,
        "stages": stages,
        "decisions": decisions,
        "items": [pk for pk, _ in items],
        "fulltext": fulltext_id,
        "study": source_study,
        "target_study": target_study,
        # What the target carried itself, which stays with it on undo.
        "target_stages": target_stages,
        "target_fulltext": target_fulltext,
    }


def restore_work(moved: dict[str, Any]) -> None:
    """Undo one `move_work`: the work goes back to the record it came from, with whatever was
    added to it on the kept copy since; what the kept copy carried before stays with it."""
    source_id, target_id = int(moved["from"]), int(moved["to"])
    own_stages = list(moved.get("target_stages") or [])
    decisions = list(
        Decision.objects.filter(record_id=target_id)
        .exclude(stage__in=own_stages)
        .values_list("id", flat=True)
    )
    items = list(
        ScreeningItem.objects.filter(record_id=target_id)
        .exclude(stage__in=own_stages)
        .values_list("id", flat=True)
    )
    _reassign(Decision, decisions, source_id)
    _reassign(ScreeningItem, items, source_id)
    if moved.get("target_fulltext") is None:
        fulltext = list(
            FullTextReport.objects.filter(record_id=target_id).values_list("id", flat=True)
        )
        _reassign(FullTextReport, fulltext, source_id)
    if moved.get("study") or moved.get("target_study") is None:
        current = Record.objects.filter(pk=target_id).values_list("study_id", flat=True).first()
        Record.objects.filter(pk=source_id).update(study_id=current)
        Record.objects.filter(pk=target_id).update(study_id=moved.get("target_study"))


def _reassign(model: Any, ids: list[int], record_id: int) -> None:
    if not ids:
        return
    model.objects.filter(id__in=ids).update(record_id=record_id)
    _history(model).filter(id__in=ids).update(record_id=record_id)


def _studies(source_id: int, target_id: int) -> tuple[int | None, int | None]:
    found = dict(Record.objects.filter(pk__in=[source_id, target_id]).values_list("id", "study_id"))
    return found.get(source_id), found.get(target_id)


@dataclass(frozen=True)
class DedupPlan:
    """What a split, merge or change of kept record would do to the work on the records."""

    kind: str  # DedupAction.Kind
    record_id: int
    other_id: int | None
    keeper_id: int  # the record kept afterwards, the one that carries the work
    moves: tuple[Move, ...] = ()
    stays: RecordWork | None = None  # a split: the work that stays where it is
    refusal: str = ""

    @property
    def moves_work(self) -> bool:
        return any(not m.source.empty for m in self.moves)

    def lines(self) -> list[str]:
        """The confirmation, line by line."""
        if self.refusal:
            return [self.refusal]
        lines: list[str] = []
        for move in self.moves:
            if move.source.empty:
                continue
            lines.append(
                f"Moves from record {move.source.record_id} to record {move.target.record_id}, "
                "the copy kept:"
            )
            lines.extend(f"  {line}" for line in move.describe())
        if self.stays is not None and not self.stays.empty:
            lines.append(f"Stays with record {self.stays.record_id}:")
            lines.extend(f"  {line}" for line in self.stays.describe())
        if self.kind == "split" and self.stays is None:
            lines.append(
                f"Record {self.record_id} leaves the group unscreened; the group keeps its work "
                f"on record {self.keeper_id}."
            )
        if not lines:
            lines.append("No screening work moves: no copy has been screened yet.")
        return lines


def plan_primary(*, record_id: int, primary_id: int) -> DedupPlan:
    moves = [Move(record_work(primary_id), record_work(record_id))]
    moves = [m for m in moves if not m.source.empty]
    return DedupPlan(
        "primary",
        record_id,
        None,
        record_id,
        tuple(moves),
        refusal=refusal(moves, f"Keeping record {record_id} instead of record {primary_id}"),
    )


def plan_merge(
    *, record_id: int, other_id: int, source_primary: int, target_primary: int
) -> DedupPlan:
    moves = [Move(record_work(source_primary), record_work(target_primary))]
    moves = [m for m in moves if not m.source.empty]
    return DedupPlan(
        "merge",
        record_id,
        other_id,
        target_primary,
        tuple(moves),
        refusal=refusal(moves, f"Merging record {record_id} into record {target_primary}'s group"),
    )


def plan_split(*, record_id: int, primary_id: int, members: list[int]) -> DedupPlan:
    if record_id == primary_id:
        # The record keeps its work; the others form a group kept as the lowest id.
        work = record_work(record_id)
        return DedupPlan("split", record_id, None, record_id, stays=work)
    return DedupPlan("split", record_id, None, primary_id)
