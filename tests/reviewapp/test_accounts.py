"""Probe findings 5 and 6, and the accounts that answer them.

5. Login and the token endpoint accepted unlimited wrong passwords; the API had no throttling.
6. API tokens survived logout and password change, and could not be listed, revoked or rotated.
"""

import re
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from reviewapp import accounts
from reviewapp.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counts live in the cache, keyed by address or user; start each test at zero."""
    cache.delete_many([f"throttle_{s}_127.0.0.1" for s in ("anon", "login")])


@pytest.fixture
def rates(settings):
    # Throttle history lives in the shared cache: a prefix of this test's own starts it empty,
    # whatever earlier tests (or another run on the same Redis) requested in the last minute.
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}"}
        for name, config in settings.CACHES.items()
    }

    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }

    return set_rates


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _token(client, username, password, **extra):
    return client.post("/api/auth/token/", {"username": username, "password": password, **extra})


def _works(token: str) -> bool:
    response = Client().get("/api/reviews/", HTTP_AUTHORIZATION=f"Token {token}")
    return response.status_code == 200


# --- finding 5: guessing passwords ----------------------------------------------------------


def test_the_login_page_locks_a_username_out_after_repeated_wrong_passwords(client, settings):
    user = UserFactory(username="ana")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "ana", "wrong").status_code == 200
    locked = _login(client, "ana", "wrong")
    assert locked.status_code == 429 and b"Too many failed logins" in locked.content
    # Even the right password is refused until the lockout ends.
    assert _login(client, "ana", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked out.
    UserFactory(username="ben")
    assert _login(client, "ben", PASSWORD).status_code == 302
    assert user.pk


def test_the_token_endpoint_locks_out_the_same_way(client, settings):
    UserFactory(username="ana")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _token(client, "ana", "wrong").status_code == 400
    assert _token(client, "ana", "wrong").status_code == 429
    refused = _token(client, "ana", PASSWORD)
    assert refused.status_code == 429 and "Too many failed logins" in refused.json()["detail"]
    assert not ApiToken.objects.exists()


def test_a_successful_login_clears_the_failures(client, settings):
    UserFactory(username="ana")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "ana", "wrong")
    assert _login(client, "ana", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "ana", "wrong").status_code == 200


def test_logins_from_one_address_are_throttled_whatever_the_username(client, rates):
    rates(login="3/minute")
    for n in range(3):
        assert _login(client, f"user{n}", "wrong").status_code == 200
    refused = _login(client, "someone-else", "wrong")
    assert refused.status_code == 429 and "Retry-After" in refused
    assert _token(client, "someone-else", "wrong").status_code == 429


def test_the_api_throttles_anonymous_and_signed_in_clients(api_for, rates):
    rates(anon="2/minute", user="3/minute")
    anonymous = Client()
    assert [anonymous.get("/api/schema/").status_code for _ in range(3)] == [200, 200, 429]
    api = api_for(UserFactory(username="busy"))
    assert [api.get("/api/reviews/").status_code for _ in range(4)] == [200, 200, 200, 429]
    # Each signed-in user has their own allowance.
    assert api_for(UserFactory(username="calm")).get("/api/reviews/").status_code == 200


# --- finding 6: tokens that outlive what they should ----------------------------------------


def test_the_token_endpoint_issues_a_named_token_stored_as_a_digest(client):
    ana = UserFactory(username="ana")
    response = _token(client, "ana", PASSWORD, name="R on my laptop")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "R on my laptop" and body["token"].startswith("rv_")
    assert _works(body["token"])
    stored = ApiToken.objects.get(user=ana)
    assert body["token"] not in (stored.digest, stored.token_key)
    assert stored.last_used_at is not None


def test_a_password_change_revokes_every_token(client):
    ana = UserFactory(username="ana")
    _, plain = accounts.api_token_create(user=ana, name="script")
    _, other = accounts.api_token_create(user=ana, name="laptop")
    client.force_login(ana)
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-phrase",
            "new_password2": "another-long-phrase",
        },
    )
    assert response.status_code == 302
    assert not _works(plain) and not _works(other)
    assert not ApiToken.objects.filter(user=ana).exists()


def test_a_password_reset_revokes_every_token(client):
    ana = UserFactory(username="ana")
    _, plain = accounts.api_token_create(user=ana, name="script")
    client.post("/accounts/password/reset/", {"email": ana.email})
    link = re.search(r"/accounts/reset/\S+/\S+/", mail.outbox[-1].body)[0]
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "another-long-phrase", "new_password2": "another-long-phrase"},
    )
    ana.refresh_from_db()
    assert ana.check_password("another-long-phrase")
    assert not _works(plain)


def test_a_password_set_anywhere_else_revokes_tokens_too():
    """The admin and `manage.py changepassword` save passwords without our views."""
    ana = UserFactory(username="ana")
    _, plain = accounts.api_token_create(user=ana, name="script")
    ana.set_password("another-long-phrase")
    ana.save()
    assert not _works(plain)


def test_logging_out_of_the_browser_leaves_script_tokens_alone(client):
    ana = UserFactory(username="ana")
    _, plain = accounts.api_token_create(user=ana, name="script")
    client.force_login(ana)
    client.post("/accounts/logout/")
    assert _works(plain)


def test_an_expired_token_is_refused():
    ana = UserFactory(username="ana")
    token, plain = accounts.api_token_create(user=ana, name="short", days=7)
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert not _works(plain)


def test_the_tokens_page_creates_shows_once_rotates_and_revokes(client):
    ana = UserFactory(username="ana")
    client.force_login(ana)
    assert b"API tokens" in client.get("/").content  # in the account menu
    created = client.post("/accounts/tokens/", {"name": "R on my laptop", "days": 30}, follow=True)
    plain = re.search(r'id="new-token-value">([^<]+)<', created.content.decode())[1]
    assert _works(plain)
    again = client.get("/accounts/tokens/").content.decode()
    assert plain not in again and "R on my laptop" in again
    assert "<script>" not in again and "onsubmit" not in again
    key = ApiToken.objects.get(user=ana).token_key
    rotated = client.post(f"/accounts/tokens/{key}/rotate/", follow=True).content.decode()
    fresh = re.search(r'id="new-token-value">([^<]+)<', rotated)[1]
    assert not _works(plain) and _works(fresh)
    assert ApiToken.objects.get(user=ana).name == "R on my laptop"
    key = ApiToken.objects.get(user=ana).token_key
    client.post(f"/accounts/tokens/{key}/revoke/")
    assert not _works(fresh)
    accounts.api_token_create(user=ana, name="one")
    accounts.api_token_create(user=ana, name="two")
    client.post("/accounts/tokens/revoke-all/")
    assert not ApiToken.objects.filter(user=ana).exists()


def test_someone_elses_token_cannot_be_revoked_or_rotated(client, api_for):
    ana, ben = UserFactory(username="ana"), UserFactory(username="ben")
    token, plain = accounts.api_token_create(user=ana, name="script")
    client.force_login(ben)
    client.post(f"/accounts/tokens/{token.token_key}/revoke/")
    client.post(f"/accounts/tokens/{token.token_key}/rotate/")
    api = api_for(ben)
    assert api.delete(f"/api/auth/tokens/{token.token_key}/").status_code == 400
    assert api.post(f"/api/auth/tokens/{token.token_key}/rotate/").status_code == 400
    assert _works(plain)


def test_tokens_through_the_api(client):
    ana = UserFactory(username="ana")
    first = _token(client, "ana", PASSWORD, name="ci").json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Token {first}"}
    listed = client.get("/api/auth/tokens/", **auth).json()
    assert [t["name"] for t in listed] == ["ci"]
    # A token cannot mint others (they would outlive its revocation) ...
    minted = client.post("/api/auth/tokens/", {"name": "more"}, **auth)
    assert minted.status_code == 403
    # ... a browser session can.
    session = Client()
    session.force_login(ana)
    made = session.post("/api/auth/tokens/", {"name": "from the browser", "days": 0})
    assert made.status_code == 201 and made.json()["expires_at"] is None
    key = listed[0]["key"]
    rotated = client.post(f"/api/auth/tokens/{key}/rotate/", **auth)
    assert rotated.status_code == 200 and rotated.json()["name"] == "ci"
    assert not _works(first)
    second = rotated.json()["token"]
    response = client.delete(
        f"/api/auth/tokens/{rotated.json()['key']}/", HTTP_AUTHORIZATION=f"Token {second}"
    )
    assert response.status_code == 204
    assert not _works(second)
