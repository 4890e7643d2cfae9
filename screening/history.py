from screening.models import DedupAction, ImportBatch, Record, Study

HISTORY_MODELS = [
    ("Import", ImportBatch.history, "review_id"),
    ("Record", Record.history, "review_id"),
    ("Duplicate decision", DedupAction.history, "review_id"),
    ("Study", Study.history, "review_id"),
]
