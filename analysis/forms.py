from typing import Any, cast

from django import forms

from analysis.models import MH_MEASURES, Analysis, GradeRating
from analysis.services import PRESETS, default_measure
from extraction.models import Outcome
from extraction.selectors import study_variable_fields

SETTINGS_FIELDS = [
    "name", "preset", "measure", "model", "tau2_method", "test", "prediction_interval",
    "mantel_haenszel", "level", "subgroup_field", "exclude_high_rob", "leave_one_out",
    "cumulative", "show_rob", "harmonise_signs", "intervention_label", "control_label", "sort_by",
    "prepost_correlation", "multilevel", "robust",
]  # fmt: skip


# A plain label and one line of help for every option (issue 11: no raw field names).
LABELS = {
    "outcome": "Outcome",
    "name": "Name",
    "preset": "Start from",
    "measure": "Effect measure",
    "model": "Model",
    "tau2_method": "Between-study variance (τ²) estimator",
    "test": "Test and confidence interval",
    "prediction_interval": "Show a prediction interval",
    "mantel_haenszel": "Pool by Mantel-Haenszel",
    "level": "Confidence level (%)",
    "subgroup_field": "Subgroups by",
    "exclude_high_rob": "Sensitivity: without high risk of bias",
    "leave_one_out": "Sensitivity: leave one study out",
    "cumulative": "Sensitivity: cumulative by year",
    "show_rob": "Risk-of-bias column on the forest plot",
    "harmonise_signs": "Harmonise directions",
    "intervention_label": "Intervention group name",
    "control_label": "Control group name",
    "sort_by": "Order studies by",
    "prepost_correlation": "Imputed pre-post correlation",
    "multilevel": "Three-level model (several effect sizes per study)",
    "robust": "Cluster-robust inference (CR2)",
}
HELP = {
    "outcome": "The outcome whose extracted data this analysis pools.",
    "name": "Shown in lists and on downloads; unique within the outcome.",
    "preset": "Fills the settings below with a package's defaults; change any to make it custom.",
    "measure": "Left empty, the outcome's usual measure (SMD, RR; logit PLO for proportions, "
    "Fisher's z for correlations).",
    "model": "Random effects assume the true effect varies between studies; common effect "
    "that it is one value.",
    "tau2_method": "How the spread of true effects is estimated; REML is metafor's default, "
    "DerSimonian-Laird RevMan 5's.",
    "test": "Knapp-Hartung widens the interval for few studies (random effects only).",
    "prediction_interval": "Where the effect of a new study is expected to lie.",
    "mantel_haenszel": "For risk ratios, odds ratios and risk differences: RevMan's default "
    "for dichotomous data.",
    "level": "95 unless the protocol says otherwise.",
    "subgroup_field": "A study-level field of your extraction forms; each value is a subgroup.",
    "exclude_high_rob": "Pool again without the studies judged at high risk of bias.",
    "leave_one_out": "Pool again without each study in turn.",
    "cumulative": "Pool the studies one by one, oldest first.",
    "show_rob": "Adds each study's overall risk-of-bias judgement beside its row.",
    "harmonise_signs": "Negate effects where a lower score is better, so all point one way.",
    "intervention_label": "Used in the forest plot's 'Favours ...' labels.",
    "control_label": "Used in the forest plot's 'Favours ...' labels.",
    "sort_by": "The order of the studies on the forest plot.",
    "robust": "Three-level model only: standard error, t test and CI robust to the "
    "dependence within studies, with the CR2 small-sample correction (clubSandwich).",
    "multilevel": "Pools every timepoint each study reports, effect sizes nested in studies "
    "(metafor's rma.mv); for random effects by REML or ML.",
    "prepost_correlation": "Paired (pre-post) outcomes only: the correlation between baseline "
    "and follow-up used for studies that do not report it (0.5 unless you change it).",
}


class AnalysisForm(forms.ModelForm):
    outcome = forms.ModelChoiceField(queryset=Outcome.objects.none())
    subgroup_field = forms.ChoiceField(required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Analysis
        fields = SETTINGS_FIELDS

    def __init__(self, *args: Any, review: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.review = review
        outcome = cast(forms.ModelChoiceField, self.fields["outcome"])
        outcome.queryset = Outcome.objects.filter(review=review)
        self.fields["measure"].required = False
        # Only paired outcomes use it: left empty, the analysis keeps its value (0.5 at first).
        self.fields["prepost_correlation"].required = False
        variables = study_variable_fields(review=review)
        current = self.instance.subgroup_field if self.instance.pk else ""
        choices = [("", "No subgroups")] + [(k, f"{label} ({k})") for k, label in variables.items()]
        if current and current not in variables:
            choices.append((current, f"{current} (no longer on a form: choose another)"))
        cast(forms.ChoiceField, self.fields["subgroup_field"]).choices = choices
        for name, field in self.fields.items():
            field.label = LABELS.get(name, field.label)
            field.help_text = HELP.get(name, field.help_text)
        # The outcome first: everything else depends on it.
        self.order_fields(["outcome", *SETTINGS_FIELDS])
        if editing:
            del self.fields["outcome"]

    def preset_data(self) -> dict[str, Any]:
        """What static/analysis/presets.js needs to fill the form when a preset is chosen."""
        outcomes = Outcome.objects.filter(review=self.review)
        return {
            "presets": PRESETS,
            "mh_measures": list(MH_MEASURES),
            "default_measures": {str(o.pk): default_measure(o) for o in outcomes},
            "outcome": str(self.instance.outcome_id or ""),
        }

    def clean_prepost_correlation(self) -> float | None:
        value = self.cleaned_data.get("prepost_correlation")
        if value is not None and not -1 < value < 1:
            raise forms.ValidationError(
                "The imputed pre-post correlation must lie between -1 and 1."
            )
        return cast("float | None", value)

    def settings(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k in SETTINGS_FIELDS}
        if not data.get("measure"):
            data.pop("measure", None)
        if data.get("prepost_correlation") is None:
            data.pop("prepost_correlation", None)
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
