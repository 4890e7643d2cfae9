"""Time for the browser to render the forest plot of a 200-study analysis.

    python benchmarks/analysis_forest_render.py [--studies 200] [--repeat 2]
    python benchmarks/analysis_forest_render.py --studies 200 --repeat 5   # the documented run

Builds the result payload with the engine and the figure with analysis.plots.forest_plot, then
serves a page shaped like the analysis page (the figure JSON inline, plotly-basic.min.js and
analysis.js from the static files) to headless Chromium and measures, per load, the time from
navigation start to the figure's `figure-rendered` event (parsing plotly.js included).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.test")

import django

django.setup()

from analysis.inputs import AnalysisInputs
from analysis.plots import forest_plot
from analysis.results import ComputedResult
from analysis.services import compute_payload

sys.path.insert(0, str(REPO / "benchmarks"))
from analysis_recompute import rows, spec

STATIC = REPO / "reviewapp" / "static"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    payload = compute_payload(
        spec(True), AnalysisInputs(rows=rows(args.studies, True, random.Random(2)))
    )
    figure = forest_plot(ComputedResult.from_json(payload)).to_json()
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "forest.html"
        page_path.write_text(
            "<!doctype html><html><body><main style='width:1100px'>"
            "<div id='fig-forest' class='figure'></div>"
            "<script type='application/json' data-figure='forest' data-target='fig-forest'>"
            f"{figure}</script>"
            "<script>window.__done=null;document.body.addEventListener('figure-rendered',"
            "()=>{window.__done=performance.now()});</script>"
            f"<script src='file://{STATIC / 'vendor' / 'plotly-basic.min.js'}'></script>"
            "<script>window.__plotly=performance.now()</script>"
            f"<script src='file://{STATIC / 'analysis' / 'analysis.js'}'></script>"
            "</main></body></html>"
        )
        from playwright.sync_api import sync_playwright

        times: list[float] = []
        loads: list[float] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
            for _ in range(args.repeat):
                context = browser.new_context()
                page = context.new_page()
                page.goto(page_path.as_uri())
                page.wait_for_function("window.__done !== null", timeout=30_000)
                times.append(page.evaluate("window.__done"))
                loads.append(page.evaluate("window.__plotly"))
                context.close()
            browser.close()
    print(f"forest plot, {args.studies} studies ({len(figure) / 1024:.0f} KiB of figure JSON)")
    print(f"navigation start to rendered: median {statistics.median(times):.0f} ms, "
          f"max {max(times):.0f} ms over {args.repeat} loads")  # fmt: skip
    drawing = statistics.median(t - s for t, s in zip(times, loads, strict=True))
    print(
        f"of which loading plotly.js: median {statistics.median(loads):.0f} ms; "
        f"drawing the figure: median {drawing:.0f} ms"
    )


if __name__ == "__main__":
    main()
