"""Benchmark: insights over N submissions against a bare SQL aggregate, and a policy backtest over N
quote versions against the engine's preview loop over the same quotes.

The history (tests/support/history.py: N submissions over a year, 100,000 by default, 10,000 with --quick)
is written once per backend. Then, interleaved, `--runs` times each:

- insights floor: the bare SQL aggregate over the same rows: one `COUNT(*)` and `SUM` of the
  cycle time over the period's submissions and one over their approvals' waiting time (the two
  reads every figure needs, durations in SQL, no groups, no percentiles);
- insights: `store.insights.gather` (every figure of `greenlight insights`, from the database);
- backtest floor: `domain.approvals.plan` (what a preview runs) for every quote version, the quotes
  already in memory (read before the clock starts);
- backtest: `store.backtest.backtest` with the VP threshold raised from 25% to 30%: reads the
  quotes and their recorded approvals from the database, plans each one and compares.

Prints the median of the runs, the ratio to the floor and the targets (insights within 2x,
backtest within 1.5x). Asserts nothing about time; it does check the figures count every row.

    python bench/insights.py [--quick | --smoke] [--count N] [--runs N] [--pg-url URL] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from measure import sized, target  # noqa: E402

from tests.support.postgres import DEFAULT_SERVER_URL  # noqa: E402

INSIGHTS_TARGET = 2.0
GROUPS = {
    "submission": ("'all'", "week", "owner"),
    "approval": ("'all'", "week", "chain", "chain || '/' || step", "rule", "acted_by"),
}


def d_instant(connection: Any, moment: Any) -> Any:
    from store.insights import Dialect

    return Dialect(connection.capabilities.dialect).instant(moment)


def bare_sql(dialect: str) -> tuple[list[str], list[str]]:
    """The bare scan (count and sum of the durations) and the bare SQL of every figure group."""
    from store.insights import Dialect

    d = Dialect(dialect)
    since, until = d.param(), d.param()
    sources = {
        "submission": f"""SELECT owner, status, {d.week("submitted_at")} AS week,
                {d.seconds("submitted_at", "decided_at")} AS s FROM submission
                WHERE submitted_at >= {since} AND submitted_at < {until}""",
        "approval": f"""SELECT a.rule, a.chain, a.step, a.status, a.acted_by, {d.week("a.requested_at")} AS week,
                {d.seconds("a.requested_at", "a.decided_at")} AS s
                FROM approval a JOIN submission sub ON sub.id = a.submission_id
                WHERE sub.submitted_at >= {since} AND sub.submitted_at < {until}""",
    }
    scan = [f"SELECT COUNT(*) AS n, SUM(s) AS total FROM ({sql}) AS b" for sql in sources.values()]
    floor = []
    for source, groups in GROUPS.items():
        decided = (
            "status IN ('approved', 'rejected')"
            if source == "submission"
            else "status IN ('approved', 'rejected', 'auto')"
        )
        for group in groups:
            if d.postgres:
                group = group.replace("|| step", "|| CAST(step AS VARCHAR(12))")
                floor.append(
                    f"""SELECT {group} AS k, COUNT(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY s),
                        percentile_disc(0.9) WITHIN GROUP (ORDER BY s)
                        FROM ({sources[source]}) AS b WHERE {decided} GROUP BY 1"""
                )
            else:
                floor.append(
                    f"""SELECT k, COUNT(*), MIN(CASE WHEN share >= 0.5 THEN s END),
                        MIN(CASE WHEN share >= 0.9 THEN s END)
                        FROM (SELECT {group} AS k, s,
                              CUME_DIST() OVER (PARTITION BY {group} ORDER BY s) AS share
                              FROM ({sources[source]}) AS b WHERE {decided}) AS r GROUP BY k"""
                )
    floor.append(f"SELECT status, COUNT(*) FROM ({sources['submission']}) AS b GROUP BY status")
    floor.append(
        f"""SELECT rule, COUNT(*), SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END),
            SUM(CASE WHEN status = 'carried' THEN 1 ELSE 0 END) FROM ({sources["approval"]}) AS b GROUP BY rule"""
    )
    return scan, floor


BACKTEST_TARGET = 1.5


async def measure(url: str, count: int, runs: int) -> dict[str, Any]:
    from tortoise import Tortoise

    from domain.approvals import Context, Directory, plan
    from domain.policy import load_policy
    from domain.rules import Evaluator
    from store import db
    from store.backtest import backtest, recorded
    from store.insights import gather
    from tests.support.history import END, START, fill, policy_text

    await db.connect(url)
    try:
        started = time.perf_counter()
        await fill(count)
        filled = time.perf_counter() - started
        connection = Tortoise.get_connection("default")
        current, new = load_policy(policy_text(25), "vp-25"), load_policy(policy_text(30), "vp-30")
        bounds = [d_instant(connection, START), d_instant(connection, END)]
        scan_sql, floor_sql = bare_sql(connection.capabilities.dialect)
        quotes = []
        async for items in recorded(START, END):
            quotes.extend((item.quote, item.submitted_at) for item in items)
        assert len(quotes) == count, len(quotes)
        ctx = Context(new, Evaluator(new), Directory(), START)

        async def bare_scan() -> None:
            rows = [await connection.execute_query_dict(sql, bounds) for sql in scan_sql]
            assert rows[0][0]["n"] == count

        async def insights_floor() -> None:
            for sql in floor_sql:
                await connection.execute_query(sql, bounds if sql.count("?") or "$1" in sql else [])

        async def insights() -> None:
            report = await gather(current, END, START, END)
            assert sum(report.submissions.values()) == count

        async def preview_loop() -> None:
            for quote, at in quotes:
                ctx.now = at
                plan(ctx, quote, None)

        async def backtest_floor() -> None:
            n = 0
            async for items in recorded(START, END):
                for item in items:
                    ctx.now = item.submitted_at
                    plan(ctx, item.quote, None)
                    n += 1
            assert n == count

        async def backtest_run() -> None:
            result = await backtest(new, current, START, END)
            assert result.submissions == count

        jobs = {
            "bare_scan": bare_scan,
            "insights_floor": insights_floor,
            "insights": insights,
            "preview_loop": preview_loop,
            "backtest_floor": backtest_floor,
            "backtest": backtest_run,
        }
        timings: dict[str, list[float]] = {name: [] for name in jobs}
        await insights()  # warm the page cache and the statement caches once
        for _ in range(runs):
            for name, job in jobs.items():
                started = time.perf_counter()
                await job()
                timings[name].append(time.perf_counter() - started)
        return {"filled": filled, "timings": timings}
    finally:
        await db.close()


def run_part(args: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def part_sqlite(count: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        return asyncio.run(measure(f"sqlite://{directory}/bench.db", count, runs))


def part_postgres(server: str, count: int, runs: int) -> dict[str, Any]:
    from tests.support import postgres

    try:
        url = asyncio.run(postgres.create_database(server, "greenlight_bench"))
    except Exception as error:
        return {"skipped": f"PostgreSQL at {server} cannot be reached ({error.__class__.__name__})"}
    try:
        return asyncio.run(measure(url, count, runs))
    finally:
        asyncio.run(postgres.drop_database(server, url))


def report(name: str, count: int, runs: int, part: dict[str, Any]) -> None:
    if "skipped" in part or "error" in part:
        print(f"{name}: {part.get('skipped') or part.get('error')}")
        return
    t = {k: statistics.median(v) for k, v in part["timings"].items()}
    spread = {k: f"{min(v) * 1000:.0f}-{max(v) * 1000:.0f} ms" for k, v in part["timings"].items()}

    def line(label: str, key: str) -> None:
        print(f"  {label:<52}{t[key] * 1000:9.1f} ms   ({spread[key]})")

    print(f"{name}: {count:,} submissions written in {part['filled']:.1f} s; median of {runs} interleaved runs")
    line("reading the rows: COUNT and SUM of the durations", "bare_scan")
    line("floor: every figure group as bare SQL", "insights_floor")
    line("insights (store.insights.gather, every figure)", "insights")
    insights_ratio = t["insights"] / t["insights_floor"]
    print(f"  insights / floor {insights_ratio:.2f}x; / reading the rows {t['insights'] / t['bare_scan']:.1f}x")
    line("preview loop, quotes already in memory", "preview_loop")
    line("floor: preview loop over the quotes read from the store", "backtest_floor")
    line("backtest 25% -> 30% (read, plan, compare)", "backtest")
    backtest_ratio = t["backtest"] / t["backtest_floor"]
    print(
        f"  backtest / floor {backtest_ratio:.2f}x; / in-memory preview loop {t['backtest'] / t['preview_loop']:.2f}x"
    )
    target(
        f"insights on {name} <= {INSIGHTS_TARGET}x the bare SQL of every figure",
        insights_ratio <= INSIGHTS_TARGET,
        f"{insights_ratio:.2f}x",
    )
    target(
        f"backtest on {name} <= {BACKTEST_TARGET}x the preview loop over the stored quotes",
        backtest_ratio <= BACKTEST_TARGET,
        f"{backtest_ratio:.2f}x",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 submissions instead of 100,000")
    parser.add_argument("--count", type=int)
    parser.add_argument("--smoke", action="store_true", help="a few submissions: does it still run (bench/measure.py)")
    parser.add_argument("--runs", type=int, default=sized("insights", "runs", 3))
    parser.add_argument("--pg-url", default=DEFAULT_SERVER_URL)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--part", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    count = args.count or sized("insights", "count", 10_000 if args.quick else 100_000)
    if args.part == "sqlite":
        print(json.dumps(part_sqlite(count, args.runs)))
        return 0
    if args.part == "postgres":
        print(json.dumps(part_postgres(args.pg_url, count, args.runs)))
        return 0
    common = ["--count", str(count), "--runs", str(args.runs), "--pg-url", args.pg_url]
    if args.quick:
        print(f"quick mode: {count:,} submissions (make bench-full runs 100,000)")
    parts = {"SQLite": run_part(["--part", "sqlite", *common])}
    if not args.sqlite_only:
        parts["PostgreSQL"] = run_part(["--part", "postgres", *common])
    for name, part in parts.items():
        report(name, count, args.runs, part)
    return 1 if any("error" in part for part in parts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
