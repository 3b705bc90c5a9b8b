"""The answers to `/deal replace`, `/deal replacements` and `/deal replacements undo @old` (admins only;
`render.run_command` checked): each request moved is named, with whom it went to and any that fell to
the fallback approver, so an admin sees exactly what a replacement did."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from domain.approvals import Replacement
from domain.events import Event, Kind

from . import commands as cmd
from .deps import Deps
from .render import _name, _person, answer
from .views.text import TEXT_LIMIT, clip, escape, mrkdwn_lines, top_text


def moved_lines(events: list[Event], deps: Deps) -> list[str]:
    """One line per request moved: `Q-1042#1 payment-terms → Felix`, or to the fallback's people."""
    people = deps.policy
    lines = []
    for event in events:
        if event.kind is not Kind.REPLACED:
            continue
        where = f"{event.quote_id}#{event.submission} {event.rule}"
        fallback = event.detail.get("fallback")
        if fallback is not None:
            names = ", ".join(_name(p, people) for p in fallback) or "nobody"
            lines.append(f"{where} → the fallback approver ({names}): the replacement owns the quote")
        else:
            to = event.people[0] if event.people else event.detail.get("new", "")
            lines.append(f"{where} → {_name(str(to), people)}")
    return lines


def _listing(head: str, lines: list[str]) -> dict[str, Any]:
    body = mrkdwn_lines([escape(head), *(f"• {escape(line)}" for line in lines)], TEXT_LIMIT)
    text = head + (" " + "; ".join(lines) + "." if lines else "")
    return answer(top_text(escape(text)), [SectionBlock(block_id="replace.result", text=MarkdownTextObject(text=body))])


async def replacement_answer(deps: Deps, command: cmd.Replace | cmd.Replacements, person: str) -> dict[str, Any]:
    policy, service, now = deps.policy, deps.service, deps.clock()
    if isinstance(command, cmd.Replace):
        old, new = _person(command.old, policy), _person(command.new, policy)
        events = await service.replace(old, new, person, now)
        lines = moved_lines(events, deps)
        head = f"{_name(new, policy)} now stands wherever {_name(old, policy)} did; {len(lines)} open request(s) moved."
        return _listing(head, lines)
    if command.undo is not None:
        old = _person(command.undo, policy)
        replacement, events = await service.undo_replacement(old, person, now)
        lines = moved_lines(events, deps)
        head = (
            f"{_name(old, policy)} is no longer replaced by {_name(replacement.new, policy)}; "
            f"{len(lines)} open request(s) given back."
        )
        return _listing(head, lines)
    found = await service.replacements()
    if not found:
        return answer("No replacement is in force.", [])
    return _listing("Replacements in force:", [_described(r, deps) for r in found])


def _described(replacement: Replacement, deps: Deps) -> str:
    policy = deps.policy
    when = replacement.created_at.astimezone(policy.zone).strftime("%Y-%m-%d %H:%M") if replacement.created_at else "?"
    by = _name(replacement.created_by, policy) if replacement.created_by else "an admin"
    text = (
        f"{_name(replacement.new, policy)} for {_name(replacement.old, policy)}, by {by} on {when}; "
        f"{replacement.count()} open request(s) moved then (undo: `/deal replacements undo @{replacement.old}`)"
    )
    return clip(text, 500)
