"""`greenlight serve` killed with SIGKILL in the middle of 1,000 Approve clicks.

Every click that got its HTTP 200 must be in the database afterwards (decisions commit before the
ack), and the Slack updates it causes must go out once the server is started again (the outbox
survives the crash). Clicks cut off by the kill got no 200: the approvers click again.

The 1,000 clicks are 125 approval requests (25 quotes x 5 approvers) tapped 8 times each: each
request's taps come in a burst (a first tap decides, the others are the double taps and impatient
retries of a click storm, several on the wire at once; each must answer 200 and decide nothing
more), the bursts in a random order, so decisions are being made and delivered when the kill
comes. 1,000 distinct decisions would mean about 2,300 Slack deliveries, some 100 s on a 2-core
machine: too slow for the suite.

The server's database is a SQLite file (GREENLIGHT_TEST_DB=postgres runs skip this test: the
commit-before-ack path is the same, and the PostgreSQL run has its own restart test).
"""

from __future__ import annotations

import asyncio
import random
import socket
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from notifications.slack_delivery import LANES
from sandbox.driver import SlackDriver
from sandbox.slack_api import Call, SlackStandIn
from tests.support.postgres import backend, fresh_database, query
from tests.support.slack import blocks_of, has_buttons, values_in

from .conftest import request_ref, slack_stand_in
from .kit import API_SECRET, BOT_TOKEN, REP_SLACK, SIGNING_SECRET, policy_text, quote_data, slack_of, until
from .serve import Server, send_quote

APPROVERS = [f"a{n:02d}" for n in range(1, 6)]  # one rule each: every quote asks all five at once
QUOTES = [f"Q-{n:04d}" for n in range(1, 26)]  # 25 quotes x 5 requests
TAPS = 8  # clicks on each request: 1,000 in all
KILL_AFTER = 400  # acked clicks before the SIGKILL
IN_FLIGHT = 12  # clicks on the wire at once


@dataclass
class Click:
    person: str
    ref: str
    status: int | None = None  # the HTTP status the click got (None: none, the server was gone)
    error: str | None = None

    @property
    def acked(self) -> bool:
        return self.status == 200


def environment(slack: SlackStandIn, database_url: str, policy: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "GREENLIGHT_DATABASE_URL": database_url,
        "GREENLIGHT_POLICY": str(policy),
        "GREENLIGHT_API_SECRET": API_SECRET,
    }


def request_posts(slack: SlackStandIn) -> dict[str, list[tuple[str, str]]]:
    """ref/person -> the (channel, ts) of every request DM posted with that request's buttons."""
    posts: dict[str, list[tuple[str, str]]] = {}
    for call in slack.calls("chat.postMessage"):
        if call.ok and call.response is not None:
            for ref in {ref for ref in values_in(blocks_of(call)) if "#" in ref}:
                posts.setdefault(ref, []).append((call.response["channel"], call.response["ts"]))
    return posts


async def seed(server: Server, slack: SlackStandIn) -> None:
    """The CRM sends the quotes, the rep submits each with /deal; the request DMs go out (no fault yet)."""
    async with (
        aiohttp.ClientSession() as session,
        SlackDriver(f"{server.url}/slack/events", signing_secret=SIGNING_SECRET, stand_in=slack) as driver,
    ):
        gate = asyncio.Semaphore(8)

        async def one(quote_id: str) -> None:
            async with gate:
                await send_quote(session, server.url, quote_data(quote_id))
                answer = await driver.command(REP_SLACK, "/deal", f"submit {quote_id}")
                assert answer.status == 200, answer.body

        await asyncio.gather(*(one(quote_id) for quote_id in QUOTES))
    wanted = len(QUOTES) * len(APPROVERS)  # each request DM once: no fault yet
    await slack.wait_for("chat.postMessage", _carries_a_request, count=wanted, timeout=120)


def _carries_a_request(call: Call) -> bool:
    return call.ok and any("#" in ref for ref in values_in(blocks_of(call)))


async def storm(server: Server, slack: SlackStandIn, clicks: list[Click], kill_after: int | None) -> None:
    """Send the clicks, IN_FLIGHT at a time; SIGKILL the server as soon as `kill_after` were acked."""
    queue: asyncio.Queue[Click] = asyncio.Queue()
    for click in clicks:
        queue.put_nowait(click)
    acked = 0
    killed = asyncio.Event()
    async with SlackDriver(f"{server.url}/slack/events", signing_secret=SIGNING_SECRET, stand_in=slack) as driver:

        async def clicker() -> None:
            nonlocal acked
            while not killed.is_set():
                try:
                    click = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                channel = slack.dm_channel(slack_of(click.person))
                try:
                    answer = await driver.click(
                        slack_of(click.person), "approval.approve", value=click.ref, channel_id=channel
                    )
                except (aiohttp.ClientError, OSError) as error:
                    click.error = repr(error)
                    continue
                click.status = answer.status
                if answer.status == 200:
                    acked += 1
                    if kill_after is not None and acked == kill_after:
                        server.kill()
                        killed.set()

        await asyncio.gather(*(clicker() for _ in range(IN_FLIGHT)))


@pytest.mark.skipif(backend() != "sqlite", reason="a SQLite file: runs in the SQLite run of the suite")
async def test_every_acked_click_survives_a_sigkill_and_its_slack_updates_go_out_after_restart(tmp_path: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(APPROVERS))
    async with (
        slack_stand_in(APPROVERS) as slack,
        fresh_database(tmp_path / "greenlight.db", "greenlight_faults") as database_url,
    ):
        env = environment(slack, database_url, policy)
        first = await Server.start(env, tmp_path, "first")
        second: Server | None = None
        try:
            await seed(first, slack)
            requests = [(person, request_ref(quote_id, person)) for quote_id in QUOTES for person in APPROVERS]
            random.Random(8).shuffle(requests)
            clicks = [Click(person, ref) for person, ref in requests for _ in range(TAPS)]
            assert len(clicks) == 1000

            await storm(first, slack, clicks, kill_after=KILL_AFTER)
            assert await first.process.wait() == -9, "the server was not killed by SIGKILL"
            acked_before = [click for click in clicks if click.acked]
            assert len(acked_before) >= KILL_AFTER

            # 1. Every click that got its 200 is in the database.
            rows = await query(database_url, "SELECT quote_id, rule, acted_by FROM approval WHERE status = 'approved'")
            approved = {(row["quote_id"], row["rule"]): row["acted_by"] for row in rows}
            lost = [
                click.ref for click in acked_before if (click.ref.split("#")[0], f"rule-{click.person}") not in approved
            ]
            assert not lost, f"{len(lost)} clicks got their 200 but are not in the database: {lost[:5]}"
            assert all(approved[(c.ref.split("#")[0], f"rule-{c.person}")] == c.person for c in acked_before)

            # The rows the dead process had claimed keep its lease (60 s) before anyone may retry them:
            # play those 60 s forward instead of waiting them out.
            in_flight = await query(database_url, "SELECT id FROM outbox WHERE status = 'sending'")
            await query(
                database_url,
                "UPDATE outbox SET lease_until = NULL WHERE status = 'sending' AND lease_owner = $1",
                f"{socket.gethostname()}:{first.pid}",
            )

            # 2. Started again (a new process on the same database), the outbox drains to Slack and
            #    the approvers click again where their click got no answer.
            second = await Server.start(env, tmp_path, "second")
            again = [click for click in clicks if not click.acked]
            for click in again:
                click.status, click.error = None, None
            await storm(second, slack, again, kill_after=None)
            assert all(click.acked for click in clicks), [c for c in clicks if not c.acked][:5]

            async def drained() -> bool:
                rows = await query(database_url, "SELECT COUNT(*) AS n FROM outbox WHERE status <> 'sent'")
                return rows[0]["n"] == 0

            await until(drained, "the outbox drained after the restart", timeout=120)
            dead = await query(database_url, "SELECT key, last_error FROM outbox WHERE status = 'dead'")
            assert dead == []

            # 3. Every decision is in, and every request DM shows its outcome instead of buttons.
            rows = await query(database_url, "SELECT status, COUNT(*) AS n FROM approval GROUP BY status")
            assert {row["status"]: row["n"] for row in rows} == {"approved": len(clicks) // TAPS}
            rows = await query(database_url, "SELECT status, COUNT(*) AS n FROM submission GROUP BY status")
            assert {row["status"]: row["n"] for row in rows} == {"approved": len(QUOTES)}
            twice = await query(
                database_url,
                "SELECT quote_id, rule FROM audit WHERE kind = 'approved' GROUP BY quote_id, rule HAVING COUNT(*) > 1",
            )
            assert twice == [], "a burst of taps decided a request more than once"
            posts = request_posts(slack)
            assert sorted(posts) == sorted({click.ref for click in clicks})
            assert all(len(copies) == 1 for copies in posts.values()), "a request DM was posted twice"
            still_open = [ref for ref, copies in posts.items() if has_buttons(slack.message(*copies[0]))]
            assert not still_open, f"{len(still_open)} request DMs still show buttons: {still_open[:5]}"

            # 4. The rep's thread got every line; at most the messages being sent at the kill, one
            #    per lane of the batch (quotes are delivered LANES at a time), went out twice
            #    (delivery is at least once: Slack took it, the crash lost the receipt).
            remembered = await query(database_url, "SELECT kind, COUNT(*) AS n FROM slack_message GROUP BY kind")
            counts = {row["kind"]: row["n"] for row in remembered}
            rep_dm = slack.dm_history(REP_SLACK)
            roots = [m for m in rep_dm if m.thread_ts is None]
            lines = [m for m in rep_dm if m.thread_ts is not None]
            assert counts["thread"] == len(QUOTES)
            assert counts["thread-line"] == len(clicks) // TAPS + len(QUOTES)  # each approval, and each quote approved
            duplicates = (len(roots) - counts["thread"]) + (len(lines) - counts["thread-line"])
            assert 0 <= duplicates <= LANES, (duplicates, len(in_flight))
            texts = [m.text for m in lines]
            assert len(set(texts)) >= len(texts) - LANES
            assert await second.stop() == 0, f"SIGTERM did not stop it cleanly: {second.log.read_text()[-2000:]}"
        finally:
            first.kill()
            await first.process.wait()
            if second is not None:
                await second.stop()
