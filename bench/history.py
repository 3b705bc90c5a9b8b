"""Benchmark: what one decision and one App Home read cost as history piles up, against the empty case.

One SQLite database per history size, each holding the same open approvals (quotes needing one
approval by a 3-person `mode: any` group, as in bench/decisions.py):

- empty: nothing else;
- 10,000 delegation windows that ended long ago (never pruned), for the group's members;
- 1,000 replacements (people who left, replaced by a member);
- 1,000,000 audit rows of other quotes (100,000 with --quick);
- quotes of 1,000 lines (200 with --quick; the decided quotes themselves are large).

Per size, interleaved with the others (3 rounds): a window of 2 s or more of decisions one after
another through the click path (`Approvals.decide` with the click's idempotency key), then a window
of App Home's reads for a member (`directory(now)` + `waiting_on(person, now)`, what the home tab
needs besides rendering). Prints CPU and median time per operation and the ratio to the empty
case (target: within 1.2x). Asserts nothing about time.

    python bench/history.py [--quick | --smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from decisions import MEMBERS, NOW, POLICY, decide_like_a_click  # noqa: E402
from measure import Series, for_a_while, load_average, sized, smoke, target, window_seconds  # noqa: E402

from domain import approvals as lifecycle  # noqa: E402
from domain.policy import load_policy  # noqa: E402
from domain.quote import parse_quote  # noqa: E402
from domain.service import Approvals  # noqa: E402
from store import db  # noqa: E402
from store.tx import DbStore  # noqa: E402
from tests.support.quotes import one_line_quote  # noqa: E402

RATIO_TARGET = 1.2
REPEATS = 3
PER_WINDOW = {"quick": 250, "full": 800}
BIG_PER_WINDOW = {"quick": 20, "full": 60}
"""Quotes of 1,000 lines take seconds each to set up (on a loaded machine): quick mode uses 200 lines."""
AUDIT = {"quick": 100_000, "full": 1_000_000}
DELEGATIONS = sized("history", "delegations", 10_000)
REPLACEMENTS = sized("history", "replacements", 1_000)
LINES = {"quick": 200, "full": 1_000}
SETUP_BATCH = 100


def quote_data(quote_id: str, lines: int) -> dict[str, Any]:
    data = one_line_quote(quote_id)
    if lines > 1:
        (line,) = data["lines"]
        data["lines"] = [{**line, "id": f"L{i}"} for i in range(1, lines + 1)]
        data["net_total"] = line["net_total"] * lines
        data["list_total"] = line["list_total"] * lines
    return data


async def set_up(service: Approvals, quote_ids: list[str], lines: int) -> None:
    store = DbStore()
    for start in range(0, len(quote_ids), SETUP_BATCH):
        async with store.transaction() as tx:
            ctx = service.context(await tx.directory(), NOW)
            for quote_id in quote_ids[start : start + SETUP_BATCH]:
                q = parse_quote(quote_data(quote_id, lines))
                await tx.save_quote(q, NOW)
                sub, events = lifecycle.submit(ctx, q, 1, None)
                await tx.add_submission(sub)
                await tx.record(events)


def load_history(path: Path, size: str, audit_rows: int) -> None:
    """Rows written straight into the migrated file, as years of use would have left them."""
    connection = sqlite3.connect(path)
    stamp = str(NOW)
    if size == "delegations":
        rows = []
        for n in range(DELEGATIONS):
            end = NOW.date() - dt.timedelta(days=2 + n % 3000)
            delegator, delegate = MEMBERS[n % 3], MEMBERS[(n + 1) % 3]
            rows.append((delegator, delegate, str(end - dt.timedelta(days=1)), str(end), delegator, stamp))
        connection.executemany(
            'INSERT INTO delegation (delegator, delegate, start, "end", created_by, created_at) VALUES (?,?,?,?,?,?)',
            rows,
        )
    elif size == "replacements":
        connection.executemany(
            "INSERT INTO replacement (old, new, created_at, created_by, moved) VALUES (?,?,?,?,?)",
            ((f"left{n:05d}", MEMBERS[n % 3], stamp, MEMBERS[0], "{}") for n in range(REPLACEMENTS)),
        )
    elif size == "audit":
        detail = json.dumps({"note": "x" * 40})
        connection.executemany(
            "INSERT INTO audit (at, kind, quote_id, quote_version, submission, rule, actor, people, detail) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (
                (stamp, "approved", f"H-{n // 10:07d}", 1, 1, "desk-review", MEMBERS[n % 3], "[]", detail)
                for n in range(audit_rows)
            ),
        )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


class Size:
    def __init__(self, name: str, label: str, folder: Path, per_window: int, lines: int) -> None:
        self.name, self.label, self.lines = name, label, lines
        self.url = f"sqlite://{folder / name}.db"
        self.path = folder / f"{name}.db"
        self.slices = [[f"Q-{w}-{i:05d}" for i in range(per_window)] for w in range(REPEATS)]
        spare = sized("history", "spare", 60 if lines == 1 else 6)
        self.spare = [f"Q-open-{i:03d}" for i in range(spare)]  # stay open: App Home shows them
        self.warm = [f"Q-warm-{i:03d}" for i in range(REPEATS)]
        self.decisions = Series(label)
        self.home = Series(label)

    @property
    def quote_ids(self) -> list[str]:
        return self.warm + self.spare + [q for s in self.slices for q in s]


async def prepare(size: Size, policy: Any, audit_rows: int, like: Size | None) -> float:
    """The size's open approvals (copied from `like`, which has the same ones), then its history."""
    started = time.perf_counter()
    if like is not None:
        shutil.copyfile(like.path, size.path)
    else:
        await db.connect(size.url)
        try:
            await set_up(Approvals(policy, DbStore()), size.quote_ids, size.lines)
        finally:
            await db.close()
        with contextlib.closing(sqlite3.connect(size.path)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    load_history(size.path, size.name, audit_rows)
    return time.perf_counter() - started


async def measured(size: Size, policy: Any, work: Callable[[Approvals], Awaitable[None]]) -> None:
    await db.connect(size.url, apply_migrations=False)
    try:
        await work(Approvals(policy, DbStore()))
    finally:
        await db.close()


async def one_round(size: Size, policy: Any) -> None:
    async def work(service: Approvals) -> None:
        await decide_like_a_click(service, size.warm.pop())  # warm-up on a real request after reconnecting
        items = iter(size.slices.pop(0))
        size.decisions.windows.append(await for_a_while(items, 1, lambda q: decide_like_a_click(service, q)))

        async def home(_: None) -> None:
            await service.directory(NOW)
            await service.waiting_on(MEMBERS[1], NOW)

        size.home.windows.append(await for_a_while(itertools.repeat(None), 1, home))

    await measured(size, policy, work)


def ms(series: Series) -> tuple[float, float]:
    """CPU ms per operation and median ms per operation (medians over the windows)."""
    median_ms = statistics.median(statistics.median(w.latencies) for w in series.windows) * 1000
    return series.cpu_ms, median_ms


async def run(quick: bool) -> None:
    mode = "smoke" if smoke() else "quick" if quick else "full"
    audit_rows = sized("history", "audit", AUDIT["quick" if quick else "full"])
    lines = sized("history", "lines", LINES["quick" if quick else "full"])
    per_window = sized("history", "per_window", PER_WINDOW["quick" if quick else "full"])
    big_per_window = sized("history", "big_per_window", BIG_PER_WINDOW["quick" if quick else "full"])
    policy = load_policy(POLICY, "bench policy")
    with tempfile.TemporaryDirectory(prefix="greenlight-history-") as directory:
        folder = Path(directory)
        sizes = [
            Size("empty", "empty", folder, per_window, 1),
            Size("delegations", f"{DELEGATIONS:,} ended delegations", folder, per_window, 1),
            Size("replacements", f"{REPLACEMENTS:,} replacements", folder, per_window, 1),
            Size("audit", f"{audit_rows:,} audit rows", folder, per_window, 1),
            Size("lines", f"{lines:,}-line quotes", folder, big_per_window, lines),
        ]
        print(
            f"history sizes on SQLite ({mode} mode: {audit_rows:,} audit rows, {lines:,}-line quotes"
            + ("; 1,000,000 and 1,000 in full mode" if mode != "full" else "")
            + f"); {REPEATS} interleaved rounds, windows >= {window_seconds():g} s; load average {load_average()}"
        )
        for size in sizes:
            like = sizes[0] if size.lines == 1 and size is not sizes[0] else None
            took = await prepare(size, policy, audit_rows, like)
            print(f"  set up {size.label}: {took:.1f} s (not timed below)")
        for _ in range(REPEATS):
            for size in sizes:
                await one_round(size, policy)
    empty_decision, empty_home = ms(sizes[0].decisions), ms(sizes[0].home)
    print(
        f"  {'history':<26} {'decision CPU':>13} {'median':>9} {'ratio':>6}   "
        f"{'App Home reads CPU':>18} {'median':>9} {'ratio':>6}"
    )
    for size in sizes:
        (d_cpu, d_ms), (h_cpu, h_ms) = ms(size.decisions), ms(size.home)
        print(
            f"  {size.label:<26} {d_cpu:>10.2f} ms {d_ms:>6.2f} ms {d_cpu / empty_decision[0]:>5.2f}x   "
            f"{h_cpu:>15.2f} ms {h_ms:>6.2f} ms {h_cpu / empty_home[0]:>5.2f}x"
        )
    short = [s.label for s in sizes if min(w.seconds for w in s.decisions.windows) < window_seconds()]
    if short:
        print(f"  (decision windows under {window_seconds():g} s, too few quotes prepared: {', '.join(short)})")
    for size in sizes[1:]:
        for what, series, empty in (("decision", size.decisions, empty_decision), ("App Home", size.home, empty_home)):
            ratio = series.cpu_ms / empty[0]
            target(
                f"{what} with {size.label} within {RATIO_TARGET}x of the empty case (CPU per operation)",
                ratio <= RATIO_TARGET,
                f"{ratio:.2f}x: {series.cpu_ms:.2f} vs {empty[0]:.2f} ms",
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 audit rows, 200-line quotes, fewer quotes")
    parser.add_argument("--smoke", action="store_true", help="a few rows of each: does it still run (bench/measure.py)")
    args = parser.parse_args()
    asyncio.run(run(args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
