from extraction.rob.models import RobAssessment, RobTool

HISTORY_MODELS = [
    ("Risk-of-bias tool", RobTool.history, "review_id"),
    ("Risk-of-bias assessment", RobAssessment.history, "review_id"),
]
