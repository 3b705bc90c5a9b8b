"""Benchmark: releasing due orders (orders-v1 §2), against a raw floor that writes the same rows.

A release is the order's status change, its audit row and its two outbox rows (the ERP message and
the Slack announcement), written in one transaction per batch by `Orders.release_due` (the SQL of
store/release.py, `DbTx.release_due`). Measured for N due orders (10,000; 2,000 with --quick) on
SQLite with one process, and on PostgreSQL with one and with two processes sweeping at once. In the
same run, on the same database and the same rows (recreated between runs), the floor: raw SQL that
writes the same rows as the release (each order's status, its audit row and its three outbox rows:
Slack, ERP, CRM) in one transaction, without the release's batches, event names or submission
lookup: on PostgreSQL one statement, on SQLite three (SQLite cannot write three tables in one).
Each figure is the median of 3 windows, taking turns with the floor; a window repeats the release
of N freshly filled orders until 2 s or more were timed (the fills are not timed). Prints orders per
second with the spread, CPU per order (of the processes that ran the release; PostgreSQL's own is
not counted), the ratio to the floor and the targets (>= 1,000 orders/s on PostgreSQL, >= 25% of
the floor); asserts nothing about time. It checks that every order was released once, with one
audit row and its outbox rows, so the figures count finished work.

The amendment path (docs/orders.md) is measured too: the same release where two orders in three are
amendments and cancellations of what an earlier version released (their ERP events are `amended` and
`cancelled`, chosen by the release statement itself), held to the same targets; and, on SQLite, the
generation of a newer version's delta orders for a quote of 5,000 lines whose first version was
released (what one approval of an amendment costs the server, in one request).

    python bench/release.py [--quick | --smoke] [--orders N] [--runs N] [--batch N] [--pg-url URL] [--sqlite-only]

Each backend runs in a process of its own (tortoise keeps one backend per process); PostgreSQL
gets a database of its own on the server, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
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

from measure import sized, target, window_seconds  # noqa: E402

from tests.support.postgres import DEFAULT_SERVER_URL  # noqa: E402

NOW = dt.datetime(2027, 1, 1, 12, 0, tzinfo=dt.UTC)
BATCH = int(
    os.environ.get("GREENLIGHT_BENCH_BATCH") or sized("release", "batch", 500)
)  # release_due's limit; --batch sets it
DUE = NOW - dt.timedelta(days=1)
PG_TARGET = 1_000
FLOOR_SHARE = 0.25
_MESSAGES = (
    "CASE t.topic WHEN 'erp' THEN {data} ELSE {event} END, 'pending', 0, $1, $1 "
    "FROM {orders} CROSS JOIN (SELECT 'slack' AS topic UNION ALL SELECT 'erp' UNION ALL SELECT 'crm') AS t"
)
FLOOR_POSTGRES = (
    "WITH o AS (UPDATE orders SET status = 'released', released_at = $1, revision = revision + 1 "
    "WHERE status = 'scheduled' AND release_at <= $1 RETURNING number, quote_id, quote_version, data), "
    "a AS (INSERT INTO audit (at, kind, quote_id, quote_version, submission, people, detail) "
    "SELECT $1, 'order_released', quote_id, quote_version, 0, '[]', jsonb_build_object('order', number) FROM o) "
    "INSERT INTO outbox (topic, key, payload, status, attempts, next_attempt_at, created_at) "
    "SELECT t.topic, t.topic || ':' || o.number, "
    + _MESSAGES.format(
        data="o.data",
        event="jsonb_build_object('kind', 'order_released', 'quote_id', o.quote_id, 'order', o.number)",
        orders="o",
    )
)
FLOOR_SQLITE = (
    "UPDATE orders SET status = 'released', released_at = $1, revision = revision + 1 "
    "WHERE status = 'scheduled' AND release_at <= $1",
    "INSERT INTO audit (at, kind, quote_id, quote_version, submission, people, detail) "
    "SELECT $1, 'order_released', quote_id, quote_version, 0, '[]', json_object('order', number) "
    "FROM orders WHERE status = 'released' AND released_at = $1",
    "INSERT INTO outbox (topic, key, payload, status, attempts, next_attempt_at, created_at) "
    "SELECT t.topic, t.topic || ':' || o.number, "
    + _MESSAGES.format(
        data="o.data",
        event="json_object('kind', 'order_released', 'quote_id', o.quote_id, 'order', o.number)",
        orders="orders o",
    )
    + " WHERE o.status = 'released' AND o.released_at = $1",
)


# ------------------------------------------------------------------------------------ one backend


_FILLED: tuple[int, bool] | None = None


async def fill(count: int, amendments: bool = False) -> None:
    """An emptied database with `count` scheduled orders due at DUE (one per synthetic quote); with
    `amendments`, two in three are amendment and cancellation orders. When it holds these orders
    already (released by the last run), they are put back as they were: faster than writing them."""
    global _FILLED
    if (count, amendments) == _FILLED:
        from tortoise import Tortoise

        connection = Tortoise.get_connection("default")
        for statement in (
            "UPDATE orders SET status = 'scheduled', released_at = NULL, revision = 0",
            "DELETE FROM audit",
            "DELETE FROM outbox",
        ):
            await connection.execute_script(statement)
        return
    from domain.orders import plan_orders
    from domain.policy import load_policy
    from domain.quote import parse_quote
    from store.db import wipe
    from store.models import OrderRow

    await wipe()
    policy = load_policy("version: 1\ntimezone: UTC\nfallback_approver: dana\npeople:\n  dana: {}\n", "bench")
    day = DUE.date().isoformat()
    line = {
        "id": "L1",
        "sku": "SW",
        "quantity": 1,
        "net_price": 1200,
        "net_total": 1200,
        "recurring": True,
        "delivery_date": day,
    }
    account = {"id": "A-1", "timezone": "Europe/Berlin", "ship_to": "Berlin HQ"}
    quote = parse_quote(
        {
            "id": "Q-T",
            "version": 1,
            "owner": "dana",
            "currency": "EUR",
            "term_months": 12,
            "account": account,
            "net_total": 1200,
            "lines": [line],
        }
    )
    (template,) = plan_orders(policy, quote, DUE.date())
    rows = []
    kinds = ("order", "amendment", "cancellation") if amendments else ("order",)
    for i in range(count):
        kind = kinds[i % len(kinds)]
        order = dataclasses.replace(template, number=f"Q-{i:06d}-01", quote_id=f"Q-{i:06d}", release_at=DUE, kind=kind)
        rows.append(
            OrderRow(
                number=order.number,
                quote_id=order.quote_id,
                quote_version=1,
                account_id="A-1",
                status="scheduled",
                release_at=DUE,
                data=order.as_dict(),
                created_at=DUE,
            )
        )
    await OrderRow.bulk_create(rows, batch_size=1000)
    await analyze()
    _FILLED = (count, amendments)


async def analyze() -> None:
    from tortoise import Tortoise

    connection = Tortoise.get_connection("default")
    await connection.execute_script("ANALYZE")


def dialect_sql(sql: str, postgres: bool) -> str:
    import re

    return sql if postgres else re.sub(r"\$(\d+)", r"?\1", sql)


async def floor_seconds(count: int, postgres: bool) -> tuple[float, float]:
    """Seconds and CPU seconds (of this process) of the floor for `count` freshly filled orders."""
    from tortoise import Tortoise
    from tortoise.transactions import in_transaction

    await fill(count)
    connection = Tortoise.get_connection("default")
    moment: Any = NOW if postgres else str(NOW.astimezone(dt.UTC))
    cpu = time.process_time()
    started = time.perf_counter()
    if postgres:
        await connection.execute_query(FLOOR_POSTGRES, [moment])
    else:
        async with in_transaction("default") as tx:
            for statement in FLOOR_SQLITE:
                await tx.execute_query(dialect_sql(statement, postgres), [moment])
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    for sql, expected in (
        ("SELECT COUNT(*) AS n FROM orders WHERE status = 'released'", count),
        ("SELECT COUNT(*) AS n FROM audit WHERE kind = 'order_released'", count),
        ("SELECT COUNT(*) AS n FROM outbox", 3 * count),
    ):
        rows = await connection.execute_query_dict(sql)
        assert rows[0]["n"] == expected, (sql, rows, expected)
    return elapsed, cpu


async def window(count: int, once: Any) -> dict[str, float]:
    """Repeat `once()` (seconds, CPU seconds for `count` orders) until a window's seconds were timed."""
    seconds = cpu = 0.0
    orders = 0
    while seconds < window_seconds():
        took, used = await once()
        seconds, cpu, orders = seconds + took, cpu + used, orders + count
    return {"rate": orders / seconds, "cpu_ms": cpu / orders * 1000, "seconds": seconds}


async def check_released(count: int, amendments: bool = False) -> None:
    """Every order released once, with its audit row, its ERP message and its announcement."""
    from store.models import AuditRow, OrderRow, OutboxRow

    assert await OrderRow.filter(status="released").count() == count
    assert await AuditRow.filter(kind="order_released").count() == count
    assert await OutboxRow.filter(topic="erp").count() == count
    assert await OutboxRow.filter(topic="slack").count() == count
    if amendments:
        for event, share in (("released", 0), ("amended", 1), ("cancelled", 2)):
            expected = len(range(share, count, 3))
            assert await OutboxRow.filter(topic="erp", key__endswith=f":{event}").count() == expected, event


async def sweep_processes(url: str, count: int, processes: int, amendments: bool = False) -> tuple[float, float]:
    """`processes` OS processes sweep at once (started behind a barrier); seconds from go to the last done."""
    await fill(count, amendments)
    command = [sys.executable, __file__, "--sweep", url]
    pipes = {"stdin": asyncio.subprocess.PIPE, "stdout": asyncio.subprocess.PIPE}
    children = [await asyncio.create_subprocess_exec(*command, cwd=ROOT, **pipes) for _ in range(processes)]
    for child in children:
        assert child.stdout is not None
        assert (await child.stdout.readline()).strip() == b"ready"
    started = time.perf_counter()
    for child in children:
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        await child.stdin.drain()
    released, cpu = [], 0.0
    for child in children:
        assert child.stdout is not None
        answer = json.loads(await child.stdout.readline())
        released.append(answer["released"])
        cpu += answer["cpu"]
    elapsed = time.perf_counter() - started
    for child in children:
        assert await child.wait() == 0
    assert sum(released) == count, released
    await check_released(count, amendments)
    return elapsed, cpu


async def sweep_here(count: int, amendments: bool = False) -> tuple[float, float]:
    from domain.order_service import Orders
    from store.tx import DbStore

    from_policy = await _policy()
    await fill(count, amendments)
    cpu = time.process_time()
    started = time.perf_counter()
    released = await Orders(from_policy, DbStore()).release_due(NOW, limit=BATCH)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    assert released == count
    await check_released(count, amendments)
    return elapsed, cpu


AMENDED_LINES = sized("release", "amended_lines", 5_000)


async def amendment_seconds() -> float:
    """Seconds to generate v2's delta orders for a 5,000-line quote whose v1 was released; v2 raises
    every other line's quantity, drops a tenth of the lines and adds a tenth more."""
    global _FILLED
    _FILLED = None
    from domain.order_service import Orders
    from domain.quote import parse_quote
    from domain.service import Approvals
    from store.db import wipe
    from store.tx import DbStore

    await wipe()
    policy = await _policy()
    service, desk = Approvals(policy, DbStore()), Orders(policy, DbStore())

    def line(i: int, quantity: int) -> dict[str, Any]:
        day = f"2027-01-{1 + i % 28:02d}"
        return {
            "id": f"L{i}",
            "sku": f"SKU-{i % 50}",
            "quantity": quantity,
            "net_price": 10,
            "net_total": 10 * quantity,
            "recurring": i % 3 == 0,
            "delivery_date": day,
        }

    def quote(version: int, lines: list[dict[str, Any]]) -> Any:
        total = sum(x["net_total"] for x in lines)
        return parse_quote(
            {
                "id": "Q-AMEND",
                "version": version,
                "owner": "dana",
                "currency": "EUR",
                "term_months": 12,
                "account": {"id": "A-1", "timezone": "UTC"},
                "net_total": total,
                "lines": lines,
            }
        )

    first = [line(i, 2) for i in range(AMENDED_LINES)]
    await service.receive_quote(quote(1, first), DUE)
    await service.submit("Q-AMEND", None, DUE)
    await desk.generate("Q-AMEND", None, DUE)
    await desk.release_due(NOW + dt.timedelta(days=60))
    second = [line(i, 3 if i % 2 else 2) for i in range(AMENDED_LINES) if i % 10]
    added = AMENDED_LINES // 10
    second += [line(i, 1) for i in range(AMENDED_LINES, AMENDED_LINES + added)]
    later = NOW + dt.timedelta(days=61)
    await service.receive_quote(quote(2, second), later)
    await service.submit("Q-AMEND", None, later)
    started = time.perf_counter()
    orders = await desk.generate("Q-AMEND", None, later)
    elapsed = time.perf_counter() - started
    changed = sum(len(o.lines) for o in orders)
    assert changed == AMENDED_LINES // 2 + AMENDED_LINES // 10 + added, changed  # increases (odd), removals, additions
    return elapsed


async def _policy() -> Any:
    from domain.policy import load_policy

    return load_policy("version: 1\ntimezone: UTC\nfallback_approver: dana\npeople:\n  dana: {}\n", "bench")


async def run_backend(url: str, count: int, runs: int, postgres: bool, quick: bool) -> dict[str, Any]:
    """Alternate sweeps and floors, `runs` windows each, on one database; each window's rate and CPU."""
    from tortoise import Tortoise

    from store import db

    await db.connect(url)
    try:
        version = await Tortoise.get_connection("default").execute_query_dict(
            "SELECT version() AS v" if postgres else "SELECT sqlite_version() AS v"
        )
        figures: dict[str, Any] = {
            "version": version[0]["v"],
            "floor": [],
            "one": [],
            "two": [],
            "amended": [],
            "generate": [],
        }
        for _ in range(runs):
            if postgres:
                if not quick:
                    figures["one"].append(await window(count, lambda: sweep_processes(url, count, 1)))
                figures["two"].append(await window(count, lambda: sweep_processes(url, count, 2)))
                if not quick:
                    figures["amended"].append(
                        await window(count, lambda: sweep_processes(url, count, 2, amendments=True))
                    )
            else:
                figures["one"].append(await window(count, lambda: sweep_here(count)))
                if not quick:
                    figures["amended"].append(await window(count, lambda: sweep_here(count, amendments=True)))
                    figures["generate"].append(await amendment_seconds())
            figures["floor"].append(await window(count, lambda: floor_seconds(count, postgres)))
        await Tortoise.get_connection("default").execute_script("DELETE FROM orders")
        return figures
    finally:
        await db.close()


async def sweeper(url: str) -> None:
    """A child: connect, wait for go, release everything due, print how many."""
    from domain.order_service import Orders
    from store import db
    from store.tx import DbStore

    desk = Orders(await _policy(), DbStore())
    await db.connect(url, apply_migrations=False)
    try:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        cpu = time.process_time()
        released = await desk.release_due(NOW, limit=BATCH)
        print(json.dumps({"released": released, "cpu": time.process_time() - cpu}), flush=True)
    finally:
        await db.close()


# ------------------------------------------------------------------------------------ PostgreSQL


def run_part(args: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def part_sqlite(count: int, runs: int, quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        return asyncio.run(run_backend(f"sqlite://{directory}/bench.db", count, runs, postgres=False, quick=quick))


def part_postgres(server: str, count: int, runs: int, quick: bool) -> dict[str, Any]:
    from tests.support import postgres

    try:
        url = asyncio.run(postgres.create_database(server, "greenlight_bench"))
    except Exception as error:
        return {"skipped": f"PostgreSQL at {server} cannot be reached ({error.__class__.__name__})"}
    try:
        return asyncio.run(run_backend(url, count, runs, postgres=True, quick=quick))
    finally:
        asyncio.run(postgres.drop_database(server, url))


# ---------------------------------------------------------------------------------------- report


def rate(windows: list[dict[str, float]]) -> float:
    return statistics.median(w["rate"] for w in windows)


def shown(windows: list[dict[str, float]]) -> str:
    rates = [w["rate"] for w in windows]
    cpu = statistics.median(w["cpu_ms"] for w in windows)
    shortest = min(w["seconds"] for w in windows)
    return (
        f"(windows {min(rates):,.0f}-{max(rates):,.0f}; {len(rates)} x >= {shortest:.1f} s)  "
        f"CPU {cpu * 1000:,.0f} us/order"
    )


def machine() -> str:
    cpu = platform.processor() or "unknown processor"
    with contextlib.suppress(OSError):
        models = [
            x.split(":", 1)[1].strip()
            for x in Path("/proc/cpuinfo").read_text().splitlines()
            if x.startswith("model name")
        ]
        cpu = models[0] if models else cpu
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.python_implementation()} {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs ({cpu}), load average {load}"
    )


def report(count: int, runs: int, quick: bool, sqlite: dict[str, Any], postgres: dict[str, Any]) -> None:
    print(
        f"Releasing {count:,} due orders at a time (status + audit row + 3 outbox rows each), {runs} interleaved "
        f"windows of >= {window_seconds():g} s per figure, {BATCH} orders per release transaction"
        + ("; quick mode: no amendment runs, PostgreSQL with two processes only" if quick else "")
    )
    print(f"machine: {machine()}\n")
    for name, figures in (("SQLite", sqlite), ("PostgreSQL", postgres)):
        if "error" in figures or "skipped" in figures:
            print(f"{name}: {figures.get('error') or figures.get('skipped')}\n")
            continue
        floor = rate(figures["floor"])
        print(f"{name} {figures['version'].split(' on ')[0]}")
        print(f"  floor, raw SQL writing the same rows         {floor:>10,.0f} orders/s   {shown(figures['floor'])}")
        sweeps = [(label, figures[key]) for key, label in (("one", "one process"), ("two", "two processes"))]
        amended = ("two processes, 2/3 amended" if figures["two"] else "one process, 2/3 amended", figures["amended"])
        measured_rows = [(label, w) for label, w in [*sweeps, amended] if w]
        for label, windows in measured_rows:
            measured = rate(windows)
            print(
                f"  release_due, {label:<30}{measured:>10,.0f} orders/s   {shown(windows)}   "
                f"{measured / floor:.0%} of the floor"
            )
        if figures["generate"]:
            print(
                f"  amendment of a {AMENDED_LINES:,}-line quote (delta orders + contract) "
                f"{statistics.median(figures['generate']):.3f}s   ({_seconds(figures['generate'])})"
            )
        for label, windows in measured_rows:
            if name == "PostgreSQL" and label == "one process":
                continue  # the targets on PostgreSQL are for two processes sweeping at once
            measured = rate(windows)
            if name == "PostgreSQL":
                wanted = f"release on {name}, {label}: >= {PG_TARGET:,} orders/s"
                target(wanted, measured >= PG_TARGET, f"{measured:,.0f}")
            share = measured / floor
            target(
                f"release on {name}, {label}: >= {FLOOR_SHARE:.0%} of its fair floor",
                share >= FLOOR_SHARE,
                f"{share:.0%}: {measured:,.0f} vs {floor:,.0f} orders/s",
            )
        print()


def _seconds(values: list[float]) -> str:
    return "s, ".join(f"{v:.3f}" for v in values) + "s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="6,000 orders a fill, fewer variants")
    parser.add_argument("--orders", type=int, help="due orders per run (default 10,000)")
    parser.add_argument(
        "--smoke", action="store_true", help="a few orders, one run: does it still run (bench/measure.py)"
    )
    parser.add_argument("--sqlite-only", action="store_true", help="leave PostgreSQL out")
    parser.add_argument("--runs", type=int, help="runs per figure, the median is shown (default 3)")
    parser.add_argument("--batch", type=int, help="orders per release transaction (default 500)")
    parser.add_argument("--pg-url", default=os.environ.get("GREENLIGHT_TEST_PG_URL") or DEFAULT_SERVER_URL)
    parser.add_argument("--part", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    parser.add_argument("--sweep", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    count = args.orders or sized("release", "orders", 6_000 if args.quick else 10_000)
    runs = args.runs or sized("release", "runs", 3)
    if args.batch:
        os.environ["GREENLIGHT_BENCH_BATCH"] = str(args.batch)  # for the parts and sweepers it starts
        global BATCH
        BATCH = args.batch

    if args.sweep:
        asyncio.run(sweeper(args.sweep))
        return 0
    if args.part == "sqlite":
        print(json.dumps(part_sqlite(count, runs, args.quick)))
        return 0
    if args.part == "postgres":
        print(json.dumps(part_postgres(args.pg_url, count, runs, args.quick)))
        return 0
    common = ["--orders", str(count), "--runs", str(runs), "--pg-url", args.pg_url] + (
        ["--quick"] if args.quick else []
    )
    sqlite = run_part(["--part", "sqlite", *common])
    postgres = (
        {"skipped": "not asked (--sqlite-only)"} if args.sqlite_only else run_part(["--part", "postgres", *common])
    )
    report(count, runs, args.quick, sqlite, postgres)
    return 1 if "error" in sqlite or "error" in postgres else 0


if __name__ == "__main__":
    sys.exit(main())
