import csv
import dataclasses
import io
import json
import random
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from screening.prisma import PrismaCounts, render_svg, to_csv

SVG = "{http://www.w3.org/2000/svg}"

# The example used throughout: every box adds up.
EXAMPLE = PrismaCounts(
    identified_per_source={"MEDLINE": 1523, "Embase": 2011, "CENTRAL": 642},
    duplicates_removed=1186,
    records_screened=2990,
    records_excluded=2810,
    reports_sought=180,
    reports_not_retrieved=6,
    reports_assessed=174,
    reports_excluded={"Wrong population": 61, "Wrong design": 83},
    studies_included=21,
    reports_of_included_studies=30,
)


def simulate_history(rng: random.Random) -> PrismaCounts:
    """Count a random review the way the diagram defines its boxes, record by record."""
    sources = [f"Database {i}" for i in range(rng.randint(1, 5))]
    reasons = [f"Reason {i}" for i in range(rng.randint(0, 6))]
    identified = dict.fromkeys(sources, 0)
    excluded_for = dict.fromkeys(reasons, 0)
    duplicates = screened = excluded = sought = not_retrieved = assessed = 0
    included_reports = 0
    studies = 0
    for _ in range(rng.randint(0, 400)):
        identified[rng.choice(sources)] += 1
        if rng.random() < 0.2:
            duplicates += 1
            continue
        screened += 1
        if rng.random() < 0.7:
            excluded += 1
            continue
        sought += 1
        if rng.random() < 0.05:
            not_retrieved += 1
            continue
        assessed += 1
        if reasons and rng.random() < 0.5:
            excluded_for[rng.choice(reasons)] += 1
            continue
        included_reports += 1
        # A new study, or one more report of a study already included.
        if studies == 0 or rng.random() < 0.7:
            studies += 1
    return PrismaCounts(
        identified_per_source=identified,
        duplicates_removed=duplicates,
        records_screened=screened,
        records_excluded=excluded,
        reports_sought=sought,
        reports_not_retrieved=not_retrieved,
        reports_assessed=assessed,
        reports_excluded=excluded_for,
        studies_included=studies,
        reports_of_included_studies=included_reports,
    )


def off_by_one(counts: PrismaCounts) -> list[PrismaCounts]:
    """Every box of `counts` nudged by +1 and by -1, one at a time."""
    variants = []
    for delta in (1, -1):
        for f in dataclasses.fields(PrismaCounts):
            value = getattr(counts, f.name)
            if isinstance(value, dict):
                for key in value:
                    variants.append(
                        dataclasses.replace(counts, **{f.name: {**value, key: value[key] + delta}})
                    )
            elif f.name != "studies_included":
                variants.append(dataclasses.replace(counts, **{f.name: value + delta}))
    return variants


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


# --- reconcile -----------------------------------------------------------------------------


def test_it_finds_nothing_wrong_with_consistent_counts():
    assert EXAMPLE.reconcile() == []
    assert EXAMPLE.records_identified == 4176


@given(st.randoms(use_true_random=False))
def test_counts_from_any_random_history_reconcile(rng):
    assert simulate_history(rng).reconcile() == []


@given(st.randoms(use_true_random=False))
def test_any_box_off_by_one_is_reported(rng):
    counts = simulate_history(rng)

    for variant in off_by_one(counts):
        assert variant.reconcile(), variant


def test_it_explains_which_boxes_do_not_add_up():
    counts = dataclasses.replace(EXAMPLE, records_screened=2989)

    problems = counts.reconcile()

    assert problems == [
        "Records identified (4,176) minus duplicate records removed (1,186) is 2,990, "
        "but records screened is 2,989.",
        "Records screened (2,989) minus records excluded (2,810) is 179, "
        "but reports sought for retrieval is 180.",
    ]


def test_it_reports_more_studies_than_reports():
    counts = dataclasses.replace(EXAMPLE, studies_included=31)

    assert counts.reconcile() == [
        "Studies included (31) exceeds reports of included studies (30); "
        "every study needs a report."
    ]


def test_it_reports_negative_counts_by_name():
    counts = dataclasses.replace(
        EXAMPLE,
        identified_per_source={"MEDLINE": -1},
        reports_excluded={"Wrong design": -2},
        duplicates_removed=-5,
    )

    problems = counts.reconcile()

    assert "Duplicate records removed is negative (-5)." in problems
    assert "Records identified from 'MEDLINE' is negative (-1)." in problems
    assert "Reports excluded for 'Wrong design' is negative (-2)." in problems


def test_an_empty_review_reconciles():
    empty = PrismaCounts({}, 0, 0, 0, 0, 0, 0, {}, 0, 0)

    assert empty.reconcile() == []
    assert empty.records_identified == 0


def test_to_dict_is_json_ready_and_carries_the_totals_and_problems():
    data = json.loads(json.dumps(EXAMPLE.to_dict()))

    assert data["records_identified"] == 4176
    assert data["reports_excluded_total"] == 144
    assert data["identified_per_source"] == {"MEDLINE": 1523, "Embase": 2011, "CENTRAL": 642}
    assert data["problems"] == []


# --- CSV -----------------------------------------------------------------------------------


def test_the_csv_has_one_row_per_box_source_and_reason():
    rows = list(csv.reader(io.StringIO(to_csv(EXAMPLE))))

    assert rows[0] == ["box", "count"]
    assert rows[1:] == [
        ["Records identified", "4176"],
        ["Records identified: MEDLINE", "1523"],
        ["Records identified: Embase", "2011"],
        ["Records identified: CENTRAL", "642"],
        ["Duplicate records removed", "1186"],
        ["Records screened", "2990"],
        ["Records excluded", "2810"],
        ["Reports sought for retrieval", "180"],
        ["Reports not retrieved", "6"],
        ["Reports assessed for eligibility", "174"],
        ["Reports excluded", "144"],
        ["Reports excluded: Wrong population", "61"],
        ["Reports excluded: Wrong design", "83"],
        ["Studies included in review", "21"],
        ["Reports of included studies", "30"],
    ]


def test_the_csv_keeps_quotes_and_commas_in_names_intact():
    counts = dataclasses.replace(EXAMPLE, reports_excluded={'Wrong "design", cohort': 144})

    rows = list(csv.reader(io.StringIO(to_csv(counts))))

    assert ['Reports excluded: Wrong "design", cohort', "144"] in rows


# --- SVG -----------------------------------------------------------------------------------


def test_the_svg_is_valid_xml_in_the_prisma_2020_layout():
    svg = render_svg(EXAMPLE, title="Exercise for low back pain")
    root = ET.fromstring(svg)
    texts = svg_texts(svg)

    assert root.tag == f"{SVG}svg"
    assert 850 <= float(root.get("width")) <= 950
    assert "Identification of studies via databases and registers" in texts
    for phase in ("Identification", "Screening", "Included"):
        assert phase in texts
    assert "Exercise for low back pain" in texts
    # Four arrows down the main column and four to the side boxes.
    assert len(list(root.iter(f"{SVG}line"))) == 8


def test_the_svg_shows_every_number():
    text = "\n".join(svg_texts(render_svg(EXAMPLE)))

    boxes = {
        "Records identified": 4176,
        "MEDLINE": 1523,
        "Embase": 2011,
        "CENTRAL": 642,
        "Duplicate records removed": 1186,
        "Records screened": 2990,
        "Records excluded": 2810,
        "Reports sought for retrieval": 180,
        "Reports not retrieved": 6,
        "Reports assessed for eligibility": 174,
        "Reports excluded": 144,
        "Wrong population": 61,
        "Wrong design": 83,
        "Studies included in review": 21,
        "Reports of included studies": 30,
    }
    for label, value in boxes.items():
        assert f"{label} (n = {value:,})" in text


@given(st.randoms(use_true_random=False))
def test_the_svg_of_any_history_parses_and_shows_every_count(rng):
    counts = simulate_history(rng)
    text = "\n".join(svg_texts(render_svg(counts)))

    for value in (
        list(counts.identified_per_source.values())
        + list(counts.reports_excluded.values())
        + [v for k, v in counts.to_dict().items() if isinstance(v, int)]
    ):
        assert f"(n = {value:,})" in text


def test_it_escapes_user_text():
    hostile = '<script>x</script> & "Co"'
    counts = dataclasses.replace(
        EXAMPLE,
        identified_per_source={hostile: 4176},
        reports_excluded={"Dose < 10 mg & > 2 weeks": 144},
    )

    svg = render_svg(counts, title="</svg><svg onload='x'>")
    texts = "\n".join(svg_texts(svg))

    assert "<script>" not in svg
    assert "</svg><svg" not in svg
    assert f"{hostile} (n = 4,176)" in texts
    assert "Dose < 10 mg & > 2 weeks (n = 144)" in texts


def test_it_drops_characters_that_xml_forbids():
    counts = dataclasses.replace(EXAMPLE, identified_per_source={"Bad\x00\x07name": 4176})

    texts = svg_texts(render_svg(counts))

    assert "Badname (n = 4,176)" in texts


LONG = dataclasses.replace(
    EXAMPLE,
    identified_per_source={
        "CUMULATIVE INDEX TO NURSING AND ALLIED HEALTH LITERATURE (CINAHL) VIA EBSCOHOST": 4000,
        "https://clinicaltrials.gov/search?cond=low+back+pain&intr=exercise&aggFilters=x": 100,
        "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW": 76,
    },
    reports_excluded={
        f"Reason number {i} with a rather long explanation of why": 1 for i in range(30)
    }
    | {"観察研究のみ、対照群なし、または無作為化されていない研究": 114},
    reports_of_included_studies=30,
)


def test_long_lists_and_names_grow_the_boxes():
    short = ET.fromstring(render_svg(EXAMPLE))
    tall = ET.fromstring(render_svg(LONG, title="A title " * 30))

    assert float(tall.get("height")) > float(short.get("height")) + 31 * 19
    assert (
        len([t for t in svg_texts(render_svg(LONG, title="A title " * 30)) if "A title" in t]) > 1
    )


# Runs in its own process: the browser tests keep a Playwright event loop open in this one.
MEASURE_IN_CHROMIUM = r"""
import json, sys
from playwright.sync_api import sync_playwright

JS = '''() => {
    const svg = document.documentElement;
    const width = svg.width.baseVal.value;
    const boxes = [...svg.querySelectorAll('rect[x]')].map(r => r.getBoundingClientRect());
    const bad = [];
    for (const t of svg.querySelectorAll('text')) {
        const b = t.getBoundingClientRect();
        if (b.x < 0 || b.x + b.width > width) bad.push(['page', t.textContent]);
        if (t.getAttribute('font-size') === '18') continue;  // the title has no box
        const inside = boxes.some(r => b.x >= r.x && b.x + b.width <= r.x + r.width
            && b.y >= r.y && b.y + b.height <= r.y + r.height);
        if (!inside) bad.push(['box', t.textContent]);
    }
    return bad;
}'''
executable, svg_path, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
    page = browser.new_page()
    page.goto("file://" + svg_path)
    print(json.dumps(page.evaluate(JS)))
    browser.close()
"""


@pytest.mark.browser
def test_every_line_of_text_stays_inside_its_box_when_chromium_draws_it(tmp_path):
    # Measured in the browser (client rectangles), not estimated: wrapping relies on font
    # metrics, and this fails if they underestimate real widths.
    from tests.browser.conftest import CHROMIUM_ARGS, _chromium
    from tests.conftest import needs

    executable = _chromium()
    needs(executable is not None, "Chromium is not installed (apt-get install chromium)")
    svg_file = tmp_path / "prisma.svg"
    svg_file.write_text(render_svg(LONG, title="Exercise " * 20), encoding="utf-8")

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            MEASURE_IN_CHROMIUM,
            executable,
            str(svg_file),
            json.dumps(CHROMIUM_ARGS),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )

    assert json.loads(out.stdout) == []


def test_a_count_is_never_split_across_lines():
    counts = dataclasses.replace(
        EXAMPLE, reports_excluded={"x" * 35 + " almost fills the line": 144}
    )

    texts = svg_texts(render_svg(counts))

    assert any(t.endswith("(n = 144)") for t in texts)
    assert not any(re.search(r"\(n =$", t) for t in texts)


def test_a_review_with_no_sources_yet_still_renders():
    empty = PrismaCounts({}, 0, 0, 0, 0, 0, 0, {}, 0, 0)

    texts = svg_texts(render_svg(empty))

    assert "Records identified (n = 0)" in texts
    assert "Reports excluded (n = 0)" in texts


def test_it_does_not_import_django():
    code = "import sys, screening.prisma; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("field", ["records_screened", "reports_assessed"])
def test_the_svg_renders_inconsistent_counts_as_given(field):
    # The diagram shows what the data says; reconcile() is where inconsistencies surface.
    counts = dataclasses.replace(EXAMPLE, **{field: 7})

    assert "(n = 7)" in "\n".join(svg_texts(render_svg(counts)))
    assert counts.reconcile()
