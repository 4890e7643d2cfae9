from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

User = get_user_model()

ROLE_CHOICES = [
    ("lead", "Lead (manages team, settings, forms)"),
    ("reviewer", "Reviewer (screens and extracts)"),
    ("arbiter", "Arbiter (resolves conflicts)"),
    ("viewer", "Viewer (read-only)"),
]


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="Invitations to reviews are sent here.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
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
    roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple, initial=["reviewer"]
    )


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )
