"""A year of approval history, written straight into the tables (bench/insights.py, the chart page's tests).

`fill(count)` writes `count` submissions of one-line quotes (the policy of
tests/store/insights_kit.py: a manager above 10% off, a VP above 25%, finance for Net 60), each
with its quote version, its approvals as the engine would have recorded them (decided after
varying waits, some rejected, recalled or still open), the holders of open requests and the audit
rows of every request, decision, reminder and escalation. Deterministic: the same count gives the
same rows. Rows go in with `executemany` in batches; the figures are not the point here.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
YEAR = dt.timedelta(days=364)
END = START + YEAR
REPS = tuple(f"rep{i:02d}" for i in range(40))


def people_yaml() -> str:
    reps = "\n".join(f"  {r}: {{slack: U0{r.upper()}, manager: mgr{i % 8}}}" for i, r in enumerate(REPS))
    managers = "\n".join(f"  mgr{i}: {{slack: U0MGR{i}}}" for i in range(8))
    return reps + "\n" + managers


def policy_text(vp_threshold: int = 25) -> str:
    from tests.store.insights_kit import policy_text as kit

    text = kit(vp_threshold)
    return text.replace("people:\n", "people:\n" + people_yaml() + "\n", 1)


def quote_data(i: int) -> dict[str, Any]:
    discount = (i * 7919 % 400) / 10
    net = round(10000 * (1 - discount / 100), 2)
    return {
        "id": f"Q-{i:06d}",
        "version": 1,
        "owner": REPS[i % len(REPS)],
        "currency": "USD",
        "account": {"id": f"A-{i % 500}", "name": "Acme GmbH", "timezone": "Europe/Berlin"},
        "start_date": "2027-01-01",
        "term_months": 12,
        "payment_terms": "Net 60" if i % 5 == 0 else "Net 30",
        "discount_percent": discount,
        "net_total": net,
        "list_total": 10000,
        "lines": [
            {
                "id": "L1",
                "sku": "SW-PLAT",
                "family": "Software",
                "quantity": 1,
                "list_price": 10000,
                "net_price": net,
                "discount_percent": discount,
                "net_total": net,
                "list_total": 10000,
                "recurring": True,
                "term_months": 12,
                "delivery_date": "2027-01-01",
            }
        ],
    }


def _rows(i: int, count: int, start: dt.datetime, span: dt.timedelta) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of submission `i` (its id is i + 1), by table."""
    data = quote_data(i)
    sid = i + 1
    qid = data["id"]
    owner = data["owner"]
    manager = f"mgr{REPS.index(owner) % 8}"
    submitted = start + span * i / count
    fate = i % 20  # 0-13 approved, 14-15 rejected, 16 recalled, 17-19 pending
    rules: list[tuple[str, str, int, list[str]]] = []
    if data["discount_percent"] > 10:
        rules.append(("manager-discount", "commercial", 1, [manager]))
    if data["discount_percent"] > 25:
        rules.append(("vp-deep-discount", "commercial", 2, ["vera"]))
    if data["payment_terms"] == "Net 60":
        rules.append(("finance-terms", "finance", 1, ["fin1", "fin2"]))
    pending = fate >= 17 and bool(rules)
    approvals, assignments, audit = [], [], []
    audit.append(("submitted", submitted, qid, sid, None, owner, "{}"))
    clock = {"commercial": submitted, "finance": submitted}
    end = submitted
    status = "approved"
    for n, (rule, chain, step, holders) in enumerate(rules):
        requested = clock[chain]
        wait = dt.timedelta(minutes=(i * 37 + n * 101) % 3000 + 5)
        decided = requested + wait
        a_status = "approved"
        if fate in (14, 15) and n == len(rules) - 1:
            a_status, status = "rejected", "rejected"
        if fate == 16 and n == len(rules) - 1:
            a_status, status = "revoked", "recalled"
        if pending and n == len(rules) - 1:
            a_status, status, decided = "requested", "pending", None
        audit.append(("requested", requested, qid, sid, rule, None, "{}"))
        if a_status in ("approved", "rejected"):
            via = "email" if i % 9 == 0 else "slack"
            audit.append((a_status, decided, qid, sid, rule, holders[0], json.dumps({"via": via})))
        if wait > dt.timedelta(hours=4) and rule == "manager-discount":
            audit.append(("reminded", requested + dt.timedelta(hours=4), qid, sid, rule, None, "{}"))
        if wait > dt.timedelta(hours=24) and rule == "manager-discount":
            audit.append(("escalated", requested + dt.timedelta(hours=24), qid, sid, rule, None, "{}"))
        acted = holders[0] if a_status in ("approved", "rejected") else None
        approvals.append((sid, qid, rule, chain, step, a_status, requested, decided, acted))
        if a_status == "requested":
            assignments.extend((sid * 4 + n, person) for person in holders)
        if decided is not None:
            clock[chain] = decided
            end = max(end, decided)
        if a_status != "approved":
            # the rules after it stay as the engine leaves them: revoked, or waiting for their step
            later = "waiting" if a_status == "requested" else "revoked"
            for rule2, chain2, step2, _ in rules[n + 1 :]:
                approvals.append((sid, qid, rule2, chain2, step2, later, None, decided, None))
            break
    decided_at = None if status == "pending" else end
    state = json.dumps({"snapshot": data, "status": status})
    return {
        "quote_version": [(qid, 1, f"h{i}", json.dumps(data), submitted)],
        "submission": [(sid, qid, 1, 1, owner, status, 0, submitted, decided_at, None, state)],
        "approval": [(sid * 4 + n, *row) for n, row in enumerate(approvals)],
        "assignment": assignments,
        "audit": audit,
    }


SQL = {
    "quote_version": "INSERT INTO quote_version (quote_id, version, content_hash, data, received_at) VALUES ({})",
    "submission": (
        "INSERT INTO submission (id, quote_id, number, quote_version, owner, status, revision, submitted_at, "
        "decided_at, due_at, state) VALUES ({})"
    ),
    "approval": (
        "INSERT INTO approval (id, submission_id, quote_id, rule, chain, step, status, requested_at, decided_at, "
        "acted_by) VALUES ({})"
    ),
    "assignment": "INSERT INTO assignment (approval_id, person) VALUES ({})",
    "audit": (
        "INSERT INTO audit (kind, at, quote_id, quote_version, submission, rule, actor, people, detail) VALUES ({})"
    ),
}


def _shape(table: str, row: tuple[Any, ...]) -> tuple[Any, ...]:
    if table == "audit":
        kind, at, qid, sid, rule, actor, detail = row
        return (kind, at, qid, 1, sid, rule, actor, "[]", detail)
    return row


async def fill(count: int, batch: int = 5000, start: dt.datetime = START, span: dt.timedelta = YEAR) -> None:
    """Write the history of `count` submissions made from `start` over `span` into the (migrated, empty) database."""
    from tortoise import Tortoise

    connection = Tortoise.get_connection("default")
    postgres = connection.capabilities.dialect == "postgres"

    def value(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return v if postgres else v.isoformat(" ")
        return v

    pending: dict[str, list[tuple[Any, ...]]] = {table: [] for table in SQL}

    async def flush() -> None:
        for table, rows in pending.items():
            if not rows:
                continue
            width = len(rows[0])
            marks = ", ".join(f"${n + 1}" for n in range(width)) if postgres else ", ".join("?" * width)
            await connection.execute_many(SQL[table].format(marks), [[value(v) for v in r] for r in rows])
            rows.clear()

    for i in range(count):
        for table, rows in _rows(i, count, start, span).items():
            pending[table].extend(_shape(table, r) for r in rows)
        if (i + 1) % batch == 0:
            await flush()
    await flush()
    await connection.execute_script("ANALYZE")
