"""Benchmark: a store with 100,000 quotes and 1,000,000 approvals, and the server on top of it.

Loads the data straight into a SQLite file (after `greenlight db migrate`), starts `greenlight
serve` against it with the Slack stand-in as its Web API, then opens the App Home of an approver
with 500 pending requests again and again. Prints the server's peak RSS (VmHWM) and the time
from the signed `app_home_opened` event to the `views.publish` call. Asserts nothing.

    python bench/memory.py [--quick | --smoke] [--quotes N]   (--quick: 5,000 quotes)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from measure import load_average, sized, target  # noqa: E402

from domain.approvals import Approval, Seat, Submission  # noqa: E402
from sandbox.driver import SlackDriver  # noqa: E402
from sandbox.slack_api import SlackStandIn  # noqa: E402
from store import codec  # noqa: E402
from tests.support.loopback import PROXY_VARIABLES  # noqa: E402

APPROVALS_PER_QUOTE = 10
HOT = "hot"
HOT_SLACK = "U0HOT0001"
PENDING_FOR_HOT = sized("memory", "pending", 500)
TOKEN, SIGNING = "xoxb-bench-memory", "bench-memory-signing"


def policy_text() -> str:
    people = {f"a{i}": {"slack": f"U0A{i:05d}", "email": f"a{i}@example.com"} for i in range(50)}
    people.update({f"rep{i}": {"slack": f"U0R{i:05d}", "manager": "a0"} for i in range(20)})
    people[HOT] = {"slack": HOT_SLACK, "email": "hot@example.com"}
    people["admin"] = {"slack": "U0ADMIN01"}
    rules = [
        {
            "name": f"r{i}",
            "chain": f"c{i % 3}",
            "step": i // 3 + 1,
            "approver": f"a{i}",
            "conditions": [{"field": "net_total", "op": "gt", "value": i * 1000}],
        }
        for i in range(APPROVALS_PER_QUOTE)
    ]
    rules[-1]["approver"] = HOT
    import yaml

    return yaml.safe_dump(
        {
            "version": 1,
            "timezone": "UTC",
            "admins": ["admin"],
            "fallback_approver": "admin",
            "people": people,
            "rules": rules,
        }
    )


def submission(index: int, pending_for_hot: bool, now: dt.datetime) -> Submission:
    approvals = []
    for i in range(APPROVALS_PER_QUOTE):
        person = HOT if i == APPROVALS_PER_QUOTE - 1 else f"a{i}"
        open_one = pending_for_hot and i == APPROVALS_PER_QUOTE - 1
        status = "requested" if open_one else "approved"
        seat = Seat(member=person, holder=person)
        if not open_one:
            seat.vote, seat.voted_by, seat.voted_at = "approve", person, now
        approvals.append(
            Approval(
                rule=f"r{i}",
                chain=f"c{i % 3}",
                step=i // 3 + 1,
                approver=person,
                mode="any",
                quorum=None,
                explicit=False,
                status=status,
                seats=[seat],
                reasons=[{"condition": 1, "text": f"net total 250,000 > {i * 1000:,}", "holds": True}],
                values={1: 250000},
                requested_at=now,
                decided_at=None if open_one else now,
                acted_by=None if open_one else person,
                notified=[person],
            )
        )
    return Submission(
        quote_id=f"Q-{index:06d}",
        number=1,
        quote_version=1,
        content_hash="0" * 64,
        owner=f"rep{index % 20}",
        snapshot={
            "id": f"Q-{index:06d}",
            "version": 1,
            "owner": f"rep{index % 20}",
            "currency": "USD",
            "account": {"id": f"A-{index % 5000}", "name": f"Customer {index}"},
            "net_total": 250000,
            "list_total": 300000,
            "discount_percent": 16.7,
            "lines": [],
        },
        status="pending" if pending_for_hot else "approved",
        submitted_at=now,
        approvals=approvals,
    )


def load(path: Path, quotes: int) -> None:
    subprocess.run(
        [str(ROOT / ".venv/bin/greenlight"), "db", "migrate", "--db", f"sqlite://{path}"],
        check=True,
        capture_output=True,
    )
    now = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)
    stamp = str(now)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    approval_id = 0
    started = time.monotonic()
    batch = 5000
    for first in range(0, quotes, batch):
        quote_rows, sub_rows, snapshot_rows, approval_rows, assignment_rows = [], [], [], [], []
        for index in range(first, min(quotes, first + batch)):
            hot = index < PENDING_FOR_HOT
            sub = submission(index, hot, now)
            quote_rows.append(
                (sub.quote_id, 1, sub.owner, sub.snapshot["account"]["id"], "0" * 64, json.dumps(sub.snapshot), stamp)
            )
            sub_rows.append(
                (
                    index + 1,
                    sub.quote_id,
                    1,
                    1,
                    sub.owner,
                    sub.status,
                    0,
                    stamp,
                    None,
                    None,
                    json.dumps(codec.dump(sub), separators=(",", ":")),
                )
            )
            # its own table, as the store writes it
            snapshot_rows.append(
                (
                    index + 1,
                    json.dumps(sub.heading(), separators=(",", ":")),
                    json.dumps(sub.snapshot, separators=(",", ":")),
                )
            )
            for approval in sub.approvals:
                approval_id += 1
                approval_rows.append(
                    (
                        approval_id,
                        index + 1,
                        sub.quote_id,
                        approval.rule,
                        approval.chain,
                        approval.step,
                        approval.status,
                        stamp,
                        None,
                        approval.acted_by,
                    )
                )
                if approval.status == "requested":
                    assignment_rows.append((approval_id, approval.seats[0].holder))
        db.executemany("INSERT INTO quote VALUES (?,?,?,?,?,?,?)", quote_rows)
        db.executemany(
            "INSERT INTO submission (id, quote_id, number, quote_version, owner, status, revision, submitted_at,"
            " decided_at, due_at, state) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            sub_rows,
        )
        db.executemany(
            "INSERT INTO submission_snapshot (submission_id, heading, snapshot) VALUES (?,?,?)", snapshot_rows
        )
        db.executemany("INSERT INTO approval VALUES (?,?,?,?,?,?,?,?,?,?)", approval_rows)
        db.executemany("INSERT INTO assignment (approval_id, person) VALUES (?,?)", assignment_rows)
        db.commit()
        done = min(quotes, first + batch)
        print(
            f"  loaded {done:,}/{quotes:,} quotes ({approval_id:,} approvals) in {time.monotonic() - started:.0f} s",
            flush=True,
        )
    db.execute("ANALYZE")
    db.commit()
    db.close()


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(path: Path, policy: Path, rounds: int) -> tuple[list[float], float, int]:
    async with SlackStandIn(bot_token=TOKEN) as slack:
        slack.add_user(HOT_SLACK, HOT, "hot@example.com")
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING,
            "SLACK_API_URL": slack.api_url,
            "GREENLIGHT_DATABASE_URL": f"sqlite://{path}",
            "GREENLIGHT_POLICY": str(policy),
        }
        for name in PROXY_VARIABLES:
            env.pop(name, None)
        log = open(path.with_suffix(".log"), "wb")  # noqa: SIM115 - closed with the server
        server = await asyncio.create_subprocess_exec(
            str(ROOT / ".venv/bin/greenlight"),
            "serve",
            "--port",
            "0",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        try:
            assert server.stdout is not None
            line = (await asyncio.wait_for(server.stdout.readline(), 120)).decode()
            url = line.strip().rsplit(" ", 1)[-1]
            times = []
            async with SlackDriver(f"{url}/slack/events", signing_secret=SIGNING, stand_in=slack) as driver:
                for round_ in range(rounds):
                    before = len(slack.calls("views.publish"))
                    started = time.perf_counter()
                    await driver.app_home_opened(HOT_SLACK)
                    await slack.wait_for("views.publish", count=before + 1, timeout=30)
                    times.append((time.perf_counter() - started) * 1000)
                    if round_ == 0:
                        view = slack.home_view(HOT_SLACK) or {}
                        shown = sum(1 for b in view.get("blocks", []) if b.get("type") == "actions")
            return times, rss_peak_mb(server.pid), shown
        except Exception:
            log.close()
            sys.stderr.write(path.with_suffix(".log").read_text(errors="replace")[-4000:])
            raise
        finally:
            if server.returncode is None:
                server.terminate()
            await server.wait()
            log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 quotes instead of 100,000")
    parser.add_argument("--quotes", type=int)
    parser.add_argument("--smoke", action="store_true", help="a few quotes: does it still run (bench/measure.py)")
    parser.add_argument("--rounds", type=int, default=sized("memory", "rounds", 30))
    args = parser.parse_args()
    quotes = args.quotes or sized("memory", "quotes", 5_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory(prefix="greenlight-bench-") as folder:
        path = Path(folder) / "memory.db"
        policy = Path(folder) / "policy.yaml"
        policy.write_text(policy_text())
        print(
            f"memory benchmark · {quotes:,} quotes · {quotes * APPROVALS_PER_QUOTE:,} approvals · "
            f"{PENDING_FOR_HOT} pending for one approver"
        )
        load(path, quotes)
        size = path.stat().st_size / 2**20
        times, peak, shown = asyncio.run(measure(path, policy, args.rounds))
    ordered = sorted(times)
    print(f"  database file: {size:,.0f} MB")
    print(f"  server peak RSS (VmHWM): {peak:.0f} MB")
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(
        f"  App Home (event -> views.publish), {len(times)} opens: median {statistics.median(times):.1f} ms, "
        f"p95 {p95:.1f} ms, first {times[0]:.1f} ms"
    )
    print(f"  request rows with buttons on the home tab: {shown}; load average {load_average()}")
    scale = f"{quotes:,} quotes"
    target(f"server peak RSS <= 200 MB with {scale}", peak <= 200, f"{peak:.0f} MB")
    target(
        f"App Home median <= 100 ms with {scale}", statistics.median(times) <= 100, f"{statistics.median(times):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
