"""The release sweep (orders-v1 §2): catch-up after downtime, release on start, DST days, exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest

from domain.events import Event, Kind, from_json, to_json
from domain.order_service import Orders
from domain.orders import erp_message, transition
from domain.reactions import topics
from domain.service import Approvals
from scheduler.sweeps import Sweeps
from store.models import AuditRow, OrderRow, OutboxRow
from store.tx import DbStore

from .support import START, approve, audit_count, create_due_orders, event_kinds, line, make_policy, quote_data


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


async def statuses(desk: Orders, quote_id: str) -> dict[str, str]:
    return {o.number: o.status for o in await desk.orders_of(quote_id)}


async def four_orders(service: Approvals, desk: Orders) -> None:
    """Q-2001: orders on Dec 2, 3, 5 and 20, released at 06:00 UTC (the policy's time, the account's UTC zone)."""
    dates = ("2026-12-02", "2026-12-03", "2026-12-05", "2026-12-20")
    lines = [line(f"L{i}", day) for i, day in enumerate(dates, start=1)]
    await approve(service, quote_data("Q-2001", *lines, zone="UTC"), START)
    orders = await desk.generate("Q-2001", None, START)
    assert [o.release_at for o in orders] == [utc(2026, 12, d, 6) for d in (2, 3, 5, 20)]


async def test_orders_that_fell_due_while_no_process_ran_are_released_on_the_first_sweep(
    service: Approvals, desk: Orders
) -> None:
    await four_orders(service, desk)
    assert await desk.release_due(START) == 0

    back = utc(2026, 12, 6, 12, 0)  # down from Dec 1 to Dec 6: three release times went by
    assert await desk.release_due(back) == 3
    assert await statuses(desk, "Q-2001") == {
        "Q-2001-01": "released",
        "Q-2001-02": "released",
        "Q-2001-03": "released",
        "Q-2001-04": "scheduled",
    }
    assert [o.released_at for o in (await desk.orders_of("Q-2001"))[:3]] == [back] * 3
    assert await desk.release_due(back) == 0
    assert sorted(r.key for r in await OutboxRow.filter(topic="erp")) == [
        "Q-2001-01:released",
        "Q-2001-02:released",
        "Q-2001-03:released",
    ]
    assert (await event_kinds()).count("order_released") == 3


async def test_the_release_sweep_runs_as_soon_as_the_scheduler_starts(service: Approvals, desk: Orders) -> None:
    await four_orders(service, desk)
    back = utc(2026, 12, 6, 12, 0)
    first_run: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def release() -> None:
        released = await desk.release_due(back)
        if not first_run.done():
            first_run.set_result(released)

    sweeps = Sweeps()
    sweeps.add("release", release, dt.timedelta(hours=1))  # the next tick is an hour away: only the start runs it
    sweeps.start()
    try:
        assert await asyncio.wait_for(first_run, 10) == 3
    finally:
        await sweeps.stop()
    assert (await statuses(desk, "Q-2001"))["Q-2001-04"] == "scheduled"


async def test_the_erp_message_of_a_released_order_is_the_order_as_released(service: Approvals, desk: Orders) -> None:
    await four_orders(service, desk)
    await desk.release_due(utc(2026, 12, 2, 6, 0))

    (row,) = await OutboxRow.filter(topic="erp")
    assert row.payload == erp_message(await desk.order("Q-2001-01"), "released")
    assert row.payload["status"] == "released"
    assert row.payload["released_at"] == "2026-12-02T06:00:00+00:00"
    assert row.payload["event"] == "released"


async def test_a_release_is_audited_and_announced_as_an_event_of_the_approved_submission(
    service: Approvals, desk: Orders
) -> None:
    await four_orders(service, desk)
    moment = utc(2026, 12, 2, 6, 0)
    await desk.release_due(moment)

    (audit,) = await AuditRow.filter(kind="order_released")
    assert (audit.at, audit.quote_id, audit.quote_version, audit.submission) == (moment, "Q-2001", 1, 1)
    assert (audit.actor, audit.people, audit.detail) == (None, [], {"order": "Q-2001-01"})
    (row,) = [r for r in await OutboxRow.filter(topic="slack") if r.payload["kind"] == "order_released"]
    assert row.key.startswith("slack:") and row.status == "pending" and row.next_attempt_at == moment
    released = Event(Kind.ORDER_RELEASED, moment, "Q-2001", 1, 1, detail={"order": "Q-2001-01"})
    assert from_json(row.payload) == released
    assert row.payload == to_json(released), "the SQL writes the payload the event codec writes"
    assert (await service.audit("Q-2001"))[-1] == from_json(row.payload)
    (crm,) = [r for r in await OutboxRow.filter(topic="crm") if r.payload["kind"] == "order_released"]
    assert crm.key.startswith("crm:Q-2001:") and crm.payload == to_json(released), "the CRM hears of it, by quote"
    released_rows = [r for r in await OutboxRow.all() if r.payload.get("kind") == "order_released"]
    queued = {r.topic for r in released_rows} | {r.topic for r in await OutboxRow.filter(key="Q-2001-01:released")}
    assert queued == {topic.value for topic in topics(Kind.ORDER_RELEASED)}, "one row for each topic of the reactions"


async def test_a_sweep_releases_due_orders_in_batches_until_none_is_left(service: Approvals, desk: Orders) -> None:
    await four_orders(service, desk)
    assert await desk.release_due(utc(2027, 1, 1), limit=1) == 4
    assert set((await statuses(desk, "Q-2001")).values()) == {"released"}
    assert await audit_count("order_released") == {f"Q-2001-0{i}": 1 for i in range(1, 5)}


# ------------------------------------------------------------------------------------------- DST days

DST_DAYS = [
    # zone, day, release time, the one instant it happens (UTC), why
    ("Europe/Berlin", "2027-03-28", "02:30", utc(2027, 3, 28, 1, 0), "02:00-03:00 is skipped: 03:00 CEST"),
    ("America/New_York", "2027-03-14", "02:30", utc(2027, 3, 14, 7, 0), "02:00-03:00 is skipped: 03:00 EDT"),
    ("Europe/Berlin", "2027-10-31", "02:30", utc(2027, 10, 31, 0, 30), "02:30 happens twice: the first, CEST"),
    ("America/New_York", "2027-11-07", "02:30", utc(2027, 11, 7, 7, 30), "after the repeated hour: 02:30 EST"),
    ("America/New_York", "2027-11-07", "01:30", utc(2027, 11, 7, 5, 30), "01:30 happens twice: the first, EDT"),
]


def sweep_instants(day: dt.date, zone: str, release: dt.datetime) -> list[dt.datetime]:
    """Every 10 minutes from the local midnight before to the local midnight after, and a second either side."""
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
    moments = {start + dt.timedelta(minutes=10 * i) for i in range(int((end - start).total_seconds() // 600) + 1)}
    moments |= {release - dt.timedelta(seconds=1), release, release + dt.timedelta(seconds=1)}
    return sorted(moments)


@pytest.mark.parametrize(
    ("zone", "day", "release_time", "expected", "why"), DST_DAYS, ids=[f"{z}-{d}-{t}" for z, d, t, *_ in DST_DAYS]
)
async def test_an_order_due_on_a_dst_day_is_released_once_at_the_right_instant(
    connected: str, zone: str, day: str, release_time: str, expected: dt.datetime, why: str
) -> None:
    policy = make_policy(release_time=release_time)
    service, desk = Approvals(policy, DbStore()), Orders(policy, DbStore())
    await approve(service, quote_data("Q-3001", line("L1", day), zone=zone), utc(2027, 1, 15))
    (order,) = await desk.generate("Q-3001", None, utc(2027, 1, 15))
    assert order.release_at == expected, why

    released_by = [m for m in sweep_instants(dt.date.fromisoformat(day), zone, expected) if await desk.release_due(m)]

    assert released_by == [expected], why
    assert (await desk.order("Q-3001-01")).released_at == expected
    assert await audit_count("order_released") == {"Q-3001-01": 1}
    assert await OutboxRow.filter(topic="erp").count() == 1
    assert await OrderRow.filter(status="scheduled").count() == 0


async def test_the_bulk_release_writes_exactly_the_rows_that_record_writes_for_the_same_event(connected: str) -> None:
    """Two identical due orders: one released by the store's bulk SQL, the other by hand through `DbTx.record`."""
    moment = utc(2026, 12, 2, 6, 0)
    numbers = await create_due_orders(2, moment)
    async with DbStore().transaction() as tx:
        assert await tx.release_due(moment, 1) == 1
    by_sql = (await OrderRow.get(status="released")).number
    (by_record,) = [n for n in numbers if n != by_sql]
    async with DbStore().transaction() as tx:
        order = await tx.order(by_record)
        released = dataclasses.replace(transition(order, "release", at=moment), revision=order.revision + 1)
        assert await tx.update_order(released, order.revision)
        event = Event(Kind.ORDER_RELEASED, moment, order.quote_id, 1, 0, detail={"order": by_record})
        await tx.record([event])

    def written(rows: list[dict], number: str) -> list[str]:
        """The rows about one order, without their ids, its number and quote id (and random Slack keys) masked."""
        mine = [{k: v for k, v in r.items() if k != "id"} for r in rows if number in json.dumps(r, default=str)]
        text = json.dumps(mine, default=str, sort_keys=True).replace(number.removesuffix("-01"), "Q-X")
        keys = r"(slack|crm):(Q-X[^:]*:)?[0-9a-f]{32}"
        return [re.sub(keys, r"\1:KEY", json.dumps(r, sort_keys=True)) for r in json.loads(text)]

    outbox, audit = await OutboxRow.all().order_by("id").values(), await AuditRow.all().order_by("id").values()
    assert len(written(outbox, by_sql)) == 3 and written(outbox, by_sql) == written(outbox, by_record)
    assert len(written(audit, by_sql)) == 1 and written(audit, by_sql) == written(audit, by_record)
    desk = Orders(make_policy(), DbStore())
    sql_order, record_order = await desk.order(by_sql), await desk.order(by_record)
    assert sql_order.as_dict() == {**record_order.as_dict(), "number": by_sql, "quote_id": sql_order.quote_id}
