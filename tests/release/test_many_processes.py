"""Several bot processes sharing PostgreSQL release every due order once and hand it to the ERP once,
even when one of them is killed with SIGKILL in the middle of a sweep (orders-v1 §2, §4)."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.erp import ErpStandIn
from store.models import OrderRow, OutboxRow
from tests.support.quotes import ROOT

from .support import ERP_SECRET, HERE, audit_count, create_due_orders

SWEEPER = HERE / "sweeper.py"
TIMEOUT = 180.0
# The ERP lease. Long enough that the stalled victim keeps its lease while the survivor does the rest;
# short enough that the survivor's clock, moved past it, still signs within the ERP's 5-minute tolerance.
LEASE_SECONDS = 120.0


@dataclass
class Sweeper:
    """One child process and the progress lines it printed."""

    name: str
    process: asyncio.subprocess.Process
    lines: list[dict[str, Any]] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    reader: asyncio.Task | None = None

    async def read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            async with self.changed:
                self.lines.append(json.loads(raw))
                self.changed.notify_all()
        async with self.changed:
            self.lines.append({"exited": True})
            self.changed.notify_all()

    async def until(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first line (already printed or to come) that `wanted` accepts; fails if the process exits first."""
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: any(wanted(x) or "exited" in x for x in self.lines)), TIMEOUT
            )
            line = next(x for x in self.lines if wanted(x) or "exited" in x)
        assert "exited" not in line, f"{self.name} exited early: {self.lines[-5:]} {await self.errors()}"
        return line

    async def tell(self, line: str, *, close: bool = False) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()
        if close:
            self.process.stdin.close()

    async def finish(self) -> int:
        code = await asyncio.wait_for(self.process.wait(), TIMEOUT)
        if self.reader is not None:
            await asyncio.wait_for(self.reader, TIMEOUT)
        return code

    async def errors(self) -> str:
        if self.process.stderr is None or self.process.returncode is None:
            return ""
        return (await self.process.stderr.read()).decode()[-3000:]

    def last(self, key: str) -> int:
        return max((x[key] for x in self.lines if key in x), default=0)


async def start(name: str, url: str, erp: ErpStandIn, *options: str, lease: float = LEASE_SECONDS) -> Sweeper:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SWEEPER),
        url,
        erp.url,
        ERP_SECRET,
        f"{name}-owner",
        str(lease),
        *options,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    sweeper = Sweeper(name, process)
    sweeper.reader = asyncio.create_task(sweeper.read())
    return sweeper


async def start_together(
    url: str, erp: ErpStandIn, *processes: tuple[str, ...], lease: float = LEASE_SECONDS
) -> list[Sweeper]:
    """Every process connected before any of them sweeps (the barrier); each is a name and options."""
    sweepers = [await start(name, url, erp, *options, lease=lease) for name, *options in processes]
    for sweeper in sweepers:
        await sweeper.until(lambda x: "ready" in x)
    return sweepers


async def stop(sweepers: list[Sweeper]) -> None:
    for sweeper in sweepers:
        if sweeper.process.returncode is None:
            sweeper.process.kill()
            await sweeper.process.wait()
        if sweeper.reader is not None:
            sweeper.reader.cancel()


def real_time(erp: ErpStandIn) -> None:
    """The children sign with the real time: the stand-in judges freshness by it too."""
    erp.clock = lambda: dt.datetime.now(dt.UTC).timestamp()


async def assert_released_and_synced_once(numbers: list[str]) -> None:
    assert await OrderRow.filter(status="synced").count() == len(numbers)
    assert await audit_count("order_released") == collections.Counter({n: 1 for n in numbers})
    assert await audit_count("order_synced") == collections.Counter({n: 1 for n in numbers})
    erp = await OutboxRow.filter(topic="erp").values_list("key", "status")
    assert sorted(erp) == sorted((f"{n}:released", "sent") for n in numbers)
    announced = await OutboxRow.filter(topic="slack").values_list("payload", flat=True)
    released = collections.Counter(p["detail"]["order"] for p in announced if p["kind"] == "order_released")
    assert released == collections.Counter({n: 1 for n in numbers})


async def test_two_processes_sharing_postgresql_release_5000_due_orders_once_and_deliver_each_once(
    postgres_database: str, connected: str, erp: ErpStandIn
) -> None:
    real_time(erp)
    numbers = await create_due_orders(5000, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    sweepers = await start_together(connected, erp, ("a",), ("b",))
    try:
        for sweeper in sweepers:
            await sweeper.tell("go", close=True)  # end of input after go: each exits once nothing is left to it
        codes = [await sweeper.finish() for sweeper in sweepers]
        assert codes == [0, 0], [await s.errors() for s in sweepers]
    finally:
        await stop(sweepers)

    await assert_released_and_synced_once(numbers)
    assert erp.delivered() == collections.Counter({f"{n}:released": 1 for n in numbers})
    assert sum(s.last("released") for s in sweepers) == 5000
    assert all(s.last("delivered") > 0 for s in sweepers), "both processes delivered"


async def kill_mid_sweep(connected: str, erp: ErpStandIn, count: int, stall: str) -> tuple[Sweeper, list[str]]:
    """The victim sweeps `count` due orders until it stops at `stall` (see sweeper.py); the survivor sweeps
    alongside it from then on; the victim is killed there; the survivor finishes."""
    real_time(erp)
    numbers = await create_due_orders(count, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    victim, survivor = sweepers = await start_together(connected, erp, ("victim", "--stall", stall), ("survivor",))
    try:
        await victim.tell("go", close=True)
        await victim.until(lambda x: "stalled" in x)
        await survivor.tell("go")
        await survivor.until(lambda x: "idle" in x)  # all it can do while the victim holds its rows
        victim.process.send_signal(signal.SIGKILL)
        assert await victim.finish() == -signal.SIGKILL
        await survivor.tell("peer-dead", close=True)
        assert await survivor.finish() == 0, await survivor.errors()
    finally:
        await stop(sweepers)
    return victim, numbers


async def test_a_process_killed_inside_a_release_transaction_loses_nothing_and_releases_nothing_twice(
    postgres_database: str, connected: str, erp: ErpStandIn
) -> None:
    victim, numbers = await kill_mid_sweep(connected, erp, 500, stall="release:3")

    assert victim.last("released") == 200, "two batches committed, the third claimed and rolled back"
    assert victim.last("delivered") == 0
    await assert_released_and_synced_once(numbers)
    assert erp.delivered() == collections.Counter({f"{n}:released": 1 for n in numbers})


async def test_a_process_killed_after_the_erp_accepted_a_message_loses_nothing_and_the_erp_drops_the_repeat(
    postgres_database: str, connected: str, erp: ErpStandIn
) -> None:
    victim, numbers = await kill_mid_sweep(connected, erp, 500, stall="erp:30")

    (in_flight,) = [x["number"] for x in victim.lines if "stalled" in x]
    assert victim.last("released") == 500
    assert victim.last("delivered") == 25, "one batch of 25 finished; the second was leased when it died"
    await assert_released_and_synced_once(numbers)
    # At least once: the message the ERP accepted but the victim never recorded is posted again by
    # the survivor once the lease is over; the ERP drops the repeat by its Idempotency-Key.
    expected = collections.Counter({f"{n}:released": 1 for n in numbers})
    expected[f"{in_flight}:released"] = 2
    assert erp.delivered() == expected


async def test_two_processes_with_an_erp_slower_than_a_lease_post_each_event_once(
    postgres_database: str, connected: str, erp: ErpStandIn
) -> None:
    """60 orders and an ERP taking 0.25 s per POST, on a 1 s lease. Process a delivers batches of 25
    (6 s each, six leases), process b batches of 5 (1.25 s): b comes back for more while a is deep in
    its batch, long after a's first lease would have run out. a keeps the lease of the batch it is
    delivering, so b takes only rows nobody holds: one POST per event, no reclaim."""
    real_time(erp)
    erp.delay = 0.25
    numbers = await create_due_orders(60, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    sweepers = await start_together(connected, erp, ("a", "--erp-batch", "25"), ("b", "--erp-batch", "5"), lease=1.0)
    a, b = sweepers
    try:
        await a.tell("go", close=True)
        await a.until(lambda x: x.get("released") == 60)  # then b joins, with every message queued
        await b.tell("go", close=True)
        codes = [await sweeper.finish() for sweeper in sweepers]
        assert codes == [0, 0], [await s.errors() for s in sweepers]
    finally:
        await stop(sweepers)

    await assert_released_and_synced_once(numbers)
    assert erp.attempts == collections.Counter({f"{n}:released": 1 for n in numbers}), "one POST per event"
    done = [next(x for x in s.lines if x.get("done")) for s in sweepers]
    assert [d["reclaims"] for d in done] == [0, 0]
    assert b.last("delivered") > 5, "b came back for more while a was delivering"
