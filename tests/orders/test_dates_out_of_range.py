"""A delivery date whose release instant Python cannot represent is refused with a sentence (issue 12 item 13)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import Conflict, QuoteError

from .test_order_service import OWNER, START, Desk, line, quote_data

TOKYO = {"id": "A-9", "name": "Kaisha KK", "timezone": "Asia/Tokyo", "ship_to": "Tokyo"}


async def test_generating_orders_for_a_date_before_year_one_in_utc_says_what_is_wrong() -> None:
    desk = Desk()
    data = quote_data(line("L1", "0001-01-01"))
    data["account"] = TOKYO

    # Checked at submit (issue 13: an orderable quote is checked before anyone approves).
    with pytest.raises(QuoteError, match=r"delivery date 0001-01-01 is out of range: .* in Asia/Tokyo"):
        await desk.approve(data)

    assert await desk.orders.orders_of("Q-5001") == []


async def test_rescheduling_to_a_date_out_of_range_says_so_and_changes_nothing() -> None:
    day = "0001-01-01"
    desk = Desk()
    data = quote_data(line("L1", "2027-01-15"))
    data["account"] = TOKYO
    await desk.approve(data)
    (order,) = await desk.orders.generate("Q-5001", None, START)

    with pytest.raises(Conflict, match=f"delivery date {day} is out of range"):
        await desk.orders.change(order.number, "reschedule", OWNER, START, new_date=dt.date.fromisoformat(day))

    assert await desk.orders.orders_of("Q-5001") == [order]
