from typing import Any

from rest_framework import serializers

from analysis.models import Analysis, AnalysisResult, GradeRating
from analysis.services import EDITABLE


class AnalysisSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    outcome_name = serializers.CharField(source="outcome.name", read_only=True)
    current_result = serializers.SerializerMethodField()

    class Meta:
        model = Analysis
        fields = ["id", "outcome", "outcome_name", *EDITABLE, "version", "status", "error",
                  "current_result", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["id", "outcome_name", "version", "status", "error", "current_result",
                            "created_at", "updated_at"]  # fmt: skip

    def get_current_result(self, analysis: Analysis) -> dict[str, Any] | None:
        r = analysis.current_result
        if r is None:
            return None
        return {"id": r.pk, "input_hash": r.input_hash, "k": r.k, "estimate": r.estimate,
                "ci_lb": r.ci_lb, "ci_ub": r.ci_ub, "i2": r.i2, "participants": r.participants,
                "error": r.error}  # fmt: skip


class AnalysisWriteSerializer(serializers.Serializer):
    """Settings to change; `version` is the one the client read (optimistic concurrency)."""

    outcome = serializers.IntegerField(required=False)
    version = serializers.IntegerField(required=False)
    name = serializers.CharField(required=False, max_length=200)
    preset = serializers.ChoiceField(
        choices=Analysis._meta.get_field("preset").choices, required=False
    )
    measure = serializers.ChoiceField(
        choices=Analysis._meta.get_field("measure").choices, required=False
    )
    model = serializers.ChoiceField(
        choices=Analysis._meta.get_field("model").choices, required=False
    )
    tau2_method = serializers.ChoiceField(
        choices=Analysis._meta.get_field("tau2_method").choices, required=False
    )
    test = serializers.ChoiceField(choices=Analysis._meta.get_field("test").choices, required=False)
    prediction_interval = serializers.BooleanField(required=False)
    mantel_haenszel = serializers.BooleanField(required=False)
    level = serializers.FloatField(required=False, min_value=50.01, max_value=99.99)
    subgroup_field = serializers.CharField(required=False, allow_blank=True, max_length=60)
    exclude_high_rob = serializers.BooleanField(required=False)
    leave_one_out = serializers.BooleanField(required=False)
    cumulative = serializers.BooleanField(required=False)
    show_rob = serializers.BooleanField(required=False)
    harmonise_signs = serializers.BooleanField(required=False)
    intervention_label = serializers.CharField(required=False, max_length=100)
    control_label = serializers.CharField(required=False, max_length=100)
    sort_by = serializers.ChoiceField(
        choices=Analysis._meta.get_field("sort_by").choices, required=False
    )
    multilevel = serializers.BooleanField(required=False)
    robust = serializers.BooleanField(required=False)
    prepost_correlation = serializers.FloatField(
        required=False, min_value=-0.99, max_value=0.99,
        help_text="Paired outcomes: the pre-post correlation imputed where none is reported.",
    )  # fmt: skip


class AnalysisResultSerializer(serializers.ModelSerializer):
    # The result in the current schema (analysis.results), whatever version it was stored in.
    payload = serializers.SerializerMethodField()

    def get_payload(self, result: AnalysisResult) -> dict[str, Any]:
        if result.error:
            return dict(result.payload)  # the engine refused the data: only `missing`
        return result.computed.to_json()

    class Meta:
        model = AnalysisResult
        fields = ["id", "input_hash", "k", "participants", "estimate", "ci_lb", "ci_ub", "i2",
                  "error", "missing", "payload", "compute_ms", "created_at"]  # fmt: skip
        read_only_fields = fields


class AnalysisResultVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnalysisResult
        fields = ["id", "input_hash", "k", "participants", "estimate", "ci_lb", "ci_ub", "i2",
                  "error", "compute_ms", "created_at"]  # fmt: skip
        read_only_fields = fields


class LiveResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    error = serializers.CharField()
    result = AnalysisResultSerializer(allow_null=True)


class VersionSerializer(serializers.Serializer):
    version = serializers.CharField()


class GradeSerializer(serializers.ModelSerializer):
    certainty = serializers.CharField(read_only=True)

    class Meta:
        model = GradeRating
        fields = ["id", "outcome", *GradeRating.DOMAINS, "reasons", "version", "certainty",
                  "updated_at"]  # fmt: skip
        read_only_fields = ["id", "outcome", "certainty", "updated_at"]
