"""The builder's block actions as services: reorder, duplicate, undo a removed section,
template blocks, and copies from another review (issue 11, form builder)."""

import pytest

from extraction import rules, selectors, services, services_builder
from extraction.models import FieldType, FormField
from reviewapp.errors import DomainError
from tests.extraction.conftest import build_use_case_form
from tests.factories import MembershipFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def keys(section):
    return list(section.fields.filter(removed_in_version=None).values_list("key", flat=True))


def titles(form):
    return list(form.sections.filter(removed_in_version=None).values_list("title", flat=True))


def test_field_reorder_puts_the_fields_in_the_order_given_and_makes_a_version(sheet, lead):
    section = sheet.sections.get(title="Study design")
    ids = list(section.fields.filter(removed_in_version=None).values_list("pk", flat=True))
    sheet.refresh_from_db()
    before = sheet.version
    services_builder.field_reorder(section=section, order=ids[::-1], user=lead)
    assert keys(section) == ["followups", "recruitment_start", "n_randomised", "setting", "design"]
    sheet.refresh_from_db()
    assert sheet.version == before + 1
    assert sheet.versions.get(number=sheet.version).schema["sections"][0]["fields"][0]["key"] == (
        "followups"
    )


def test_field_reorder_refuses_an_order_that_misses_or_repeats_a_field(sheet, lead):
    section = sheet.sections.get(title="Study design")
    ids = list(section.fields.values_list("pk", flat=True))
    with pytest.raises(DomainError, match="each field of the section once"):
        services_builder.field_reorder(section=section, order=ids[:-1], user=lead)
    with pytest.raises(DomainError):
        services_builder.field_reorder(section=section, order=[ids[0], *ids[:-1]], user=lead)
    assert keys(section)[0] == "design"


def test_section_reorder_moves_sections(sheet, lead):
    ids = list(sheet.sections.values_list("pk", flat=True))
    services_builder.section_reorder(form=sheet, order=ids[::-1], user=lead)
    assert titles(sheet)[0] == "Peer worker"


def test_a_duplicated_field_sits_below_its_original_with_a_fresh_key(sheet, lead):
    field = sheet.fields.get(key="n_randomised")
    copy = services_builder.field_duplicate(field=field, user=lead)
    assert copy.key == "n_randomised_2" and copy.label == "Participants randomised (copy)"
    assert copy.field_type == FieldType.INTEGER and copy.min_value == 2 and copy.unit == "people"
    assert keys(field.section)[2:4] == ["n_randomised", "n_randomised_2"]
    assert services_builder.field_duplicate(field=field, user=lead).key == "n_randomised_3"


def test_a_duplicated_section_copies_its_fields_and_its_rule_reads_the_copies(sheet, lead):
    peer = sheet.sections.get(title="Peer worker")
    copy = services_builder.section_duplicate(section=peer, user=lead)
    assert titles(sheet) == ["Study design", "Peer worker", "Peer worker (copy)"]
    derived = copy.fields.get(field_type=FieldType.DERIVED)
    assert derived.key == "org_support_2"
    assert rules.parse(derived.rule).fields == {
        "peer_training_2",
        "peer_supervision_2",
        "peer_integrated_2",
    }
    assert [k.rsplit("_", 1)[0] for k in keys(copy)] == [k for k in keys(peer)]


def test_undo_of_a_removed_section_brings_back_the_section_and_its_fields(sheet, lead):
    peer = sheet.sections.get(title="Peer worker")
    # A field removed before the section stays removed: undo reverts only the section's removal.
    services.field_remove(field=sheet.fields.get(key="training_notes"), user=lead)
    active = keys(peer)
    services.section_remove(section=peer, user=lead)
    assert titles(sheet) == ["Study design"]
    services_builder.section_restore(section=peer, user=lead)
    services_builder.section_restore(section=peer, user=lead)  # a second click: nothing
    assert titles(sheet) == ["Study design", "Peer worker"]
    assert keys(peer) == active and "training_notes" not in active


@pytest.mark.parametrize("name", list(services_builder.TEMPLATES))
def test_each_template_adds_its_block_in_one_call(sheet, lead, name):
    section = services_builder.template_add(form=sheet, template=name, user=lead)
    block = services_builder.TEMPLATES[name]
    assert section.title == block["title"] and titles(sheet)[-1] == block["title"]
    assert section.fields.count() == len(block["fields"])


def test_templates_added_twice_get_fresh_keys_and_rules_that_read_their_own_block(sheet, lead):
    # The use-case form already has peer_training ... org_support.
    section = services_builder.template_add(
        form=sheet, template="organisational_support", user=lead
    )
    assert keys(section) == [
        "peer_training_2",
        "peer_supervision_2",
        "peer_integrated_2",
        "org_support_2",
    ]
    derived = section.fields.get(key="org_support_2")
    assert "peer_training_2" in derived.rule and "peer_training," not in derived.rule
    twice = services_builder.template_add(form=sheet, template="continuous_outcome", user=lead)
    again = services_builder.template_add(form=sheet, template="continuous_outcome", user=lead)
    assert keys(twice)[0] == "outcome_name" and keys(again)[0] == "outcome_name_2"


def test_an_unknown_template_is_refused(sheet, lead):
    with pytest.raises(DomainError, match="no template"):
        services_builder.template_add(form=sheet, template="nope", user=lead)


def test_a_form_or_one_section_is_copied_from_another_review(review, lead):
    other = ReviewFactory(title="Another review")
    MembershipFactory(review=other, user=lead, is_lead=True)
    source = build_use_case_form(other, lead)
    target = services.form_create(review=review, name="Sheet", user=lead)
    services_builder.copy_into(form=target, user=lead, source_form=source)
    assert titles(target) == ["Study design", "Peer worker"]
    assert (
        selectors.form_schema(form=target)["sections"]
        == (selectors.form_schema(form=source)["sections"])
    )
    peer = source.sections.get(title="Peer worker")
    [added] = services_builder.copy_into(form=target, user=lead, source_section=peer)
    assert added.fields.get(field_type=FieldType.DERIVED).key == "org_support_2"

    copy = services_builder.form_copy(review=review, source=source, user=lead, name="Copied")
    assert copy.review == review and copy.fields.count() == source.fields.count()


def test_copy_sources_list_only_reviews_the_user_is_on(review, lead, outsider):
    other = ReviewFactory(title="Not theirs")
    MembershipFactory(review=other, user=outsider, is_lead=True)
    theirs = build_use_case_form(other, outsider)
    mine = build_use_case_form(review, lead)
    assert selectors.copy_sources(user=lead) == [mine]
    assert selectors.copy_source_form(user=lead, form_pk=theirs.pk) is None
    section = theirs.sections.first()
    assert selectors.copy_source_section(user=lead, section_pk=section.pk) is None
    assert selectors.copy_source_form(user=outsider, form_pk=theirs.pk) == theirs


def test_a_copy_whose_rule_reads_a_field_outside_the_block_leaves_nothing_behind(sheet, lead):
    peer = sheet.sections.get(title="Peer worker")
    derived = peer.fields.get(key="org_support")
    # The rule reads a field of the other section; copied alone, that field is not on the form.
    services.field_update(
        field=derived,
        data=services.FieldInput(
            label=derived.label,
            field_type=FieldType.DERIVED,
            choices=["higher", "lower"],
            rule='if n_randomised > 100 then "higher" else "lower"',
        ),
        user=lead,
    )
    target = services.form_create(review=sheet.review, name="Empty", user=lead)
    with pytest.raises(DomainError, match="Nothing was added.*no field 'n_randomised'"):
        services_builder.copy_into(form=target, user=lead, source_section=peer)
    assert target.sections.count() == 0 and FormField.objects.filter(form=target).count() == 0
