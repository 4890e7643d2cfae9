"""Extraction forms, outcome data and (in extraction.rob) risk of bias.

A form is designed by the lead: sections hold fields; a field's `key` binds the answers stored
for it, so a field is never renamed in storage and a removed field only gets `removed_in_version`
(its answers stay readable). Every structural change bumps the form's `version` and stores a
snapshot (`FormVersion`).

An `Extraction` is one person's (or the team's) answers for one study on one form. With single
extraction there is one shared record per study; with dual extraction each extractor has an
independent, blind record and the consensus record is the one that feeds analyses.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from reviewapp.models import Review
from screening.models import Study


def _empty_list() -> list[object]:
    return []


def _empty_dict() -> dict[str, object]:
    return {}


class Outcome(models.Model):
    """An outcome the review analyses, with the direction that counts as benefit."""

    class Type(models.TextChoices):
        CONTINUOUS = "continuous", "Continuous (mean, SD, n)"
        DICHOTOMOUS = "dichotomous", "Dichotomous (events, total)"
        GENERIC = "generic", "Generic estimate (with CI or SE)"
        # One group per study (no comparison): prevalence reviews, associations.
        PROPORTION = "proportion", "Single-group proportion (events, total)"
        CORRELATION = "correlation", "Correlation (r, n)"
        # Events over person-time: per arm (incidence rate ratio) or for one group.
        RATE = "rate", "Events with person-time (per arm)"
        SINGLE_RATE = "single_rate", "Single-group rate (events, person-time)"
        # One group measured twice (pre-post): both means and SDs, n, and the correlation.
        PAIRED = "paired", "Paired pre-post (means, SDs, n, r)"
        # One group's mean (no comparison), e.g. a mean score in a population.
        MEAN = "mean", "Single-group mean (mean, SD, n)"

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
    # Generic estimates: ratio measures (OR, RR, HR) are pooled on the log scale.
    effect_measure = models.CharField(
        max_length=20, blank=True, help_text="For generic estimates, e.g. SMD, MD, OR, RR, HR"
    )
    description = models.TextField(blank=True)
    # The instrument's range (continuous outcomes), so implausible means and SDs are flagged.
    scale_min = models.FloatField(
        null=True, blank=True, help_text="Lowest score the instrument allows"
    )
    scale_max = models.FloatField(
        null=True, blank=True, help_text="Highest score the instrument allows"
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "name"], name="outcome_name_unique_per_review"
            ),
            models.CheckConstraint(
                condition=Q(scale_min__isnull=True)
                | Q(scale_max__isnull=True)
                | Q(scale_min__lt=F("scale_max")),
                name="outcome_scale_min_below_max",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExtractionForm(models.Model):
    class Mode(models.TextChoices):
        SINGLE = "single", "Single extraction"
        DUAL = "dual", "Dual extraction with consensus"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="extraction_forms")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    mode = models.CharField(max_length=6, choices=Mode.choices, default=Mode.SINGLE)
    # The outcome-data grid (arms, timepoints, outcomes) is part of this form's extraction.
    collects_outcomes = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "name"], name="form_name_unique_per_review")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_dual(self) -> bool:
        return self.mode == self.Mode.DUAL


class FormVersion(models.Model):
    """The form's structure as it was at one version, as the JSON the export writes."""

    form = models.ForeignKey(ExtractionForm, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    schema = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="form_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.form} v{self.number}"


class FormSection(models.Model):
    form = models.ForeignKey(ExtractionForm, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(max_length=200)
    help_text = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    removed_in_version = models.PositiveIntegerField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class FieldType(models.TextChoices):
    SHORT_TEXT = "short_text", "Short text"
    LONG_TEXT = "long_text", "Long text"
    INTEGER = "integer", "Integer"
    DECIMAL = "decimal", "Decimal (with unit)"
    DATE = "date", "Date"
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
    YES_NO_UNCLEAR = "yes_no_unclear", "Yes / no / unclear"
    TABLE = "table", "Repeating table"
    DERIVED = "derived", "Derived (computed by a rule)"


# Types a table column may have: a table inside a table is not offered.
COLUMN_TYPES = [
    t for t in FieldType if t not in (FieldType.TABLE, FieldType.DERIVED, FieldType.LONG_TEXT)
]


class FormField(models.Model):
    form = models.ForeignKey(ExtractionForm, on_delete=models.CASCADE, related_name="fields")
    section = models.ForeignKey(FormSection, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(max_length=60, help_text="Binds the stored answers; never changes.")
    label = models.CharField(max_length=300)
    field_type = models.CharField(max_length=16, choices=FieldType.choices)
    help_text = models.TextField(blank=True)
    required = models.BooleanField(default=False)
    min_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    max_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    unit = models.CharField(max_length=40, blank=True)
    choices = models.JSONField(default=_empty_list, blank=True)
    # Repeating tables: [{"key", "label", "type", "choices", "required", "min", "max", "unit"}].
    columns = models.JSONField(default=_empty_list, blank=True)
    # Derived fields: a rule in the small language of extraction.rules.
    rule = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    added_in_version = models.PositiveIntegerField(default=1)
    removed_in_version = models.PositiveIntegerField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="field_key_unique_per_form"),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=F("max_value")),
                name="field_min_not_above_max",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Extraction(models.Model):
    """Answers and outcome data for one study on one form."""

    class Kind(models.TextChoices):
        SINGLE = "single", "Single (shared)"
        INDEPENDENT = "independent", "Independent (blind)"
        CONSENSUS = "consensus", "Consensus"

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETE = "complete", "Complete"

    form = models.ForeignKey(ExtractionForm, on_delete=models.CASCADE, related_name="extractions")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="extractions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Set for independent extractions only: whose blind copy this is.
    extractor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="extractions",
    )
    answers = models.JSONField(default=_empty_dict, blank=True)
    # [{"label": "Peer support", "role": "intervention"}, ...]
    arms = models.JSONField(default=_empty_list, blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    # Optimistic concurrency: a save names the version it started from.
    version = models.PositiveIntegerField(default=1)
    form_version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["study__label", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "study", "extractor"],
                condition=Q(kind="independent"),
                name="one_independent_extraction_per_extractor",
            ),
            models.UniqueConstraint(
                fields=["form", "study"],
                condition=Q(kind__in=["single", "consensus"]),
                name="one_final_extraction_per_study",
            ),
            models.CheckConstraint(
                condition=Q(kind="independent", extractor__isnull=False) | ~Q(kind="independent"),
                name="independent_extraction_has_extractor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study} · {self.form} · {self.get_kind_display()}"


class OutcomeData(models.Model):
    """One arm of one study at one timepoint for one outcome (generic estimates, single-group
    proportions and correlations: arm is '', the study's whole sample)."""

    extraction = models.ForeignKey(
        Extraction, on_delete=models.CASCADE, related_name="outcome_data"
    )
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="data")
    timepoint = models.CharField(max_length=100, help_text="As reported, e.g. '12 months'")
    timepoint_weeks = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, help_text="For 'longest follow-up'"
    )
    arm = models.CharField(max_length=200, blank=True)
    mean = models.FloatField(null=True, blank=True)
    sd = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(null=True, blank=True)
    events = models.PositiveIntegerField(null=True, blank=True)
    total = models.PositiveIntegerField(null=True, blank=True)
    estimate = models.FloatField(null=True, blank=True)
    ci_lower = models.FloatField(null=True, blank=True)
    ci_upper = models.FloatField(null=True, blank=True)
    se = models.FloatField(null=True, blank=True)
    # Correlation outcomes: the reported correlation coefficient (with `n`).
    r = models.FloatField(null=True, blank=True)
    # Rate outcomes: the person-time the events were counted over (with `events`).
    person_time = models.FloatField(null=True, blank=True)
    # Paired (pre-post) outcomes: the baseline mean and SD; `mean`, `sd` are at follow-up,
    # `r` the pre-post correlation (imputed by the analysis where not reported).
    mean_pre = models.FloatField(null=True, blank=True)
    sd_pre = models.FloatField(null=True, blank=True)
    # e.g. "sd_from_se" with the reported inputs, so the number can be traced back.
    conversion = models.CharField(max_length=40, blank=True)
    conversion_inputs = models.JSONField(default=_empty_dict, blank=True)
    notes = models.CharField(max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["outcome__position", "outcome_id", "timepoint_weeks", "timepoint", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["extraction", "outcome", "timepoint", "arm"],
                name="outcome_data_unique_cell",
            ),
            models.CheckConstraint(condition=Q(sd__isnull=True) | Q(sd__gt=0), name="sd_positive"),
            models.CheckConstraint(condition=Q(n__isnull=True) | Q(n__gte=2), name="n_at_least_2"),
            models.CheckConstraint(condition=Q(se__isnull=True) | Q(se__gt=0), name="se_positive"),
            models.CheckConstraint(
                condition=Q(r__isnull=True) | (Q(r__gte=-1) & Q(r__lte=1)),
                name="r_between_minus_one_and_one",
            ),
            models.CheckConstraint(
                condition=Q(person_time__isnull=True) | Q(person_time__gt=0),
                name="person_time_positive",
            ),
            models.CheckConstraint(
                condition=Q(sd_pre__isnull=True) | Q(sd_pre__gt=0), name="sd_pre_positive"
            ),
            models.CheckConstraint(
                condition=Q(events__isnull=True)
                | Q(total__isnull=True)
                | Q(events__lte=F("total")),
                name="events_not_above_total",
            ),
            models.CheckConstraint(
                condition=Q(ci_lower__isnull=True)
                | Q(ci_upper__isnull=True)
                | Q(estimate__isnull=True)
                | (Q(ci_lower__lte=F("estimate")) & Q(estimate__lte=F("ci_upper"))),
                name="ci_contains_estimate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} · {self.timepoint} · {self.arm or 'contrast'}"
