"""Concurrent clicks on one approval decide it once; a repeated request (same key) changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from domain.errors import StaleRequest
from domain.events import Event
from domain.policy import Policy, load_policy
from domain.quote import parse_quote
from domain.service import Approvals, ConcurrentChange, change_in_steps
from store.models import ApprovalRow, AssignmentRow
from store.tx import DbStore
from tests.support.quotes import one_line_quote

from .support import DESK_RULE, NOW, PANEL, PANEL_RULE, audit_kinds, outbox_payloads, panel_policy, submission_revision

QUOTE = "Q-5001"


async def submit(service: Approvals, quote_id: str = QUOTE) -> None:
    await service.receive_quote(parse_quote(one_line_quote(quote_id)), NOW)
    sub, _ = await service.submit(quote_id, None, NOW)
    assert sub.status == "pending"
    assert sub.approval(PANEL_RULE).status == "requested"


def split(people: list[str], results: list[object]) -> tuple[list[tuple[str, list]], list[BaseException]]:
    won = [(person, result) for person, result in zip(people, results, strict=True) if isinstance(result, list)]
    refused = [result for result in results if isinstance(result, BaseException)]
    return won, refused


@pytest.mark.parametrize("clicks", ["by the fifty members", "by one member fifty times"])
async def test_fifty_concurrent_approve_clicks_decide_the_approval_once(service: Approvals, clicks: str) -> None:
    await submit(service)
    people = list(PANEL) if clicks == "by the fifty members" else ["p07"] * 50
    before = await audit_kinds(QUOTE)

    results = await asyncio.gather(
        *(service.decide(QUOTE, PANEL_RULE, person, "approve", NOW) for person in people), return_exceptions=True
    )

    won, refused = split(people, results)
    assert len(won) == 1, f"{len(won)} clicks decided the approval"
    winner, events = won[0]
    assert [(e.kind, e.rule, e.actor) for e in events] == [("approved", PANEL_RULE, winner)]
    assert len(refused) == 49
    assert all(isinstance(r, StaleRequest) and not isinstance(r, ConcurrentChange) for r in refused), refused
    assert {str(r) for r in refused} == {f"the approval for {PANEL_RULE} on {QUOTE} was already approved by {winner}"}

    assert await audit_kinds(QUOTE) == [*before, "approved"]
    approved = [p for p in await outbox_payloads(QUOTE) if p["kind"] == "approved"]
    assert [(p["rule"], p["actor"]) for p in approved] == [(PANEL_RULE, winner)]
    assert await submission_revision(QUOTE) == 1

    sub = await service.latest(QUOTE)
    assert sub is not None and sub.status == "pending"  # the desk has not decided yet
    approval = sub.approval(PANEL_RULE)
    assert (approval.status, approval.acted_by) == ("approved", winner)
    assert [(s.member, s.voted_by) for s in approval.seats if s.vote is not None] == [(winner, winner)]
    row = await ApprovalRow.get(quote_id=QUOTE, rule=PANEL_RULE)
    assert (row.status, row.acted_by) == ("approved", winner)
    assert await AssignmentRow.filter(approval_id=row.id).count() == 0


async def test_an_approve_and_a_reject_at_once_settle_the_approval_one_way(service: Approvals) -> None:
    await submit(service)
    people = ["p01", "p02"] * 10
    verdicts = ["approve", "reject"] * 10
    comments = [None, "too cheap"] * 10
    results = await asyncio.gather(
        *(
            service.decide(QUOTE, PANEL_RULE, person, verdict, NOW, comment)
            for person, verdict, comment in zip(people, verdicts, comments, strict=True)
        ),
        return_exceptions=True,
    )

    won, refused = split(people, results)
    assert len(won) == 1
    assert all(isinstance(r, StaleRequest) and not isinstance(r, ConcurrentChange) for r in refused), refused
    kinds = await audit_kinds(QUOTE)
    assert kinds.count("approved") + kinds.count("rejected") == 1
    sub = await service.latest(QUOTE)
    assert sub is not None
    assert sub.status == ("pending" if "approved" in kinds else "rejected")


async def test_a_late_click_on_the_last_approval_of_a_quote_is_told_who_decided(connected: str) -> None:
    service = Approvals(load_policy(panel_policy(with_desk=False), "panel policy"), DbStore())
    await submit(service)
    results = await asyncio.gather(
        *(service.decide(QUOTE, PANEL_RULE, person, "approve", NOW) for person in PANEL[:5]), return_exceptions=True
    )
    won, refused = split(list(PANEL[:5]), results)
    assert len(won) == 1 and len(refused) == 4
    winner = won[0][0]
    assert all(f"already approved by {winner}" in str(r) for r in refused), [str(r) for r in refused]


async def test_a_repeated_request_with_the_same_key_is_a_no_op(service: Approvals) -> None:
    await submit(service)
    first = await service.decide(QUOTE, PANEL_RULE, "p01", "approve", NOW, key="k1")
    assert [e.kind for e in first] == ["approved"]
    audit, outbox, revision = await audit_kinds(QUOTE), await outbox_payloads(QUOTE), await submission_revision(QUOTE)

    assert await service.decide(QUOTE, PANEL_RULE, "p01", "approve", NOW, key="k1") == []

    assert await audit_kinds(QUOTE) == audit
    assert await outbox_payloads(QUOTE) == outbox
    assert await submission_revision(QUOTE) == revision
    # Without the key the same click is refused: the empty answer above is the key's doing.
    with pytest.raises(StaleRequest, match="already approved by p01"):
        await service.decide(QUOTE, PANEL_RULE, "p01", "approve", NOW)


async def test_concurrent_requests_with_the_same_key_decide_once_and_the_others_are_no_ops(service: Approvals) -> None:
    await submit(service)
    before = await audit_kinds(QUOTE)

    results = await asyncio.gather(
        *(service.decide(QUOTE, PANEL_RULE, "p01", "approve", NOW, key="k1") for _ in range(10)),
        return_exceptions=True,
    )

    assert [r for r in results if isinstance(r, BaseException)] == []
    answers = sorted(([e.kind for e in r] for r in results if isinstance(r, list)), key=len)
    assert answers == [[]] * 9 + [["approved"]]
    assert await audit_kinds(QUOTE) == [*before, "approved"]
    assert [p["kind"] for p in await outbox_payloads(QUOTE)].count("approved") == 1
    assert await submission_revision(QUOTE) == 1


class PausingStore:
    """A DbStore whose first change pauses right after its read (the key checked, the submission read)
    until `resume`, before its write."""

    def __init__(self) -> None:
        self.inner = DbStore()
        self.read = asyncio.Event()
        self.resume = asyncio.Event()
        self._paused = False

    def transaction(self) -> Any:
        return self.inner.transaction()

    async def change_latest(self, quote_id: str, now: Any, key: str | None, step: Any) -> Any:
        return await change_in_steps(self, quote_id, now, key, step)

    @contextlib.asynccontextmanager
    async def change(self) -> AsyncIterator[Any]:
        async with self.inner.change() as tx:
            if self._paused:
                yield tx
                return
            self._paused = True
            open_latest = tx.open_latest

            async def open_then_pause(quote_id: str, now: Any, key: str | None) -> Any:
                opened = await open_latest(quote_id, now, key)
                self.read.set()
                await self.resume.wait()
                return opened

            tx.open_latest = open_then_pause
            yield tx


async def paused_between_read_and_write(
    policy: Policy, meanwhile: Callable[[], Awaitable[list[Event]]]
) -> tuple[list[Event], list[Event]]:
    """p01's keyed approval of the panel (key k1), paused between its read and its write while
    MEANWHILE runs; the events of each, once the paused one has written (or retried)."""
    store = PausingStore()
    in_flight = asyncio.create_task(Approvals(policy, store).decide(QUOTE, PANEL_RULE, "p01", "approve", NOW, key="k1"))
    try:
        await store.read.wait()  # it found k1 free and read the submission
        other = await meanwhile()
    finally:
        store.resume.set()
    return await in_flight, other


@pytest.fixture
async def submitted_on_postgres(backend: str, service: Approvals) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite runs one transaction at a time in a process: nothing comes between read and write")
    await submit(service)


@pytest.mark.usefixtures("submitted_on_postgres")
async def test_a_copy_of_a_keyed_request_that_decides_while_another_copy_is_between_read_and_write_wins_alone(
    policy: Policy, service: Approvals
) -> None:
    first, second = await paused_between_read_and_write(
        policy, lambda: service.decide(QUOTE, PANEL_RULE, "p01", "approve", NOW, key="k1")
    )

    # The second copy decided and claimed the key; the first lost its compare-and-set, read again and
    # found the key taken: one decision, and the first copy's answer is that of a repeat.
    assert [e.kind for e in second] == ["approved"]
    assert first == []
    assert (await audit_kinds(QUOTE)).count("approved") == 1
    assert await submission_revision(QUOTE) == 1


@pytest.mark.usefixtures("submitted_on_postgres")
async def test_a_keyed_decision_that_loses_its_compare_and_set_to_another_change_still_decides_on_retry(
    policy: Policy, service: Approvals
) -> None:
    first, _ = await paused_between_read_and_write(  # dana's decision moves the revision
        policy, lambda: service.decide(QUOTE, DESK_RULE, "dana", "approve", NOW, key="k2")
    )

    # Its key was not kept by the write that failed: the retry is not mistaken for a repeat.
    assert [(e.kind, e.rule) for e in first] == [("approved", PANEL_RULE), ("quote_approved", None)]
    assert (await audit_kinds(QUOTE)).count("approved") == 2
    assert await submission_revision(QUOTE) == 2
    assert await service.decide(QUOTE, PANEL_RULE, "p01", "approve", NOW, key="k1") == []
