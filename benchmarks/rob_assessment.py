"""Risk-of-bias timings on PostgreSQL: saving a full RoB 2 assessment (the service, and from the
page: a plain post with its redirect and reload, or htmx in place, with SQL statements), the live
proposal fragment, the assessment grid, the summary page (plots) and the robvis CSV, plus the
speed of the pure algorithms.

    python benchmarks/rob_assessment.py [--studies 200] [--repeat 20]
    python benchmarks/rob_assessment.py --studies 200 --repeat 200   # the documented run

Recreates the database `reviewapp_rob_bench` (or BENCH_DATABASE_URL), migrates it, seeds one
review with `--studies` included studies, each with a completed RoB 2 assessment, and reports
p50/p95 in milliseconds. Results go to benchmarks/out/rob_assessment.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

from django_bench import OUT, fresh_django, timed

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/reviewapp_rob_bench"

ANSWERS = {
    "1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "Y", "2.2": "Y", "2.3": "Y", "2.4": "PY",
    "2.5": "N", "2.6": "Y", "3.1": "N", "3.2": "N", "3.3": "PY", "3.4": "PN", "4.1": "N",
    "4.2": "N", "4.3": "Y", "4.4": "PY", "4.5": "PN", "5.1": "NI", "5.2": "N", "5.3": "PN",
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    fresh_django(DEFAULT_DB)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from extraction.models import Outcome
    from extraction.rob import services
    from extraction.rob.tools import BUILTIN
    from reviewapp.models import Membership, Review
    from screening import models as sm

    user = get_user_model().objects.create_user("bench", password="bench-pass-123")
    review = Review.objects.create(title="RoB benchmark")
    Membership.objects.create(review=review, user=user, is_lead=True)
    outcome = Outcome.objects.create(review=review, name="Hope", outcome_type="continuous")
    tool = services.tool_create(review=review, user=user, kind="rob2")
    batch = sm.ImportBatch.objects.create(review=review, source_database="x", file_name="x.ris")
    studies = []
    for i in range(args.studies):
        study = sm.Study.objects.create(review=review, label=f"Study {i:04d}")
        if hasattr(sm, "ScreeningItem"):
            record = sm.Record.objects.create(
                review=review, import_batch=batch, title=f"Report {i}", study=study
            )
            sm.ScreeningItem.objects.create(
                review=review,
                record=record,
                stage=sm.Stage.FULL_TEXT,
                status=sm.ScreeningItem.Status.DECIDED,
                votes=2,
                final_verdict=sm.Verdict.INCLUDE,
            )
        a = services.assessment_open(tool=tool, study=study, outcome=outcome, user=user)
        services.assessment_save(assessment=a, user=user, version=1, answers=ANSWERS, complete=True)
        studies.append(study)

    results: dict[str, object] = {"studies": args.studies, "database": "postgresql"}
    target = services.assessment_open(tool=tool, study=studies[0], outcome=outcome, user=user)
    state = {"version": target.version}

    def save(_i: int) -> None:
        saved = services.assessment_save(
            assessment=target,
            user=user,
            version=state["version"],
            answers=ANSWERS,
            domains={"D4": {"final": "High", "justification": "bench", "support": "quote"}},
            complete=True,
        )
        state["version"] = saved.version

    results["save_full_rob2_assessment"] = timed(save, args.repeat)
    results.update(page_saves(review, tool, studies[1], outcome, user, args.repeat))

    client = Client()
    client.force_login(user)
    base = f"/reviews/{review.pk}/rob/tools/{tool.pk}/"
    form = {f"q_{q}": v for q, v in ANSWERS.items()}
    results["propose_fragment"] = timed(
        lambda _i: client.post(base + "propose/", form, HTTP_HX_REQUEST="true"), args.repeat
    )
    light = max(10, args.repeat // 10)
    results["assessment_grid_page"] = timed(
        lambda _i: client.get(base + f"?outcome={outcome.pk}"), light
    )
    results["summary_page_with_plots"] = timed(
        lambda _i: client.get(base + f"summary/?outcome={outcome.pk}"), light
    )
    results["robvis_csv"] = timed(
        lambda _i: client.get(base + f"robvis.csv?outcome={outcome.pk}"), light
    )
    for response in (client.get(base + "summary/"), client.get(base + "robvis.csv")):
        assert response.status_code == 200, response.status_code

    spec = BUILTIN["rob2"]
    questions = [q.id for q in spec.domain("D2").questions]
    combos = list(itertools.product(["Y", "PY", "PN", "N", "NI"], repeat=len(questions)))
    start = time.perf_counter()
    for values in combos:
        spec.propose_domain("D2", dict(zip(questions, values, strict=True)))
    elapsed = time.perf_counter() - start
    results["rob2_d2_proposals_per_second"] = round(len(combos) / elapsed)

    OUT.mkdir(exist_ok=True)
    (OUT / "rob_assessment.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


def page_saves(review, tool, study, outcome, user, repeat: int) -> dict[str, object]:
    """Saving a draft from the assessment page as the browser does: a plain form post (302, then
    the browser loads the page again) and an htmx post (HX-Request; its answer is swapped in
    place). Reports the time of everything the server does for one save, and its SQL statements."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from extraction.rob.models import RobAssessment

    client = Client()
    client.force_login(user)
    url = f"/reviews/{review.pk}/rob/tools/{tool.pk}/studies/{study.pk}/assess/"
    url += f"?outcome={outcome.pk}"
    client.get(url)  # the session and the first page, outside the clock
    results: dict[str, object] = {}
    for name, headers in (("plain", {}), ("htmx", {"HTTP_HX_REQUEST": "true"})):
        statements: list[int] = []

        def post(i: int, headers: dict[str, str] = headers, statements: list[int] = statements):
            row = RobAssessment.objects.filter(tool=tool, study=study).first()
            form = {f"q_{q}": v for q, v in ANSWERS.items()}
            form["q_1.3"] = "N" if i % 2 else "Y"  # a real change on every save
            form.update(version=row.version if row else 1, action="save", outcome=outcome.pk)
            with CaptureQueriesContext(connection) as queries:
                response = client.post(url, form, **headers)
                if response.status_code == 302:  # what the browser loads next
                    response = client.get(response["Location"])
            assert response.status_code == 200, response.status_code
            statements.append(len(queries))

        results[f"page_save_{name}"] = timed(post, repeat)
        results[f"page_save_{name}_sql_statements"] = max(statements)
    return results


if __name__ == "__main__":
    main()
