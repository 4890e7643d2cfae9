"""The Content-Security-Policy header, on pages and API answers, and the report endpoint; and no
page of a populated review holds markup that the policy blocks (tests/browser/test_csp.py
checks the same pages in Chromium, where the policy is enforced)."""

import base64
import hashlib
import json
import logging

import pytest
from rest_framework.test import APIClient

from tests.csp_pages import html_responses, inline_code
from tests.populated import populate

pytestmark = pytest.mark.django_db

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    # The hash is the empty string's: plotly's empty <style> element, nothing else (settings).
    "style-src": "'self' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}


def _directives(header: str) -> dict[str, str]:
    parts = (p.strip().split(None, 1) for p in header.split(";") if p.strip())
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


@pytest.fixture
def populated(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return populate("csp")


def test_it_sends_a_strict_policy_with_every_page(client, populated):
    checked = 0
    for user in (populated.lead, populated.reviewer_a):
        for url, response in html_responses(client, populated, user):
            directives = _directives(response["Content-Security-Policy"])
            assert {k: directives.get(k) for k in STRICT} == STRICT, url
            assert "unsafe" not in response["Content-Security-Policy"], url
            assert response["Reporting-Endpoints"] == 'csp="/csp-report/"'
            checked += 1
    assert checked >= 80


def test_no_page_holds_inline_script_handlers_or_styles(client, populated):
    found, pages = {}, 0
    for user in (populated.lead, populated.reviewer_a):
        for url, response in html_responses(client, populated, user):
            pages += 1
            if problems := inline_code(response.content.decode()):
                found[f"{user.username} {url}"] = sorted(set(problems))
    assert found == {}, json.dumps(found, indent=1)
    assert pages >= 80


def test_the_login_page_and_error_pages_carry_the_policy_too(client, populated):
    responses = [client.get("/accounts/login/")]
    client.force_login(populated.viewer)
    responses += [
        client.get("/reviews/999999/"),  # 404
        client.get(f"/reviews/{populated.review.pk}/settings/"),  # 403: the lead's page
    ]
    assert [r.status_code for r in responses] == [200, 404, 403]
    for response in responses:
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert inline_code(response.content.decode()) == []


def test_api_answers_carry_the_policy(populated):
    api = APIClient()
    api.force_authenticate(populated.lead)
    for url in (f"/api/reviews/{populated.review.pk}/", "/api/reviews/", "/api/schema/"):
        response = api.get(url)
        assert response.status_code == 200, url
        assert _directives(response["Content-Security-Policy"])["default-src"] == "'self'"
    assert "Content-Security-Policy" in APIClient().get("/api/reviews/")


def test_the_api_docs_page_runs_no_inline_script(client, populated):
    client.force_login(populated.lead)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert inline_code(response.content.decode()) == []


def test_it_detects_what_the_policy_blocks():
    """The parser above must find each kind, or the page test could pass on anything."""
    html = (
        '<script>alert(1)</script><script type="module">x</script>'
        '<script type="application/json">{}</script><script src="/s.js"></script>'
        '<a href="javascript:go()" onclick="go()">x</a><div style="width:3%"></div><style></style>'
        '<button hx-on:click="go()" hx-vals="js:{a: 1}">b</button><details open></details>'
    )
    assert inline_code(html) == [
        "inline <script>",
        "inline <script type=module>",
        "<a href=javascript:go()>",
        "<a onclick=...> handler",
        '<div style="width:3%">',
        "inline <style>",
        "<button hx-on:click> (htmx evaluates it)",
        "<button hx-vals=js:{a: 1}> (htmx evaluates it)",
    ]


def test_the_report_endpoint_logs_report_uri_violations(client, caplog):
    report = {
        "csp-report": {
            "document-uri": "http://testserver/reviews/1/",
            "effective-directive": "script-src-elem",
            "blocked-uri": "inline",
            "source-file": "http://testserver/reviews/1/",
            "line-number": 12,
            "script-sample": "alert(1)",
        }
    }
    with caplog.at_level(logging.WARNING, logger="reviewapp.csp"):
        response = client.post(
            "/csp-report/", json.dumps(report), content_type="application/csp-report"
        )
    assert response.status_code == 204
    [record] = caplog.records
    assert record.csp_violation == {
        "document": "http://testserver/reviews/1/",
        "directive": "script-src-elem",
        "blocked": "inline",
        "source": "http://testserver/reviews/1/",
        "line": "12",
        "sample": "alert(1)",
        "disposition": "",
    }
    assert "script-src-elem blocked inline on http://testserver/reviews/1/" in record.message


def test_the_report_endpoint_logs_reporting_api_violations(client, caplog):
    reports = [
        {
            "type": "csp-violation",
            "url": "http://testserver/reviews/1/analysis/",
            "body": {
                "documentURL": "http://testserver/reviews/1/analysis/",
                "effectiveDirective": "style-src-attr",
                "blockedURL": "inline",
                "disposition": "enforce",
                "lineNumber": 3,
            },
        },
        {"type": "deprecation", "body": {"id": "x"}},
    ]
    with caplog.at_level(logging.WARNING, logger="reviewapp.csp"):
        response = client.post(
            "/csp-report/", json.dumps(reports), content_type="application/reports+json"
        )
    assert response.status_code == 204
    [record] = caplog.records
    assert record.csp_violation["directive"] == "style-src-attr"
    assert record.csp_violation["disposition"] == "enforce"


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[1, 2]", b'{"csp-report": "x"}', b'{"a": 1}', b"\xff\xfe"]
)
def test_the_report_endpoint_ignores_what_is_not_a_report(client, caplog, body):
    with caplog.at_level(logging.WARNING, logger="reviewapp.csp"):
        response = client.post("/csp-report/", body, content_type="application/csp-report")
    assert response.status_code == 204
    assert caplog.records == []


def test_the_report_endpoint_refuses_large_bodies_and_gets(client, caplog):
    big = json.dumps({"csp-report": {"blocked-uri": "x" * 70_000}})
    with caplog.at_level(logging.WARNING, logger="reviewapp.csp"):
        assert (
            client.post("/csp-report/", big, content_type="application/csp-report").status_code
            == 413
        )
    assert client.get("/csp-report/").status_code == 405
    assert [r for r in caplog.records if r.name == "reviewapp.csp"] == []


def test_the_report_endpoint_is_throttled_per_address(client, settings, caplog):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"csp_report": "3/minute"},
    }
    body = json.dumps({"csp-report": {"blocked-uri": "inline"}})
    codes = [
        client.post("/csp-report/", body, content_type="application/csp-report").status_code
        for _ in range(5)
    ]
    assert codes == [204, 204, 204, 429, 429]


def test_the_only_inline_style_it_admits_is_the_empty_one(client):
    """A hash in style-src admits a <style> element with exactly that content: it must stay the
    empty string's, or the policy would admit some real inline stylesheet."""
    empty = "'sha256-" + base64.b64encode(hashlib.sha256(b"").digest()).decode() + "'"
    sources = _directives(client.get("/accounts/login/")["Content-Security-Policy"])["style-src"]
    assert sources.split() == ["'self'", empty]


def test_only_the_browsable_api_admits_inline_styles(client, populated):
    client.force_login(populated.lead)
    url = f"/api/reviews/{populated.review.pk}/"
    html = _directives(client.get(url, HTTP_ACCEPT="text/html")["Content-Security-Policy"])
    assert html["style-src"] == "'self' 'unsafe-inline'"
    assert html["script-src"] == "'self'" and html["default-src"] == "'self'"
    data = _directives(client.get(url, HTTP_ACCEPT="application/json")["Content-Security-Policy"])
    assert "unsafe-inline" not in data["style-src"]
