"""Delivery mechanics shared by every outbox topic: a worker drains one topic, a handler delivers one row.

A handler returns when the row is done, raises `Retry` to try again later, or `Permanent` to put
the row in the dead letters. Anything else is a bug: logged, and the row is tried again later, so
one broken row never stops the rest of the topic.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable

from store.outbox import Claimed, Outbox

log = logging.getLogger("greenlight.outbox")


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
    ) -> None:
        self.outbox = outbox
        self.topic = topic
        self.handle = handle
        self.clock = clock
        self.owner = owner
        self.lease = lease

    async def sweep(self, limit: int = 50, batches: int = 20) -> int:
        """One pass over what is due; returns how many rows were finished (sent or dead)."""
        finished = 0
        for _ in range(batches):
            rows = await self.outbox.claim(self.topic, self.clock(), self.owner, self.lease, limit)
            if not rows:
                return finished
            for row in rows:
                try:
                    await self.handle(row)
                except Retry as retry:
                    log.info("outbox %s row %s: retry at %s (%s)", self.topic, row.id, retry.at.isoformat(), retry)
                    await self.outbox.retry(row.id, self.owner, retry.at, str(retry))
                    continue
                except Permanent as failure:
                    log.warning("outbox %s row %s: dead letter (%s)", self.topic, row.id, failure)
                    await self.outbox.dead(row.id, self.owner, str(failure))
                    finished += 1
                    continue
                except Exception as error:  # a bug must not stop delivery of everything else
                    log.exception("outbox %s row %s failed", self.topic, row.id)
                    await self.outbox.retry(row.id, self.owner, self.clock() + backoff(row.attempts), repr(error))
                    continue
                await self.outbox.done(row.id, self.owner, self.clock())
                finished += 1
            if len(rows) < limit:
                return finished
        return finished
