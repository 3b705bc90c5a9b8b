"""Two OS processes approving the same 100 approvals never decide one twice."""

from __future__ import annotations

import asyncio
import collections
import json
import sys
from pathlib import Path

from domain.quote import parse_quote
from domain.service import Approvals
from store.models import AuditRow, OutboxRow, SubmissionRow
from tests.support.quotes import ROOT, one_line_quote

from .support import NOW, PANEL_RULE, panel_policy

WORKER = Path(__file__).with_name("race_worker.py")
QUOTES = [f"Q-{6000 + i}" for i in range(100)]
DECIDERS = ("p01", "p02")  # one per process: a double decision would show as two votes
TIMEOUT = 60.0


async def start(url: str, policy_file: Path, person: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        url,
        str(policy_file),
        person,
        *QUOTES,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_two_processes_racing_on_the_same_approvals_decide_each_exactly_once(
    service: Approvals, connected: str, tmp_path: Path
) -> None:
    async def submit(quote_id: str) -> None:
        await service.receive_quote(parse_quote(one_line_quote(quote_id)), NOW)
        await service.submit(quote_id, None, NOW)

    await asyncio.gather(*map(submit, QUOTES))
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(panel_policy())

    workers = [await start(connected, policy_file, person) for person in DECIDERS]
    try:
        for worker in workers:  # the barrier: both are connected before either decides
            assert worker.stdout is not None
            line = await asyncio.wait_for(worker.stdout.readline(), TIMEOUT)
            if line.strip() != b"ready":
                _, err = await worker.communicate()
                raise AssertionError(f"a worker did not start: {line!r} {err.decode()}")
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        results = [await asyncio.wait_for(worker.communicate(), TIMEOUT) for worker in workers]
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    assert [w.returncode for w in workers] == [0, 0], [err.decode()[-2000:] for _, err in results]
    outcomes = {person: json.loads(out) for person, (out, _) in zip(DECIDERS, results, strict=True)}

    winners: dict[str, str] = {}
    for quote_id in QUOTES:
        by_person = {person: outcomes[person][quote_id] for person in DECIDERS}
        won = [person for person, (outcome, _) in by_person.items() if outcome == "won"]
        assert len(won) == 1, f"{quote_id}: {by_person}"
        winners[quote_id] = winner = won[0]
        assert by_person[winner][1] == ["approved"]
        (loser,) = set(DECIDERS) - {winner}
        told = f"the approval for {PANEL_RULE} on {quote_id} was already approved by {winner}"
        assert by_person[loser] == ["stale", told]

    approved = await AuditRow.filter(kind="approved", rule=PANEL_RULE).values_list("quote_id", "actor")
    assert sorted(approved) == sorted(winners.items())
    payloads = await OutboxRow.filter(topic="slack").values_list("payload", flat=True)
    sent = [(p["quote_id"], p["actor"]) for p in payloads if p["kind"] == "approved" and p["rule"] == PANEL_RULE]
    assert sorted(sent) == sorted(winners.items())
    for quote_id in QUOTES:
        sub = await service.latest(quote_id)
        assert sub is not None
        votes = [(s.voted_by, s.vote) for s in sub.approval(PANEL_RULE).seats if s.vote is not None]
        assert votes == [(winners[quote_id], "approve")], f"{quote_id}: {votes}"
    revisions = collections.Counter(await SubmissionRow.filter(quote_id__in=QUOTES).values_list("revision", flat=True))
    assert revisions == {1: len(QUOTES)}
