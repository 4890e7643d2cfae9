"""Latency from committing consensus data to the new result being visible to the dashboard's
version poll, with a real Redis broker and a real Celery worker.

    createdb -h 127.0.0.1 -U postgres reviewapp_bench_analysis
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewapp_bench_analysis \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/10 python benchmarks/analysis_latency.py [--n 5]

`--n 30` is the run in docs/performance.md; `make bench` (benchmarks/run_all.py) creates
the database itself.

Per iteration one consensus save for one study of a 20-study analysis is committed; the clock
stops when the version the dashboard polls has changed *and* the analysis is current with the
new result. The open page polls that version every second, so the end-to-end figure adds up
to one polling interval plus the fragment request (measured here too, as a request through
Django's test client).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.test")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

import django

django.setup()

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from analysis import selectors, services
from analysis.models import Analysis
from extraction import services as extraction
from extraction.models import ExtractionForm, FieldType
from reviewapp.celery import app as celery_app
from reviewapp.models import Membership, Review
from screening.models import ImportBatch, Record, ScreeningItem, Stage, Study, Verdict

ARMS = [
    {"label": "Peer support", "role": "intervention"},
    {"label": "Usual care", "role": "control"},
]


def setup(n_studies: int):
    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username=f"bench-{uuid.uuid4().hex[:6]}")
    review = Review.objects.create(title="Latency benchmark")
    Membership.objects.create(review=review, user=user, is_lead=True)
    batch = ImportBatch.objects.create(review=review, source_database="MEDLINE", file_name="x.ris",
                                       status=ImportBatch.Status.DONE)  # fmt: skip
    outcome = extraction.outcome_save(
        review=review, name="Quality of life", outcome_type="continuous"
    )
    form = extraction.form_create(
        review=review, name="Sheet", user=user, mode=ExtractionForm.Mode.SINGLE
    )
    section = extraction.section_add(form=form, title="Study", user=user)
    extraction.field_add(section=section, data=extraction.FieldInput(
        label="Note", field_type=FieldType.SHORT_TEXT, key="note"), user=user)  # fmt: skip
    studies = []
    for i in range(n_studies):
        study = Study.objects.create(review=review, label=f"Trial {i} {2000 + i}")
        record = Record.objects.create(
            review=review, import_batch=batch, title=f"Trial {i}", year=2000 + i, study=study
        )
        ScreeningItem.objects.create(review=review, record=record, stage=Stage.FULL_TEXT,
                                     status=ScreeningItem.Status.DECIDED, votes=2,
                                     final_verdict=Verdict.INCLUDE)  # fmt: skip
        studies.append(study)
    return user, review, outcome, form, studies


def save(form, study, user, outcome, mean, version):
    rows = [
        {
            "outcome": outcome.pk,
            "timepoint": "12 months",
            "timepoint_weeks": 52,
            "arm": arm,
            "mean": m,
            "sd": 3.0,
            "n": 50,
        }
        for arm, m in (("Peer support", mean), ("Usual care", 10.0))
    ]
    return extraction.extraction_save(
        form=form,
        study=study,
        user=user,
        expected_version=version,
        data=extraction.ExtractionInput(answers={"note": "x"}, arms=ARMS, outcomes=rows),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--studies", type=int, default=20)
    args = parser.parse_args()
    user, review, outcome, form, studies = setup(args.studies)
    versions = {}
    for i, study in enumerate(studies):
        versions[study.pk] = save(form, study, user, outcome, 10.0 + i / 10, 0).version
    analysis = services.analysis_create(review=review, outcome=outcome, created_by=user)
    celery_app.control.purge()
    node = f"bench-{uuid.uuid4().hex[:6]}@{os.uname().nodename}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "reviewapp",
            "worker",
            "--pool=solo",
            "-Q",
            celery_app.conf.task_default_queue,
            "-n",
            node,
            "--loglevel=warning",
        ],
        env={**os.environ},
    )
    try:
        while not celery_app.control.ping(destination=[node], timeout=1):
            time.sleep(0.2)
        while Analysis.objects.get(pk=analysis.pk).status != "current":
            time.sleep(0.05)
        client = Client()
        client.force_login(user)
        latencies, fragments = [], []
        for i in range(args.n):
            study = studies[i % len(studies)]
            before = selectors.version(review=review)
            t0 = time.perf_counter()
            versions[study.pk] = save(
                form, study, user, outcome, 11.0 + i / 7, versions[study.pk]
            ).version
            while True:
                a = Analysis.objects.get(pk=analysis.pk)
                if a.status == "current" and selectors.version(review=review) != before:
                    break
                time.sleep(0.005)
            latencies.append(time.perf_counter() - t0)
            f0 = time.perf_counter()
            response = client.get(f"/reviews/{review.pk}/dashboard/body/", HTTP_HOST="localhost")
            assert response.status_code == 200, response.status_code
            fragments.append(time.perf_counter() - f0)
        latencies.sort()
        p95 = latencies[int(0.95 * len(latencies)) - 1]
        print(f"{args.n} commits, {args.studies}-study analysis, real worker over Redis")
        print(
            "commit -> new result behind the version poll: "
            f"median {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
        )
        print(f"dashboard fragment request: median {statistics.median(fragments) * 1000:.0f} ms")
        worst = p95 + 1 + statistics.median(fragments)
        print(f"end to end with the 1 s poll, worst case p95: {worst * 1000:.0f} ms")
    finally:
        worker.terminate()
        worker.wait(timeout=30)


if __name__ == "__main__":
    main()
