"""Analyses defined by the lead, and the result versions a worker computes for them.

An analysis carries two counters. `change_seq` is bumped (in the transaction that changes an
input: consensus data, risk of bias, the analysis settings) and `computed_seq` records the
change the current result reflects. While `change_seq > computed_seq` the analysis is
"updating" and its result is not shown as current. Results are keyed by the hash of their
inputs, so recomputing unchanged inputs stores nothing new.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from analysis import measure_kinds, scales
from extraction.models import Outcome
from reviewapp.models import Review


def _empty_dict() -> dict[str, object]:
    return {}


def _empty_list() -> list[object]:
    return []


# Which measures fit which outcome: defined below the models (measure_kinds), read from here.
CONTINUOUS_MEASURES = measure_kinds.CONTINUOUS_MEASURES
DICHOTOMOUS_MEASURES = measure_kinds.DICHOTOMOUS_MEASURES
MH_MEASURES = measure_kinds.MH_MEASURES
PROPORTION_MEASURES = measure_kinds.PROPORTION_MEASURES
CORRELATION_MEASURES = measure_kinds.CORRELATION_MEASURES
RATE_MEASURES = measure_kinds.RATE_MEASURES
SINGLE_RATE_MEASURES = measure_kinds.SINGLE_RATE_MEASURES
PAIRED_MEASURES = measure_kinds.PAIRED_MEASURES
MEAN_MEASURES = measure_kinds.MEAN_MEASURES
SINGLE_GROUP_MEASURES = measure_kinds.SINGLE_GROUP_MEASURES


class Measure(models.TextChoices):
    SMD = "SMD", "Standardised mean difference (Hedges' g)"
    MD = "MD", "Mean difference"
    ROM = "ROM", "Ratio of means"
    RR = "RR", "Risk ratio"
    OR = "OR", "Odds ratio"
    RD = "RD", "Risk difference"
    PETO = "PETO", "Peto odds ratio"
    # Variability of two groups: ratio of SDs, ratio of coefficients of variation (log scale).
    VR = "VR", "Variability ratio (SDs)"
    CVR = "CVR", "Coefficient of variation ratio"
    GEN = "GEN", "Generic inverse variance"
    # Single-group proportions (metafor's names): raw, log, logit, arcsine, Freeman-Tukey.
    PLO = "PLO", "Proportion (logit transformed)"
    PFT = "PFT", "Proportion (Freeman-Tukey double arcsine)"
    PAS = "PAS", "Proportion (arcsine square root)"
    PLN = "PLN", "Proportion (log transformed)"
    PR = "PR", "Proportion (untransformed)"
    # Correlations: Fisher's z (back-transformed to r) or raw r.
    ZCOR = "ZCOR", "Correlation (Fisher's z)"
    COR = "COR", "Correlation (raw r)"
    UCOR = "UCOR", "Correlation (bias-corrected r)"
    # Events over person-time: two groups (ratio, difference) or one group (metafor's names).
    IRR = "IRR", "Incidence rate ratio"
    IRD = "IRD", "Incidence rate difference"
    IRSD = "IRSD", "Square root incidence rate difference"
    IRLN = "IRLN", "Incidence rate (log transformed)"
    IR = "IR", "Incidence rate (untransformed)"
    IRS = "IRS", "Incidence rate (square root transformed)"
    IRFT = "IRFT", "Incidence rate (Freeman-Tukey transformed)"
    # One group measured twice: raw mean change, or standardised by the change-score SD.
    SMCC = "SMCC", "Standardised mean change (change-score SD)"
    MC = "MC", "Mean change"
    SMCR = "SMCR", "Standardised mean change (baseline SD)"
    SMCRH = "SMCRH", "Standardised mean change (baseline SD, heteroscedastic)"
    # One group's mean: raw or log-transformed (shown back as a mean).
    MN = "MN", "Mean (untransformed)"
    MNLN = "MNLN", "Mean (log transformed)"


#: The pre-post correlation imputed for a paired study that does not report it (the lead
#: changes it per analysis, e.g. for a sensitivity analysis at 0.3 and 0.7).
DEFAULT_PREPOST_CORRELATION = 0.5


class ModelKind(models.TextChoices):
    FIXED = "fixed", "Common effect"
    RANDOM = "random", "Random effects"


class Tau2Method(models.TextChoices):
    REML = "REML", "Restricted maximum likelihood (REML)"
    DL = "DL", "DerSimonian-Laird"
    ML = "ML", "Maximum likelihood"
    PM = "PM", "Paule-Mandel"
    HS = "HS", "Hunter-Schmidt"
    SJ = "SJ", "Sidik-Jonkman"
    HE = "HE", "Hedges"
    EB = "EB", "Empirical Bayes"


class Inference(models.TextChoices):
    Z = "z", "z (Wald)"
    KNHA = "knha", "Knapp-Hartung (t)"


class Preset(models.TextChoices):
    CUSTOM = "custom", "Custom"
    METAFOR = "metafor", "metafor defaults"
    REVMAN5 = "revman5", "RevMan 5 defaults"


class SortOrder(models.TextChoices):
    STUDY = "study", "Study name"
    YEAR = "year", "Year"
    WEIGHT = "weight", "Weight"
    EFFECT = "effect", "Effect size"


class Analysis(models.Model):
    """One meta-analysis of one outcome, with the settings the engine needs."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="analyses")
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="analyses")
    name = models.CharField(max_length=200)
    preset = models.CharField(max_length=8, choices=Preset.choices, default=Preset.CUSTOM)
    measure = models.CharField(max_length=5, choices=Measure.choices)
    model = models.CharField(max_length=6, choices=ModelKind.choices, default=ModelKind.RANDOM)
    tau2_method = models.CharField(max_length=4, choices=Tau2Method.choices, default="REML")
    test = models.CharField(max_length=4, choices=Inference.choices, default=Inference.Z)
    prediction_interval = models.BooleanField(default=True)
    mantel_haenszel = models.BooleanField(
        default=False, help_text="Pool risk ratios, odds ratios and risk differences by MH."
    )
    level = models.FloatField(default=95)
    # A study-level field key from extraction (a derived field counts too); blank: none.
    subgroup_field = models.CharField(max_length=60, blank=True)
    exclude_high_rob = models.BooleanField(
        default=False, help_text="Add a sensitivity analysis without high risk-of-bias studies."
    )
    leave_one_out = models.BooleanField(default=True)
    cumulative = models.BooleanField(default=False, help_text="Cumulative by year.")
    show_rob = models.BooleanField(default=False, help_text="Risk-of-bias column on the plot.")
    # Negate (or invert) effects of a lower-is-better outcome so that every plot reads the same
    # way; off by default: the labels flip instead and the data stay as extracted.
    harmonise_signs = models.BooleanField(default=False)
    intervention_label = models.CharField(max_length=100, default="intervention")
    control_label = models.CharField(max_length=100, default="control")
    sort_by = models.CharField(max_length=6, choices=SortOrder.choices, default=SortOrder.STUDY)
    # Several effect sizes per study (every timepoint reported): a three-level model,
    # metafor's rma.mv(yi, vi, random = ~ 1 | study/es).
    multilevel = models.BooleanField(
        default=False,
        help_text="Pool every timepoint of every study with a three-level model.",
    )
    # With the three-level model: cluster-robust SE, t test and CI with the CR2 small-sample
    # correction (metafor's robust(..., clubSandwich = TRUE)).
    robust = models.BooleanField(
        default=False, help_text="Three-level model: cluster-robust (CR2) inference."
    )
    prepost_correlation = models.FloatField(
        default=DEFAULT_PREPOST_CORRELATION,
        help_text="Paired (pre-post) outcomes: the correlation used where a study reports none.",
    )
    position = models.PositiveIntegerField(default=0)
    # Optimistic concurrency: an edit names the version it started from.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Recomputation state (not team work: kept out of the history).
    change_seq = models.PositiveBigIntegerField(default=1)
    computed_seq = models.PositiveBigIntegerField(default=0)
    current_result = models.ForeignKey(
        "AnalysisResult", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when a task is queued, cleared when it starts: later changes in a burst only bump
    # `change_seq` (the queued task will read their data).
    pending_since = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    history = HistoricalRecords(
        excluded_fields=[
            "pending_since",
            "change_seq",
            "computed_seq",
            "current_result",
            "error",
            "error_at",
            "attempts",
            "updated_at",
        ]
    )

    class Meta:
        ordering = ["outcome__position", "outcome_id", "position", "id"]
        verbose_name_plural = "analyses"
        constraints = [
            models.UniqueConstraint(fields=["outcome", "name"], name="analysis_name_unique"),
            models.CheckConstraint(
                condition=Q(level__gt=50) & Q(level__lt=100), name="analysis_level_in_range"
            ),
            models.CheckConstraint(
                condition=Q(prepost_correlation__gt=-1) & Q(prepost_correlation__lt=1),
                name="analysis_prepost_correlation_in_range",
            ),
            models.CheckConstraint(
                condition=Q(computed_seq__lte=F("change_seq")),
                name="analysis_computed_not_ahead",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.name}"

    @property
    def is_updating(self) -> bool:
        return self.change_seq > self.computed_seq

    @property
    def status(self) -> str:
        """'current', 'updating' or 'failed' (a failed recomputation is being retried)."""
        if not self.is_updating:
            return "current"
        return "failed" if self.error else "updating"


class AnalysisResult(models.Model):
    """One computed version. Immutable: a change of input makes a new row."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="results")
    input_hash = models.CharField(max_length=64)
    # The engine's output, shaped for the plots and the API (see analysis.services).
    payload = models.JSONField(default=_empty_dict)
    # The rows the engine saw: the CSV download and the R script are written from these.
    inputs = models.JSONField(default=_empty_list)
    missing = models.JSONField(default=_empty_list)
    # The data could not be analysed (e.g. an impossible number); shown instead of a plot.
    error = models.TextField(blank=True)
    k = models.PositiveIntegerField(default=0)
    participants = models.PositiveIntegerField(null=True, blank=True)
    estimate = models.FloatField(null=True, blank=True)
    ci_lb = models.FloatField(null=True, blank=True)
    ci_ub = models.FloatField(null=True, blank=True)
    i2 = models.FloatField(null=True, blank=True)
    compute_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["analysis", "input_hash"], name="analysis_result_unique_inputs"
            )
        ]

    def __str__(self) -> str:
        return f"{self.analysis} @ {self.input_hash[:8]}"

    @property
    def estimate_text(self) -> str:
        """The pooled estimate as a reader expects it: "RR 0.49" (ratios on their natural
        scale, never the log the engine pools on), "SMD -0.32", "12.3% (PLO)" for a pooled
        proportion, "ZCOR 0.31" (r) for a correlation."""
        if self.estimate is None:
            return ""
        value = scales.natural(self.payload, self.estimate)
        if value is None:
            return ""
        measure = self.payload.get("measure") or ""
        if self.payload.get("percent"):
            return f"{value:.1f}% ({measure})"
        return f"{measure} {value:.2f}".strip()


class GradeRating(models.Model):
    """The team's GRADE certainty for one outcome's evidence (summary of findings)."""

    class Level(models.TextChoices):
        NONE = "none", "No downgrade"
        SERIOUS = "serious", "Serious (-1)"
        VERY_SERIOUS = "very_serious", "Very serious (-2)"

    DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="grade_ratings")
    outcome = models.OneToOneField(Outcome, on_delete=models.CASCADE, related_name="grade")
    risk_of_bias = models.CharField(max_length=12, choices=Level.choices, default=Level.NONE)
    inconsistency = models.CharField(max_length=12, choices=Level.choices, default=Level.NONE)
    indirectness = models.CharField(max_length=12, choices=Level.choices, default=Level.NONE)
    imprecision = models.CharField(max_length=12, choices=Level.choices, default=Level.NONE)
    publication_bias = models.CharField(max_length=12, choices=Level.choices, default=Level.NONE)
    # {"risk_of_bias": "All trials unblinded", ...}: a downgrade needs its reason.
    reasons = models.JSONField(default=_empty_dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["outcome__position", "outcome_id"]

    def __str__(self) -> str:
        return f"GRADE for {self.outcome}"

    @property
    def downgrades(self) -> int:
        steps = {"none": 0, "serious": 1, "very_serious": 2}
        return sum(steps[getattr(self, d)] for d in self.DOMAINS)

    @property
    def certainty(self) -> str:
        """Randomised trials start high (GRADE handbook 5.1)."""
        return ["High", "Moderate", "Low", "Very low"][min(self.downgrades, 3)]
