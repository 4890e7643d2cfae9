from screening.models import DedupAction, ImportBatch, Record

HISTORY_MODELS = [
    ("Import", ImportBatch.history, "review_id"),
    ("Record", Record.history, "review_id"),
    ("Duplicate decision", DedupAction.history, "review_id"),
]
