"""A sweep that settles (scheduler/sweeps.py): the kicks of a busy moment share one run, so the
outbox workers take the rows of several clicks per batch; without settling each kick that finds
the sweep idle starts its own."""

from __future__ import annotations

import asyncio
import datetime as dt

from scheduler.sweeps import Sweeps


async def kicks_then_runs(settle: float) -> int:
    sweeps = Sweeps()
    runs = 0
    done = asyncio.Event()

    async def sweep() -> None:
        nonlocal runs
        runs += 1
        done.set()

    sweeps.add("outbox", sweep, dt.timedelta(hours=1), settle=settle)
    sweeps.scheduler.start(paused=True)  # running, so kicks start sweeps; no interval tick fires
    try:
        for _ in range(3):  # each kick starts a run of its own unless one is already settling
            sweeps.kick("outbox")
        await done.wait()
        await sweeps.sweeps["outbox"].idle.wait()
    finally:
        await sweeps.stop()
    return runs


async def test_kicks_during_the_settle_time_are_served_by_one_run() -> None:
    assert await kicks_then_runs(settle=0.05) == 1


async def test_without_settling_a_kick_after_the_first_makes_the_sweep_go_round_again() -> None:
    assert await kicks_then_runs(settle=0.0) > 1


async def test_a_sweep_kicked_before_stop_begins_does_not_run_once_it_has_settled() -> None:
    sweeps = Sweeps()
    runs = 0

    async def sweep() -> None:
        nonlocal runs
        runs += 1

    sweeps.add("outbox", sweep, dt.timedelta(hours=1), settle=0.05)
    sweeps.scheduler.start(paused=True)
    sweeps.kick("outbox")
    await sweeps.stop()  # waits for the kicked run, which settles, finds stop begun and ends
    assert runs == 0
