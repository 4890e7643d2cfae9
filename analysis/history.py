HISTORY_MODELS: list = []  # (label, Model.history, review field)
