"""Benchmark: time to HTTP 200 for Approve clicks, Greenlight against a bolt app that only acks.

Three processes, as in production where Slack is elsewhere: the Slack Web API stand-in; the
server under test; and this one, the load (50 concurrent clients by default). The servers:

- greenlight: what `greenlight serve` runs (the real runtime from `greenlight.app.build`, its
  aiohttp app on loopback, a SQLite file, the sweeps, logging as `serve` configures it), with N
  open approvals set up first (N quotes of a one-rule policy, each needing one `user` approval,
  the requests already delivered to Slack);
- floor: a bare bolt `AsyncApp` whose only listener acks, served the same way.

Each gets a short warm-up, then N signed `block_actions` clicks on `approval.approve`, one per
open approval, from C workers. Prints p50/p99 time to HTTP 200, clicks/s, the ratio to the floor
(targets: p99 <= 100 ms and >= 50% of the floor's clicks/s), how long after the last click every
Slack update had been delivered, and checks that each approval was decided exactly once. Asserts
nothing about time.

    python bench/slack_ack.py [--quick] [--clicks N] [--concurrency C] [--profile]

`--profile` runs cProfile in each server during the load and prints the top functions.
`BENCH_NO_SWEEP=1` stops clicks from kicking the Slack sweep (it still runs every 5 s): the acks
with less delivery work beside them, to see how much the sweep costs them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import io
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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import slack_bolt  # noqa: E402
from aiohttp import web  # noqa: E402

from sandbox.driver import slack_signature  # noqa: E402
from tests.support.loopback import PROXY_VARIABLES, served  # noqa: E402
from tests.support.quotes import one_line_quote  # noqa: E402

FULL, QUICK = 2_000, 300
CONCURRENCY = 50
WARM_UP = 100
DRAIN_LIMIT = 600.0
P99_TARGET_MS = 100.0
THROUGHPUT_TARGET = 0.50
BOT_TOKEN = "xoxb-greenlight-bench"
SIGNING_SECRET = "greenlight-bench-signing-secret"
TEAM = "T0BENCH"
RULE = "review"
APPROVER, APPROVER_SLACK = "boss", "U0BOSS"
REP, REP_SLACK = "rep", "U0REP"
SETUP_BATCH = 250

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
        announce("READY", url=f"{url}/slack/events", **ready)
        try:
            await until_terminated()
        finally:
            if profiler:
                profiler.disable()
                profiler.dump_stats(str(profile))


async def serve_greenlight(args: argparse.Namespace) -> None:
    from domain.policy import read_policy
    from greenlight.app import build

    settings = settings_for(args)
    logging_like_serve(settings, args.log)
    policy = read_policy(args.policy)
    started = time.perf_counter()
    await set_up_approvals(policy, f"sqlite://{args.db}", args.clicks)
    submitted = time.perf_counter() - started
    runtime = build(settings, policy=policy)
    if os.environ.get("BENCH_NO_SWEEP"):  # diagnosis: the acks alone, Slack updates left undelivered
        runtime.kick = lambda *names: None  # type: ignore[method-assign]
    await runtime.start()
    started = time.perf_counter()
    await runtime.sweeps.run_now("slack")  # the approver's DMs go out before the clicks start
    delivered = time.perf_counter() - started
    try:
        await serve_site(runtime.web, {"setup_s": submitted, "dms_s": delivered}, args.profile)
    finally:
        await runtime.stop()


async def serve_floor(args: argparse.Namespace) -> None:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    logging_like_serve(settings_for(args), args.log)
    app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=args.api_url), signing_secret=SIGNING_SECRET)

    @app.action(re.compile(r"^approval\.approve"))
    async def approve(ack: Any) -> None:
        await ack()

    await serve_site(app.web_app(path="/slack/events"), {}, args.profile)


# ---------------------------------------------------------------- the load


def click_body(quote_id: str, user: str, hook: str) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": APPROVER, "name": APPROVER, "team_id": TEAM},
        "api_app_id": "A0BENCH",
        "token": "deprecated",
        "trigger_id": f"{time.time():.0f}.1.{quote_id}",
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


@dataclass
class Load:
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


async def fire(url: str, bodies: list[bytes], workers: int) -> Load:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=workers), timeout=timeout) as session:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                async with session.post(url, data=body, headers=signed(body)) as answer:
                    await answer.read()
                latencies.append(time.perf_counter() - started)
                statuses[answer.status] = statuses.get(answer.status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        return Load(time.perf_counter() - started, latencies, statuses)


# ---------------------------------------------------------------- running it


@dataclass
class Server:
    process: asyncio.subprocess.Process
    ready: dict[str, Any]
    lines: list[str]

    async def stop(self) -> list[str]:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        out, err = await self.process.communicate()
        if self.process.returncode not in (0, -signal.SIGTERM):
            print(err.decode()[-3000:])
        return self.lines + out.decode().splitlines()


async def start(role: str, args: argparse.Namespace, *extra: str) -> Server:
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
            return Server(process, json.loads(line.removeprefix("READY ")), lines)
        lines.append(line.rstrip())


@contextlib.asynccontextmanager
async def running(role: str, args: argparse.Namespace, *extra: str) -> AsyncIterator[Server]:
    server = await start(role, args, *extra)
    try:
        yield server
    finally:
        await server.stop()


def pending_slack_work(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as connection:
        (count,) = connection.execute(
            "SELECT COUNT(*) FROM outbox WHERE topic = 'slack' AND status IN ('pending', 'sending')"
        ).fetchone()
        return int(count)


def decided(db: Path) -> tuple[int, int]:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as connection:
        query = "SELECT COUNT(*) FROM audit WHERE kind = 'approved' AND rule = ?"
        (events,) = connection.execute(query, (RULE,)).fetchone()
        (subs,) = connection.execute("SELECT COUNT(*) FROM submission WHERE status = 'approved'").fetchone()
        return int(events), int(subs)


async def wait_until(check: Callable[[], Awaitable[bool]] | Callable[[], bool], limit: float) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            break
        await asyncio.sleep(0.05)  # a benchmark polling another process, not a test
    return time.perf_counter() - started


def print_profile(path: Path, title: str) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(str(path), stream=out).strip_dirs().sort_stats(order).print_stats(30)
        print(f"  profile of the {title} server during the load, by {order}:")
        print("\n".join("    " + line for line in out.getvalue().splitlines() if line.strip()))


async def measure(role: str, args: argparse.Namespace, api_url: str, work: Path) -> tuple[Load, dict[str, Any]]:
    db = work / f"{role}.db"
    profile = work / f"{role}.prof"
    extra = [
        "--api-url",
        api_url,
        "--db",
        str(db),
        "--policy",
        str(work / "policy.yaml"),
        "--log",
        str(work / f"{role}.log"),
        "--clicks",
        str(args.clicks),
    ]
    if args.profile:
        extra += ["--profile-to", str(profile)]
    report: dict[str, Any] = {}
    async with running(role, args, *extra) as server:
        report.update(server.ready)
        hook = f"{api_url.removesuffix('/api/')}/response/bench"
        warm = [click_body(f"W-{i:04d}", APPROVER_SLACK, hook) for i in range(WARM_UP)]
        await fire(server.ready["url"], warm, args.concurrency)
        bodies = [click_body(q, APPROVER_SLACK, hook) for q in quote_ids(args.clicks)]
        load = await fire(server.ready["url"], bodies, args.concurrency)
        if role == "greenlight" and os.environ.get("BENCH_NO_SWEEP"):
            report["drain_s"], report["undelivered"], report["decided"] = float("nan"), 0, decided(db)
        elif role == "greenlight":
            report["drain_s"] = await wait_until(lambda: pending_slack_work(db) == 0, limit=DRAIN_LIMIT)
            report["undelivered"] = pending_slack_work(db)
            report["decided"] = decided(db)
    if args.profile:
        print_profile(profile, role)
    return load, report


def print_load(role: str, load: Load) -> None:
    statuses = ", ".join(f"{n} x {status}" for status, n in sorted(load.statuses.items()))
    print(
        f"  {role:<10} p50 {load.percentile(50):6.1f} ms   p99 {load.percentile(99):6.1f} ms   "
        f"max {max(load.latencies) * 1000:6.1f} ms   {load.per_second:6.0f} clicks/s   "
        f"({load.seconds:.2f} s; {statuses})"
    )


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="greenlight-ack-") as directory:
        work = Path(directory)
        (work / "policy.yaml").write_text(POLICY)
        slack = await start("stand-in", args)
        try:
            api_url = slack.ready["url"]
            greenlight, report = await measure("greenlight", args, api_url, work)
            floor, _ = await measure("floor", args, api_url, work)
        finally:
            calls = await slack.stop()
    n = args.clicks
    print(f"Slack ack latency: {n:,} Approve clicks from {args.concurrency} concurrent clients, signed, over loopback")
    print(
        f"  greenlight: {n:,} open approvals set up in {report['setup_s']:.1f} s, their DMs sent in "
        f"{report['dms_s']:.1f} s (not timed below); {WARM_UP} warm-up clicks each"
    )
    print_load("greenlight", greenlight)
    print_load("floor", floor)
    ratio = greenlight.per_second / floor.per_second
    p99 = greenlight.percentile(99)
    print(
        f"  throughput: {ratio:.0%} of the floor (target >= {THROUGHPUT_TARGET:.0%}: "
        f"{'met' if ratio >= THROUGHPUT_TARGET else 'NOT met'})"
    )
    print(
        f"  p99: {p99:.1f} ms (target <= {P99_TARGET_MS:.0f} ms: {'met' if p99 <= P99_TARGET_MS else 'NOT met'});"
        f" floor p99 {floor.percentile(99):.1f} ms"
    )
    events, subs = report["decided"]
    if report["undelivered"]:
        delivery = f"{report['undelivered']:,} Slack updates still waiting {report['drain_s']:.0f} s after the last 200"
    else:
        delivery = f"every Slack update delivered {report['drain_s']:.1f} s after the last 200"
    print(f"  {delivery}; decided: {events:,} approvals, {subs:,} quotes approved (expected {n:,} each)")
    for line in calls:
        if line.startswith("CALLS "):
            counts = json.loads(line.removeprefix("CALLS "))
            print("  Web API calls seen by the stand-in: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(
        f"  Python {platform.python_version()}, slack_bolt {slack_bolt.version.__version__}, aiohttp "
        f"{aiohttp.__version__}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    ok = greenlight.statuses == {200: n} and floor.statuses == {200: n} and (events, subs) == (n, n)
    if not ok:
        print("  CHECK FAILED: not every click got a 200 and decided exactly once")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} clicks instead of {FULL:,}")
    parser.add_argument("--clicks", type=int, help="how many approvals to click (overrides --quick)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="concurrent clients (default 50)")
    parser.add_argument("--profile", action="store_true", help="cProfile each server during the load; print the top")
    parser.add_argument("--serve", choices=("stand-in", "greenlight", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--policy", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", dest="profile_path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.clicks = args.clicks or (QUICK if args.quick else FULL)
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)  # slack_sdk ignores NO_PROXY: loopback calls would go to a proxy
    if args.serve:
        args.profile = args.profile_path
        serve = {"stand-in": serve_stand_in, "greenlight": serve_greenlight, "floor": serve_floor}[args.serve]
        asyncio.run(serve(args))
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
