"""Variables: aggregates over quote lines with filters, and conditions on them (policy-v1 §1)."""

import pytest
from unit_kit import line, policy_with, quote

from domain.rules import Evaluator

VARIABLES = """
hardware_total: {aggregate: sum, field: net_total, where: [{field: family, op: eq, value: Hardware}]}
services_max_discount:
  aggregate: max
  field: discount_percent
  where: [{field: family, op: eq, value: Services}]
services_min_discount:
  aggregate: min
  field: discount_percent
  where: [{field: family, op: eq, value: Services}]
recurring_avg_discount:
  aggregate: avg
  field: discount_percent
  where: [{field: recurring, op: eq, value: true}]
big_recurring_eu_lines:
  aggregate: count
  where:
    - {field: recurring, op: eq, value: true}
    - {field: region, op: in, value: [DE, FR]}
    - {field: net_total, op: ge, value: 1000}
lines_with_a_sku: {aggregate: count, field: sku}
line_count: {aggregate: count}
blended_discount: {discount: {list: list_total, net: net_total}}
software_discount:
  discount: {list: list_total, net: net_total}
  where: [{field: family, op: starts_with, value: Soft}]
"""

LINES = [
    line("L1", sku="HW-1", family="Hardware", net_total=8500, list_total=10000, discount_percent=15, recurring=False),
    line("L2", sku="HW-2", family="Hardware", net_total=1500, list_total=1500, discount_percent=0, recurring=False),
    line(
        "L3",
        sku="SW",
        family="Software",
        net_total=108000,
        list_total=144000,
        discount_percent=25,
        recurring=True,
        region="DE",
    ),
    line("L4", family="Services", net_total=900, list_total=1000, discount_percent=10, recurring=True, region="FR"),
    line("L5", family="Services", net_total=3000, list_total=5000, discount_percent=40, recurring=True, region="US"),
]


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator(policy_with(variables=VARIABLES))


def test_sum_adds_the_field_over_the_lines_that_pass_the_filter(evaluator):
    assert evaluator.variables(quote(lines=LINES))["hardware_total"] == 10000


def test_max_and_min_pick_among_the_filtered_lines(evaluator):
    values = evaluator.variables(quote(lines=LINES))
    assert values["services_max_discount"] == 40
    assert values["services_min_discount"] == 10


def test_avg_averages_the_filtered_lines(evaluator):
    assert evaluator.variables(quote(lines=LINES))["recurring_avg_discount"] == pytest.approx(25)


def test_count_needs_every_filter_to_hold(evaluator):
    # L3 (recurring, DE, 108000) passes; L4 is under 1000; L5 is in the US.
    assert evaluator.variables(quote(lines=LINES))["big_recurring_eu_lines"] == 1


def test_count_with_a_field_counts_the_lines_that_have_it(evaluator):
    values = evaluator.variables(quote(lines=LINES))
    assert values["lines_with_a_sku"] == 3
    assert values["line_count"] == 5


def test_discount_is_one_minus_net_over_list_in_percent(evaluator):
    values = evaluator.variables(quote(lines=LINES))
    assert values["blended_discount"] == pytest.approx((1 - 121900 / 161500) * 100)
    assert values["software_discount"] == pytest.approx(25)


def test_over_no_matching_lines_sum_and_count_are_zero(evaluator):
    only_software = [LINES[2]]
    values = evaluator.variables(quote(lines=only_software))
    assert values["hardware_total"] == 0
    assert evaluator.variables(quote(lines=[]))["line_count"] == 0
    assert evaluator.variables(quote())["big_recurring_eu_lines"] == 0


def test_over_no_matching_lines_min_max_avg_and_discount_are_missing(evaluator):
    values = evaluator.variables(quote(lines=[LINES[0]]))
    assert values["services_max_discount"] is None
    assert values["services_min_discount"] is None
    assert values["recurring_avg_discount"] is None
    assert values["software_discount"] is None
    assert evaluator.variables(quote())["blended_discount"] is None


def test_a_line_without_the_filtered_field_does_not_pass_the_filter(evaluator):
    values = evaluator.variables(quote(lines=[line("L1", net_total=100)]))
    assert values["hardware_total"] == 0


def conditions_on(variable: str, op: str, value) -> Evaluator:
    return Evaluator(
        policy_with(
            f"""
            - name: r
              approver: vp-sales
              conditions: [{{variable: {variable}, op: {op}, value: {value}}}]
            """,
            variables=VARIABLES,
        )
    )


@pytest.mark.parametrize(
    ("variable", "op"),
    [
        ("services_max_discount", "lt"),
        ("services_min_discount", "ge"),
        ("recurring_avg_discount", "ne"),
        ("blended_discount", "le"),
    ],
)
def test_a_condition_on_a_missing_aggregate_is_false_whatever_the_operator(variable, op):
    evaluator = conditions_on(variable, op, 100)
    assert evaluator.evaluate(quote(lines=[]))[0].fires is False


def test_a_condition_on_an_empty_sum_compares_zero():
    evaluator = conditions_on("hardware_total", "lt", 1)
    assert evaluator.evaluate(quote(lines=[]))[0].fires is True


def test_a_condition_on_a_variable_fires_with_the_aggregated_value():
    evaluator = conditions_on("services_max_discount", "gt", 30)
    assert evaluator.evaluate(quote(lines=LINES))[0].fires is True
    assert evaluator.evaluate(quote(lines=LINES[:4]))[0].fires is False
