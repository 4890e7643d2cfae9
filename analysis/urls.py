# Review-scoped pages; mounted at the site root by reviewapp.urls.
from django.urls import path

from analysis import views

A = "reviews/<int:review_pk>/analyses/<int:analysis_pk>/"

urlpatterns = [
    path("reviews/<int:review_pk>/dashboard/", views.dashboard, name="dashboard"),
    path("reviews/<int:review_pk>/dashboard/body/", views.dashboard_body, name="dashboard_body"),
    path("reviews/<int:review_pk>/analyses/version/", views.version_poll, name="analysis_version"),
    path("reviews/<int:review_pk>/analyses/", views.analysis_list, name="analysis_list"),
    path("reviews/<int:review_pk>/analyses/new/", views.analysis_create, name="analysis_create"),
    path(A, views.analysis_detail, name="analysis_detail"),
    path(A + "result/", views.analysis_result, name="analysis_result"),
    path(A + "settings/", views.analysis_settings, name="analysis_settings"),
    path(A + "delete/", views.analysis_delete, name="analysis_delete"),
    path(A + "retry/", views.analysis_retry, name="analysis_retry"),
    path(A + "download/<str:kind>/", views.analysis_download, name="analysis_download"),
    path(
        "reviews/<int:review_pk>/summary-of-findings/",
        views.summary_of_findings,
        name="summary_of_findings",
    ),
    path(
        "reviews/<int:review_pk>/summary-of-findings/<int:outcome_pk>/grade/",
        views.grade_save,
        name="grade_save",
    ),
]
