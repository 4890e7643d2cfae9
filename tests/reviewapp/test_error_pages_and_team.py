"""Issue 11, roles and team, errors and permissions: a styled page inside the app's layout that
says which role an action needs and who the leads are; an honest team count; roles chosen
explicitly; no favicon 404."""

import pytest

from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_missing_role_gets_a_page_that_names_the_role_and_the_leads(
    client_for, review, viewer, lead
):
    response = client_for(viewer).get(f"/reviews/{review.pk}/settings/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "needs the <strong>Lead</strong> role" in body
    assert lead.username in body and lead.email in body
    assert "Viewer" in body  # what the visitor is now
    assert 'class="top"' in body  # inside the app's layout, with navigation
    assert f'href="/reviews/{review.pk}/"' in body


def test_an_unknown_page_gets_a_404_inside_the_layout(client_for, viewer):
    response = client_for(viewer).get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert 'class="top"' in body and "Page not found" in body


def test_a_server_error_page_is_inside_the_layout(client, settings):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert 'class="top"' in html and "went wrong" in html


def test_the_review_list_counts_the_whole_team(client_for, review, lead, screener_a, viewer):
    for _ in range(2):
        MembershipFactory(review=review, user=UserFactory())
    response = client_for(lead).get("/")
    assert response.status_code == 200
    listed = {r.pk: r for r in response.context["reviews"]}
    assert listed[review.pk].team_size == 5


def test_the_invitation_form_ticks_no_role_and_explains_each(client_for, review, lead):
    response = client_for(lead).get(f"/reviews/{review.pk}/team/")
    body = response.content.decode()
    assert 'value="reviewer" checked' not in body
    assert "read-only" in body and "resolves conflicts" in body.lower()


def test_inviting_without_a_role_is_refused_with_a_message(client_for, review, lead):
    response = client_for(lead).post(
        f"/reviews/{review.pk}/team/invite/", {"who": "new@uni.example"}, follow=True
    )
    assert "Choose at least one role" in response.content.decode()
    assert not review.invitations.exists()


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code in (200, 301, 302)
