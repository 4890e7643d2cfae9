import io

import pytest
from django.core.management import call_command
from django.http import HttpRequest
from docx import Document

from reviewapp.demo import BCG_TITLE
from reviewapp.models import Review

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_summary_of_findings_downloads_as_a_word_table(client):
    call_command("load_demo")
    review = Review.objects.get(title=BCG_TITLE)
    # django-axes counts logins per request: the test client's login passes one.
    client.login(request=HttpRequest(), username="lead", password="demo-review-2026")
    response = client.get(f"/reviews/{review.pk}/summary-of-findings/?format=docx")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('summary-of-findings.docx"')
    table = Document(io.BytesIO(response.content)).tables[0]
    assert [c.text for c in table.rows[0].cells][:3] == ["Outcome", "Effect", "Estimate"]
    row = [c.text for c in table.rows[1].cells]
    assert row[0] == "Tuberculosis"
    assert row[6] == "13"  # studies
    assert row[2] == "0.49"  # exp(-0.7145), the BCG risk ratio
