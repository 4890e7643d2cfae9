"""The builder page's block actions over HTTP: htmx fragments for reorder, duplicate, remove
with undo, templates and copy from another review; 404 for a review the lead is not on."""

import pytest

from extraction.models import Extraction, FormField
from tests.extraction.conftest import build_use_case_form
from tests.factories import MembershipFactory, ReviewFactory, include_study

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def base(review, form):
    return f"/reviews/{review.pk}/extraction/forms/{form.pk}/"


def test_a_dragged_order_is_saved_and_only_the_section_comes_back(client_for, review, lead, sheet):
    section = sheet.sections.get(title="Study design")
    ids = list(section.fields.values_list("pk", flat=True))
    response = client_for(lead).post(
        base(review, sheet) + f"sections/{section.pk}/order/",
        {"order": ",".join(str(i) for i in ids[::-1])},
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.index('data-key="followups"') < html.index('data-key="design"')
    assert "Order saved." in html


def test_a_stale_order_is_refused_with_a_message_and_changes_nothing(
    client_for, review, lead, sheet
):
    section = sheet.sections.get(title="Study design")
    response = client_for(lead).post(
        base(review, sheet) + f"sections/{section.pk}/order/", {"order": "1,x"}, **HX
    )
    assert "not a list of ids" in response.content.decode()
    first = section.fields.first()
    assert first is not None and first.key == "design"


def test_sections_are_reordered_and_duplicated(client_for, review, lead, sheet):
    client = client_for(lead)
    ids = list(sheet.sections.values_list("pk", flat=True))
    html = client.post(
        base(review, sheet) + "sections/order/", {"order": f"{ids[1]},{ids[0]}"}, **HX
    ).content.decode()
    assert html.index("Peer worker") < html.index("Study design")
    html = client.post(base(review, sheet) + f"sections/{ids[0]}/duplicate/", **HX).content.decode()
    assert "Section &#x27;Study design (copy)&#x27; added" in html
    assert 'data-key="design_2"' in html


def test_a_field_is_duplicated_below_itself(client_for, review, lead, sheet):
    field = sheet.fields.get(key="setting")
    html = (
        client_for(lead)
        .post(base(review, sheet) + f"fields/{field.pk}/duplicate/", **HX)
        .content.decode()
    )
    assert html.index('data-key="setting"') < html.index('data-key="setting_2"')
    assert html.index('data-key="setting_2"') < html.index('data-key="n_randomised"')


def test_a_removed_section_with_answers_says_they_are_kept_and_undo_brings_it_back(
    client_for, review, lead, sheet
):
    study = include_study(review, "Davidson 1999")
    Extraction.objects.create(
        form=sheet, study=study, kind="single", answers={"peer_training": "yes"}
    )
    peer = sheet.sections.get(title="Peer worker")
    client = client_for(lead)
    html = client.post(base(review, sheet) + f"sections/{peer.pk}/remove/", **HX).content.decode()
    assert "Section &#x27;Peer worker&#x27; removed; the answers to its 1 answered field" in html
    assert f"sections/{peer.pk}/restore/" in html and "Undo" in html
    assert 'data-key="peer_training"' not in html
    html = client.post(base(review, sheet) + f"sections/{peer.pk}/restore/", **HX).content.decode()
    assert 'data-key="peer_training"' in html and 'data-key="org_support"' in html


def test_one_click_adds_a_template_block(client_for, review, lead, sheet):
    html = (
        client_for(lead)
        .post(base(review, sheet) + "templates/", {"template": "dichotomous_outcome"}, **HX)
        .content.decode()
    )
    assert "Section &#x27;Dichotomous outcome (per arm)&#x27; added with 3 fields" in html
    assert 'data-key="dichotomous_arms"' in html


def test_the_builder_offers_forms_of_the_leads_other_reviews_only(
    client_for, review, lead, sheet, outsider
):
    mine = ReviewFactory(title="My other review")
    MembershipFactory(review=mine, user=lead, is_lead=True)
    offered = build_use_case_form(mine, lead, name="Older sheet")
    theirs = ReviewFactory(title="Their review")
    MembershipFactory(review=theirs, user=outsider, is_lead=True)
    hidden = build_use_case_form(theirs, outsider, name="Secret sheet")
    page = client_for(lead).get(base(review, sheet)).content.decode()
    assert f'value="form:{offered.pk}"' in page and "Older sheet › Peer worker" in page
    assert "Secret sheet" not in page and f'value="form:{hidden.pk}"' not in page
    assert 'value="organisational_support"' in page


def test_copy_from_another_review_adds_its_sections_and_404s_for_a_review_not_joined(
    client_for, review, lead, outsider
):
    target = build_use_case_form(review, lead)
    mine = ReviewFactory(title="My other review")
    MembershipFactory(review=mine, user=lead, is_lead=True)
    source = build_use_case_form(mine, lead, name="Older sheet")
    theirs = ReviewFactory(title="Their review")
    MembershipFactory(review=theirs, user=outsider, is_lead=True)
    hidden = build_use_case_form(theirs, outsider, name="Secret sheet")
    client = client_for(lead)
    section = source.sections.get(title="Peer worker")
    html = client.post(
        base(review, target) + "copy/", {"source": f"section:{section.pk}"}, **HX
    ).content.decode()
    assert "Copied &#x27;Peer worker&#x27; (7 fields)" in html
    assert 'data-key="org_support_2"' in html
    before = FormField.objects.filter(form=target).count()
    for source_value in (f"form:{hidden.pk}", f"section:{hidden.sections.first().pk}"):
        response = client.post(base(review, target) + "copy/", {"source": source_value}, **HX)
        assert response.status_code == 404
    assert FormField.objects.filter(form=target).count() == before
    # A whole form becomes a new form of this review.
    response = client.post(
        f"/reviews/{review.pk}/extraction/forms/copy/",
        {"source": f"form:{source.pk}", "name": "Copied sheet"},
    )
    assert response.status_code == 302
    copied = review.extraction_forms.get(name="Copied sheet")
    assert copied.fields.count() == source.fields.count()
    response = client.post(
        f"/reviews/{review.pk}/extraction/forms/copy/", {"source": f"form:{hidden.pk}"}
    )
    assert response.status_code == 404


def test_outsiders_and_viewers_cannot_use_the_block_actions(
    client_for, review, sheet, outsider, viewer
):
    url = base(review, sheet) + "templates/"
    assert client_for(outsider).post(url, {"template": "dichotomous_outcome"}).status_code == 404
    assert client_for(viewer).post(url, {"template": "dichotomous_outcome"}).status_code == 403


def test_the_api_reorders_duplicates_restores_adds_templates_and_copies(
    api_for, review, lead, sheet, outsider
):
    api = api_for(lead)
    root = f"/api/reviews/{review.pk}/"
    section = sheet.sections.get(title="Study design")
    ids = list(section.fields.values_list("pk", flat=True))
    response = api.post(
        root + f"extraction-sections/{section.pk}/reorder/", {"order": ids[::-1]}, format="json"
    )
    assert response.status_code == 200
    assert section.fields.filter(removed_in_version=None).first().key == "followups"
    assert (
        api.post(
            root + f"extraction-sections/{section.pk}/reorder/", {"order": ids[:1]}, format="json"
        ).status_code
        == 400
    )
    s_ids = list(sheet.sections.values_list("pk", flat=True))
    response = api.post(
        root + f"extraction-forms/{sheet.pk}/reorder/", {"order": s_ids[::-1]}, format="json"
    )
    assert response.status_code == 200 and response.json()["schema"]["sections"][0]["title"] == (
        "Peer worker"
    )
    field = sheet.fields.get(key="setting")
    response = api.post(root + f"extraction-fields/{field.pk}/duplicate/")
    assert response.status_code == 201 and response.json()["key"] == "setting_2"
    assert api.delete(root + f"extraction-fields/{field.pk}/").status_code == 204
    response = api.post(root + f"extraction-fields/{field.pk}/restore/")
    assert response.status_code == 200 and response.json()["removed_in_version"] is None
    peer = sheet.sections.get(title="Peer worker")
    assert api.delete(root + f"extraction-sections/{peer.pk}/").status_code == 204
    response = api.post(root + f"extraction-sections/{peer.pk}/restore/")
    assert response.status_code == 200 and response.json()["removed_in_version"] is None
    response = api.post(root + f"extraction-sections/{peer.pk}/duplicate/")
    assert response.status_code == 201 and response.json()["title"] == "Peer worker (copy)"
    response = api.post(
        root + f"extraction-forms/{sheet.pk}/add-template/",
        {"template": "study_characteristics"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["title"] == "Study characteristics"

    theirs = ReviewFactory(title="Their review")
    MembershipFactory(review=theirs, user=outsider, is_lead=True)
    hidden = build_use_case_form(theirs, outsider, name="Secret sheet")
    mine = ReviewFactory(title="Mine")
    MembershipFactory(review=mine, user=lead)  # a viewer there may still copy from it
    source = build_use_case_form(mine, lead, name="Older sheet")
    url = root + f"extraction-forms/{sheet.pk}/copy-in/"
    assert api.post(url, {"source_form": hidden.pk}, format="json").status_code == 404
    response = api.post(url, {"source_form": source.pk}, format="json")
    assert response.status_code == 201 and len(response.json()) == 2
    response = api.post(
        root + "extraction-forms/copy/", {"source_form": source.pk, "name": "Copy"}, format="json"
    )
    assert response.status_code == 201 and response.json()["name"] == "Copy"
    response = api.post(root + "extraction-forms/copy/", {"source_form": hidden.pk}, format="json")
    assert response.status_code == 404
