"""The PRISMA boxes add up on randomised review histories.

Hypothesis draws a history (records from several databases, duplicates, two reviewers' votes
at title/abstract and full text, conflicts left open or resolved, full texts not retrieved,
reports linked to studies, a duplicate found after screening); the test builds it through the
screening services, then checks every box against an independent count of what was drawn, and
that `reconcile()` finds nothing wrong once every record has its decision.
"""

from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.models import Record, ScreeningItem
from screening.selectors import prisma_counts, prisma_pending
from screening.services_screening import (
    conflict_resolve,
    decision_record,
    fulltext_mark_not_retrieved,
    stage_settings_update,
    study_link_report,
)
from tests.factories import ImportBatchFactory, RecordFactory

pytestmark = pytest.mark.django_db

SOURCES = ["MEDLINE", "Embase", "PsycINFO"]
REASONS = ["Not an RCT", "Not one-to-one", "Not mental health"]
VOTE = st.sampled_from(["include", "exclude", "maybe"])
FT_VOTE = st.tuples(st.sampled_from(["include", "exclude"]), st.sampled_from(REASONS))


@dataclass
class Drawn:
    source: str
    duplicate_of: int | None
    ta_votes: tuple[str | None, str | None]
    ta_resolution: str | None
    not_retrieved: bool
    ft_votes: tuple[tuple[str, str] | None, tuple[str, str] | None]
    ft_resolution: tuple[str, str] | None
    study: str | None


@st.composite
def histories(draw):
    n = draw(st.integers(1, 12))
    drawn = []
    for i in range(n):
        dup = draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None
        a = draw(st.one_of(st.none(), VOTE))
        b = draw(st.one_of(st.none(), VOTE)) if a else None
        fa = draw(st.one_of(st.none(), FT_VOTE))
        fb = draw(st.one_of(st.none(), FT_VOTE)) if fa else None
        drawn.append(
            Drawn(
                source=draw(st.sampled_from(SOURCES)),
                duplicate_of=dup,
                ta_votes=(a, b),
                ta_resolution=draw(st.sampled_from([None, "include", "exclude"])),
                not_retrieved=draw(st.booleans()),
                ft_votes=(fa, fb),
                ft_resolution=draw(st.one_of(st.none(), FT_VOTE)),
                study=draw(st.sampled_from([None, "Study A", "Study B", "Study C"])),
            )
        )
    late_duplicate = draw(st.one_of(st.none(), st.integers(0, n - 1)))
    return drawn, late_duplicate


def _outcome(votes, resolution, *, full_text):
    """(verdict, reason) by the rules of docs/screening.md, or None while undecided."""
    if any(v is None for v in votes):
        return None
    if full_text:
        (va, ra), (vb, rb) = votes
        agree = va == vb and (va == "include" or ra == rb)
        if agree:
            return (va, ra if va == "exclude" else "")
    else:
        va, vb = votes
        if va == vb and va != "maybe":
            return (va, "")
    if resolution is None:
        return None
    if full_text:
        verdict, reason = resolution
        return (verdict, reason if verdict == "exclude" else "")
    return (resolution, "")


def build(review, users, drawn, late_duplicate):
    a, b, arbiter = users
    batches = {s: ImportBatchFactory(review=review, source_database=s) for s in SOURCES}
    records: list[Record] = []
    primary_of: list[int] = []
    for i, d in enumerate(drawn):
        primary = i if d.duplicate_of is None else primary_of[d.duplicate_of]
        primary_of.append(primary)
        records.append(
            RecordFactory(
                review=review,
                import_batch=batches[d.source],
                duplicate_of=None if primary == i else records[primary],
            )
        )
    for i, d in enumerate(drawn):
        if primary_of[i] != i:
            continue
        record = records[i]
        for user, verdict in zip((a, b), d.ta_votes, strict=True):
            if verdict:
                decision_record(record=record, stage="ta", reviewer=user, verdict=verdict)
        item = ScreeningItem.objects.filter(record=record, stage="ta").first()
        if item and item.status == "conflict" and d.ta_resolution:
            conflict_resolve(item=item, arbiter=arbiter, verdict=d.ta_resolution)
        if not (item and ScreeningItem.objects.get(pk=item.pk).final_verdict == "include"):
            continue
        if d.study:
            study_link_report(record=record, new_label=d.study)
        if d.not_retrieved:
            fulltext_mark_not_retrieved(record=record, reason="No access", user=a)
            continue
        for user, vote in zip((a, b), d.ft_votes, strict=True):
            if vote:
                verdict, reason = vote
                decision_record(
                    record=record,
                    stage="ft",
                    reviewer=user,
                    verdict=verdict,
                    reason=reason if verdict == "exclude" else "",
                )
        item = ScreeningItem.objects.filter(record=record, stage="ft").first()
        if item and item.status == "conflict" and d.ft_resolution:
            verdict, reason = d.ft_resolution
            conflict_resolve(
                item=item,
                arbiter=arbiter,
                verdict=verdict,
                reason=reason if verdict == "exclude" else "",
            )
    if late_duplicate is not None and primary_of[late_duplicate] == late_duplicate:
        # Found to duplicate another kept record after it was screened (as dedup_merge does).
        others = [i for i in range(len(drawn)) if primary_of[i] == i and i != late_duplicate]
        if others:
            Record.objects.filter(pk=records[late_duplicate].pk).update(
                duplicate_of=records[others[0]]
            )
            primary_of[late_duplicate] = others[0]
    return primary_of


def expected(drawn, primary_of):
    kept = [i for i, p in enumerate(primary_of) if p == i]
    ta = {i: _outcome(drawn[i].ta_votes, drawn[i].ta_resolution, full_text=False) for i in kept}
    sought = [i for i in kept if ta[i] and ta[i][0] == "include"]
    not_retrieved = [i for i in sought if drawn[i].not_retrieved]
    ft = {
        i: _outcome(drawn[i].ft_votes, drawn[i].ft_resolution, full_text=True)
        for i in sought
        if not drawn[i].not_retrieved
    }
    excluded: dict[str, int] = {}
    for outcome in ft.values():
        if outcome and outcome[0] == "exclude":
            excluded[outcome[1]] = excluded.get(outcome[1], 0) + 1
    included = [i for i, o in ft.items() if o and o[0] == "include"]
    studies = {drawn[i].study for i in included if drawn[i].study}
    per_source: dict[str, int] = {}
    for d in drawn:
        per_source[d.source] = per_source.get(d.source, 0) + 1
    return {
        "identified_per_source": per_source,
        "duplicates_removed": len(drawn) - len(kept),
        "records_screened": len(kept),
        "records_excluded": sum(1 for i in kept if ta[i] and ta[i][0] == "exclude"),
        "reports_sought": len(sought),
        "reports_not_retrieved": len(not_retrieved),
        "reports_assessed": sum(1 for o in ft.values() if o),
        "reports_excluded": excluded,
        "studies_included": len(studies) + sum(1 for i in included if not drawn[i].study),
        "reports_of_included_studies": len(included),
        "awaiting": sum(1 for i in kept if ta[i] is None),
    }


@pytest.fixture
def team(review, lead, screener_a, screener_b, arbiter):
    stage_settings_update(
        review=review,
        stage="ft",
        reviewers_required=2,
        blind=True,
        exclusion_reasons=REASONS,
        votes_need_pdf=False,
    )
    return review, (screener_a, screener_b, arbiter)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories())
def test_prisma_boxes_match_the_data_and_add_up_on_random_histories(team, history):
    review, users = team
    drawn, late_duplicate = history
    with transaction.atomic():
        primary_of = build(review, users, drawn, late_duplicate)
        counts = prisma_counts(review=review)
        want = expected(drawn, primary_of)
        got = {name: getattr(counts, name) for name in want if name != "awaiting"}
        assert got == {k: v for k, v in want.items() if k != "awaiting"}
        pending = prisma_pending(counts)
        assert pending.records_awaiting_outcome == want["awaiting"]
        if not pending.any:
            assert counts.reconcile() == []
        transaction.set_rollback(True)


def test_a_finished_review_reconciles(team):
    review, (a, b, arbiter) = team
    drawn = [
        Drawn(
            "MEDLINE",
            None,
            ("include", "include"),
            None,
            False,
            (("include", ""), ("include", "")),
            None,
            "Chinman 2015",
        ),
        Drawn("Embase", 0, (None, None), None, False, (None, None), None, None),
        Drawn(
            "Embase",
            None,
            ("include", "exclude"),
            "include",
            False,
            (("exclude", "Not an RCT"), ("exclude", "Not one-to-one")),
            ("exclude", "Not one-to-one"),
            None,
        ),
        Drawn("PsycINFO", None, ("include", "include"), None, True, (None, None), None, None),
        Drawn("PsycINFO", None, ("exclude", "maybe"), "exclude", False, (None, None), None, None),
    ]
    primary_of = build(review, (a, b, arbiter), drawn, None)
    counts = prisma_counts(review=review)
    assert counts.reconcile() == []
    assert not prisma_pending(counts).any
    assert counts.identified_per_source == {"Embase": 2, "MEDLINE": 1, "PsycINFO": 2}
    assert (counts.duplicates_removed, counts.records_screened, counts.records_excluded) == (
        1,
        4,
        1,
    )
    assert (counts.reports_sought, counts.reports_not_retrieved, counts.reports_assessed) == (
        3,
        1,
        2,
    )
    assert counts.reports_excluded == {"Not one-to-one": 1}
    assert (counts.studies_included, counts.reports_of_included_studies) == (1, 1)
    assert expected(drawn, primary_of)["awaiting"] == 0
