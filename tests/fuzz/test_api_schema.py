"""schemathesis against the OpenAPI schema, in process, signed in as the lead of a populated
review: generated requests to every operation get no 5xx and responses that match the schema.

One test walks every operation so the populated review is built once; each generated request
runs in a savepoint that is rolled back, so a DELETE early on does not empty the review for the
operations after it. `API_FUZZ_EXAMPLES` (default 8) bounds the examples per operation;
FUZZ_RANDOM=1 explores beyond CI's fixed seed.
"""

import os
import random

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from reviewapp.accounts import api_token_create
from reviewapp.archive.scope import review_rows

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "8"))
ONLY = os.environ.get("API_FUZZ_ONLY", "")  # e.g. "GET /api/reviews/{review_pk}/records/"
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


class _Rollback(Exception):
    pass


def _schema():
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


def _real_ids(review_id: int) -> list[int]:
    found = review_rows(review_id).pks
    return sorted({pk for label, pks in found.items() if "historical" not in label for pk in pks})


def _fuzz(operation, review_id: int, ids: list[int], headers: dict[str, str]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=os.environ.get("FUZZ_RANDOM") != "1",
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case):
        params = case.path_parameters or {}
        for name in params:
            if name == "review_pk":
                params[name] = review_id
            elif random.Random(repr(case.body) + name).random() < 0.7:
                # Mostly ids of the review's own rows, so requests reach the code behind the 404.
                params[name] = random.Random(repr(params)).choice(ids)
        try:
            with transaction.atomic():
                response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS)
                raise _Rollback
        except _Rollback:
            pass

    run()


@pytest.fixture
def keep_the_test_connection():
    """The WSGI handler closes the database connection after each request, which would end the
    test's transaction; Django's own test client disconnects the same receivers."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.timeout(900)  # ~100 s with the CI budget; a timeout mid-query breaks the connection
def test_every_operation_answers_without_5xx_and_as_documented(
    populated_review, keep_the_test_connection
):
    from django.contrib.auth import get_user_model

    lead = get_user_model().objects.get(username="lead")
    _token, plain = api_token_create(user=lead, name="schemathesis")
    headers = {"Authorization": f"Token {plain}"}
    ids = _real_ids(populated_review.pk)
    failures: list[str] = []
    operations = 0
    for result in _schema().get_all_operations():
        operation = result.ok()
        if ONLY and ONLY not in f"{operation.method.upper()} {operation.path}":
            continue
        operations += 1
        try:
            _fuzz(operation, populated_review.pk, ids, headers)
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert operations >= (1 if ONLY else 30)
    assert failures == [], "\n\n".join(failures)
