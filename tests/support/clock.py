"""The clock of the code under test: a callable returning an aware datetime that stands still.

Pass it wherever the runtime, a worker or a stand-in takes a clock; move it with `advance(...)`
(a relative step) or `to(...)` (an instant), never by sleeping.
"""

from __future__ import annotations

import datetime as dt

MONDAY_MORNING = dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)  # 09:00 in New York, no year-end rule
DECEMBER_FIRST = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class Clock:
    """The code under test's clock: stands still until a test moves it."""

    def __init__(self, now: dt.datetime = MONDAY_MORNING) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def timestamp(self) -> float:
        """Unix seconds, for what wants `time.time` (a stand-in judging a signature's freshness)."""
        return self.now.timestamp()

    def advance(self, **delta: float) -> dt.datetime:
        """Move on by `timedelta(**delta)`: `clock.advance(minutes=5)`."""
        self.now += dt.timedelta(**delta)
        return self.now

    def to(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment
        return moment
