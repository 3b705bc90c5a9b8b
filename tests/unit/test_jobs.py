"""The timed jobs (scheduler/jobs.py), called directly over the memory store, and what each wakes."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest
from unit_kit import NOW, policy_with

from domain.events import Kind
from domain.memory import MemoryStore
from domain.order_service import Orders
from domain.quote import parse_quote
from domain.reactions import Topic
from domain.service import Approvals
from notifications.worker import Permanent, Worker
from scheduler import jobs
from store.outbox import Claimed

REMINDED_AFTER_4H = "- {name: vp-deep, approver: vp-sales, remind_after: 4h}"


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def quote(*delivery_dates: str) -> dict:
    lines = [
        {"id": f"L{i}", "net_total": 100, "delivery_date": day, "ship_to": f"Dock {i}"}
        for i, day in enumerate(delivery_dates, start=1)
    ]
    account = {"id": "A-1", "timezone": "UTC"}
    return {"id": "Q-1", "version": 1, "owner": "rita", "currency": "USD", "account": account, "lines": lines}


async def approved_with_orders(store: MemoryStore, *delivery_dates: str) -> Orders:
    """Q-1 needs no approval (the policy has no rule for it) and has one order per date, released 06:00 UTC."""
    policy = policy_with()
    approvals, orders = Approvals(policy, store), Orders(policy, store)
    await approvals.receive_quote(parse_quote(quote(*delivery_dates)), NOW)
    await approvals.submit("Q-1", None, NOW)
    await orders.generate("Q-1", None, NOW)
    return orders


async def test_the_release_job_releases_exactly_the_due_orders_once() -> None:
    store = MemoryStore()
    orders = await approved_with_orders(store, "2026-12-02", "2026-12-03", "2026-12-09")
    clock = Clock(dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC))

    assert await jobs.release_due(orders, clock) == 2
    assert await jobs.release_due(orders, clock) == 0
    released = Counter(e.detail["order"] for e in store.events if e.kind is Kind.ORDER_RELEASED)
    assert released == {"Q-1-01": 1, "Q-1-02": 1}
    assert sorted(store.messages) == ["Q-1-01:released", "Q-1-02:released"]
    assert [o.status for o in await orders.orders_of("Q-1")] == ["released", "released", "scheduled"]


async def test_the_approvals_job_sends_a_reminder_once_it_is_due() -> None:
    store = MemoryStore()
    approvals = Approvals(policy_with(REMINDED_AFTER_4H), store)
    await approvals.receive_quote(parse_quote({"id": "Q-1", "version": 1, "owner": "rita"}), NOW)
    await approvals.submit("Q-1", None, NOW)
    clock = Clock(NOW + dt.timedelta(hours=3))

    assert await jobs.approvals_tick(approvals, clock) == 0
    clock.now = NOW + dt.timedelta(hours=4)
    assert await jobs.approvals_tick(approvals, clock) == 1
    assert await jobs.approvals_tick(approvals, clock) == 0
    assert [e.kind for e in store.events].count(Kind.REMINDED) == 1


class ListOutbox:
    """The outbox rows of one topic, claimed and marked like `store.outbox.Outbox` does (no leases)."""

    def __init__(self, topic: str, *keys: str) -> None:
        self.rows = {i: Claimed(i, topic, key, {}, 0, NOW) for i, key in enumerate(keys, start=1)}
        self.status = dict.fromkeys(self.rows, "pending")

    async def claim(self, topic: str, now: dt.datetime, owner: str, lease: dt.timedelta, limit: int) -> list[Claimed]:
        due = [row for i, row in self.rows.items() if self.status[i] == "pending" and row.topic == topic][:limit]
        for row in due:
            self.status[row.id] = "sending"
        return due

    async def done_many(self, row_ids: list[int], owner: str, now: dt.datetime) -> int:
        for row_id in row_ids:
            self.status[row_id] = "sent"
        return len(row_ids)

    async def dead(self, row_id: int, owner: str, error: str) -> bool:
        self.status[row_id] = "dead"
        return True


async def test_an_outbox_job_delivers_what_its_topic_holds_and_counts_sent_and_dead_rows() -> None:
    outbox = ListOutbox("erp", "Q-1-01:released", "Q-1-02:released")
    delivered = []

    async def handle(row: Claimed) -> None:
        if row.key == "Q-1-02:released":
            raise Permanent("ERP refused with 422")
        delivered.append(row.key)

    worker = Worker(outbox, "erp", handle, Clock(NOW), "test")  # type: ignore[arg-type]
    assert await jobs.deliver(worker) == 2
    assert await jobs.deliver(worker) == 0
    assert delivered == ["Q-1-01:released"]
    assert outbox.status == {1: "sent", 2: "dead"}


class Recorded:
    """Stands in for `Sweeps`: what was added, and which sweeps were kicked."""

    def __init__(self) -> None:
        self.added: dict[str, tuple[Callable[[], Awaitable[object]], dt.timedelta]] = {}
        self.settles: dict[str, float] = {}
        self.kicked: list[str] = []

    def add(self, name: str, run: Callable[[], Awaitable[object]], every: dt.timedelta, settle: float = 0.0) -> None:
        self.added[name] = (run, every)
        self.settles[name] = settle

    def kick(self, name: str) -> None:
        self.kicked.append(name)


def every_job(workers: dict[Topic, Worker]) -> list[jobs.Job]:
    store = MemoryStore()
    policy = policy_with()
    intervals = jobs.Intervals(outbox=dt.timedelta(seconds=5), approvals=dt.timedelta(minutes=1))
    return jobs.timed_jobs(Orders(policy, store), Approvals(policy, store), Clock(NOW), workers, intervals)


def test_every_timed_job_is_listed_with_its_interval_and_what_it_wakes() -> None:
    workers = {topic: Worker(ListOutbox(topic), topic, lambda row: None, Clock(NOW), "t") for topic in Topic}  # type: ignore[arg-type]
    listed = {job.name: (job.every, job.wakes) for job in every_job(workers)}
    five, minute, half = dt.timedelta(seconds=5), dt.timedelta(minutes=1), dt.timedelta(seconds=30)
    assert listed == {
        "release": (half, ("slack", "erp", "crm")),
        "approvals": (minute, ("slack",)),
        "delegations": (dt.timedelta(hours=1), ()),
        "renewals": (dt.timedelta(hours=1), ("slack",)),
        "slack": (five, ()),
        "orders": (five, ("slack", "release")),
        "erp": (five, ("slack",)),
        "email": (five, ("slack",)),
        "crm": (five, ("slack",)),
    }


def test_a_topic_without_its_worker_has_no_job() -> None:
    workers = {Topic.SLACK: Worker(ListOutbox("slack"), "slack", lambda row: None, Clock(NOW), "t")}  # type: ignore[arg-type]
    assert [job.name for job in every_job(workers)] == ["release", "approvals", "delegations", "renewals", "slack"]


def test_outbox_workers_settle_when_kicked_and_the_timed_jobs_do_not() -> None:
    workers = {Topic.SLACK: Worker(ListOutbox("slack"), "slack", lambda row: None, Clock(NOW), "t")}  # type: ignore[arg-type]
    sweeps = Recorded()
    jobs.schedule(sweeps, every_job(workers))  # type: ignore[arg-type]
    assert sweeps.settles == {"release": 0, "approvals": 0, "delegations": 0, "renewals": 0, "slack": 0.05}


@pytest.mark.parametrize(("done", "kicked"), [(0, []), (3, ["slack", "erp"])])
async def test_a_scheduled_job_that_did_something_wakes_the_jobs_it_names(done: int, kicked: list[str]) -> None:
    async def release() -> int:
        return done

    sweeps = Recorded()
    jobs.schedule(sweeps, [jobs.Job("release", release, dt.timedelta(seconds=30), ("slack", "erp"))])  # type: ignore[arg-type]
    run, every = sweeps.added["release"]
    assert every == dt.timedelta(seconds=30)
    assert await run() == done
    assert sweeps.kicked == kicked
