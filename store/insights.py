"""The insights queries: a handful of grouped SQL statements, durations and percentiles in SQL.

Each source table is read once or twice with everything it gives computed by the database:
durations (`decided - submitted`, `decided - requested`), the week of each row, and the median
and 90th percentile of every group by nearest rank (`ROW_NUMBER()` and `COUNT(*)` over the
group, the same on SQLite and PostgreSQL). Python receives one row per group, never one per
submission. Open requests are few by nature: they are read with their holders.

What belongs to a period: a submission by its `submitted_at`, its approvals with it; reminders,
escalations and decisions by their audit time. Open requests are those open now, whatever the
period. Weeks start on Monday, in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from tortoise import Tortoise

from domain.approvals import Delegation, Directory
from domain.insights import (
    AGE_BUCKETS,
    NONE,
    Insights,
    OpenRequest,
    RuleStats,
    Spread,
    bottlenecks,
)
from domain.policy import Policy

from .models import DelegationRow, ReplacementRow

DECIDED_SUBMISSION = "('approved', 'rejected')"
DECIDED_APPROVAL = "('approved', 'rejected', 'auto')"


class Dialect:
    """The few SQL expressions that differ between SQLite and PostgreSQL."""

    def __init__(self, name: str) -> None:
        self.postgres = name == "postgres"
        self._count = 0

    def param(self) -> str:
        self._count += 1
        return f"${self._count}" if self.postgres else "?"

    def seconds(self, start: str, end: str) -> str:
        if self.postgres:
            return f"CAST(ROUND(EXTRACT(EPOCH FROM ({end} - {start}))) AS BIGINT)"
        return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400) AS INTEGER)"

    def week(self, column: str) -> str:
        if self.postgres:
            return f"to_char(date_trunc('week', {column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
        return f"date({column}, 'weekday 0', '-6 days')"

    def via(self, column: str) -> str:
        if self.postgres:
            return f"(CAST({column} AS jsonb) ->> 'via')"
        return f"json_extract({column}, '$.via')"

    def instant(self, value: dt.datetime) -> Any:
        """A bound instant as the column stores it (tortoise keeps SQLite instants as UTC text)."""
        value = value.astimezone(dt.UTC)
        return value if self.postgres else value.isoformat(" ")


def _percentiles(groups: str, postgres: bool) -> str:
    """Median and p90 by nearest rank of `s` per (dim, k) of the rows `groups` selects.

    The nearest-rank percentile p is the smallest value whose cumulative share (ties included)
    reaches p: PostgreSQL's `percentile_disc` aggregate; on SQLite, which has none, `CUME_DIST()`
    over each group (one window, one sort per group).
    """
    if postgres:
        return f"""
    ranked AS (SELECT dim, k, s FROM ({groups}) AS g)
    SELECT dim, k, COUNT(*) AS n,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY s) AS p50,
           percentile_disc(0.9) WITHIN GROUP (ORDER BY s) AS p90
    FROM ranked GROUP BY dim, k"""
    return f"""
    ranked AS (
      SELECT dim, k, s, CUME_DIST() OVER (PARTITION BY dim, k ORDER BY s) AS share
      FROM ({groups}) AS g
    )
    SELECT dim, k, COUNT(*) AS n,
           MIN(CASE WHEN share >= 0.5 THEN s END) AS p50,
           MIN(CASE WHEN share >= 0.9 THEN s END) AS p90
    FROM ranked GROUP BY dim, k"""


def period(d: Dialect, column: str, since: dt.datetime | None, until: dt.datetime | None) -> tuple[str, list[Any]]:
    """COLUMN within [since, until) as a condition and its values (either end may be open)."""
    clauses, values = ["1 = 1"], []
    if since is not None:
        clauses.append(f"{column} >= {d.param()}")
        values.append(d.instant(since))
    if until is not None:
        clauses.append(f"{column} < {d.param()}")
        values.append(d.instant(until))
    return " AND ".join(clauses), values


def _spreads(rows: Sequence[dict[str, Any]], dim: str) -> dict[str, Spread]:
    return {
        str(r["k"]): Spread(int(r["n"]), _int(r["p50"]), _int(r["p90"]))
        for r in rows
        if r["dim"] == dim and r["k"] is not None
    }


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


async def _query(connection: Any, sql: str, values: list[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await connection.execute_query_dict(sql, values)
    return rows


async def gather(
    policy: Policy,
    now: dt.datetime,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    connection: Any = None,
) -> Insights:
    """Every figure of the insights report for submissions made in [since, until)."""
    connection = connection or Tortoise.get_connection("default")
    stuck_after = policy.insights.stuck_delay
    submissions = await _submissions(connection, since, until)
    approvals = await _approvals(connection, since, until)
    audit = await _audit(connection, since, until)
    opened = await _open(connection, now, stuck_after)
    directory = await _directory_now(connection, now)

    sub_rows, counts = submissions
    appr_rows, rule_rows = approvals
    reminded = {r["rule"]: int(r["n"]) for r in audit if r["kind"] == "reminded"}
    escalated = {r["rule"]: int(r["n"]) for r in audit if r["kind"] == "escalated"}
    via: dict[str, int] = {}
    for r in audit:
        if r["kind"] == "decision":
            key = r["via"] if r["via"] in ("slack", "email") else "other"
            via[key] = via.get(key, 0) + int(r["n"])
    waits = _spreads(appr_rows, "rule")
    rules = [
        RuleStats(
            rule=str(r["rule"]),
            chain=str(r["chain"]),
            step=int(r["step"]),
            asked=int(r["asked"]),
            approved=int(r["approved"] or 0),
            rejected=int(r["rejected"] or 0),
            carried=int(r["carried"] or 0),
            reminded=reminded.get(str(r["rule"]), 0),
            escalated=escalated.get(str(r["rule"]), 0),
            waiting=waits.get(str(r["rule"]), NONE),
        )
        for r in rule_rows
    ]
    order = {rule.name: i for i, rule in enumerate(policy.rules)}
    rules.sort(key=lambda r: (order.get(r.rule, len(order)), r.rule))

    open_rows, queue_rows, stuck_rows, stuck_count = opened
    names = [name for name, _ in AGE_BUCKETS]
    by_age = {name: 0 for name in names}
    for r in open_rows:
        by_age[names[int(r["bucket"])]] += int(r["n"])
    open_count = sum(by_age.values())
    queues = {
        str(r["person"]): (int(r["n"]), int(r["stuck"] or 0), _int(r["oldest"]))
        for r in queue_rows
        if r["person"] is not None
    }
    people = set(queues) | set(policy.people)
    stand_ins = {
        person: directory.stand_ins(policy, person, now, owner="")
        for person in sorted(people)
        if directory.away(policy, person, now)
    }
    stuck = [
        OpenRequest(
            quote_id=str(r["quote_id"]),
            submission=int(r["number"]),
            rule=str(r["rule"]),
            requested_at=as_instant(r["requested_at"]),
            age=int(r["age"]),
            holders=tuple(sorted(str(p) for p in (r["holders"] or "").split(",") if p)),
        )
        for r in stuck_rows
    ]
    all_cycle = _spreads(sub_rows, "all").get("", NONE)
    all_wait = _spreads(appr_rows, "all").get("", NONE)
    return Insights(
        since=since,
        until=until,
        now=now,
        stuck_after=int(stuck_after.total_seconds()),
        submissions={str(r["status"]): int(r["n"]) for r in counts},
        cycle=all_cycle,
        cycle_by_week=_spreads(sub_rows, "week"),
        cycle_by_rep=_spreads(sub_rows, "rep"),
        waiting=all_wait,
        waiting_by_week=_spreads(appr_rows, "week"),
        waiting_by_chain=_spreads(appr_rows, "chain"),
        waiting_by_step=_spreads(appr_rows, "step"),
        waiting_by_approver=_spreads(appr_rows, "approver"),
        rules=rules,
        open_by_age=by_age,
        stuck=stuck,
        stuck_count=stuck_count,
        open_count=open_count,
        bottlenecks=bottlenecks(queues, _spreads(appr_rows, "approver"), stand_ins),
        reminders=sum(reminded.values()),
        escalations=sum(escalated.values()),
        carried=sum(r.carried for r in rules),
        decisions_via=via,
    )


def as_instant(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def _submissions(
    connection: Any, since: dt.datetime | None, until: dt.datetime | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    d = Dialect(connection.capabilities.dialect)
    where, values = period(d, "submitted_at", since, until)
    decided = f"status IN {DECIDED_SUBMISSION}"
    sql = f"""
    WITH base AS MATERIALIZED (
      SELECT owner, status, {d.week("submitted_at")} AS week, {d.seconds("submitted_at", "decided_at")} AS s
      FROM submission WHERE {where}
    ),
    {
        _percentiles(
            f"SELECT 'all' AS dim, '' AS k, s FROM base WHERE {decided} "
            f"UNION ALL SELECT 'week', week, s FROM base WHERE {decided} "
            f"UNION ALL SELECT 'rep', owner, s FROM base WHERE {decided}",
            d.postgres,
        )
    }
    UNION ALL SELECT 'status', status, COUNT(*), NULL, NULL FROM base GROUP BY status
    """
    rows = await _query(connection, sql, values)
    counts = [{"status": r["k"], "n": r["n"]} for r in rows if r["dim"] == "status"]
    return [r for r in rows if r["dim"] != "status"], counts


async def _approvals(
    connection: Any, since: dt.datetime | None, until: dt.datetime | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    d = Dialect(connection.capabilities.dialect)
    where, values = period(d, "sub.submitted_at", since, until)
    decided = f"status IN {DECIDED_APPROVAL} AND s IS NOT NULL"
    step = "chain || '/' || CAST(step AS VARCHAR(12))" if d.postgres else "chain || '/' || step"
    sql = f"""
    WITH base AS MATERIALIZED (
      SELECT a.rule, a.chain, a.step, a.status, a.acted_by,
             {d.week("a.requested_at")} AS week, {d.seconds("a.requested_at", "a.decided_at")} AS s
      FROM approval a JOIN submission sub ON sub.id = a.submission_id
      WHERE {where}
    ),
    {
        _percentiles(
            f"SELECT 'all' AS dim, '' AS k, s FROM base WHERE {decided} "
            f"UNION ALL SELECT 'week', week, s FROM base WHERE {decided} "
            f"UNION ALL SELECT 'chain', chain, s FROM base WHERE {decided} "
            f"UNION ALL SELECT 'step', {step}, s FROM base WHERE {decided} "
            f"UNION ALL SELECT 'rule', rule, s FROM base WHERE {decided} "
            f"UNION ALL SELECT 'approver', acted_by, s FROM base WHERE {decided} AND status <> 'auto'",
            d.postgres,
        )
    }
    """
    counts_sql = f"""
    SELECT a.rule, MIN(a.chain) AS chain, MIN(a.step) AS step, COUNT(*) AS asked,
           SUM(CASE WHEN a.status IN ('approved', 'auto') THEN 1 ELSE 0 END) AS approved,
           SUM(CASE WHEN a.status = 'rejected' THEN 1 ELSE 0 END) AS rejected,
           SUM(CASE WHEN a.status = 'carried' THEN 1 ELSE 0 END) AS carried
    FROM approval a JOIN submission sub ON sub.id = a.submission_id
    WHERE {where}
    GROUP BY a.rule
    """
    return await _query(connection, sql, values), await _query(connection, counts_sql, values)


async def _audit(connection: Any, since: dt.datetime | None, until: dt.datetime | None) -> list[dict[str, Any]]:
    d = Dialect(connection.capabilities.dialect)
    where, values = period(d, "at", since, until)
    sql = f"""
    SELECT kind, rule, NULL AS via, COUNT(*) AS n FROM audit
    WHERE kind IN ('reminded', 'escalated') AND {where}
    GROUP BY kind, rule
    UNION ALL
    SELECT 'decision', NULL, {d.via("detail")}, COUNT(*) FROM audit
    WHERE kind IN ('voted', 'approved', 'rejected') AND actor IS NOT NULL AND {where}
    GROUP BY {d.via("detail")}
    """
    # PostgreSQL numbers its parameters, so the second half reuses them; SQLite needs them again.
    return await _query(connection, sql, values if d.postgres else values + values)


async def _open(
    connection: Any, now: dt.datetime, stuck_after: dt.timedelta
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], int]:
    """Open requests by age bucket, each holder's queue, and the stuck requests, oldest first."""
    d = Dialect(connection.capabilities.dialect)
    at = d.param()
    threshold = int(stuck_after.total_seconds())
    bounds = [bound for _, bound in AGE_BUCKETS if bound]
    bucket = "CASE " + " ".join(f"WHEN age < {b} THEN {i}" for i, b in enumerate(bounds)) + f" ELSE {len(bounds)} END"
    open_requests = f"""
      SELECT a.id, a.quote_id, a.submission_id, a.rule, a.requested_at, {d.seconds("a.requested_at", at)} AS age
      FROM approval a WHERE a.status = 'requested' AND a.requested_at IS NOT NULL"""
    ages = await _query(
        connection,
        f"""SELECT {bucket} AS bucket, COUNT(*) AS n, SUM(CASE WHEN age > {threshold} THEN 1 ELSE 0 END) AS stuck
            FROM ({open_requests}) AS o GROUP BY {bucket}""",
        [d.instant(now)],
    )
    queues = await _query(
        connection,
        f"""SELECT s.person AS person, COUNT(*) AS n, SUM(CASE WHEN o.age > {threshold} THEN 1 ELSE 0 END) AS stuck,
                   MAX(o.age) AS oldest
            FROM ({open_requests}) AS o JOIN assignment s ON s.approval_id = o.id
            GROUP BY s.person""",
        [d.instant(now)],
    )
    holders = "string_agg(s.person, ',')" if d.postgres else "group_concat(s.person, ',')"
    stuck = await _query(
        connection,
        f"""SELECT o.quote_id, sub.number, o.rule, o.requested_at, o.age,
                   (SELECT {holders} FROM assignment s WHERE s.approval_id = o.id) AS holders
            FROM ({open_requests}) AS o JOIN submission sub ON sub.id = o.submission_id
            WHERE o.age > {threshold}
            ORDER BY o.requested_at, o.id
            LIMIT 50""",
        [d.instant(now)],
    )
    return ages, queues, stuck, sum(int(r["stuck"] or 0) for r in ages)


async def _directory_now(connection: Any, now: dt.datetime) -> Directory:
    """Delegations that may be in force now (a day either side for time zones) and replacements."""
    day = now.date()
    rows = (
        await DelegationRow.filter(start__lte=day + dt.timedelta(days=1), end__gte=day - dt.timedelta(days=1))
        .using_db(connection)
        .order_by("id")
    )
    delegations = [Delegation(r.delegator, r.delegate, r.start, r.end, r.created_by, r.id) for r in rows]
    replacements = {r.old: r.new for r in await ReplacementRow.all().using_db(connection)}
    return Directory(delegations, replacements)
