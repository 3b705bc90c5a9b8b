"""Contracts and entitlements (orders-v1 §3)."""

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest

from domain.contracts import Contract, add_months, build_contract, entitlements
from domain.errors import QuoteError
from domain.orders import transition

from .kit import line, plan, quote, utc


def deal():
    """Hardware on 15 Jan, seats from 1 Feb for the quote's 36 months, a 12-month add-on from 1 Feb."""
    q = quote(
        line("HW", quantity=3, net_price=850, delivery_date="2027-01-15"),
        line("SEATS", quantity=200, net_price=540, recurring=True, delivery_date="2027-02-01"),
        line("ADDON", quantity=1, net_price=1200, recurring=True, term_months=12, delivery_date="2027-02-01"),
        line("SCAN", quantity=3, net_price=33.33, net_total=100, delivery_date="2027-01-15", asset="per_unit"),
    )
    return q, plan(q)


def ids(items) -> list[str]:
    return [item.id for item in items]


# --------------------------------------------------------------------------------------- building


def test_recurring_lines_become_subscriptions_from_their_order_date_for_their_term():
    q, orders = deal()
    contract = build_contract(q, orders)
    seats, addon = contract.subscriptions
    assert (seats.id, seats.start, seats.end, seats.term_months) == (
        "Q-1042-02/SEATS",
        dt.date(2027, 2, 1),
        dt.date(2030, 2, 1),
        36,
    )
    assert (addon.start, addon.end, addon.term_months) == (dt.date(2027, 2, 1), dt.date(2028, 2, 1), 12)
    assert (seats.quantity, seats.net_price, seats.net_total) == (Decimal(200), Decimal(540), Decimal("108000.00"))


def test_one_time_lines_become_one_asset_per_line_with_its_quantity_even_per_unit():
    q, orders = deal()
    contract = build_contract(q, orders)
    assert ids(contract.assets) == ["Q-1042-01/HW", "Q-1042-01/SCAN"]
    hardware, scanners = contract.assets
    assert (hardware.quantity, hardware.net_price, hardware.net_total) == (Decimal(3), Decimal(850), Decimal("2550.00"))
    assert (scanners.quantity, scanners.net_total, scanners.per_unit) == (Decimal(3), Decimal("100.00"), True)


def test_sixty_per_unit_lines_of_ten_thousand_units_make_a_small_contract():
    """Issue 12 item 9: 600,000 units used to be 600,000 asset entries (a 104 MB row)."""
    lines = [
        line(f"L{i}", quantity=10_000, net_price=1, delivery_date="2027-01-15", asset="per_unit") for i in range(60)
    ]
    q = quote(*lines)
    contract = build_contract(q, plan(q))
    assert len(contract.assets) == 60
    assert sum(a.quantity for a in contract.assets) == 600_000
    assert len(json.dumps(contract.as_dict())) < 50_000


def test_a_contract_over_its_entry_limit_is_refused_with_a_sentence():
    from domain.contracts import MAX_CONTRACT_ITEMS

    q = quote(line("HW"))
    (order,) = plan(q)
    many = dataclasses.replace(order, lines=order.lines * (MAX_CONTRACT_ITEMS + 1))
    with pytest.raises(QuoteError) as caught:
        build_contract(q, [many])
    assert f"at most {MAX_CONTRACT_ITEMS:,} entries" in str(caught.value)


def test_a_contract_adds_up_to_the_orders():
    q, orders = deal()
    contract = build_contract(q, orders)
    assert contract.total == sum(o.total for o in orders)
    assert (contract.quote_id, contract.quote_version, contract.account_id, contract.currency) == (
        "Q-1042",
        3,
        "A-77",
        "EUR",
    )


def test_a_contract_reads_as_plain_data():
    q, orders = deal()
    data = build_contract(q, orders).as_dict()
    assert data["subscriptions"][1] == {
        "id": "Q-1042-02/ADDON",
        "order_number": "Q-1042-02",
        "line_id": "ADDON",
        "sku": "SKU-ADDON",
        "quantity": 1,
        "net_price": "1200.00",
        "net_total": "1200.00",
        "start": "2027-02-01",
        "end": "2028-02-01",
        "term_months": 12,
    }
    assert data["assets"][1]["per_unit"] is True
    assert (data["number"], data["start"], data["end"]) == ("C-Q-1042", "2027-01-15", "2030-02-01")
    assert data["total"] == "111850.00"


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (dt.date(2027, 1, 31), 1, dt.date(2027, 2, 28)),
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),
        (dt.date(2027, 3, 31), 1, dt.date(2027, 4, 30)),
        (dt.date(2028, 2, 29), 12, dt.date(2029, 2, 28)),
        (dt.date(2027, 11, 30), 3, dt.date(2028, 2, 29)),
        (dt.date(2027, 1, 15), 36, dt.date(2030, 1, 15)),
    ],
)
def test_terms_are_counted_in_calendar_months(start, months, end):
    assert add_months(start, months) == end


def test_a_subscription_starting_on_31_january_for_one_month_ends_on_28_february():
    q = quote(line("S", recurring=True, term_months=1, delivery_date="2027-01-31"))
    (subscription,) = build_contract(q, plan(q)).subscriptions
    assert subscription.end == dt.date(2027, 2, 28)


def test_a_recurring_line_without_any_term_is_refused_with_its_location():
    q = quote(line("A"), line("S", recurring=True), term_months=None)
    with pytest.raises(QuoteError) as caught:
        build_contract(q, plan(q))
    assert [str(p) for p in caught.value.problems] == [
        "$.lines[1].term_months: a recurring line needs term_months (on the line or the quote)"
    ]


def test_a_fractional_term_is_refused():
    q = quote(line("S", recurring=True, term_months=1.5))
    with pytest.raises(QuoteError, match=r"\$\.lines\[0\]\.term_months: term_months must be a whole number"):
        build_contract(q, plan(q))


def test_orders_of_another_quote_are_refused():
    _, orders = deal()
    with pytest.raises(ValueError, match="not from Q-7 up to v1"):
        build_contract(quote(line("X"), id="Q-7", version=1), orders)


# ---------------------------------------------------------------------------------- entitlements


def released(orders, at=None):
    return {o.number: transition(o, "release", at=at or utc(2027, 1, 15, 5, 0)) for o in orders}


def entitled(contract, orders_by_number, day):
    found = entitlements([contract], orders_by_number, day)
    return ids(found.subscriptions), ids(found.assets)


def test_nothing_is_entitled_before_release():
    q, orders = deal()
    contract = build_contract(q, orders)
    scheduled = {o.number: o for o in orders}
    assert entitled(contract, scheduled, dt.date(2027, 6, 1)) == ([], [])


def test_subscriptions_count_from_start_up_to_but_not_including_the_end():
    q, orders = deal()
    contract = build_contract(q, orders)
    by_number = released(orders)
    assert entitled(contract, by_number, dt.date(2027, 1, 31))[0] == []
    assert entitled(contract, by_number, dt.date(2027, 2, 1))[0] == ["Q-1042-02/SEATS", "Q-1042-02/ADDON"]
    assert entitled(contract, by_number, dt.date(2028, 1, 31))[0] == ["Q-1042-02/SEATS", "Q-1042-02/ADDON"]
    assert entitled(contract, by_number, dt.date(2028, 2, 1))[0] == ["Q-1042-02/SEATS"]
    assert entitled(contract, by_number, dt.date(2030, 2, 1))[0] == []


def test_assets_count_from_the_day_their_order_was_released():
    q, orders = deal()
    contract = build_contract(q, orders)
    by_number = released(orders, at=utc(2027, 1, 20, 5, 0))
    assert entitled(contract, by_number, dt.date(2027, 1, 19))[1] == []
    assert len(entitled(contract, by_number, dt.date(2027, 1, 20))[1]) == 2
    assert len(entitled(contract, by_number, dt.date(2035, 1, 1))[1]) == 2


def test_the_release_day_of_an_asset_is_read_in_the_order_zone():
    q, orders = deal()
    contract = build_contract(q, orders)
    by_number = released(orders, at=utc(2027, 1, 19, 23, 30))  # 00:30 on 20 January in Berlin
    assert entitled(contract, by_number, dt.date(2027, 1, 19))[1] == []
    assert len(entitled(contract, by_number, dt.date(2027, 1, 20))[1]) == 2


def test_synced_orders_still_entitle():
    q, orders = deal()
    contract = build_contract(q, orders)
    synced = {n: transition(o, "sync") for n, o in released(orders).items()}
    assert entitled(contract, synced, dt.date(2027, 3, 1)) == (
        ["Q-1042-02/SEATS", "Q-1042-02/ADDON"],
        ["Q-1042-01/HW", "Q-1042-01/SCAN"],
    )


def test_cancelled_orders_give_nothing():
    q, orders = deal()
    contract = build_contract(q, orders)
    cancelled = {o.number: transition(o, "cancel") for o in orders}
    assert entitled(contract, cancelled, dt.date(2027, 3, 1)) == ([], [])


def test_a_cancelled_hardware_order_leaves_the_released_subscriptions():
    q, orders = deal()
    contract = build_contract(q, orders)
    hardware, software = orders
    mixed = {hardware.number: transition(hardware, "cancel"), **released([software])}
    assert entitled(contract, mixed, dt.date(2027, 3, 1)) == (["Q-1042-02/SEATS", "Q-1042-02/ADDON"], [])


def test_entitlements_read_as_plain_data():
    q, orders = deal()
    found = entitlements([build_contract(q, orders)], released(orders), dt.date(2027, 3, 1))
    data = found.as_dict()
    assert data["at"] == "2027-03-01"
    assert [s["id"] for s in data["subscriptions"]] == ["Q-1042-02/SEATS", "Q-1042-02/ADDON"]
    assert len(data["assets"]) == 2


def test_a_contract_comes_back_from_its_plain_data():
    q, orders = deal()
    contract = build_contract(q, orders)
    assert Contract.from_dict(json.loads(json.dumps(contract.as_dict()))) == contract
