"""Error pages inside the app's layout: 403 says which role the action needs and who the
review's leads are (the people to ask); 404 does not tell a missing review from one the visitor
is not on; 500 renders without touching the database, which may be what failed."""

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from reviewapp.errors import RoleRequired
from reviewapp.models import ROLE_DESCRIPTIONS, Membership, Role


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context: dict[str, Any] = {"reason": str(exception or "") or None}
    if isinstance(exception, RoleRequired):
        role = Role(exception.role)
        context.update(
            review=exception.review,
            membership=exception.membership,
            needed=role.label,
            needed_description=ROLE_DESCRIPTIONS[role],
            held=[Role(r).label for r in exception.membership.roles],
            leads=Membership.objects.filter(review=exception.review, is_lead=True)
            .select_related("user")
            .order_by("user__username"),
        )
    return render(request, "403.html", context, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"path": request.path}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponseServerError(loader.get_template("500.html").render({}))
