from typing import Any

from django import forms

from extraction.rob.models import RobTool


class ToolForm(forms.Form):
    kind = forms.ChoiceField(label="Tool", choices=RobTool.Kind.choices)
    name = forms.CharField(
        max_length=200, required=False, help_text="Leave blank to use the tool's name."
    )
    mode = forms.ChoiceField(
        label="Assessment", choices=RobTool.Mode.choices, initial=RobTool.Mode.SINGLE
    )
    judgements = forms.CharField(
        required=False,
        label="Judgement options (custom tools)",
        help_text="Comma-separated, best first, e.g. Low, Some concerns, High.",
    )
    domains = forms.CharField(
        required=False,
        label="Domains (custom tools)",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One domain per line: the name, then its questions, separated by |. "
        "e.g. Selection | Was the cohort representative? | Was exposure ascertained?",
    )
    per_result = forms.BooleanField(
        required=False, label="Assess per result (outcome) rather than per study"
    )

    def definition(self) -> dict[str, Any]:
        data = self.cleaned_data
        domains = []
        for line in (data.get("domains") or "").splitlines():
            parts = [p.strip() for p in line.split("|")]
            if parts and parts[0]:
                domains.append({"name": parts[0], "questions": [p for p in parts[1:] if p]})
        return {
            "judgements": [j.strip() for j in (data.get("judgements") or "").split(",")],
            "domains": domains,
            "per_result": data.get("per_result", False),
        }


def definition_as_text(definition: dict[str, Any]) -> dict[str, str]:
    return {
        "judgements": ", ".join(definition.get("judgements", [])),
        "domains": "\n".join(
            " | ".join([d["name"], *d.get("questions", [])]) for d in definition.get("domains", [])
        ),
    }
