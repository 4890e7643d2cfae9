from analysis.models import Analysis, GradeRating

HISTORY_MODELS = [
    ("Analysis", Analysis.history, "review_id"),
    ("GRADE rating", GradeRating.history, "review_id"),
]
