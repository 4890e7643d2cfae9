from django.apps import AppConfig


class RobConfig(AppConfig):
    name = "extraction.rob"
    label = "rob"
    verbose_name = "Risk of bias"

    def ready(self) -> None:
        from extraction.rob.history import HISTORY_MODELS
        from reviewapp import history

        history.register(HISTORY_MODELS)
