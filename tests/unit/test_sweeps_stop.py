"""Stopping the sweeps (scheduler/sweeps.py): a paused APScheduler still counts as running, so a
kick that arrives while the sweeps stop must not start a sweep behind the stop's back (it would
run on a database being closed); stop returns once every sweep, kicked ones too, has ended."""

from __future__ import annotations

import asyncio
import datetime as dt

from scheduler.sweeps import Sweeps


async def test_a_kick_while_the_sweeps_stop_starts_nothing_and_stop_waits_for_the_running_sweep() -> None:
    sweeps = Sweeps()
    started: dict[str, int] = {"slow": 0, "other": 0}
    inside, release, other_ticked = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started["slow"] += 1
        inside.set()
        await release.wait()

    async def other() -> None:
        started["other"] += 1
        if started["other"] == 2:
            other_ticked.set()

    sweeps.add("slow", slow, dt.timedelta(hours=1))
    sweeps.add("other", other, dt.timedelta(hours=1))
    sweeps.start()
    await sweeps.run_now("other")  # once by hand, once by its first tick (before or after this one)
    await other_ticked.wait()
    await inside.wait()
    runs = dict(started)
    stopping = asyncio.create_task(sweeps.stop())
    await sweeps.stopping.wait()  # stop has begun: it pauses the scheduler and waits for "slow"
    sweeps.kick("other")
    sweeps.kick("slow")
    assert not stopping.done(), "stop waits for the sweep that is running"
    release.set()
    await stopping
    assert started == runs, "no sweep started, and the running one did not go round again, once stop began"
    assert not sweeps.scheduler.running
