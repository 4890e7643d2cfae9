"""Risk-of-bias tools configured for a review and the assessments made with them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from extraction.models import Outcome
from extraction.rob.tools import BUILTIN, Tool, custom_tool
from reviewapp.models import Review
from screening.models import Study


def _empty_dict() -> dict:
    return {}


class RobTool(models.Model):
    """A tool the review uses: a built-in one (RoB 2, RoB 1, ROBINS-I) or one the lead defined."""

    class Kind(models.TextChoices):
        # A tool keeps its kind for life: assessments started with ROBINS-I 2016 stay 2016;
        # a new ROBINS-I tool is V2 unless the lead picks the earlier version.
        ROB2 = "rob2", "RoB 2 (randomised trials: parallel, cluster, crossover)"
        ROBINS_I_V2 = "robins_i_v2", "ROBINS-I V2 (non-randomised studies)"
        ROB1 = "rob1", "Cochrane RoB 1 (randomised trials)"
        ROBINS_I = "robins_i", "ROBINS-I 2016 (earlier version, non-randomised studies)"
        CUSTOM = "custom", "Custom tool"

    class Mode(models.TextChoices):
        SINGLE = "single", "Single assessment"
        DUAL = "dual", "Dual assessment with consensus"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="rob_tools")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    mode = models.CharField(max_length=6, choices=Mode.choices, default=Mode.SINGLE)
    # Custom tools only: {"judgements": [...], "domains": [{"name": ..., "questions": [...]}],
    # "per_result": bool}.
    definition = models.JSONField(default=_empty_dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "name"], name="robtool_name_unique_per_review"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def spec(self) -> Tool:
        if self.kind == self.Kind.CUSTOM:
            return custom_tool(key=f"custom-{self.pk}", name=self.name, definition=self.definition)
        return BUILTIN[self.kind]

    @property
    def per_result(self) -> bool:
        return self.spec.per_result

    @property
    def feeding_kind(self) -> str:
        """The assessments that feed plots, exports and analyses."""
        return (
            RobAssessment.Kind.CONSENSUS
            if self.mode == self.Mode.DUAL
            else RobAssessment.Kind.SINGLE
        )


class RobAssessmentQuerySet(models.QuerySet["RobAssessment"]):
    def feeding(self) -> "RobAssessmentQuerySet":
        """Completed single assessments of single-mode tools and consensus of dual-mode tools."""
        return self.filter(status=RobAssessment.Status.COMPLETE).filter(
            Q(tool__mode=RobTool.Mode.SINGLE, kind=RobAssessment.Kind.SINGLE)
            | Q(tool__mode=RobTool.Mode.DUAL, kind=RobAssessment.Kind.CONSENSUS)
        )


class RobAssessment(models.Model):
    """One assessment of a study (or, for RoB 2, of one result: a study and an outcome).

    Single assessments and consensus assessments are shared by the team (no assessor); in dual
    mode each assessor has an independent one, blind to the other's until consensus.
    `domains` holds per domain key: proposed (by the algorithm), final, justification (required
    when final differs from proposed), support (quotes and reasons). Both proposed and final are
    stored so an override stays visible.
    """

    class Kind(models.TextChoices):
        SINGLE = "single", "Single"
        INDEPENDENT = "independent", "Independent (dual)"
        CONSENSUS = "consensus", "Consensus"

    class Status(models.TextChoices):
        DRAFT = "draft", "In progress"
        COMPLETE = "complete", "Complete"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="rob_assessments")
    tool = models.ForeignKey(RobTool, on_delete=models.CASCADE, related_name="assessments")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="rob_assessments")
    outcome = models.ForeignKey(
        Outcome, null=True, blank=True, on_delete=models.CASCADE, related_name="rob_assessments"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rob_assessments",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # The tool's preliminary considerations ({"design": "cluster", "aim": "adhering", ...});
    # they choose the variant (domains and questions) the answers belong to.
    preliminary = models.JSONField(default=_empty_dict, blank=True)
    answers = models.JSONField(default=_empty_dict, blank=True)  # {"1.1": "PY", ...}
    domains = models.JSONField(default=_empty_dict, blank=True)
    overall_proposed = models.CharField(max_length=40, blank=True)
    overall = models.CharField(max_length=40, blank=True)  # final overall judgement
    overall_justification = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = RobAssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["study__label", "outcome_id", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tool", "study", "kind"],
                condition=Q(outcome__isnull=True, assessor__isnull=True),
                name="rob_one_shared_per_study",
            ),
            models.UniqueConstraint(
                fields=["tool", "study", "outcome", "kind"],
                condition=Q(outcome__isnull=False, assessor__isnull=True),
                name="rob_one_shared_per_result",
            ),
            models.UniqueConstraint(
                fields=["tool", "study", "assessor"],
                condition=Q(outcome__isnull=True, assessor__isnull=False),
                name="rob_one_independent_per_study",
            ),
            models.UniqueConstraint(
                fields=["tool", "study", "outcome", "assessor"],
                condition=Q(outcome__isnull=False, assessor__isnull=False),
                name="rob_one_independent_per_result",
            ),
            models.CheckConstraint(
                condition=Q(kind="independent", assessor__isnull=False)
                | Q(~Q(kind="independent"), assessor__isnull=True),
                name="rob_assessor_only_on_independent",
            ),
        ]
        indexes = [models.Index(fields=["review", "tool", "status"], name="rob_review_tool_idx")]

    def __str__(self) -> str:
        result = f" · {self.outcome}" if self.outcome_id else ""
        who = f" ({self.assessor})" if self.assessor_id else ""
        return f"{self.tool} · {self.study}{result} · {self.get_kind_display()}{who}"

    def final(self, key: str) -> str:
        return str((self.domains.get(key) or {}).get("final") or "")

    @property
    def spec(self) -> Tool:
        """The variant of the tool this assessment's preliminary considerations select."""
        return self.tool.spec.resolve(self.preliminary)
