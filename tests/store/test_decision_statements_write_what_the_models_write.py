"""Issue 16 item 2: the decision's prebuilt statements (`store.decision`) write the rows the models write.

Two identical quotes get the same decisions at the same instants: one through `Approvals.decide` (the
click's path: its read and its write prebuilt, see store/decision.py), the other through the models
(`DbTx.latest`, `update_submission`, `record`, the path every other change takes). Every column of
what they wrote, as the database holds it, must be the same, but for ids, keys, the quote's id and
the content hash that depends on it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tortoise import Tortoise

from domain import approvals as lifecycle
from domain.quote import parse_quote
from domain.service import Approvals
from store.tx import DbStore
from tests.support.quotes import one_line_quote

from .support import DESK_RULE, NOW, PANEL_RULE
from .test_nothing_grows_with_history import statements

FAST, MODELS = "Q-FAST", "Q-MODELS"

HASH = re.compile(r"\b[0-9a-f]{32,64}\b")  # a quote's content hash: its id is part of it

DECISIONS = [  # (rule, person, verdict, comment, minutes after NOW): the second decides the quote
    (PANEL_RULE, "p07", "approve", None, 5),
    (DESK_RULE, "dana", "reject", 'price too low <for now> & "later"', 61),
]


async def rows_of(quote_id: str) -> dict[str, list[dict[str, Any]]]:
    """What the database holds for one quote, as raw rows (no model decodes them), ids left out."""
    db = Tortoise.get_connection("default")
    ph = "?" if db.capabilities.dialect == "sqlite" else "$1"

    async def read(sql: str) -> list[dict[str, Any]]:
        found = await db.execute_query_dict(sql.replace("$q", ph), [quote_id])
        return [{k: HASH.sub("#", str(v).replace(quote_id, "Q")) for k, v in row.items()} for row in found]

    return {
        "submission": await read(
            'SELECT s."status", s."revision", s."decided_at", s."due_at", s."state", k."heading", k."snapshot" '
            'FROM "submission" s LEFT JOIN "submission_snapshot" k ON k."submission_id" = s."id" '
            'WHERE s."quote_id" = $q'
        ),
        "approval": await read(
            'SELECT "rule", "chain", "step", "status", "requested_at", "decided_at", "acted_by" FROM "approval" '
            'WHERE "quote_id" = $q ORDER BY "rule"'
        ),
        "assignment": await read(
            'SELECT a."rule", s."person" FROM "assignment" s JOIN "approval" a ON a."id" = s."approval_id" '
            'WHERE a."quote_id" = $q ORDER BY s."id"'
        ),
        "audit": await read(
            'SELECT "at", "kind", "quote_version", "submission", "rule", "actor", "on_behalf_of", "comment", '
            '"people", "detail" FROM "audit" WHERE "quote_id" = $q ORDER BY "id"'
        ),
        "outbox": await read(
            'SELECT "topic", "payload", "status", "attempts", "next_attempt_at", "lease_until", "created_at", '
            '"sent_at" FROM "outbox" WHERE "payload"::text LIKE \'%\' || $q || \'%\' ORDER BY "id"'.replace(
                '"payload"::text', 'CAST("payload" AS TEXT)'
            )
        ),
    }


async def through_the_models(service: Approvals, store: DbStore, quote_id: str, decision: tuple) -> None:
    rule, person, verdict, comment, minutes = decision
    now = NOW + dt.timedelta(minutes=minutes)
    async with store.transaction() as tx:
        sub = await tx.latest(quote_id)
        assert sub is not None
        events = lifecycle.decide(service.context(await tx.directory(now), now), sub, rule, person, verdict, comment)
        expected = sub.revision
        sub.due_at = lifecycle.next_due(sub, service.policy)
        sub.revision += 1
        assert await tx.update_submission(sub, expected)
        await tx.record(events)


async def test_a_click_writes_every_column_as_the_models_would(policy, connected: str) -> None:
    store = DbStore()
    service = Approvals(policy, store)
    for quote_id in (FAST, MODELS):
        await service.receive_quote(parse_quote(one_line_quote(quote_id)), NOW)
        await service.submit(quote_id, None, NOW)
    assert await rows_of(FAST) == await rows_of(MODELS)

    for n, decision in enumerate(DECISIONS):
        rule, person, verdict, comment, minutes = decision
        with statements() as sent:
            events = await service.decide(
                FAST, rule, person, verdict, NOW + dt.timedelta(minutes=minutes), comment, key=f"click-{n}"
            )
        assert events, "the click decided nothing"
        assert not [s for s in sent if 'INSERT INTO "audit"' in s], "the click took the models' path"
        await through_the_models(service, store, MODELS, decision)

        fast, models = await rows_of(FAST), await rows_of(MODELS)
        assert fast == models
        assert fast["audit"] and fast["outbox"]  # the comparison compared something

    assert (await rows_of(FAST))["submission"][0]["status"] == "rejected"
