"""Delivery gives way to a crowd of clicks (notifications/worker.py `Foreground`): after a batch
delivered while `busy` or more requests ran at once, the worker pauses before its next batch, so that
the clicks are answered first; a request or two at a time never makes it pause."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from notifications.worker import Foreground, Worker
from store.outbox import Claimed, Outbox
from tests.support.clock import Clock


async def test_a_quiet_stream_of_requests_never_makes_delivery_pause() -> None:
    foreground = Foreground(busy=3)
    for _ in range(10):  # one request at a time, then two at once
        with foreground.serving():
            pass
    with foreground.serving(), foreground.serving():
        assert foreground.pause_after(spent=60.0) == 0


async def test_a_crowd_of_requests_makes_delivery_pause_once_per_batch() -> None:
    foreground = Foreground(busy=3)
    with contextlib.ExitStack() as crowd:
        for _ in range(3):
            crowd.enter_context(foreground.serving())
        assert foreground.peak == 3
    assert foreground.running == 0

    assert foreground.pause_after(spent=0.1) == pytest.approx(0.3)  # three ran at once: a quarter of the time
    assert foreground.pause_after(spent=0.1) == 0  # nobody since: the next batch goes at once


def test_a_pause_lasts_at_most_the_longest() -> None:
    foreground = Foreground(busy=1, longest=1.0)
    with foreground.serving():
        assert foreground.pause_after(spent=60.0) == 1.0


def test_the_share_is_a_fraction_of_the_time() -> None:
    for share in (0.0, -0.5, 1.5):
        with pytest.raises(ValueError, match="fraction of the time"):
            Foreground(share=share)


async def test_a_sweep_holds_its_next_batch_back_while_clicks_crowd_in(connected: str) -> None:
    clock = Clock()
    outbox = Outbox()
    for n in range(3):
        await outbox.add("give-way", f"row:{n}", {"n": n}, clock())
    foreground = Foreground(share=0.001, busy=2, longest=3600)  # a pause longer than the test
    first_done = asyncio.Event()
    seen: list[int] = []
    crowd = contextlib.ExitStack()

    async def handle(row: Claimed) -> None:
        seen.append(row.payload["n"])
        if len(seen) == 1:  # two clicks arrive while the first batch is being delivered
            crowd.enter_context(foreground.serving())
            crowd.enter_context(foreground.serving())
            first_done.set()

    worker = Worker(outbox, "give-way", handle, clock, "w", foreground=foreground)
    sweep = asyncio.create_task(worker.sweep(limit=1))
    await first_done.wait()
    # the batch delivered, the sweep pauses before the next (wait_for: a guard against a hang, not a timing)
    await asyncio.wait_for(foreground.pausing.wait(), 30)

    assert seen == [0]
    assert not sweep.done()
    sweep.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sweep
    crowd.close()

    quiet = Worker(outbox, "give-way", handle, clock, "w2", foreground=foreground)
    assert await quiet.sweep(limit=1) == 2  # nobody crowding in now: batch after batch
    assert seen == [0, 1, 2]
