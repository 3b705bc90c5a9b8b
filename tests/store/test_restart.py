"""A restart in the middle of a lifecycle loses nothing: state, audit and outbox survive the reconnect."""

from __future__ import annotations

from domain.events import Kind
from domain.policy import read_policy
from domain.quote import load_quote_text
from domain.reactions import Topic, topics
from domain.service import Approvals
from store import db
from store.tx import DbStore
from tests.support.quotes import EXAMPLES

from .support import NOW, audit_kinds, outbox_payloads, queued_reactions

QUOTE = "Q-1042"
BEFORE_RESTART = [  # scenario 01's first decisions, the restart lands inside finance-review's two votes
    ("manager-discount", "marco"),
    ("services-discount", "sam"),
    ("payment-terms", "fiona"),
]
AFTER_RESTART = [
    ("payment-terms", "carl"),
    ("rev-rec-multi-year", "farah"),
    ("legal-custom-terms", "lena"),
    ("legal-custom-terms", "leo"),
    ("vp-deep-discount", "vera"),
]


def fresh_service() -> Approvals:
    """What a restarted process builds: a new service over a new store, nothing kept in memory."""
    return Approvals(read_policy(EXAMPLES / "policy.yaml"), DbStore())


async def test_a_restart_mid_lifecycle_loses_nothing_and_the_lifecycle_completes(connected: str) -> None:
    service = fresh_service()
    quote = load_quote_text((EXAMPLES / "quotes" / "q1042-v1.json").read_text(), "q1042-v1.json")
    await service.receive_quote(quote, NOW)
    await service.submit(QUOTE, None, NOW)
    for rule, person in BEFORE_RESTART:
        await service.decide(QUOTE, rule, person, "approve", NOW, key=f"{rule}/{person}")
    state = await service.latest(QUOTE)
    audit = await service.audit(QUOTE)
    outbox = await outbox_payloads(QUOTE)
    assert state is not None and state.status == "pending"
    assert [s.voted_by for s in state.approval("payment-terms").seats if s.vote] == ["fiona"]

    await db.close()
    await db.connect(connected)
    service = fresh_service()

    assert await service.latest(QUOTE) == state
    assert await service.audit(QUOTE) == audit
    assert await outbox_payloads(QUOTE) == outbox
    # A request repeated after the restart (a Slack retry) is still recognised by its key.
    assert await service.decide(QUOTE, "payment-terms", "fiona", "approve", NOW, key="payment-terms/fiona") == []

    for rule, person in AFTER_RESTART:
        await service.decide(QUOTE, rule, person, "approve", NOW)

    final = await service.latest(QUOTE)
    assert final is not None and final.status == "approved"
    assert {a.rule: a.status for a in final.approvals} == {
        "manager-discount": "approved",
        "services-discount": "approved",
        "vp-deep-discount": "approved",
        "payment-terms": "approved",
        "rev-rec-multi-year": "approved",
        "legal-custom-terms": "approved",
    }
    events = await service.audit(QUOTE)
    assert events[: len(audit)] == audit
    assert events[-1].kind == "quote_approved"
    deciders = [(e.rule, e.actor) for e in events if e.kind in ("approved", "voted")]
    assert sorted(deciders) == sorted(BEFORE_RESTART + AFTER_RESTART)
    kinds = await audit_kinds(QUOTE)
    assert kinds == [e.kind for e in events]
    payloads = await outbox_payloads(QUOTE)
    assert payloads[: len(outbox)] == outbox
    assert [p["kind"] for p in payloads] == [k for k in kinds if Topic.SLACK in topics(Kind(k))]
    # each event queued once for each topic of its reactions, in the order they happened
    assert await queued_reactions(QUOTE) == [(t.value, k) for k in kinds for t in topics(Kind(k))]
