from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"

    def ready(self) -> None:
        from analysis import receivers, tasks  # noqa: F401  # tasks: registers the recompute task
        from analysis.history import HISTORY_MODELS
        from reviewapp import history

        history.register(HISTORY_MODELS)
        receivers.connect()
