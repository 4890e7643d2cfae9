"""A review with a row in every review-scoped model: the BCG demo review, plus a real RIS import
with duplicates, votes (changed, undone and resolved), a full-text PDF, risk of bias, GRADE and
an invitation. Built with the app's own services, as a team would."""

import hashlib
from collections import defaultdict
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewapp import services as review_services
from reviewapp.archive.jsonrefs import rewrite_for
from reviewapp.archive.scope import archived_models, file_fields
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
    from screening import services_screening as screening_votes
    from screening.models import Record, ScreeningItem, Stage, Study

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

    imported = list(Record.objects.filter(import_batch=batch).order_by("pk")[:3])
    ta = Stage.TITLE_ABSTRACT
    screening_votes.decision_record(record=imported[0], stage=ta, reviewer=r1, verdict="include")
    screening_votes.decision_record(record=imported[0], stage=ta, reviewer=r1, verdict="exclude")
    screening_votes.decision_record(record=imported[0], stage=ta, reviewer=r2, verdict="include")
    item = ScreeningItem.objects.get(record=imported[0], stage=ta)
    screening_votes.conflict_resolve(item=item, arbiter=arbiter, verdict="include", note="RCT")
    screening_votes.decision_record(record=imported[1], stage=ta, reviewer=r1, verdict="maybe")
    undone = screening_votes.decision_record(
        record=imported[2], stage=ta, reviewer=r2, verdict="exclude"
    )
    assert undone is not None
    screening_votes.decision_undo_last(review=review, stage=ta, reviewer=r2)

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


# --- a canonical picture of the database, independent of primary keys ------------------------


def _file_digest(name: str) -> str | None:
    if not name:
        return None
    if not default_storage.exists(name):
        return f"missing:{name}"
    with default_storage.open(name, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def canonical_rows(*, skip_import_history: bool = False) -> dict[str, list[Any]]:
    """Every row of every archived model, with each primary key and reference replaced by its
    rank among the ids of its model, users by username and files by their content's hash.

    Two databases holding the same review (one imported from the other's archive, in the same
    id order) give equal pictures; the comparison needs nothing from the importer.
    """
    user_model = get_user_model()
    usernames = dict(user_model._base_manager.values_list("pk", user_model.USERNAME_FIELD))
    entries = archived_models()
    data: dict[str, list[dict[str, Any]]] = {}
    universe: dict[Any, set[Any]] = defaultdict(set)
    for entry in entries:
        names = [f.attname for f in entry.concrete_fields()]
        rows = list(entry.model._base_manager.order_by("pk").values(*names))
        if skip_import_history and entry.label == "reviewapp.historicalreview":
            rows = [
                r
                for r in rows
                if not (r["history_change_reason"] or "").startswith("Imported from an archive")
            ]
        data[entry.label] = rows

    def collect(model: Any, value: Any) -> Any:
        universe[model].add(value)
        return value

    for entry in entries:
        pk = entry.model._meta.pk.attname
        for row in data[entry.label]:
            universe[entry.model].add(row[pk])
            for ref in entry.refs:
                if row[ref.attname] is not None:
                    universe[ref.target].add(row[ref.attname])
            for column, value in row.items():
                rewrite = rewrite_for(entry.live_model._meta.label_lower, column)
                if rewrite and value is not None:
                    rewrite(value, collect)
    rank = {m: {v: i for i, v in enumerate(sorted(ids))} for m, ids in universe.items()}

    def remap(model: Any, value: Any) -> Any:
        return rank[model][value]

    picture: dict[str, list[Any]] = {}
    for entry in entries:
        pk = entry.model._meta.pk.attname
        refs = {r.attname: r.target for r in entry.refs}
        files = set(file_fields(entry))
        out = []
        for row in data[entry.label]:
            canon = {}
            for column, value in row.items():
                if column == pk:
                    value = rank[entry.model][value]
                elif column in refs and value is not None:
                    value = rank[refs[column]][value]
                elif column in entry.user_refs and value is not None:
                    value = usernames.get(value, f"deleted-user-{value}")
                elif column in files:
                    value = _file_digest(value)
                elif value is not None and (
                    rewrite := rewrite_for(entry.live_model._meta.label_lower, column)
                ):
                    value = rewrite(value, remap)
                canon[column] = value
            out.append(canon)
        out.sort(key=lambda r: r[pk])
        picture[entry.label] = out
    return picture
