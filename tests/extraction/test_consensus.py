import pytest

from extraction.consensus import UnresolvedError, agree, build_consensus, compare, differences


def test_values_agree_after_normalising_blanks_numbers_case_and_order():
    assert agree("", None)
    assert agree("1.50", 1.5)
    assert agree(" Community  services", "community services")
    assert agree(["b", "a"], ["a", "b"])
    assert not agree("yes", "no")
    assert not agree([{"arm": "A", "n": 40}], [{"arm": "A", "n": 41}])


def test_it_lists_each_difference():
    first = {"design": "RCT", "n": 40, "setting": ["Inpatient"]}
    second = {"design": "RCT", "n": 41}
    assert differences(first, second) == ["n", "setting"]
    assert [c.agree for c in compare(first, second)] == [True, False, False]


def test_it_builds_the_consensus_from_choices_and_edits():
    first = {"design": "RCT", "n": 40, "role": "substitute", "notes": ""}
    second = {"design": "RCT", "n": 41, "role": "addition", "notes": "x"}
    result = build_consensus(
        first, second, choices={"n": "second", "notes": "first"}, edits={"role": "in addition"}
    )
    assert result == {"design": "RCT", "n": 41, "role": "in addition"}


def test_an_unresolved_difference_builds_nothing():
    with pytest.raises(UnresolvedError) as caught:
        build_consensus({"a": 1, "b": 2}, {"a": 2, "b": 3}, choices={"a": "first"})
    assert caught.value.keys == ["b"]
