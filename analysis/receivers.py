"""What the other stages' events mean for analyses: which analyses fall behind their inputs.

The only place analysis listens to the stages before it. Connected once, from
`AnalysisConfig.ready()`. Each receiver runs in the transaction of the change it hears about
(see reviewapp/events.py) and only names the affected analyses; analysis.services marks them
and queues their recomputation once the change commits.
"""

from analysis import services
from reviewapp import events


def extraction_committed(event: events.ExtractionCommitted) -> None:
    services.analyses_study_answers_changed(review_id=event.review_id)


def outcome_data_changed(event: events.OutcomeDataChanged) -> None:
    services.analyses_outcome_data_changed(outcome_ids=event.outcome_ids)


def rob_judged(event: events.RobJudged) -> None:
    services.analyses_rob_changed(review_id=event.review_id)


def inclusion_changed(event: events.InclusionChanged) -> None:
    services.analyses_inclusion_changed(review_id=event.review_id)


def connect() -> None:
    events.subscribe(events.ExtractionCommitted, extraction_committed)
    events.subscribe(events.OutcomeDataChanged, outcome_data_changed)
    events.subscribe(events.RobJudged, rob_judged)
    events.subscribe(events.InclusionChanged, inclusion_changed)
