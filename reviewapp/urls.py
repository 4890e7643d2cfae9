from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says."""
    return redirect(static("reviewapp/favicon.svg"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("", include("reviewapp.urls_pages")),
    path("", include("screening.urls")),
    path("", include("extraction.urls")),
    path("", include("extraction.rob.urls")),
    path("", include("analysis.urls")),
    path("api/", include("reviewapp.urls_api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script from ?script, not inline (Content-Security-Policy).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="reviewapp/swagger_ui.html"
        ),
        name="api_docs",
    ),
    path("admin/", admin.site.urls),
]

handler403 = "reviewapp.error_pages.permission_denied"
handler404 = "reviewapp.error_pages.page_not_found"
handler500 = "reviewapp.error_pages.server_error"
