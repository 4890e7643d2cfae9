from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from reviewapp.models import ROLE_DESCRIPTIONS, Role, VerifiedEmail

User = get_user_model()

ROLE_CHOICES = [
    (str(role), f"{role.label}: {ROLE_DESCRIPTIONS[role]}")
    for role in (Role.LEAD, Role.REVIEWER, Role.ARBITER, Role.VIEWER)
]


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="Invitations to reviews are sent here.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args: Any, invited_email: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invited_email = invited_email
        if invited_email:
            # The invitation link proved the address: it is not the visitor's to change.
            self.fields["email"].initial = invited_email
            self.fields["email"].disabled = True
            self.fields["email"].help_text = "The address your invitation was sent to."

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if self.invited_email:
            # Someone may have registered the address without owning it; the link's holder
            # does own it, so only an account that proved the address stands in the way.
            if VerifiedEmail.objects.filter(email__iexact=email).exists():
                raise forms.ValidationError(
                    "An account with this e-mail already exists: log in to accept."
                )
            return email
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this e-mail already exists.")
        return email


class CriteriaField(forms.CharField):
    """One criterion per line in the browser; a list in the database."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value: object) -> object:
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value: object) -> list[str]:  # type: ignore[override]  # cleans to a list
        text = super().to_python(value) or ""
        return [line.strip() for line in str(text).splitlines() if line.strip()]


class ReviewForm(forms.Form):
    title = forms.CharField(max_length=300)
    protocol_registration = forms.CharField(
        max_length=100, required=False, help_text="e.g. PROSPERO CRD42015025621"
    )
    population = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    intervention = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    comparison = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    outcomes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    inclusion_criteria = CriteriaField(required=False, help_text="One criterion per line.")
    exclusion_criteria = CriteriaField(required=False, help_text="One criterion per line.")


class InviteForm(forms.Form):
    who = forms.CharField(label="Username or e-mail", max_length=254)
    # Nothing ticked in advance: a viewer invited in a hurry must not become a reviewer.
    roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one role (Viewer for read-only access)."},
    )


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="The script or machine that will use it, e.g. 'R on my laptop'."
    )
    days = forms.TypedChoiceField(
        label="Expires after",
        coerce=int,
        choices=[(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "a year"), (0, "never")],
        initial=90,
    )
