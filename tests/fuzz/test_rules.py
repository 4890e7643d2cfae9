"""The derived-field rule language: random and mutated rules parse and evaluate, or raise a
RuleError with a message; never another exception."""

from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from extraction.rules import MAX_RULE_LENGTH, Rule, RuleError, parse
from tests.fuzz.strategies import FUZZ

REAL_RULES = [
    'if count_yes(peer_trained, peer_supervised, peer_paid) >= 2 then "higher" else "lower"',
    "round(mean(a, b, c), 1)",
    "n1 + n2",
    "x / 0",
    'if age >= 65 then "older" elif age >= 18 then "adult" else "child"',
    'not answered(dose) or contains(arms, "placebo")',
    "coalesce(n_randomised, n_analysed) * 2 - min(a, b) + max(a, b)",
]
KEYS = ["a", "b", "c", "n1", "n2", "age", "dose", "arms", "x"]
answer = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["yes", "no", "unclear", "", "1e400", "NaN", "-0"]),
    st.lists(st.text(max_size=8), max_size=4),
    st.booleans(),
)
answers = st.dictionaries(st.sampled_from(KEYS), answer, max_size=len(KEYS))

TOKENS = ["if", "then", "elif", "else", "and", "or", "not", "true", "false", "blank", "(", ")",
          ",", "+", "-", "*", "/", "=", "==", "!=", "<", "<=", ">", ">=", '"x"', "'y'", "0",
          "1.5", "999999999999999999999", *KEYS, "sum(", "min(", "max(", "mean(", "count(",
          "count_yes(", "answered(", "coalesce(", "round(", "contains(", "nosuch("]  # fmt: skip


def evaluates_or_explains(text: str, values: dict) -> None:
    try:
        rule = parse(text)
    except RuleError as exc:
        assert str(exc).strip()
        return
    assert isinstance(rule, Rule)
    try:
        result = rule.evaluate(values)
    except RuleError as exc:
        assert str(exc).strip()
        return
    assert result is None or isinstance(result, str | int | float | bool | Decimal | list)


@FUZZ
@given(st.text(max_size=300), answers)
def test_random_text(text, values):
    evaluates_or_explains(text, values)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=60), answers)
@example(["if", "a", "then", '"x"', "else"], {})
@example(["round(", "a", ",", "999999999999999999999", ")"], {"a": 1.5})
@example(["round(", "a", ",", "10", ")"], {"a": "1e30"})
@example(["round(", "a", ")"], {"a": 1e300})
def test_random_token_sequences(tokens, values):
    evaluates_or_explains(" ".join(tokens), values)


@FUZZ
@given(st.sampled_from(REAL_RULES), st.data(), answers)
def test_mutated_real_rules(rule, data, values):
    text = list(rule)
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, max(0, len(text) - 1)))
        op = data.draw(st.sampled_from(["cut", "insert", "dup"]))
        if op == "cut" and text:
            del text[at : at + data.draw(st.integers(1, 10))]
        elif op == "insert":
            text[at:at] = data.draw(st.text(max_size=5))
        else:
            text[at:at] = text[at : at + 10] * data.draw(st.integers(1, 20))
    evaluates_or_explains("".join(text), values)


@FUZZ
@given(st.sampled_from(["-", "not ", "(", "round(", "sum("]), st.integers(50, 700), answers)
def test_deep_nesting_within_the_length_limit(prefix, depth, values):
    text = (prefix * depth + "1")[:MAX_RULE_LENGTH]
    evaluates_or_explains(text, values)


def test_nineteen_hundred_minus_signs_give_a_rule_error():
    """Was a RecursionError; fixed by the rule-recursion part of issue 10."""
    evaluates_or_explains("-" * 1900 + "1", {})
