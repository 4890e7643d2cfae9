from typing import Any

from rest_framework import serializers

from extraction.rob.models import RobAssessment, RobTool
from extraction.rob.services import variants


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
    judgements = serializers.SerializerMethodField()

    def get_has_algorithm(self, domain: Any) -> bool:
        return domain.algorithm is not None

    def get_judgements(self, domain: Any) -> list[str]:
        return list(domain.judgements)


class PreliminaryFieldSerializer(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField(help_text="choice, multi (a list of values) or text")
    choices = serializers.SerializerMethodField()
    default = serializers.CharField()

    def get_choices(self, field: Any) -> list[dict[str, str]]:
        return [{"value": v, "label": label} for v, label in field.choices]


class VariantSerializer(serializers.Serializer):
    """One variant of a tool: the domains and questions some preliminary considerations
    select (RoB 2: design x aim; ROBINS-I V2: C4, or stopped by section B)."""

    preliminary = serializers.DictField()
    variant = serializers.CharField()
    stopped = serializers.CharField()
    robvis_template = serializers.CharField()
    domains = DomainSerializer(many=True)


class RobToolSerializer(serializers.ModelSerializer):
    domains = serializers.SerializerMethodField()
    judgements = serializers.SerializerMethodField()
    per_result = serializers.BooleanField(read_only=True)
    robvis_template = serializers.SerializerMethodField()
    preliminary = serializers.SerializerMethodField()
    variants = serializers.SerializerMethodField()
    licence = serializers.SerializerMethodField()

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
            "preliminary",
            "variants",
            "licence",
            "created_at",
        ]
        read_only_fields = ["id", "per_result", "judgements", "domains", "created_at"]

    def get_domains(self, tool: RobTool) -> list[dict[str, Any]]:
        """The domains of the default variant (see `variants` for the others)."""
        return DomainSerializer(tool.spec.domains, many=True).data

    def get_preliminary(self, tool: RobTool) -> list[dict[str, Any]]:
        return PreliminaryFieldSerializer(tool.spec.preliminary, many=True).data

    def get_variants(self, tool: RobTool) -> list[dict[str, Any]]:
        return [
            VariantSerializer(
                {
                    "preliminary": preliminary,
                    "variant": spec.variant,
                    "stopped": spec.stopped,
                    "robvis_template": spec.robvis_template,
                    "domains": spec.domains,
                }
            ).data
            for preliminary, spec in variants(tool.spec)
        ]

    def get_licence(self, tool: RobTool) -> str:
        """The notice that must accompany the question text (CC BY-NC-ND 4.0 for the
        built-in tools); empty for custom tools."""
        return tool.spec.licence

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
    variant = serializers.SerializerMethodField()

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
            "preliminary",
            "variant",
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

    def get_variant(self, assessment: RobAssessment) -> dict[str, Any]:
        """The variant the preliminary considerations select: its name, its domains' keys,
        and why the assessment stopped (ROBINS-I V2 section B), if it did."""
        spec = assessment.spec
        return {
            "name": spec.variant,
            "domains": [d.key for d in spec.domains],
            "stopped": spec.stopped,
            "robvis_template": spec.robvis_template,
        }


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
    preliminary = serializers.DictField(
        required=False,
        help_text="Preliminary considerations (the tool's `preliminary` fields); they choose the "
        "variant the answers belong to. Replaces the stored ones when given.",
    )
    answers = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    domains = serializers.DictField(child=DomainInputSerializer(), required=False)
    overall = serializers.CharField(required=False, allow_blank=True)
    overall_justification = serializers.CharField(required=False, allow_blank=True, default="")
    complete = serializers.BooleanField(required=False, default=False)


class ProposeSerializer(serializers.Serializer):
    tool = serializers.IntegerField()
    preliminary = serializers.DictField(required=False, default=dict)
    answers = serializers.DictField(child=serializers.CharField(allow_blank=True))


class AcceptSerializer(serializers.Serializer):
    source = serializers.IntegerField(help_text="Id of the independent assessment to take from")
    domain = serializers.CharField(
        help_text='A domain key, or "preliminary" for the preliminary considerations'
    )
    version = serializers.IntegerField()
