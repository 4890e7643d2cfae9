"""A review with a row in every review-scoped model: the BCG demo review, plus a real RIS import
with duplicates (and the same file imported again as a new search, then deleted), votes
(changed, undone and resolved), a full-text PDF, risk of bias, GRADE and an invitation. Built
with the app's own services, as a team would. Used by the archive tests and by the API fuzzing
(tests/fuzz)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewapp import services as review_services
from reviewapp.demo import DEMO_USERS, load_bcg_demo
from tests.conftest import FIXTURES
from tests.factories import UserFactory

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def populated_review(db, django_capture_on_commit_callbacks):
    from analysis import services as analysis_services
    from extraction.models import Outcome
    from extraction.rob import services as rob_services
    from screening import services as screening
    from screening import services_possible as possible
    from screening import services_ranking
    from screening import services_screening as screening_votes
    from screening.models import PossibleDuplicate, Record, ScreeningItem, Stage, Study
    from screening.references.dedup import PossiblePair
    from screening.services_imports import import_delete

    users = {name: UserFactory(username=name, email=email) for name, email, _r in DEMO_USERS}
    with django_capture_on_commit_callbacks(execute=True):
        review = load_bcg_demo()
    lead, r1, r2, arbiter = (users[n] for n in ("lead", "reviewer1", "reviewer2", "arbiter"))

    with django_capture_on_commit_callbacks(execute=True):
        batch = screening.import_create(
            review=review,
            created_by=lead,
            upload=SimpleUploadedFile(
                "donners_sample.ris", (FIXTURES / "donners_sample.ris").read_bytes()
            ),
            source_database="Embase",
            queue=False,
        )
    screening.import_run(batch_id=batch.pk)
    duplicate = Record.objects.filter(review=review, duplicate_of__isnull=False).first()
    assert duplicate is not None, "the fixture file holds one duplicate"
    screening.dedup_split(record=duplicate, user=lead)
    # The same file imported again as a new search, then deleted: a tombstone import.
    with django_capture_on_commit_callbacks(execute=True):
        rerun = screening.import_create(
            review=review,
            created_by=lead,
            upload=SimpleUploadedFile(
                "donners_rerun.ris", (FIXTURES / "donners_sample.ris").read_bytes()
            ),
            source_database="Embase",
            new_search=True,
            queue=False,
        )
    screening.import_run(batch_id=rerun.pk)
    import_delete(batch=rerun, user=lead)

    # The possible-duplicates queue: one pair confirmed (its reasons kept for undo), one
    # separated, one still open.
    singles = list(
        Record.objects.filter(import_batch=batch, duplicate_of__isnull=True)
        .exclude(duplicates__isnull=False)
        .order_by("-pk")[:5]
    )
    screening.possible_pairs_store(
        review_id=review.pk,
        pairs=[
            PossiblePair(a=singles[4].pk, b=singles[3].pk, reason="title 88% similar"),
            PossiblePair(a=singles[2].pk, b=singles[1].pk, reason="title 87% similar"),
            PossiblePair(a=singles[1].pk, b=singles[0].pk, reason="title 86% similar"),
        ],
    )

    # Chosen by their records: the demo's own trials can form a pair too, and those are screened
    # copies that a confirmation must not merge (each would hide the other's votes).
    def pair_of(a, b):
        return PossibleDuplicate.objects.get(review=review, record_a=min(a.pk, b.pk),
                                             record_b=max(a.pk, b.pk))  # fmt: skip

    possible.possible_confirm(pair=pair_of(singles[4], singles[3]), user=r1)
    possible.possible_separate(pair=pair_of(singles[2], singles[1]), user=r2)

    imported = list(Record.objects.filter(import_batch=batch).order_by("pk")[:3])
    ta = Stage.TITLE_ABSTRACT
    screening_votes.decision_record(record=imported[0], stage=ta, reviewer=r1, verdict="include")
    screening_votes.decision_record(record=imported[0], stage=ta, reviewer=r1, verdict="exclude")
    screening_votes.decision_record(record=imported[0], stage=ta, reviewer=r2, verdict="include")
    item = ScreeningItem.objects.get(record=imported[0], stage=ta)
    screening_votes.conflict_resolve(item=item, arbiter=arbiter, verdict="include", note="RCT")
    # Found to duplicate an unscreened record after it was screened: its votes and resolution
    # follow the paper to the record kept (DedupAction.moved names them).
    later = Record.objects.filter(import_batch=batch, duplicate_of__isnull=True).order_by("pk")[3]
    moved = screening.dedup_merge(record=imported[0], other=later, user=lead)
    assert moved.moved[0]["decisions"], "the merge moved the votes"
    imported[0] = later
    screening_votes.decision_record(record=imported[1], stage=ta, reviewer=r1, verdict="maybe")
    undone = screening_votes.decision_record(
        record=imported[2], stage=ta, reviewer=r2, verdict="exclude"
    )
    assert undone is not None
    screening_votes.decision_undo_last(review=review, stage=ta, reviewer=r2)
    services_ranking.stop_sample_start(review=review, stage=ta, user=lead, recall_target=0.9)

    bcg_record = Record.objects.filter(review=review, study__isnull=False).order_by("pk").first()
    screening_votes.fulltext_attach(
        record=bcg_record, pdf=SimpleUploadedFile("aronson-1948.pdf", PDF), user=lead
    )
    review_services.membership_invite(
        review=review, invited_by=lead, who="statistician@uni.example", roles=["viewer"]
    )
    study = Study.objects.filter(review=review).order_by("label").first()
    tool = rob_services.tool_create(review=review, user=lead, kind="rob1")
    rob_services.assessment_open(tool=tool, study=study, outcome=None, user=lead)
    outcome = Outcome.objects.get(review=review)
    with django_capture_on_commit_callbacks(execute=True):
        analysis_services.grade_save(
            outcome=outcome,
            updated_by=lead,
            ratings={"inconsistency": "serious"},
            reasons={"inconsistency": "I² above 90%"},
        )
    review.refresh_from_db()
    return review
