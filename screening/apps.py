from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"

    def ready(self) -> None:
        from reviewapp import history
        from screening.history import HISTORY_FILTERS, HISTORY_MODELS

        history.register(HISTORY_MODELS, HISTORY_FILTERS)
