"""Walk every route: a review-scoped page or endpoint added without the permission layer fails.

Outsiders get 404 (a review's existence is not revealed), viewers get 403 on every write, and
anonymous visitors are sent to log in. Every URL keyword is filled with the real id of an
object of that kind in a fully populated review (tests/populated.py), and a lead of one review
who puts another review's ids into their own review's URLs gets 404 too: so a 404 here means
refused, never "no such row".
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.populated import API_COLLECTIONS, PAGE_STRING_KWARGS, STRING_KWARGS, populate

# Routes that are not about one review, each for a reason.
NOT_REVIEW_SCOPED = {
    "review_list",  # lists only the user's own reviews
    "review_create",  # anyone signed in may start a review
    "healthz",
    "csp_report",  # browsers report policy violations here, signed in or not
    "favicon",  # a static icon
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
    "api_tokens",  # the signed-in user's own tokens
    "api_tokens_revoke_all",
    "api_token_rotate",
    "api_token_revoke",
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


KWARG = re.compile(r"<(?:(\w+):)?(\w+)>")


def _fill(route: str, ids: dict[str, int], review_pk: int | None = None) -> str:
    """The route with the review's pk and, for every other keyword, the real id of an object of
    that kind (of `ids`' review, tests/populated.py): a missing kind fails here, by name."""
    path = route.replace("^", "").replace("$", "").replace("\\Z", "")

    def value(match: re.Match[str]) -> str:
        name = match.group(2)
        if name == "review_pk":
            return str(review_pk if review_pk is not None else ids["review_pk"])
        for (where, kwarg), text in PAGE_STRING_KWARGS.items():
            if kwarg == name and where in path:
                return str(ids[text]) if text in ids else text
        if name in STRING_KWARGS:
            return STRING_KWARGS[name]
        assert name in ids, f"no real object for <{name}> in {route}: add one to tests/populated.py"
        return str(ids[name])

    return "/" + KWARG.sub(value, path)


def _has_object_kwarg(route: str) -> bool:
    """Does the route (a page's or the schema's) name an object beyond the review?"""
    names = [m.group(2) for m in KWARG.finditer(route)] + re.findall(r"\{(\w+)\}", route)
    return any(n not in ("review_pk", *STRING_KWARGS) for n in names)


@pytest.fixture
def other(db, django_capture_on_commit_callbacks):
    """Another team's review, populated (its analysis computed), that the personas are not on."""
    with django_capture_on_commit_callbacks(execute=True):
        return populate("other")


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
def test_the_real_ids_are_reachable_by_their_own_team(client, other):
    """Otherwise a 404 below could mean 'no such row' instead of 'refused'."""
    client.force_login(other.lead)
    missing = []
    for route, _entry in _page_routes():
        if "review_pk" in route:
            url = _fill(route, other.ids)
            if client.get(url).status_code == 404:
                missing.append(url)
    assert missing == []
    api = APIClient()
    api.force_authenticate(other.lead)
    missing = []
    for path, method in _api_operations():
        if "{review_pk}" in path and method == "GET":
            url = _fill_api(path, other.ids)
            if api.get(url).status_code == 404:
                missing.append(url)
    assert missing == []


@pytest.mark.django_db
def test_outsiders_get_404_on_every_review_page(client, other, outsider):
    client.force_login(outsider)
    checked = 0
    for route, _entry in _page_routes():
        if "review_pk" not in route:
            continue
        url = _fill(route, other.ids)
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url
        checked += 1
    assert checked >= 80


@pytest.mark.django_db
def test_a_lead_cannot_reach_another_reviews_objects_through_their_own_review(
    client, review, lead, other
):
    """The lead of `review` puts the other review's real ids into their own review's URLs."""
    client.force_login(lead)
    checked, answered = 0, []
    for route, _entry in _page_routes():
        if "review_pk" not in route or not _has_object_kwarg(route):
            continue
        url = _fill(route, other.ids, review_pk=review.pk)
        # 405: a POST-only page refuses GET before it looks anything up, whatever the id.
        answered += [("GET", url, s) for s in [client.get(url).status_code] if s not in (404, 405)]
        answered += [("POST", url, s) for s in [client.post(url).status_code] if s != 404]
        checked += 1
    assert answered == [], "\n".join(map(str, answered))
    assert checked >= 40


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client, other):
    for route, _entry in _page_routes():
        if "review_pk" not in route:
            continue
        response = client.get(_fill(route, other.ids))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_viewers_get_403_on_pages_needing_a_role(client, other):
    client.force_login(other.viewer)
    checked = 0
    for route, entry in _page_routes():
        if "review_pk" in route and entry.callback.review_role != "viewer":
            url = _fill(route, other.ids)
            assert client.post(url).status_code == 403, url
            checked += 1
    assert checked >= 5


def _api_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method in operations:
            yield path, method.upper()


def _fill_api(path: str, ids: dict[str, int], review_pk: int | None = None) -> str:
    """The schema path with real ids: `{id}` takes the id of the collection before it."""
    filled = path.replace(
        "{review_pk}", str(review_pk if review_pk is not None else ids["review_pk"])
    )
    for name, value in STRING_KWARGS.items():
        filled = filled.replace("{" + name + "}", value)
    for match in re.finditer(
        r"/api/reviews/\d+/(?P<collection>[\w/-]+?)/\{(?:id|outcome_id)\}", filled
    ):
        kwarg = API_COLLECTIONS.get(match["collection"])
        assert kwarg, f"no real object for {path}: add its collection to tests/populated.py"
        filled = re.sub(r"\{(?:id|outcome_id)\}", str(ids[kwarg]), filled, count=1)
    assert "{" not in filled, f"unfilled parameter in {path}"
    return filled


def test_every_api_operation_is_review_scoped_or_explicitly_open():
    open_paths = {
        "/api/reviews/",
        "/api/auth/token/",
        "/api/invitations/accept/",
        # The signed-in user's own tokens.
        "/api/auth/tokens/",
        "/api/auth/tokens/{key}/",
        "/api/auth/tokens/{key}/rotate/",
    }
    stray = [
        (path, method)
        for path, method in _api_operations()
        if "{review_pk}" not in path and path not in open_paths
    ]
    assert stray == []


@pytest.mark.django_db
def test_outsiders_get_404_on_every_review_endpoint(api_for, other, outsider):
    api = api_for(outsider)
    operations = [(p, m) for p, m in _api_operations() if "{review_pk}" in p]
    assert len(operations) >= 10
    for path, method in operations:
        response = api.generic(method, _fill_api(path, other.ids))
        assert response.status_code == 404, (method, path, response.status_code)


@pytest.mark.django_db
def test_a_lead_cannot_reach_another_reviews_objects_through_their_own_endpoints(
    api_for, review, lead, other
):
    api = api_for(lead)
    checked, answered = 0, []
    for path, method in _api_operations():
        if "{review_pk}" not in path or not _has_object_kwarg(path):
            continue
        url = _fill_api(path, other.ids, review_pk=review.pk)
        status = api.generic(method, url).status_code
        if status != 404:
            answered.append((method, url, status))
        checked += 1
    assert answered == [], "\n".join(map(str, answered))
    assert checked >= 30


@pytest.mark.django_db
def test_viewers_get_403_on_every_review_write(api_for, other):
    api = api_for(other.viewer)
    for path, method in _api_operations():
        if "{review_pk}" in path and method not in {"GET", "HEAD", "OPTIONS"}:
            response = api.generic(method, _fill_api(path, other.ids))
            assert response.status_code == 403, (method, path, response.status_code)


@pytest.mark.django_db
def test_anonymous_api_calls_are_refused(client, other):
    for path, method in _api_operations():
        if "{review_pk}" in path:
            response = client.generic(method, _fill_api(path, other.ids))
            assert response.status_code in (401, 403), (method, path)
