"""What every benchmark measures the same way: windows, interleaved repeats, spread, CPU, targets.

A figure is the median of at least three windows of two seconds or more, the variants of one
benchmark taking turns (A B C, B C A, C A B) so that a machine busy for a while slows them all
alike; the spread (lowest and highest window) is printed beside it, and so is the CPU each
operation cost the process that did the work. A target is printed as one line,
`target <what>: met|NOT met (<figure>)`, so a reader (or grep) finds every verdict.

Smoke mode (`--smoke` on any bench; the test suite runs every bench so): the sizes of SMOKE below
and windows of SMOKE_WINDOW, each doing at least one operation, so that a bench runs in seconds and
its code cannot rot unnoticed. Its figures mean nothing. Importing this module with `--smoke` on
the command line sets GREENLIGHT_BENCH_SMOKE=1 before the bench reads its sizes; the processes a
bench starts inherit it.
"""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPEATS = 3
WINDOW = 2.0
SMOKE_ENV = "GREENLIGHT_BENCH_SMOKE"
SMOKE_WINDOW = 0.02
SMOKE: dict[str, dict[str, Any]] = {
    "crm": {"quotes": 12, "concurrency": 4, "warm_up": 2},
    "decisions": {"approvals": 4, "warm_up": 2, "floor_pool": 40, "sampled": 2, "concurrency": 4},
    "delegations": {"rounds": 2, "past": (30, 60)},
    "engine": {"lines": 100, "warm_up": 2},
    "history": {
        "per_window": 3,
        "big_per_window": 2,
        "audit": 200,
        "delegations": 30,
        "replacements": 10,
        "lines": 5,
        "spare": 2,
    },
    "insights": {"count": 40, "runs": 1},
    "memory": {"quotes": 30, "pending": 10, "rounds": 2},
    "release": {"orders": 12, "runs": 1, "amended_lines": 40, "batch": 5},
    "slack_ack": {"warm_up": 2, "slice": 4, "sustain": 0.1, "rate": 20.0, "floor_rows": 300, "concurrency": 4},
}
"""Each bench's sizes in smoke mode, by bench and by the name of the size it replaces."""
if "--smoke" in sys.argv[1:]:
    os.environ[SMOKE_ENV] = "1"
TICKS = os.sysconf("SC_CLK_TCK")
_NONE_LEFT: Any = object()


def smoke() -> bool:
    """True when the benches run as a smoke test (tiny sizes, windows of one operation or more)."""
    return os.environ.get(SMOKE_ENV) == "1"


def sized(bench: str, name: str, default: T) -> T:
    """A size of `bench`: its smoke value in smoke mode, else `default`."""
    return SMOKE[bench][name] if smoke() else default  # type: ignore[no-any-return]


def window_seconds() -> float:
    """How long a window lasts at least: WINDOW, or SMOKE_WINDOW in smoke mode."""
    return SMOKE_WINDOW if smoke() else WINDOW


def process_cpu(pid: int | None = None) -> float:
    """CPU seconds (user + system, every thread) a process has used so far; this one by default."""
    if pid is None:
        return time.process_time()
    return _name_and_ticks(Path(f"/proc/{pid}/stat").read_text())[1] / TICKS


def processes_cpu(name: str) -> float:
    """CPU seconds used so far by every process of this machine called NAME (`postgres`: the
    server's backends and its own workers), read from /proc; those that end meanwhile drop out."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            called, ticks = _name_and_ticks(stat.read_text())
        except OSError:  # gone meanwhile
            continue
        if called == name:
            total += ticks
    return total / TICKS


def _name_and_ticks(stat: str) -> tuple[str, int]:
    """A process's name and the clock ticks of CPU (user + system) it has used, from its /proc/PID/stat."""
    head, _, tail = stat.rpartition(")")
    fields = tail.split()
    return head.partition("(")[2], int(fields[11]) + int(fields[12])


@dataclass
class Window:
    """One measured stretch: operations done, wall seconds, CPU seconds, each operation's latency."""

    ops: int
    seconds: float
    cpu: float
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.ops * 1000 if self.ops else math.nan


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Series:
    """The windows of one variant."""

    name: str
    windows: list[Window] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return statistics.median(w.rate for w in self.windows)

    @property
    def cpu_ms(self) -> float:
        return statistics.median(w.cpu_ms for w in self.windows)

    def latency_ms(self, p: float) -> float:
        """The median over windows of each window's percentile `p`, in ms."""
        return statistics.median(percentile(w.latencies, p) for w in self.windows) * 1000

    def spread(self) -> str:
        rates = [w.rate for w in self.windows]
        return f"{min(rates):,.0f}-{max(rates):,.0f}"

    def line(self, unit: str = "ops", width: int = 34) -> str:
        shortest = min(w.seconds for w in self.windows)
        text = (
            f"  {self.name:<{width}} {self.rate:>8,.0f} {unit}/s  (windows {self.spread()}; "
            f"{len(self.windows)} x >= {shortest:.1f} s)  CPU {self.cpu_ms:.2f} ms/{unit.rstrip('s') or 'op'}"
        )
        if any(w.latencies for w in self.windows):
            text += f"  p50 {self.latency_ms(50):.1f} ms  p99 {self.latency_ms(99):.1f} ms"
        if shortest < window_seconds():
            text += f"  (a window shorter than {window_seconds():g} s: too few items)"
        return text


async def interleaved(
    variants: dict[str, Callable[[], Awaitable[Window]]],
    repeats: int = REPEATS,
    between: Callable[[str], Awaitable[None]] | None = None,
) -> dict[str, Series]:
    """Run every variant `repeats` times, taking turns and rotating who goes first."""
    series = {name: Series(name) for name in variants}
    names = list(variants)
    for repeat in range(repeats):
        turn = names[repeat % len(names) :] + names[: repeat % len(names)]
        for name in turn:
            series[name].windows.append(await variants[name]())
            if between is not None:
                await between(name)
    return series


async def for_a_while(
    items: Iterator[T],
    workers: int,
    work: Callable[[T], Awaitable[Any]],
    seconds: float | None = None,
    cpu: Callable[[], float] = process_cpu,
) -> Window:
    """WORKERS tasks take items and do WORK on each until `seconds` (default: `window_seconds()`) have
    passed or the items run out; a window always takes at least one item, however short."""
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + (window_seconds() if seconds is None else seconds)
    cpu_before = cpu()
    taken = 0

    async def worker() -> None:
        nonlocal taken
        while not taken or time.perf_counter() < deadline:
            taken += 1
            item = next(items, _NONE_LEFT)
            if item is _NONE_LEFT:
                return
            begun = time.perf_counter()
            await work(item)
            latencies.append(time.perf_counter() - begun)

    await asyncio.gather(*(worker() for _ in range(workers)))
    took = time.perf_counter() - started
    return Window(len(latencies), took, cpu() - cpu_before, latencies)


def verdict(what: str, met: bool, figure: str) -> str:
    return f"target {what}: {'met' if met else 'NOT met'} ({figure})"


def target(what: str, met: bool, figure: str) -> None:
    print(verdict(what, met, figure), flush=True)


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())
