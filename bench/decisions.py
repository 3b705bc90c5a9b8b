"""Benchmark: committed approval decisions per second through `Approvals.decide` on the database store.

N quotes are submitted, each needing one approval by a 3-person `mode: any` group; then 50
concurrent deciders (asyncio tasks in one process) approve them all, one `decide` each. In the
same run, on the same database and the same tortoise connection, the floor: a bare single-row
`UPDATE approval SET status = 'approved' WHERE id = ? AND status = 'requested'` per approval, by
50 concurrent workers. Prints both rates and their ratio (target: decisions >= 30% of the floor),
the statements one decision sends, and the versions. Asserts nothing about time; it does check
that every approval was decided exactly once and every floor UPDATE hit one row.

One process uses one backend (tortoise caches executors by connection name), so without
`--backend` the script runs itself once per backend in a subprocess and sums up.

    python bench/decisions.py [--quick] [--approvals N] [--concurrency C] [--profile]
    python bench/decisions.py --backend sqlite|postgres [...]   (one backend, in this process)

PostgreSQL: a scratch database is created on the server of --pg-url (default
GREENLIGHT_BENCH_PG_URL, else postgres://postgres@127.0.0.1:5432/test) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import json
import logging
import os
import platform
import pstats
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from tortoise import Tortoise  # noqa: E402

from domain import approvals as lifecycle  # noqa: E402
from domain.policy import load_policy  # noqa: E402
from domain.quote import parse_quote  # noqa: E402
from domain.service import Approvals  # noqa: E402
from store import db  # noqa: E402
from store.models import ApprovalRow, AuditRow, SubmissionRow  # noqa: E402
from store.tx import DbStore  # noqa: E402
from tests.support import postgres  # noqa: E402
from tests.support.quotes import one_line_quote  # noqa: E402

BACKENDS = ("sqlite", "postgres")
FULL, QUICK = 10_000, 1_000
CONCURRENCY = 50
TARGET = 0.30
RULE = "desk-review"
MEMBERS = ("dana", "dev", "dora")
SETUP_BATCH = 250
SAMPLED = 20  # extra approvals decided one by one with the statement log on
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

PEOPLE = "".join(f"  {m}: {{slack: U0{m.upper()}, email: {m}@example.com}}\n" for m in MEMBERS)
POLICY = f"""
version: 1
timezone: UTC
admins: [{MEMBERS[0]}]
fallback_approver: desk
people:
  rep: {{slack: U0REP, email: rep@example.com}}
{PEOPLE}
approvers:
  desk: {{group: [{", ".join(MEMBERS)}], mode: any}}
rules:
  - name: {RULE}
    step: 1
    approver: desk
"""


@dataclass
class Result:
    backend: str
    approvals: int
    concurrency: int
    setup_seconds: float
    decisions_seconds: float
    decisions_per_second: float
    floor_seconds: float
    floor_per_second: float
    ratio: float
    statements_per_decision: float
    cpu_ms_per_decision: float
    load_average: float
    python: str
    sqlite: str
    postgres: str


# ---------------------------------------------------------------- databases


@asynccontextmanager
async def scratch_database(backend: str, pg_url: str) -> AsyncIterator[str]:
    """A new, empty database URL for this run, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="greenlight-bench-") as directory:
            yield f"sqlite://{Path(directory) / 'bench.db'}"
        return
    async with postgres.private_database(pg_url, "greenlight_bench") as url:
        yield url


async def postgres_version(pg_url: str) -> str:
    try:
        connection = await asyncpg.connect(postgres.asyncpg_dsn(pg_url), timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        return f"not reachable ({error.__class__.__name__})"
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


# ---------------------------------------------------------------- phases


async def setup(service: Approvals, quote_ids: list[str]) -> None:
    """Receive and submit every quote, as `Approvals.receive_quote` + `submit` do, a batch per transaction."""
    store = DbStore()
    for start in range(0, len(quote_ids), SETUP_BATCH):
        async with store.transaction() as tx:
            ctx = service.context(await tx.directory(), NOW)
            for quote_id in quote_ids[start : start + SETUP_BATCH]:
                q = parse_quote(one_line_quote(quote_id))
                await tx.save_quote(q, NOW)
                sub, events = lifecycle.submit(ctx, q, 1, None)
                sub.due_at = lifecycle.next_due(sub, service.policy)
                await tx.add_submission(sub)
                await tx.record(events)


async def in_parallel(items: list[Any], workers: int, work: Callable[[int, Any], Awaitable[None]]) -> float:
    """Seconds to run WORK on every item with WORKERS tasks pulling from one queue."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker(index: int) -> None:
        while not queue.empty():
            await work(index, queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(workers)))
    return time.perf_counter() - started


async def floor(backend: str, approval_ids: list[int], workers: int) -> float:
    connection = Tortoise.get_connection("default")
    mark = "?" if backend == "sqlite" else "$1"
    statement = f"UPDATE approval SET status = 'approved' WHERE id = {mark} AND status = 'requested'"
    hit = 0

    async def update(_: int, approval_id: int) -> None:
        nonlocal hit
        count, _rows = await connection.execute_query(statement, [approval_id])
        hit += count

    seconds = await in_parallel(approval_ids, workers, update)
    if hit != len(approval_ids):
        raise SystemExit(f"the floor updated {hit} rows, expected {len(approval_ids)}")
    await connection.execute_query("UPDATE approval SET status = 'requested'")
    return seconds


async def decisions(service: Approvals, quote_ids: list[str], workers: int) -> float:
    async def decide(index: int, quote_id: str) -> None:
        events = await service.decide(quote_id, RULE, MEMBERS[index % len(MEMBERS)], "approve", NOW)
        if [e.kind for e in events] != ["approved", "quote_approved"]:
            raise SystemExit(f"{quote_id}: unexpected events {[e.kind for e in events]}")

    return await in_parallel(quote_ids, workers, decide)


class StatementCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = str(record.msg % record.args if record.args else record.msg)
        if not text.startswith(("Created connection", "Closed connection")):
            self.statements.append(text)


async def statements_per_decision(service: Approvals, quote_ids: list[str]) -> tuple[float, list[str]]:
    """Decide QUOTE_IDS one by one with tortoise's statement log on (BEGIN/COMMIT are not logged)."""
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        for quote_id in quote_ids:
            await service.decide(quote_id, RULE, MEMBERS[0], "approve", NOW)
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
    one = [s.split(":", 1)[0][:110] for s in counter.statements[: len(counter.statements) // len(quote_ids)]]
    return len(counter.statements) / len(quote_ids), one


async def check_every_decision(quote_ids: list[str]) -> None:
    approved = await SubmissionRow.filter(status="approved").count()
    decided = await AuditRow.filter(kind="approved", rule=RULE).count()
    rows = await ApprovalRow.filter(status="approved").count()
    if not approved == decided == rows == len(quote_ids):
        raise SystemExit(f"expected {len(quote_ids)} decisions: {approved} submissions, {decided} events, {rows} rows")


async def run_backend(args: argparse.Namespace) -> Result:
    backend = args.backend
    policy = load_policy(POLICY, "bench policy")
    n = args.approvals or (QUICK if args.quick else FULL)
    timed = [f"Q-{i:06d}" for i in range(n)]
    sampled = [f"Q-S{i:04d}" for i in range(SAMPLED)]
    pg = await postgres_version(args.pg_url)
    async with scratch_database(backend, args.pg_url) as url:
        await db.connect(url)
        try:
            service = Approvals(policy, DbStore())
            started = time.perf_counter()
            await setup(service, timed + sampled)
            setup_seconds = time.perf_counter() - started
            approval_ids = list(
                await ApprovalRow.filter(quote_id__in=timed).order_by("id").values_list("id", flat=True)
            )
            await in_parallel(list(range(args.concurrency)), args.concurrency, lambda *_: warm())
            floor_seconds = await floor(backend, approval_ids, args.concurrency)
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            cpu = time.process_time()
            decisions_seconds = await decisions(service, timed, args.concurrency)
            cpu = time.process_time() - cpu
            if profiler:
                profiler.disable()
            await check_every_decision(timed)
            per_decision, statements = await statements_per_decision(service, sampled)
        finally:
            await db.close()
    result = Result(
        backend=backend,
        approvals=n,
        concurrency=args.concurrency,
        setup_seconds=setup_seconds,
        decisions_seconds=decisions_seconds,
        decisions_per_second=n / decisions_seconds,
        floor_seconds=floor_seconds,
        floor_per_second=n / floor_seconds,
        ratio=floor_seconds / decisions_seconds,
        statements_per_decision=per_decision,
        cpu_ms_per_decision=cpu / n * 1000,
        load_average=os.getloadavg()[0],
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        postgres=pg,
    )
    print_result(result)
    print("  the statements of one decision (tortoise's log, without BEGIN/COMMIT):")
    for statement in statements:
        print(f"    {statement}")
    if profiler:
        print_profile(profiler)
    print("RESULT " + json.dumps(asdict(result)), flush=True)
    return result


async def warm() -> None:
    await Tortoise.get_connection("default").execute_query("SELECT 1")


def print_result(r: Result) -> None:
    verdict = "meets" if r.ratio >= TARGET else "below"
    print(f"decisions on {r.backend}: {r.approvals:,} approvals, {r.concurrency} concurrent deciders")
    print(f"  setup (not timed below): {r.approvals:,} quotes submitted in {r.setup_seconds:.1f} s")
    rate = f"{r.decisions_per_second:,.0f} committed decisions/s"
    print(f"  Approvals.decide on DbStore: {rate} ({r.decisions_seconds:.2f} s)")
    print(f"  floor, bare single-row UPDATE: {r.floor_per_second:,.0f} updates/s ({r.floor_seconds:.2f} s)")
    print(f"  ratio: {r.ratio:.1%} of the floor ({verdict} the {TARGET:.0%} target)")
    print(f"  statements per decision: {r.statements_per_decision:.1f} + BEGIN/COMMIT (floor: 1)")
    print(
        f"  CPU of this process per decision: {r.cpu_ms_per_decision:.2f} ms (one event loop: at most "
        f"{1000 / r.cpu_ms_per_decision:,.0f} decisions/s)"
    )
    print(f"  Python {r.python}, SQLite {r.sqlite}, PostgreSQL {r.postgres}; load average {r.load_average:.1f}")


def print_profile(profiler: cProfile.Profile) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats(order).print_stats(25)
        print(f"  profile of the decision phase, by {order} (event-loop thread only):")
        print("\n".join("    " + line for line in out.getvalue().splitlines() if line.strip()))


# ---------------------------------------------------------------- every backend, one process each


def run_all(args: argparse.Namespace) -> int:
    results: list[Result] = []
    failed = 0
    pg = asyncio.run(postgres_version(args.pg_url))
    for backend in BACKENDS:
        if backend == "postgres" and pg.startswith("not reachable"):
            print(f"decisions on postgres: skipped, PostgreSQL at {args.pg_url} is {pg}\n")
            continue
        command = [
            sys.executable,
            __file__,
            "--backend",
            backend,
            "--concurrency",
            str(args.concurrency),
            "--pg-url",
            args.pg_url,
        ]
        if args.quick:
            command.append("--quick")
        if args.approvals:
            command += ["--approvals", str(args.approvals)]
        if args.profile:
            command.append("--profile")
        run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        for line in run.stdout.splitlines():
            if line.startswith("RESULT "):
                results.append(Result(**json.loads(line.removeprefix("RESULT "))))
            else:
                print(line)
        if run.returncode != 0:
            failed += 1
            print(f"decisions on {backend} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
        print()
    if results:
        print(f"{'backend':<10} {'N':>7} {'deciders':>8} {'decisions/s':>12} {'floor/s':>9} {'ratio':>7} {'stmts':>6}")
        for r in results:
            print(
                f"{r.backend:<10} {r.approvals:>7,} {r.concurrency:>8} {r.decisions_per_second:>12,.0f} "
                f"{r.floor_per_second:>9,.0f} {r.ratio:>7.1%} {r.statements_per_decision:>6.1f}"
            )
        print(
            f"target: decisions >= {TARGET:.0%} of the floor; Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, PostgreSQL {pg}; {os.cpu_count()} cores"
        )
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=BACKENDS, help="run one backend in this process")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} approvals instead of {FULL:,}")
    parser.add_argument("--approvals", type=int, help="how many approvals to decide (overrides --quick)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="concurrent deciders (default 50)")
    parser.add_argument("--profile", action="store_true", help="cProfile the decision phase and print the top")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("GREENLIGHT_BENCH_PG_URL") or postgres.DEFAULT_SERVER_URL,
        help="a PostgreSQL server to create the scratch database on",
    )
    args = parser.parse_args()
    if args.backend is None:
        return run_all(args)
    asyncio.run(run_backend(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
