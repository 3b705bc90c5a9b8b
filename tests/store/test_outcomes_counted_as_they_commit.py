"""Issue 16: /metrics counts approvals by outcome as their changes commit (`store.tx.OUTCOMES`,
`greenlight_approval_outcomes_total`) instead of counting the whole approval table on each scrape.

Whichever way a change is written (the click's prebuilt statements in a group commit or through
asyncpg, the models' path, an approval carried by a new submission), and whoever loses
a race, the counter must rise by exactly the closed approvals the table holds afterwards.
"""

from __future__ import annotations

import asyncio
import collections

from tortoise import Tortoise

from domain.approvals import OPEN
from domain.policy import read_policy
from domain.quote import parse_quote
from domain.service import Approvals
from store.tx import OUTCOMES, DbStore
from tests.support.quotes import EXAMPLE_POLICY, example_quote_data, one_line_quote

from .support import DESK_RULE, NOW, PANEL, PANEL_RULE


def counted() -> collections.Counter[str]:
    """What this process's counter holds, by outcome."""
    found: collections.Counter[str] = collections.Counter()
    for family in OUTCOMES.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                found[sample.labels["status"]] = int(sample.value)
    return found


async def closed_in_table() -> collections.Counter[str]:
    rows = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT status, COUNT(*) AS n FROM approval GROUP BY status"
    )
    return collections.Counter({str(r["status"]): int(r["n"]) for r in rows if r["status"] not in OPEN})


async def submitted(service: Approvals, quote_id: str) -> None:
    await service.receive_quote(parse_quote(one_line_quote(quote_id)), NOW)
    await service.submit(quote_id, None, NOW)


async def test_every_approval_closed_is_counted_once_whichever_way_it_was_written(
    service: Approvals, connected: str
) -> None:
    before = counted()
    for quote_id in ("Q-O1", "Q-O2", "Q-O3", "Q-O4"):
        await submitted(service, quote_id)

    # approved twice, by clicks (keys) and without a key
    await service.decide("Q-O1", PANEL_RULE, "p01", "approve", NOW, key="click:Q-O1")
    await service.decide("Q-O1", DESK_RULE, "dana", "approve", NOW)
    # the panel approved, the desk rejects: the panel's approval is still counted as approved
    await service.decide("Q-O2", PANEL_RULE, "p02", "approve", NOW, key="click:Q-O2")
    await service.decide("Q-O2", DESK_RULE, "dana", "reject", NOW, comment="too deep", key="click:Q-O2:desk")
    # recalled by its owner: both open approvals revoked
    await service.recall("Q-O3", "rep", NOW)
    # ten panel members click at once: one approval, the others lose the race or find it decided
    results = await asyncio.gather(
        *(service.decide("Q-O4", PANEL_RULE, p, "approve", NOW, key=f"click:Q-O4:{p}") for p in PANEL[:10]),
        return_exceptions=True,
    )
    assert sum(isinstance(r, list) and bool(r) for r in results) == 1, results

    closed = await closed_in_table()
    assert closed == collections.Counter({"approved": 4, "rejected": 1, "revoked": 2})
    assert counted() - before == closed


async def test_an_approval_written_closed_by_a_resubmission_is_counted(connected: str) -> None:
    """Smart approvals: the example quote's manager approved, services rejected; submitted again,
    the manager's approval is carried, written closed where it is created (the models' path)."""
    service = Approvals(read_policy(str(EXAMPLE_POLICY)), DbStore())
    before = counted()
    await service.receive_quote(parse_quote(example_quote_data("q1042-v1.json")), NOW)
    await service.submit("Q-1042", "ava", NOW)
    await service.decide("Q-1042", "manager-discount", "marco", "approve", NOW, key="click:manager")
    await service.decide("Q-1042", "services-discount", "sam", "reject", NOW, comment="Services too deep.")
    await service.submit("Q-1042", "ava", NOW)

    closed = await closed_in_table()
    assert closed["carried"] == 1 and closed["rejected"] == 1, closed
    assert counted() - before == closed


async def test_a_click_repeated_by_slack_is_counted_once(service: Approvals, connected: str) -> None:
    await submitted(service, "Q-O5")
    before = counted()
    await service.decide("Q-O5", PANEL_RULE, "p01", "approve", NOW, key="click:Q-O5")

    # the same click again (Slack retries): nothing new is written, nothing counted
    assert await service.decide("Q-O5", PANEL_RULE, "p01", "approve", NOW, key="click:Q-O5") == []

    assert counted() - before == collections.Counter({"approved": 1})
    assert await closed_in_table() == collections.Counter({"approved": 1})
