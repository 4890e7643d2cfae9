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
    # htmx moves the focus once the swapped fragment settles.
    page.wait_for_function("() => document.activeElement?.name === 'rule'")
    # Fix the typo where it is and save with the keyboard.
    add.locator("[name=rule]").fill(TYPO.replace("supervison", "supervision"))
    add.locator("[name=rule]").press("Control+Enter")
    page.locator(f"#section-{section.pk} tr[data-key=support_level]").wait_for()
    assert page.evaluate("() => window.stayed === true")
    assert form.fields.filter(key="support_level").exists()
    # After an add the cursor is back in the label, ready for the next field.
    page.wait_for_function("() => document.activeElement?.name === 'label'")


def test_edit_in_place_saves_with_enter_and_cancels_with_escape(builder):
    page, form = builder
    field = form.fields.get(key="n_randomised")
    row = page.locator(f"#field-{field.pk}")
    # The editor is not on the page until Edit is opened; then it arrives with the cursor in it.
    assert page.locator(f"#edit-field-{field.pk}").count() == 0
    row.locator("details.edit-field summary").click()
    edit = page.locator(f"#edit-field-{field.pk}")
    page.wait_for_function(f"() => document.activeElement?.id === 'id_f{field.pk}_label'")
    edit.locator("[name=label]").fill("Something else")
    edit.locator("[name=label]").press("Escape")
    assert not page.locator(f"#edit-{field.pk}").evaluate("d => d.open")
    assert edit.locator("[name=label]").input_value() == "Participants randomised"
    assert page.evaluate("() => document.activeElement.textContent") == "Edit"
    row.locator("details.edit-field summary").click()
    edit.locator("[name=label]").fill("N randomised")
    edit.locator("[name=label]").press("Enter")
    page.locator(f"#field-{field.pk} strong:text-is('N randomised')").wait_for()
    assert page.evaluate("() => window.stayed === true")
    field.refresh_from_db()
    assert field.label == "N randomised" and field.min_value == 2


def order(page):
    return page.locator("#sections h2.section-handle").evaluate_all(
        "hs => hs.map(h => h.textContent)"
    )


def test_the_lead_moves_fields_and_sections_with_alt_arrows_and_hears_where_they_landed(builder):
    page, form = builder
    design = form.sections.get(title="Study design")
    field = form.fields.get(key="design")
    page.locator(f"#field-{field.pk}").focus()
    page.keyboard.press("Alt+ArrowDown")
    page.wait_for_function(
        "() => document.getElementById('builder-live').textContent.includes('position 2 of')"
    )
    assert keys(page, design)[:2] == ["setting", "design"]
    assert page.evaluate("() => document.activeElement.id") == f"field-{field.pk}"
    page.keyboard.press("Alt+ArrowUp")
    page.wait_for_function(
        "() => document.getElementById('builder-live').textContent.includes('position 1 of')"
    )
    assert keys(page, design)[0] == "design"
    page.locator(f"#section-{design.pk} h2.section-handle").focus()
    page.keyboard.press("Alt+ArrowDown")
    page.wait_for_function(
        "() => document.getElementById('builder-live').textContent"
        " === 'Study design: position 2 of 2.'"
    )
    assert order(page) == ["Peer worker", "Study design"]
    assert page.evaluate("() => window.stayed === true")
    assert list(form.sections.values_list("title", flat=True)) == ["Peer worker", "Study design"]


def drag(page, source, target, *, lower):
    dt = page.evaluate_handle("() => new DataTransfer()")
    box = page.locator(target).bounding_box()
    y = box["y"] + (box["height"] - 3 if lower else 3)
    page.locator(source).dispatch_event("dragstart", {"dataTransfer": dt})
    page.locator(target).dispatch_event("dragover", {"dataTransfer": dt, "clientY": y})
    page.locator(source).dispatch_event("drop", {"dataTransfer": dt})
    page.locator(source).dispatch_event("dragend", {"dataTransfer": dt})


def test_the_lead_drags_a_field_and_a_section_into_place(builder):
    page, form = builder
    design = form.sections.get(title="Study design")
    first, last = form.fields.get(key="design"), form.fields.get(key="followups")
    # The drag events as the browser sends them; dropped on the lower half of the last row,
    # the field goes below it.
    drag(page, f"#field-{first.pk}", f"#field-{last.pk}", lower=True)
    page.wait_for_function(
        "() => document.getElementById('builder-live').textContent.startsWith('Design: position 5')"
    )
    assert keys(page, design)[-1] == "design"
    assert list(design.fields.values_list("key", flat=True))[-1] == "design"
    peer = form.sections.get(title="Peer worker")
    drag(page, f"#section-{peer.pk} h2.section-handle", f"#section-{design.pk}", lower=False)
    page.wait_for_function(
        "() => document.getElementById('builder-live').textContent"
        " === 'Peer worker: position 1 of 2.'"
    )
    assert page.evaluate("() => window.stayed === true")
    assert form.sections.first().title == "Peer worker"


def test_the_lead_duplicates_removes_and_undoes_with_u_and_ctrl_z(builder):
    page, form = builder
    field = form.fields.get(key="setting")
    page.locator(f"#field-{field.pk}").get_by_role("button", name="Duplicate Setting").click()
    page.locator("tr[data-key=setting_2]").wait_for()
    design = form.sections.get(title="Study design")
    assert keys(page, design)[1:3] == ["setting", "setting_2"]
    page.locator(f"#field-{field.pk}").get_by_role("button", name="Remove Setting").click()
    page.get_by_role("button", name="Undo").wait_for()
    assert page.locator("tr[data-key=setting]").count() == 0
    # The Undo toast has the focus; "u" undoes from anywhere outside a text input.
    page.locator("h1").click()
    page.keyboard.press("u")
    page.locator("tr[data-key=setting]").wait_for()
    peer = form.sections.get(title="Peer worker")
    page.get_by_role("button", name="Remove section Peer worker").click()
    page.get_by_text("Section 'Peer worker' removed").wait_for()
    assert page.locator(f"#section-{peer.pk}").count() == 0
    page.locator("h1").click()
    page.keyboard.press("Control+z")
    page.locator(f"#section-{peer.pk} tr[data-key=org_support]").wait_for()
    assert page.evaluate("() => window.stayed === true")


def test_one_click_adds_a_template_and_a_section_is_copied_from_another_review(
    builder, review, lead
):
    from extraction.models import FormField
    from tests.factories import MembershipFactory, ReviewFactory

    page, form = builder
    page.get_by_role("button", name="Organisational support: three").click()
    page.get_by_text(
        "Section 'Organisational support for peer workers' added with 4 fields"
    ).wait_for()
    assert page.locator("tr[data-key=org_support_2]").count() == 1
    other = ReviewFactory(title="An older review")
    MembershipFactory(review=other, user=lead, is_lead=True)
    source = build_use_case_form(other, lead, name="Older sheet")
    page.reload()
    page.evaluate("() => { window.stayed = true; }")
    section = source.sections.get(title="Study design")
    page.select_option("#copy-source", f"section:{section.pk}")
    page.locator("#copy-form button").click()
    page.get_by_text("Copied 'Study design' (5 fields)").wait_for()
    assert FormField.objects.filter(form=form, key="design_2").exists()
    assert page.evaluate("() => window.stayed === true")


def test_the_builder_passes_axe(builder):
    from axe_playwright_python.sync_playwright import Axe

    page, form = builder

    def violations():
        return [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in Axe().run(page).response["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    assert violations() == []
    # And with a row's editor fetched and open.
    field = form.fields.get(key="design")
    page.locator(f"#field-{field.pk} details.edit-field summary").click()
    page.wait_for_function(f"() => document.activeElement?.id === 'id_f{field.pk}_label'")
    assert violations() == []


def test_the_lead_drags_a_field_into_another_section_moves_one_by_keyboard_and_undoes(builder):
    """The lead files "Training provided" under "Study design" by dragging it onto that
    section's list, sends "Setting" down to "Peer worker" with Alt+Shift+Down, hears where each
    landed, undoes the last move with "u", and picks a section from a row's "Move to" list."""
    from extraction.models import FormField

    page, form = builder
    design = form.sections.get(title="Study design")
    peer = form.sections.get(title="Peer worker")
    training = form.fields.get(key="peer_training")
    n_randomised = form.fields.get(key="n_randomised")
    # Dropped on the upper half of "Participants randomised": it lands just above it.
    drag(page, f"#field-{training.pk}", f"#field-{n_randomised.pk}", lower=False)
    page.wait_for_function(
        "() => document.getElementById('builder-live').textContent"
        " === 'Training provided: moved to Study design, position 3 of 6.'"
    )
    assert keys(page, design)[:4] == ["design", "setting", "peer_training", "n_randomised"]
    assert "peer_training" not in keys(page, peer)
    assert page.get_by_role("button", name="Undo: move Training provided back to Peer worker")
    assert list(design.fields.values_list("key", flat=True))[2] == "peer_training"

    setting = form.fields.get(key="setting")
    page.locator(f"#field-{setting.pk}").focus()
    page.keyboard.press("Alt+Shift+ArrowDown")
    page.wait_for_function(
        "() => document.getElementById('builder-live').textContent"
        " === 'Setting: moved to Peer worker, position 1 of 7.'"
    )
    assert keys(page, peer)[0] == "setting"
    page.wait_for_function(f"() => document.activeElement.id === 'field-{setting.pk}'")
    # "u" undoes the last move: "Setting" goes back to its place in "Study design".
    page.keyboard.press("u")
    page.wait_for_function(
        "() => document.getElementById('builder-live').textContent"
        " === 'Setting: moved to Study design, position 2 of 6.'"
    )
    assert keys(page, design)[:2] == ["design", "setting"]

    # Without drag or shortcuts: the row's "Move to section" list and its button.
    notes = form.fields.get(key="training_notes")
    page.get_by_label("Move Description of the training to section").select_option(str(design.pk))
    page.get_by_role(
        "button", name="Move Description of the training to the chosen section"
    ).click()
    page.locator(f"#section-{design.pk} tr[data-key=training_notes]").wait_for()
    assert FormField.objects.get(pk=notes.pk).section_id == design.pk

    # Dragged over the other section but let go outside any list: it stays where it was.
    hours = form.fields.get(key="training_hours")
    before = keys(page, peer)
    dt = page.evaluate_handle("() => new DataTransfer()")
    page.locator(f"#field-{hours.pk}").dispatch_event("dragstart", {"dataTransfer": dt})
    page.locator(f"#section-{design.pk} h2").dispatch_event("dragover", {"dataTransfer": dt})
    assert "training_hours" in keys(page, design)
    page.locator(f"#field-{hours.pk}").dispatch_event("dragend", {"dataTransfer": dt})
    assert keys(page, peer) == before
    assert FormField.objects.get(pk=hours.pk).section_id == peer.pk
    assert page.evaluate("() => window.stayed === true")
