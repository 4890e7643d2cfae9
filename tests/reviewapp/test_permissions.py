"""Walk every route: a review-scoped page or endpoint added without the permission layer fails.

Outsiders get 404 (a review's existence is not revealed), viewers get 403 on every write, and
anonymous visitors are sent to log in.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

# Routes that are not about one review, each for a reason.
NOT_REVIEW_SCOPED = {
    "review_list",  # lists only the user's own reviews
    "review_create",  # anyone signed in may start a review
    "healthz",
    "signup",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "schema",
    "api_docs",
    "api_token",
    "invitation_accept",  # the signed link decides; accepting needs the invited address
    "review-list",  # API: the user's own reviews, and create
}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django admin: staff only, its own permission system
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _page_routes():
    return [
        (route, entry)
        for route, entry in _walk(get_resolver().url_patterns)
        if not route.startswith("api/")
    ]


def _fill(route: str, review_pk: int) -> str:
    path = route.replace("^", "").replace("$", "").replace("\\Z", "")
    path = re.sub(r"<int:review_pk>", str(review_pk), path)
    path = re.sub(r"<int:\w+>", "1", path)
    path = re.sub(r"<(?:str:|slug:)?\w+>", "x", path)
    return "/" + path


def test_every_page_is_either_review_scoped_or_explicitly_open():
    unguarded = []
    for route, entry in _page_routes():
        if "review_pk" in route:
            if not hasattr(entry.callback, "review_role"):
                unguarded.append(route)
        elif entry.name not in NOT_REVIEW_SCOPED:
            unguarded.append(route)
    assert unguarded == []


@pytest.mark.django_db
def test_outsiders_get_404_on_every_review_page(client, review, lead, outsider):
    client.force_login(outsider)
    for route, _entry in _page_routes():
        if "review_pk" not in route:
            continue
        url = _fill(route, review.pk)
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client, review):
    for route, _entry in _page_routes():
        if "review_pk" not in route:
            continue
        response = client.get(_fill(route, review.pk))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_viewers_get_403_on_pages_needing_a_role(client, review, lead, viewer):
    client.force_login(viewer)
    checked = 0
    for route, entry in _page_routes():
        if "review_pk" in route and entry.callback.review_role != "viewer":
            url = _fill(route, review.pk)
            assert client.post(url).status_code == 403, url
            checked += 1
    assert checked >= 5


def _api_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method in operations:
            yield path, method.upper()


def _fill_api(path: str, review_pk: int) -> str:
    return re.sub(r"\{\w+\}", "1", path.replace("{review_pk}", str(review_pk)))


def test_every_api_operation_is_review_scoped_or_explicitly_open():
    open_paths = {"/api/reviews/", "/api/auth/token/", "/api/invitations/accept/"}
    stray = [
        (path, method)
        for path, method in _api_operations()
        if "{review_pk}" not in path and path not in open_paths
    ]
    assert stray == []


@pytest.mark.django_db
def test_outsiders_get_404_on_every_review_endpoint(api_for, review, lead, outsider):
    api = api_for(outsider)
    operations = [(p, m) for p, m in _api_operations() if "{review_pk}" in p]
    assert len(operations) >= 10
    for path, method in operations:
        response = api.generic(method, _fill_api(path, review.pk))
        assert response.status_code == 404, (method, path, response.status_code)


@pytest.mark.django_db
def test_viewers_get_403_on_every_review_write(api_for, review, lead, viewer):
    api = api_for(viewer)
    for path, method in _api_operations():
        if "{review_pk}" in path and method not in {"GET", "HEAD", "OPTIONS"}:
            response = api.generic(method, _fill_api(path, review.pk))
            assert response.status_code == 403, (method, path, response.status_code)


@pytest.mark.django_db
def test_anonymous_api_calls_are_refused(client, review):
    for path, method in _api_operations():
        if "{review_pk}" in path:
            response = client.generic(method, _fill_api(path, review.pk))
            assert response.status_code in (401, 403), (method, path)
