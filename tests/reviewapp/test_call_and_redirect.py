"""reviewapp.common.pages.call_and_redirect: one service call, its message, one redirect."""

from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.test import RequestFactory

from reviewapp.common.pages import call_and_redirect
from reviewapp.errors import DomainError


def _request():
    request = RequestFactory().post("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _refuse():
    raise DomainError("Not now.")


def test_it_hands_the_result_to_on_success_and_redirects_by_the_result():
    request, seen = _request(), []

    response = call_and_redirect(
        request,
        lambda: 7,
        to=lambda n: f"/done/{n}/",
        error_to="/form/",
        success=lambda n: f"Made {n}.",
        on_success=seen.append,
    )

    assert response["Location"] == "/done/7/"
    assert seen == [7]
    assert [str(m) for m in get_messages(request)] == ["Made 7."]


def test_a_refusal_flashes_its_message_skips_on_success_and_goes_to_error_to():
    request, seen = _request(), []

    response = call_and_redirect(
        request,
        _refuse,
        to="/done/",
        error_to="/form/",
        error_prefix="Import: ",
        on_success=seen.append,
    )

    assert response["Location"] == "/form/"
    assert seen == []
    assert [str(m) for m in get_messages(request)] == ["Import: Not now."]
