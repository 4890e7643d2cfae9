"""The form builder in Chromium: refused fields keep what was typed, changes swap in place (the
page never reloads), keyboard and drag reordering, duplicate, delete with undo, templates."""

import pytest

from tests.browser.test_extraction import login
from tests.extraction.conftest import build_use_case_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPO = 'if count_yes(peer_training, peer_supervison) >= 1 then "higher" else "lower"'


@pytest.fixture
def builder(live_server, browser, review, lead):
    form = build_use_case_form(review, lead)
    page = login(browser, live_server, "lead")
    page.goto(f"{live_server.url}/reviews/{review.pk}/extraction/forms/{form.pk}/")
    # A mark on the window: it survives only if the page is never reloaded.
    page.evaluate("() => { window.stayed = true; }")
    return page, form


def keys(page, section):
    return page.locator(f"#section-{section.pk} tr[data-key]").evaluate_all(
        "rows => rows.map(r => r.dataset.key)"
    )


def test_a_rule_typo_keeps_every_value_typed_and_nothing_reloads(builder):
    page, form = builder
    section = form.sections.get(title="Peer worker")
    add = page.locator(f"#add-field-{section.pk}")
    page.locator(f"#section-{section.pk} details.add-field summary").click()
    add.locator("[name=label]").fill("Support level")
    add.locator("[name=field_type]").select_option("derived")
    add.locator("[name=key]").fill("support_level")
    add.locator("[name=choices]").fill("higher\nlower")
    add.locator("[name=rule]").fill(TYPO)
    add.locator("[name=key]").press("Enter")
    page.get_by_text("there is no field 'peer_supervison'").wait_for()
    add = page.locator(f"#add-field-{section.pk}")
    assert add.locator("[name=label]").input_value() == "Support level"
    assert add.locator("[name=field_type]").input_value() == "derived"
    assert add.locator("[name=key]").input_value() == "support_level"
    assert add.locator("[name=rule]").input_value() == TYPO
    assert page.evaluate("() => document.activeElement.name") == "rule"
    # Fix the typo where it is and save with the keyboard.
    add.locator("[name=rule]").fill(TYPO.replace("supervison", "supervision"))
    add.locator("[name=rule]").press("Control+Enter")
    page.locator(f"#section-{section.pk} tr[data-key=support_level]").wait_for()
    assert page.evaluate("() => window.stayed === true")
    assert form.fields.filter(key="support_level").exists()
    # After an add the cursor is back in the label, ready for the next field.
    assert page.evaluate("() => document.activeElement.name") == "label"


def test_edit_in_place_saves_with_enter_and_cancels_with_escape(builder):
    page, form = builder
    field = form.fields.get(key="n_randomised")
    row = page.locator(f"#field-{field.pk}")
    row.locator("details.edit-field summary").click()
    edit = page.locator(f"#edit-field-{field.pk}")
    edit.locator("[name=label]").fill("Something else")
    edit.locator("[name=label]").press("Escape")
    assert not page.locator(f"#edit-{field.pk}").evaluate("d => d.open")
    assert edit.locator("[name=label]").input_value() == "Participants randomised"
    row.locator("details.edit-field summary").click()
    edit.locator("[name=label]").fill("N randomised")
    edit.locator("[name=label]").press("Enter")
    page.locator(f"#field-{field.pk} strong:text-is('N randomised')").wait_for()
    assert page.evaluate("() => window.stayed === true")
    field.refresh_from_db()
    assert field.label == "N randomised" and field.min_value == 2
