from typing import Any

from rest_framework import serializers

from extraction.rob.models import RobAssessment, RobTool


class QuestionSerializer(serializers.Serializer):
    id = serializers.CharField()
    text = serializers.CharField()
    options = serializers.ListField(child=serializers.CharField())
    condition = serializers.CharField()


class DomainSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    questions = QuestionSerializer(many=True)
    has_algorithm = serializers.SerializerMethodField()

    def get_has_algorithm(self, domain: Any) -> bool:
        return domain.algorithm is not None


class RobToolSerializer(serializers.ModelSerializer):
    domains = serializers.SerializerMethodField()
    judgements = serializers.SerializerMethodField()
    per_result = serializers.BooleanField(read_only=True)
    robvis_template = serializers.SerializerMethodField()

    class Meta:
        model = RobTool
        fields = [
            "id",
            "kind",
            "name",
            "mode",
            "definition",
            "per_result",
            "judgements",
            "domains",
            "robvis_template",
            "created_at",
        ]
        read_only_fields = ["id", "per_result", "judgements", "domains", "created_at"]

    def get_domains(self, tool: RobTool) -> list[dict[str, Any]]:
        return DomainSerializer(tool.spec.domains, many=True).data  # type: ignore[return-value]

    def get_judgements(self, tool: RobTool) -> list[str]:
        return list(tool.spec.judgements)

    def get_robvis_template(self, tool: RobTool) -> str:
        return tool.spec.robvis_template


class RobToolWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RobTool.Kind.choices, required=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    mode = serializers.ChoiceField(choices=RobTool.Mode.choices, required=False)
    definition = serializers.JSONField(required=False)


class RobAssessmentSerializer(serializers.ModelSerializer):
    study_label = serializers.CharField(source="study.label", read_only=True)
    assessor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    proposed = serializers.SerializerMethodField()

    class Meta:
        model = RobAssessment
        fields = [
            "id",
            "tool",
            "study",
            "study_label",
            "outcome",
            "kind",
            "assessor",
            "status",
            "answers",
            "domains",
            "proposed",
            "overall_proposed",
            "overall",
            "overall_justification",
            "version",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = fields

    def get_proposed(self, assessment: RobAssessment) -> dict[str, str]:
        """The algorithm's proposed judgement per domain, and the proposed overall."""
        proposed = {k: str(v.get("proposed") or "") for k, v in assessment.domains.items()}
        proposed["overall"] = assessment.overall_proposed
        return proposed


class OpenSerializer(serializers.Serializer):
    tool = serializers.IntegerField()
    study = serializers.IntegerField()
    outcome = serializers.IntegerField(required=False, allow_null=True)


class DomainInputSerializer(serializers.Serializer):
    final = serializers.CharField(required=False, allow_blank=True)
    justification = serializers.CharField(required=False, allow_blank=True)
    support = serializers.CharField(required=False, allow_blank=True)


class SaveSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version you loaded (optimistic concurrency).")
    answers = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    domains = serializers.DictField(child=DomainInputSerializer(), required=False)
    overall = serializers.CharField(required=False, allow_blank=True)
    overall_justification = serializers.CharField(required=False, allow_blank=True, default="")
    complete = serializers.BooleanField(required=False, default=False)


class ProposeSerializer(serializers.Serializer):
    tool = serializers.IntegerField()
    answers = serializers.DictField(child=serializers.CharField(allow_blank=True))


class AcceptSerializer(serializers.Serializer):
    source = serializers.IntegerField(help_text="Id of the independent assessment to take from")
    domain = serializers.CharField()
    version = serializers.IntegerField()
