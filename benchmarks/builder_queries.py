"""Server time and SQL statements of each builder action, as htmx sends it (issue 11: every
routine action under 300 ms p95 in the browser; most of the server's share was rendering).

    createdb -h 127.0.0.1 -U postgres reviewapp_bench_builder_q
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reviewapp_bench_builder_q \\
    python benchmarks/builder_queries.py

Builds the use-case form (two sections, nine fields) through the services and sends each action
BUILDER_RUNS times (default 20) with Django's test client: reorder within a section, move to the
other section (the whole list of sections is redrawn; moved back untimed), remove then undo, add
a field and open a field's editor. Prints p50/p95 server ms, the statements each action sends
and the size of its answer. The database is changed: give it one of its own.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings")

import django  # noqa: E402 (settings first: this is a script, not a module)

django.setup()

from django.conf import settings  # noqa: E402 (after django.setup)
from django.contrib.auth import get_user_model  # noqa: E402 (after django.setup)
from django.core.management import call_command  # noqa: E402 (after django.setup)
from django.db import connection  # noqa: E402 (after django.setup)
from django.test import Client  # noqa: E402 (after django.setup)
from django.test.utils import CaptureQueriesContext  # noqa: E402 (after django.setup)
from django.urls import reverse  # noqa: E402 (after django.setup)

from reviewapp.models import Membership, Review  # noqa: E402 (after django.setup)
from tests.extraction.conftest import build_use_case_form  # noqa: E402 (after django.setup)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench-lead")
    review = Review.objects.create(title="Builder statements (benchmark)")
    Membership.objects.create(review=review, user=user, is_lead=True)
    form = build_use_case_form(review, user)
    design, peer = list(form.sections.order_by("position"))
    first = form.fields.filter(section=design).order_by("position").first()
    assert first is not None
    client = Client(HTTP_HX_REQUEST="true")
    client.force_login(user)
    r, f = review.pk, form.pk

    def field_url(name: str, pk: int) -> str:
        return reverse(name, args=[r, f, pk])

    def reorder() -> object:
        pks = list(
            form.fields.filter(section=design, removed_in_version__isnull=True)
            .order_by("position")
            .values_list("pk", flat=True)
        )
        url = reverse("extraction_fields_reorder", args=[r, f, design.pk])
        return client.post(url, {"order": ",".join(map(str, pks[::-1]))})

    def move(to: int, back: int) -> Callable[[], object]:
        """Moves the field to `to`, and (untimed) back, so every run moves it."""

        def run() -> object:
            url = field_url("extraction_field_action", first.pk)
            response = client.post(url, {"action": "section", "section": to})
            assert b"is already in" not in response.content  # type: ignore[attr-defined] (test client)
            untimed.append(lambda: client.post(url, {"action": "section", "section": back}))
            return response

        return run

    def remove_and_undo() -> object:
        url = field_url("extraction_field_action", first.pk)
        client.post(url, {"action": "remove"})
        return client.post(url, {"action": "restore"})

    untimed: list[Callable[[], object]] = []
    counter = iter(range(10_000))

    def add() -> object:
        url = reverse("extraction_field_add", args=[r, f, peer.pk])
        return client.post(url, {"label": f"Note {next(counter)}", "field_type": "short_text"})

    def open_edit() -> object:
        return client.get(field_url("extraction_field_edit", first.pk))

    actions: list[tuple[str, Callable[[], object]]] = [
        ("reorder", reorder),
        ("move to other section", move(peer.pk, design.pk)),
        ("remove, then undo (2 POSTs)", remove_and_undo),
        ("add field", add),
    ]
    try:
        reverse("extraction_field_edit", args=[r, f, first.pk])
        actions.append(("open Edit", open_edit))
    except Exception:  # noqa: BLE001 (the route is new: the script also measures before it)
        pass
    runs = int(os.environ.get("BUILDER_RUNS", "20"))
    print(f"load average {os.getloadavg()[0]:.1f}; {runs} runs each")
    for name, action in actions:
        times, statements, size = [], 0, 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = action()
                times.append((time.perf_counter() - start) * 1000)
            statements = len(queries)
            size = len(response.content)  # type: ignore[attr-defined] (a test-client response)
            while untimed:
                untimed.pop()()
        print(
            f"{name:28} p50 {percentile(times, 50):6.1f} ms  p95 {percentile(times, 95):6.1f} ms"
            f"  {statements:3d} statements  {size // 1024} KiB"
        )


if __name__ == "__main__":
    main()
