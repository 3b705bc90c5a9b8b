"""The release of due orders in bulk: `DbTx.release_due`, measured in bench/release.py.

One transaction claims up to `limit` due orders with an atomic `UPDATE ... RETURNING` (with `FOR
UPDATE SKIP LOCKED` on PostgreSQL) and writes, in the same statement on PostgreSQL (three on
SQLite), the audit rows and the outbox rows that `DbTx.record` writes for their `order_released`
events. Any number of processes can sweep at once: each order is released, and handed to the ERP,
once. Per-row work in Python cost most of the release; the database builds the rows itself.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from .decision import millis_hex
from .sqlite import instant


async def release_batch(connection: Any, now: dt.datetime, limit: int, crm: bool = True) -> int:
    """Claim up to `limit` orders due at `now` in the caller's transaction; returns how many. Without
    CRM, no `crm` rows are written (`DbStore.unsent`)."""
    at = now.isoformat()
    if connection.capabilities.dialect == "postgres":
        rows = await connection.execute_query_dict(_RELEASE_POSTGRES, [now, limit, at, crm, millis_hex()])
        return int(rows[0]["released"])
    moment = instant(now)
    claimed = await connection.execute_query_dict(_CLAIM_SQLITE, [moment, limit])
    if not claimed:
        return 0
    ids = json.dumps([row["id"] for row in claimed])
    await connection.execute_query(_AUDIT_SQLITE, [moment, ids])
    await connection.execute_query(_OUTBOX_SQLITE, [moment, ids, at, int(crm), millis_hex()])
    return len(claimed)


# The release of a batch. Each order gets an audit row and the outbox rows
# that `DbTx.record` would write for its `order_released` event (`domain.reactions`: one row a
# topic): the announcement (`slack`, the payload `domain.events.to_json` gives the event) and the ERP
# message (`erp`, keyed `<number>:<event>`, the payload `erp_message(order)`)
# and the CRM's notice (`crm`, keyed `crm:<quote>:<hex>`, the announcement's payload), written only
# when $4 / ?4 says a CRM is connected.
# `submission` is the number of the quote's approved submission, 0 if none is stored. The due rows
# are claimed by one lookup in the release_at index (ARRAY(...) runs once, then the update goes by
# primary key): a seq scan and sort of the whole table per batch cost half of a batch.
# A new row's key ends with a UUID version 7 as `DbTx.record` writes it (`store.decision.time_ordered_id`):
# the batch's milliseconds ($5 / ?5: `store.decision.millis_hex`), the version, random digits, the
# variant (8: 72 random bits in all).
_ID_POSTGRES = (
    "($5::text || '7' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 3) || '8' "
    "|| substr(replace(gen_random_uuid()::text, '-', ''), 18, 15))"
)
_ID_SQLITE = "(?5 || '7' || substr(lower(hex(randomblob(2))), 1, 3) || '8' || substr(lower(hex(randomblob(8))), 1, 15))"
_SUBMISSION = (
    "COALESCE((SELECT MAX(s.number) FROM submission s WHERE s.quote_id = o.quote_id AND s.status = 'approved'), 0)"
)
# The ERP event of an order by its kind (`domain.orders.ERP_EVENTS`): amendments and cancellations of
# what an earlier version released are events of their own.
_EVENT = "(CASE {kind} WHEN 'amendment' THEN 'amended' WHEN 'cancellation' THEN 'cancelled' ELSE 'released' END)"
_RELEASE_POSTGRES = f"""
WITH o AS (
    UPDATE orders SET status = 'released', released_at = $1, revision = revision + 1
    WHERE id = ANY(ARRAY(SELECT id FROM orders WHERE status = 'scheduled' AND release_at <= $1
                         ORDER BY release_at LIMIT $2 FOR UPDATE SKIP LOCKED))
    RETURNING number, quote_id, quote_version, data
), released AS (
    SELECT o.*, {_SUBMISSION} AS submission, {_EVENT.format(kind="o.data->>'kind'")} AS event FROM o
), audit_rows AS (
    INSERT INTO audit (at, kind, quote_id, quote_version, submission, people, detail)
    SELECT $1, 'order_released', quote_id, quote_version, submission, '[]', jsonb_build_object('order', number)
    FROM released ORDER BY number
), outbox_rows AS (
    INSERT INTO outbox (topic, key, payload, status, attempts, next_attempt_at, created_at)
    SELECT topic, key, payload, 'pending', 0, $1, $1 FROM (
        SELECT number, 1 AS part, 'slack' AS topic, 'slack:' || {_ID_POSTGRES} AS key,
               jsonb_build_object('kind', 'order_released', 'at', $3::text, 'quote_id', quote_id,
                                  'quote_version', quote_version, 'submission', submission, 'rule', NULL,
                                  'actor', NULL, 'on_behalf_of', NULL, 'comment', NULL, 'people', '[]'::jsonb,
                                  'detail', jsonb_build_object('order', number)) AS payload
        FROM released
        UNION ALL
        SELECT number, 2, 'erp', number || ':' || event,
               data || jsonb_build_object('status', 'released', 'released_at', $3::text, 'event', event,
                                          'type', 'order.' || event)
        FROM released
        UNION ALL
        SELECT number, 3, 'crm', 'crm:' || quote_id || ':' || {_ID_POSTGRES},
               jsonb_build_object('kind', 'order_released', 'at', $3::text, 'quote_id', quote_id,
                                  'quote_version', quote_version, 'submission', submission, 'rule', NULL,
                                  'actor', NULL, 'on_behalf_of', NULL, 'comment', NULL, 'people', '[]'::jsonb,
                                  'detail', jsonb_build_object('order', number))
        FROM released WHERE $4::bool
    ) AS messages ORDER BY number, part
)
SELECT COUNT(*) AS released FROM released
"""
_CLAIM_SQLITE = (
    "UPDATE orders SET status = 'released', released_at = ?1, revision = revision + 1 "
    "WHERE id IN (SELECT id FROM orders WHERE status = 'scheduled' AND release_at <= ?1 "
    "ORDER BY release_at LIMIT ?2) RETURNING id"
)
_AUDIT_SQLITE = f"""
INSERT INTO audit (at, kind, quote_id, quote_version, submission, people, detail)
SELECT ?1, 'order_released', o.quote_id, o.quote_version, {_SUBMISSION}, '[]', json_object('order', o.number)
FROM orders o WHERE o.id IN (SELECT value FROM json_each(?2)) ORDER BY o.number
"""
_OUTBOX_SQLITE = f"""
INSERT INTO outbox (topic, key, payload, status, attempts, next_attempt_at, created_at)
SELECT topic, key, payload, 'pending', 0, ?1, ?1 FROM (
    SELECT o.number, 1 AS part, 'slack' AS topic, 'slack:' || {_ID_SQLITE} AS key,
           json_object('kind', 'order_released', 'at', ?3, 'quote_id', o.quote_id, 'quote_version', o.quote_version,
                       'submission', {_SUBMISSION}, 'rule', NULL, 'actor', NULL, 'on_behalf_of', NULL,
                       'comment', NULL, 'people', json('[]'), 'detail', json_object('order', o.number)) AS payload
    FROM orders o WHERE o.id IN (SELECT value FROM json_each(?2))
    UNION ALL
    SELECT o.number, 2, 'erp', o.number || ':' || {_EVENT.format(kind="json_extract(o.data, '$.kind')")},
           json_set(o.data, '$.status', 'released', '$.released_at', ?3,
                    '$.event', {_EVENT.format(kind="json_extract(o.data, '$.kind')")},
                    '$.type', 'order.' || {_EVENT.format(kind="json_extract(o.data, '$.kind')")})
    FROM orders o WHERE o.id IN (SELECT value FROM json_each(?2))
    UNION ALL
    SELECT o.number, 3, 'crm', 'crm:' || o.quote_id || ':' || {_ID_SQLITE},
           json_object('kind', 'order_released', 'at', ?3, 'quote_id', o.quote_id, 'quote_version', o.quote_version,
                       'submission', {_SUBMISSION}, 'rule', NULL, 'actor', NULL, 'on_behalf_of', NULL,
                       'comment', NULL, 'people', json('[]'), 'detail', json_object('order', o.number))
    FROM orders o WHERE o.id IN (SELECT value FROM json_each(?2)) AND ?4
) ORDER BY number, part
"""
