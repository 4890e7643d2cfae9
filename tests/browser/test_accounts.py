"""Invitations and API tokens in a real browser: the link in the e-mail joins the review, and the
tokens page confirms before revoking (its script is a static file, as the CSP requires)."""

import re

import pytest
from django.core import mail

from reviewapp.models import ApiToken, Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, username, password="pass-word-123"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def test_an_invited_reviewer_follows_the_link_signs_up_and_lands_on_the_review(
    live_server, browser, review, lead, settings
):
    settings.SITE_URL = live_server.url
    lead_page = browser.new_page()
    _log_in(lead_page, live_server, "lead")
    lead_page.goto(f"{live_server.url}/reviews/{review.pk}/team/")
    lead_page.fill("#id_who", "new@uni.example")
    lead_page.check(
        "form:has(#id_who) input[name=roles][value=reviewer]"
    )  # no role is ticked in advance
    lead_page.click("button:has-text('Invite')")
    lead_page.get_by_text("Invitation sent to new@uni.example").wait_for()
    assert lead_page.locator("#invitations").inner_text().count("new@uni.example") == 1
    link = re.search(r"http\S+/invitations/\S+/", mail.outbox[-1].body)[0]

    guest = browser.new_page()
    guest.goto(link)
    guest.get_by_role("heading", name=f"Join “{review.title}”").wait_for()
    guest.click("text=Create an account")
    assert guest.input_value("#id_email") == "new@uni.example"
    guest.fill("#id_username", "newbie")
    guest.fill("#id_password1", "a-long-pass-phrase")
    guest.fill("#id_password2", "a-long-pass-phrase")
    guest.click("button[type=submit]")
    guest.get_by_text(f"You joined '{review.title}'").wait_for()
    assert Membership.objects.get(review=review, user__username="newbie").is_reviewer


def test_the_tokens_page_shows_a_new_token_once_and_asks_before_revoking(live_server, page, lead):
    _log_in(page, live_server, "lead")
    page.click("text=API tokens")
    page.fill("#id_name", "R on my laptop")
    page.click("button:has-text('Create token')")
    assert page.inner_text("#new-token-value").startswith("rv_")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#tokens button:has-text('Revoke')")
    assert ApiToken.objects.filter(user=lead).count() == 1  # dismissed: nothing revoked
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#tokens button:has-text('Revoke')")
    page.get_by_text("Token revoked.").wait_for()
    assert not ApiToken.objects.filter(user=lead).exists()
