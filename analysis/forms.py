from typing import Any, cast

from django import forms

from analysis.models import Analysis, GradeRating
from extraction.models import Outcome

SETTINGS_FIELDS = [
    "name", "preset", "measure", "model", "tau2_method", "test", "prediction_interval",
    "mantel_haenszel", "level", "subgroup_field", "exclude_high_rob", "leave_one_out",
    "cumulative", "show_rob", "harmonise_signs", "intervention_label", "control_label", "sort_by",
]  # fmt: skip


class AnalysisForm(forms.ModelForm):
    outcome = forms.ModelChoiceField(queryset=Outcome.objects.none())
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Analysis
        fields = SETTINGS_FIELDS
        labels = {
            "tau2_method": "τ² estimator",
            "test": "Inference",
            "subgroup_field": "Subgroup variable (extraction field key)",
            "exclude_high_rob": "Sensitivity: exclude high risk of bias",
            "leave_one_out": "Sensitivity: leave one out",
            "cumulative": "Sensitivity: cumulative by year",
            "harmonise_signs": "Harmonise signs (negate lower-is-better effects)",
        }

    def __init__(self, *args: Any, review: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        outcome = cast(forms.ModelChoiceField, self.fields["outcome"])
        outcome.queryset = Outcome.objects.filter(review=review)
        self.fields["measure"].required = False
        if editing:
            del self.fields["outcome"]

    def settings(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k in SETTINGS_FIELDS}
        if not data.get("measure"):
            data.pop("measure", None)
        return data


class GradeForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for domain in GradeRating.DOMAINS:
            label = domain.replace("_", " ").capitalize()
            self.fields[domain] = forms.ChoiceField(choices=GradeRating.Level.choices, label=label)
            self.fields[f"{domain}_reason"] = forms.CharField(
                required=False, label=f"Reason ({label.lower()})", max_length=500
            )
