"""The demo review: real public screening data (SYNERGY, CC0), demo people, no invented data."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from reviewapp.models import Membership, Review
from screening import services as screening_services

DEMO_PASSWORD = "demo-review-2026"
DEMO_USERS = [
    ("lead", "lead@example.org", ["lead"]),
    ("reviewer1", "reviewer1@example.org", ["reviewer"]),
    ("reviewer2", "reviewer2@example.org", ["reviewer"]),
    ("arbiter", "arbiter@example.org", ["arbiter"]),
]
DEMO_TITLE = "Demo: postmenopausal hormone replacement therapy (Nelson et al. 2002)"
DEMO_DATASET = "Nelson_2002.ris"
DEMO_CITATION = (
    "Records screened by Nelson HD et al., Postmenopausal hormone replacement therapy: scientific "
    "review, JAMA 2002. From the SYNERGY dataset (De Bruin et al., DataverseNL, "
    "doi:10.34894/HE6NAQ, CC0 1.0); metadata from OpenAlex (CC0)."
)


BCG_TITLE = "Demo: BCG vaccine against tuberculosis (Colditz et al. 1994)"
BCG_CITATION = (
    "Trial data compiled by Colditz GA et al., Efficacy of BCG vaccine in the prevention of "
    "tuberculosis, JAMA 1994;271:698-702, as distributed with R's metafor (dat.bcg). The trials "
    "are entered as already screened in; the records carry each trial's authors and year only."
)


def demo_data_dir() -> Path:
    """The shared datasets beside the checkout, or the copy shipped in the repository."""
    for candidate in (
        settings.BASE_DIR.parent / "shared" / "data" / "screening",
        settings.BASE_DIR / "reviewapp" / "demo_data",
    ):
        if (candidate / DEMO_DATASET).exists():
            return candidate
    raise FileNotFoundError(f"{DEMO_DATASET} not found next to the checkout or in demo_data/")


def holds_other_reviews() -> bool:
    """True when the database holds reviews other than the demo ones (deleted ones too): the
    demo users, whose password is public, must never join a real installation by accident."""
    return Review.all_objects.exclude(title__in=(DEMO_TITLE, BCG_TITLE)).exists()


def demo_loaded() -> bool:
    """Both demo reviews (deleted ones too: they stay in the bin) and every demo user exist,
    so `load_demo` would change nothing."""
    usernames = [username for username, _email, _roles in DEMO_USERS]
    return Review.all_objects.filter(
        title__in=(DEMO_TITLE, BCG_TITLE)
    ).count() == 2 and get_user_model().objects.filter(username__in=usernames).count() == len(
        usernames
    )


def _add_demo_team(review: Review, users: dict[str, Any]) -> None:
    for username, _email, roles in DEMO_USERS:
        Membership.objects.create(
            review=review,
            user=users[username],
            is_lead="lead" in roles,
            is_reviewer="reviewer" in roles,
            is_arbiter="arbiter" in roles,
        )


@transaction.atomic
def load_demo() -> Review:
    User = get_user_model()
    users = {}
    for username, email, _roles in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username, defaults={"email": email})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        users[username] = user
    # A demo review a lead deleted stays in the bin (restorable) instead of coming back twice.
    review = Review.all_objects.filter(title=DEMO_TITLE).first()
    if review is not None:
        return review
    review = Review.objects.create(
        title=DEMO_TITLE,
        created_by=users["lead"],
        population="Postmenopausal women",
        intervention="Hormone replacement therapy (oestrogen with or without progestin)",
        comparison="Placebo or no therapy",
        outcomes="Coronary heart disease, stroke, breast cancer, fractures and other outcomes",
        inclusion_criteria=[
            "Randomised controlled trials or observational studies of HRT in postmenopausal women",
            "Reports a clinical outcome named in the review question",
        ],
        exclusion_criteria=["Not in postmenopausal women", "No outcome data"],
    )
    _add_demo_team(review, users)
    path = demo_data_dir() / DEMO_DATASET
    batch = screening_services.import_create(
        review=review,
        created_by=users["lead"],
        upload=SimpleUploadedFile(path.name, path.read_bytes()),
        source_database="OpenAlex (SYNERGY dataset)",
        search_string=DEMO_CITATION,
        queue=False,
    )
    transaction.on_commit(lambda: screening_services.import_run(batch_id=batch.pk))
    return review


@transaction.atomic
def load_bcg_demo() -> Review:
    """A review past screening, with real published trial data extracted and an analysis, so
    the dashboard, forest and funnel plots have something true to show."""
    import csv

    from analysis import services as analysis_services
    from extraction import services as extraction
    from extraction.models import ExtractionForm, FieldType
    from screening.models import ImportBatch, Record, ScreeningItem, Stage, Study, Verdict

    User = get_user_model()
    review = Review.all_objects.filter(title=BCG_TITLE).first()
    if review is not None:
        return review
    users = {username: User.objects.get(username=username) for username, _e, _r in DEMO_USERS}
    lead = users["lead"]
    review = Review.objects.create(
        title=BCG_TITLE,
        created_by=lead,
        population="People without tuberculosis",
        intervention="BCG vaccination",
        comparison="No vaccination",
        outcomes="Tuberculosis (positive cases) during follow-up",
        inclusion_criteria=["Prospective trials of BCG vaccine with a concurrent control group"],
        exclusion_criteria=["No tuberculosis outcome reported"],
    )
    _add_demo_team(review, users)
    bcg_csv = settings.BASE_DIR / "reviewapp" / "demo_data" / "dat_bcg.csv"
    with open(bcg_csv, newline="", encoding="utf-8") as fh:
        trials = list(csv.DictReader(fh))
    batch = ImportBatch.objects.create(
        review=review,
        created_by=lead,
        source_database="metafor dat.bcg (Colditz et al. 1994)",
        search_string=BCG_CITATION,
        file_name="dat_bcg.csv",
        file_format="csv",
        status=ImportBatch.Status.DONE,
        records_read=len(trials),
        records_imported=len(trials),
    )
    form = extraction.form_create(
        review=review, name="Trial characteristics", user=lead, mode=ExtractionForm.Mode.SINGLE
    )
    section = extraction.section_add(form=form, title="Design and setting", user=lead)
    extraction.field_add(
        section=section,
        data=extraction.FieldInput(
            label="Allocation", key="alloc", field_type=FieldType.SINGLE_CHOICE,
            choices=["random", "alternate", "systematic"],
        ),
        user=lead,
    )  # fmt: skip
    extraction.field_add(
        section=section,
        data=extraction.FieldInput(
            label="Absolute latitude", key="ablat", field_type=FieldType.DECIMAL, unit="degrees"
        ),
        user=lead,
    )
    outcome = extraction.outcome_save(
        review=review,
        name="Tuberculosis",
        outcome_type="dichotomous",
        desirable_direction="lower",
    )
    arms = [
        {"label": "BCG", "role": "intervention"},
        {"label": "No vaccine", "role": "control"},
    ]
    for trial in trials:
        label = f"{trial['author']} {trial['year']}"
        study = Study.objects.create(review=review, label=label)
        record = Record.objects.create(
            review=review,
            import_batch=batch,
            source_line=int(trial["trial"]) + 1,
            title=f"{label} (BCG vaccine trial; dat.bcg)",
            authors=[trial["author"]],
            year=int(trial["year"]),
            study=study,
        )
        for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT):
            ScreeningItem.objects.create(
                review=review, record=record, stage=stage, status=ScreeningItem.Status.DECIDED,
                votes=2, final_verdict=Verdict.INCLUDE,
            )  # fmt: skip
        tpos, tneg, cpos, cneg = (int(trial[k]) for k in ("tpos", "tneg", "cpos", "cneg"))
        extraction.extraction_save(
            form=form,
            study=study,
            user=lead,
            expected_version=0,
            data=extraction.ExtractionInput(
                answers={"alloc": trial["alloc"], "ablat": trial["ablat"]},
                arms=arms,
                outcomes=[
                    {
                        "outcome": outcome.pk,
                        "timepoint": "end of follow-up",
                        "arm": "BCG",
                        "events": tpos,
                        "total": tpos + tneg,
                    },
                    {
                        "outcome": outcome.pk,
                        "timepoint": "end of follow-up",
                        "arm": "No vaccine",
                        "events": cpos,
                        "total": cpos + cneg,
                    },
                ],  # fmt: skip
                complete=True,
            ),
        )
    analysis_services.analysis_create(
        review=review,
        outcome=outcome,
        created_by=lead,
        name="Risk ratio, random effects (REML)",
        measure="RR",
        subgroup_field="alloc",
        intervention_label="BCG",
        control_label="no vaccine",
    )
    return review
