"""Benchmark: Approve clicks acknowledged, against bolt floors that do what a click must, and sustained load.

Processes, as in production where Slack is elsewhere: the Slack Web API stand-in; the servers
under test; and this one, the load (50 concurrent clients by default). The servers:

- greenlight: what `greenlight serve` runs (the real runtime from `greenlight.app.build`, its
  aiohttp app on loopback, a SQLite file, the sweeps, logging as `serve` configures it), with N
  open approvals set up first (N quotes of a one-rule policy, each needing one `user` approval,
  the requests already delivered to Slack);
- floor, bare bolt: a bolt `AsyncApp` whose only listener acks (it writes nothing);
- floor, durable: bolt + one minimal durable transaction per click before the ack (SQLite in WAL
  mode with `synchronous=FULL`, one thread for the database like tortoise's driver: the click's
  idempotency key inserted and the request's status changed with a compare-and-set);
- floor, durable grouped: the same, with the clicks that arrive while a commit runs committed
  together as the next group (one fsync per group; each click still durable before its ack).

First 100 warm-up clicks each (greenlight's on real open approvals). Then the burst: three
interleaved repeats of a window of 2 s or more per server, C clients clicking as fast as they are
answered (greenlight's clicks each decide one open approval; after each greenlight window the
bench waits until every Slack update of it was delivered). Printed per server: clicks/s (median,
spread), p50/p99 time to HTTP 200 and the server's CPU per click (for greenlight also counting the
Slack delivery the clicks caused). Then the sustained run: clicks at a fixed rate (100/s) for 60 s
(also with --quick: the target is over 60 s) against greenlight, sampling how old the oldest
undelivered Slack update is, its worst per 10 s printed; then the wait until all were delivered.
Targets printed as `target ...: met / NOT met`. Checks that every click got a 200 and every
approval was decided exactly once; asserts nothing about time.

    python bench/slack_ack.py [--quick | --smoke] [--concurrency C] [--rate R] [--sustain S] [--profile]

`--profile` runs cProfile in each server and prints the top functions after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
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
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import aiohttp  # noqa: E402
import slack_bolt  # noqa: E402
from aiohttp import web  # noqa: E402
from measure import (  # noqa: E402
    Series,
    Window,
    for_a_while,
    interleaved,
    load_average,
    percentile,
    process_cpu,
    sized,
    target,
)

from sandbox.driver import slack_signature  # noqa: E402
from tests.support.loopback import PROXY_VARIABLES, served  # noqa: E402
from tests.support.quotes import one_line_quote  # noqa: E402

CONCURRENCY = sized("slack_ack", "concurrency", 50)
WARM_UP = sized("slack_ack", "warm_up", 100)
SLICE = {"quick": 3_500, "full": 7_000}
"""Open approvals per greenlight burst window (the window ends at 2 s or when they run out): enough
for 2 s at 1,750 clicks a second in quick mode (2,500 gave 1.8 s windows at 1,400/s)."""
SUSTAIN = 60.0
"""Seconds of the sustained run, quick mode too: the target is over 60 s, and make bench runs quick."""
RATE = sized("slack_ack", "rate", 100.0)
FLOOR_ROWS = sized("slack_ack", "floor_rows", 100_000)
DRAIN_LIMIT = 600.0
P99_TARGET_MS = 100.0
THROUGHPUT_TARGET = 0.50
LAG_TARGET_S = 5.0
BOT_TOKEN = "xoxb-greenlight-bench"
SIGNING_SECRET = "greenlight-bench-signing-secret"
TEAM = "T0BENCH"
RULE = "review"
APPROVER, APPROVER_SLACK = "boss", "U0BOSS"
REP, REP_SLACK = "rep", "U0REP"
SETUP_BATCH = 250
FLOORS = {
    "floor": "floor, bare bolt (writes nothing)",
    "durable": "floor, bolt + durable tx",
    "grouped": "floor, bolt + grouped durable tx",
}

POLICY = f"""
version: 1
timezone: UTC
admins: [{APPROVER}]
fallback_approver: desk
people:
  {REP}: {{name: Rita Rep, slack: {REP_SLACK}, email: rep@example.com}}
  {APPROVER}: {{name: Bo Boss, slack: {APPROVER_SLACK}, email: boss@example.com}}
approvers:
  desk: {{user: {APPROVER}}}
rules:
  - name: {RULE}
    step: 1
    approver: desk
"""


def quote_ids(n: int) -> list[str]:
    return [f"Q-{i:06d}" for i in range(n)]


def approvals_needed(args: argparse.Namespace) -> int:
    return WARM_UP + 3 * args.slice + int(args.rate * args.sustain)


# ---------------------------------------------------------------- the server processes


def announce(what: str, **values: Any) -> None:
    print(f"{what} {json.dumps(values)}", flush=True)


async def until_terminated() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve_stand_in(args: argparse.Namespace) -> None:
    from sandbox.slack_api import SlackStandIn

    async with SlackStandIn(bot_token=BOT_TOKEN, team_id=TEAM) as slack:
        slack.add_user(APPROVER_SLACK, APPROVER, "boss@example.com")
        slack.add_user(REP_SLACK, REP, "rep@example.com")
        announce("READY", url=slack.api_url)
        await until_terminated()
        counts: dict[str, int] = {}
        for call in slack.calls():
            key = f"{call.method} {call.status}"
            counts[key] = counts.get(key, 0) + 1
        announce("CALLS", **counts)


async def set_up_approvals(policy: Any, database_url: str, n: int) -> None:
    """N quotes received and submitted, a batch per transaction (as `receive_quote` + `submit` do)."""
    from domain import approvals as lifecycle
    from domain.quote import parse_quote
    from domain.service import Approvals
    from store import db
    from store.tx import DbStore

    await db.connect(database_url)
    try:
        service = Approvals(policy, DbStore())
        store = DbStore()
        now = dt.datetime.now(dt.UTC)
        ids = quote_ids(n)
        for start in range(0, n, SETUP_BATCH):
            async with store.transaction() as tx:
                ctx = service.context(await tx.directory(), now)
                for quote_id in ids[start : start + SETUP_BATCH]:
                    q = parse_quote(one_line_quote(quote_id, owner=REP))
                    await tx.save_quote(q, now)
                    sub, events = lifecycle.submit(ctx, q, 1, None)
                    await tx.add_submission(sub)
                    await tx.record(events)
    finally:
        await db.close()


def settings_for(args: argparse.Namespace) -> Any:
    from greenlight.settings import Settings

    return Settings.from_env(
        environ={
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": args.api_url,
            "GREENLIGHT_DATABASE_URL": f"sqlite://{args.db}",
            "GREENLIGHT_POLICY": str(args.policy),
            "GREENLIGHT_API_SECRET": "greenlight-bench-api-secret-0123456789",
        },
        env_file=None,
    )


def logging_like_serve(settings: Any, path: Path) -> None:
    from greenlight.servecli import configure_logging

    configure_logging(settings, stream=path.open("a"))


async def serve_site(app: web.Application, ready: dict[str, Any], profile: Path | None) -> None:
    async with served(app, shutdown_timeout=10) as url:
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        announce("READY", url=f"{url}/slack/events", pid=os.getpid(), **ready)
        try:
            await until_terminated()
        finally:
            if profiler:
                profiler.disable()
                profiler.dump_stats(str(profile))


async def serve_greenlight(args: argparse.Namespace) -> None:
    from domain.policy import read_policy
    from greenlight.app import build, settle_heap

    settings = settings_for(args)
    logging_like_serve(settings, args.log)
    policy = read_policy(args.policy)
    started = time.perf_counter()
    await set_up_approvals(policy, f"sqlite://{args.db}", args.approvals)
    submitted = time.perf_counter() - started
    runtime = build(settings, policy=policy)
    await runtime.start()
    started = time.perf_counter()
    # The approvers' DMs and the reps' thread roots all go out before the clicks start: one run of the
    # sweep delivers at most its batches' worth, and what it leaves would be delivered during the windows.
    while slack_backlog(args.db)[0]:
        await runtime.sweeps.run_now("slack")
    delivered = time.perf_counter() - started
    settle_heap()  # as `greenlight serve` does once it listens
    try:
        await serve_site(runtime.web, {"setup_s": submitted, "dms_s": delivered}, args.profile)
    finally:
        await runtime.stop()


class DurableClicks:
    """The least a click must write before its ack: its idempotency key, and its request's status
    changed by compare-and-set, in one durable transaction (WAL, synchronous=FULL), on one thread
    for the database as tortoise's SQLite driver has. Grouped: the clicks that arrive while a commit
    runs are committed together next, one fsync for the group, each click acked after it."""

    def __init__(self, path: Path, grouped: bool) -> None:
        self.grouped = grouped
        self.thread = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        self.connection: sqlite3.Connection | None = None
        self.waiting: list[tuple[str, str, asyncio.Future[bool]]] = []
        self.wake = asyncio.Event()
        self.path = path
        self.writer: asyncio.Task[None] | None = None

    def _open(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE request_key (key TEXT PRIMARY KEY, answer TEXT NOT NULL)")
        connection.execute("CREATE TABLE request (ref TEXT PRIMARY KEY, status TEXT NOT NULL, revision INTEGER)")
        connection.execute("BEGIN")  # one transaction for the requests: not one fsync each
        connection.executemany(
            "INSERT INTO request VALUES (?, 'requested', 0)", ((f"F-{i:06d}#1/{RULE}",) for i in range(FLOOR_ROWS))
        )
        connection.execute("COMMIT")
        self.connection = connection

    def _commit(self, clicks: list[tuple[str, str]]) -> list[bool]:
        assert self.connection is not None
        db = self.connection
        db.execute("BEGIN IMMEDIATE")
        decided = []
        for key, ref in clicks:
            if db.execute("INSERT OR IGNORE INTO request_key VALUES (?, 'approved')", (key,)).rowcount == 0:
                decided.append(False)  # the same click again: decided already
                continue
            changed = db.execute(
                "UPDATE request SET status = 'approved', revision = revision + 1 "
                "WHERE ref = ? AND status = 'requested'",
                (ref,),
            ).rowcount
            decided.append(changed == 1)
        db.execute("COMMIT")
        return decided

    async def start(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.thread, self._open)
        if self.grouped:
            self.writer = asyncio.create_task(self._write_groups())

    async def decide(self, key: str, ref: str) -> bool:
        loop = asyncio.get_running_loop()
        if not self.grouped:
            (decided,) = await loop.run_in_executor(self.thread, self._commit, [(key, ref)])
            return decided
        done: asyncio.Future[bool] = loop.create_future()
        self.waiting.append((key, ref, done))
        self.wake.set()
        return await done

    async def _write_groups(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.wake.wait()
            self.wake.clear()
            group, self.waiting = self.waiting, []
            if not group:
                continue
            decided = await loop.run_in_executor(self.thread, self._commit, [(k, r) for k, r, _ in group])
            for (_, _, done), outcome in zip(group, decided, strict=True):
                done.set_result(outcome)


async def serve_floor(args: argparse.Namespace) -> None:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    logging_like_serve(settings_for(args), args.log)
    app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=args.api_url), signing_secret=SIGNING_SECRET)
    clicks = DurableClicks(args.db, grouped=args.serve == "grouped") if args.serve != "floor" else None
    if clicks is not None:
        await clicks.start()

    @app.action(re.compile(r"^approval\.approve"))
    async def approve(ack: Any, body: dict[str, Any]) -> None:
        if clicks is not None:
            action = body["actions"][0]
            await clicks.decide(f"slack-click:{body.get('trigger_id') or action.get('action_ts')}", action["value"])
        await ack()

    await serve_site(app.web_app(path="/slack/events"), {}, args.profile)


# ---------------------------------------------------------------- the load

_trigger = itertools.count()


def click_body(quote_id: str, user: str, hook: str) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": APPROVER, "name": APPROVER, "team_id": TEAM},
        "api_app_id": "A0BENCH",
        "token": "deprecated",
        "trigger_id": f"{time.time():.0f}.{next(_trigger)}.{quote_id}",
        "team": {"id": TEAM, "domain": "bench"},
        "enterprise": None,
        "is_enterprise_install": False,
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": "D0BOSS", "is_ephemeral": False},
        "channel": {"id": "D0BOSS", "name": "directmessage"},
        "response_url": hook,
        "state": {"values": {}},
        "actions": [
            {
                "action_id": "approval.approve",
                "block_id": "request.actions",
                "type": "button",
                "value": f"{quote_id}#1/{RULE}",
                "text": {"type": "plain_text", "text": "Approve"},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed(body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(SIGNING_SECRET, timestamp, body),
    }


class Clicker:
    """Signed clicks over one client session; counts the answers by status."""

    def __init__(self, session: aiohttp.ClientSession, hook: str) -> None:
        self.session, self.hook = session, hook
        self.statuses: dict[str, dict[int, int]] = {}

    async def click(self, url: str, quote_id: str) -> None:
        body = click_body(quote_id, APPROVER_SLACK, self.hook)
        async with self.session.post(url, data=body, headers=signed(body)) as answer:
            await answer.read()
        seen = self.statuses.setdefault(url, {})
        seen[answer.status] = seen.get(answer.status, 0) + 1


# ---------------------------------------------------------------- running it


@dataclass
class Server:
    role: str
    process: asyncio.subprocess.Process
    ready: dict[str, Any]
    lines: list[str]

    @property
    def url(self) -> str:
        return str(self.ready["url"])

    def cpu(self) -> float:
        return process_cpu(int(self.ready.get("pid") or self.process.pid))

    async def stop(self) -> list[str]:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        out, err = await self.process.communicate()
        if self.process.returncode not in (0, -signal.SIGTERM):
            print(err.decode()[-3000:])
        return self.lines + out.decode().splitlines()


async def start(role: str, *extra: str) -> Server:
    command = [sys.executable, __file__, "--serve", role, *extra]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT
    )
    assert process.stdout is not None
    lines: list[str] = []
    while True:
        line = (await process.stdout.readline()).decode()
        if not line:
            _, err = await process.communicate()
            raise SystemExit(f"the {role} server did not start:\n{err.decode()[-3000:]}")
        if line.startswith("READY "):
            return Server(role, process, json.loads(line.removeprefix("READY ")), lines)
        lines.append(line.rstrip())


def server_args(role: str, args: argparse.Namespace, api_url: str, work: Path) -> list[str]:
    extra = ["--api-url", api_url, "--db", str(work / f"{role}.db"), "--policy", str(work / "policy.yaml")]
    extra += ["--log", str(work / f"{role}.log"), "--approvals", str(approvals_needed(args))]
    if args.profile:
        extra += ["--profile-to", str(work / f"{role}.prof")]
    return extra


def slack_backlog(db: Path) -> tuple[int, dt.datetime | None]:
    """Slack outbox rows not yet delivered, and when the oldest of them was written."""
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as connection:
        count, oldest = connection.execute(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE topic = 'slack' AND status IN ('pending', 'sending')"
        ).fetchone()
    return int(count), (dt.datetime.fromisoformat(oldest) if oldest else None)


def decided(db: Path) -> tuple[int, int]:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as connection:
        query = "SELECT COUNT(*) FROM audit WHERE kind = 'approved' AND rule = ?"
        (events,) = connection.execute(query, (RULE,)).fetchone()
        (subs,) = connection.execute("SELECT COUNT(*) FROM submission WHERE status = 'approved'").fetchone()
        return int(events), int(subs)


async def drained(db: Path, limit: float = DRAIN_LIMIT) -> float:
    """Seconds until no Slack update waits (a benchmark polling another process, not a test)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit and slack_backlog(db)[0]:
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


@dataclass
class Sustained:
    rate: float
    seconds: float
    sent: int
    latencies: list[float]
    drain: float
    undelivered: int
    cpu_ms: float
    lag_by_slice: list[float]
    """The worst lag sampled in each 10 s of the run (after the last click: until all was delivered)."""

    @property
    def worst_lag(self) -> float:
        return max(self.lag_by_slice, default=0.0)


LAG_SLICE_S = 10.0


async def sustained(clicker: Clicker, server: Server, db: Path, ids: list[str], rate: float) -> Sustained:
    """Clicks at a fixed rate (each on schedule, whatever the answers before it); the oldest Slack
    update still waiting is sampled twice a second."""
    latencies: list[float] = []
    by_slice: dict[int, float] = {}
    finished = asyncio.Event()

    async def one(quote_id: str) -> None:
        begun = time.perf_counter()
        await clicker.click(server.url, quote_id)
        latencies.append(time.perf_counter() - begun)

    async def watch() -> None:
        while not finished.is_set():
            _, oldest = slack_backlog(db)
            lag = (dt.datetime.now(dt.UTC) - oldest).total_seconds() if oldest is not None else 0.0
            slice_ = int((time.perf_counter() - started) // LAG_SLICE_S)
            by_slice[slice_] = max(by_slice.get(slice_, 0.0), lag)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), 0.5)

    watcher = asyncio.create_task(watch())
    cpu = server.cpu()
    started = time.perf_counter()
    tasks = []
    for index, quote_id in enumerate(ids):
        await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(quote_id)))
    seconds = time.perf_counter() - started  # until the last click was sent: the rate offered
    await asyncio.gather(*tasks)
    drain = await drained(db)
    finished.set()
    await watcher
    undelivered, _ = slack_backlog(db)
    cpu_ms = (server.cpu() - cpu) / len(ids) * 1000
    rate_sent = (len(ids) - 1) / seconds if seconds else math.inf
    lags = [by_slice.get(n, 0.0) for n in range(max(by_slice, default=-1) + 1)]
    return Sustained(rate_sent, seconds, len(ids), latencies, drain, undelivered, cpu_ms, lags)


def print_profile(path: Path, title: str) -> None:
    if not path.exists():
        return
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(str(path), stream=out).strip_dirs().sort_stats(order).print_stats(30)
        print(f"  profile of the {title} server, by {order}:")
        print("\n".join("    " + line for line in out.getvalue().splitlines() if line.strip()))


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="greenlight-ack-") as directory:
        work = Path(directory)
        (work / "policy.yaml").write_text(POLICY)
        slack = await start("stand-in")
        servers: dict[str, Server] = {}
        try:
            api_url = slack.ready["url"]
            roles = ("greenlight", *FLOORS)
            started = await asyncio.gather(*(start(role, *server_args(role, args, api_url, work)) for role in roles))
            servers.update(zip(roles, started, strict=True))
            outcome = await measure(args, servers, api_url, work / "greenlight.db")
        finally:
            for server in servers.values():
                await server.stop()
            calls = await slack.stop()
        if args.profile:
            for role in servers:
                print_profile(work / f"{role}.prof", role)
    for line in calls:
        if line.startswith("CALLS "):
            counts = json.loads(line.removeprefix("CALLS "))
            print("  Web API calls seen by the stand-in: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(
        f"  Python {platform.python_version()}, slack_bolt {slack_bolt.version.__version__}, aiohttp "
        f"{aiohttp.__version__}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, load average {load_average()}"
    )
    return outcome


async def measure(args: argparse.Namespace, servers: dict[str, Server], api_url: str, db: Path) -> int:
    greenlight = servers["greenlight"]
    n = approvals_needed(args)
    ids = quote_ids(n)
    warm, rest = ids[:WARM_UP], ids[WARM_UP:]
    slices = [iter(rest[i * args.slice : (i + 1) * args.slice]) for i in range(3)]
    steady = rest[3 * args.slice :]
    hook = f"{api_url.removesuffix('/api/')}/response/bench"
    floor_ids = (f"F-{i:06d}" for i in range(FLOOR_ROWS))
    print(
        f"Slack ack latency: Approve clicks from {args.concurrency} concurrent clients, signed, over loopback; "
        f"load average {load_average()} at the start"
    )
    print(
        f"  greenlight: {n:,} open approvals set up in {greenlight.ready['setup_s']:.1f} s, their DMs sent in "
        f"{greenlight.ready['dms_s']:.1f} s (not timed below); {WARM_UP} warm-up clicks per server "
        "(greenlight's on real open approvals)"
    )
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=max(args.concurrency, 200))
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        clicker = Clicker(session, hook)
        await for_a_while(iter(warm), args.concurrency, lambda q: clicker.click(greenlight.url, q), seconds=600)
        await drained(db)
        for role in FLOORS:  # the ids are shared: every floor click is on a request of its own
            warm_floor = itertools.islice(floor_ids, WARM_UP)
            url = servers[role].url
            await for_a_while(warm_floor, args.concurrency, lambda q, url=url: clicker.click(url, q), seconds=600)
        drains: list[tuple[int, float, float]] = []

        def window(role: str) -> Any:
            server = servers[role]

            async def run_window() -> Window:
                items: Iterator[str] = slices.pop(0) if role == "greenlight" else floor_ids
                measured = await for_a_while(
                    items, args.concurrency, lambda q: clicker.click(server.url, q), cpu=server.cpu
                )
                if role == "greenlight":
                    cpu = server.cpu()
                    drain = await drained(db)
                    drains.append((measured.ops, drain, server.cpu() - cpu))
                return measured

            return run_window

        series = await interleaved({role: window(role) for role in ("greenlight", *FLOORS)})
        steady_run = await sustained(clicker, greenlight, db, steady, args.rate)
        statuses = {role: clicker.statuses.get(server.url, {}) for role, server in servers.items()}
    events, subs = decided(db)
    clicked = WARM_UP + sum(w.ops for w in series["greenlight"].windows) + steady_run.sent
    return report(args, series, drains, steady_run, statuses, (events, subs), clicked)


def report(
    args: argparse.Namespace,
    series: dict[str, Series],
    drains: list[tuple[int, float, float]],
    steady: Sustained,
    statuses: dict[str, dict[int, int]],
    outcome: tuple[int, int],
    n: int,
) -> int:
    print(f"  burst, {args.concurrency} concurrent clickers, 3 interleaved windows each:")
    names = {"greenlight": "greenlight", **FLOORS}
    for role, measured in series.items():
        measured.name = names[role]
        print(measured.line("clicks", width=36))
    gl, grouped, durable = series["greenlight"], series["grouped"], series["durable"]
    delivery_cpu = sum(cpu for _, _, cpu in drains) / max(1, sum(ops for ops, _, _ in drains)) * 1000
    print(
        f"  greenlight's Slack delivery after each window: done {', '.join(f'{d:.1f}' for _, d, _ in drains)} s "
        f"after its last 200; server CPU per click with its delivery: {gl.cpu_ms + delivery_cpu:.2f} ms "
        f"({gl.cpu_ms:.2f} ack + {delivery_cpu:.2f} delivery)"
    )
    p99 = gl.latency_ms(99)
    share = gl.rate / grouped.rate
    print(
        f"  greenlight is {gl.rate / durable.rate:.0%} of the durable floor and {share:.0%} of the grouped one; "
        f"bare bolt p99 {series['floor'].latency_ms(99):.1f} ms"
    )
    ack_p99 = percentile(steady.latencies, 99) * 1000
    print(
        f"  sustained: {steady.sent:,} clicks sent at {steady.rate:.0f}/s for {steady.seconds:.1f} s "
        f"(asked {args.rate:.0f}/s): "
        f"p50 {percentile(steady.latencies, 50) * 1000:.1f} ms, p99 {ack_p99:.1f} ms; oldest undelivered Slack "
        f"update at most {steady.worst_lag:.1f} s old; all delivered {steady.drain:.1f} s after the last click"
        + (f" ({steady.undelivered:,} still waiting)" if steady.undelivered else "")
        + f"; server CPU {steady.cpu_ms:.2f} ms per click with its delivery"
    )
    print(
        f"  sustained: worst lag in each {LAG_SLICE_S:g} s (growing: delivery falls behind; a peak: a pause): "
        + ", ".join(f"{lag:.1f}" for lag in steady.lag_by_slice)
        + " s"
    )
    events, subs = outcome
    print(f"  decided: {events:,} approvals, {subs:,} quotes approved (expected {n:,} each: one per click)")
    target(
        f"ack p99 <= {P99_TARGET_MS:.0f} ms at {args.concurrency} concurrent clickers",
        p99 <= P99_TARGET_MS,
        f"{p99:.1f} ms",
    )
    target(
        f"ack throughput >= {THROUGHPUT_TARGET:.0%} of the grouped durable floor",
        share >= THROUGHPUT_TARGET,
        f"{share:.0%}: {gl.rate:,.0f} vs {grouped.rate:,.0f} clicks/s",
    )
    kept_up = steady.rate >= 0.95 * args.rate and steady.worst_lag < LAG_TARGET_S and not steady.undelivered
    target(
        f"sustained {args.rate:.0f} clicks/s for {args.sustain:g} s with Slack delivery lag < {LAG_TARGET_S:.0f} s"
        + (" (quick mode: shorter than 60 s)" if args.sustain < 60 else ""),
        kept_up,
        f"{steady.rate:.0f} clicks/s, lag at most {steady.worst_lag:.1f} s",
    )
    late = {role: {s: c for s, c in seen.items() if s != 200} for role, seen in statuses.items()}
    late = {role: seen for role, seen in late.items() if seen}
    if late:
        print(f"  answers other than 200 (bolt answers 404 when the ack took over 3 s): {late}")
    if outcome != (n, n):
        print(f"  CHECK FAILED: decided {events} approvals / {subs} quotes, expected {n} each")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller burst slices (the sustained run stays 60 s)")
    parser.add_argument("--smoke", action="store_true", help="a few clicks: does it still run (bench/measure.py)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="concurrent clients (default 50)")
    parser.add_argument("--rate", type=float, default=RATE, help="clicks per second of the sustained run")
    parser.add_argument("--sustain", type=float, help="seconds of the sustained run (60)")
    parser.add_argument("--slice", type=int, help="open approvals per greenlight burst window")
    parser.add_argument("--profile", action="store_true", help="cProfile each server; print the top")
    parser.add_argument("--serve", choices=("stand-in", "greenlight", *FLOORS), help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--policy", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--approvals", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", dest="profile_path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    args.sustain = args.sustain or sized("slack_ack", "sustain", SUSTAIN)
    args.slice = args.slice or sized("slack_ack", "slice", SLICE[mode])
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)  # slack_sdk ignores NO_PROXY: loopback calls would go to a proxy
    if args.serve:
        args.profile = args.profile_path
        serve = {"stand-in": serve_stand_in, "greenlight": serve_greenlight}.get(args.serve, serve_floor)
        asyncio.run(serve(args))
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
