"""Issue 16: a runtime without a CRM writes no outbox rows for it (`DbStore.unsent`).

They used to be written with the decision, then claimed and closed unsent by the CRM worker: two of
the five rows a deciding click wrote, and their delivery, for nothing. Two stores share one database:
one writes every topic (what a CLI's store does), the other has the CRM's topic unsent (what
`greenlight serve` builds without a CRM). Each takes a quote through the three ways rows are written:
the models (`DbTx.record`: receive and submit), the click's prebuilt statements (`store.decision`)
and the bulk release (`store.release`). What the second wrote must be what the first wrote, less
every CRM row.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
from typing import Any

import pytest
from tortoise import Tortoise

from domain.quote import parse_quote
from domain.reactions import Topic
from domain.service import Approvals
from greenlight.app import build
from store.tx import DbStore
from tests.release.support import create_due_orders
from tests.support.bare import bare_settings
from tests.support.quotes import one_line_quote

from .support import NOW, PANEL_RULE
from .test_nothing_grows_with_history import statements


async def outbox() -> list[tuple[str, dict[str, Any]]]:
    db = Tortoise.get_connection("default")
    rows = await db.execute_query_dict('SELECT "topic", "payload" FROM "outbox" ORDER BY "id"')
    decoded = [r["payload"] if isinstance(r["payload"], dict) else json.loads(r["payload"]) for r in rows]
    return [(str(r["topic"]), payload) for r, payload in zip(rows, decoded, strict=True)]


async def take_through(store: DbStore, policy: Any, quote_id: str, prefix: str, at: dt.datetime) -> None:
    service = Approvals(policy, store)
    await service.receive_quote(parse_quote(one_line_quote(quote_id)), NOW)
    await service.submit(quote_id, None, NOW)
    with statements() as sent:
        assert await service.decide(quote_id, PANEL_RULE, "p07", "approve", NOW, None, key=f"click-{quote_id}")
    assert not [s for s in sent if 'INSERT INTO "audit"' in s], "the click took the models' path"
    await create_due_orders(2, at, prefix=prefix)
    async with store.transaction() as tx:
        assert await tx.release_due(at, 10) == 2


def kinds(rows: list[tuple[str, dict[str, Any]]], quote_prefix: str) -> collections.Counter[tuple[str, str]]:
    """(topic, event kind) of the rows about quotes whose id starts with QUOTE_PREFIX (an ERP row: its order)."""
    found: collections.Counter[tuple[str, str]] = collections.Counter()
    for topic, payload in rows:
        if str(payload.get("quote_id", "")).startswith(quote_prefix):
            found[(topic, str(payload.get("kind") or payload.get("event")))] += 1
    return found


async def test_a_store_writes_no_rows_for_the_topics_it_leaves_unsent(policy, connected: str) -> None:
    await take_through(DbStore(), policy, "Q-ALL", "Q-7", NOW)
    await take_through(DbStore(unsent=(Topic.CRM,)), policy, "Q-QUIET", "Q-8", NOW + dt.timedelta(hours=1))
    rows = await outbox()

    every = kinds(rows, "Q-ALL") + kinds(rows, "Q-7")
    quiet = kinds(rows, "Q-QUIET") + kinds(rows, "Q-8")
    crm = {(topic, kind) for topic, kind in every if topic == Topic.CRM}
    # the first store wrote CRM rows on each of the three ways
    assert {kind for _, kind in crm} >= {"submitted", "approved", "order_released"}, every
    assert not [key for key in quiet if key[0] == Topic.CRM], quiet
    assert quiet == collections.Counter({key: n for key, n in every.items() if key[0] != Topic.CRM})


@pytest.mark.parametrize(
    ("crm", "unsent"),
    [
        ({}, {Topic.CRM}),
        (
            {"GREENLIGHT_CRM_WEBHOOK_URL": "http://127.0.0.1:9/crm", "GREENLIGHT_CRM_WEBHOOK_SECRET": "s" * 32},
            set(),
        ),
    ],
)
def test_serve_leaves_the_crm_unsent_only_without_a_crm(tmp_path, crm: dict[str, str], unsent: set[Topic]) -> None:
    settings = bare_settings(tmp_path, **crm)
    store = build(settings).service.store
    assert isinstance(store, DbStore)
    assert store.unsent == unsent
