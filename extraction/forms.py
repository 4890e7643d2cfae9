from typing import Any

from django import forms

from extraction.models import ExtractionForm, FieldType, FormField, Outcome
from reviewapp.templatetags.numbers import plain_number


class FormCreateForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="e.g. 'Extraction sheet'")
    mode = forms.ChoiceField(
        choices=ExtractionForm.Mode.choices,
        initial=ExtractionForm.Mode.SINGLE,
        help_text="Dual: two extractors work blind, then a consensus is built.",
    )
    collects_outcomes = forms.BooleanField(
        required=False, initial=True, label="Collect outcome data (arms, timepoints) on this form"
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FormImportForm(forms.Form):
    file = forms.FileField(help_text="A form exported as JSON from this or another review.")
    name = forms.CharField(
        max_length=200, required=False, help_text="Leave blank to keep its name."
    )


class SectionForm(forms.Form):
    title = forms.CharField(max_length=200)
    help_text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FieldForm(forms.Form):
    label = forms.CharField(max_length=300)
    field_type = forms.ChoiceField(choices=FieldType.choices, label="Type")
    key = forms.CharField(
        max_length=60,
        required=False,
        help_text="Short name used in exports and rules (a-z, 0-9, _); "
        "made from the label if blank.",
    )
    help_text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    required = forms.BooleanField(required=False)
    min_value = forms.CharField(required=False, label="Minimum")
    max_value = forms.CharField(required=False, label="Maximum")
    unit = forms.CharField(max_length=40, required=False)
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line. For a derived field: the categories it can give.",
    )
    columns = forms.CharField(
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "arm | Arm | short_text\nn | Randomised | integer"}
        ),
        help_text="One column per line: key | label | type | choice; choice | required. "
        "Types: short_text, integer, decimal, date, single_choice, multiple_choice, "
        "yes_no_unclear.",
    )
    rule = forms.CharField(
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 2,
                "placeholder": 'if count_yes(a, b, c) >= 2 then "higher" else "lower"',
            }
        ),
        help_text="Functions: count_yes, count_no, count_unclear, count, answered, sum, min, max, "
        "mean, round, coalesce, contains. Operators: = != < <= > >= + - * / and or not, "
        "if … then … elif … else ….",
    )


class OutcomeForm(forms.Form):
    name = forms.CharField(max_length=200)
    outcome_type = forms.ChoiceField(choices=Outcome.Type.choices, label="Type")
    desirable_direction = forms.ChoiceField(
        choices=Outcome.Direction.choices, label="Desirable direction"
    )
    timepoint_rule = forms.ChoiceField(choices=Outcome.TimepointRule.choices, label="Timepoint")
    timepoint_name = forms.CharField(
        max_length=100, required=False, help_text="For a named timepoint, e.g. '12 months'."
    )
    effect_measure = forms.CharField(
        max_length=20, required=False, help_text="Generic estimates: SMD, MD, OR, RR, HR…"
    )
    scale_min = forms.FloatField(
        required=False,
        label="Scale minimum",
        help_text="Continuous outcomes: the instrument's lowest score, to flag impossible SDs.",
    )
    scale_max = forms.FloatField(
        required=False, label="Scale maximum", help_text="The instrument's highest score."
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FieldEditForm(FieldForm):
    """Editing a field: its key and type never change, so the type travels hidden (the page's
    script shows only the inputs that type needs) and the key is not offered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["key"]
        self.fields["field_type"].widget = forms.HiddenInput()


def field_initial(field: FormField) -> dict[str, Any]:
    """A stored field as the builder's inputs show it (numbers as typed, lists one per line)."""
    columns = "\n".join(
        " | ".join(
            [
                c["key"],
                c.get("label", ""),
                c.get("type", ""),
                ";".join(c.get("choices") or []),
                "required" if c.get("required") else "",
            ]
        ).rstrip(" |")
        for c in field.columns or []
    )
    return {
        "label": field.label,
        "field_type": field.field_type,
        "key": field.key,
        "help_text": field.help_text,
        "required": field.required,
        "min_value": plain_number(field.min_value) if field.min_value is not None else "",
        "max_value": plain_number(field.max_value) if field.max_value is not None else "",
        "unit": field.unit,
        "choices": "\n".join(field.choices or []),
        "columns": columns,
        "rule": field.rule,
    }
