"""The `when` logic of a rule: all, any, and expressions with not/and/or and parentheses."""

import itertools

import pytest
from unit_kit import policy_with, quote

from domain import logic
from domain.rules import Evaluator


def truth_of(when: str, *truths: bool) -> bool:
    tree = logic.parse(when, len(truths))
    return logic.evaluate(tree, lambda index: truths[index - 1])


def rows(count: int):
    return list(itertools.product([False, True], repeat=count))


@pytest.mark.parametrize("row", rows(3))
def test_all_needs_every_condition(row):
    assert truth_of("all", *row) is all(row)


@pytest.mark.parametrize("row", rows(3))
def test_any_needs_one_condition(row):
    assert truth_of("any", *row) is any(row)


def test_keywords_ignore_case_and_spaces():
    assert truth_of(" ALL ", True, False) is False
    assert truth_of("Any", True, False) is True
    assert truth_of("1 AND NOT 2", True, False) is True


def test_all_of_no_conditions_holds_and_any_of_none_does_not():
    assert truth_of("all") is True
    assert truth_of("any") is False


@pytest.mark.parametrize(("a", "b", "c"), rows(3))
def test_and_binds_tighter_than_or(a, b, c):
    assert truth_of("1 or 2 and 3", a, b, c) is (a or (b and c))
    assert truth_of("1 and 2 or 3", a, b, c) is ((a and b) or c)


@pytest.mark.parametrize(("a", "b", "c"), rows(3))
def test_not_binds_tighter_than_and(a, b, c):
    assert truth_of("not 1 and 2", a, b) is ((not a) and b)
    assert truth_of("not 1 or 2 and 3", a, b, c) is ((not a) or (b and c))


@pytest.mark.parametrize(("a", "b", "c"), rows(3))
def test_parentheses_override_precedence(a, b, c):
    assert truth_of("(1 or 2) and 3", a, b, c) is ((a or b) and c)
    assert truth_of("not (1 and 2)", a, b) is (not (a and b))
    assert truth_of("1 and (2 or not 3)", a, b, c) is (a and (b or not c))


def test_not_can_be_repeated_and_parentheses_nested():
    assert truth_of("not not 1", True) is True
    assert truth_of("((1))", False) is False


def test_a_condition_can_appear_more_than_once():
    assert truth_of("1 and not 1", True) is False


def test_no_space_is_needed_around_parentheses():
    assert truth_of("(1)and(2)", True, True) is True


@pytest.mark.parametrize(
    ("when", "count", "message"),
    [
        ("", 2, "when expression is empty"),
        ("   ", 2, "when expression is empty"),
        ("1 and", 2, "'1 and' ends too early"),
        ("1 2", 2, "unexpected '2' in when expression '1 2'"),
        ("1 and 3", 2, "names condition 3, but the rule has 2 conditions"),
        ("0 or 1", 1, "names condition 0, but the rule has 1 condition"),
        ("1 & 2", 2, "unexpected character '&'"),
        ("1 xor 2", 2, "unknown word 'xor'"),
        ("first and second", 2, "use condition numbers with and, or, not and parentheses"),
        ("(1 and 2", 2, "'(1 and 2'"),
        ("(1 2)", 2, "missing ')'"),
        ("1 and 2)", 2, "unexpected ')'"),
        ("()", 2, "unexpected ')'"),
        ("not", 2, "ends too early"),
    ],
)
def test_an_unreadable_expression_says_what_is_wrong(when, count, message):
    with pytest.raises(logic.LogicError) as caught:
        logic.parse(when, count)
    assert message in str(caught.value)


def test_an_unclosed_parenthesis_is_named_as_a_missing_parenthesis():
    with pytest.raises(logic.LogicError, match=r"missing '\)'"):
        logic.parse("(1 and 2", 2)


def test_a_rule_with_a_custom_when_fires_by_its_expression():
    policy = policy_with(
        """
        - name: r
          approver: vp-sales
          when: 1 and (2 or not 3)
          conditions:
            - {field: discount_percent, op: gt, value: 10}
            - {field: net_total, op: ge, value: 100000}
            - {field: payment_terms, op: eq, value: Net 30}
        """
    )
    evaluator = Evaluator(policy)

    def fires(**fields) -> bool:
        return evaluator.evaluate(quote(**fields))[0].fires

    assert fires(discount_percent=12, net_total=5000, payment_terms="Net 60")
    assert not fires(discount_percent=12, net_total=5000, payment_terms="Net 30")
    assert fires(discount_percent=12, net_total=150000, payment_terms="Net 30")
    assert not fires(discount_percent=8, net_total=150000, payment_terms="Net 60")


def test_a_rule_without_conditions_always_fires():
    policy = policy_with("- {name: always, approver: vp-sales}")
    assert Evaluator(policy).evaluate(quote())[0].fires is True


def test_a_rule_without_conditions_always_fires_even_with_when_any():
    # docs/decisions.md: "A rule with no conditions always fires."
    policy = policy_with("- {name: always, approver: vp-sales, when: any}")
    assert Evaluator(policy).evaluate(quote())[0].fires is True
