"""Figure downloads: time from request to the whole file, for files the worker drew when the
result was computed (issue 11: p95 under 200 ms; they took 3-8 s drawn in the web process).

    createdb -h 127.0.0.1 -U postgres reviewapp_bench_figures
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewapp_bench_figures \\
    python benchmarks/figure_download.py [--n 50]

Loads the BCG demo review (13 trials) into the database, lets its analysis compute and its
figures be drawn in-process (the same code the worker runs), then requests every figure in
PNG, SVG and PDF `--n` times through Django's test client as a signed-in viewer, and reports
the median and 95th percentile per format.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.test")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"

import django

django.setup()

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings

from analysis import figures
from analysis.models import Analysis
from reviewapp.demo import DEMO_USERS, load_bcg_demo
from reviewapp.models import Membership


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    with override_settings(MEDIA_ROOT=str(REPO / "var" / "bench-media")):
        for username, email, _roles in DEMO_USERS:
            get_user_model().objects.get_or_create(username=username, defaults={"email": email})
        review = load_bcg_demo()
        analysis = Analysis.objects.filter(review=review).select_related("current_result").first()
        assert analysis is not None and analysis.current_result is not None
        # Drawn when the result was computed (FIGURES_RENDER_ON_COMPUTE); a no-op then.
        figures.figures_render(analysis_id=analysis.pk, result_id=analysis.current_result.pk)
        user = get_user_model().objects.create(username=f"bench-{uuid.uuid4().hex[:6]}")
        Membership.objects.create(review=review, user=user)
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        base = f"/reviews/{review.pk}/analyses/{analysis.pk}/download/"
        names = figures.figure_names(analysis.current_result.computed)
        print(f"load average {os.getloadavg()[0]:.1f}; {len(names)} figures: {', '.join(names)}")
        print(f"{'format':>6} {'requests':>8} {'median ms':>10} {'p95 ms':>8}")
        for fmt in figures.FORMATS:
            times = []
            for _ in range(args.n):
                for name in names:
                    t = time.perf_counter()
                    response = client.get(f"{base}{name}.{fmt}/")
                    body = (
                        b"".join(response.streaming_content)
                        if response.streaming
                        else response.content
                    )
                    times.append((time.perf_counter() - t) * 1000)
                    assert response.status_code == 200 and body, (name, fmt, response.status_code)
            median, p95 = statistics.median(times), percentile(times, 0.95)
            print(f"{fmt:>6} {len(times):>8} {median:>10.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main()
