"""`/deal insights` and `/deal policy diff`: short answers for admins, pure functions of the figures."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ButtonElement, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from domain.backtest import Backtest
from domain.insights import Insights, duration

from .text import FIELD_LIMIT, HEADER_LIMIT, TEXT_LIMIT, People, clip, escape, name, top_text

MAX_BOTTLENECKS = 5
MAX_RULES = 10


def _section(block_id: str, text: str, button: ButtonElement | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=clip(text, TEXT_LIMIT)), accessory=button)


def _context(block_id: str, text: str) -> ContextBlock:
    return ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=clip(text, FIELD_LIMIT))])


def insights_message(report: Insights, people: People, link: str | None, days: int) -> tuple[str, list[Block]]:
    """The summary of the last `days` days, the worst bottlenecks, and the chart page's link."""
    cycle, waiting = report.cycle, report.waiting
    text = top_text(
        f"Last {days} days: median cycle time {duration(cycle.median)}, {report.open_count} open requests, "
        f"{report.stuck_count} stuck beyond {duration(report.stuck_after)}."
    )
    cycle_text = (
        f"median {duration(cycle.median)}, p90 {duration(cycle.p90)} over {cycle.count} decided"
        if cycle.count
        else "no submission decided yet"
    )
    waiting_text = (
        f"median {duration(waiting.median)}, p90 {duration(waiting.p90)}" if waiting.count else "none decided yet"
    )
    summary = "\n".join(
        [
            f"*Cycle time* (submitted to decided): {cycle_text}",
            f"*Waiting time* of a request: {waiting_text}",
            f"*Open now*: {report.open_count}, of which *{report.stuck_count} stuck* beyond "
            f"{duration(report.stuck_after)}",
            f"Smart approvals saved {report.carried} second asks · {report.reminders} reminders · "
            f"{report.escalations} escalations · decisions: {report.decisions_via.get('slack', 0)} in Slack, "
            f"{report.decisions_via.get('email', 0)} by email",
        ]
    )
    blocks: list[Block] = [
        HeaderBlock(block_id="insights.header", text=clip(f"Where deals wait: last {days} days", HEADER_LIMIT)),
        _section("insights.summary", summary),
    ]
    worst = [b for b in report.bottlenecks if b.open or b.queue_with_delegations][:MAX_BOTTLENECKS]
    if worst:
        lines = []
        for b in worst:
            line = f"• *{escape(name(b.person, people))}*: {b.open} open, {b.stuck} stuck, oldest {duration(b.oldest)}"
            if b.away:
                line += f", away ({escape(name(b.delegate, people)) if b.delegate else 'nobody'} stands in)"
            if b.standing_in_for:
                line += f", stands in for {escape(', '.join(name(p, people) for p in b.standing_in_for))}"
            lines.append(line)
        blocks.append(_section("insights.bottlenecks", "*Worst bottlenecks*\n" + "\n".join(lines)))
    rejected = [r for r in report.rules if r.rejected]
    rules = sorted(rejected, key=lambda r: -(r.rejection_rate or 0))[:3]
    if rules:
        blocks.append(
            _section(
                "insights.rules",
                "*Most rejected*: "
                + ", ".join(f"{escape(r.rule)} {round((r.rejection_rate or 0) * 100)}%" for r in rules),
            )
        )
    if link:
        blocks.append(
            _section(
                "insights.link",
                "Charts for the same period, by week, step, rule and approver.",
                ButtonElement(text="Open the charts", action_id="insights.open", url=link),
            )
        )
        blocks.append(_context("insights.expiry", "The link is yours alone and works for 15 minutes."))
    else:
        blocks.append(
            _context(
                "insights.nolink",
                "The chart page needs GREENLIGHT_SECRET (it signs the link): ask whoever runs Greenlight.",
            )
        )
    return text, blocks


def policy_diff_message(result: Backtest, source: str, same: bool) -> tuple[str, list[Block]]:
    """What the policy on disk would change against the one in force, over the quotes already submitted."""
    if same:
        text = top_text(f"The policy on disk ({source}) is the one in force: reloading it would change nothing.")
        return text, [_section("policy_diff.same", escape(text))]
    text = top_text(
        f"The policy on disk would change the approvals of {result.changed} of {result.submissions} submitted "
        f"quote versions, and {result.decided_differently} decided quotes would have ended differently."
    )
    blocks: list[Block] = [
        HeaderBlock(block_id="policy_diff.header", text=clip("Policy on disk vs in force", HEADER_LIMIT)),
        _section("policy_diff.summary", escape(text)),
    ]
    changed = [(n, c) for n, c in sorted(result.rules.items()) if c.newly or c.dropped][:MAX_RULES]
    if changed:
        lines = []
        for rule, c in changed:
            line = f"• *{escape(rule)}*: {c.newly} newly need it, {c.dropped} no longer do"
            examples = c.newly_examples or c.dropped_examples
            if examples:
                line += f" (e.g. {escape(', '.join(examples[:3]))})"
            lines.append(line)
        blocks.append(_section("policy_diff.rules", "*By rule*\n" + "\n".join(lines)))
    moved = sorted(((p, b, a) for p, (b, a) in result.load.items() if a != b), key=lambda x: (-abs(x[2] - x[1]), x[0]))[
        :MAX_RULES
    ]
    if moved:
        lines = [f"• {escape(p)}: {b} → {a} ({a - b:+d})" for p, b, a in moved]
        blocks.append(_section("policy_diff.load", "*Approver load*\n" + "\n".join(lines)))
    if result.differently:
        lines = [
            f"• {count} {escape(verdict)} (e.g. {escape(', '.join(result.differently_examples.get(verdict, [])[:3]))})"
            for verdict, count in sorted(result.differently.items())
        ]
        blocks.append(_section("policy_diff.decided", "*Decided differently*\n" + "\n".join(lines)))
    if result.problems:
        blocks.append(_context("policy_diff.problems", escape("; ".join(result.problems[:3]))))
    blocks.append(
        _context("policy_diff.source", escape(f"Compared {source} with the policy in force. Nothing was changed."))
    )
    return text, blocks
