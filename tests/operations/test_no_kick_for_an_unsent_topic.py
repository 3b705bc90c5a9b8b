"""A runtime without a CRM writes no CRM rows (`DbStore.unsent`), so a commit's kick does not run
the CRM sweep for nothing: `Runtime.kick` passes over the unsent topics and kicks the others."""

from __future__ import annotations

import asyncio
import datetime as dt

from greenlight.app import build
from scheduler.sweeps import Sweeps
from tests.support.bare import bare_settings


async def test_a_kick_passes_over_the_topics_this_runtime_does_not_write(tmp_path) -> None:
    settings = bare_settings(tmp_path)
    runtime = build(settings)  # no CRM configured
    assert runtime.unsent == {"crm"}
    runs: list[str] = []
    slack_ran = asyncio.Event()
    sweeps = Sweeps()
    for name in ("slack", "crm"):

        async def sweep(name: str = name) -> None:
            runs.append(name)
            if name == "slack":
                slack_ran.set()

        sweeps.add(name, sweep, dt.timedelta(hours=1))
    runtime.sweeps = sweeps
    sweeps.scheduler.start(paused=True)  # running, so kicks start sweeps; no interval tick fires
    try:
        runtime.kick("crm", "slack")  # the CRM first: a kick of it would start its run first
        await slack_ran.wait()
        await sweeps.sweeps["slack"].idle.wait()
    finally:
        await sweeps.stop()
    assert runs == ["slack"]
