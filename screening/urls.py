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
    path(
        "reviews/<int:review_pk>/imports/<int:batch_pk>/delete/",
        views.import_delete,
        name="import_delete",
    ),
    path(
        "reviews/<int:review_pk>/imports/<int:batch_pk>/restore/",
        views.import_restore,
        name="import_restore",
    ),
    path("reviews/<int:review_pk>/duplicates/", views.duplicates, name="duplicates"),
    path(
        "reviews/<int:review_pk>/duplicates/possible/<int:possible_pk>/",
        views.possible_decide,
        name="possible_decide",
    ),
    path(
        "reviews/<int:review_pk>/duplicates/possible/undo/",
        views.possible_undo,
        name="possible_undo",
    ),
    path(
        "reviews/<int:review_pk>/duplicates/<int:record_pk>/",
        views.duplicate_action,
        name="duplicate_action",
    ),
    path(
        "reviews/<int:review_pk>/duplicates/<int:record_pk>/confirm/",
        views.duplicate_confirm,
        name="duplicate_confirm",
    ),
    path(
        "reviews/<int:review_pk>/duplicates/undo/<int:action_pk>/",
        views.duplicate_undo,
        name="duplicate_undo",
    ),
    # Screening
    path("reviews/<int:review_pk>/screening/", views.screening_home, name="screening_home"),
    path(
        "reviews/<int:review_pk>/screening/summary/",
        views.screening_summary,
        name="screening_summary",
    ),
    path(
        "reviews/<int:review_pk>/screening/agreement.csv",
        views.agreement_csv,
        name="agreement_csv",
    ),
    path(
        "reviews/<int:review_pk>/screening/full-texts/",
        views.fulltext_list,
        name="fulltext_list",
    ),
    path(
        "reviews/<int:review_pk>/screening/full-texts/<int:record_pk>/",
        views.fulltext_action,
        name="fulltext_action",
    ),
    path(
        "reviews/<int:review_pk>/screening/full-texts/<int:record_pk>/pdf/",
        views.fulltext_pdf,
        name="fulltext_pdf",
    ),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/settings/",
        views.stage_settings_page,
        name="stage_settings",
    ),
    path("reviews/<int:review_pk>/screening/<str:stage>/screen/", views.screen, name="screen"),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/decide/<int:record_pk>/",
        views.decide,
        name="decide",
    ),
    path("reviews/<int:review_pk>/screening/<str:stage>/undo/", views.undo, name="screen_undo"),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/lease/<int:record_pk>/",
        views.lease_action,
        name="lease_action",
    ),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/ranking/",
        views.ranking_panel,
        name="ranking_panel",
    ),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/ranking/action/",
        views.ranking_action,
        name="ranking_action",
    ),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/queue/<str:queue>/",
        views.queue_page,
        name="screening_queue",
    ),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/conflicts/",
        views.conflicts_page,
        name="conflicts",
    ),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/conflicts/<int:item_pk>/resolve/",
        views.conflict_resolve,
        name="conflict_resolve",
    ),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/conflicts/<int:item_pk>/reopen/",
        views.conflict_reopen,
        name="conflict_reopen",
    ),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/votes/<int:decision_pk>/amend/",
        views.vote_amend,
        name="vote_amend",
    ),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/export/",
        views.decisions_export,
        name="decisions_export",
    ),
    path("reviews/<int:review_pk>/prisma/", views.prisma_page, name="prisma"),
    path("reviews/<int:review_pk>/prisma.svg", views.prisma_svg, name="prisma_svg"),
    path("reviews/<int:review_pk>/prisma.csv", views.prisma_csv, name="prisma_csv"),
]
