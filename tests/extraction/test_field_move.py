"""A field moved to another section of its form (issue 11): by the service, on the builder page
(htmx and without script, with undo) and through the API. The key goes with the field, so its
answers stay attached and the rules that read it keep working; moves that would break something
are refused with a message, and sections or fields of another review are not found."""

import pytest

from extraction import services, services_builder
from extraction.models import Extraction, FormField
from reviewapp.errors import DomainError
from tests.extraction.conftest import build_use_case_form
from tests.factories import MembershipFactory, ReviewFactory, include_study

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def keys(section):
    return list(section.fields.filter(removed_in_version=None).values_list("key", flat=True))


def page(review, form):
    return f"/reviews/{review.pk}/extraction/forms/{form.pk}/"


def api(review):
    return f"/api/reviews/{review.pk}/extraction-fields/"


@pytest.fixture
def parts(sheet):
    return (
        sheet.sections.get(title="Study design"),
        sheet.sections.get(title="Peer worker"),
        sheet.fields.get(key="peer_training"),
    )


# --- service -------------------------------------------------------------------------------


def test_a_field_moves_to_the_place_given_and_the_form_gets_a_version(sheet, lead, parts):
    design, peer, training = parts
    sheet.refresh_from_db()
    before = sheet.version
    moved = services_builder.field_move_to_section(
        field=training, section=design, position=2, user=lead
    )
    assert keys(design) == [
        "design",
        "peer_training",
        "setting",
        "n_randomised",
        "recruitment_start",
        "followups",
    ]
    assert keys(peer)[:2] == ["peer_role", "peer_supervision"]
    assert (moved.from_section, moved.from_position, moved.to_position) == (peer, 2, 2)
    sheet.refresh_from_db()
    assert sheet.version == before + 1
    schema = sheet.versions.get(number=sheet.version).schema
    assert [f["key"] for f in schema["sections"][0]["fields"]][1] == "peer_training"


def test_without_a_place_the_field_goes_last_and_moving_back_undoes_the_move(sheet, lead, parts):
    design, peer, training = parts
    original = keys(peer)
    moved = services_builder.field_move_to_section(field=training, section=design, user=lead)
    assert keys(design)[-1] == "peer_training" and moved.to_position == 6
    services_builder.field_move_to_section(
        field=training, section=moved.from_section, position=moved.from_position, user=lead
    )
    assert keys(peer) == original
    assert "peer_training" not in keys(design)


def test_the_answers_stay_attached_and_the_rule_that_reads_it_keeps_working(
    review, sheet, lead, parts
):
    design, _peer, training = parts
    study = include_study(review, "Chinman 2015")
    Extraction.objects.create(
        form=sheet,
        study=study,
        kind="single",
        answers={"peer_training": "yes", "peer_supervision": "yes"},
    )
    services_builder.field_move_to_section(field=training, section=design, user=lead)
    stored = Extraction.objects.get(form=sheet, study=study)
    assert stored.answers["peer_training"] == "yes"
    active = list(sheet.fields.filter(removed_in_version=None))
    assert services.compute_derived(active, stored.answers)["org_support"] == "higher"
    # The rule follows the field: its new section cannot leave while the rule still reads it.
    with pytest.raises(DomainError, match="used by the rule of: Organisational support"):
        services.section_remove(section=design, user=lead)


def test_a_move_is_refused_to_its_own_section_a_removed_section_or_for_a_removed_field(
    sheet, lead, parts
):
    design, peer, training = parts
    with pytest.raises(DomainError, match="already in 'Peer worker'"):
        services_builder.field_move_to_section(field=training, section=peer, user=lead)
    empty = services.section_add(form=sheet, title="Setting details", user=lead)
    services.section_remove(section=empty, user=lead)
    with pytest.raises(DomainError, match="Section 'Setting details' was removed"):
        services_builder.field_move_to_section(field=training, section=empty, user=lead)
    notes = sheet.fields.get(key="training_notes")
    services.field_remove(field=notes, user=lead)
    with pytest.raises(DomainError, match="was removed; restore it first"):
        services_builder.field_move_to_section(field=notes, section=design, user=lead)


def test_a_move_to_a_section_of_another_form_is_refused_and_nothing_changes(
    review, sheet, lead, parts
):
    _design, peer, training = parts
    other = build_use_case_form(review, lead, name="Second sheet")
    elsewhere = other.sections.get(title="Study design")
    with pytest.raises(DomainError, match="on another form; copy the field there instead"):
        services_builder.field_move_to_section(field=training, section=elsewhere, user=lead)
    training.refresh_from_db()
    assert training.section == peer and training.form == sheet


# --- page ----------------------------------------------------------------------------------


def test_the_page_moves_a_field_answers_with_every_section_and_its_undo_moves_it_back(
    client_for, review, lead, sheet, parts
):
    design, peer, training = parts
    client = client_for(lead)
    url = page(review, sheet) + f"fields/{training.pk}/"
    response = client.post(url, {"action": "section", "section": design.pk, "position": 1}, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert (
        "&#x27;Training provided&#x27; moved from &#x27;Peer worker&#x27; to "
        "&#x27;Study design&#x27; (place 1); its answers stay with it." in html
    )
    assert html.index(f'id="section-{design.pk}"') < html.index('data-key="peer_training"')
    assert html.index('data-key="peer_training"') < html.index('data-key="design"')
    # Undo posts the move back to where the field was.
    assert f'name="section" value="{peer.pk}"' in html and 'name="position" value="2"' in html
    undo = {"action": "section", "section": peer.pk, "position": 2}
    html = client.post(url, undo, **HX).content.decode()
    assert "moved from &#x27;Study design&#x27; to &#x27;Peer worker&#x27; (place 2)" in html
    assert keys(peer)[1] == "peer_training"


def test_without_script_the_move_redirects_to_the_builder_with_a_message(
    client_for, review, lead, sheet, parts
):
    design, _peer, training = parts
    response = client_for(lead).post(
        page(review, sheet) + f"fields/{training.pk}/",
        {"action": "section", "section": design.pk},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith(f"#field-{training.pk}")
    assert "moved from &#x27;Peer worker&#x27; to &#x27;Study design&#x27;" in (
        response.content.decode()
    )
    assert keys(design)[-1] == "peer_training"


def test_the_page_says_what_is_wrong_with_a_refused_move(client_for, review, lead, sheet, parts):
    _design, peer, training = parts
    client = client_for(lead)
    url = page(review, sheet) + f"fields/{training.pk}/"
    html = client.post(url, {"action": "section", "section": peer.pk}, **HX).content.decode()
    assert 'role="alert"' in html and "already in &#x27;Peer worker&#x27;" in html
    html = client.post(url, {"action": "section", "section": ""}, **HX).content.decode()
    assert "Choose the section to move the field to." in html
    html = client.post(url, {"action": "section", "section": peer.pk, "position": "x"}, **HX)
    assert "not a number" in html.content.decode()


def test_the_page_does_not_find_a_section_of_another_form_or_review(
    client_for, review, lead, sheet, parts
):
    _design, _peer, training = parts
    second = build_use_case_form(review, lead, name="Second sheet").sections.first()
    foreign_review = ReviewFactory(title="Another review")
    MembershipFactory(review=foreign_review, user=lead, is_lead=True)
    foreign = build_use_case_form(foreign_review, lead).sections.first()
    client = client_for(lead)
    url = page(review, sheet) + f"fields/{training.pk}/"
    for section in (second, foreign):
        response = client.post(url, {"action": "section", "section": section.pk}, **HX)
        assert response.status_code == 404
    training.refresh_from_db()
    assert training.section.title == "Peer worker"


def test_each_row_offers_the_other_sections_to_move_to(client_for, review, lead, sheet, parts):
    design, _peer, training = parts
    html = client_for(lead).get(page(review, sheet)).content.decode()
    row = html[html.index(f'id="field-{training.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'aria-label="Move Training provided to section"' in row
    assert f'<option value="{design.pk}">Study design</option>' in row


# --- API -----------------------------------------------------------------------------------


def test_the_api_moves_a_field_by_changing_its_section(api_for, review, lead, sheet, parts):
    design, _peer, training = parts
    response = api_for(lead).patch(
        api(review) + f"{training.pk}/", {"section": design.pk, "position": 1}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["section"] == design.pk and response.json()["position"] == 1
    assert keys(design)[0] == "peer_training"


def test_the_api_moves_and_changes_a_field_in_one_request(api_for, review, lead, sheet, parts):
    design, _peer, training = parts
    response = api_for(lead).patch(
        api(review) + f"{training.pk}/",
        {"section": design.pk, "label": "Training given"},
        format="json",
    )
    assert response.status_code == 200
    training.refresh_from_db()
    assert training.section == design and training.label == "Training given"


def test_the_api_refuses_a_section_of_another_form_and_changes_nothing(
    api_for, review, lead, sheet, parts
):
    _design, peer, training = parts
    other = build_use_case_form(review, lead, name="Second sheet").sections.first()
    response = api_for(lead).patch(
        api(review) + f"{training.pk}/", {"section": other.pk, "label": "Changed"}, format="json"
    )
    assert response.status_code == 400
    assert "on another form" in response.json()["section"][0]
    training.refresh_from_db()
    assert training.section == peer and training.label == "Training provided"


def test_the_api_does_not_find_sections_or_fields_of_another_review(
    api_for, review, lead, sheet, parts
):
    _design, _peer, training = parts
    foreign_review = ReviewFactory(title="Another review")
    MembershipFactory(review=foreign_review, user=lead, is_lead=True)
    foreign = build_use_case_form(foreign_review, lead)
    client = api_for(lead)
    section = foreign.sections.first()
    moved = client.patch(api(review) + f"{training.pk}/", {"section": section.pk}, format="json")
    assert moved.status_code == 404
    theirs = foreign.fields.first()
    design = sheet.sections.first()
    across = client.patch(api(review) + f"{theirs.pk}/", {"section": design.pk}, format="json")
    assert across.status_code == 404
    assert FormField.objects.get(pk=theirs.pk).section.form == foreign


def test_a_viewer_cannot_move_a_field_through_the_api(api_for, review, viewer, sheet, parts):
    design, peer, training = parts
    response = api_for(viewer).patch(
        api(review) + f"{training.pk}/", {"section": design.pk}, format="json"
    )
    assert response.status_code == 403
    training.refresh_from_db()
    assert training.section == peer
