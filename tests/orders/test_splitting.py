"""Splitting an approved quote into orders (orders-v1 §1): groups, defaults, numbers, money."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from domain.errors import QuoteError
from domain.orders import allocate, plan_orders
from domain.policy import read_policy
from domain.quote import load_quote_text

from .kit import APPROVED_ON, line, line_ids, numbers, plan, policy, quote

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


# ----------------------------------------------------------------------------------------- groups


def test_lines_delivered_on_different_dates_become_separate_orders():
    orders = plan(
        quote(
            line("L1", delivery_date="2027-02-01", ship_to="Berlin HQ"),
            line("L2", delivery_date="2027-01-15", ship_to="Berlin HQ"),
        )
    )
    assert line_ids(orders) == [("L2",), ("L1",)]
    assert [o.delivery_date for o in orders] == [dt.date(2027, 1, 15), dt.date(2027, 2, 1)]


def test_lines_shipping_to_different_places_on_one_date_become_separate_orders():
    orders = plan(
        quote(
            line("L1", delivery_date="2027-01-15", ship_to="Munich"),
            line("L2", delivery_date="2027-01-15", ship_to="Berlin HQ"),
        )
    )
    assert [(o.ship_to, o.line_ids) for o in orders] == [("Berlin HQ", ("L2",)), ("Munich", ("L1",))]


def test_lines_sharing_date_and_destination_share_one_order_in_quote_order():
    orders = plan(
        quote(
            line("L1", delivery_date="2027-01-15", ship_to="Munich"),
            line("L2", delivery_date="2027-03-01", ship_to="Munich"),
            line("L3", delivery_date="2027-01-15", ship_to="Munich"),
        )
    )
    assert line_ids(orders) == [("L1", "L3"), ("L2",)]


def test_a_line_without_delivery_date_takes_the_quote_start_date():
    orders = plan(quote(line("L1", ship_to="Berlin HQ"), line("L2", delivery_date="2027-01-01", ship_to="Berlin HQ")))
    assert line_ids(orders) == [("L1", "L2")]
    assert orders[0].delivery_date == dt.date(2027, 1, 1)
    assert orders[0].lines[0].delivery_date == dt.date(2027, 1, 1)


def test_a_line_without_delivery_date_takes_the_approval_date_when_the_quote_has_no_start_date():
    orders = plan(quote(line("L1"), start_date=None), approved_on=dt.date(2026, 12, 10))
    assert orders[0].delivery_date == dt.date(2026, 12, 10)


def test_a_line_without_ship_to_takes_the_account_ship_to():
    orders = plan(
        quote(
            line("L1", delivery_date="2027-01-15"),
            line("L2", delivery_date="2027-01-15", ship_to="Berlin HQ"),
            line("L3", delivery_date="2027-01-15", ship_to="Munich"),
        )
    )
    assert [(o.ship_to, o.line_ids) for o in orders] == [("Berlin HQ", ("L1", "L2")), ("Munich", ("L3",))]
    assert orders[0].lines[0].ship_to == "Berlin HQ"


def test_without_any_ship_to_the_order_has_none():
    orders = plan(quote(line("L1"), account={"id": "A-77"}))
    assert orders[0].ship_to is None


def test_orders_are_numbered_by_delivery_date_then_ship_to():
    orders = plan(
        quote(
            line("L1", delivery_date="2027-03-01", ship_to="Berlin HQ"),
            line("L2", delivery_date="2027-01-15", ship_to="Munich"),
            line("L3", delivery_date="2027-01-15", ship_to="Bonn"),
            line("L4", delivery_date="2027-02-01", ship_to="Aachen"),
        )
    )
    assert numbers(orders) == ["Q-1042-01", "Q-1042-02", "Q-1042-03", "Q-1042-04"]
    assert line_ids(orders) == [("L3",), ("L2",), ("L4",), ("L1",)]


def test_planning_the_same_quote_again_gives_the_same_orders():
    q = quote(
        line("L1", delivery_date="2027-03-01", ship_to="Munich"),
        line("L2", delivery_date="2027-01-15"),
        line("L3", net_total=33.333),
    )
    assert plan(q) == plan(q)


def test_an_order_carries_quote_account_currency_and_lines_as_approved():
    (order,) = plan(
        quote(
            line("L1", quantity=10, net_price=850, delivery_date="2027-01-15", sku="HW-100"),
            line("L2", quantity=200, net_price=540, recurring=True, term_months=36, delivery_date="2027-01-15"),
            line("L3", quantity=5, net_price=20, delivery_date="2027-01-15", asset="per_unit"),
        )
    )
    assert (order.number, order.quote_id, order.quote_version, order.account_id) == ("Q-1042-01", "Q-1042", 3, "A-77")
    assert (order.currency, order.total, order.status) == ("EUR", Decimal("116600.00"), "scheduled")
    first, second, third = order.lines
    assert (first.id, first.sku, first.quantity, first.net_price, first.net_total) == (
        "L1",
        "HW-100",
        Decimal(10),
        Decimal(850),
        Decimal("8500.00"),
    )
    assert (first.recurring, first.asset) == (False, "per_line")
    assert (second.recurring, second.term_months) == (True, 36)
    assert third.asset == "per_unit"


def test_order_by_a_custom_field_splits_by_it():
    orders = plan(
        quote(
            line("L1", family="Software", delivery_date="2027-01-15"),
            line("L2", family="Hardware", delivery_date="2027-01-15"),
            line("L3", family="Software", delivery_date="2027-01-15"),
        ),
        policy(order_by=["delivery_date", "family"]),
    )
    assert line_ids(orders) == [("L2",), ("L1", "L3")]


def test_order_by_nothing_gives_one_order_dated_at_its_earliest_line():
    orders = plan(
        quote(
            line("L1", delivery_date="2027-03-01", ship_to="Munich"),
            line("L2", delivery_date="2027-01-15", ship_to="Bonn"),
        ),
        policy(order_by=[]),
    )
    assert line_ids(orders) == [("L1", "L2")]
    assert orders[0].delivery_date == dt.date(2027, 1, 15)
    assert orders[0].ship_to == "Munich"
    assert [ln.delivery_date for ln in orders[0].lines] == [dt.date(2027, 3, 1), dt.date(2027, 1, 15)]


def test_order_by_ship_to_only_still_sorts_orders_by_delivery_date():
    orders = plan(
        quote(
            line("L1", delivery_date="2027-03-01", ship_to="Aachen"),
            line("L2", delivery_date="2027-01-15", ship_to="Bonn"),
        ),
        policy(order_by=["ship_to"]),
    )
    assert [o.ship_to for o in orders] == ["Bonn", "Aachen"]


def test_the_example_quote_q1200_splits_into_four_orders():
    policy_file = read_policy(EXAMPLES / "policy.yaml")
    q = load_quote_text((EXAMPLES / "quotes" / "q1200-v1.json").read_text(encoding="utf-8"))
    orders = plan_orders(policy_file, q, APPROVED_ON)
    assert [(o.number, o.delivery_date.isoformat(), o.ship_to, o.line_ids) for o in orders] == [
        ("Q-1200-01", "2027-01-11", "Cascade DC Boise", ("L3",)),
        ("Q-1200-02", "2027-01-11", "Cascade DC Tacoma", ("L1", "L2", "L7")),
        ("Q-1200-03", "2027-02-08", "Cascade DC Boise", ("L4",)),
        ("Q-1200-04", "2027-03-08", "Cascade DC Fresno", ("L5", "L6", "L8")),
    ]
    assert sum(o.total for o in orders) == Decimal("180355.00")


# ------------------------------------------------------------------------------------------ money


def test_three_lines_of_33_33_on_a_100_00_quote_give_the_missing_cent_to_the_first_line():
    orders = plan(
        quote(
            line("L1", net_total=33.33, delivery_date="2027-01-15"),
            line("L2", net_total=33.33, delivery_date="2027-01-15"),
            line("L3", net_total=33.33, delivery_date="2027-02-01"),
            net_total=100,
        )
    )
    assert [ln.net_total for o in orders for ln in o.lines] == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert [o.total for o in orders] == [Decimal("66.67"), Decimal("33.33")]
    assert sum(o.total for o in orders) == Decimal("100.00")
    assert orders[0].lines[0].rounding == Decimal("0.01")


def test_a_quote_net_total_below_its_lines_trims_the_lines_to_match():
    orders = plan(quote(line("L1", net_total=50.005), line("L2", net_total=50.004), net_total=100.00))
    assert [ln.net_total for ln in orders[0].lines] == [Decimal("50.00"), Decimal("50.00")]


def test_fractional_cents_are_rounded_so_the_lines_add_up_to_the_rounded_quote_total():
    orders = plan(
        quote(
            line("L1", quantity=3, net_price=33.333, net_total=None, delivery_date="2027-01-15"),
            line("L2", quantity=1, net_price=0.005, net_total=None, delivery_date="2027-02-01"),
            net_total=100.00,
        )
    )
    assert [o.total for o in orders] == [Decimal("100.00"), Decimal("0.00")]


def test_a_quote_without_net_total_adds_up_its_lines_rounded_to_the_cent():
    orders = plan(
        quote(
            line("L1", net_total=10.005, delivery_date="2027-01-15"),
            line("L2", net_total=10.005, delivery_date="2027-02-01"),
        )
    )
    assert [o.total for o in orders] == [Decimal("10.01"), Decimal("10.00")]


def test_a_line_without_net_total_is_priced_at_quantity_times_net_price():
    (order,) = plan(quote(line("L1", quantity=3, net_price=19.99, net_total=None)))
    assert order.total == Decimal("59.97")


def test_amounts_from_json_floats_are_read_exactly():
    q = load_quote_text(
        json.dumps(
            {
                "id": "Q-7",
                "version": 1,
                "owner": "rita",
                "net_total": 0.3,
                "lines": [{"id": "L1", "net_total": 0.1}, {"id": "L2", "net_total": 0.2}],
            }
        )
    )
    (order,) = plan_orders(policy(), q, APPROVED_ON)
    assert [ln.net_total for ln in order.lines] == [Decimal("0.10"), Decimal("0.20")]
    assert order.total == Decimal("0.30")
    assert all(isinstance(ln.net_total, Decimal) for ln in order.lines)


def test_allocate_spreads_a_difference_in_proportion_to_the_amounts():
    assert allocate([Decimal(300), Decimal(100)], Decimal(404)) == [Decimal("303.00"), Decimal("101.00")]


def test_allocate_keeps_a_credit_line_negative():
    amounts = allocate([Decimal("100.00"), Decimal("-20.00"), Decimal("0.005")], Decimal("80.01"))
    assert amounts == [Decimal("100.00"), Decimal("-20.00"), Decimal("0.01")]
    assert sum(amounts) == Decimal("80.01")


def test_allocate_spreads_a_total_over_free_lines_equally():
    assert allocate([Decimal(0), Decimal(0), Decimal(0)], Decimal("0.02")) == [
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.00"),
    ]


def test_allocate_refuses_a_total_with_nothing_to_carry_it():
    with pytest.raises(ValueError):
        allocate([], Decimal(1))


# ------------------------------------------------------------------------------------ bad quotes


def problems_of(q) -> list[str]:
    with pytest.raises(QuoteError) as caught:
        plan(q)
    return [str(p) for p in caught.value.problems]


def test_a_quote_without_lines_has_nothing_to_order():
    assert problems_of(quote()) == ["$.lines: the quote has no lines to order"]


def test_a_line_without_any_price_cannot_be_ordered():
    assert problems_of(quote(line("L1", net_price=None, net_total=None))) == [
        "$.lines[0].net_total: a line needs net_total (or net_price) to be ordered"
    ]


def test_asset_modes_and_zones_are_checked_with_their_location():
    found = problems_of(
        quote(
            line("L1", asset="per_box"),
            line("L2", quantity=2.5, asset="per_unit"),
            account={"id": "A-77", "timezone": "Mars/Base"},
        )
    )
    assert found == [
        "$.account.timezone: 'Mars/Base' is not a time zone name (e.g. Europe/Berlin)",
        "$.lines[0].asset: asset must be per_line or per_unit, not 'per_box'",
        "$.lines[1].asset: asset: per_unit needs a whole quantity of at least 1",
    ]


def test_an_infinite_amount_is_refused():
    q = load_quote_text('{"id": "Q-7", "version": 1, "owner": "rita", "lines": [{"id": "L1", "net_total": Infinity}]}')
    with pytest.raises(QuoteError, match=r"lines\[0\]\.net_total: net_total must be a finite number"):
        plan_orders(policy(), q, APPROVED_ON)
