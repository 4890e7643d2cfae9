"""The archive carries every review-scoped model, found from the app registry: a model added
later with a path to Review fails here until the fixture gives it rows and, if it has JSON
columns, jsonrefs.py says whether they hold ids."""

import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.db import models

from reviewapp.archive.exporter import write_archive
from reviewapp.archive.jsonrefs import JSON_IDS, NO_IDS
from reviewapp.archive.scope import EXCLUDED, archived_models, review_scoped_models

CORE = {
    "reviewapp.review",
    "reviewapp.membership",
    "reviewapp.historicalmembership",
    "screening.importbatch",
    "screening.historicalimportbatch",
    "screening.record",
    "screening.dedupaction",
    "screening.decision",
    "screening.historicaldecision",
    "screening.fulltextreport",
    "extraction.formfield",
    "extraction.historicalformfield",
    "extraction.outcomedata",
    "rob.robassessment",
    "analysis.analysisresult",
    "analysis.graderating",
}


def test_discovery_finds_the_review_scoped_models_and_their_history():
    found = {s.label for s in review_scoped_models()}
    assert found >= CORE
    assert "auth.user" not in found
    assert set(EXCLUDED) <= found, "an exclusion names a model that is no longer review-scoped"


def test_every_json_column_says_whether_it_holds_ids():
    undecided = []
    for entry in archived_models():
        live = entry.live_model._meta.label_lower
        for f in entry.model._meta.concrete_fields:
            if isinstance(f, models.JSONField) and (live, f.attname) not in JSON_IDS | {
                k: None for k in NO_IDS
            }:
                undecided.append(f"{live}.{f.attname}")
    assert undecided == [], "list these in reviewapp/archive/jsonrefs.py"


def test_every_reference_is_to_a_review_scoped_model_or_a_user():
    user_model = get_user_model()
    scoped = {s.model for s in review_scoped_models()}
    strays = [
        f"{entry.label}.{f.name} -> {f.related_model._meta.label}"
        for entry in archived_models()
        for f in entry.model._meta.concrete_fields
        if f.is_relation and f.related_model not in scoped and f.related_model is not user_model
    ]
    assert strays == [], "the archive cannot carry references to these tables"


@pytest.mark.django_db
def test_the_populated_review_archives_rows_of_every_review_scoped_model(populated_review):
    out = io.BytesIO()
    summary = write_archive(review_id=populated_review.pk, out=out)
    empty = sorted(label for label, count in summary.rows.items() if count == 0)
    assert empty == [], "give these models rows in tests/archive/conftest.py"
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert {m["label"] for m in manifest["models"]} == {s.label for s in archived_models()}
    assert summary.files >= 2 and summary.missing_files == []
