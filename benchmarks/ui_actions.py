"""Routine actions in a real browser: time from key press or click to the updated page, and the
clicks and keys some whole tasks take (issue 11: p95 under 300 ms).

    createdb -h 127.0.0.1 -U postgres reviewapp_bench_ui
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewapp_bench_ui \\
    python benchmarks/ui_actions.py [--n 30]

Loads the BCG demo review (13 trials extracted, an analysis) into the database, adds records to
screen, conflicts to resolve and a risk-of-bias tool, starts `manage.py runserver` on a free
port against it and drives headless Chromium (CHROMIUM_PATH, default /usr/bin/chromium) as the
team would. Each action is timed in Python from the key press (or click) to the moment the page
shows its result, so Playwright's round trips (a few ms) are included; the server's share (request
sent to first byte of the answer, per Chromium's resource timing) is reported beside it. The
database is changed: give it a database of its own (benchmarks/run_all.py does).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.test")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"

import django

django.setup()

from django.contrib.auth import get_user_model
from django.core.management import call_command

from analysis.models import Analysis
from extraction.models import ExtractionForm
from extraction.rob import services as rob_services
from reviewapp.demo import DEMO_PASSWORD, DEMO_USERS, load_bcg_demo
from reviewapp.models import Review
from screening.models import ImportBatch, Record, ScreeningItem, Stage, Study, Verdict
from screening.services_screening import decision_record, stage_settings_update
from tests.extraction.conftest import build_use_case_form

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REASONS = ["Not a randomised trial", "Wrong population"]
TIMEOUT = 60_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Counted:
    """A page whose clicks and key presses are counted as a user would make them: a click per
    click, check or opened select (and one for the option), a key per character typed."""

    def __init__(self, page) -> None:
        self.page, self.clicks, self.keys = page, 0, 0

    def click(self, selector: str) -> None:
        self.clicks += 1
        self.page.click(selector)

    def check(self, selector: str) -> None:
        self.clicks += 1
        self.page.check(selector)

    def select(self, selector: str, value: str) -> None:
        self.clicks += 2
        self.page.select_option(selector, value)

    def type_into(self, selector: str, text: str) -> None:
        self.clicks += 1
        self.keys += len(text)
        self.page.fill(selector, text)

    def press(self, key: str) -> None:
        self.keys += 1
        self.page.keyboard.press(key)


# --- data ------------------------------------------------------------------------------------


def setup_data(n: int) -> dict:
    call_command("migrate", verbosity=0)
    User = get_user_model()
    users = {}
    for username, email, _roles in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
        user.set_password(DEMO_PASSWORD)
        user.save()
        users[username] = user
    review = load_bcg_demo()
    stage_settings_update(
        review=review,
        stage=Stage.TITLE_ABSTRACT,
        reviewers_required=2,
        blind=True,
        exclusion_reasons=REASONS,
    )
    batch = ImportBatch.objects.create(
        review=review,
        created_by=users["lead"],
        source_database="benchmark",
        file_name="bench.ris",
        file_format="ris",
        status=ImportBatch.Status.DONE,
    )

    def records(count: int, what: str) -> list[Record]:
        return [
            Record.objects.create(
                review=review,
                import_batch=batch,
                source_line=i + 1,
                title=f"{what} {i}: a randomised trial of a vaccine against tuberculosis",
                abstract="Background. " + "Participants were randomised to vaccine. " * 20,
                authors=["Author A", "Author B"],
                year=2000 + i % 20,
            )
            for i in range(count)
        ]

    for record in records(n + 2, "Conflict"):
        decision_record(
            record=record, stage="ta", reviewer=users["reviewer1"], verdict=Verdict.INCLUDE
        )
        decision_record(
            record=record, stage="ta", reviewer=users["reviewer2"], verdict=Verdict.EXCLUDE
        )
    records(n + 2, "To screen")
    # One more included study, not yet extracted, for the count of clicks and keys.
    fresh = Study.objects.create(review=review, label="Fresh 2024")
    record = Record.objects.create(
        review=review, import_batch=batch, title="Fresh 2024", year=2024, study=fresh
    )
    for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT):
        ScreeningItem.objects.create(
            review=review,
            record=record,
            stage=stage,
            status=ScreeningItem.Status.DECIDED,
            votes=2,
            final_verdict=Verdict.INCLUDE,
        )
    tool = rob_services.tool_create(review=review, user=users["lead"], kind="rob2")
    form = ExtractionForm.objects.get(review=review)
    # The use case's form (docs/use-case.md), built as the extraction tests build it.
    use_case_form = build_use_case_form(review, users["lead"], name="Use-case sheet")
    return {
        "review": review,
        "form": form,
        "use_case_form": use_case_form,
        "tool": tool,
        "analysis": Analysis.objects.filter(review=review).first(),
        "study": Study.objects.filter(review=review).exclude(pk=fresh.pk).order_by("label")[0],
        "fresh": fresh,
    }


# --- server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "true"}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=REPO,
        env=env,
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


# --- actions ---------------------------------------------------------------------------------


def log_in(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.on("requestfinished", _on_request_finished)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


# Server time of the page and htmx requests finished while an action is timed: from the request
# sent to the first byte of the answer (Chromium's resource timing), summed over a redirect.
_finished: list[float] = []
SERVER_MS: list[float] = []


def _on_request_finished(request) -> None:
    if request.resource_type in ("document", "xhr", "fetch"):
        timing = request.timing
        if timing["responseStart"] >= 0 and timing["requestStart"] >= 0:
            _finished.append(timing["responseStart"] - timing["requestStart"])


def timed(action: Callable[[], None], until: Callable[[], None]) -> float:
    _finished.clear()
    start = time.perf_counter()
    action()
    until()
    elapsed = (time.perf_counter() - start) * 1000
    SERVER_MS.append(sum(_finished))
    return elapsed


def measured(label: str, run: Callable[[], list[float]]) -> tuple[str, list[float], list[float]]:
    """The action's times, and the server's share of each."""
    SERVER_MS.clear()
    times = run()
    return label, times, list(SERVER_MS)


RECORD_SHOWN = (
    "pk => { const m = document.querySelector('#screen-record article p.muted');"
    " return document.querySelector('#queue-empty') !== null"
    " || (m !== null && !m.textContent.startsWith('Record ' + pk + ' ')); }"
)


def screening(page, base: str, review: Review, n: int) -> list[float]:
    page.goto(f"{base}/reviews/{review.pk}/screening/ta/screen/")
    times = []
    for i in range(n):
        text = page.locator("#screen-record article p.muted").first.inner_text()
        pk = int(text.split()[1])
        key = "i" if i % 2 else "e"
        times.append(
            timed(
                lambda k=key: page.keyboard.press(k),
                lambda p=pk: page.wait_for_function(RECORD_SHOWN, arg=p),
            )
        )
    return times


def conflicts(page, base: str, review: Review, n: int) -> tuple[list[float], int, int]:
    """Resolve n conflicts by keyboard, alternately include and exclude with a reason; the
    clicks and keys of the first ten are counted."""
    page.goto(f"{base}/reviews/{review.pk}/screening/ta/conflicts/")
    counted = Counted(page)
    times = []
    keys_for_ten = clicks_for_ten = 0
    for i in range(n):
        open_cards = page.locator("[data-conflict][data-status=conflict]")
        if not open_cards.count():  # the page lists 20: load the next ones
            page.goto(f"{base}/reviews/{review.pk}/screening/ta/conflicts/")
        card = open_cards.first
        card_id = card.get_attribute("id")
        keys = ["i"] if i % 2 == 0 else ["1", "e"]
        for key in keys[:-1]:
            counted.press(key)
        times.append(
            timed(
                lambda k=keys[-1]: counted.press(k),
                lambda c=card_id: page.locator(f"#{c}").filter(has_text="Resolved as").wait_for(),
            )
        )
        if i == 9:
            keys_for_ten, clicks_for_ten = counted.keys, counted.clicks
    return times, clicks_for_ten, keys_for_ten


def extraction_saves(page, base: str, data: dict, n: int) -> list[float]:
    url = (
        f"{base}/reviews/{data['review'].pk}/extraction/forms/{data['form'].pk}"
        f"/studies/{data['study'].pk}/"
    )
    page.goto(url)
    times = []
    for i in range(n):
        version = int(page.input_value("#entry-form input[name=version]"))
        page.fill("#a-ablat", f"{40 + i % 7}.{i}")
        times.append(
            timed(
                lambda: page.keyboard.press("Control+s"),
                lambda v=version: page.wait_for_function(
                    "v => document.querySelector('#entry-form input[name=version]')?.value"
                    " === String(v + 1)",
                    arg=v,
                ),
            )
        )
    return times


def extract_one_study(page, base: str, data: dict) -> tuple[int, int]:
    """The clicks and keys to extract one study on the use case's form (every field answered,
    one follow-up row, two arms, one dichotomous outcome at one timepoint), start to saved."""
    page.goto(
        f"{base}/reviews/{data['review'].pk}/extraction/forms/{data['use_case_form'].pk}"
        f"/studies/{data['fresh'].pk}/"
    )
    c = Counted(page)
    c.select("#a-design", "Individually randomised")
    c.check("input[name=a__setting][value='Community services']")
    c.type_into("#a-n_randomised", "609")
    c.type_into("#a-recruitment_start", "2019-03-01")
    c.type_into("[name=t__followups__0__timepoint]", "12 months")
    c.type_into("[name=t__followups__0__weeks]", "52")
    c.select("#a-peer_role", "In addition to care as usual")
    for key, answer in (("peer_training", "yes"), ("peer_supervision", "yes")):
        c.check(f"input[name=a__{key}][value={answer}]")
    c.check("input[name=a__peer_integrated][value=no]")
    c.type_into("#a-training_notes", "Two-day course")
    c.type_into("#a-training_hours", "16")
    c.type_into("[name=arm__0__label]", "Peer support")
    c.select("[name=arm__0__role]", "intervention")
    c.click("#add-arm")
    c.type_into("[name=arm__1__label]", "Usual care")
    c.select("[name=arm__1__role]", "control")
    c.click(".add-outcome-row")
    for row, arm, events, total in ((0, "Peer support", 6, 306), (1, "Usual care", 29, 303)):
        c.type_into(f"[name=o__{row}__timepoint]", "12 months")
        c.type_into(f"[name=o__{row}__arm]", arm)
        c.type_into(f"[name=o__{row}__events]", str(events))
        c.type_into(f"[name=o__{row}__total]", str(total))
    c.check("#complete")
    c.press("Control+s")
    page.get_by_text("complete (version 1").wait_for()
    return c.clicks, c.keys


def rob_answers(page, base: str, data: dict, n: int) -> list[float]:
    """An answer changed to the judgement proposed (no save)."""
    review, tool = data["review"], data["tool"]
    page.goto(f"{base}/reviews/{review.pk}/rob/tools/{tool.pk}/")
    page.locator("#rob-grid").get_by_role("link", name="Assess").first.click()
    page.locator("#rob-form").wait_for()
    page.select_option("#q-1-1", "Y")
    page.select_option("#q-1-2", "Y")
    page.wait_for_load_state("networkidle")  # the proposals of these two answers are in
    answers = []
    for i in range(n):
        before = page.locator("#proposed-D1").get_attribute("data-j")
        answer = "Y" if i % 2 == 0 else "N"
        answers.append(
            timed(
                lambda a=answer: page.select_option("#q-1-3", a),
                lambda b=before: page.wait_for_function(
                    "b => document.querySelector('#proposed-D1').dataset.j !== b", arg=b
                ),
            )
        )
    return answers


def rob_saves(page, n: int) -> list[float]:
    """Ctrl+S on the assessment page left by rob_answers to the saved draft shown."""
    saves = []
    for i in range(n):
        page.select_option("#q-1-3", "Y" if i % 2 == 0 else "N")
        page.wait_for_load_state("networkidle")  # the proposal is in before the clock starts
        version = page.locator("#version-shown").inner_text()
        saves.append(
            timed(
                lambda: page.keyboard.press("Control+s"),
                lambda v=version: page.wait_for_function(
                    "v => { const e = document.querySelector('#version-shown');"
                    " return e !== null && e.textContent !== v; }",
                    arg=v,
                ),
            )
        )
    return saves


def analysis_page(page, base: str, data: dict, n: int) -> list[float]:
    review, analysis = data["review"], data["analysis"]
    times = []
    for _ in range(n):
        page.goto(f"{base}/reviews/{review.pk}/analyses/")
        times.append(
            timed(
                lambda: page.click(f"a[href$='/analyses/{analysis.pk}/']"),
                lambda: page.wait_for_function(
                    "() => document.getElementById('fig-forest')?.data?.length > 0"
                ),
            )
        )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="repeats of each action")
    args = parser.parse_args()
    n = max(args.n, 10)
    data = setup_data(n)
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS
            )
            load_before = os.getloadavg()
            reviewer = log_in(browser, base, "reviewer1")
            arbiter = log_in(browser, base, "arbiter")
            lead = log_in(browser, base, "lead")
            review = data["review"]
            rows = [
                measured(
                    "Next record after a screening decision",
                    lambda: screening(reviewer, base, review, n),
                )
            ]
            counts: dict[str, int] = {}

            def resolve() -> list[float]:
                times, counts["clicks"], counts["keys"] = conflicts(arbiter, base, review, n)
                return times

            rows.append(measured("Resolve a conflict (in place)", resolve))
            rows.append(
                measured(
                    "Save an extraction (Ctrl+S, in place)",
                    lambda: extraction_saves(lead, base, data, n),
                )
            )
            rows.append(
                measured(
                    "RoB answer to proposed judgement",
                    lambda: rob_answers(lead, base, data, n),
                )
            )
            rows.append(
                measured("Save a RoB assessment (Ctrl+S, in place)", lambda: rob_saves(lead, n))
            )
            rows.append(
                measured(
                    "Open the analysis page to forest plot drawn",
                    lambda: analysis_page(lead, base, data, n),
                )
            )
            clicks_10, keys_10 = counts["clicks"], counts["keys"]
            extract_clicks, extract_keys = extract_one_study(lead, base, data)
            load_after = os.getloadavg()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"load average (1/5/15 min) before {load_before[0]:.1f}/{load_before[1]:.1f}/"
        f"{load_before[2]:.1f}, after {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f};"
        f" {os.cpu_count()} CPUs"
    )
    print("| Action | runs | median ms | p95 ms | server median ms | server p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, times, server in rows:
        print(
            f"| {label} | {len(times)} | {statistics.median(times):.0f} "
            f"| {percentile(times, 0.95):.0f} | {statistics.median(server):.0f} "
            f"| {percentile(server, 0.95):.0f} |"
        )
    print(f"\nResolve 10 conflicts: {clicks_10} clicks, {keys_10} keys")
    print(
        "Extract one study (use-case form, 2 arms, 1 dichotomous outcome): "
        f"{extract_clicks} clicks, {extract_keys} keys"
    )


if __name__ == "__main__":
    main()
