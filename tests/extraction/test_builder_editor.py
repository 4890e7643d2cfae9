"""A builder row's editor is rendered only when Edit is opened (issue 11: rendering every row's
hidden edit form was two-thirds of each action's server time). Opening Edit fetches it; without
script the same address is the builder page with that editor open; a refused edit still answers
with the editor open and every value typed. No builder action sends more statements for more
fields."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extraction import services
from extraction.models import FieldType
from reviewapp.models import Membership, Review
from tests.extraction.conftest import F, build_use_case_form

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
TYPO_RULE = 'if count_yes(peer_training, peer_supervison) >= 1 then "higher" else "lower"'


def base(review, form):
    return f"/reviews/{review.pk}/extraction/forms/{form.pk}/"


def edit_forms(html):
    return re.findall(r'<form[^>]*id="edit-field-(\d+)"', html)


def test_the_page_and_every_fragment_come_without_edit_forms(client_for, review, lead, sheet):
    client = client_for(lead)
    design, peer = sheet.sections.order_by("position")
    fields = list(sheet.fields.filter(section=design).order_by("position"))
    page = client.get(base(review, sheet)).content.decode()
    assert edit_forms(page) == []
    assert page.count('class="edit-link"') == sheet.fields.count()
    order = ",".join(str(f.pk) for f in reversed(fields))
    reordered = client.post(
        base(review, sheet) + f"sections/{design.pk}/order/", {"order": order}, **HX
    )
    moved = client.post(
        base(review, sheet) + f"fields/{fields[0].pk}/",
        {"action": "section", "section": peer.pk},
        **HX,
    )
    added = client.post(
        base(review, sheet) + f"sections/{peer.pk}/fields/new/",
        {"label": "Country", "field_type": "short_text"},
        **HX,
    )
    for response in (reordered, moved, added):
        html = response.content.decode()
        assert response.status_code == 200 and "<html" not in html
        assert 'class="edit-link"' in html and edit_forms(html) == []


def test_opening_edit_gets_the_editor_with_what_is_saved(client_for, review, lead, sheet):
    client = client_for(lead)
    field = sheet.fields.get(key="n_randomised")
    url = base(review, sheet) + f"fields/{field.pk}/edit/"
    page = client.get(base(review, sheet)).content.decode()
    assert f'href="{url}#edit-{field.pk}" data-edit="{url}"' in page

    response = client.get(url, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert edit_forms(html) == [str(field.pk)]
    assert f'hx-post="{base(review, sheet)}fields/{field.pk}/"' in html
    assert 'value="Participants randomised"' in html and 'name="min_value" value="2"' in html
    assert f'id="id_f{field.pk}_label"' in html

    # Without script: the builder page, with that row's editor (and only that one) open.
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html
    assert edit_forms(html) == [str(field.pk)]
    assert re.search(rf'<details[^>]*id="edit-{field.pk}"[^>]* open', html)
    assert len(re.findall(r'<details class="edit-field"[^>]* open', html)) == 1


def test_a_refused_edit_answers_with_the_editor_open_and_every_value_typed(
    client_for, review, lead, sheet
):
    client = client_for(lead)
    field = sheet.fields.get(key="org_support")
    typed = {
        "action": "update",
        "label": "Organisational support (edited)",
        "help_text": "new help",
        "choices": "higher\nlower",
        "rule": TYPO_RULE,
    }
    response = client.post(base(review, sheet) + f"fields/{field.pk}/", typed, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert edit_forms(html) == [str(field.pk)]
    assert re.search(rf'<details[^>]*id="edit-{field.pk}"[^>]* open', html)
    assert 'value="Organisational support (edited)"' in html and "new help</textarea>" in html
    assert "peer_supervison) &gt;= 1" in html and "no field &#x27;peer_supervison&#x27;" in html
    field.refresh_from_db()
    assert field.label == "Organisational support"


def test_the_editor_is_only_for_the_leads_of_its_own_review(
    client_for, review, lead, viewer, outsider, sheet
):
    field = sheet.fields.get(key="design")
    url = base(review, sheet) + f"fields/{field.pk}/edit/"
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(viewer).get(url).status_code == 403
    client = client_for(lead)
    assert client.post(url).status_code == 405
    # The lead's own review, another review's form and field: not found.
    other = Review.objects.create(title="Another team's review")
    Membership.objects.create(review=other, user=lead, is_lead=True)
    foreign = build_use_case_form(other, lead)
    foreign_field = foreign.fields.get(key="design")
    assert client.get(base(review, foreign) + f"fields/{foreign_field.pk}/edit/").status_code == 404
    assert client.get(base(review, sheet) + f"fields/{foreign_field.pk}/edit/").status_code == 404


def statements(client, method, url, data=None):
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data or {}, **HX)
    assert response.status_code == 200
    return len(queries)


def test_no_builder_action_sends_more_statements_for_more_fields(client_for, review, lead, sheet):
    """Measured on the same form before and after it grows by eight fields in each section."""
    client = client_for(lead)
    design, peer = sheet.sections.order_by("position")
    moving = sheet.fields.get(key="design")

    def counts():
        order = list(
            sheet.fields.filter(section=design, removed_in_version__isnull=True)
            .order_by("position")
            .values_list("pk", flat=True)
        )
        url = base(review, sheet)
        return [
            statements(client, "get", url),
            statements(
                client,
                "post",
                url + f"sections/{design.pk}/order/",
                {"order": ",".join(map(str, order[::-1]))},
            ),
            statements(
                client,
                "post",
                url + f"fields/{moving.pk}/",
                {"action": "section", "section": peer.pk},
            ),
            statements(
                client,
                "post",
                url + f"fields/{moving.pk}/",
                {"action": "section", "section": design.pk, "position": "1"},
            ),
            statements(client, "post", url + f"fields/{moving.pk}/", {"action": "remove"}),
            statements(client, "post", url + f"fields/{moving.pk}/", {"action": "restore"}),
            statements(client, "get", url + f"fields/{moving.pk}/edit/"),
        ]

    small = counts()
    for section in (design, peer):
        for i in range(8):
            services.field_add(
                section=section,
                data=F(f"Extra {section.pk} {i}", FieldType.SHORT_TEXT, key=f"x{section.pk}_{i}"),
                user=lead,
            )
    assert counts() == small
