"""The CRM hears order totals as plain decimal text in the currency's minor unit ("4256" yen,
"1234567.50" euros), over real HTTP to a receiver that checks each signature with its own code."""

from __future__ import annotations

from typing import Any

from .conftest import Crm, Open, quote
from .test_crm_webhooks import decided


def priced(quote_id: str, currency: str, amount: float) -> dict[str, Any]:
    data = quote(quote_id, currency=currency, net_total=amount, list_total=amount * 2)
    data["lines"] = [data["lines"][0] | {"net_price": amount, "net_total": amount, "list_total": amount * 2}]
    return data


async def orders_heard(c: Crm, data: dict[str, Any]) -> list[dict[str, Any]]:
    await decided(c, data["id"], data)
    assert await c.gl.runtime.orders.generate(data["id"], "rep", c.gl.clock())
    await c.deliver()
    assert c.receiver.forged == 0
    assert c.receiver.types(data["id"])[-1] == "orders.generated"
    return c.receiver.received[-1].quote["orders"]


async def test_the_crm_hears_yen_as_whole_units_and_euros_with_two_decimals_in_plain_text(crm: Open) -> None:
    async with crm() as c:
        (yen,) = await orders_heard(c, priced("Q-WJPY", "JPY", 4256))
        (euros,) = await orders_heard(c, priced("Q-WEUR", "EUR", 1234567.5))
    assert yen["total"] == "4256"
    assert euros["total"] == "1234567.50"
