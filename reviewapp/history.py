"""Models with history that belong to a review, as (label, history manager, review field).

Each app lists its own in `<app>/history.py`; the review's history page reads them all, so a new
model with `HistoricalRecords()` appears there once it is listed.
"""

from reviewapp.models import Invitation, Membership, Review

HISTORY_MODELS = [
    ("Review", Review.history, "id"),
    ("Team member", Membership.history, "review_id"),
    ("Invitation", Invitation.history, "review_id"),
]
