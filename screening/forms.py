from django import forms

from screening.references.parsers import SUPPORTED_EXTENSIONS


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="RIS, PubMed/MEDLINE (.nbib, .txt), BibTeX, EndNote XML, CSV or TSV.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(sorted(SUPPORTED_EXTENSIONS))}),
    )
    source_database = forms.CharField(
        label="Database",
        max_length=200,
        help_text="Where the records came from, as PRISMA reports it (e.g. MEDLINE (Ovid)).",
    )
    search_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="When you searched.",
    )
    search_string = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="The search as run."
    )
    new_search = forms.BooleanField(
        required=False,
        label="Import again as a new search",
        help_text="Only for a file already imported into this review: tick it when a new "
        "search returned exactly the same file, so its records are counted again.",
    )


class ImportDeleteForm(forms.Form):
    keep_screened = forms.BooleanField(required=False)
