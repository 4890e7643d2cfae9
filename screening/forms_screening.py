from typing import Any, TypedDict

from django import forms

from screening.models import Stage, StageSettings


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class StageSettingsValues(TypedDict):
    """The keywords of `stage_settings_update`, as the form cleans them."""

    reviewers_required: int
    blind: bool
    order: str
    exclusion_reasons: list[str]
    include_terms: list[str]
    exclude_terms: list[str]
    votes_need_pdf: bool | None


class StageSettingsForm(forms.Form):
    reviewers_required = forms.TypedChoiceField(
        label="Independent decisions per record",
        choices=[(2, "2 (dual screening)"), (1, "1 (single screening)")],
        coerce=int,
    )
    blind = forms.BooleanField(
        required=False,
        label="Blind mode",
        help_text="Reviewers do not see each other's decisions until a record has all of them.",
    )
    order = forms.ChoiceField(label="Order of records", choices=StageSettings.Order.choices)
    exclusion_reasons = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One per line, at most 9 (keys 1–9 on the screening page). "
        "Required at full text.",
    )
    include_terms = forms.CharField(
        required=False,
        label="Highlight in green",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Words that suggest inclusion, one per line.",
    )
    exclude_terms = forms.CharField(
        required=False,
        label="Highlight in red",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Words that suggest exclusion, one per line.",
    )

    votes_need_pdf = forms.BooleanField(
        required=False,
        label="Votes need an attached PDF",
        help_text="Full text: a reviewer votes on a report only once its PDF is attached "
        "(a report that cannot be found is marked 'not retrieved' instead).",
    )

    def __init__(self, *args: Any, stage: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stage = stage
        if stage != Stage.FULL_TEXT:
            del self.fields["votes_need_pdf"]

    @classmethod
    def from_settings(cls, settings: StageSettings) -> "StageSettingsForm":
        return cls(
            stage=settings.stage,
            initial={
                "votes_need_pdf": settings.votes_need_pdf,
                "reviewers_required": settings.reviewers_required,
                "blind": settings.blind,
                "order": settings.order,
                "exclusion_reasons": "\n".join(settings.exclusion_reasons),
                "include_terms": "\n".join(settings.include_terms),
                "exclude_terms": "\n".join(settings.exclude_terms),
            },
        )

    def values(self) -> StageSettingsValues:
        data = self.cleaned_data
        return {
            "reviewers_required": data["reviewers_required"],
            "blind": data["blind"],
            "order": data["order"],
            "exclusion_reasons": _lines(data["exclusion_reasons"]),
            "include_terms": _lines(data["include_terms"]),
            "exclude_terms": _lines(data["exclude_terms"]),
            # None (keep the stored choice) where the stage does not offer it.
            "votes_need_pdf": data["votes_need_pdf"] if "votes_need_pdf" in self.fields else None,
        }
