from django.contrib.auth import views as auth_views
from django.urls import path

from reviewapp import csp, views
from reviewapp.archive import views as archive_views

urlpatterns = [
    path("", views.review_list, name="review_list"),
    path("healthz", views.healthz, name="healthz"),
    path("csp-report/", csp.csp_report, name="csp_report"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/tokens/", views.api_tokens, name="api_tokens"),
    path("accounts/tokens/revoke-all/", views.api_tokens_revoke_all, name="api_tokens_revoke_all"),
    path("accounts/tokens/<str:key>/rotate/", views.api_token_rotate, name="api_token_rotate"),
    path("accounts/tokens/<str:key>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("reviews/new/", views.review_create, name="review_create"),
    path("reviews/<int:review_pk>/", views.review_detail, name="review_detail"),
    path("reviews/<int:review_pk>/settings/", views.review_settings, name="review_settings"),
    path("reviews/<int:review_pk>/delete/", views.review_delete, name="review_delete"),
    path("reviews/<int:review_pk>/restore/", views.review_restore, name="review_restore"),
    path("reviews/<int:review_pk>/archive/", archive_views.archive, name="review_archive"),
    path(
        "reviews/<int:review_pk>/archive/download/",
        archive_views.archive_download,
        name="review_archive_download",
    ),
    path("reviews/<int:review_pk>/team/", views.team_page, name="team"),
    path("reviews/<int:review_pk>/team/invite/", views.team_invite, name="team_invite"),
    path(
        "reviews/<int:review_pk>/team/<int:membership_pk>/roles/",
        views.team_set_roles,
        name="team_set_roles",
    ),
    path(
        "reviews/<int:review_pk>/team/<int:membership_pk>/remove/",
        views.team_remove,
        name="team_remove",
    ),
    path(
        "reviews/<int:review_pk>/invitations/<int:invitation_pk>/resend/",
        views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "reviews/<int:review_pk>/invitations/<int:invitation_pk>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("reviews/<int:review_pk>/history/", views.review_history, name="review_history"),
]
