"""Three `greenlight serve` replicas on one fresh PostgreSQL database, started at the same moment.

Quotes come in from the CRM to any replica, reps submit on any replica, approvers tap Approve on
any replica (double taps landing on different replicas), the approved quotes become orders due at
once that are released and sent to the ERP; one replica is killed with SIGKILL midway. The
survivors finish everything: every decision once, every request message once, every order
released once and accepted by the ERP once per Idempotency-Key.

Rows the killed replica had leased keep its lease (60 s) before another may retry them: the test
plays those seconds forward by clearing that one owner's leases, as tests/faults does.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import random
import socket
from pathlib import Path

import aiohttp
import pytest

from notifications.slack_delivery import LANES
from sandbox.driver import SlackDriver
from sandbox.erp import ErpStandIn
from tests.faults.kit import ERP_SECRET, REP_SLACK, SIGNING_SECRET, policy_text, quote_data, slack_of
from tests.faults.serve import Server, send_quote
from tests.support.postgres import backend, private_database, query, server_url
from tests.support.slack import blocks_of, values_in

from .kit import environment, start_together, until, workspace

pytestmark = pytest.mark.skipif(backend() != "postgres", reason="several replicas mean PostgreSQL")

APPROVERS = ["a01", "a02"]
QUOTES = [f"Q-{n:04d}" for n in range(1, 13)]  # 12 quotes x 2 requests, 2 orders each
TAPS = 2  # each request tapped twice, on two different replicas


def request_posts(slack) -> collections.Counter[str]:
    found: collections.Counter[str] = collections.Counter()
    for call in slack.calls("chat.postMessage"):
        if call.ok:
            found.update(ref for ref in set(values_in(blocks_of(call))) if "#" in ref)
    return found


async def count(url: str, sql: str) -> int:
    return int((await query(url, sql))[0]["n"])


async def test_three_replicas_share_clicks_quotes_and_due_orders_and_survive_a_sigkill_midway(tmp_path: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(APPROVERS, generate="auto"))
    today = dt.datetime.now(dt.UTC).date()
    async with (
        workspace(APPROVERS) as slack,
        ErpStandIn(ERP_SECRET) as erp,
        private_database(server_url(), "greenlight_replicas") as url,
    ):
        env = environment(slack, url, policy, GREENLIGHT_ERP_URL=erp.url, GREENLIGHT_ERP_SECRET=ERP_SECRET)
        servers = await start_together(env, tmp_path, ["r1", "r2", "r3"])
        victim = servers[0]
        try:
            alive = list(servers)
            turn = itertools.count()

            def pick(avoid: Server | None = None) -> Server:
                choices = [s for s in alive if s is not avoid] or alive
                return choices[next(turn) % len(choices)]

            # 1. The CRM sends each quote to one replica; the rep submits it on another.
            async with aiohttp.ClientSession() as session:
                for quote_id in QUOTES:
                    first = pick()
                    await send_quote(session, first.url, quote_data(quote_id, delivery=today, lines=2))
                    second = pick(avoid=first)
                    async with SlackDriver(
                        f"{second.url}/slack/events", signing_secret=SIGNING_SECRET, stand_in=slack
                    ) as d:
                        answer = await d.command(REP_SLACK, "/deal", f"submit {quote_id}")
                    assert answer.status == 200, answer.body
            wanted = len(QUOTES) * len(APPROVERS)
            await until(lambda: _at_least(len(request_posts(slack)), wanted), "every request DM posted", timeout=60)

            # 2. Approvers tap, each request twice on two replicas, in a random order; SIGKILL r1 halfway.
            taps = [(p, f"{q}#1/rule-{p}") for q in QUOTES for p in APPROVERS for _ in range(TAPS)]
            random.Random(15).shuffle(taps)
            acked, killed_at = 0, len(taps) // 2
            pending = list(taps)
            while pending:
                person, ref = pending.pop(0)
                target = pick()
                try:
                    async with SlackDriver(
                        f"{target.url}/slack/events", signing_secret=SIGNING_SECRET, stand_in=slack
                    ) as d:
                        answer = await d.click(
                            slack_of(person),
                            "approval.approve",
                            value=ref,
                            channel_id=slack.dm_channel(slack_of(person)),
                        )
                    ok = answer.status == 200
                except (aiohttp.ClientError, OSError):
                    ok = False
                if not ok:
                    pending.append((person, ref))  # no answer: the approver taps again
                    continue
                acked += 1
                if acked == killed_at:
                    victim.kill()
                    assert await victim.process.wait() == -9
                    alive.remove(victim)
                    owner = f"{socket.gethostname()}:{victim.pid}"
                    await query(
                        url, "UPDATE outbox SET lease_until = NULL WHERE status = 'sending' AND lease_owner = $1", owner
                    )

            # 3. The survivors finish: every quote approved, its orders released and in the ERP.
            async def finished() -> bool:
                synced = await count(url, "SELECT COUNT(*) AS n FROM orders WHERE status = 'synced'")
                unsent = await count(url, "SELECT COUNT(*) AS n FROM outbox WHERE status <> 'sent'")
                return synced == 2 * len(QUOTES) and unsent == 0

            await until(finished, "every order synced and the outbox drained", timeout=90)

            decided = await query(
                url, "SELECT quote_id, rule, COUNT(*) AS n FROM audit WHERE kind = 'approved' GROUP BY quote_id, rule"
            )
            assert len(decided) == wanted and all(row["n"] == 1 for row in decided), "a request was decided twice"
            assert await count(url, "SELECT COUNT(*) AS n FROM submission WHERE status = 'approved'") == len(QUOTES)
            released = await query(url, "SELECT detail FROM audit WHERE kind = 'order_released'")
            assert len(released) == 2 * len(QUOTES), "an order was released twice (or not at all)"
            keys = {f"{row['number']}:released" for row in await query(url, "SELECT number FROM orders")}
            assert {r.key for r in erp.received} == keys and len(erp.received) == len(keys), "each release once"
            resent = sum(erp.delivered().values()) - len(keys)  # at-least-once: the ERP drops these by key
            thread = await count(url, "SELECT COUNT(*) AS n FROM slack_message WHERE kind = 'thread-line'")
            lines = [m for m in slack.dm_history(REP_SLACK) if m.thread_ts is not None]
            print(
                f"three replicas: {len(keys)} orders released once, {resent} ERP re-deliveries dropped by key, "
                f"{len(lines) - thread} duplicate thread lines; clicks acked {acked}"
            )
            # a line posted but not yet remembered when its process dies goes out again; a process
            # delivers up to LANES quotes at once, so that many lines can be in flight at the kill
            assert 0 <= len(lines) - thread <= LANES, "at most the lines in flight at the kill go out twice"
            posts = request_posts(slack)
            assert set(posts.values()) == {1}, (
                f"a request DM was posted twice: {[r for r, n in posts.items() if n > 1]}"
            )
            assert await count(url, "SELECT COUNT(*) AS n FROM outbox WHERE status = 'dead'") == 0
            codes = [await server.stop() for server in alive]
            assert codes == [0, 0]
        finally:
            for server in servers:
                server.kill()


async def _at_least(value: int, wanted: int) -> bool:
    return value >= wanted
