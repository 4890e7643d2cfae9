"""Content-Security-Policy: the header (django-csp, configured in settings) and the endpoint that
browsers report violations to (docs/security.md).

Browsers send violations in two formats: `report-uri` posts one `{"csp-report": {...}}` object
(application/csp-report), the Reporting API (`report-to`, Chromium) posts a list of
`{"type": "csp-violation", "body": {...}}` (application/reports+json). Both end in the log, one
line per violation, so a page that breaks the policy in production shows up there.
"""

import json
import logging
from typing import Any

from csp.constants import HEADER
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from reviewapp.common.throttles import CspReportThrottle

logger = logging.getLogger("reviewapp.csp")

REPORT_ENDPOINT_NAME = "csp"
# A report is a few hundred bytes; a bigger body is not a browser's report.
MAX_REPORT_BYTES = 64 * 1024
MAX_VIOLATIONS_PER_REPORT = 20
# The fields worth a log line, in both formats' spellings (report-uri's kebab-case first).
FIELDS = {
    "document": ("document-uri", "documentURL"),
    "directive": ("effective-directive", "effectiveDirective"),
    "blocked": ("blocked-uri", "blockedURL"),
    "source": ("source-file", "sourceFile"),
    "line": ("line-number", "lineNumber"),
    "sample": ("script-sample", "sample"),
    "disposition": ("disposition", "disposition"),
}


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, plus the Reporting-Endpoints header that names the endpoint the
    policy's `report-to` directive refers to."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response = super().process_response(request, response)
        if HEADER in response and "Reporting-Endpoints" not in response:
            # Relative: browsers resolve it against the page, and the host is not trusted here
            # (this also runs on the 400 answer to a disallowed Host header).
            response["Reporting-Endpoints"] = f'{REPORT_ENDPOINT_NAME}="{reverse("csp_report")}"'
        return response


def violations_from(body: bytes) -> list[dict[str, str]]:
    """The violations a report body holds, each reduced to FIELDS (strings, cut to 300
    characters); [] for anything that is not a CSP report."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    if isinstance(data, dict) and isinstance(data.get("csp-report"), dict):
        raw = [data["csp-report"]]
    elif isinstance(data, list):
        raw = [
            entry["body"]
            for entry in data
            if isinstance(entry, dict)
            and entry.get("type") == "csp-violation"
            and isinstance(entry.get("body"), dict)
        ]
    else:
        raw = []
    return [_fields(r) for r in raw[:MAX_VIOLATIONS_PER_REPORT]]


def _fields(report: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name, spellings in FIELDS.items():
        value = next((report[s] for s in spellings if report.get(s) not in (None, "")), "")
        out[name] = str(value)[:300]
    return out


@csrf_exempt  # browsers post reports without a token; the endpoint only writes a log line
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    throttle = CspReportThrottle()
    if not throttle.allow_request(request, None):
        return HttpResponse(status=429)
    body = request.read(MAX_REPORT_BYTES + 1)
    if len(body) > MAX_REPORT_BYTES:
        return HttpResponse(status=413)
    for violation in violations_from(body):
        logger.warning(
            "CSP violation: %(directive)s blocked %(blocked)s on %(document)s "
            "(%(source)s:%(line)s) %(sample)s",
            violation,
            extra={"csp_violation": violation},
        )
    return HttpResponse(status=204)
