"""Delivery mechanics shared by every outbox topic: a worker drains one topic, a handler delivers one row.

A handler returns when the row is done, raises `Retry` to try again later, or `Permanent` to put
the row in the dead letters. Anything else is a bug: logged, and the row is tried again later, so
one broken row never stops the rest of the topic.

Leases outlast the work: while a batch is being delivered, the worker extends the lease of every row
of the batch it has not finished (every third of the lease), so a slow receiver (an ERP taking
seconds per POST) never lets another process claim the same rows and send them twice. A lease
that runs out anyway (a process stalled or killed) is taken over by the next claim: each such
reclaim is logged and counted (`greenlight_outbox_reclaims_total` in `/metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager

from prometheus_client import Counter

from store.outbox import Claimed, Outbox

log = logging.getLogger("greenlight.outbox")

SENT, DEAD, RETRIED = "sent", "dead", "retried"

# Registered by the HTTP surface's metrics (greenlight/api.py): rows whose lease ran out before their
# worker finished them, taken over by another claim, by topic.
RECLAIMS = Counter(
    "greenlight_outbox_reclaims",
    "Outbox rows claimed again after the lease of the worker holding them ran out, by topic.",
    ["topic"],
    registry=None,
)


# Registered like RECLAIMS: rows marked sent, by topic. Sent rows stay in the outbox as its history;
# /metrics counts them here, as they are marked, instead of counting the table on every scrape.
SENT_ROWS = Counter(
    "greenlight_outbox_sent",
    "Outbox rows this process delivered and marked sent, by topic.",
    ["topic"],
    registry=None,
)


def backoff(attempts: int, rng: random.Random | None = None, base: float = 2.0, cap: float = 3600.0) -> dt.timedelta:
    """Exponential backoff with full jitter: a random wait up to min(cap, base * 2**attempts) seconds."""
    rng = rng or random.Random()
    return dt.timedelta(seconds=rng.uniform(0, min(cap, base * 2 ** max(0, attempts - 1))))


class Retry(Exception):
    """Try this outbox row again at `at` (the receiver said wait, or could not be reached)."""

    def __init__(self, at: dt.datetime, reason: str) -> None:
        super().__init__(reason)
        self.at = at


class Permanent(Exception):
    """The receiver refused for good (an answer that retrying will not change): the row goes to the dead letters."""


class Foreground:
    """The requests someone is waiting on (a click, a command), counted while they run. Delivery gives
    way to them (`give_way`): after a batch delivered while `busy` or more ran at once, it pauses long
    enough to keep only `share` of the time. A burst of clicks is answered first and its messages
    follow; a stream that leaves room (a click or two at a time) never makes it pause."""

    def __init__(self, share: float = 0.25, busy: int = 8, longest: float = 1.0) -> None:
        if not 0 < share <= 1:
            raise ValueError("share is a fraction of the time: more than 0, at most 1")
        self.share = share
        self.busy = busy
        self.longest = longest
        """Seconds a pause lasts at most."""
        self.running = 0
        self.peak = 0
        """The most requests that ran at once since the last `give_way`."""
        self.pausing = asyncio.Event()
        """Set while a pause of `give_way` runs."""

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            yield
        finally:
            self.running -= 1

    def pause_after(self, spent: float) -> float:
        """Seconds to pause after background work that took SPENT seconds (0: none): some, if requests
        crowded in meanwhile. The crowd is counted afresh from here."""
        peak, self.peak = self.peak, self.running
        if peak >= self.busy and spent > 0:
            # a batch that waited on a slow receiver (an SMTP outage, timeouts) took time, not CPU
            return min(spent * (1 - self.share) / self.share, self.longest)
        return 0.0

    async def give_way(self, spent: float) -> None:
        """After background work that took SPENT seconds: pause, if requests crowded in meanwhile."""
        pause = self.pause_after(spent)
        if pause > 0:
            self.pausing.set()
            try:
                await asyncio.sleep(pause)
            finally:
                self.pausing.clear()


class Worker:
    """Drains one outbox topic: claim, deliver, mark; wakes on demand and on a timer."""

    def __init__(
        self,
        outbox: Outbox,
        topic: str,
        handle: Callable[[Claimed], Awaitable[None]],
        clock: Callable[[], dt.datetime],
        owner: str,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        batch: Callable[[list[Claimed]], AbstractAsyncContextManager[None]] | None = None,
        mark_in_batches: bool = False,
        lane: Callable[[Claimed], str] | None = None,
        lanes: int = 1,
        foreground: Foreground | None = None,
    ) -> None:
        self.outbox = outbox
        self.topic = topic
        self.handle = handle
        self.clock = clock
        self.owner = owner
        self.lease = lease
        self.batch = batch
        """Entered around the delivery of each claimed batch (the Slack worker coalesces updates in it)."""
        self.mark_in_batches = mark_in_batches
        self.lane = lane
        """What must stay in order (the Slack worker: a quote): rows of one lane are delivered one
        after the other in id order; up to `lanes` lanes are delivered at once."""
        self.lanes = lanes
        self.foreground = foreground
        """Given way to before each batch (the Slack worker: clicks are answered before their messages)."""
        self._spent = 0.0
        """How long the last batch took, not yet given way for."""

    async def sweep(self, limit: int = 50, batches: int = 20) -> int:
        """One pass over what is due; returns how many rows were finished (sent or dead).

        With `mark_in_batches`, the rows of a batch that were sent are marked in one statement at
        the end of the batch (their lease is kept until then): one write per batch instead of one
        per row, so delivery is not queued once per row behind the click transactions of a busy
        moment. Topics whose handlers look at whether an earlier row was sent (the CRM's per-quote
        order) keep marking each row as it is sent."""
        finished = 0
        loop = asyncio.get_running_loop()
        for _ in range(batches):
            if self.foreground is not None and self._spent:
                await self.foreground.give_way(self._spent)
                self._spent = 0.0
            started = loop.time()
            rows = await self.outbox.claim(self.topic, self.clock(), self.owner, self.lease, limit)
            if not rows:
                return finished
            for row in rows:
                if row.reclaimed_from is not None:
                    RECLAIMS.labels(topic=self.topic).inc()
                    log.warning(
                        "outbox %s row %s (%s): the lease of %s ran out before it finished; %s takes it over",
                        self.topic,
                        row.id,
                        row.key,
                        row.reclaimed_from,
                        self.owner,
                    )
            held = {row.id for row in rows}
            sent: list[int] = []
            keeper = asyncio.create_task(self._keep_leases(held))

            try:
                async with self.batch(rows) if self.batch else contextlib.nullcontext():
                    queue = self._in_lanes(rows)
                    if self.lanes > 1 and len(queue) > 1:
                        # one row alone first: a receiver that refuses (429, an outage) is found out by
                        # one call, and the lanes that follow wait as it says instead of each calling
                        finished += await self._deliver_lanes([[queue[0].pop(0)]], sent, held)
                        queue = [lane for lane in queue if lane]
                    # each runner takes the next lane when it is done with one: lanes share the queue
                    if self.lanes <= 1 or len(queue) <= 1:
                        finished += await self._deliver_lanes(queue, sent, held)
                    else:
                        async with asyncio.TaskGroup() as runners:  # one failing stops the others
                            running = [
                                runners.create_task(self._deliver_lanes(queue, sent, held))
                                for _ in range(min(self.lanes, len(queue)))
                            ]
                        finished += sum(task.result() for task in running)
            finally:
                try:
                    await self._mark_sent(sent)
                finally:
                    keeper.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await keeper
                    self._spent = loop.time() - started
            if len(rows) < limit:
                return finished
        return finished

    async def _deliver_lanes(self, queue: list[list[Claimed]], sent: list[int], held: set[int]) -> int:
        """Deliver lanes taken from `queue` until it is empty, each lane's rows in order; how many were finished."""
        done = 0
        while queue:
            for row in queue.pop(0):
                outcome = await self._deliver(row)
                done += outcome != RETRIED
                if outcome == SENT and self.mark_in_batches:
                    sent.append(row.id)  # its lease is kept until the batch is marked
                    continue
                if outcome == SENT:
                    await self._mark_sent([row.id])
                held.discard(row.id)
        return done

    async def _mark_sent(self, row_ids: list[int]) -> None:
        """Mark rows sent in one statement, and count those this worker still held."""
        SENT_ROWS.labels(topic=self.topic).inc(await self.outbox.done_many(row_ids, self.owner, self.clock()))

    def _in_lanes(self, rows: list[Claimed]) -> list[list[Claimed]]:
        """The batch's rows by lane, each lane in id order, lanes in order of their first row."""
        if self.lane is None or self.lanes <= 1:
            return [rows]
        lanes: dict[str, list[Claimed]] = {}
        for row in rows:
            lanes.setdefault(self.lane(row), []).append(row)
        return list(lanes.values())

    async def _keep_leases(self, held: set[int]) -> None:
        """Extend the lease of the batch's unfinished rows every third of the lease, until cancelled."""
        interval = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            wanted = sorted(held)
            try:
                kept = await self.outbox.extend(wanted, self.owner, self.clock() + self.lease)
            except Exception:  # the database is away: the next tick tries again
                log.exception("outbox %s: could not extend the lease of %d row(s)", self.topic, len(wanted))
                continue
            if kept < len(wanted):
                log.warning(
                    "outbox %s: %s lost the lease of %d row(s) it was delivering",
                    self.topic,
                    self.owner,
                    len(wanted) - kept,
                )

    async def _deliver(self, row: Claimed) -> str:
        """Deliver one claimed row: SENT (to be marked with its batch), DEAD or RETRIED (both marked now)."""
        try:
            await self.handle(row)
        except Retry as retry:
            log.info("outbox %s row %s: retry at %s (%s)", self.topic, row.id, retry.at.isoformat(), retry)
            await self.outbox.retry(row.id, self.owner, retry.at, str(retry))
            return RETRIED
        except Permanent as failure:
            log.warning("outbox %s row %s: dead letter (%s)", self.topic, row.id, failure)
            await self.outbox.dead(row.id, self.owner, str(failure))
            return DEAD
        except Exception as error:  # a bug must not stop delivery of everything else
            log.exception("outbox %s row %s failed", self.topic, row.id)
            await self.outbox.retry(row.id, self.owner, self.clock() + backoff(row.attempts), repr(error))
            return RETRIED
        return SENT
