"""Insights: where deals wait. The figures, as plain data, and how they read.

The store computes the figures in SQL (`store.insights`); this module holds their shape and the
pure parts: how a duration reads ("3 h 10 min"), which approvers are bottlenecks (delegations in
force included), and the text and CSV forms. Durations are whole seconds. Percentiles are
nearest-rank: the median of n values is the value at rank ceil(n/2), the 90th percentile the one
at rank ceil(0.9 n), so every figure is a duration that really happened.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Spread:
    """How long something took over `count` cases: median and 90th percentile, in seconds."""

    count: int
    median: int | None
    p90: int | None


NONE = Spread(0, None, None)


@dataclass(frozen=True)
class OpenRequest:
    quote_id: str
    submission: int
    rule: str
    requested_at: dt.datetime
    age: int  # seconds, at `Insights.now`
    holders: tuple[str, ...]


@dataclass(frozen=True)
class ApproverLoad:
    """One approver's queue now and their speed over the period."""

    person: str
    open: int
    stuck: int
    oldest: int | None  # age in seconds of their oldest open request
    waiting: Spread  # how long the requests they decided waited
    away: bool = False
    delegate: str | None = None  # who stands in for them now
    standing_in_for: tuple[str, ...] = ()  # people away whose queue they hold now
    queue_with_delegations: int = 0  # their own open requests plus those they stand in for


@dataclass(frozen=True)
class RuleStats:
    rule: str
    chain: str
    step: int
    asked: int  # approvals of this rule in submissions of the period (any status)
    approved: int
    rejected: int
    carried: int  # second asks saved by smart approvals
    reminded: int
    escalated: int
    waiting: Spread

    @property
    def rejection_rate(self) -> float | None:
        decided = self.approved + self.rejected
        return self.rejected / decided if decided else None


@dataclass
class Insights:
    since: dt.datetime | None
    until: dt.datetime | None
    now: dt.datetime
    stuck_after: int  # seconds
    submissions: dict[str, int]  # by status
    cycle: Spread
    cycle_by_week: dict[str, Spread]
    cycle_by_rep: dict[str, Spread]
    waiting: Spread
    waiting_by_week: dict[str, Spread]
    waiting_by_chain: dict[str, Spread]
    waiting_by_step: dict[str, Spread]  # "chain/step"
    waiting_by_approver: dict[str, Spread]
    rules: list[RuleStats]
    open_by_age: dict[str, int]
    stuck: list[OpenRequest]
    stuck_count: int
    open_count: int
    bottlenecks: list[ApproverLoad]
    reminders: int
    escalations: int
    carried: int
    decisions_via: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("since", "until", "now"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value is not None else None
        for item in data["stuck"]:
            item["requested_at"] = item["requested_at"].isoformat()
        for item, stats in zip(data["rules"], self.rules, strict=True):
            item["rejection_rate"] = stats.rejection_rate
        return data


AGE_BUCKETS: tuple[tuple[str, int], ...] = (
    ("under 4 h", 4 * 3600),
    ("4-24 h", 24 * 3600),
    ("1-2 d", 2 * 86400),
    ("2-7 d", 7 * 86400),
    ("over 7 d", 0),
)
"""Open requests by age: each bucket holds ages below its bound (the last one, the rest)."""


def age_bucket(age: int) -> str:
    for name, bound in AGE_BUCKETS:
        if not bound or age < bound:
            return name
    raise AssertionError("unreachable")


def duration(seconds: int | float | None) -> str:
    """A duration as people read it: `3 h 10 min`, `2 d 4 h`, `45 min`, `20 s`, `-`."""
    if seconds is None:
        return "-"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def rank(count: int, percent: int) -> int:
    """The nearest rank (1-based) of a percentile among `count` sorted values."""
    return max(1, (count * percent + 99) // 100)


def bottlenecks(
    queues: dict[str, tuple[int, int, int | None]],
    speed: dict[str, Spread],
    stand_ins: dict[str, list[str]],
    limit: int = 10,
) -> list[ApproverLoad]:
    """The approvers whose queues are longest, then oldest, then slowest.

    `queues` maps a person to (open requests, stuck requests, oldest age); `speed` to how long
    their decided requests waited; `stand_ins` maps a person away now to who acts for them (the
    delegation chain in force), so a delegate's queue counts what they hold for others.
    """
    holding: dict[str, list[str]] = {}
    for person, delegates in stand_ins.items():
        for delegate in delegates:
            holding.setdefault(delegate, []).append(person)
    people = set(queues) | {p for p, s in speed.items() if s.count} | set(holding)
    out = []
    for person in people:
        count, stuck, oldest = queues.get(person, (0, 0, None))
        held = sorted(holding.get(person, []))
        out.append(
            ApproverLoad(
                person=person,
                open=count,
                stuck=stuck,
                oldest=oldest,
                waiting=speed.get(person, NONE),
                away=person in stand_ins,
                delegate=next(iter(stand_ins.get(person) or ()), None),
                standing_in_for=tuple(held),
                queue_with_delegations=count + sum(queues.get(p, (0, 0, None))[0] for p in held),
            )
        )
    out.sort(
        key=lambda a: (
            -a.stuck,
            -max(a.open, a.queue_with_delegations),
            -(a.oldest or 0),
            -(a.waiting.median or 0),
            a.person,
        )
    )
    return out[:limit]


# ---------------------------------------------------------------- text and CSV


def _spread(spread: Spread) -> str:
    if not spread.count:
        return "none"
    return f"median {duration(spread.median)}, p90 {duration(spread.p90)} ({spread.count})"


def _period(report: Insights) -> str:
    since = report.since.date().isoformat() if report.since else "the start"
    until = report.until.date().isoformat() if report.until else "now"
    return f"{since} to {until}"


def text(report: Insights) -> str:
    """The report for a terminal."""
    lines = [f"Insights from {_period(report)} (open requests as of {report.now:%Y-%m-%d %H:%M} UTC)", ""]
    subs = report.submissions
    lines.append(
        "Submissions: "
        + ", ".join(f"{subs.get(k, 0)} {k}" for k in ("approved", "rejected", "recalled", "pending"))
        + f" ({sum(subs.values())} in all)"
    )
    lines.append(f"Cycle time (submitted to decided): {_spread(report.cycle)}")
    lines.append(f"Waiting time of a request (requested to decided): {_spread(report.waiting)}")
    lines.append("")
    lines.append("By week (Monday, UTC)     cycle median / p90        waiting median / p90")
    for week in sorted(set(report.cycle_by_week) | set(report.waiting_by_week)):
        c, w = report.cycle_by_week.get(week, NONE), report.waiting_by_week.get(week, NONE)
        lines.append(
            f"  {week}              {duration(c.median):>9} / {duration(c.p90):<12}"
            f"  {duration(w.median):>9} / {duration(w.p90)}"
        )
    lines.append("")
    stuck_after = duration(report.stuck_after)
    lines.append(f"Open requests: {report.open_count}, stuck beyond {stuck_after}: {report.stuck_count}")
    lines.append("  " + ", ".join(f"{name}: {n}" for name, n in report.open_by_age.items()))
    for item in report.stuck[:10]:
        lines.append(
            f"  stuck: {item.quote_id} {item.rule} for {duration(item.age)} (holding it: {', '.join(item.holders)})"
        )
    lines.append("")
    lines.append("Bottlenecks (open, stuck, oldest, decided median wait):")
    for load in report.bottlenecks:
        extra = ""
        if load.away:
            extra = f"; away, {load.delegate} stands in" if load.delegate else "; away"
        if load.standing_in_for:
            extra += f"; stands in for {', '.join(load.standing_in_for)} ({load.queue_with_delegations} in all)"
        lines.append(
            f"  {load.person}: {load.open} open, {load.stuck} stuck, oldest {duration(load.oldest)}, "
            f"waits {duration(load.waiting.median)}{extra}"
        )
    lines.append("")
    lines.append("By rule: asked, approved, rejected (rate), smart-approval carries, reminders, escalations, wait")
    for r in report.rules:
        rate = f"{r.rejection_rate:.0%}" if r.rejection_rate is not None else "-"
        lines.append(
            f"  {r.rule} ({r.chain} step {r.step}): {r.asked} asked, {r.approved} approved, "
            f"{r.rejected} rejected ({rate}), {r.carried} carried, {r.reminded} reminders, "
            f"{r.escalated} escalations, waits {_spread(r.waiting)}"
        )
    for title, table in (
        ("By chain", report.waiting_by_chain),
        ("By step", report.waiting_by_step),
        ("By approver (who decided)", report.waiting_by_approver),
    ):
        lines.append("")
        lines.append(f"{title}: waiting time")
        lines.extend(f"  {key}: {_spread(spread)}" for key, spread in sorted(table.items()))
    lines.append("")
    lines.append("By rep: cycle time")
    lines.extend(f"  {key}: {_spread(spread)}" for key, spread in sorted(report.cycle_by_rep.items()))
    lines.append("")
    lines.append(
        f"Smart approvals saved {report.carried} second asks; {report.reminders} reminders and "
        f"{report.escalations} escalations were sent."
    )
    via = report.decisions_via
    lines.append(
        "Decisions: "
        + f"{via.get('slack', 0)} in Slack, {via.get('email', 0)} by email"
        + (f", {via['other']} otherwise (command line, scenarios)" if via.get("other") else "")
    )
    return "\n".join(lines) + "\n"


def csv_text(report: Insights) -> str:
    """One row per figure: section, key, count, median_seconds, p90_seconds, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "count", "median_seconds", "p90_seconds", "value"])

    def spread(section: str, key: str, s: Spread) -> None:
        writer.writerow([section, key, s.count, s.median if s.median is not None else "", s.p90 or "", ""])

    for status, n in sorted(report.submissions.items()):
        writer.writerow(["submissions", status, n, "", "", ""])
    spread("cycle", "all", report.cycle)
    spread("waiting", "all", report.waiting)
    for section, table in (
        ("cycle_by_week", report.cycle_by_week),
        ("cycle_by_rep", report.cycle_by_rep),
        ("waiting_by_week", report.waiting_by_week),
        ("waiting_by_chain", report.waiting_by_chain),
        ("waiting_by_step", report.waiting_by_step),
        ("waiting_by_approver", report.waiting_by_approver),
    ):
        for key in sorted(table):
            spread(section, key, table[key])
    for r in report.rules:
        spread("waiting_by_rule", r.rule, r.waiting)
        rate = f"{r.rejection_rate:.4f}" if r.rejection_rate is not None else ""
        writer.writerow(["rejection_rate_by_rule", r.rule, r.approved + r.rejected, "", "", rate])
        writer.writerow(["carried_by_rule", r.rule, r.carried, "", "", ""])
        writer.writerow(["reminders_by_rule", r.rule, r.reminded, "", "", ""])
        writer.writerow(["escalations_by_rule", r.rule, r.escalated, "", "", ""])
    for name, n in report.open_by_age.items():
        writer.writerow(["open_by_age", name, n, "", "", ""])
    writer.writerow(["open", "stuck", report.stuck_count, "", "", report.stuck_after])
    for load in report.bottlenecks:
        writer.writerow(["bottleneck_open", load.person, load.open, "", "", load.queue_with_delegations])
    for key in ("slack", "email", "other"):
        writer.writerow(["decisions_via", key, report.decisions_via.get(key, 0), "", "", ""])
    writer.writerow(["reminders", "all", report.reminders, "", "", ""])
    writer.writerow(["escalations", "all", report.escalations, "", "", ""])
    writer.writerow(["smart_approval_saves", "all", report.carried, "", "", ""])
    return out.getvalue()
