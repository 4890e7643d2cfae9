from django.urls import path

from extraction import views, views_builder, views_consensus, views_entry

P = "reviews/<int:review_pk>/extraction/"
STUDY = P + "forms/<int:form_pk>/studies/<int:study_pk>/"

# Review-scoped pages; mounted at the site root by reviewapp.urls.
urlpatterns = [
    path(P, views.extraction_home, name="extraction_home"),
    path(P + "forms/new/", views.form_create, name="extraction_form_create"),
    path(P + "forms/import/", views.form_import, name="extraction_form_import"),
    path(P + "forms/<int:form_pk>/", views.form_builder, name="extraction_form_builder"),
    path(P + "forms/<int:form_pk>/settings/", views.form_settings, name="extraction_form_settings"),
    path(P + "forms/<int:form_pk>/move/", views.form_move, name="extraction_form_move"),
    path(P + "forms/<int:form_pk>/derive/", views_entry.derive_preview, name="extraction_derive"),
    path(P + "forms/<int:form_pk>/export.json", views.form_export, name="extraction_form_export"),
    path(P + "forms/<int:form_pk>/preview/", views.form_preview, name="extraction_form_preview"),
    path(P + "forms/<int:form_pk>/sections/new/", views.section_add, name="extraction_section_add"),
    path(
        P + "forms/<int:form_pk>/sections/<int:section_pk>/",
        views.section_action,
        name="extraction_section_action",
    ),
    path(
        P + "forms/<int:form_pk>/sections/<int:section_pk>/fields/new/",
        views.field_add,
        name="extraction_field_add",
    ),
    path(
        P + "forms/<int:form_pk>/fields/<int:field_pk>/",
        views.field_action,
        name="extraction_field_action",
    ),
    path(
        P + "forms/<int:form_pk>/fields/<int:field_pk>/edit/",
        views.field_edit,
        name="extraction_field_edit",
    ),
    # The builder's block actions (extraction/views_builder.py).
    path(P + "forms/copy/", views_builder.form_copy, name="extraction_form_copy"),
    path(
        P + "forms/<int:form_pk>/sections/order/",
        views_builder.sections_reorder,
        name="extraction_sections_reorder",
    ),
    path(
        P + "forms/<int:form_pk>/sections/<int:section_pk>/order/",
        views_builder.fields_reorder,
        name="extraction_fields_reorder",
    ),
    path(
        P + "forms/<int:form_pk>/sections/<int:section_pk>/duplicate/",
        views_builder.section_duplicate,
        name="extraction_section_duplicate",
    ),
    path(
        P + "forms/<int:form_pk>/sections/<int:section_pk>/remove/",
        views_builder.section_remove,
        name="extraction_section_remove",
    ),
    path(
        P + "forms/<int:form_pk>/sections/<int:section_pk>/restore/",
        views_builder.section_restore,
        name="extraction_section_restore",
    ),
    path(
        P + "forms/<int:form_pk>/fields/<int:field_pk>/duplicate/",
        views_builder.field_duplicate,
        name="extraction_field_duplicate",
    ),
    path(
        P + "forms/<int:form_pk>/templates/",
        views_builder.template_add,
        name="extraction_template_add",
    ),
    path(P + "forms/<int:form_pk>/copy/", views_builder.copy_into, name="extraction_copy_into"),
    path(P + "outcomes/", views.outcomes_page, name="extraction_outcomes"),
    path(P + "outcomes/new/", views.outcome_save, name="extraction_outcome_add"),
    path(P + "outcomes/<int:outcome_pk>/", views.outcome_save, name="extraction_outcome_save"),
    path(
        P + "outcomes/<int:outcome_pk>/metafor.csv",
        views.export_metafor,
        name="extraction_export_metafor",
    ),
    path(P + "export/<str:kind>.csv", views.export_csv, name="extraction_export"),
    path(STUDY, views_entry.extraction_entry, name="extraction_entry"),
    path(STUDY + "save/", views_entry.extraction_save, name="extraction_save"),
    path(STUDY + "compare/", views_consensus.extraction_compare, name="extraction_compare"),
    path(STUDY + "consensus/", views_consensus.consensus_save, name="extraction_consensus"),
    path(STUDY + "history/", views.extraction_history, name="extraction_history"),
]
