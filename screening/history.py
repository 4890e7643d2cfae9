from screening.models import (
    Decision,
    DedupAction,
    FullTextReport,
    ImportBatch,
    Record,
    ScreeningItem,
    StageSettings,
    Study,
)

HISTORY_MODELS = [
    ("Import", ImportBatch.history, "review_id"),
    ("Record", Record.history, "review_id"),
    ("Duplicate decision", DedupAction.history, "review_id"),
    ("Study", Study.history, "review_id"),
    ("Screening settings", StageSettings.history, "review_id"),
    ("Screening vote", Decision.history, "review_id"),
    ("Screening outcome", ScreeningItem.history, "review_id"),
    ("Full text", FullTextReport.history, "review_id"),
]
