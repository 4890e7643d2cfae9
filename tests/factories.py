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
