"""The entry page's save, in place (htmx) and as a plain form post: the in-place answer carries
only what the save changed (version, message, warnings beside their inputs, derived values) and
places messages under the page's own row numbers; without htmx it is POST, redirect, GET."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extraction import services
from extraction.models import Extraction, OutcomeData

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def save_url(review, form, study):
    return f"/reviews/{review.pk}/extraction/forms/{form.pk}/studies/{study.pk}/save/"


@pytest.fixture
def qol(review):
    return services.outcome_save(
        review=review, name="Quality of life", outcome_type="continuous", scale_min=0, scale_max=10
    )


def post_for(qol, rows=((3, "Peer support", "5", "1"), (7, "Usual care", "4", "1")), **extra):
    """The page's inputs; outcome rows numbered as the page numbers them, with gaps (a row added
    by the page's script takes the next free number)."""
    post = {
        "version": "0",
        "a__design": "Cluster randomised",
        "a__n_randomised": "115",
        "a__peer_training": "yes",
        "a__peer_supervision": "yes",
        "a__peer_integrated": "no",
        "arm__0__label": "Peer support",
        "arm__0__role": "intervention",
        "arm__1__label": "Usual care",
        "arm__1__role": "control",
        "arm__2__label": "",
        "arm__2__role": "intervention",
    }
    for index, arm, mean, sd in rows:
        post.update(
            {
                f"o__{index}__outcome": str(qol.pk),
                f"o__{index}__timepoint": "12 months",
                f"o__{index}__timepoint_weeks": "52",
                f"o__{index}__arm": arm,
                f"o__{index}__mean": mean,
                f"o__{index}__sd": sd,
                f"o__{index}__n": "60" if arm == "Peer support" else "55",
            }
        )
    return {**post, **extra}


def oob(body, element_id):
    """The out-of-band fragment with this id in an in-place answer."""
    match = re.search(
        rf'<(\w+)[^>]*id="{element_id}"[^>]*hx-swap-oob="true"[^>]*>(.*?)</\1>', body, re.S
    )
    return match.group(0) if match else None


def test_it_answers_an_in_place_save_with_the_new_version_and_not_the_whole_form(
    client_for, review, lead, sheet, studies, qol
):
    client = client_for(lead)
    response = client.post(save_url(review, sheet, studies[0]), post_for(qol), headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert re.search(r'<input[^>]*id="entry-version"[^>]*value="1"[^>]*hx-swap-oob="true"', body)
    assert "Chinman 2015: saved as in progress (version 1)." in body
    assert "version 1, in progress, saved by lead" in oob(body, "record-meta")
    # Derived values recomputed; no input of the form sent back, so none is replaced.
    assert ">higher</output>" in oob(body, "a-org_support")
    assert 'name="a__design"' not in body and "<form" not in body
    record = Extraction.objects.get()
    assert record.version == 1 and record.answers["design"] == "Cluster randomised"
    assert OutcomeData.objects.filter(extraction=record).count() == 2


def test_an_in_place_save_puts_warnings_beside_their_inputs_under_the_pages_row_numbers(
    client_for, review, lead, sheet, studies, qol
):
    client = client_for(lead)
    post = post_for(
        qol,
        rows=((3, "Peer support", "5", "1"), (7, "Usual care", "8", "6")),
        a__n_randomised="99999999999",
    )
    response = client.post(save_url(review, sheet, studies[0]), post, headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "more people than any trial has randomised" in oob(body, "fm-n_randomised")
    # The SD warning belongs to the page's row 7 (the second row bound), with its measure named.
    row = re.search(r'<tr class="row-messages" id="m-7" data-row="7"[^>]*>.*?</tr>', body, re.S)
    assert row is not None and "SD 6 is larger than the scale runs from 0 to 10 allows" in row[0]
    assert 'data-warn="sd ' in row[0]
    assert 'id="warnings"' in body and "saved, and flagged" in body


def test_a_refused_in_place_save_answers_400_with_errors_beside_the_inputs_and_a_summary(
    client_for, review, lead, sheet, studies, qol
):
    client = client_for(lead)
    post = post_for(qol, rows=((3, "Peer support", "5", "1"), (7, "Usual care", "4", "-2")))
    response = client.post(save_url(review, sheet, studies[0]), post, headers=HTMX)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="failed"' in body and "nothing was saved" in body
    row = re.search(r'<tr class="row-messages" id="m-7"[^>]*>.*?</tr>', body, re.S)
    assert row is not None and "SD must be greater than 0 (got -2)" in row[0]
    assert 'data-invalid="sd ' in row[0]
    # The derived field shows what the typed answers give, not a blank.
    assert ">higher</output>" in oob(body, "a-org_support")
    # Nothing replaces the inputs (no extra blank arm), and the version stays.
    assert "arm__" not in body and 'id="entry-version"' not in body
    assert not Extraction.objects.exists()


def test_a_table_cells_error_is_listed_beside_its_table_in_place(
    client_for, review, lead, sheet, studies, qol
):
    client = client_for(lead)
    post = post_for(qol, t__followups__0__timepoint="", t__followups__0__weeks="abc")
    response = client.post(save_url(review, sheet, studies[0]), post, headers=HTMX)
    assert response.status_code == 400
    messages = oob(response.content.decode(), "fm-followups")
    assert messages is not None and "Row 1, Weeks:" in messages


def test_a_stale_in_place_save_answers_409_with_both_versions_and_the_stored_version(
    client_for, review, lead, screener_a, sheet, studies, qol
):
    other = client_for(screener_a)
    assert other.post(save_url(review, sheet, studies[0]), post_for(qol)).status_code == 302
    client = client_for(lead)
    post = post_for(qol, a__design="Individually randomised")
    response = client.post(save_url(review, sheet, studies[0]), post, headers=HTMX)
    assert response.status_code == 409
    body = response.content.decode()
    assert 'id="conflict"' in body and "saved this record while you were editing" in body
    assert "Individually randomised" in body and 'id="reload-saved"' in body
    # Saving again replaces the stored version: the page now holds its number.
    assert re.search(r'id="entry-version"[^>]*value="1"', body)
    assert Extraction.objects.get().answers["design"] == "Cluster randomised"


def test_without_htmx_the_save_posts_redirects_and_shows_the_message_on_the_page(
    client_for, review, lead, sheet, studies, qol
):
    client = client_for(lead)
    response = client.post(save_url(review, sheet, studies[0]), post_for(qol), follow=True)
    assert response.redirect_chain[-1][1] == 302
    body = response.content.decode()
    assert "Chinman 2015: saved as in progress (version 1)." in body
    assert re.search(r'id="entry-version" name="version" value="1"', body)


def test_an_in_place_save_reads_the_fields_once_and_not_the_forms_layout(
    client_for, review, lead, sheet, studies, qol
):
    """The answer is made from what the save already has: no sections, no page re-render."""
    client = client_for(lead)
    client.post(save_url(review, sheet, studies[0]), post_for(qol), headers=HTMX)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            save_url(review, sheet, studies[0]), post_for(qol, version="1"), headers=HTMX
        )
    assert response.status_code == 200
    sql = [q["sql"] for q in queries]
    assert not [s for s in sql if 'FROM "extraction_formsection"' in s]
    # The form's fields are read once, for binding and saving alike.
    assert len([s for s in sql if s.startswith("SELECT") and '"extraction_formfield"' in s]) == 1


def test_a_save_for_a_study_not_included_is_refused_with_the_reason(
    client_for, review, lead, sheet, qol
):
    from screening.models import Study

    excluded = Study.objects.create(review=review, label="Never included")
    client = client_for(lead)
    response = client.post(save_url(review, sheet, excluded), post_for(qol), headers=HTMX)
    assert response.status_code == 400
    assert "not among the studies included for extraction" in response.content.decode()
    plain = client.post(save_url(review, sheet, excluded), post_for(qol), follow=True)
    assert "not among the studies included for extraction" in plain.content.decode()
    assert not Extraction.objects.exists()
