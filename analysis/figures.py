"""Figure files (PNG, SVG, PDF) for download, drawn by the worker and kept in storage.

Drawing a figure to an image needs Chromium (kaleido drives it), takes seconds and a few hundred
megabytes: work for the worker, never for a web request. When a result is computed the worker
draws every figure it supports in every format (`FIGURES_RENDER_ON_COMPUTE`); a download the
worker has not drawn (another sort order) is queued through the outbox and the page asks the
user to try again in a moment. Files are named by a key over the result's input hash and what
else shows on the figure (title, sort order, RoB column), so a file is never stale: a change
gives a new key, and the web process only serves what is there.

The pages draw the same figures in the browser from their plotly JSON. Building a figure with
plotly's Python objects takes a few hundred milliseconds (the forest plot most of it), so the
JSON is built once per result and kept in the cache (`figures_json`), under a key over the
result's input hash, the figure's options (sort order, RoB column) and the version of the code
that draws it: changed data give a new input hash, hence a new key, so a cached figure is never
stale. The worker fills the cache when it computes a result (`figures_json_warm`, with
`FIGURES_RENDER_ON_COMPUTE` as for the files); a page that finds nothing there (another sort
order, an evicted key, no worker) builds the figure and stores it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import plotly
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from analysis import plots, results, scales
from analysis.models import Analysis, AnalysisResult
from analysis.results import ComputedResult
from reviewapp.common.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def figure_names(result: ComputedResult) -> list[str]:
    """The figures a result supports."""
    if not result.studies:
        return []
    sens = result.sensitivity
    optional = {"leave-one-out": sens.leave_one_out, "cumulative": sens.cumulative}
    return ["forest", "funnel"] + [n for n, seq in optional.items() if seq and seq.rows]


def figure_sort(analysis: Analysis, sort: str | None) -> str:
    return sort if sort in plots.SORTS else analysis.sort_by


def _title(analysis: Analysis) -> str:
    return f"{analysis.outcome.name}: {analysis.name}"


def _key(analysis: Analysis, result: AnalysisResult, sort: str) -> str:
    blob = json.dumps(
        [result.input_hash, _title(analysis), sort, analysis.show_rob], sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def figure_path(
    *, analysis: Analysis, result: AnalysisResult, name: str, fmt: str, sort: str
) -> str:
    key = _key(analysis, result, sort)
    return f"figures/{analysis.review_id}/{analysis.pk}/{key}/{name}.{fmt}"


def figure_stored(
    *, analysis: Analysis, result: AnalysisResult, name: str, fmt: str, sort: str
) -> str | None:
    """The storage name of the drawn figure, or None while it is not drawn."""
    path = figure_path(analysis=analysis, result=result, name=name, fmt=fmt, sort=sort)
    return path if default_storage.exists(path) else None


def build_figure(analysis: Analysis, result: ComputedResult, name: str, sort: str) -> Any:
    title = _title(analysis)
    if name == "forest":
        return plots.forest_plot(result, sort=sort, show_rob=analysis.show_rob, title=title)
    return plots.FIGURES[name](result, title=title)


# Named, not imported: analysis.tasks imports this module (the task calls figures_render).
RENDER_FIGURES_TASK = "analysis.tasks.render_figures_task"


def figures_request(*, analysis: Analysis, result: AnalysisResult, sort: str) -> None:
    """Queue the drawing of the result's figures in this sort order (after commit)."""
    outbox_enqueue(RENDER_FIGURES_TASK, analysis.pk, result.pk, sort, coalesce=True)


def figures_render(*, analysis_id: int, result_id: int, sort: str | None = None) -> list[str]:
    """Draw every figure of the result that is not in storage yet (the task's one call).
    Idempotent: what is there is kept. Returns the storage names written."""
    analysis = Analysis.objects.select_related("outcome").filter(pk=analysis_id).first()
    result = AnalysisResult.objects.filter(pk=result_id, analysis_id=analysis_id).first()
    if analysis is None or result is None or result.error:
        return []  # deleted since, or nothing to draw
    sort = figure_sort(analysis, sort)
    missing = [
        (name, fmt)
        for name in figure_names(result.computed)
        for fmt in FORMATS
        if not figure_stored(analysis=analysis, result=result, name=name, fmt=fmt, sort=sort)
    ]
    if not missing:
        return []
    import kaleido

    written = []
    # One Chromium for the whole batch instead of one per image.
    kaleido.start_sync_server(silence_warnings=True)
    try:
        for name, fmt in missing:
            fig = build_figure(analysis, result.computed, name, sort)
            body = fig.to_image(format=fmt, scale=2 if fmt == "png" else 1)
            path = figure_path(analysis=analysis, result=result, name=name, fmt=fmt, sort=sort)
            written.append(default_storage.save(path, ContentFile(body)))
    finally:
        kaleido.stop_sync_server(silence_warnings=True)
    return written


# --- figure JSON for the pages ---------------------------------------------------------------

# The code that turns a result into a figure: a deploy that changes how figures are drawn must
# not serve figures cached by the code before it.
_DRAWN_BY = hashlib.sha256(
    b"".join(Path(m.__file__).read_bytes() for m in (plots, results, scales) if m.__file__)
    + plotly.__version__.encode()
).hexdigest()[:12]
FIGURES_JSON_TIMEOUT = 30 * 24 * 3600


def figure_json_key(result: AnalysisResult, name: str, sort: str, show_rob: bool) -> str:
    # Only the forest plot shows the sort order and the RoB column.
    options = f"{sort}:{int(show_rob)}" if name == "forest" else ""
    return f"figure-json:{_DRAWN_BY}:{result.input_hash}:{name}:{options}"


def _build_json(result: ComputedResult, name: str, sort: str, show_rob: bool) -> str:
    if name == "forest":
        return str(plots.forest_plot(result, sort=sort, show_rob=show_rob).to_json())
    return str(plots.FIGURES[name](result).to_json())


def figures_json(
    *, result: AnalysisResult, sort: str, show_rob: bool, names: list[str] | None = None
) -> dict[str, str]:
    """Plotly JSON (untitled, for the pages) of the result's figures, in display order: from
    the cache, built and stored when not there. `names` picks some; default all it supports."""
    if result.error:
        return {}
    supported = figure_names(result.computed)
    wanted = [n for n in supported if names is None or n in names]
    keys = {name: figure_json_key(result, name, sort, show_rob) for name in wanted}
    found = cache.get_many(list(keys.values()))
    built = {
        keys[name]: _build_json(result.computed, name, sort, show_rob)
        for name in wanted
        if keys[name] not in found
    }
    if built:
        cache.set_many(built, timeout=FIGURES_JSON_TIMEOUT)
    return {name: found.get(keys[name]) or built[keys[name]] for name in wanted}


def figures_json_warm(*, analysis: Analysis, result: AnalysisResult) -> None:
    """Build and cache the figures the analysis page and the dashboard show for this result
    (the worker calls it when it computes the result, before the pages hear of it)."""
    figures_json(result=result, sort=analysis.sort_by, show_rob=analysis.show_rob)
    if analysis.show_rob:
        figures_json(result=result, sort=analysis.sort_by, show_rob=False, names=["forest"])
