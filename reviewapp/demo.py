"""The demo review: real public screening data (SYNERGY, CC0), demo people, no invented data."""

from pathlib import Path

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


def demo_data_dir() -> Path:
    """The shared datasets beside the checkout, or the copy shipped in the repository."""
    for candidate in (
        settings.BASE_DIR.parent / "shared" / "data" / "screening",
        settings.BASE_DIR / "reviewapp" / "demo_data",
    ):
        if (candidate / DEMO_DATASET).exists():
            return candidate
    raise FileNotFoundError(f"{DEMO_DATASET} not found next to the checkout or in demo_data/")


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
    review = Review.objects.filter(title=DEMO_TITLE).first()
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
    for username, _email, roles in DEMO_USERS:
        Membership.objects.create(
            review=review,
            user=users[username],
            is_lead="lead" in roles,
            is_reviewer="reviewer" in roles,
            is_arbiter="arbiter" in roles,
        )
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
