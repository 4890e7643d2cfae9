from django.urls import path

from screening import views

urlpatterns = [
    path("reviews/<int:review_pk>/library/", views.library, name="library"),
    path(
        "reviews/<int:review_pk>/records/<int:record_pk>/",
        views.record_detail,
        name="record_detail",
    ),
    path("reviews/<int:review_pk>/imports/", views.imports, name="imports"),
    path("reviews/<int:review_pk>/imports/upload/", views.import_upload, name="import_upload"),
    path(
        "reviews/<int:review_pk>/imports/<int:batch_pk>/",
        views.import_detail,
        name="import_detail",
    ),
    path("reviews/<int:review_pk>/duplicates/", views.duplicates, name="duplicates"),
    path(
        "reviews/<int:review_pk>/duplicates/<int:record_pk>/",
        views.duplicate_action,
        name="duplicate_action",
    ),
    path(
        "reviews/<int:review_pk>/duplicates/undo/<int:action_pk>/",
        views.duplicate_undo,
        name="duplicate_undo",
    ),
]
