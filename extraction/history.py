from extraction.models import Outcome

HISTORY_MODELS = [
    ("Outcome", Outcome.history, "review_id"),
]
