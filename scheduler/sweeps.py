"""APScheduler 3 as a trigger only: one interval job per sweep; the database holds what is due.

Each job is coalesced, runs one instance at a time, has no misfire grace limit and first runs at
start (so work that fell due while the process was down is done at once). `kick(name)` asks for
a sweep now; a kick that arrives while the sweep runs makes it go round once more, so no wake-up
is lost.

A sweep may `settle`: a kicked run then waits that long before it reads what is due, and kicks
meanwhile are served by that one run. Under a stream of clicks the outbox workers so take the rows
of several clicks per batch (one claim, one read of what they need, one mark) instead of a batch
per click; a lone click waits the settle time more (tens of milliseconds).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("greenlight.scheduler")


@dataclass
class Sweep:
    name: str
    run: Callable[[], Awaitable[object]]
    every: dt.timedelta
    dirty: asyncio.Event = field(default_factory=asyncio.Event)
    running: bool = False
    runs: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    settle: float = 0.0
    """Seconds a kicked run waits before it starts, gathering the kicks that follow."""


class Sweeps:
    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self.sweeps: dict[str, Sweep] = {}
        self.stopping = asyncio.Event()
        """Set once `stop` has begun: no sweep starts after it."""
        self._kicked: set[asyncio.Task[None]] = set()
        """Sweeps started by a kick: referenced until they end (the loop keeps only weak references)."""

    def add(self, name: str, run: Callable[[], Awaitable[object]], every: dt.timedelta, settle: float = 0.0) -> None:
        self.sweeps[name] = Sweep(name, run, every, settle=settle)

    async def _go(self, sweep: Sweep, settle: float = 0.0) -> None:
        if sweep.running:
            sweep.dirty.set()
            return
        sweep.running = True
        sweep.idle.clear()
        try:
            if settle > 0:
                await asyncio.sleep(settle)  # the kicks meanwhile are served by the run below
                if self.stopping.is_set():
                    return  # stop began meanwhile: the next start runs whatever is due then
            while True:
                sweep.dirty.clear()
                try:
                    await sweep.run()
                except Exception:
                    log.exception("sweep %s failed; it runs again on its next tick", sweep.name)
                sweep.runs += 1
                if not sweep.dirty.is_set() or self.stopping.is_set():
                    break
        finally:
            sweep.running = False
            sweep.idle.set()

    def start(self) -> None:
        now = dt.datetime.now(dt.UTC)
        for sweep in self.sweeps.values():
            self.scheduler.add_job(
                self._go,
                "interval",
                args=[sweep],
                id=sweep.name,
                seconds=sweep.every.total_seconds(),
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
                next_run_time=now,
            )
        self.scheduler.start()

    def kick(self, name: str) -> None:
        sweep = self.sweeps.get(name)
        if sweep is None:
            return
        if self.stopping.is_set():
            return  # stopping: the next start runs whatever is due then
        if sweep.running:
            sweep.dirty.set()
        elif self.scheduler.running:
            task = asyncio.get_running_loop().create_task(self._go(sweep, sweep.settle))
            self._kicked.add(task)
            task.add_done_callback(self._kicked.discard)

    async def run_now(self, name: str) -> None:
        """Run a sweep now and wait until it has gone round with nothing new asked of it."""
        sweep = self.sweeps[name]
        if sweep.running:
            sweep.dirty.set()
            await sweep.idle.wait()
        else:
            await self._go(sweep)

    async def stop(self) -> None:
        """Pause new runs, let running sweeps finish, then shut the scheduler down.

        A paused scheduler still counts as running, so kicks (a click's, or a finished sweep waking
        the next) would otherwise start sweeps while the database is being closed."""
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.pause()
        for sweep in self.sweeps.values():
            if sweep.running:
                await sweep.idle.wait()
        if self._kicked:
            await asyncio.gather(*self._kicked, return_exceptions=True)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
