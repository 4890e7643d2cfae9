"""Clicks, keys and full page loads to build the use-case extraction form in the browser
(issue 11: 9 fields in 2 sections took 44 clicks, 791 keys and a full reload per field).

    createdb -h 127.0.0.1 -U postgres reviewapp_bench_builder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewapp_bench_builder \\
    python benchmarks/builder_actions.py

Starts `manage.py runserver` on a free port and drives headless Chromium at 1280x720 as the
lead: creates the form on the extraction page, then on the builder types the "Study design"
section and its five fields with the keyboard (Enter saves, the cursor comes back to the next
label, no reload) and adds the use case's organisational-support block (three indicators and
the derived level) with one click from the templates. Then, separately, the same form copied
from another review the lead is on. Last, on the typed form, a field is moved to the other
section and back, N times each way (BUILDER_MOVES, default 20): by Alt+Shift+arrow, by "u"
(undo), by drag onto the other section's list, and by the row's "Move to section" list; each
timed from the key, drop or click until the live region says where the field landed (the
whole list of sections is swapped, no reload), with p50/p95 and the server's share.
Counted as benchmarks/ui_actions.py counts: a click per
click or field entered, two per drop-down choice, a key per character typed or key pressed.
The database is changed: give it one of its own.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django.contrib.auth import get_user_model
from django.core.management import call_command
from ui_actions import (
    CHROMIUM_ARGS,
    Counted,
    free_port,
    log_in,
    measured,
    percentile,
    start_server,
    timed,
)

from extraction.models import ExtractionForm
from reviewapp.demo import DEMO_PASSWORD
from reviewapp.models import Membership, Review
from tests.extraction.conftest import build_use_case_form

# The "Study design" section typed field by field: label, type, then the inputs that type needs.
TYPED = [
    ("Design", "single_choice", {"choices": "Individually randomised\nCluster randomised"}),
    (
        "Setting",
        "multiple_choice",
        {
            "choices": "Inpatient\nOutpatient\nCommunity services\nRecruitment at discharge\n"
            "Crisis teams\nCourt-ordered treatment"
        },
    ),
    ("Participants randomised", "integer", {"min_value": "2"}),
    (
        "Role of the peer worker",
        "single_choice",
        {"choices": "Substitute for another worker\nIn addition to care as usual"},
    ),
    ("Follow-up", "integer", {"min_value": "0", "unit": "months"}),
]


def setup() -> tuple[Review, Review]:
    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="lead")
    user.set_password(DEMO_PASSWORD)
    user.save()
    review = Review.objects.create(title="Peer support (benchmark)")
    older = Review.objects.create(title="An older review of the same team")
    for r in (review, older):
        Membership.objects.create(review=r, user=user, is_lead=True)
    build_use_case_form(older, user, name="Use-case sheet")
    return review, older


def build(page, base: str, review: Review) -> tuple[int, int, int]:
    loads = []
    page.on(
        "framenavigated",
        lambda frame: loads.append(frame.url) if frame == page.main_frame else None,
    )
    page.goto(f"{base}/reviews/{review.pk}/extraction/")
    loads.clear()
    c = Counted(page)
    c.type_into("#id_name", "Extraction sheet")
    c.press("Enter")
    page.wait_for_url("**/forms/*/")
    c.press("s")  # jumps to "Add a section"
    page.keyboard.type("Study design")
    c.keys += len("Study design")
    c.press("Enter")
    section = page.locator("section.builder-section").first
    section.wait_for()
    add = section.locator("form[id^=add-field-]")
    for label, kind, extra in TYPED:
        c.type_into(f"#{add.get_attribute('id')} [name=label]", label)
        c.select(f"#{add.get_attribute('id')} [name=field_type]", kind)
        for name, value in extra.items():
            c.type_into(f"#{add.get_attribute('id')} [name={name}]", value)
        c.press("Control+Enter")
        page.locator(f"tr.field-row strong:text-is('{label}')").wait_for()
    c.click("button[value=organisational_support]")
    page.locator("tr[data-key=org_support]").wait_for()
    return c.clicks, c.keys, len(loads)


def copy(page, base: str, review: Review, source_pk: int) -> tuple[int, int, int]:
    page.goto(f"{base}/reviews/{review.pk}/extraction/")
    c = Counted(page)
    c.type_into("#id_name", "Copied sheet")
    c.press("Enter")
    page.wait_for_url("**/forms/*/")
    c.select("#copy-source", f"form:{source_pk}")
    c.click("#copy-form button")
    page.locator("tr[data-key=org_support]").wait_for()
    return c.clicks, c.keys, 1


LANDED = "() => document.getElementById('builder-live').textContent.includes('moved to')"
QUIET = "() => { document.getElementById('builder-live').textContent = ''; }"


def _landed(page) -> None:
    page.wait_for_function(LANDED)


def moves(page, n: int) -> dict[str, tuple[str, list[float], list[float]]]:
    """Moves the first field of the first section to the second section and back, n times
    each way by every means the builder offers."""
    first, second = page.locator("section.builder-section").evaluate_all(
        "ss => ss.slice(0, 2).map(s => s.id)"
    )
    row = "#" + page.locator(f"#{first} tr.field-row").first.get_attribute("id")

    def there_and_back(go: Callable[[], None], *, time_back: bool = False):
        """Moves the field with `go`, then back with "u"; times one of the two."""

        def run() -> list[float]:
            times = []
            for _ in range(n):
                page.locator(row).focus()
                page.evaluate(QUIET)
                there = timed(go, lambda: _landed(page))
                page.evaluate(QUIET)
                page.locator(row).focus()
                back = timed(lambda: page.keyboard.press("u"), lambda: _landed(page))
                times.append(back if time_back else there)
            return times

        return run

    def drop_onto_other_section() -> None:
        dt = page.evaluate_handle("() => new DataTransfer()")
        page.locator(row).dispatch_event("dragstart", {"dataTransfer": dt})
        page.locator(f"#{second} h2").dispatch_event("dragover", {"dataTransfer": dt})
        page.locator(row).dispatch_event("drop", {"dataTransfer": dt})
        page.locator(row).dispatch_event("dragend", {"dataTransfer": dt})

    def choose_and_move() -> None:
        page.locator(f"{row} form.move-form select").select_option(second.removeprefix("section-"))
        page.locator(f"{row} form.move-form button").click()

    def key() -> None:
        page.keyboard.press("Alt+Shift+ArrowDown")

    def reorder() -> list[float]:
        """For comparison: Alt+Down inside the section, which swaps only that section."""
        times = []
        for _ in range(n):
            for arrow, place in (("ArrowDown", 2), ("ArrowUp", 1)):
                page.locator(row).focus()
                page.evaluate(QUIET)
                times.append(
                    timed(
                        lambda arrow=arrow: page.keyboard.press(f"Alt+{arrow}"),
                        lambda place=place: page.wait_for_function(
                            "p => document.getElementById('builder-live').textContent"
                            ".includes(`position ${p} of`)",
                            arg=place,
                        ),
                    )
                )
        return times

    return {
        "Alt+Down within the section (reorder, for comparison)": measured("reorder", reorder),
        "Alt+Shift+Down": measured("key", there_and_back(key)),
        "u (undo the move)": measured("u", there_and_back(key, time_back=True)),
        "drag onto the other section": measured("drag", there_and_back(drop_onto_other_section)),
        "Move to section list + Move": measured("menu", there_and_back(choose_and_move)),
    }


def main() -> None:
    review, older = setup()
    # The ORM is read outside Playwright's event loop (Django refuses it inside).
    source_pk = ExtractionForm.objects.get(review=older).pk
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
            page = log_in(browser, base, "lead")
            built = build(page, base, review)
            moved = moves(page, int(os.environ.get("BUILDER_MOVES", "20")))
            copied = copy(page, base, review, source_pk)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    form = ExtractionForm.objects.get(review=review, name="Extraction sheet")
    fields = form.fields.filter(removed_in_version=None).count()
    sections = form.sections.filter(removed_in_version=None).count()
    print(
        f"Build the use-case form ({fields} fields in {sections} sections), typed with the "
        f"organisational-support template: {built[0]} clicks, {built[1]} keys, "
        f"{built[2]} full page load (creating the form)"
    )
    print(
        f"Copy it from another review: {copied[0]} clicks, {copied[1]} keys, "
        f"{copied[2]} full page load"
    )
    # Clicks and keys for one move, counted as above (the row is focused by a click or Tab).
    effort = {
        "Alt+Down within the section (reorder, for comparison)": "1 key",
        "Alt+Shift+Down": "1 click or Tab to the row + 1 key",
        "u (undo the move)": "1 key",
        "drag onto the other section": "1 drag",
        "Move to section list + Move": "3 clicks (list, option, Move)",
    }
    for label, (_name, times, server) in moved.items():
        print(
            f"Move a field, {label} ({effort[label]}): "
            f"p50 {percentile(times, 0.5):.0f} ms, p95 {percentile(times, 0.95):.0f} ms "
            f"(server p50 {percentile(server, 0.5):.0f} ms), n={len(times)}, no reload"
        )


if __name__ == "__main__":
    main()
