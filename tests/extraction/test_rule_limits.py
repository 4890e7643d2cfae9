"""Probe finding 10: a derived-field rule of 1,900 minus signs answered 500 (RecursionError).

Every rule that nests or chains too deep is refused with a message naming the problem, through
the parser, the service, the builder page and the API; nothing is stored."""

import pytest

from extraction import services
from extraction.models import FieldType, FormField
from extraction.rules import MAX_DEPTH, MAX_RULE_LENGTH, RuleError, parse

pytestmark = pytest.mark.django_db

DEEP_RULES = {
    "minus signs": "-" * 1900 + "1",
    "nots": "not " * 450 + "true",
    "brackets": "(" * 900 + "1" + ")" * 900,
    "a chain of additions": "+".join(["1"] * 999),
    "a chain of comparisons and ands": " and ".join(["a=1"] * 240),
    "nested function calls": "sum(" * 300 + "1" + ")" * 300,
}


@pytest.mark.parametrize("name", sorted(DEEP_RULES))
def test_the_parser_refuses_rules_nested_or_chained_too_deep(name):
    text = DEEP_RULES[name]
    assert len(text) <= MAX_RULE_LENGTH
    with pytest.raises(RuleError, match="too deep|too many"):
        parse(text).evaluate({"a": 1})


def test_rules_just_inside_the_limits_still_work():
    assert parse("-" * 20 + "1").evaluate({}) == 1
    assert parse("+".join(["1"] * 60)).evaluate({}) == 60
    assert parse("(" * (MAX_DEPTH - 2) + "2" + ")" * (MAX_DEPTH - 2)).evaluate({}) == 2


@pytest.fixture
def section(review, lead):
    form = services.form_create(review=review, name="Sheet", user=lead)
    return services.section_add(form=form, title="Design", user=lead)


def test_the_service_refuses_a_deep_rule_with_a_clear_error(section, lead):
    with pytest.raises(services.DomainError, match="minus signs") as caught:
        services.field_add(
            section=section,
            data=services.FieldInput(
                label="Deep", field_type=FieldType.DERIVED, rule=DEEP_RULES["minus signs"]
            ),
            user=lead,
        )
    assert caught.value.field == "rule"
    assert not FormField.objects.filter(section=section).exists()


def test_the_builder_page_answers_a_deep_rule_with_a_message(client_for, review, lead, section):
    url = (
        f"/reviews/{review.pk}/extraction/forms/{section.form_id}/sections/{section.pk}/fields/new/"
    )
    response = client_for(lead).post(
        url,
        {"label": "Deep", "field_type": "derived", "rule": DEEP_RULES["minus signs"]},
        follow=True,
    )
    # Refused, not a server error: the builder comes back with the values and the message.
    assert response.status_code == 422
    assert "minus signs" in response.content.decode()
    assert not FormField.objects.filter(section=section).exists()


@pytest.mark.parametrize("name", sorted(DEEP_RULES))
def test_the_api_answers_a_deep_rule_with_400(api_for, review, lead, section, name):
    response = api_for(lead).post(
        f"/api/reviews/{review.pk}/extraction-fields/",
        {"section": section.pk, "label": "Deep", "field_type": "derived", "rule": DEEP_RULES[name]},
        format="json",
    )
    assert response.status_code == 400, response.content[:200]
    assert "rule" in response.json()
    assert not FormField.objects.filter(section=section).exists()
