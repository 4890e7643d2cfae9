"""Extraction timings on PostgreSQL: saving a full extraction (50 fields, 4 arms, 10 outcomes)
through the service and through the page (the plain POST and redirect, the POST with the page
reloaded after it as the browser did before the in-place save, and the in-place htmx save), with
the SQL statements of each page request, and rendering the comparison view of a dual
extraction with 200 fields.

    python benchmarks/extraction_save.py [--repeat 20]
    python benchmarks/extraction_save.py --repeat 200   # the documented run

Recreates the database `reviewapp_extraction_bench` (or BENCH_DATABASE_URL), migrates it, seeds
one review and reports p50/p95 in milliseconds. Each timed save changes a few answers and a few
outcome numbers, so every save writes (record, history rows, changed outcome rows) rather than
finding nothing to do. Results go to benchmarks/out/extraction_save.json.
"""

from __future__ import annotations

import argparse
import json
from typing import Any
from urllib.parse import urlencode

from django_bench import OUT, fresh_django, timed

# What a browser posts (the plain form and htmx alike); the test client's default is multipart.
FORM_ENCODED = "application/x-www-form-urlencoded"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/reviewapp_extraction_bench"


# 50 fields: the mix of a real extraction sheet.
FIELD_MIX = [
    ("short_text", 10), ("long_text", 5), ("integer", 9), ("decimal", 5), ("date", 5),
    ("single_choice", 5), ("multiple_choice", 3), ("yes_no_unclear", 6), ("table", 1),
    ("derived", 1),
]  # fmt: skip


def build_form(services: Any, review: Any, user: Any, *, name: str, mode: str, scale: int) -> Any:
    from extraction.models import FieldType

    form = services.form_create(review=review, name=name, user=user, mode=mode)
    section = None
    made = 0
    for kind, count in FIELD_MIX:
        for i in range(count * scale):
            if made % 10 == 0:
                section = services.section_add(
                    form=form, title=f"Section {made // 10 + 1}", user=user
                )
            data = services.FieldInput(label=f"{kind} {i}", field_type=kind, key=f"{kind}_{i}")
            if kind in (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE):
                data.choices = ["Inpatient", "Outpatient", "Community", "Crisis team"]
            if kind == FieldType.INTEGER:
                data.min_value, data.max_value = 0, 100000
            if kind == FieldType.TABLE:
                data.columns = "arm | Arm | short_text\nn | N | integer\nage | Mean age | decimal"
            if kind == FieldType.DERIVED:
                data.choices = ["higher", "lower"]
                data.rule = (
                    "if count_yes(yes_no_unclear_0, yes_no_unclear_1, yes_no_unclear_2) >= 2 "
                    'then "higher" else "lower"'
                )
            services.field_add(section=section, data=data, user=user)
            made += 1
    return form


_FIELDS: dict[int, list[Any]] = {}


def answers_for(form: Any, salt: int) -> dict[str, Any]:
    # The fields are read once, so a save's statement count holds the request's own only.
    out: dict[str, Any] = {}
    for f in _FIELDS.setdefault(form.pk, list(form.fields.all())):
        kind = f.field_type
        if kind == "short_text":
            out[f.key] = f"text {salt % 3}"
        elif kind == "long_text":
            out[f.key] = "A longer description of the intervention. " * 5
        elif kind == "integer":
            out[f.key] = 100 + salt % 5
        elif kind == "decimal":
            out[f.key] = 12.5 + salt % 4
        elif kind == "date":
            out[f.key] = f"2019-0{1 + salt % 9}-15"
        elif kind == "single_choice":
            out[f.key] = f.choices[salt % len(f.choices)]
        elif kind == "multiple_choice":
            out[f.key] = f.choices[: 1 + salt % 3]
        elif kind == "yes_no_unclear":
            out[f.key] = ["yes", "no", "unclear"][salt % 3]
        elif kind == "table":
            out[f.key] = [{"arm": f"Arm {a}", "n": 40 + a, "age": 41.5} for a in range(4)]
    return out


ARMS = [
    {"label": "Peer support", "role": "intervention"},
    {"label": "Peer support plus", "role": "other"},
    {"label": "Usual care", "role": "control"},
    {"label": "Waiting list", "role": "other"},
]


def outcome_rows(outcomes: list[Any], salt: int) -> list[dict[str, Any]]:
    rows = []
    for k, o in enumerate(outcomes):
        for a, arm in enumerate(ARMS):
            row: dict[str, Any] = {
                "outcome": o.pk,
                "timepoint": "12 months",
                "timepoint_weeks": 52,
                "arm": arm["label"],
            }
            if o.outcome_type == "continuous":
                # One number in ten changes per save.
                row.update(mean=10 + a + (salt % 7 if (k + a) % 10 == 0 else 0), sd=2.5, n=40 + a)
            else:
                row.update(events=5 + a + (salt % 3 if k % 5 == 0 else 0), total=40 + a)
            rows.append(row)
    return rows


def post_body(answers: dict[str, Any], rows: list[dict[str, Any]], version: int) -> dict[str, Any]:
    body: dict[str, Any] = {"version": str(version)}
    for key, value in answers.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for i, row in enumerate(value):
                for col, cell in row.items():
                    body[f"t__{key}__{i}__{col}"] = str(cell)
        else:
            body[f"a__{key}"] = value if isinstance(value, list) else str(value)
    for i, arm in enumerate(ARMS):
        body[f"arm__{i}__label"] = arm["label"]
        body[f"arm__{i}__role"] = arm["role"]
    for i, row in enumerate(rows):
        for key, value in row.items():
            body[f"o__{i}__{key}"] = str(value)
    return body


def statements(call: Any) -> int:
    """How many SQL statements one call runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    fresh_django(DEFAULT_DB)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from extraction import services
    from extraction.models import Extraction
    from reviewapp.models import Membership, Review
    from screening.models import ImportBatch, Record, ScreeningItem, Stage, Study

    User = get_user_model()
    lead = User.objects.create_user("lead", password="x")
    a = User.objects.create_user("extractor_a", password="x")
    b = User.objects.create_user("extractor_b", password="x")
    review = Review.objects.create(title="Benchmark review")
    Membership.objects.create(review=review, user=lead, is_lead=True)
    Membership.objects.create(review=review, user=a, is_reviewer=True)
    Membership.objects.create(review=review, user=b, is_reviewer=True)
    outcomes = [
        services.outcome_save(
            review=review,
            name=f"Outcome {k}",
            outcome_type="dichotomous" if k == 9 else "continuous",
        )
        for k in range(10)
    ]
    studies = [Study.objects.create(review=review, label=f"Study {i:03d}") for i in range(20)]
    # Included as screening records it (one report each, included at both stages), so that
    # extraction reads screening's real selector; the screening itself is not timed here.
    batch = ImportBatch.objects.create(review=review, source_database="Benchmark", file_name="-")
    for study in studies:
        record = Record.objects.create(
            review=review, import_batch=batch, title=study.label, study=study
        )
        for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT):
            ScreeningItem.objects.create(
                review=review, record=record, stage=stage, status="decided", votes=2,
                final_verdict="include",
            )  # fmt: skip
    form = build_form(services, review, lead, name="Sheet", mode="single", scale=1)
    assert form.fields.count() == 50

    results: dict[str, Any] = {
        "database": connection.vendor,
        "fields": 50,
        "arms": 4,
        "outcomes": 10,
    }

    version = {"n": 0}

    def save_service(i: int) -> None:
        record = services.extraction_save(
            form=form,
            study=studies[0],
            user=lead,
            expected_version=version["n"],
            data=services.ExtractionInput(
                answers=answers_for(form, i), arms=ARMS, outcomes=outcome_rows(outcomes, i)
            ),
        )
        version["n"] = record.version

    save_service(0)  # the first save creates the 40 outcome rows; time the edits after it
    results["save_service"] = timed(lambda i: save_service(i + 1), args.repeat)

    client = Client()
    client.force_login(lead)
    url = f"/reviews/{review.pk}/extraction/forms/{form.pk}/studies/{studies[1].pk}/"
    page_version = {"n": 0}

    def save_page(i: int) -> None:
        response = client.post(
            url + "save/",
            urlencode(
                post_body(answers_for(form, i), outcome_rows(outcomes, i), page_version["n"]),
                doseq=True,
            ),
            content_type=FORM_ENCODED,
        )
        assert response.status_code == 302, response.content[:2000]
        page_version["n"] += 1

    save_page(0)
    results["save_page_post"] = timed(lambda i: save_page(i + 1), args.repeat)
    results["entry_page_get"] = timed(lambda i: client.get(url), max(20, args.repeat // 4))

    # The browser's save before htmx: the POST, its redirect and the whole page again.
    def save_page_and_reload(i: int) -> None:
        save_page(i)
        client.get(url)

    results["save_page_post_and_get"] = timed(lambda i: save_page_and_reload(i + 1000), args.repeat)

    # The in-place save (htmx): one POST answered with the changed fragments.
    def save_htmx(i: int) -> None:
        response = client.post(
            url + "save/",
            urlencode(
                post_body(answers_for(form, i), outcome_rows(outcomes, i), page_version["n"]),
                doseq=True,
            ),
            content_type=FORM_ENCODED,
            headers={"HX-Request": "true"},
        )
        assert response.status_code in (200, 302), response.content[:2000]
        page_version["n"] += 1

    results["save_htmx_post"] = timed(lambda i: save_htmx(i + 2000), args.repeat)
    results["statements"] = {
        "save_page_post": statements(lambda: save_page(3000)),
        "entry_page_get": statements(lambda: client.get(url)),
        "save_htmx_post": statements(lambda: save_htmx(3001)),
    }
    results["outcome_rows_per_save"] = Extraction.objects.get(study=studies[0]).outcome_data.count()

    # Comparison view of a dual extraction with 200 fields (four times the mix), 20% differing.
    dual = build_form(services, review, lead, name="Dual sheet", mode="dual", scale=4)
    assert dual.fields.count() == 200
    study = studies[2]
    for user, salt in ((a, 0), (b, 1)):
        answers = answers_for(dual, 0)
        if salt:
            for n, key in enumerate(sorted(answers)):
                if n % 5 == 0:
                    answers[key] = answers_for(dual, 1)[key]
        services.extraction_save(
            form=dual,
            study=study,
            user=user,
            expected_version=0,
            data=services.ExtractionInput(
                answers=answers, arms=ARMS, outcomes=outcome_rows(outcomes, salt), complete=True
            ),
        )
    compare_url = f"/reviews/{review.pk}/extraction/forms/{dual.pk}/studies/{study.pk}/compare/"
    response = client.get(compare_url)
    assert response.status_code == 200
    results["compare_fields"] = 200
    results["compare_page_get"] = timed(
        lambda i: client.get(compare_url), max(20, args.repeat // 4)
    )

    OUT.mkdir(exist_ok=True)
    (OUT / "extraction_save.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
