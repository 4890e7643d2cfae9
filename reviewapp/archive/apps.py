from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "reviewapp.archive"
    label = "archive"
    verbose_name = "Review archives"
    default_auto_field = "django.db.models.BigAutoField"
