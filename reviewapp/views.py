"""Pages for accounts, reviews and teams. Thin: validate, call a service or selector, render."""

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from reviewapp import accounts, selectors, services
from reviewapp.archive.selectors import archive_status
from reviewapp.common.pages import call_and_redirect
from reviewapp.common.permissions import review_view
from reviewapp.common.throttles import LoginThrottle
from reviewapp.demo import DEMO_PASSWORD
from reviewapp.errors import DomainError
from reviewapp.forms import (
    ROLE_CHOICES,
    ApiTokenForm,
    InviteForm,
    ReviewForm,
    RolesForm,
    SignupForm,
)
from reviewapp.models import Invitation, Membership, Review, Role
from screening.selectors import library_counts

logger = logging.getLogger(__name__)


def signup(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("invitation") or request.GET.get("invitation", "")
    invitation = None
    if token:
        try:
            invitation = services.invitation_from_token(token)
        except DomainError as exc:
            messages.error(request, exc.message)
            token = ""
    form = SignupForm(request.POST or None, invited_email=invitation.email if invitation else "")
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_signup(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                invitation_token=token,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if invitation is not None:
                messages.success(
                    request,
                    f"Welcome, {user.get_username()}. You joined '{invitation.review.title}'.",
                )
                return redirect("review_detail", review_pk=invitation.review_id)
            messages.success(request, f"Welcome, {user.get_username()}.")
            return redirect("review_list")
    context = {"form": form, "invitation": invitation, "token": token}
    return render(request, "registration/signup.html", context)


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation e-mail: who invited you to what, and how to accept."""
    error, status, invitation = "", 200, None
    try:
        invitation = services.invitation_from_token(token)
    except services.InvitationLinkInvalid as exc:
        error, status = exc.message, 404
    except DomainError as exc:
        error, status = exc.message, 410
    if invitation is not None and request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            joined = services.invitation_accept(token=token, user=request.user)
        except DomainError as exc:
            error, status = exc.message, 400
        else:
            messages.success(request, f"You joined '{joined.review.title}'.")
            return redirect("review_detail", review_pk=joined.review_id)
    user = request.user
    context = {
        "invitation": invitation,
        "token": token,
        "error": error,
        "is_for_you": bool(
            invitation
            and user.is_authenticated
            and (user.email or "").lower() == invitation.email.lower()
        ),
    }
    return render(request, "registration/invitation.html", context, status=status)


@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    context = {
        "reviews": selectors.reviews_for_user(user=request.user),
        "deleted": selectors.deleted_reviews_for_lead(user=request.user),
    }
    return render(request, "reviewapp/review_list.html", context)


@login_required
def review_create(request: HttpRequest) -> HttpResponse:
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review = services.review_create(created_by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, "Review created. Import your search results next.")
            return redirect("review_detail", review_pk=review.pk)
    return render(request, "reviewapp/review_form.html", {"form": form, "creating": True})


@review_view()
def review_detail(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    context = {
        "review": review,
        "membership": membership,
        "counts": library_counts(review=review),
        "team": selectors.team(review=review),
    }
    return render(request, "reviewapp/review_detail.html", context)


@review_view(Role.LEAD)
def review_settings(
    request: HttpRequest, *, review: Review, membership: Membership
) -> HttpResponse:
    initial = {name: getattr(review, name) for name in services.REVIEW_FIELDS}
    form = ReviewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_update(review=review, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, "Review settings saved.")
            return redirect("review_detail", review_pk=review.pk)
    context = {
        "form": form,
        "review": review,
        "creating": False,
        "archive": archive_status(review=review),
        "retention_days": settings.REVIEW_RETENTION_DAYS,
    }
    return render(request, "reviewapp/review_form.html", context)


@review_view(Role.LEAD)
@require_POST
def review_delete(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    if request.POST.get("confirm_title", "").strip() != review.title.strip():
        messages.error(request, "Type the review's title exactly to confirm deleting it.")
        return redirect("review_settings", review_pk=review.pk)
    review = services.review_delete(review=review, deleted_by=request.user)
    messages.success(
        request,
        f"'{review.title}' was deleted. You can restore it from Deleted reviews below until "
        f"{review.purge_after:%-d %B %Y}.",
    )
    return redirect("review_list")


@review_view(Role.LEAD, include_deleted=True)
def review_restore(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    if request.method != "POST" or review.deleted_at is None:
        # A second click, or a bookmark: the review is already there.
        return redirect("review_detail", review_pk=review.pk)
    return call_and_redirect(
        request,
        lambda: services.review_restore(review=review),
        to=reverse("review_detail", args=[review.pk]),
        error_to=reverse("review_list"),
        success=f"'{review.title}' was restored.",
    )


def _render_team(
    request: HttpRequest,
    review: Review,
    membership: Membership,
    form: InviteForm,
    status: int = 200,
) -> HttpResponse:
    context = {
        "review": review,
        "membership": membership,
        "team": selectors.team(review=review),
        "invitations": selectors.pending_invitations(review=review),
        "form": form,
        "role_choices": ROLE_CHOICES,
        "invitation_days": settings.INVITATION_DAYS,
    }
    return render(request, "reviewapp/team.html", context, status=status)


@review_view()
def team_page(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    return _render_team(request, review, membership, InviteForm())


@review_view(Role.LEAD)
@require_POST
def team_invite(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.membership_invite(
                review=review,
                invited_by=request.user,
                who=form.cleaned_data["who"],
                roles=form.cleaned_data["roles"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.email}. They join when they follow the link "
                "in it.",
            )
    else:
        # Keep what was typed and say beside each field what is missing.
        return _render_team(request, review, membership, form, status=400)
    return redirect("team", review_pk=review.pk)


@review_view(Role.LEAD)
@require_POST
def team_set_roles(
    request: HttpRequest, *, review: Review, membership: Membership, membership_pk: int
) -> HttpResponse:
    target = get_object_or_404(Membership, pk=membership_pk, review=review)
    form = RolesForm(request.POST)
    if form.is_valid():
        try:
            services.membership_set_roles(membership=target, roles=form.cleaned_data["roles"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Roles of {target.user.get_username()} updated.")
    return redirect("team", review_pk=review.pk)


@review_view(Role.LEAD)
@require_POST
def team_remove(
    request: HttpRequest, *, review: Review, membership: Membership, membership_pk: int
) -> HttpResponse:
    target = get_object_or_404(Membership, pk=membership_pk, review=review)
    return call_and_redirect(
        request,
        lambda: services.membership_remove(membership=target),
        to=reverse("team", args=[review.pk]),
        success=f"{target.user.get_username()} was removed from the team.",
    )


@review_view(Role.LEAD)
@require_POST
def invitation_resend(
    request: HttpRequest, *, review: Review, membership: Membership, invitation_pk: int
) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_pk, review=review)
    return call_and_redirect(
        request,
        lambda: services.invitation_resend(invitation=invitation),
        to=reverse("team", args=[review.pk]),
        success=f"A new link was sent to {invitation.email}.",
    )


@review_view(Role.LEAD)
@require_POST
def invitation_revoke(
    request: HttpRequest, *, review: Review, membership: Membership, invitation_pk: int
) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_pk, review=review)
    try:
        services.invitation_revoke(invitation=invitation)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    return redirect("team", review_pk=review.pk)


@review_view(Role.LEAD)
def review_history(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    entries = selectors.review_history(review=review, user=request.user)
    return render(request, "reviewapp/history.html", {"review": review, "entries": entries})


def healthz(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """Healthy only when pages can be served: the database answers and a template that names a
    static file renders (with the production manifest storage, that needs collected files)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        body = render_to_string("reviewapp/healthz.html")
    except Exception as exc:  # whatever breaks pages breaks this: say so, with a 503
        logger.exception("health check failed")
        return HttpResponse(
            f"unhealthy: {type(exc).__name__}", status=503, content_type="text/plain"
        )
    return HttpResponse(body.strip(), content_type="text/plain")


# --- accounts: logins and API tokens --------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Django's login page, throttled per client address (django-axes also locks out one
    username from one address after repeated wrong passwords). On a demo install it also names
    the demo logins."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_logins"] = selectors.demo_logins()
        # The demo password is public (README); it is shown only beside the demo users.
        context["demo_password"] = DEMO_PASSWORD
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        throttle = LoginThrottle()
        if not throttle.allow_request(request, self):
            wait = int(throttle.wait() or 60)
            response = render(
                request,
                "registration/locked_out.html",
                {"message": f"Too many login attempts from your address: wait {wait} seconds."},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens: create (shown once), rotate, revoke."""
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, plain = accounts.api_token_create(
                user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return _show_once(request, token, plain, "created")
    context = {
        "form": form,
        "tokens": selectors.api_tokens(user=request.user),
        # The plain token lives in the server-side session for this one page view.
        "new_token": request.session.pop("new_api_token", None),
    }
    return render(request, "registration/api_tokens.html", context)


def _show_once(request: HttpRequest, token: Any, plain: str, done: str) -> HttpResponse:
    request.session["new_api_token"] = {"name": token.name, "token": plain}
    messages.success(request, f"Token '{token.name}' {done}. Copy it now: it is shown only once.")
    return redirect("api_tokens")


@login_required
@require_POST
def api_token_rotate(request: HttpRequest, key: str) -> HttpResponse:
    try:
        token, plain = accounts.api_token_rotate(user=request.user, key=key)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("api_tokens")
    return _show_once(request, token, plain, "replaced; the old one no longer works")


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, key: str) -> HttpResponse:
    try:
        accounts.api_token_revoke(user=request.user, key=key)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Token revoked.")
    return redirect("api_tokens")


@login_required
@require_POST
def api_tokens_revoke_all(request: HttpRequest) -> HttpResponse:
    count = accounts.api_tokens_revoke_all(user=request.user)
    messages.success(request, f"{count} token{'s' if count != 1 else ''} revoked.")
    return redirect("api_tokens")
