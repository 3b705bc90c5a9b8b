"""Checks before money moves: totals against lines within a documented tolerance, positive quantities,
amounts in the currency's minor unit (ISO 4217: JPY 0, KWD 3), an orderable quote checked at submit,
and `order_by` keys checked with the policy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.errors import PolicyError, QuoteError
from domain.memory import MemoryStore
from domain.policy import load_policy
from domain.quote import parse_quote
from domain.service import Approvals

from .kit import line, plan, policy, quote, utc


def test_a_net_total_half_again_above_its_lines_is_refused_with_a_sentence():
    q = quote(line("A", net_total=1000), line("B", net_total=1000), net_total=3000)
    with pytest.raises(QuoteError) as refused:
        plan(q)
    assert str(refused.value) == (
        "$.net_total: net_total 3,000 is 1,000.00 above the sum of the lines (2,000.00); "
        "at most 0.02 is allowed for rounding (EUR minor unit per line)"
    )


def test_a_net_total_within_a_cent_per_line_is_spread_over_the_lines():
    q = quote(line("A", net_total=1000), line("B", net_total=1000), net_total=2000.02)
    assert sum(o.total for o in plan(q)) == Decimal("2000.02")


@pytest.mark.parametrize("quantity", [0, -3])
def test_a_line_without_a_positive_quantity_is_refused(quantity):
    q = quote(line("A", quantity=quantity, net_price=100, net_total=100), net_total=100)
    with pytest.raises(QuoteError, match=r"\$\.lines\[0\]\.quantity: quantity must be more than 0"):
        plan(q)


def test_yen_are_split_in_whole_yen():
    q = quote(*(line(f"L{i}", net_total=1000) for i in range(3)), net_total=2999, currency="JPY")
    amounts = [ln.net_total for o in plan(q) for ln in o.lines]
    assert amounts == [Decimal(1000), Decimal(1000), Decimal(999)]
    assert all(a == a.to_integral_value() for a in amounts)


def test_kuwaiti_dinars_keep_their_fils():
    q = quote(line("A", net_total=1.234), line("B", net_total=2.345), net_total=3.579, currency="KWD")
    (order,) = plan(q)
    assert [ln.net_total for ln in order.lines] == [Decimal("1.234"), Decimal("2.345")]
    assert order.as_dict()["total"] == "3.579"


async def test_a_quote_that_could_not_become_orders_is_refused_at_submit_before_anyone_approves():
    service = Approvals(policy(), MemoryStore())
    data = quote(line("A", net_total=1000), net_total=1500).data
    await service.receive_quote(parse_quote(data), utc(2026, 12, 1, 9))
    with pytest.raises(QuoteError) as refused:
        await service.submit("Q-1042", "rita", utc(2026, 12, 1, 9))
    assert str(refused.value).startswith("Q-1042 v3 could not become orders: $.net_total: net_total 1,500 is 500.00")
    assert await service.latest("Q-1042") is None, "nothing was submitted"


def test_policy_check_names_a_misspelt_order_by_key():
    text = "version: 1\nfallback_approver: dana\npeople:\n  dana: {}\norders:\n  order_by: [delivery_dat]\n"
    with pytest.raises(PolicyError, match="'delivery_dat' is not a line field: did you mean 'delivery_date'"):
        load_policy(text, "policy.yaml")
    custom = load_policy(text.replace("delivery_dat", "warehouse"), "policy.yaml")
    assert custom.orders.order_by == ["warehouse"], "a CRM's own line field is fine"
