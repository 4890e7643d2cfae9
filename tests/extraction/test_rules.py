import pytest

from extraction.rules import RuleError, parse

ORG = 'if count_yes(a, b, c) >= 2 then "higher" else "lower"'


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"a": "yes", "b": "yes", "c": "no"}, "higher"),
        ({"a": "yes", "b": "yes", "c": "yes"}, "higher"),
        ({"a": "yes", "b": "no", "c": "unclear"}, "lower"),
        ({}, "lower"),
    ],
)
def test_it_derives_organisational_support_from_three_indicators(answers, expected):
    assert parse(ORG).evaluate(answers) == expected


def test_it_lists_the_fields_and_categories_a_rule_uses():
    rule = parse(ORG)
    assert rule.fields == {"a", "b", "c"}
    assert rule.literals == {"higher", "lower"}


def test_arithmetic_over_a_blank_answer_stays_blank():
    assert parse("n1 + n2").evaluate({"n1": 3, "n2": 4.5}) == 7.5
    assert parse("n1 + n2").evaluate({"n1": 3}) is None
    assert parse("x / 0").evaluate({"x": 1}) is None


def test_it_supports_elif_boolean_logic_and_functions():
    rule = parse(
        'if not answered(a) then blank elif a = "Yes" and b > 3 then 1 '
        'elif contains(s, "Crisis teams") then 2 else 3'
    )
    assert rule.evaluate({}) is None
    assert rule.evaluate({"a": "yes", "b": 5}) == 1
    assert rule.evaluate({"a": "no", "s": ["Inpatient", "Crisis teams"]}) == 2
    assert rule.evaluate({"a": "no", "s": ["Inpatient"]}) == 3
    assert parse("round(mean(a, b, c), 1)").evaluate({"a": 1, "b": 2, "c": 2}) == 1.7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("if a then 1", "Expected 'else'"),
        ("__import__('os')", "Unknown function"),
        ("a.b", "Unexpected character '.'"),
        ("1 +", "Unexpected"),
        ('"open', "Unexpected character"),
        ("(" * 60 + "1" + ")" * 60, "nested too deeply"),
    ],
)
def test_it_rejects_malformed_rules_with_a_position(text, message):
    with pytest.raises(RuleError, match=message):
        parse(text)
