from extraction.models import (
    Extraction,
    ExtractionForm,
    FormField,
    FormSection,
    Outcome,
    OutcomeData,
)

HISTORY_MODELS = [
    ("Outcome", Outcome.history, "review_id"),
    ("Extraction form", ExtractionForm.history, "review_id"),
    ("Form section", FormSection.history, "form__review_id"),
    ("Form field", FormField.history, "form__review_id"),
    ("Extraction", Extraction.history, "form__review_id"),
    ("Outcome data", OutcomeData.history, "extraction__form__review_id"),
]
