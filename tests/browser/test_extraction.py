"""Extraction in a real browser: the lead builds a form with a table and a derived field, two
extractors enter data for three studies blind, and the comparison view resolves differences."""

import os

import pytest

from extraction import selectors
from extraction.models import Extraction, ExtractionForm
from screening.models import Study
from tests.factories import MembershipFactory, UserFactory, include_study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("EXTRACTION_SCREENSHOTS")  # a directory, to look at the pages
RULE = 'if count_yes(trained, supervised, integrated) >= 2 then "higher" else "lower"'


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def team(review, lead):
    # Inclusion is screening's decision: the three trials are screened in (title/abstract,
    # PDF, full text) by two reviewers through the real services.
    team = [
        MembershipFactory(review=review, user=UserFactory(username=username), is_reviewer=True).user
        for username in ("extractor_a", "extractor_b")
    ]
    for label in ("Chinman 2015", "Johnson 2018", "Sledge 2011"):
        include_study(review, label, reviewers=team)
    return review


def login(browser, live_server, username):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def add_field(page, section, label, field_type, **extra):
    box = page.locator(f"section.builder-section:has(h2:text-is('{section}'))")
    details = box.locator("details.add-field")
    if details.get_attribute("open") != "":
        details.locator("summary").click()
    form = box.locator("details.add-field form")
    form.locator("[name=label]").fill(label)
    form.locator("[name=field_type]").select_option(field_type)
    for name, value in extra.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button:has-text('Add field')").click()
    page.get_by_text(f"Field '{label}' added").wait_for()


def extract(page, url, answers, table_rows, sds, complete=True):
    page.goto(url)
    for key, value in answers.items():
        page.check(f"input[name=a__{key}][value={value}]")
    for i, (arm, n) in enumerate(table_rows):
        if i:
            page.click("button.add-table-row")
        page.fill(f"[name=t__arms_table__{i}__arm]", arm)
        page.fill(f"[name=t__arms_table__{i}__randomised]", str(n))
    page.fill("[name=arm__0__label]", "Peer support")
    page.select_option("[name=arm__0__role]", "intervention")
    page.click("#add-arm")
    page.fill("[name=arm__1__label]", "Usual care")
    page.select_option("[name=arm__1__role]", "control")
    block = page.locator(".outcome-block").first
    block.locator("button.add-outcome-row").click()
    rows = block.locator("tr.outcome-row")
    for i, (arm, mean, sd) in enumerate(
        (("Peer support", 5.2, sds[0]), ("Usual care", 4.1, sds[1]))
    ):
        row = rows.nth(i)
        row.locator("[name$='__timepoint']").fill("18 months")
        row.locator("[name$='__timepoint_weeks']").fill("78")
        row.locator("[name$='__arm']").fill(arm)
        row.locator("[name$='__mean']").fill(str(mean))
        row.locator("[name$='__n']").fill("40")
        if sd == "se":
            row.locator("[name$='__conversion']").select_option("sd_from_se")
            row.locator("[name$='__cv__se_mean']").fill("0.2")
        else:
            row.locator("[name$='__sd']").fill(str(sd))
    if complete:
        page.check("#complete")
    page.keyboard.press("Control+s")
    page.get_by_text("complete (version").wait_for()


def test_build_a_form_extract_three_studies_twice_and_reach_consensus(live_server, browser, team):
    review = team
    lead = login(browser, live_server, "lead")
    base = f"{live_server.url}/reviews/{review.pk}/extraction/"

    # Outcome with its direction and timepoint rule.
    lead.goto(base + "outcomes/")
    lead.fill("#outcome-form [name=name]", "Quality of life")
    lead.select_option("#outcome-form [name=outcome_type]", "continuous")
    lead.select_option("#outcome-form [name=desirable_direction]", "higher")
    lead.click("#outcome-form button[type=submit]")
    lead.get_by_text("Outcome 'Quality of life' saved").wait_for()

    # The form: a section, three yes/no indicators, a repeating table, a derived field.
    lead.goto(base)
    lead.get_by_text("No extraction forms yet").wait_for()
    lead.fill("#id_name", "Extraction sheet")
    lead.select_option("#id_mode", "dual")
    lead.click("button:has-text('Create form')")
    lead.get_by_text("This form has no sections yet").wait_for()
    lead.fill("#section-form [name=title]", "Peer worker")
    lead.click("button:has-text('Add section')")
    for key, label in (
        ("trained", "Training provided"),
        ("supervised", "Supervision provided"),
        ("integrated", "Integrated in the service"),
    ):
        add_field(lead, "Peer worker", label, "yes_no_unclear", key=key)
    # The type picker shows only what the type needs.
    # After an add the form stays open for the next field.
    assert lead.locator("details.add-field").first.evaluate("d => d.open")
    form = lead.locator("details.add-field form").first
    form.locator("[name=field_type]").select_option("table")
    assert (
        form.locator("[name=columns]").is_visible() and not form.locator("[name=rule]").is_visible()
    )
    add_field(
        lead,
        "Peer worker",
        "Arms as reported",
        "table",
        key="arms_table",
        columns="arm | Arm | short_text | | required\nrandomised | Randomised | integer",
    )
    add_field(
        lead,
        "Peer worker",
        "Organisational support",
        "derived",
        key="org_support",
        choices="higher\nlower",
        rule=RULE,
    )
    # Reorder: supervision above training.
    lead.locator("tr[data-key=supervised] button[value=up]").click()
    lead.wait_for_selector("tr[data-key=supervised] button[value=up][disabled]")
    keys = lead.locator("table.builder-fields tr[data-key]").evaluate_all(
        "rows => rows.map(r => r.dataset.key)"
    )
    assert keys == ["supervised", "trained", "integrated", "arms_table", "org_support"]
    shot(lead, "builder")
    lead.click("#preview-link")
    lead.get_by_role("heading", name="Preview: Extraction sheet").wait_for()
    assert lead.locator("table.repeating[data-key=arms_table]").is_visible()
    assert lead.locator("input[name=a__trained]").first.is_disabled()
    shot(lead, "preview")

    form = ExtractionForm.objects.get(review=review)
    studies = list(Study.objects.filter(review=review).order_by("label"))
    urls = [f"{base}forms/{form.pk}/studies/{s.pk}/" for s in studies]

    # Two extractors, blind; B differs on one indicator of study 1 and an SD of study 2.
    a = login(browser, live_server, "extractor_a")
    b = login(browser, live_server, "extractor_b")
    yes_yes_no = {"trained": "yes", "supervised": "yes", "integrated": "no"}
    # The derived field follows the answers as they are given, before saving.
    a.goto(urls[0])
    a.check("input[name=a__trained][value=yes]")
    a.check("input[name=a__supervised][value=yes]")
    a.wait_for_function("() => document.getElementById('a-org_support').textContent === 'higher'")
    extract(a, urls[0], yes_yes_no, [("Peer support", 40), ("Usual care", 40)], (1.1, 1.0))
    extract(
        b,
        urls[0],
        {**yes_yes_no, "supervised": "no"},
        [("Peer support", 40), ("Usual care", 40)],
        (1.1, 1.0),
    )
    extract(a, urls[1], yes_yes_no, [("Peer support", 40)], (1.1, 1.3))
    extract(b, urls[1], yes_yes_no, [("Peer support", 40)], (1.1, 1.4))
    extract(a, urls[2], {"trained": "no", "supervised": "no", "integrated": "yes"}, [], ("se", 1.0))
    extract(b, urls[2], {"trained": "no", "supervised": "no", "integrated": "yes"}, [], ("se", 1.0))
    shot(b, "entry")
    # B's page shows B's own answers only.
    b.goto(urls[0])
    assert b.locator("input[name=a__supervised][value=no]").is_checked()
    assert (
        selectors.analysis_rows(outcome=review.outcomes_defined.get())[0].missing
        == "consensus not built yet"
    )

    # The lead compares and resolves.
    lead.goto(base)
    lead.locator("tr[data-study='Chinman 2015'] >> text=Compare").click()
    lead.get_by_role("heading", name="Chinman 2015").wait_for()
    assert lead.inner_text("#difference-count") == "1"
    differ = lead.locator("table.compare tr.differ")
    assert differ.count() == 1 and "Supervision provided" in differ.inner_text()
    shot(lead, "compare")
    lead.click("button#save-consensus")
    lead.locator("tr.differ .errorlist", has_text="Choose a side").wait_for()
    differ.first.focus()
    lead.keyboard.press("1")  # take A's answer
    lead.click("button#save-consensus")
    lead.get_by_text("consensus saved").wait_for()

    lead.goto(urls[1] + "compare/")
    assert lead.inner_text("#difference-count") == "1"
    row = lead.locator("table.compare-rows tr.differ")
    assert row.locator("span.measure.changed").first.inner_text() == "SD 1.3"
    row.locator("input[value=second]").check()
    lead.click("button#save-consensus")
    lead.get_by_text("consensus saved").wait_for()

    lead.goto(urls[2] + "compare/")
    assert lead.inner_text("#difference-count") == "0"
    lead.click("button#save-consensus")
    lead.get_by_text("consensus saved").wait_for()

    rows = {
        r.study_label: r for r in selectors.analysis_rows(outcome=review.outcomes_defined.get())
    }
    assert all(r.usable for r in rows.values())
    assert rows["Johnson 2018"].control.sd == 1.4
    assert rows["Sledge 2011"].intervention.conversion == "sd_from_se"
    assert {k: r.variables["org_support"] for k, r in rows.items()} == {
        "Chinman 2015": "higher",
        "Johnson 2018": "higher",
        "Sledge 2011": "lower",
    }
    assert Extraction.objects.filter(kind=Extraction.Kind.CONSENSUS).count() == 3
    lead.goto(base)
    shot(lead, "home")
