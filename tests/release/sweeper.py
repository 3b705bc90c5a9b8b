"""One Greenlight-like process of test_many_processes: release due orders and hand them to the ERP.

    python sweeper.py DATABASE_URL ERP_URL ERP_SECRET OWNER LEASE_SECONDS [--stall release:N | erp:N] [--erp-batch N]

Connects (without migrating: the test did), prints `ready` and waits for a line on stdin (the
barrier: the test starts every process at once). Then goes round, as the bot's sweeps do: release
what is due (`Orders.release_due`), deliver one batch of ERP messages (`Worker.sweep` with
`ErpDelivery`), printing a JSON progress line after every committed release batch and every
delivery batch. When nothing is due and nothing can be claimed but work is left (orders or ERP
messages held by another process) it prints `{"idle": n}` and reads stdin again:

- end of input: the other process is alive and finishes its own work; exit.
- `peer-dead`: the other process was killed. Wait (on the database's locks, not a timer) until its
  open transaction is rolled back, then move this process's clock past the leases it held, which
  nobody will renew, instead of sleeping until they expire; finish everything.

The last line is `{"done": true, "released": n, "delivered": n, "reclaims": n}` (reclaims: rows
this process took over after another's lease ran out).

`--stall` makes the process stop for good at a chosen point and say so, for the test to kill it
there: `release:N` inside the N-th release transaction, after it claimed its batch and before it
commits; `erp:N` after the ERP accepted the N-th message, before the process records it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from domain.order_service import Orders
from domain.policy import load_policy
from notifications.erp_delivery import ErpDelivery
from notifications.worker import RECLAIMS, Worker
from store import db
from store.models import OrderRow, OutboxRow
from store.outbox import Outbox
from store.tx import DbStore, DbTx

RELEASE_BATCH = 100
ERP_BATCH = 25
POLICY = "version: 1\ntimezone: UTC\nadmins: [dana]\nfallback_approver: dana\npeople:\n  dana: {}\n"


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


class Skewed:
    """The real time, moved forward when the leases of a dead process are to be taken over."""

    def __init__(self) -> None:
        self.skew = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.skew


async def stall(**fields: Any) -> None:
    say(stalled=True, **fields)
    await asyncio.Event().wait()


class ReportingStore(DbStore):
    """Says how many orders this process has released after each committed release transaction, and
    with `stall_in_release` stops for good in that release transaction, after its statements ran and
    before it commits (its rows locked)."""

    released = 0
    release_transactions = 0
    stall_in_release: int | None = None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[DbTx]:
        claimed: list[int] = []
        async with super().transaction() as tx:
            release_due = tx.release_due

            async def counted(now: dt.datetime, limit: int) -> int:
                claimed.append(await release_due(now, limit))
                return claimed[-1]

            tx.release_due = counted  # type: ignore[method-assign]
            yield tx
            if claimed:
                self.release_transactions += 1
                if self.release_transactions == self.stall_in_release:
                    await stall(batch=self.release_transactions)
        if sum(claimed):
            self.released += sum(claimed)
            say(released=self.released)


class ReportingOrders(Orders):
    synced_count = 0
    stall_after_post: int | None = None

    async def synced(self, number: str, reference: str | None, now: dt.datetime) -> None:
        self.synced_count += 1
        if self.synced_count == self.stall_after_post:
            await stall(number=number)
        await super().synced(number, reference, now)


async def unfinished(now: dt.datetime) -> int:
    due = await OrderRow.filter(status="scheduled", release_at__lte=now).count()
    return due + await OutboxRow.filter(topic="erp", status__in=("pending", "sending")).count()


async def wait_for_dead_transactions(now: dt.datetime) -> None:
    """Block on the due orders' row locks: they are free once the killed process's transaction is rolled back."""
    if Tortoise.get_connection("default").capabilities.dialect != "postgres":
        return
    async with in_transaction():
        # only(): tortoise 1.1.9 drops FOR UPDATE from values() and values_list() queries
        await OrderRow.filter(status="scheduled", release_at__lte=now).select_for_update().only("id")


async def leases_end() -> dt.datetime | None:
    row = await OutboxRow.filter(topic="erp", status="sending").order_by("-lease_until").first()
    return row.lease_until if row else None


async def main(
    url: str, erp_url: str, secret: str, owner: str, lease_seconds: float, stall_at: str | None, erp_batch: int
) -> int:
    clock = Skewed()
    store = ReportingStore()
    desk = ReportingOrders(load_policy(POLICY, "sweeper policy"), store)
    if stall_at:
        where, count = stall_at.split(":")
        if where == "release":
            store.stall_in_release = int(count)
        else:
            desk.stall_after_post = int(count)
    erp = ErpDelivery(erp_url, secret, desk, clock)
    worker = Worker(Outbox(), "erp", erp.deliver, clock, owner, lease=dt.timedelta(seconds=lease_seconds))
    loop = asyncio.get_running_loop()
    await db.connect(url, apply_migrations=False)
    try:
        say(ready=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        delivered, peer_dead = 0, False
        while True:
            released = await desk.release_due(clock(), limit=RELEASE_BATCH)
            finished = await worker.sweep(limit=erp_batch, batches=1)
            if finished:
                delivered += finished
                say(delivered=delivered)
            if released or finished:
                continue
            left = await unfinished(clock())
            if not left:
                break
            if peer_dead:
                end = await leases_end()
                if end is None or end <= clock():
                    say(stuck=left)
                    return 1
                clock.skew += end - clock() + dt.timedelta(milliseconds=1)
                continue
            say(idle=left)
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if line.strip() != "peer-dead":
                break
            peer_dead = True
            await wait_for_dead_transactions(clock())
        reclaims = RECLAIMS.labels(topic="erp")._value.get()
        say(done=True, released=store.released, delivered=delivered, reclaims=reclaims)
    finally:
        await erp.close()
        await db.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("url", "erp_url", "secret", "owner"):
        parser.add_argument(name)
    parser.add_argument("lease", type=float)
    parser.add_argument("--stall", help="release:N or erp:N")
    parser.add_argument("--erp-batch", type=int, default=ERP_BATCH)
    args = parser.parse_args()
    code = asyncio.run(main(args.url, args.erp_url, args.secret, args.owner, args.lease, args.stall, args.erp_batch))
    sys.exit(code)
