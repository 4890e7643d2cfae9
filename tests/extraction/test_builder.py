"""The form builder page: refused changes keep what was typed, fragments swap in place,
reordering, duplicate, delete with undo, field templates and import from another review."""

import re

import pytest

from extraction.models import FormField

pytestmark = pytest.mark.django_db

TYPO_RULE = 'if count_yes(peer_training, peer_supervison) >= 1 then "higher" else "lower"'


def base(review, form):
    return f"/reviews/{review.pk}/extraction/forms/{form.pk}/"


def input_value(html, name, form_id):
    """The value of input `name` inside the form with id `form_id`."""
    block = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S)
    assert block, f"no form {form_id}"
    return block.group(0)


def test_a_refused_field_keeps_every_value_typed_and_shows_the_error_by_the_rule(
    client_for, review, lead, sheet
):
    client = client_for(lead)
    section = sheet.sections.get(title="Peer worker")
    before = sheet.fields.count()
    response = client.post(
        base(review, sheet) + f"sections/{section.pk}/fields/new/",
        {
            "label": "Support level",
            "field_type": "derived",
            "key": "support_level",
            "help_text": "Two of three indicators",
            "choices": "higher\nlower",
            "rule": TYPO_RULE,
        },
    )
    assert response.status_code == 422
    assert sheet.fields.count() == before
    form_html = input_value(response.content.decode(), "label", f"add-field-{section.pk}")
    assert 'value="Support level"' in form_html
    assert 'value="support_level"' in form_html
    assert '<option value="derived" selected>' in form_html
    assert "Two of three indicators</textarea>" in form_html
    assert "higher\nlower</textarea>" in form_html
    assert "peer_supervison) &gt;= 1 then &quot;higher&quot; else &quot;lower&quot;</textarea>" in (
        form_html
    )
    # The message sits beside the rule input, not at the top of the page.
    boxes = re.findall(r'<div class="field has-error">(.*?)</ul>\s*</div>', form_html, re.S)
    assert len(boxes) == 1
    rule_box = re.search(r'for="[^"]*_rule"', boxes[0]) and boxes[0]
    assert rule_box and "no field &#x27;peer_supervison&#x27;" in rule_box


def test_a_refused_edit_keeps_every_value_typed(client_for, review, lead, sheet):
    client = client_for(lead)
    field = sheet.fields.get(key="org_support")
    response = client.post(
        base(review, sheet) + f"fields/{field.pk}/",
        {
            "action": "update",
            "label": "Organisational support (edited)",
            "help_text": "new help",
            "choices": "higher\nlower",
            "rule": TYPO_RULE,
        },
    )
    assert response.status_code == 422
    field.refresh_from_db()
    assert field.label == "Organisational support" and "peer_integrated" in field.rule
    form_html = input_value(response.content.decode(), "label", f"edit-field-{field.pk}")
    assert 'value="Organisational support (edited)"' in form_html
    assert "new help</textarea>" in form_html
    assert "peer_supervison" in form_html
    assert "no field &#x27;peer_supervison&#x27;" in form_html
    # The refused edit stays open on the page.
    assert re.search(rf'<details[^>]*id="edit-{field.pk}"[^>]* open', response.content.decode())


def test_a_refused_integer_bound_is_shown_beside_the_minimum(client_for, review, lead, sheet):
    client = client_for(lead)
    section = sheet.sections.get(title="Study design")
    response = client.post(
        base(review, sheet) + f"sections/{section.pk}/fields/new/",
        {"label": "Arms", "field_type": "integer", "key": "n_arms", "min_value": "2.5"},
    )
    assert response.status_code == 422
    form_html = input_value(response.content.decode(), "label", f"add-field-{section.pk}")
    assert 'value="2.5"' in form_html and 'value="n_arms"' in form_html
    assert "whole-number bounds" in form_html
    assert not FormField.objects.filter(key="n_arms").exists()


HX = {"HTTP_HX_REQUEST": "true"}


def test_htmx_adds_edits_and_removes_a_field_by_swapping_only_its_section(
    client_for, review, lead, sheet
):
    client = client_for(lead)
    section = sheet.sections.get(title="Study design")
    response = client.post(
        base(review, sheet) + f"sections/{section.pk}/fields/new/",
        {"label": "Country", "field_type": "short_text", "key": "country"},
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith(f'<section class="card builder-section" id="section-{section.pk}"')
    assert "<html" not in html and 'data-key="country"' in html
    assert "Field &#x27;Country&#x27; added" in html
    country = sheet.fields.get(key="country")

    refused = client.post(
        base(review, sheet) + f"fields/{country.pk}/",
        {"action": "update", "label": "Country", "min_value": "x", "help_text": "typed"},
        **HX,
    )
    assert refused.status_code == 200 and "<html" not in refused.content.decode()
    saved = client.post(
        base(review, sheet) + f"fields/{country.pk}/",
        {"action": "update", "label": "Country of the trial", "help_text": ""},
        **HX,
    )
    assert "Country of the trial" in saved.content.decode()

    removed = client.post(base(review, sheet) + f"fields/{country.pk}/", {"action": "remove"}, **HX)
    html = removed.content.decode()
    assert 'data-key="country"' not in html and "Undo" in html
    country.refresh_from_db()
    assert country.removed_in_version is not None


def test_htmx_adds_and_removes_a_section_in_the_section_list(client_for, review, lead, sheet):
    client = client_for(lead)
    response = client.post(base(review, sheet) + "sections/new/", {"title": "Outcomes"}, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.count("builder-section") == 3 and "Outcomes" in html
    new = sheet.sections.get(title="Outcomes")
    response = client.post(base(review, sheet) + f"sections/{new.pk}/", {"action": "remove"}, **HX)
    assert response.content.decode().count('class="card builder-section"') == 2


def test_outsiders_get_404_from_the_builder_fragments(client_for, review, sheet, outsider):
    section = sheet.sections.first()
    response = client_for(outsider).post(
        base(review, sheet) + f"sections/{section.pk}/fields/new/",
        {"label": "X", "field_type": "short_text"},
        **HX,
    )
    assert response.status_code == 404
