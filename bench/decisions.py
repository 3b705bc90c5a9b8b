"""Benchmark: committed approval decisions per second through the click path, against a minimal floor.

N quotes are submitted, each needing one approval by a 3-person `mode: any` group; then 50
concurrent deciders (asyncio tasks in one process) approve them, one `Approvals.decide` each with
the click's idempotency key (`slack-click:<trigger_id>`, `via="slack"`, as the Approve button
does). In the same run, on the same database and the same tortoise connection, the floor: the same
loop of 50 workers, each decision one minimal transaction of what a correct decision must write
(read the request's state; insert the idempotency key; compare-and-set the request's status and
state; insert its audit row and its outbox row), on tables of the bench's own with a state blob as
large as a real submission's. Decisions and floor take turns: three windows of 2 s or more each,
interleaved, after warm-up decisions on real quotes. Prints the median rates, their spread, this
process's CPU per decision (the PostgreSQL server's is not counted), the ratio (target: decisions
>= 50% of the floor) and the statements one decision sends. Asserts nothing about time; it does
check that every approval was decided exactly once and every floor transaction changed its row.

One process uses one backend (tortoise caches executors by connection name), so without
`--backend` the script runs itself once per backend in a subprocess and sums up.

    python bench/decisions.py [--quick | --smoke] [--approvals N] [--concurrency C] [--profile] [--sqlite-only]
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
import itertools
import json
import math
import os
import platform
import pstats
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import asyncpg  # noqa: E402
from measure import Series, Window, for_a_while, interleaved, processes_cpu, sized, target  # noqa: E402
from tortoise import Tortoise  # noqa: E402
from tortoise.transactions import in_transaction  # noqa: E402

from domain import approvals as lifecycle  # noqa: E402
from domain.policy import load_policy  # noqa: E402
from domain.quote import parse_quote  # noqa: E402
from domain.service import Approvals  # noqa: E402
from store import db  # noqa: E402
from store.models import ApprovalRow, AuditRow, SubmissionRow  # noqa: E402
from store.sqlite import on_sqlite  # noqa: E402
from store.tx import DbStore  # noqa: E402
from tests.support import postgres  # noqa: E402
from tests.support.quotes import one_line_quote  # noqa: E402

BACKENDS = ("sqlite", "postgres")
FULL, QUICK = 12_000, 7_000
"""Approvals per decisions window: a window ends at 2 s or when they run out. Enough for 2 s at
3,500 decisions a second in quick mode (SQLite decided 3,059/s at 2,500 a window, 0.8 s windows)."""
CONCURRENCY = sized("decisions", "concurrency", 50)
TARGET = 0.50
WARM_UP = sized("decisions", "warm_up", 100)
FLOOR_POOL = sized("decisions", "floor_pool", 2_000)
RULE = "desk-review"
MEMBERS = ("dana", "dev", "dora")
SETUP_BATCH = 250
SAMPLED = sized("decisions", "sampled", 20)  # extra approvals decided one by one with the statement log on
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
    decisions_spread: str
    floor_spread: str
    floor_cpu_ms: float
    statements_per_decision: float
    cpu_ms_per_decision: float
    server_cpu_ms: float
    """PostgreSQL: its processes' CPU per decision (NaN on SQLite, which runs in this process)."""
    floor_server_cpu_ms: float
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


FLOOR_TABLES = (
    "CREATE TABLE bench_request (id INTEGER PRIMARY KEY, status VARCHAR(16) NOT NULL, revision INT NOT NULL, "
    "state TEXT NOT NULL)",
    "CREATE TABLE bench_key (key VARCHAR(255) PRIMARY KEY, answer TEXT NOT NULL)",
    "CREATE TABLE bench_audit (id {serial} PRIMARY KEY, at VARCHAR(40) NOT NULL, kind VARCHAR(32) NOT NULL, "
    "request INT NOT NULL, actor VARCHAR(128) NOT NULL, detail TEXT NOT NULL)",
    "CREATE TABLE bench_outbox (id {serial} PRIMARY KEY, topic VARCHAR(32) NOT NULL, key VARCHAR(255) UNIQUE, "
    "payload TEXT NOT NULL, status VARCHAR(16) NOT NULL, next_attempt_at VARCHAR(40) NOT NULL)",
)


class Floor:
    """What a correct decision must write, and nothing else: one transaction per decision that reads
    the request, inserts the idempotency key, compare-and-sets the request's status and state (as
    large as a real submission's), and inserts an audit row and an outbox row. The status flips
    between requested and approved on each pass over the pool, so a few rows last any window."""

    def __init__(self, backend: str, state: str) -> None:
        self.postgres = backend == "postgres"
        self.state = state
        self.revision: dict[int, int] = {}
        self.done = itertools.count()
        self.missed = 0

    def sql(self, text: str) -> str:
        if self.postgres:
            return text
        return re.sub(r"\$\d+", "?", text)

    async def create(self) -> None:
        connection = Tortoise.get_connection("default")
        serial = "BIGSERIAL" if self.postgres else "INTEGER"
        for statement in FLOOR_TABLES:
            await connection.execute_script(statement.format(serial=serial))
        for start in range(0, FLOOR_POOL, 500):
            chunk = range(start, min(start + 500, FLOOR_POOL))
            values = ",".join(f"({i}, 'requested', 0, '{self.state}')" for i in chunk)
            await connection.execute_script(f"INSERT INTO bench_request VALUES {values}")
        self.revision = dict.fromkeys(range(FLOOR_POOL), 0)

    def items(self) -> Iterator[int]:
        return itertools.cycle(range(FLOOR_POOL))

    async def decide(self, request: int) -> None:
        n = next(self.done)
        expected = self.revision[request]
        self.revision[request] = expected + 1
        now = NOW.isoformat()
        async with in_transaction("default") as connection:
            _, rows = await connection.execute_query(
                self.sql("SELECT status, revision, state FROM bench_request WHERE id = $1"), [request]
            )
            status = rows[0]["status"]
            await connection.execute_query(
                self.sql("INSERT INTO bench_key (key, answer) VALUES ($1, $2)"), [f"slack-click:floor-{n}", "{}"]
            )
            changed, _ = await connection.execute_query(
                self.sql(
                    "UPDATE bench_request SET status = $1, revision = revision + 1, state = $2 "
                    "WHERE id = $3 AND revision = $4"
                ),
                ["approved" if status == "requested" else "requested", self.state, request, expected],
            )
            await connection.execute_query(
                self.sql("INSERT INTO bench_audit (at, kind, request, actor, detail) VALUES ($1, $2, $3, $4, $5)"),
                [now, "approved", request, MEMBERS[0], "{}"],
            )
            await connection.execute_query(
                self.sql(
                    "INSERT INTO bench_outbox (topic, key, payload, status, next_attempt_at) "
                    "VALUES ($1, $2, $3, 'pending', $4)"
                ),
                ["slack", f"floor-{n}", '{"kind":"approved"}', now],
            )
        self.missed += changed != 1


_clicks = itertools.count()


async def decide_like_a_click(service: Approvals, quote_id: str) -> None:
    """What the Approve button's listener calls, with the click's idempotency key."""
    n = next(_clicks)
    key = f"slack-click:{NOW.timestamp():.0f}.{n}.{quote_id}"
    member = MEMBERS[n % len(MEMBERS)]
    events = await service.decide(quote_id, RULE, member, "approve", NOW, key=key, number=1, via="slack")
    if [e.kind for e in events] != ["approved", "quote_approved"]:
        raise SystemExit(f"{quote_id}: unexpected events {[e.kind for e in events]}")


async def statements_per_decision(service: Approvals, quote_ids: list[str]) -> tuple[float, list[str]]:
    """Decide QUOTE_IDS one by one, counting the statements sent (`statements_sent`); the statements
    of the first decision."""
    async with statements_sent() as seen:
        for quote_id in quote_ids:
            await decide_like_a_click(service, quote_id)
    one = [" ".join(s.split())[:110] for s in seen[: len(seen) // len(quote_ids)]]
    return len(seen) / len(quote_ids), one


@asynccontextmanager
async def statements_sent() -> AsyncIterator[list[str]]:
    """Every statement sent meanwhile: on SQLite those the connection runs (its trace callback), on
    PostgreSQL those every connection of tortoise's asyncpg pool sends (asyncpg's query loggers). The
    click's own statements run outside tortoise's log on both."""
    connection = Tortoise.get_connection("default")
    seen: list[str] = []
    if connection.capabilities.dialect == "sqlite":
        await on_sqlite(connection, lambda sqlite: sqlite.set_trace_callback(seen.append))
        try:
            yield seen
        finally:
            await on_sqlite(connection, lambda sqlite: sqlite.set_trace_callback(None))
        return
    pool = connection._pool

    def note(record: Any) -> None:
        seen.append(record.query)

    connections = [await pool.acquire() for _ in range(pool.get_max_size())]
    for each in connections:
        each.add_query_logger(note)
        await pool.release(each)
    try:
        yield seen
    finally:
        # (asyncpg calls the loggers soon after each statement: taking the connections back waits for them)
        connections = [await pool.acquire() for _ in range(pool.get_max_size())]
        for each in connections:
            each.remove_query_logger(note)
            await pool.release(each)


async def check_every_decision(expected: int) -> None:
    approved = await SubmissionRow.filter(status="approved").count()
    decided = await AuditRow.filter(kind="approved", rule=RULE).count()
    rows = await ApprovalRow.filter(status="approved").count()
    if not approved == decided == rows == expected:
        raise SystemExit(f"expected {expected} decisions: {approved} submissions, {decided} events, {rows} rows")


async def run_backend(args: argparse.Namespace) -> Result:
    backend = args.backend
    policy = load_policy(POLICY, "bench policy")
    per_window = args.approvals or sized("decisions", "approvals", QUICK if args.quick else FULL)
    warm = [f"Q-W{i:04d}" for i in range(WARM_UP)]
    slices = [[f"Q-{w}-{i:06d}" for i in range(per_window)] for w in range(3)]
    sampled = [f"Q-S{i:04d}" for i in range(SAMPLED)]
    pg = "not asked (--sqlite-only)" if args.sqlite_only else await postgres_version(args.pg_url)
    async with scratch_database(backend, args.pg_url) as url:
        await db.connect(url)
        try:
            service = Approvals(policy, DbStore())
            started = time.perf_counter()
            await setup(service, warm + [q for s in slices for q in s] + sampled)
            setup_seconds = time.perf_counter() - started
            state = await SubmissionRow.filter(quote_id=warm[0]).first().values_list("state", flat=True)
            floor = Floor(backend, json.dumps(state, separators=(",", ":")).replace("'", "''"))
            await floor.create()
            for quote_id in warm:  # warm-up on real requests, and the floor's statements once each
                await decide_like_a_click(service, quote_id)
                await floor.decide(FLOOR_POOL - 1 - warm.index(quote_id))
            profiler = cProfile.Profile() if args.profile else None

            server: dict[str, list[float]] = {"decisions": [], "floor": []}
            """PostgreSQL: the server's CPU per operation, by window (it runs on this machine)."""

            async def measured(name: str, window: Awaitable[Window]) -> Window:
                before = processes_cpu("postgres") if backend == "postgres" else 0.0
                done = await window
                if backend == "postgres":
                    server[name].append((processes_cpu("postgres") - before) / done.ops * 1000)
                return done

            async def decisions_window() -> Window:
                if profiler:
                    profiler.enable()
                try:
                    return await measured(
                        "decisions",
                        for_a_while(iter(slices.pop(0)), args.concurrency, lambda q: decide_like_a_click(service, q)),
                    )
                finally:
                    if profiler:
                        profiler.disable()

            floor_items = floor.items()

            async def floor_window() -> Window:
                return await measured("floor", for_a_while(floor_items, args.concurrency, floor.decide))

            series = await interleaved({"decisions": decisions_window, "floor": floor_window})
            decided = WARM_UP + sum(w.ops for w in series["decisions"].windows)
            await check_every_decision(decided)
            if floor.missed:
                raise SystemExit(f"{floor.missed} floor transactions changed no row")
            per_decision, statements = await statements_per_decision(service, sampled)
        finally:
            await db.close()
    decisions, floor_series = series["decisions"], series["floor"]
    result = Result(
        backend=backend,
        approvals=decided - WARM_UP,
        concurrency=args.concurrency,
        setup_seconds=setup_seconds,
        decisions_seconds=sum(w.seconds for w in decisions.windows),
        decisions_per_second=decisions.rate,
        floor_seconds=sum(w.seconds for w in floor_series.windows),
        floor_per_second=floor_series.rate,
        ratio=decisions.rate / floor_series.rate,
        decisions_spread=decisions.spread(),
        floor_spread=floor_series.spread(),
        floor_cpu_ms=floor_series.cpu_ms,
        statements_per_decision=per_decision,
        cpu_ms_per_decision=decisions.cpu_ms,
        server_cpu_ms=statistics.median(server["decisions"]) if server["decisions"] else math.nan,
        floor_server_cpu_ms=statistics.median(server["floor"]) if server["floor"] else math.nan,
        load_average=os.getloadavg()[0],
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        postgres=pg,
    )
    print_result(result, series)
    seen_by = "as the connection ran them" if args.backend == "sqlite" else "as the pool's connections sent them"
    print(f"  the statements of one decision ({seen_by}):")
    for statement in statements:
        print(f"    {statement}")
    if profiler:
        print_profile(profiler)
    print("RESULT " + json.dumps(asdict(result)), flush=True)
    return result


async def warm() -> None:
    await Tortoise.get_connection("default").execute_query("SELECT 1")


def print_result(r: Result, series: dict[str, Series]) -> None:
    verdict = "meets" if r.ratio >= TARGET else "below"
    print(f"decisions on {r.backend}: {r.concurrency} concurrent deciders, 3 interleaved windows each")
    print(f"  setup (not timed below): the quotes submitted in {r.setup_seconds:.1f} s; {WARM_UP} warm-up decisions")
    series["decisions"].name = "Approvals.decide, as a click"
    series["floor"].name = "floor, minimal decision transaction"
    for s in series.values():
        print(s.line("decisions", width=36))
    print(f"  ratio: {r.ratio:.1%} of the floor ({verdict} the {TARGET:.0%} target)")
    if r.backend == "postgres":
        how = "statements per decision, each in autocommit, no BEGIN/COMMIT (the store's change)"
    else:
        how = (
            "statements per decision on the connection, BEGIN IMMEDIATE, SAVEPOINT, RELEASE and COMMIT included "
            "(a decision alone is its own group), all in one hand-off to the driver's thread"
        )
    print(f"  {r.statements_per_decision:.1f} {how} (floor: 5 + BEGIN/COMMIT)")
    if r.backend == "postgres":
        print(
            f"  the PostgreSQL server's CPU (its processes on this machine): {r.server_cpu_ms:.2f} ms/decision, "
            f"floor {r.floor_server_cpu_ms:.2f} ms"
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
    pg = "not asked (--sqlite-only)" if args.sqlite_only else asyncio.run(postgres_version(args.pg_url))
    for backend in BACKENDS:
        if backend == "postgres" and args.sqlite_only:
            continue
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
        if args.sqlite_only:
            command.append("--sqlite-only")
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
        header = f"{'backend':<10} {'decided':>7} {'decisions/s':>12} {'spread':>11} {'CPU ms':>7} "
        print(header + f"{'floor/s':>9} {'spread':>13} {'CPU ms':>7} {'ratio':>7} {'stmts':>6}")
        for r in results:
            print(
                f"{r.backend:<10} {r.approvals:>7,} {r.decisions_per_second:>12,.0f} {r.decisions_spread:>11} "
                f"{r.cpu_ms_per_decision:>7.2f} {r.floor_per_second:>9,.0f} {r.floor_spread:>13} "
                f"{r.floor_cpu_ms:>7.2f} {r.ratio:>7.1%} {r.statements_per_decision:>6.1f}"
            )
        for r in results:
            if r.backend == "postgres":  # (the CPU columns are this process's)
                print(
                    f"{'':<10} the PostgreSQL server's CPU: {r.server_cpu_ms:.2f} ms/decision, "
                    f"floor {r.floor_server_cpu_ms:.2f} ms"
                )
        print(
            f"{args.concurrency} concurrent deciders; Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, PostgreSQL {pg}; {os.cpu_count()} cores"
        )
        for r in results:
            target(
                f"decisions >= {TARGET:.0%} of the minimal-transaction floor on {r.backend}",
                r.ratio >= TARGET,
                f"{r.ratio:.0%}: {r.decisions_per_second:,.0f} vs {r.floor_per_second:,.0f} decisions/s",
            )
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=BACKENDS, help="run one backend in this process")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} approvals per window instead of {FULL:,}")
    parser.add_argument("--smoke", action="store_true", help="a few approvals and clicks: does it still run")
    parser.add_argument("--sqlite-only", action="store_true", help="leave PostgreSQL out")
    parser.add_argument("--approvals", type=int, help="open approvals per decisions window (overrides --quick)")
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
