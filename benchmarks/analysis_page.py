"""The analysis page: what the server does for it and what the browser is sent (issue 11).

    createdb -h 127.0.0.1 -U postgres reviewapp_bench_page
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewapp_bench_page \\
    python benchmarks/analysis_page.py [--n 30] [--browser]

Loads the BCG demo review (13 trials, a random-effects analysis) into the database and asks
for its analysis page `--n` times through Django's test client as the lead: the server's time
per request (median, p95), the SQL statements one request runs, and the bytes sent (the HTML,
the figure JSON inside it, and the scripts it loads, raw and gzipped). The page's figures are
removed from the cache first, so the first request builds them (with a worker, it builds them
when it computes the result: `FIGURES_RENDER_ON_COMPUTE`); the others find them.

With `--browser` it also starts `manage.py runserver` on that database and times, in headless
Chromium at 1280x720, the click on the analysis in the analyses list until plotly has drawn the
forest plot (the action of benchmarks/ui_actions.py), with the browser's own marks: first byte,
DOMContentLoaded and forest drawn, from navigation start. The database is changed: give it one
of its own.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.test")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"

import django

django.setup()

from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from analysis import figures
from analysis.models import Analysis
from reviewapp.demo import DEMO_PASSWORD, DEMO_USERS, load_bcg_demo

FOREST_DRAWN = "() => document.getElementById('fig-forest')?.data?.length > 0"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def setup() -> Analysis:
    call_command("migrate", verbosity=0)
    User = get_user_model()
    for username, email, _roles in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
        user.set_password(DEMO_PASSWORD)
        user.save()
    review = load_bcg_demo()
    analysis = Analysis.objects.filter(review=review).select_related("current_result").first()
    assert analysis is not None and analysis.current_result is not None
    return analysis


def kib(n: int) -> str:
    return f"{n / 1024:.0f} KiB"


def server(analysis: Analysis, n: int) -> None:
    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="lead"))
    url = f"/reviews/{analysis.review_id}/analyses/{analysis.pk}/"
    # The first request finds no figure built (as after an eviction).
    result = analysis.current_result
    cache.delete_many(
        [
            figures.figure_json_key(result, name, analysis.sort_by, analysis.show_rob)
            for name in figures.figure_names(result.computed)
        ]
    )
    with CaptureQueriesContext(connection) as first:
        start = time.perf_counter()
        html = client.get(url).content
        first_ms = (time.perf_counter() - start) * 1000
    times, statements = [], []
    for _ in range(n):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
        statements.append(len(queries))
    text = html.decode()
    shown = re.findall(r'<script type="application/json" data-figure[^>]*>(.*?)</script>', text)
    fig_bytes = sum(len(f.encode()) for f in shown)
    scripts = re.findall(r'<script src="/static/([^"?]+)', text)
    print(f"analysis page, {analysis.current_result.k} studies; load average "
          f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")  # fmt: skip
    print(f"server: median {statistics.median(times):.0f} ms, p95 {percentile(times, 0.95):.0f} "
          f"ms over {n} requests ({statistics.median(statements):.0f} SQL statements each); "
          f"the first, figures not cached: {first_ms:.0f} ms, {len(first)} statements")  # fmt: skip
    print(f"HTML {kib(len(html))} ({kib(len(gzip.compress(html)))} gzipped), of which figure "
          f"JSON {kib(fig_bytes)} in {len(shown)} figures")  # fmt: skip
    total = total_gz = 0
    for name in scripts:
        path = finders.find(name)
        body = Path(path).read_bytes() if path else b""
        total, total_gz = total + len(body), total_gz + len(gzip.compress(body))
        print(f"  script {name}: {kib(len(body))} ({kib(len(gzip.compress(body)))} gzipped)")
    print(f"scripts {kib(total)} ({kib(total_gz)} gzipped)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=REPO,
        env={**os.environ, "CELERY_TASK_ALWAYS_EAGER": "true"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)
            return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("runserver did not answer within 120 s")


BROWSER_MARKS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  return [nav.responseStart - nav.requestStart, nav.domContentLoadedEventEnd, performance.now()];
}"""


def browser(analysis: Analysis, n: int) -> None:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    port = free_port()
    proc = start_server(port)
    base = f"http://127.0.0.1:{port}"
    times: list[float] = []
    marks: list[list[float]] = []
    try:
        with sync_playwright() as playwright:
            b = playwright.chromium.launch(
                executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = b.new_context(viewport={"width": 1280, "height": 720}).new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", "lead")
            page.fill("#id_password", DEMO_PASSWORD)
            page.press("#id_password", "Enter")
            page.wait_for_url(lambda url: "/accounts/login/" not in url)
            for _ in range(n):
                page.goto(f"{base}/reviews/{analysis.review_id}/analyses/")
                start = time.perf_counter()
                page.click(f"a[href$='/analyses/{analysis.pk}/']")
                page.wait_for_function(FOREST_DRAWN)
                times.append((time.perf_counter() - start) * 1000)
                marks.append(page.evaluate(BROWSER_MARKS))
            b.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"browser, click to forest drawn: median {statistics.median(times):.0f} ms, "
          f"p95 {percentile(times, 0.95):.0f} ms over {n} runs")  # fmt: skip
    for i, label in enumerate(("server (to first byte)", "DOMContentLoaded", "forest drawn")):
        values = [m[i] for m in marks]
        print(f"  {label}: median {statistics.median(values):.0f} ms, "
              f"p95 {percentile(values, 0.95):.0f} ms from navigation start")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--browser", action="store_true", help="also time it in Chromium")
    args = parser.parse_args()
    analysis = setup()
    server(analysis, args.n)
    if args.browser:
        browser(analysis, args.n)


if __name__ == "__main__":
    main()
