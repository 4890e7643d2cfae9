"""Pages for accounts, reviews and teams. Thin: validate, call a service or selector, render."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from reviewapp import selectors, services
from reviewapp.archive.selectors import archive_status
from reviewapp.common.permissions import review_view
from reviewapp.errors import DomainError
from reviewapp.forms import InviteForm, ReviewForm, RolesForm, SignupForm
from reviewapp.models import Invitation, Membership, Review, Role
from screening.selectors import library_counts


def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_signup(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}.")
        return redirect("review_list")
    return render(request, "registration/signup.html", {"form": form})


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


@review_view(Role.LEAD, deleted=True)
@require_POST
def review_restore(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    try:
        services.review_restore(review=review)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("review_list")
    messages.success(request, f"'{review.title}' was restored.")
    return redirect("review_detail", review_pk=review.pk)


@review_view()
def team_page(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    form = InviteForm()
    context = {
        "review": review,
        "membership": membership,
        "team": selectors.team(review=review),
        "invitations": selectors.pending_invitations(review=review),
        "form": form,
        "role_choices": RolesForm.base_fields["roles"].choices,  # type: ignore[attr-defined]
    }
    return render(request, "reviewapp/team.html", context)


@review_view(Role.LEAD)
@require_POST
def team_invite(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            added = services.membership_invite(
                review=review,
                invited_by=request.user,
                who=form.cleaned_data["who"],
                roles=form.cleaned_data["roles"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if isinstance(added, Invitation):
                messages.success(request, f"Invitation sent to {added.email}.")
            else:
                messages.success(request, f"{added.user.get_username()} joined the team.")
    else:
        messages.error(request, "Give a username or e-mail and at least one role.")
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
    try:
        services.membership_remove(membership=target)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{target.user.get_username()} was removed from the team.")
    return redirect("team", review_pk=review.pk)


@review_view(Role.LEAD)
@require_POST
def invitation_cancel(
    request: HttpRequest, *, review: Review, membership: Membership, invitation_pk: int
) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_pk, review=review, accepted_at=None)
    services.invitation_cancel(invitation=invitation)
    messages.success(request, f"Invitation to {invitation.email} cancelled.")
    return redirect("team", review_pk=review.pk)


@review_view(Role.LEAD)
def review_history(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    entries = selectors.review_history(review=review)
    return render(request, "reviewapp/history.html", {"review": review, "entries": entries})


def healthz(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
