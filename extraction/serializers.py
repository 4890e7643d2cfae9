from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from extraction import selectors, services_builder
from extraction.models import Extraction, ExtractionForm, FieldType, FormField, FormSection, Outcome


class FormSerializer(serializers.ModelSerializer):
    schema = serializers.SerializerMethodField()

    class Meta:
        model = ExtractionForm
        fields = [
            "id",
            "name",
            "description",
            "mode",
            "collects_outcomes",
            "version",
            "position",
            "schema",
        ]
        read_only_fields = ["id", "version", "position", "schema"]

    def get_schema(self, form: ExtractionForm) -> dict:
        return selectors.form_schema(form=form)


class FormWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    mode = serializers.ChoiceField(choices=ExtractionForm.Mode.choices, required=False)
    collects_outcomes = serializers.BooleanField(required=False)
    schema = serializers.JSONField(
        required=False, help_text="A form export to import (format reviewapp-extraction-form)."
    )


class SectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = FormSection
        fields = ["id", "form", "title", "help_text", "position", "removed_in_version"]
        read_only_fields = ["id", "position", "removed_in_version"]


class FieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = FormField
        fields = [
            "id",
            "form",
            "section",
            "key",
            "label",
            "field_type",
            "help_text",
            "required",
            "min_value",
            "max_value",
            "unit",
            "choices",
            "columns",
            "rule",
            "position",
            "added_in_version",
            "removed_in_version",
        ]
        read_only_fields = ["id", "form", "position", "added_in_version", "removed_in_version"]


class FieldWriteSerializer(serializers.Serializer):
    section = serializers.IntegerField(
        required=False,
        help_text="On create, the section to add to. On a change, moves the field to this "
        "section of the same form; its key and answers go with it.",
    )
    position = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="With a new `section`: the place in it (1 is first); last when left out.",
    )
    key = serializers.CharField(required=False, allow_blank=True, default="")
    label = serializers.CharField(max_length=300)
    field_type = serializers.ChoiceField(choices=FieldType.choices, required=False)
    help_text = serializers.CharField(required=False, allow_blank=True, default="")
    required = serializers.BooleanField(required=False, default=False)
    min_value = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None
    )
    max_value = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None
    )
    unit = serializers.CharField(required=False, allow_blank=True, default="")
    choices = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    columns = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    rule = serializers.CharField(required=False, allow_blank=True, default="")


class MoveSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["up", "down"])


class OrderSerializer(serializers.Serializer):
    """A whole new order: the ids of every active section (or field of a section), once each."""

    order = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)


class TemplateSerializer(serializers.Serializer):
    template = serializers.ChoiceField(choices=services_builder.template_choices())


class CopySerializer(serializers.Serializer):
    """What to copy: a form (every section) or one section, from any review you are on."""

    source_form = serializers.IntegerField(required=False)
    source_section = serializers.IntegerField(required=False)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Outcome
        fields = [
            "id",
            "name",
            "outcome_type",
            "desirable_direction",
            "timepoint_rule",
            "timepoint_name",
            "effect_measure",
            "description",
            "scale_min",
            "scale_max",
            "position",
        ]
        read_only_fields = ["id", "position"]


class WarningSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The input it concerns, keyed like an error.")
    message = serializers.CharField()


class ExtractionSerializer(serializers.ModelSerializer):
    extractor = serializers.CharField(
        source="extractor.username", read_only=True, default=None, allow_null=True
    )
    updated_by = serializers.CharField(source="updated_by.username", read_only=True, default=None)
    study_label = serializers.CharField(source="study.label", read_only=True)
    outcomes = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField(
        help_text="Plausibility warnings (numbers to check; they never block a save)."
    )

    class Meta:
        model = Extraction
        fields = [
            "id",
            "form",
            "study",
            "study_label",
            "kind",
            "extractor",
            "answers",
            "arms",
            "outcomes",
            "warnings",
            "notes",
            "status",
            "version",
            "form_version",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = fields

    def get_outcomes(self, extraction: Extraction) -> list[dict]:
        return [selectors.outcome_row_dict(r) for r in extraction.outcome_data.all()]

    @extend_schema_field(WarningSerializer(many=True))
    def get_warnings(self, extraction: Extraction) -> list[dict[str, str]]:
        # The form's fields once per form, not once per record of a list.
        cache = self.context.setdefault("_form_fields", {})
        if extraction.form_id not in cache:
            cache[extraction.form_id] = selectors.form_fields(form=extraction.form)
        found = selectors.extraction_warnings(
            extraction=extraction, fields=cache[extraction.form_id]
        )
        return [{"key": w.key, "message": w.message} for w in found]


class ExtractionSaveSerializer(serializers.Serializer):
    form = serializers.IntegerField()
    study = serializers.IntegerField()
    version = serializers.IntegerField(
        min_value=0, help_text="The version you started from; 0 for a record not yet made."
    )
    answers = serializers.DictField(required=False, default=dict)
    arms = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    outcomes = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    complete = serializers.BooleanField(required=False, default=False)
    consensus = serializers.BooleanField(
        required=False, default=False, help_text="Save the consensus record (dual forms)."
    )


class ConsensusSerializer(serializers.Serializer):
    form = serializers.IntegerField()
    study = serializers.IntegerField()
    version = serializers.IntegerField(min_value=0)
    choices = serializers.DictField(
        child=serializers.ChoiceField(choices=["first", "second"]), required=False, default=dict
    )
    edits = serializers.DictField(required=False, default=dict)
    complete = serializers.BooleanField(required=False, default=True)


class AnalysisRowSerializer(serializers.Serializer):
    study_id = serializers.IntegerField()
    study_label = serializers.CharField()
    timepoint = serializers.CharField(allow_null=True)
    timepoint_weeks = serializers.FloatField(allow_null=True)
    arms = serializers.ListField(child=serializers.DictField())
    estimate = serializers.FloatField(allow_null=True)
    ci_lower = serializers.FloatField(allow_null=True)
    ci_upper = serializers.FloatField(allow_null=True)
    se = serializers.FloatField(allow_null=True)
    events = serializers.IntegerField(allow_null=True, help_text="Single-group proportions")
    total = serializers.IntegerField(allow_null=True, help_text="Single-group proportions")
    r = serializers.FloatField(allow_null=True, help_text="Correlations")
    n = serializers.IntegerField(allow_null=True, help_text="Correlations")
    person_time = serializers.FloatField(allow_null=True, help_text="Single-group rates")
    mean = serializers.FloatField(allow_null=True, help_text="Paired: follow-up mean")
    sd = serializers.FloatField(allow_null=True, help_text="Paired: follow-up SD")
    mean_pre = serializers.FloatField(allow_null=True, help_text="Paired: baseline mean")
    sd_pre = serializers.FloatField(allow_null=True, help_text="Paired: baseline SD")
    conversions = serializers.ListField(child=serializers.CharField())
    variables = serializers.DictField()
    missing = serializers.CharField(allow_null=True)
