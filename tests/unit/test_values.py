"""The twelve operators, typed by the value found in the quote (policy-v1 §1, "Operators")."""

import datetime as dt

import pytest
from unit_kit import policy_with, quote

from domain.quote import parse_quote
from domain.rules import Evaluator, make_test
from domain.values import OPERATORS, compare, format_value, smart_condition_holds

# (operator, value in the quote, value in the policy, expected truth)
TABLE = [
    # numbers compare as numbers, whatever the policy side looks like
    ("eq", 10, 10.0, True),
    ("eq", 10, "10", True),
    ("ne", 10, 11, True),
    ("ne", 10, 10, False),
    ("lt", 9, 10, True),
    ("lt", 9, "10", True),  # as text "9" > "10": the quote's number decides
    ("le", 10, 10, True),
    ("le", 10.5, 10, False),
    ("gt", 18.5, 10, True),
    ("gt", 10, 10, False),
    ("ge", 100000, 100000, True),
    ("ge", 99999.99, 100000, False),
    ("gt", 1500, "1,000", True),
    # ISO dates compare as dates, against YAML dates or ISO strings
    ("gt", "2027-01-15", dt.date(2027, 1, 1), True),
    ("lt", "2027-01-15", "2027-02-01", True),
    ("eq", "2027-01-01", dt.date(2027, 1, 1), True),
    ("ge", "2027-01-01", "2026-12-31T23:00:00", True),
    ("le", "2027-01-01T10:00:00Z", "2027-01-01T11:00:00+01:00", True),
    ("ne", "2027-01-01", "2027-01-02", True),
    # booleans compare as booleans, reading yes/no/true/false
    ("eq", True, True, True),
    ("eq", True, "yes", True),
    ("eq", False, "false", True),
    ("ne", True, False, True),
    ("eq", False, True, False),
    # strings compare as strings, exactly
    ("eq", "Net 60", "Net 60", True),
    ("eq", "Net 60", "net 60", False),
    ("ne", "Enterprise", "SMB", True),
    ("lt", "apple", "banana", True),
    ("gt", "10", "9", False),  # text found in the quote compares as text
    # membership
    ("in", "Net 60", ["Net 60", "Net 90"], True),
    ("in", "Net 30", ["Net 60", "Net 90"], False),
    ("in", 60, ["60", 90], True),
    ("in", "2027-01-01", [dt.date(2027, 1, 1)], True),
    ("not_in", "Net 30", ["Net 60", "Net 90"], True),
    ("not_in", "Net 60", ["Net 60", "Net 90"], False),
    # contains: a list holds an item, a text holds a piece of text
    ("contains", ["EU", "US"], "EU", True),
    ("contains", ["EU", "US"], "APAC", False),
    ("contains", [1, 2, 3], 2, True),
    ("contains", "Premium Support", "Support", True),
    ("not_contains", ["EU", "US"], "APAC", True),
    ("not_contains", "Premium Support", "Support", False),
    ("starts_with", "SW-SEAT", "SW-", True),
    ("starts_with", "HW-100", "SW-", False),
    ("ends_with", "Acme GmbH", "GmbH", True),
    ("ends_with", "Acme Inc", "GmbH", False),
    # lists equal lists; lists are never ordered
    ("eq", ["a", "b"], ["a", "b"], True),
    ("ne", ["a", "b"], ["b", "a"], True),
    ("gt", [2], 1, False),
]


@pytest.mark.parametrize(("op", "actual", "expected", "truth"), TABLE)
def test_each_operator_compares_by_the_type_found_in_the_quote(op, actual, expected, truth):
    assert compare(op, actual, expected) is truth


@pytest.mark.parametrize(("op", "actual", "expected", "truth"), TABLE)
def test_the_compiled_condition_agrees_with_plain_comparison(op, actual, expected, truth):
    assert make_test(op, expected)(actual) is truth


def test_the_table_covers_all_twelve_operators():
    assert {op for op, *_ in TABLE} == set(OPERATORS)
    assert len(OPERATORS) == 12


@pytest.mark.parametrize("op", OPERATORS)
def test_a_missing_value_makes_every_operator_false_even_the_negative_ones(op):
    expected = ["x"] if op in ("in", "not_in") else "x"
    assert compare(op, None, expected) is False
    assert make_test(op, expected)(None) is False


@pytest.mark.parametrize(
    ("op", "actual", "expected"),
    [
        ("gt", 5, "lots"),
        ("ne", 5, "lots"),
        ("eq", 5, "lots"),
        ("lt", "2027-01-01", "tomorrow"),
        ("ne", "2027-01-01", "tomorrow"),
        ("eq", True, "maybe"),
        ("ne", True, "maybe"),
        ("eq", "2027-02-30", "2027-02-28"),
        ("starts_with", 1234, "12"),
        ("contains", 1234, "2"),
        ("in", ["a"], ["a"]),
        ("ne", "2027-01-01", "TBD"),
        ("ne", "2027-01-01T10:00:00", "soon"),
    ],
)
def test_an_unreadable_side_makes_the_comparison_false(op, actual, expected):
    assert compare(op, actual, expected) is False
    assert make_test(op, expected)(actual) is False


def test_not_a_number_in_a_quote_is_unreadable_for_every_operator_including_ne():
    # JSON accepts NaN; it is no number to compare, so the condition is false like any unreadable side.
    nan = float("nan")
    assert compare("ne", nan, 5) is False
    assert make_test("ne", 5)(nan) is False


def test_a_not_a_number_field_does_not_fire_a_ne_rule():
    policy = policy_with(
        """
        - name: odd-margin
          approver: vp-sales
          conditions: [{field: margin, op: ne, value: 5}]
        """
    )
    outcome = Evaluator(policy).evaluate(quote(margin=float("nan")))[0]
    assert outcome.fires is False


def test_a_date_field_does_not_fire_a_ne_rule_against_a_word_that_is_no_date():
    policy = policy_with(
        """
        - name: close-date-set
          approver: vp-sales
          conditions: [{field: close_date, op: ne, value: TBD}]
        """
    )
    outcome = Evaluator(policy).evaluate(quote(close_date="2027-01-01"))[0]
    assert outcome.fires is False


# ------------------------------------------------------------ conditions on quote fields


def conditions_policy(*conditions: str, when: str = "all"):
    listed = "\n".join(f"    - {c}" for c in conditions)
    return policy_with(f"- name: r\n  approver: vp-sales\n  when: {when}\n  conditions:\n{listed}\n")


def fires(policy, q) -> bool:
    return Evaluator(policy).evaluate(q)[0].fires


def test_a_dotted_field_reads_inside_the_quote():
    policy = conditions_policy("{field: account.segment, op: eq, value: Enterprise}")
    assert fires(policy, quote(account={"id": "A-1", "segment": "Enterprise"}))
    assert not fires(policy, quote(account={"id": "A-1", "segment": "SMB"}))


def test_a_dotted_field_through_the_owner_reads_the_owners_directory_entry():
    policy = conditions_policy("{field: owner.manager, op: eq, value: mike}")
    assert fires(policy, quote(owner="rita"))


def test_a_dotted_field_through_an_owner_given_by_slack_id_reads_the_owners_directory_entry():
    policy = conditions_policy("{field: owner.manager, op: eq, value: mike}")
    assert fires(policy, quote(owner="U0RITA"))


def test_a_condition_on_a_missing_field_is_false():
    policy = conditions_policy("{field: payment_terms, op: not_in, value: [Net 30]}")
    assert not fires(policy, quote())


def test_a_condition_against_another_field_compares_the_two_fields():
    policy = conditions_policy("{field: net_total, op: lt, other_field: floor_price}")
    assert fires(policy, quote(net_total=900, floor_price=1000))
    assert not fires(policy, quote(net_total=1100, floor_price=1000))
    assert not fires(policy, quote(net_total=900))


def test_a_condition_against_another_variable_compares_the_two_variables():
    policy = policy_with(
        """
        - name: services-heavy
          approver: vp-sales
          conditions: [{variable: services_total, op: gt, other_variable: hardware_total}]
        """,
        variables="""
        services_total: {aggregate: sum, field: net_total, where: [{field: family, op: eq, value: Services}]}
        hardware_total: {aggregate: sum, field: net_total, where: [{field: family, op: eq, value: Hardware}]}
        """,
    )
    lines = [
        {"id": "L1", "family": "Services", "net_total": 500},
        {"id": "L2", "family": "Hardware", "net_total": 300},
    ]
    assert fires(policy, quote(lines=lines))
    lines[1]["net_total"] = 700
    assert not fires(policy, quote(lines=lines))


def test_a_yaml_date_in_a_policy_compares_with_an_iso_date_in_the_quote():
    policy = conditions_policy("{field: start_date, op: ge, value: 2027-01-01}")
    assert fires(policy, quote(start_date="2027-01-01"))
    assert not fires(policy, quote(start_date="2026-12-31"))


def test_a_boolean_field_compares_with_a_yaml_boolean():
    policy = conditions_policy("{field: auto_renew, op: eq, value: false}")
    assert fires(policy, quote(auto_renew=False))
    assert not fires(policy, quote(auto_renew=True))


def test_a_list_field_contains_a_value_from_the_policy():
    policy = conditions_policy("{field: regions, op: contains, value: EU}")
    assert fires(policy, quote(regions=["US", "EU"]))
    assert not fires(policy, quote(regions=["US"]))


# ------------------------------------------------------------ values in words and smart comparisons


def test_values_are_put_in_words_with_thousands_and_percentages():
    assert format_value(152000) == "152,000"
    assert format_value(27.4, percent=True) == "27.4%"
    assert format_value(25, percent=True) == "25%"
    assert format_value(["Net 60", "Net 90"]) == "Net 60, Net 90"
    assert format_value(True) == "yes"
    assert format_value(None) == "(none)"


@pytest.mark.parametrize(
    ("op", "approved", "current", "worse"),
    [
        ("gt", 18, 20, True),
        ("gt", 18, 18, False),
        ("gt", 18, 15, False),
        ("ge", 18, 18.01, True),
        ("lt", 30, 20, True),
        ("lt", 30, 30, False),
        ("le", 30, 45, False),
        ("gt", "2027-01-01", "2027-03-01", True),
        ("eq", "Net 60", "Net 60", False),
        ("in", "Net 60", "Net 90", True),
        ("contains", ["EU"], ["EU", "US"], True),
        ("gt", None, 12, True),
    ],
)
def test_a_smart_condition_holds_only_when_the_value_got_worse_than_approved(op, approved, current, worse):
    assert smart_condition_holds(op, approved, current) is worse


def test_quote_values_from_yaml_dates_read_like_json_strings():
    q = parse_quote({"id": "Q-1", "version": 1, "owner": "rita", "start_date": dt.date(2027, 1, 1)})
    assert q.data["start_date"] == "2027-01-01"
