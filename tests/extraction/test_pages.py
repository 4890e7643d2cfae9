import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from extraction import selectors, services
from extraction.models import Extraction, ExtractionForm, FormField, OutcomeData
from tests.extraction.conftest import arms, continuous

pytestmark = pytest.mark.django_db


def entry_url(review, form, study, tail=""):
    return f"/reviews/{review.pk}/extraction/forms/{form.pk}/studies/{study.pk}/{tail}"


def test_the_lead_builds_a_form_in_the_browser_pages(client_for, review, lead):
    client = client_for(lead)
    base = f"/reviews/{review.pk}/extraction/"
    response = client.post(
        base + "forms/new/", {"name": "Sheet", "mode": "dual", "collects_outcomes": "on"}
    )
    form = ExtractionForm.objects.get(review=review)
    assert response.status_code == 302 and form.is_dual
    client.post(base + f"forms/{form.pk}/sections/new/", {"title": "Peer worker"})
    section = form.sections.get()
    add = base + f"forms/{form.pk}/sections/{section.pk}/fields/new/"
    for key in ("a", "b", "c"):
        client.post(add, {"label": f"Indicator {key}", "field_type": "yes_no_unclear", "key": key})
    client.post(
        add,
        {
            "label": "Arms",
            "field_type": "table",
            "columns": "arm | Arm | short_text\nn | N | integer",
        },
    )
    response = client.post(
        add,
        {
            "label": "Support",
            "field_type": "derived",
            "choices": "higher\nlower",
            "rule": 'if count_yes(a, b, c) >= 2 then "higher" else "lower"',
        },
    )
    assert response.status_code == 302
    assert list(form.fields.values_list("key", flat=True)) == ["a", "b", "c", "arms", "support"]
    bad = client.post(
        add, {"label": "Oops", "field_type": "derived", "rule": "count_yes(zzz)"}, follow=True
    )
    assert "no field &#x27;zzz&#x27;" in bad.content.decode()
    c_field = form.fields.get(key="c")
    client.post(base + f"forms/{form.pk}/fields/{c_field.pk}/", {"action": "up"})
    assert list(form.fields.values_list("key", flat=True))[:3] == ["a", "c", "b"]
    page = client.get(base + f"forms/{form.pk}/").content.decode()
    assert "Indicator c" in page and "count_yes(a, b, c)" in page
    preview = client.get(base + f"forms/{form.pk}/preview/")
    assert preview.status_code == 200 and 'name="t__arms__0__n"' in preview.content.decode()
    exported = client.get(base + f"forms/{form.pk}/export.json")
    schema = json.loads(exported.content)
    assert schema["sections"][0]["fields"][4]["rule"].startswith("if count_yes")
    upload = SimpleUploadedFile("sheet.json", exported.content, content_type="application/json")
    client.post(base + "forms/import/", {"file": upload, "name": "Imported"})
    assert (
        selectors.form_schema(form=ExtractionForm.objects.get(name="Imported"))["sections"]
        == schema["sections"]
    )
    broken = SimpleUploadedFile("x.json", b"{not json", content_type="application/json")
    response = client.post(base + "forms/import/", {"file": broken}, follow=True)
    assert "not valid JSON" in response.content.decode()


def test_an_extractor_saves_a_study_through_the_page(
    client_for, review, lead, sheet, studies, outcomes
):
    client = client_for(lead)
    qol = outcomes[0]
    page = client.get(entry_url(review, sheet, studies[0]))
    assert page.status_code == 200 and "Quality of life" in page.content.decode()
    post = {
        "version": "0",
        "a__design": "Cluster randomised",
        "a__setting": ["Inpatient", "Crisis teams"],
        "a__peer_training": "yes",
        "a__peer_supervision": "yes",
        "a__peer_integrated": "no",
        "t__followups__0__timepoint": "6 months",
        "t__followups__0__weeks": "26",
        "t__followups__1__timepoint": "",
        "t__followups__1__weeks": "",
        "arm__0__label": "Peer support",
        "arm__0__role": "intervention",
        "arm__1__label": "Usual care",
        "arm__1__role": "control",
        "o__0__outcome": str(qol.pk),
        "o__0__timepoint": "6 months",
        "o__0__timepoint_weeks": "26",
        "o__0__arm": "Peer support",
        "o__0__mean": "5.1",
        "o__0__n": "40",
        "o__0__conversion": "sd_from_se",
        "o__0__cv__se_mean": "0.2",
        "o__1__outcome": str(qol.pk),
        "o__1__timepoint": "6 months",
        "o__1__timepoint_weeks": "26",
        "o__1__arm": "Usual care",
        "o__1__mean": "4.2",
        "o__1__sd": "1.1",
        "o__1__n": "41",
        "complete": "on",
    }
    response = client.post(entry_url(review, sheet, studies[0], "save/"), post)
    assert response.status_code == 302
    record = Extraction.objects.get()
    assert record.answers["setting"] == ["Inpatient", "Crisis teams"]
    assert record.answers["followups"] == [{"timepoint": "6 months", "weeks": 26.0}]
    assert record.answers["org_support"] == "higher"
    converted = OutcomeData.objects.get(arm="Peer support")
    assert converted.conversion == "sd_from_se" and round(converted.sd, 6) == round(
        0.2 * 40**0.5, 6
    )
    page = client.get(entry_url(review, sheet, studies[0])).content.decode()
    assert "version 1" in page and "higher" in page

    # A stale save gets a conflict showing both versions; an invalid one, field messages.
    stale = client.post(
        entry_url(review, sheet, studies[0], "save/"),
        {**post, "a__design": "Individually randomised"},
    )
    assert stale.status_code == 409
    body = stale.content.decode()
    assert "saved this record while you were editing" in body and "Individually randomised" in body
    bad = client.post(
        entry_url(review, sheet, studies[0], "save/"), {**post, "version": "1", "o__1__sd": "-2"}
    )
    assert bad.status_code == 400
    assert "SD must be greater than 0 (got -2)" in bad.content.decode()
    record.refresh_from_db()
    assert record.version == 1 and OutcomeData.objects.get(arm="Usual care").sd == 1.1
    history = client.get(entry_url(review, sheet, studies[0], "history/")).content.decode()
    assert "Cluster randomised" in history and "Outcome data added" in history


def test_the_comparison_highlights_differences_and_builds_the_consensus(
    client_for, review, lead, dual_sheet, studies, screener_a, screener_b, outcomes
):
    qol = outcomes[0]
    study = studies[0]
    for user, design, sd in (
        (screener_a, "Cluster randomised", 1.0),
        (screener_b, "Individually randomised", 1.2),
    ):
        services.extraction_save(
            form=dual_sheet,
            study=study,
            user=user,
            expected_version=0,
            data=services.ExtractionInput(
                answers={"design": design, "peer_training": "yes"},
                arms=arms(),
                complete=True,
                outcomes=[continuous(qol, "12 months", 52, "Peer support", 5, sd, 30)],
            ),
        )
    # Screener A's own page never shows B's answers.
    own = client_for(screener_a).get(entry_url(review, dual_sheet, study)).content.decode()
    assert 'Individually randomised" selected' not in own and "Cluster randomised</option>" in own
    client = client_for(lead)
    page = client.get(entry_url(review, dual_sheet, study, "compare/"))
    body = page.content.decode()
    assert page.status_code == 200
    assert '<strong id="difference-count">2</strong>' in body and 'class="differ' in body
    unresolved = client.post(
        entry_url(review, dual_sheet, study, "consensus/"),
        {"version": "0", "choice__design": "first"},
    )
    assert unresolved.status_code == 400 and "Choose a side" in unresolved.content.decode()
    row_key = selectors.extraction_comparison(form=dual_sheet, study=study).rows[0].key
    done = client.post(
        entry_url(review, dual_sheet, study, "consensus/"),
        {
            "version": "0",
            "choice__design": "first",
            f"choice__{row_key}": "second",
            "complete": "on",
        },
    )
    assert done.status_code == 302
    consensus = Extraction.objects.get(kind=Extraction.Kind.CONSENSUS)
    assert consensus.answers["design"] == "Cluster randomised"
    assert consensus.outcome_data.get().sd == 1.2


def test_the_outcomes_page_defines_and_orders_outcomes(client_for, review, lead):
    client = client_for(lead)
    url = f"/reviews/{review.pk}/extraction/outcomes/"
    client.post(
        url + "new/",
        {
            "name": "Quality of life",
            "outcome_type": "continuous",
            "desirable_direction": "higher",
            "timepoint_rule": "longest",
        },
    )
    client.post(
        url + "new/",
        {
            "name": "Days in hospital",
            "outcome_type": "continuous",
            "desirable_direction": "lower",
            "timepoint_rule": "named",
        },
    )
    page = client.get(url).content.decode()
    assert "Quality of life" in page and "Name the timepoint to use" in page
    client.post(
        url + "new/",
        {
            "name": "Days in hospital",
            "outcome_type": "continuous",
            "desirable_direction": "lower",
            "timepoint_rule": "named",
            "timepoint_name": "12 months",
        },
    )
    outcomes = list(review.outcomes_defined.all())
    assert [(o.name, o.desirable_direction) for o in outcomes] == [
        ("Quality of life", "higher"),
        ("Days in hospital", "lower"),
    ]
    client.post(url + f"{outcomes[1].pk}/", {"action": "up"})
    assert review.outcomes_defined.first().name == "Days in hospital"


def test_exports_carry_the_consensus_and_single_data(
    client_for, review, lead, sheet, studies, outcomes, viewer
):
    qol, hosp = outcomes[0], outcomes[10]
    services.extraction_save(
        form=sheet,
        study=studies[0],
        user=lead,
        expected_version=0,
        data=services.ExtractionInput(
            answers={
                "design": "Cluster randomised",
                "peer_training": "yes",
                "peer_supervision": "yes",
            },
            arms=arms(),
            outcomes=[
                continuous(qol, "12 months", 52, "Peer support", 5, 1, 30),
                continuous(qol, "12 months", 52, "Usual care", 4, 1, 31),
                {
                    "outcome": hosp.pk,
                    "timepoint": "12 months",
                    "arm": "Peer support",
                    "events": 3,
                    "total": 30,
                },
                {
                    "outcome": hosp.pk,
                    "timepoint": "12 months",
                    "arm": "Usual care",
                    "events": 6,
                    "total": 31,
                },
            ],
        ),
    )
    client = client_for(viewer)
    wide = (
        client.get(f"/reviews/{review.pk}/extraction/export/wide.csv").content.decode().splitlines()
    )
    assert wide[0].startswith("study_id,study,status,design,")
    assert "Chinman 2015" in wide[1] and "higher" in wide[1]
    long = (
        client.get(f"/reviews/{review.pk}/extraction/export/long.csv").content.decode().splitlines()
    )
    assert len(long) == 5 and "Usual care,control,4.0,1.0,31" in long[2]
    metafor = (
        client.get(f"/reviews/{review.pk}/extraction/outcomes/{qol.pk}/metafor.csv")
        .content.decode()
        .splitlines()
    )
    assert metafor[0].startswith("study,timepoint,m1i,sd1i,n1i,m2i,sd2i,n2i,conversion")
    assert metafor[1].startswith("Chinman 2015,12 months,5.0,1.0,30,4.0,1.0,31,")
    binary = (
        client.get(f"/reviews/{review.pk}/extraction/outcomes/{hosp.pk}/metafor.csv")
        .content.decode()
        .splitlines()
    )
    assert binary[1].startswith("Chinman 2015,12 months,3,30,6,31")
    assert client.get(f"/reviews/{review.pk}/extraction/export/nope.csv").status_code == 404


def test_a_spreadsheet_formula_in_an_answer_is_defused(review, lead, sheet, studies):
    from extraction import exports

    services.field_add(
        section=sheet.sections.first(),
        data=services.FieldInput(label="Country", field_type="short_text", key="country"),
        user=lead,
    )
    services.extraction_save(
        form=sheet,
        study=studies[0],
        user=lead,
        expected_version=0,
        data=services.ExtractionInput(answers={"country": "=HYPERLINK(1)"}),
    )
    assert "'=HYPERLINK(1)" in exports.wide_csv(review=review)


def test_viewers_read_but_cannot_save(client_for, review, lead, viewer, sheet, studies):
    client = client_for(viewer)
    page = client.get(entry_url(review, sheet, studies[0]))
    assert page.status_code == 200 and "Read-only" in page.content.decode()
    assert (
        client.post(entry_url(review, sheet, studies[0], "save/"), {"version": "0"}).status_code
        == 403
    )
    assert FormField.objects.filter(form=sheet).count() > 0


def test_forms_are_reordered_and_the_consensus_record_is_edited_like_any_record(
    client_for, review, lead, sheet, dual_sheet, studies, screener_a, screener_b
):
    client = client_for(lead)
    client.post(f"/reviews/{review.pk}/extraction/forms/{dual_sheet.pk}/move/", {"direction": "up"})
    assert list(review.extraction_forms.values_list("name", flat=True)) == [
        "Dual sheet",
        "Extraction sheet",
    ]
    study = studies[0]
    for user in (screener_a, screener_b):
        services.extraction_save(
            form=dual_sheet,
            study=study,
            user=user,
            expected_version=0,
            data=services.ExtractionInput(answers={"design": "Cluster randomised"}, complete=True),
        )
    client.post(entry_url(review, dual_sheet, study, "consensus/"), {"version": "0"})
    consensus = Extraction.objects.get(kind=Extraction.Kind.CONSENSUS)
    page = client.get(entry_url(review, dual_sheet, study) + "?record=consensus").content.decode()
    assert "Consensus record" in page
    response = client.post(
        entry_url(review, dual_sheet, study, "save/"),
        {
            "version": str(consensus.version),
            "record": "consensus",
            "a__design": "Individually randomised",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("?record=consensus")
    consensus.refresh_from_db()
    assert consensus.answers["design"] == "Individually randomised" and consensus.version == 2
    assert (
        Extraction.objects.filter(kind="independent", answers__design="Cluster randomised").count()
        == 2
    )


def test_derived_values_follow_the_answers_before_saving(client_for, review, lead, sheet):
    response = client_for(lead).post(
        f"/reviews/{review.pk}/extraction/forms/{sheet.pk}/derive/",
        {"a__peer_training": "yes", "a__peer_supervision": "yes", "a__peer_integrated": "no"},
    )
    assert response.json() == {"org_support": "higher"}
    assert not Extraction.objects.exists()
