"""Extraction forms, outcome data and (in extraction.rob) risk of bias."""

from django.db import models
from simple_history.models import HistoricalRecords

from reviewapp.models import Review


class Outcome(models.Model):
    """An outcome the review analyses, with the direction that counts as benefit."""

    class Type(models.TextChoices):
        CONTINUOUS = "continuous", "Continuous (mean, SD, n)"
        DICHOTOMOUS = "dichotomous", "Dichotomous (events, total)"
        GENERIC = "generic", "Generic estimate (with CI or SE)"

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    class TimepointRule(models.TextChoices):
        LONGEST = "longest", "Longest follow-up"
        NAMED = "named", "A named timepoint"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="outcomes_defined")
    name = models.CharField(max_length=200)
    outcome_type = models.CharField(max_length=12, choices=Type.choices)
    desirable_direction = models.CharField(
        max_length=6, choices=Direction.choices, default=Direction.HIGHER
    )
    timepoint_rule = models.CharField(
        max_length=8, choices=TimepointRule.choices, default=TimepointRule.LONGEST
    )
    timepoint_name = models.CharField(max_length=100, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "name"], name="outcome_name_unique_per_review")
        ]

    def __str__(self) -> str:
        return self.name
