"""Renewals (docs/orders.md §3): a contract's end, a configurable number of days ahead, reminds its
owner once (a `contract_renewal_due` event: the quote's thread, and the CRM's webhooks)."""

from __future__ import annotations

import datetime as dt

from domain.events import Kind
from domain.order_service import Orders
from domain.service import Approvals
from store.models import ContractRow, OutboxRow
from store.tx import DbStore

from .support import OWNER, approve, line, make_policy, quote_data


def at(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(9, 0), tzinfo=dt.UTC)


async def a_year_of_seats(service: Approvals, desk: Orders) -> None:
    """Seats from 1 February 2027 for 12 months: the contract ends on 1 February 2028."""
    await approve(service, quote_data("Q-9300", line("SEATS", "2027-02-01", recurring=True)), at("2026-12-01"))
    await desk.generate("Q-9300", None, at("2026-12-01"))
    assert await desk.release_due(at("2027-02-01")) == 1


async def test_the_owner_is_reminded_once_sixty_days_before_the_contract_ends(service: Approvals, desk: Orders) -> None:
    await a_year_of_seats(service, desk)

    assert await desk.remind_renewals(at("2027-12-02")) == 0, "61 days before the end"
    assert await desk.remind_renewals(at("2027-12-03")) == 1
    assert await desk.remind_renewals(at("2027-12-04")) == 0, "once"

    (event,) = [e for e in await service.audit("Q-9300") if e.kind is Kind.CONTRACT_RENEWAL_DUE]
    assert (event.people, event.detail["contract"], event.detail["end"], event.detail["days_left"]) == (
        (OWNER,),
        "C-Q-9300",
        "2028-02-01",
        60,
    )
    (row,) = await ContractRow.filter(quote_id="Q-9300")
    assert row.renewal_sent_at == at("2027-12-03")
    announced = [p for p in await OutboxRow.filter(topic="slack").values_list("payload", flat=True)]
    assert [p["detail"]["contract"] for p in announced if p["kind"] == "contract_renewal_due"] == ["C-Q-9300"]
    crm = [p for p in await OutboxRow.filter(topic="crm").values_list("payload", flat=True)]
    assert [p["detail"]["contract"] for p in crm if p["kind"] == "contract_renewal_due"] == ["C-Q-9300"], (
        "queued for the CRM's webhook (crm-v1 §6 contract.renewal_due)"
    )


async def test_the_notice_is_the_policys_number_of_days(service: Approvals, connected: str) -> None:
    policy = make_policy()
    policy = policy.model_copy(update={"orders": policy.orders.model_copy(update={"renewal_notice_days": 10})})
    desk = Orders(policy, DbStore())
    await a_year_of_seats(service, desk)

    assert await desk.remind_renewals(at("2028-01-21")) == 0
    assert await desk.remind_renewals(at("2028-01-22")) == 1


async def test_a_contract_of_assets_only_has_no_renewal(service: Approvals, desk: Orders) -> None:
    await approve(service, quote_data("Q-9301", line("HW", "2027-02-01")), at("2026-12-01"))
    await desk.generate("Q-9301", None, at("2026-12-01"))
    await desk.release_due(at("2027-02-01"))
    assert await desk.remind_renewals(at("2099-01-01")) == 0
