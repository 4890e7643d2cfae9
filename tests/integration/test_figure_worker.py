"""Download figures are drawn by the worker (with Chromium) once a result is computed; the web
process only serves the files."""

import shutil

import plotly.graph_objects as go
import pytest
from django.urls import reverse

from analysis import figures
from tests.conftest import needs
from tests.integration.test_analysis_worker import _current, _wait
from tests.integration.test_analysis_worker import analysis as analysis  # noqa: F401 -- fixture
from tests.integration.test_analysis_worker import workers as workers  # noqa: F401 -- fixture

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _drawn(a) -> bool:
    names = figures.figure_names(a.current_result.computed)
    return all(
        figures.figure_stored(analysis=a, result=a.current_result, name=n, fmt=f, sort=a.sort_by)
        for n in names
        for f in figures.FORMATS
    )


def test_the_worker_draws_the_figures_and_the_web_process_only_serves_them(
    workers, client_for, viewer, analysis, monkeypatch
):
    needs(shutil.which("chromium") is not None, "drawing figures needs Chromium")
    workers.env["FIGURES_RENDER_ON_COMPUTE"] = "true"
    workers.start()
    done = _wait(lambda: _current(analysis.pk), what="the result")
    _wait(lambda: _drawn(done), timeout=180, what="the worker to draw the figures")

    def no_drawing_here(*args, **kwargs):
        raise AssertionError("the web process drew a figure")

    monkeypatch.setattr(go.Figure, "to_image", no_drawing_here)
    client = client_for(viewer)
    url = reverse("analysis_download", args=[analysis.review_id, analysis.pk, "forest.png"])
    png = client.get(url)
    assert png.status_code == 200
    assert b"".join(png.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert png["Content-Disposition"].startswith("attachment")
    # Another sort order has not been drawn: it is asked of the worker, not drawn here.
    other = next(s for s in ("study", "year", "effect", "weight") if s != done.sort_by)
    waiting = client.get(url, {"sort": other})
    assert waiting.status_code == 202 and waiting["Retry-After"]
    drawn = _wait(
        lambda: (r := client.get(url, {"sort": other})).status_code == 200 and r,
        timeout=180, what="the worker to draw the other order",
    )  # fmt: skip
    assert b"".join(drawn.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
