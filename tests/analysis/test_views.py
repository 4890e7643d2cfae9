import json
import shutil

import pytest
from django.urls import reverse

from analysis import services
from analysis.models import Analysis, GradeRating
from tests.analysis.conftest import include_study, save_continuous
from tests.conftest import needs

pytestmark = pytest.mark.django_db

DATA = {
    "Chinman 2015": ((10.2, 3.1, 40), (9.1, 3.3, 42)),
    "Gillard 2015": ((8.2, 2.9, 30), (8.9, 3.0, 31)),
    "Rogers 2016": ((11.0, 4.0, 100), (10.0, 4.1, 98)),
}


@pytest.fixture
def analysis(review, lead, sheet, symptoms, eager, django_capture_on_commit_callbacks):
    for label, (i, c) in DATA.items():
        save_continuous(sheet, include_study(review, label, int(label[-4:])), lead, symptoms, i, c)
    include_study(review, "Mahlke 2017", 2017)
    with django_capture_on_commit_callbacks(execute=True):
        a = services.analysis_create(
            review=review, outcome=symptoms, created_by=lead, cumulative=True
        )
    a.refresh_from_db()
    return a


def _url(name, analysis, *extra):
    return reverse(name, args=[analysis.review_id, analysis.pk, *extra])


def test_the_analysis_page_shows_the_pooled_result_figures_and_missing_studies(
    client_for, viewer, analysis
):
    response = client_for(viewer).get(_url("analysis_detail", analysis))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-status="current"' in html
    assert analysis.current_result.payload["overall"] is not None
    assert f'data-estimate="{analysis.current_result.estimate}"' in html
    for name in ("forest", "funnel", "leave-one-out", "cumulative"):
        assert f'data-figure="{name}"' in html
    assert "Mahlke 2017" in html and "not extracted yet" in html
    # Lower is better: the intervention is favoured on the left.
    forest = json.loads(response.context["figures"]["forest"])
    labels = {a.get("name"): a["text"] for a in forest["layout"]["annotations"] if a.get("name")}
    assert labels["favours-left"] == "Favours intervention"
    assert "Settings" not in html  # viewers do not edit


def test_the_page_marks_a_result_updating_while_a_change_is_pending(client_for, lead, analysis):
    Analysis.objects.filter(pk=analysis.pk).update(change_seq=analysis.change_seq + 1)
    html = client_for(lead).get(_url("analysis_result", analysis)).content.decode()
    assert 'data-status="updating"' in html
    assert "from before the latest change" in html


def test_a_failed_recomputation_shows_its_error_to_the_lead(client_for, lead, analysis):
    Analysis.objects.filter(pk=analysis.pk).update(
        change_seq=analysis.change_seq + 1, error="OperationalError: the database went away"
    )
    html = client_for(lead).get(_url("analysis_detail", analysis)).content.decode()
    assert "the database went away" in html and "Try again now" in html


def test_the_lead_changes_settings_and_a_stale_form_is_refused(client_for, lead, analysis):
    client = client_for(lead)
    data = {"name": analysis.name, "preset": "custom", "measure": "SMD", "model": "random",
            "tau2_method": "DL", "test": "z", "level": 95, "leave_one_out": "on",
            "intervention_label": "peer support", "control_label": "control", "sort_by": "weight",
            "version": analysis.version}  # fmt: skip
    assert client.post(_url("analysis_settings", analysis), data).status_code == 302
    analysis.refresh_from_db()
    assert analysis.tau2_method == "DL" and analysis.version == 2
    data["tau2_method"] = "PM"  # still version 1
    response = client.post(_url("analysis_settings", analysis), data, follow=True)
    assert "Someone changed this analysis" in response.content.decode()
    analysis.refresh_from_db()
    assert analysis.tau2_method == "DL"


def test_the_lead_creates_an_analysis_from_the_list_page(
    client_for, lead, review, symptoms, analysis
):
    client = client_for(lead)
    response = client.post(
        reverse("analysis_create", args=[review.pk]),
        {"outcome": symptoms.pk, "name": "RevMan check", "preset": "revman5", "model": "random",
         "tau2_method": "REML", "test": "z", "level": 95, "intervention_label": "peer support",
         "control_label": "control", "sort_by": "study"},
    )  # fmt: skip
    created = Analysis.objects.get(name="RevMan check")
    assert response.status_code == 302 and created.tau2_method == "DL"
    page = client.get(response["Location"]).content.decode()
    assert "RevMan 5 defaults" in page
    bad = client.post(
        reverse("analysis_create", args=[review.pk]),
        {
            "outcome": symptoms.pk,
            "name": "RevMan check",
            "model": "fixed",
            "test": "knha",
            "preset": "custom",
            "tau2_method": "REML",
            "level": 95,
            "sort_by": "study",
            "intervention_label": "i",
            "control_label": "c",
        },
    )
    assert bad.status_code == 400 and "Knapp-Hartung" in bad.content.decode()


def test_the_input_csv_and_r_script_reproduce_the_analysis(client_for, viewer, analysis):
    client = client_for(viewer)
    csv = client.get(_url("analysis_download", analysis, "csv"))
    assert csv["Content-Type"] == "text/csv"
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("study_id,study,year,n1,m1,sd1,n2,m2,sd2")
    assert len(lines) == 4 and "Mahlke" not in csv.content.decode()
    script = client.get(_url("analysis_download", analysis, "R")).content.decode()
    assert "library(metafor)" in script
    assert 'escalc(measure = "SMD"' in script
    assert 'rma(yi, vi, data = dat, method = "REML", test = "z"' in script
    assert "cumul(res, order = dat$year" in script
    assert "Chinman 2015" in script


def test_figures_download_as_png_svg_and_pdf(client_for, viewer, analysis):
    needs(shutil.which("chromium") is not None, "image export needs Chromium")
    client = client_for(viewer)
    # Without a broker the figures are drawn in-process on the first download.
    png = client.get(_url("analysis_download", analysis, "forest.png"))
    assert png.status_code == 200 and b"".join(png.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    svg = client.get(_url("analysis_download", analysis, "funnel.svg"))  # drawn with the rest
    assert b"<svg" in b"".join(svg.streaming_content)[:200]
    pdf = client.get(_url("analysis_download", analysis, "forest.pdf"))
    assert b"".join(pdf.streaming_content)[:5] == b"%PDF-"
    assert client.get(_url("analysis_download", analysis, "forest.gif")).status_code == 404


def test_the_version_poll_answers_204_until_something_changes(client_for, viewer, analysis, review):
    client = client_for(viewer)
    url = reverse("analysis_version", args=[review.pk])
    first = client.get(url, {"v": "stale"})
    assert first.status_code == 200 and first["HX-Trigger"] == "analysis-changed"
    version = first.content.decode().split('data-version="')[1].split('"')[0]
    assert client.get(url, {"v": version}).status_code == 204
    Analysis.objects.filter(pk=analysis.pk).update(change_seq=analysis.change_seq + 1)
    assert client.get(url, {"v": version}).status_code == 200


def test_the_dashboard_has_a_card_per_outcome(client_for, viewer, analysis, review, outcome):
    html = client_for(viewer).get(reverse("dashboard", args=[review.pk])).content.decode()
    assert "General psychiatric symptoms" in html and "Social network support" in html
    assert "No analysis defined" in html
    card = [c for c in __import__("analysis.selectors", fromlist=["x"]).outcome_cards(review=review)
            if c.analysis][0]  # fmt: skip
    assert card.estimate_text in html
    assert 'k = <span class="k">3</span>' in html


def test_summary_of_findings_with_grade_and_exports(client_for, lead, analysis, review, symptoms):
    client = client_for(lead)
    url = reverse("grade_save", args=[review.pk, symptoms.pk])
    data = {d: "none" for d in GradeRating.DOMAINS} | {
        "risk_of_bias": "serious",
        "risk_of_bias_reason": "",
    }
    response = client.post(url, data, follow=True)
    assert "Say why risk of bias is downgraded" in response.content.decode()
    assert not GradeRating.objects.exists()
    data["risk_of_bias_reason"] = "Participants could not be blinded"
    client.post(url, data)
    page = client.get(reverse("summary_of_findings", args=[review.pk])).content.decode()
    assert "Moderate" in page and "Participants could not be blinded" in page
    csv = client.get(
        reverse("summary_of_findings", args=[review.pk]), {"format": "csv"}
    ).content.decode()
    assert "General psychiatric symptoms,SMD," in csv and ",Moderate," in csv
    html = client.get(reverse("summary_of_findings", args=[review.pk]), {"format": "html"})
    assert html["Content-Disposition"].endswith('summary-of-findings.html"')


def test_the_dashboard_shows_screening_prisma_and_extraction_progress(
    client_for, viewer, analysis, review
):
    html = client_for(viewer).get(reverse("dashboard", args=[review.pk])).content.decode()
    assert 'id="dash-prisma"' in html and "<svg" in html.split('id="dash-prisma"')[1][:20000]
    assert "Full text" in html and "conflict" in html
    assert "Included studies: <strong>4</strong>" in html


def test_a_screening_decision_changes_the_dashboard_version(review, analysis):
    from analysis import selectors
    from screening.models import ScreeningItem

    before = selectors.version(review=review)
    ScreeningItem.objects.filter(review=review).first().save()
    assert selectors.version(review=review) != before
