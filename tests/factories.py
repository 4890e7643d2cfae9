import factory
from django.contrib.auth import get_user_model

from reviewapp.models import Membership, Review
from screening.models import ImportBatch, Record


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or "pass-word-123")
        if create:
            self.save(update_fields=["password"])


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    title = factory.Sequence(lambda n: f"Review {n}")
    protocol_registration = "CRD42015025621"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    review = factory.SubFactory(ReviewFactory)
    user = factory.SubFactory(UserFactory)


class ImportBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportBatch

    review = factory.SubFactory(ReviewFactory)
    source_database = "MEDLINE"
    file_name = "medline.ris"
    status = ImportBatch.Status.DONE


class RecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Record

    review = factory.SubFactory(ReviewFactory)
    import_batch = factory.SubFactory(ImportBatchFactory, review=factory.SelfAttribute("..review"))
    title = factory.Sequence(lambda n: f"A randomised trial of intervention number {n}")
    authors = factory.LazyFunction(lambda: ["Smith, J", "Jones, K"])
    year = 2019
    journal = "BMC Psychiatry"


def include_study(review, label=None, *, record=None, reviewers=None):
    """Include a study the way a team does, in one call: a record (imported by the factory
    unless given) is included by two reviewers at title/abstract, gets its PDF, is included
    at full text, and is linked to the study `label` (or, without one, stays the study of its
    own that inclusion gives it). Returns the study."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from screening import services_screening as screening
    from screening.models import Stage

    if reviewers is None:
        reviewers = []
        for username in ("included_by_a", "included_by_b"):
            user = UserFactory(username=username)
            Membership.objects.get_or_create(
                review=review, user=user, defaults={"is_reviewer": True}
            )
            reviewers.append(user)
    record = record or RecordFactory(review=review)
    for user in reviewers:
        screening.decision_record(
            record=record, stage=Stage.TITLE_ABSTRACT, reviewer=user, verdict="include"
        )
    screening.fulltext_attach(
        record=record, pdf=SimpleUploadedFile("report.pdf", PDF), user=reviewers[0]
    )
    for user in reviewers:
        screening.decision_record(
            record=record, stage=Stage.FULL_TEXT, reviewer=user, verdict="include"
        )
    if label:
        return screening.study_link_report(record=record, new_label=label)
    record.refresh_from_db()
    return record.study


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
