"""Proof of the accounting identity (issue 9), on random review histories.

Hypothesis runs short random histories through the real services: imports of small files in
which papers repeat (so deduplication groups them), re-imports of a file (refused, or taken as
a new search), deletions of imports (refused with screened records, or keeping the screened
copies), merges, splits, changes of the kept record and their undo, votes and their withdrawal
at both stages, conflict resolutions, full texts attached or not retrieved, study links and
unlinks. After every step it checks:

- every imported record sits in exactly one PRISMA box (duplicate removed; excluded, awaiting
  or sought at title/abstract; not retrieved; excluded per reason, included or awaiting at full
  text), and PRISMA's numbers are those of that independent classification;
- no duplicate carries screening work (work is never hidden by a change of deduplication);
- every included report belongs to a study, and the number of included studies is the same on
  PRISMA, the dashboard, extraction, risk of bias and in the analysis inputs.

The number of histories comes from the "accounting" Hypothesis profile (tests/conftest.py):
500 in CI; ACCOUNTING_HISTORIES sets another number for a quick local run.
"""

import contextlib
import os
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from analysis import services as analysis_services
from analysis.inputs import load_inputs
from extraction import selectors as extraction_selectors
from extraction import services as extraction_services
from extraction.rob import selectors as rob_selectors
from extraction.rob import services as rob_services
from reviewapp.errors import DomainError
from screening import keeper, selectors, services
from screening import services_screening as screening
from screening.models import (
    DedupAction,
    FullTextReport,
    ImportBatch,
    Record,
    ScreeningItem,
    Stage,
)
from screening.services_imports import import_delete
from tests.factories import PDF, MembershipFactory, ReviewFactory, UserFactory

pytestmark = pytest.mark.django_db

# Papers a search can find; an import draws some of them, repeats included, so that the
# deduplication engine groups the copies (same title, author and year).
PAPERS = [
    ("Peer support for people with psychosis: a randomised trial", "Chinman, M", 2015),
    ("Peer workers in crisis teams: a cluster randomised trial", "Johnson, S", 2018),
    ("Peer support after discharge from psychiatric hospital", "Sledge, WH", 2011),
    ("One-to-one peer support and readmission: a pragmatic trial", "Mahlke, CI", 2017),
    ("Exercise and depression in primary care", "Smith, J", 2010),
]
SOURCES = ["MEDLINE", "Embase", "PsycINFO"]
REASONS = ["Not an RCT", "Wrong population"]
PICK = st.integers(0, 10_000)
# Mostly includes, so that histories reach full text; a reviewer may also withdraw their
# latest vote at the stage.
VOTE = st.tuples(
    st.sampled_from(["include", "include", "exclude", "maybe", "withdraw"]),
    st.sampled_from(REASONS),
)
# The second reviewer mostly agrees (so that records get an outcome), sometimes differs or has
# not voted yet.
VOTES = VOTE.flatmap(
    lambda first: st.tuples(st.just(first), st.sampled_from([first, first, None]) | VOTE)
)
FILE = st.lists(st.integers(0, len(PAPERS) - 1), min_size=1, max_size=5)


def _step(name: str, **arguments: st.SearchStrategy) -> st.SearchStrategy:
    return st.tuples(st.just(name), st.fixed_dictionaries(arguments))


# Screening is most of a review's work, so most steps are votes.
STEPS = st.one_of(
    _step("screen", stage=st.sampled_from(["ta", "ta", "ft"]), i=PICK, votes=VOTES),
    _step("screen", stage=st.sampled_from(["ta", "ft", "ft"]), i=PICK, votes=VOTES),
    _step("screen_through", i=PICK, ta_votes=VOTES, ft_votes=VOTES),
    _step(
        "change_duplicates",
        kind=st.sampled_from(["merge", "split", "keep this one", "undo"]),
        i=PICK,
        j=PICK,
    ),
    _step("import_file", papers=FILE, source=st.sampled_from(SOURCES)),
    _step("reimport", k=PICK, new_search=st.booleans()),
    _step("delete_import", k=PICK, keep_screened=st.booleans()),
    _step(
        "resolve_conflict",
        i=PICK,
        verdict=st.sampled_from(["include", "exclude"]),
        reason=st.sampled_from(REASONS),
    ),
    _step("retrieve", i=PICK, how=st.sampled_from(["pdf", "pdf", "not retrieved", "clear"])),
    _step("link_study", i=PICK, label=st.sampled_from(["Chinman 2015", "Johnson 2018", ""])),
)


def ris(papers: list[int], tag: str) -> bytes:
    entries = []
    for i in papers:
        title, author, year = PAPERS[i]
        entries.append(
            f"TY  - JOUR\nTI  - {title}\nAU  - {author}\nPY  - {year}\nJO  - BMC Psychiatry\n"
            f"N1  - {tag}\nER  - \n"
        )
    return "\n".join(entries).encode()


def box(record, items, not_retrieved) -> str:
    """The one PRISMA box a record is in, from the raw rows."""
    if record.duplicate_of_id is not None:
        return "duplicate"
    ta = items.get((record.pk, Stage.TITLE_ABSTRACT))
    if ta is None or not ta.final_verdict:
        return "ta awaiting"
    if ta.final_verdict == "exclude":
        return "ta excluded"
    if record.pk in not_retrieved:
        return "not retrieved"
    ft = items.get((record.pk, Stage.FULL_TEXT))
    if ft is None or not ft.final_verdict:
        return "ft awaiting"
    if ft.final_verdict == "exclude":
        return f"ft excluded: {ft.final_reason or 'No reason given'}"
    return "included"


class ReviewHistory(RuleBasedStateMachine):
    """One review, its team and its downstream stages, changed one step at a time."""

    # The review, its team and the downstream stages, made once per test run (setup_team);
    # every history starts from them and is rolled back at its end.
    team: dict = {}

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.imports = 0
        self.files: list[tuple[str, bytes, str]] = []
        self.last_checked = None
        for name, value in self.team.items():
            setattr(self, name, value)

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- choosing records -----------------------------------------------------------------

    def _records(self, **filters):
        return list(Record.objects.filter(review=self.review, **filters).order_by("pk"))

    def _pick(self, n: int, **filters):
        found = self._records(**filters)
        return found[n % len(found)] if found else None

    def _kept(self, n: int):
        return self._pick(n, duplicate_of__isnull=True)

    def _sought(self, n: int):
        """A kept record included at title and abstract: its full text is sought."""
        return self._pick(
            n,
            duplicate_of__isnull=True,
            screening_items__stage=Stage.TITLE_ABSTRACT,
            screening_items__final_verdict="include",
        )

    # --- steps ----------------------------------------------------------------------------

    @initialize(papers=FILE, source=st.sampled_from(SOURCES))
    def first_import(self, papers, source):
        self.import_file(papers, source)

    @rule(step=STEPS)
    def take_a_step(self, step):
        """One step of the history. One rule with a weighted choice of steps, rather than a
        rule per step: Hypothesis's choice among rules favoured imports so much that few
        histories reached full text."""
        name, arguments = step
        getattr(self, name)(**arguments)

    def import_file(self, papers, source):
        self.imports += 1
        name, data = f"search-{self.imports}.ris", ris(papers, f"search {self.imports}")
        self.files.append((name, data, source))
        batch = services.import_create(
            review=self.review,
            created_by=self.lead,
            upload=SimpleUploadedFile(name, data),
            source_database=source,
            queue=False,
        )
        services.import_run(batch_id=batch.pk)

    def reimport(self, k, new_search):
        """The same file again: refused, unless the lead says a new search returned it."""
        name, data, source = self.files[k % len(self.files)]
        self._try(
            services.import_create, review=self.review, created_by=self.lead,
            upload=SimpleUploadedFile(name, data), source_database=source,
            new_search=new_search, queue=False,
        )  # fmt: skip
        batch = ImportBatch.objects.filter(review=self.review).order_by("-pk").first()
        if batch is not None and batch.status == ImportBatch.Status.QUEUED:
            services.import_run(batch_id=batch.pk)

    def delete_import(self, k, keep_screened):
        """Take an import back (refused when its records carry work, unless the screened
        copies are kept)."""
        batches = list(
            ImportBatch.objects.filter(review=self.review, deleted_at__isnull=True).order_by("pk")
        )
        if batches:
            self._try(
                import_delete, batch=batches[k % len(batches)], user=self.lead,
                keep_screened=keep_screened,
            )  # fmt: skip

    def change_duplicates(self, kind, i, j):
        if kind == "undo":
            action = selectors.latest_undoable_action(review=self.review)
            if action is not None:
                self._try(services.dedup_undo, action=action, user=self.lead)
        elif kind == "merge":
            record, other = self._pick(i), self._pick(j)
            self._try(services.dedup_merge, record=record, other=other, user=self.lead)
        elif kind == "split":
            self._try(services.dedup_split, record=self._pick(i), user=self.lead)
        else:
            record = self._pick(i, duplicate_of__isnull=False)
            if record is not None:
                self._try(services.dedup_make_primary, record=record, user=self.lead)

    def screen(self, stage, i, votes):
        if stage == Stage.TITLE_ABSTRACT:
            record = self._undecided(i, stage) or self._kept(i)
        else:
            record = self._undecided(i, stage) or self._sought(i)
        self._screen(record, stage, votes)

    def screen_through(self, i, ta_votes, ft_votes):
        """A pair of reviewers takes one record through both stages, as far as it goes."""
        record = self._undecided(i, Stage.TITLE_ABSTRACT)
        self._screen(record, Stage.TITLE_ABSTRACT, ta_votes)
        if record is not None:
            self._screen(record, Stage.FULL_TEXT, ft_votes)

    def _undecided(self, n: int, stage: str):
        """A record the stage still screens that has no outcome there yet (most steps make
        progress; the others try what is refused)."""
        decided = ScreeningItem.objects.filter(stage=stage).exclude(final_verdict="")
        found = list(
            selectors.stage_records(review=self.review, stage=stage)
            .exclude(pk__in=decided.values("record_id"))
            .order_by("pk")
        )
        return found[n % len(found)] if found else None

    def _screen(self, record, stage, votes):
        """One or both reviewers vote on the record."""
        if record is None:
            return
        for who, vote in zip((self.a, self.b), votes, strict=True):
            if vote is None:
                continue
            verdict, reason = vote
            if verdict == "withdraw":
                self._try(
                    screening.decision_undo_last, review=self.review, stage=stage, reviewer=who
                )
                continue
            reason = reason if (verdict == "exclude" and stage == Stage.FULL_TEXT) else ""
            self._try(
                screening.decision_record, record=record, stage=stage, reviewer=who,
                verdict=verdict, reason=reason,
            )  # fmt: skip

    def resolve_conflict(self, i, verdict, reason):
        conflicts = list(
            ScreeningItem.objects.filter(review=self.review, status="conflict").order_by("pk")
        )
        if not conflicts:
            return
        item = conflicts[i % len(conflicts)]
        reason = reason if (verdict == "exclude" and item.stage == "ft") else ""
        self._try(
            screening.conflict_resolve, item=item, arbiter=self.arbiter, verdict=verdict,
            reason=reason,
        )  # fmt: skip

    def retrieve(self, i, how):
        record = self._sought(i)
        if record is None:
            return
        if how == "pdf":
            pdf = SimpleUploadedFile("report.pdf", PDF)
            self._try(screening.fulltext_attach, record=record, pdf=pdf, user=self.a)
        elif how == "not retrieved":
            self._try(
                screening.fulltext_mark_not_retrieved, record=record, reason="No access",
                user=self.a,
            )  # fmt: skip
        else:
            self._try(screening.fulltext_clear, record=record, user=self.a)

    def link_study(self, i, label):
        record = self._kept(i)
        if record is None:
            return
        if label:
            self._try(screening.study_link_report, record=record, new_label=label)
        else:
            self._try(screening.study_unlink_report, record=record)

    def _try(self, service, **kwargs):
        """A refusal is a legitimate outcome of a step; anything else fails the history."""
        if any(v is None for k, v in kwargs.items() if k in ("record", "other")):
            return
        with contextlib.suppress(DomainError):
            service(**kwargs)

    # --- the identity ---------------------------------------------------------------------

    @invariant()
    def the_accounts_hold(self):
        records = self._records()
        items = {
            (i.record_id, i.stage): i for i in ScreeningItem.objects.filter(review=self.review)
        }
        fulltexts = list(
            FullTextReport.objects.filter(review=self.review).values_list(
                "record_id", "not_retrieved_reason"
            )
        )
        counts = selectors.prisma_counts(review=self.review)
        self.every_record_is_in_exactly_one_prisma_box(records, items, fulltexts, counts)
        # The other stages' answers are functions of these rows (extraction and risk of bias
        # do not change in a history): when a step changed none of them, they still agree.
        state = (
            [(r.pk, r.duplicate_of_id, r.study_id) for r in records],
            sorted((k, i.status, i.final_verdict, i.final_reason) for k, i in items.items()),
            sorted(fulltexts),
        )
        if state == self.last_checked:
            return
        self.last_checked = state
        self.no_duplicate_carries_screening_work(records)
        self.included_studies_agree_everywhere(counts)

    def every_record_is_in_exactly_one_prisma_box(self, records, items, fulltexts, counts):
        not_retrieved = {record_id for record_id, reason in fulltexts if reason}
        boxes = Counter(box(r, items, not_retrieved) for r in records)
        assert sum(boxes.values()) == len(records)
        pending = selectors.prisma_pending(counts)
        ft_excluded = {
            k.removeprefix("ft excluded: "): n
            for k, n in boxes.items()
            if k.startswith("ft excluded: ")
        }
        assessed = sum(ft_excluded.values()) + boxes["included"]
        sought = boxes["not retrieved"] + boxes["ft awaiting"] + assessed
        assert sum(counts.identified_per_source.values()) == len(records)
        assert counts.duplicates_removed == boxes["duplicate"]
        assert counts.records_screened == len(records) - boxes["duplicate"]
        assert counts.records_excluded == boxes["ta excluded"]
        assert pending.records_awaiting_outcome == boxes["ta awaiting"]
        assert counts.reports_sought == sought
        assert counts.reports_not_retrieved == boxes["not retrieved"]
        assert pending.reports_awaiting_outcome == boxes["ft awaiting"]
        assert counts.reports_assessed == assessed
        assert counts.reports_excluded == ft_excluded
        assert counts.reports_of_included_studies == boxes["included"]

    def no_duplicate_carries_screening_work(self, records):
        for record in (r for r in records if r.duplicate_of_id is not None):
            work = keeper.record_work(record.pk)
            assert work.empty, f"record {record.pk} is a duplicate with work: {work.describe()}"

    def included_studies_agree_everywhere(self, counts):
        reports = list(selectors.included_reports(review=self.review))
        assert all(r.study_id for r in reports), "an included report without a study"
        expected = len({r.study_id for r in reports})
        inputs = load_inputs(self.analysis)
        found = {
            "PRISMA": counts.studies_included,
            "dashboard": extraction_selectors.extraction_progress(review=self.review)[
                "included studies"
            ],
            "extraction": len(
                extraction_selectors.extraction_overview(form=self.form, user=self.lead)
            ),
            "risk of bias": len(rob_selectors.assessment_grid(tool=self.tool, user=self.lead)),
            "analysis inputs": len(inputs.rows) + len(inputs.missing),
        }
        assert found == dict.fromkeys(found, expected)


def setup_team() -> dict:
    review = ReviewFactory()

    def member(name: str, **roles: bool):
        return MembershipFactory(review=review, user=UserFactory(username=name), **roles).user

    lead = member("lead", is_lead=True)
    screening.stage_settings_update(
        review=review, stage=Stage.FULL_TEXT, reviewers_required=2, blind=True,
        exclusion_reasons=REASONS,
    )  # fmt: skip
    outcome = extraction_services.outcome_save(
        review=review, name="Readmission", outcome_type="dichotomous",
        desirable_direction="lower",
    )  # fmt: skip
    return {
        "review": review,
        "lead": lead,
        "a": member("reviewer_a", is_reviewer=True),
        "b": member("reviewer_b", is_reviewer=True),
        "arbiter": member("arbiter", is_arbiter=True),
        "form": extraction_services.form_create(review=review, name="Sheet", user=lead),
        "tool": rob_services.tool_create(review=review, user=lead, kind="rob1"),
        "analysis": analysis_services.analysis_create(
            review=review, outcome=outcome, created_by=lead
        ),
    }


@pytest.mark.timeout(3600)  # 500 histories take minutes on CI's two cores
def test_the_accounting_identity_holds_on_random_histories(db):
    ReviewHistory.team = setup_team()
    profile = settings.get_profile("accounting")
    histories = int(os.environ.get("ACCOUNTING_HISTORIES", profile.max_examples))
    run_state_machine_as_test(ReviewHistory, settings=settings(profile, max_examples=histories))
    assert not DedupAction.objects.exists()  # every history was rolled back
