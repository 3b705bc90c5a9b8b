"""Notices to the people a delegation or a replacement concerns (pure): the delegate, the person
marked away by someone else, the approver replaced and their replacement. Each says what changed,
with the dates, and what it means for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from domain.approvals import Delegation
from domain.events import Event, Kind
from domain.i18n import _, _n
from domain.policy import Policy

from .text import People, day, escape, mrkdwn_lines, name, sentence, top_text

MAX_WINDOWS_SHOWN = 20
MAX_PEOPLE_BLOCKS = 45


def _dates(event: Event) -> str:
    start, end = event.detail.get("start"), event.detail.get("end")
    try:
        first, last = dt.date.fromisoformat(str(start)), dt.date.fromisoformat(str(end))
    except ValueError:
        return ""
    if first == last:
        return _("on {day}", day=day(first))
    return _("from {start} to {end}", start=day(first), end=day(last))


def notice_text(event: Event, person: str, people: People | None = None) -> str:
    """The sentence `person` is told about `event` (plain)."""
    by = name(event.actor, people) if event.actor else _("An admin")
    away = name(event.on_behalf_of, people)
    dates = _dates(event)
    if event.kind is Kind.DELEGATION_SET:
        delegate = name(event.people[0] if event.people else None, people)
        if person == event.on_behalf_of:
            return _(
                "{who} marked you out of office {dates}: {delegate} decides your Greenlight approvals meanwhile.",
                who=by,
                dates=dates,
                delegate=delegate,
            )
        setter = "" if event.actor == event.on_behalf_of else _(" ({who} set this)", who=by)
        return _(
            "{away} is out of office {dates}: you decide their Greenlight approvals meanwhile{setter}. "
            "Their requests come to you here.",
            away=away,
            dates=dates,
            setter=setter,
        )
    if event.kind is Kind.DELEGATION_ENDED:
        if person == event.on_behalf_of:
            return _("{who} cancelled your out-of-office {dates}: requests come to you again.", who=by, dates=dates)
        return _("{away}'s out-of-office {dates} was cancelled: you no longer decide for them.", away=away, dates=dates)
    if event.kind is Kind.REPLACEMENT_SET:
        old, new = event.detail.get("old"), event.detail.get("new")
        moved = int(event.detail.get("moved") or 0)
        requests = _n("{count} open request", "{count} open requests", moved)
        if person == old:
            return _(
                "{who} replaced you with {new} as a Greenlight approver: {requests} moved to them, "
                "and new ones go to them.",
                who=by,
                new=name(new, people),
                requests=requests,
            )
        return _(
            "{who} made you a Greenlight approver in place of {old}: {requests} moved to you, "
            "and new ones come to you.",
            who=by,
            old=name(old, people),
            requests=requests,
        )
    return sentence(f"{event.kind.replace('_', ' ')} by {by}")


def notice(event: Event, person: str, people: People | None = None) -> tuple[str, list[Block]]:
    """The DM of a notice: (top-level text, blocks)."""
    text = notice_text(event, person, people)
    mark = ":palm_tree:" if event.kind is not Kind.REPLACEMENT_SET else ":arrows_counterclockwise:"
    blocks: list[Block] = [
        SectionBlock(block_id="notice.text", text=MarkdownTextObject(text=f"{mark} {escape(text)}")),
        ContextBlock(
            block_id="notice.meta",
            elements=[MarkdownTextObject(text=_("`/deal ooo` lists out-of-office windows · `/deal help` for more"))],
        ),
    ]
    return top_text(escape(text)), blocks


def windows_message(windows: Sequence[Delegation], people: People | None = None) -> tuple[str, list[Block]]:
    """The answer to `/deal ooo` alone: your out-of-office windows, now and to come, numbered."""
    if not windows:
        text = _("You have no out-of-office window. Set one with `/deal ooo YYYY-MM-DD YYYY-MM-DD @delegate`.")
        return top_text(escape(text)), [SectionBlock(block_id="ooo.none", text=MarkdownTextObject(text=escape(text)))]
    count = len(windows)
    text = _n("You have {count} out-of-office window.", "You have {count} out-of-office windows.", count)
    lines = [f"*{escape(text)}*"]
    for window in windows[:MAX_WINDOWS_SHOWN]:
        if window.start == window.end:
            span = day(window.start)
        else:
            span = _("{start} to {end}", start=day(window.start), end=day(window.end))
        who = escape(name(window.delegate, people))
        lines.append(f"• *#{window.id}* " + _("{span}: {who} decides", span=escape(span), who=who))
    if count > MAX_WINDOWS_SHOWN:
        lines.append("_" + _n("and {count} more", "and {count} more", count - MAX_WINDOWS_SHOWN) + "_")
    lines.append("_" + _("`/deal ooo replace N …` changes one, `/deal ooo cancel N` calls one off.") + "_")
    return top_text(escape(text)), [
        SectionBlock(block_id="ooo.windows", text=MarkdownTextObject(text=mrkdwn_lines(lines)))
    ]


def people_message(policy: Policy, changed: dict[str, dict[str, object]]) -> tuple[str, list[Block]]:
    """The answer to `/deal people` (admins): everyone in the directory, chat changes marked."""
    people = policy.people
    text = _n(
        "{count} person in Greenlight's directory; {changed} changed from chat.",
        "{count} people in Greenlight's directory; {changed} changed from chat.",
        len(people),
        changed=len(changed),
    )
    lines: list[str] = []
    for key in sorted(people):
        person = people[key]
        parts = [f"*{escape(person.name or key)}* `{escape(key)}`"]
        parts.append(f"Slack {escape(person.slack)}" if person.slack else _("no Slack id"))
        if person.email:
            parts.append(escape(person.email))
        if person.manager:
            parts.append(_("manager {who}", who=escape(name(person.manager, people))))
        if person.timezone:
            parts.append(escape(person.timezone))
        if key in changed:
            parts.append("_" + _("changed from chat") + "_")
        lines.append("• " + " · ".join(parts))
    blocks: list[Block] = [SectionBlock(block_id="people.summary", text=MarkdownTextObject(text=escape(text)))]
    per_block, shown = 12, lines[: 12 * 40]
    for index in range(0, len(shown), per_block):
        chunk = mrkdwn_lines(shown[index : index + per_block])
        blocks.append(SectionBlock(block_id=f"people.{index // per_block}", text=MarkdownTextObject(text=chunk)))
    if len(lines) > len(shown):
        blocks.append(
            ContextBlock(
                block_id="people.more",
                elements=[
                    MarkdownTextObject(
                        text="_"
                        + _("and {count} more: `greenlight people export`", count=len(lines) - len(shown))
                        + "_"
                    )
                ],
            )
        )
    return top_text(escape(text)), blocks[:MAX_PEOPLE_BLOCKS]
