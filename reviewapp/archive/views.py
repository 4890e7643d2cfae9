"""The review archive on the settings page: build it (a worker), watch it, download it."""

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from reviewapp.archive import selectors, services
from reviewapp.common.outbox import outbox_notice
from reviewapp.common.permissions import review_view
from reviewapp.models import Membership, Review, Role


@review_view(Role.LEAD)
def archive(request: HttpRequest, *, review: Review, membership: Membership) -> HttpResponse:
    """POST: prepare a fresh archive. GET: its status (the fragment htmx polls)."""
    if request.method == "POST":
        services.archive_request(review=review, requested_by=request.user)
        if not request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware
            messages.success(request, "Preparing the archive; it will be offered here.")
            outbox_notice(request)
            return redirect("review_settings", review_pk=review.pk)
    context = {"review": review, "archive": selectors.archive_status(review=review)}
    return render(request, "reviewapp/_archive_status.html", context)


@review_view(Role.LEAD)
def archive_download(
    request: HttpRequest, *, review: Review, membership: Membership
) -> HttpResponseBase:
    response = archive_file_response(review)
    if response is None:
        messages.info(request, "No archive is ready yet: prepare one here first.")
        return redirect("review_settings", review_pk=review.pk)
    return response


def archive_file_response(review: Review) -> FileResponse | None:
    """The latest ready archive as a download, or None when there is none."""
    export = selectors.archive_latest(review=review)
    if export is None or export.status != export.Status.READY or not export.file:
        return None
    name = str(export.file.name).rsplit("/", 1)[-1]
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=name)
