from django.apps import AppConfig


class ExtractionConfig(AppConfig):
    name = "extraction"

    def ready(self) -> None:
        from extraction.history import HISTORY_MODELS
        from reviewapp import history

        history.register(HISTORY_MODELS)
