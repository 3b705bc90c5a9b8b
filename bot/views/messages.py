"""Messages that answer `/deal` and follow a submission: previews, status, the rep's thread,
the approvers overview, help and refusals. Each returns (top-level text, blocks)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.commands import USAGE, UsageError, help_text
from domain.approvals import Approval, Directory, Submission
from domain.events import Event, Kind
from domain.policy import Policy
from domain.preview import Preview, PreviewItem
from domain.quote import Quote

from .order_events import order_event_text
from .requests import approval_lines, group_text, reasons_of, waiting_words
from .text import (
    FIELD_LIMIT,
    HEADER_LIMIT,
    MESSAGE_BLOCKS,
    TEXT_LIMIT,
    People,
    capped,
    clip,
    customer,
    day,
    deal_words,
    escape,
    justification_text,
    more,
    mrkdwn_lines,
    name,
    names,
    quote_label,
    sentence,
    split,
    top_text,
    when,
)

MAX_PREVIEW_ITEMS = 40
MAX_OVERVIEW_BLOCKS = 40


def _section(block_id: str, text: str) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=clip(text, TEXT_LIMIT)))


def _context(block_id: str, text: str) -> ContextBlock:
    return ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=clip(text, FIELD_LIMIT))])


def _header(block_id: str, text: str) -> HeaderBlock:
    return HeaderBlock(block_id=block_id, text=clip(text, HEADER_LIMIT))


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


# ---------------------------------------------------------------- help, refusals, usage


def refusal(message: str) -> tuple[str, list[Block]]:
    """An ephemeral "no": why, in one sentence (nothing was changed)."""
    text = top_text(escape(sentence(message.strip() or "That cannot be done")))
    return text, [_section("refusal", f":no_entry_sign: {text}")]


def usage_message(error: UsageError) -> tuple[str, list[Block]]:
    """What was wrong with a `/deal` text and how it is written."""
    problem = escape(sentence(error.problem[:1].upper() + error.problem[1:]))
    usage = "\n".join(escape(line) for line in error.usage.splitlines())
    return f"{problem} Usage: {usage}", [
        _section("usage.problem", f":warning: {problem}"),
        _section("usage.usage", f"*Usage*\n```{usage}```"),
    ]


def help_message(topic: str | None = None) -> tuple[str, list[Block]]:
    """The `/deal help` answer: every subcommand with its usage and who may run it."""
    lines = help_text(topic).split("\n")
    text = f"Usage: {USAGE[topic]}" if topic else "Greenlight /deal commands: " + "; ".join(USAGE.values())
    return escape(text), [_section("help", mrkdwn_lines(lines))]


# ---------------------------------------------------------------- preview


def _who(item: PreviewItem, people: People | None) -> str:
    parts = []
    for person in item.people:
        text = name(person.person, people)
        if person.away:
            text += f" (away → {names(person.delegates, people)})" if person.delegates else " (away)"
        parts.append(text)
    if len(parts) == 1:
        group = parts[0]
    elif item.mode == "all":
        group = ("both of " if len(parts) == 2 else f"all {len(parts)} of ") + ", ".join(parts)
    elif item.mode == "quorum":
        group = f"{item.quorum} of {len(parts)}: " + ", ".join(parts)
    else:
        group = "any of " + ", ".join(parts)
    if item.fallback and item.fallback_reason:
        return group + f" (fallback approver: {item.fallback_reason})"
    return group + (" (fallback approver)" if item.fallback else "")


def _item_text(item: PreviewItem, people: People | None, status: str | None) -> str:
    head = f"*{escape(item.chain)}* · step {item.step} · `{escape(item.rule)}` → {escape(_who(item, people))}"
    flags = []
    if item.carried:
        flags.append(f"carried from {escape(item.carried_from or 'an earlier submission')}")
    elif status:
        flags.append(escape(status))
    if item.explicit:
        flags.append("explicit")
    lines = [head + (f" _({'; '.join(flags)})_" if flags else "")]
    if item.description:
        lines.append(f"_{escape(item.description)}_")
    lines.extend(f"• {escape(reason)}" for reason in item.reasons)
    return mrkdwn_lines(lines)


def preview_message(preview: Preview, policy: Policy, submitted: Submission | None = None) -> tuple[str, list[Block]]:
    """The answer to `/deal preview` (and, with `submitted`, to `/deal submit`): every approval
    the quote needs, by chain and step, with people and reasons; carried ones marked."""
    quote = preview.quote
    people = policy.people
    owner = policy.person_for(quote.owner) or quote.owner
    needed = [i for i in preview.items if not i.carried]
    carried = [i for i in preview.items if i.carried]
    chains = {i.chain for i in needed}
    if not preview.items:
        need = "No approval needed" + (": it is approved." if submitted else ": submitting approves it at once.")
    else:
        need = f"Needs {_count(len(needed), 'approval')} in {_count(len(chains), 'chain')}"
        need += f"; {len(carried)} carried by smart approvals." if carried else "."
    if submitted is not None:
        lead = f"Submitted {quote_label(quote)} ({customer(quote)}) as {submitted.ref}"
        if submitted.status == "approved":
            text = f"{lead}: approved, no approval was needed."
        else:
            text = f"{lead}. {need}"
    else:
        text = f"Preview of {quote_label(quote)} ({customer(quote)}). {need}"
    words = deal_words(quote)
    blocks: list[Block] = [
        _header("preview.header", f"{quote_label(quote)} · {customer(quote)}"),
        _section(
            "preview.summary",
            (f"*{escape(words)}* · " if words else "")
            + f"owner {escape(name(owner, people))}\n"
            + (f"*Submitted as {escape(submitted.ref)}.* " if submitted is not None else "")
            + escape(need),
        ),
    ]
    if submitted is not None and submitted.justification:
        blocks.append(_section("preview.justification", justification_text(submitted.justification)))
    statuses = {a.rule: a.status for a in submitted.approvals} if submitted is not None else {}
    items = sorted(preview.items, key=lambda i: (i.chain, i.step, i.rule))
    shown, hidden = split(items, MAX_PREVIEW_ITEMS)
    for index, item in enumerate(shown):
        blocks.append(_section(f"preview.item.{index}", _item_text(item, people, statuses.get(item.rule))))
    if hidden:
        blocks.append(more(hidden, "approvals", "preview.more"))
    return top_text(escape(text)), capped(blocks, MESSAGE_BLOCKS, "preview")


# ---------------------------------------------------------------- status


def _holding(approval: Approval, holders: Mapping[str, Sequence[str]] | None) -> list[str]:
    if holders is not None and approval.rule in holders:
        voted = {s.voted_by for s in approval.seats if s.vote}
        return [p for p in holders[approval.rule] if p not in voted]
    out = [s.holder for s in approval.seats if s.vote is None]
    return out + [p for p in approval.escalated_to if p not in out]


def status_message(
    sub: Submission | None,
    quote: Quote | None = None,
    people: People | None = None,
    holders: Mapping[str, Sequence[str]] | None = None,
    *,
    zone: dt.tzinfo = dt.UTC,
    now: dt.datetime | None = None,
) -> tuple[str, list[Block]]:
    """Where a quote stands (`/deal status`): who holds it and since when, what is done, what is next.

    `sub` is the latest submission (None: never submitted), `quote` the quote as last received
    (None: the submission's snapshot). `holders` maps each requested rule to who may act on it now
    (`assignees(ctx, sub, approval)`); without it the undecided seats are shown.
    """
    if sub is None and quote is None:
        raise ValueError("status_message needs a submission or a quote")
    current = quote if quote is not None else Quote(sub.snapshot)  # type: ignore[union-attr]
    words = deal_words(current)
    head = f"*{escape(customer(current))}* · {escape(quote_label(current))}" + (f" · {escape(words)}" if words else "")
    blocks: list[Block] = []
    if sub is None:
        text = f"{quote_label(current)} ({customer(current)}) has not been submitted."
        blocks.append(_section("status.summary", f"{head}\n{escape(text)}"))
        return top_text(escape(text)), blocks
    submitted = f"{sub.quote_id} v{sub.quote_version}"
    requested = [a for a in sub.approvals if a.status == "requested"]
    if sub.status == "pending":
        if requested:
            waiting_on = "; ".join(f"{waiting_words(a, _holding(a, holders), people)} ({a.rule})" for a in requested)
            text = f"{submitted} is pending: waiting on {waiting_on}."
        else:
            text = f"{submitted} is pending."
    elif sub.status == "approved":
        text = f"{submitted} was approved at {when(sub.decided_at, zone, now)}."
    elif sub.status == "rejected":
        rejected = next((a for a in sub.approvals if a.status == "rejected"), None)
        who = f" by {name(rejected.acted_by, people)} ({rejected.rule})" if rejected else ""
        text = sentence(
            f"{submitted} was rejected{who} at {when(sub.decided_at, zone, now)}: {sub.comment or 'no reason given'}"
        )
    else:
        text = sentence(f"{submitted} was recalled at {when(sub.decided_at, zone, now)}: {sub.comment or 'recalled'}")
    since = f"Submission {sub.ref}, submitted {when(sub.submitted_at, zone, now)}"
    blocks.append(_section("status.summary", f"{head}\n{escape(text)}"))
    if sub.justification:
        blocks.append(_section("status.justification", justification_text(sub.justification, sub.owner, people)))
    if quote is not None and quote.version != sub.quote_version:
        blocks.append(
            _context(
                "status.version",
                escape(f"The CRM has sent v{quote.version} since; this submission is for v{sub.quote_version}."),
            )
        )
    if requested:
        lines = ["*Waiting on*"]
        for a in requested:
            since_at = f", since {when(a.requested_at, zone, now)}" if a.requested_at else ""
            holding = waiting_words(a, _holding(a, holders), people)
            lines.append(
                f"• `{escape(a.rule)}` ({escape(a.chain)}, step {a.step}): {escape(holding)}{escape(since_at)}"
            )
            votes = [seat for seat in a.seats if seat.vote and seat.voted_by]
            if votes:
                cast = ", ".join(f"{name(v.voted_by, people)} voted to {v.vote}" for v in votes)
                lines.append(f"    ◦ _{escape(cast)}_")
            lines.extend(f"    ◦ {escape(r)}" for r in reasons_of(a))
        blocks.append(_section("status.waiting", mrkdwn_lines(lines)))
    later = [a for a in sub.approvals if a.status == "waiting"]
    if later:
        lines = ["*Next*"] + [
            f"• `{escape(a.rule)}` ({escape(a.chain)}, step {a.step}): {escape(group_text(a, people))}" for a in later
        ]
        blocks.append(_section("status.next", mrkdwn_lines(lines)))
    done = [a for a in sub.approvals if a.status not in ("requested", "waiting")]
    if done:
        lines = ["*Done*"]
        for a in done:
            lines.extend(approval_lines(a, people, zone, now)[:1])
        blocks.append(_section("status.done", mrkdwn_lines(lines)))
    blocks.append(_context("status.meta", escape(since)))
    return top_text(escape(text)), blocks


# ---------------------------------------------------------------- the rep's thread

QUIET_KINDS = frozenset({"requested", "revoked", "rejected", "reminded", "delegate_added", "quote_received"})
"""Events the rep's thread does not get a message for: `rejected` is told by `quote_rejected`,
`revoked` by the rejection or recall that caused it, requests by `submitted`."""


def rep_thread_update(
    event: Event,
    sub: Submission,
    people: People | None = None,
    *,
    zone: dt.tzinfo = dt.UTC,
    now: dt.datetime | None = None,
) -> tuple[str, list[Block]] | None:
    """The message for the rep's thread about one event of their submission, or None when the
    event is not worth one (`QUIET_KINDS`)."""
    if event.kind in QUIET_KINDS:
        return None
    quote = Quote(sub.snapshot)
    label = f"{event.quote_id} v{event.quote_version}"
    actor = name(event.actor, people) if event.actor else None
    by = f"{actor} (for {name(event.on_behalf_of, people)})" if actor and event.on_behalf_of else actor
    rule = event.rule or ""
    comment = f': "{event.comment}"' if event.comment else ""
    kind = event.kind
    mark = ":speech_balloon:"
    detail: str | None = None
    if kind is Kind.SUBMITTED:
        mark = ":outbox_tray:"
        rules = list(event.detail.get("rules") or [a.rule for a in sub.approvals])
        carried = [a.rule for a in sub.approvals if a.status == "carried"]
        needed = len(rules) - len(carried)
        if not rules:
            text = f"{label} submitted: no approval needed."
        else:
            text = f"{label} submitted for approval: {_count(needed, 'approval')} needed"
            text += f", {len(carried)} carried from before." if carried else "."
        first = [a for a in sub.approvals if a.requested_at == event.at and a.status != "carried"]
        if first:
            detail = "Now with " + "; ".join(f"{group_text(a, people)} ({a.rule})" for a in first)
    elif kind is Kind.VOTED:
        verb = "approve" if event.detail.get("vote") == "approve" else "reject"
        text = f"{by} voted to {verb} {rule} on {label}{comment}."
        mark = ":ballot_box_with_ballot:"
    elif kind is Kind.APPROVED:
        text = f"{by} approved {rule} on {label}{comment}."
        mark = ":white_check_mark:"
    elif kind is Kind.AUTO_APPROVED:
        text = f"{rule} on {label} approved automatically: {by} had already approved."
        mark = ":white_check_mark:"
    elif kind is Kind.CARRIED:
        origin = event.detail.get("carried_from") or "an earlier submission"
        text = f"{rule} on {label} carried from {origin}" + (f" ({actor}'s approval)." if actor else ".")
        mark = ":recycle:"
    elif kind is Kind.QUOTE_APPROVED:
        text = f"{label} is approved."
        mark = ":tada:"
    elif kind is Kind.QUOTE_REJECTED:
        text = f"{label} was rejected by {by or 'an approver'} ({rule}): {event.comment or 'no reason given'}"
        mark = ":x:"
    elif kind is Kind.RECALLED:
        text = f"{label} was recalled by {by or 'its owner'}."
        mark = ":leftwards_arrow_with_hook:"
    elif kind is Kind.QUOTE_CHANGED:
        text = f"{label} was withdrawn from approval: the CRM sent a new version. Submit it when it is ready."
        mark = ":leftwards_arrow_with_hook:"
    elif kind is Kind.REASSIGNED:
        text = f"{by} handed {rule} on {label} to {names(event.people, people)}{comment}."
        mark = ":arrow_right:"
    elif kind is Kind.REPLACED:
        old, new = event.detail.get("old"), event.detail.get("new")
        text = (
            f"{rule} on {label} moved from {name(old, people)} to {name(new, people)} (an admin replaced the approver)."
        )
        mark = ":arrow_right:"
    elif kind is Kind.ESCALATED:
        text = f"{rule} on {label} was escalated to {names(event.people, people)}."
        mark = ":rotating_light:"
    elif (about_order := order_event_text(event, by)) is not None:
        text = f"{label}: {about_order}"
        mark = ":package:"
    else:
        what = kind.replace("_", " ")
        text = f"{label}: {what}" + (f" ({rule})" if rule else "") + (f" by {by}" if by else "") + comment
    text = sentence(text)
    context = f"{customer(quote)} · {when(event.at, zone, now)}"
    blocks: list[Block] = [_section("thread.event", f"{mark} {escape(text)}")]
    if detail:
        blocks.append(_section("thread.detail", escape(detail)))
    if kind is Kind.SUBMITTED and event.comment:
        blocks.append(_section("thread.justification", justification_text(event.comment)))
    blocks.append(_context("thread.meta", escape(context)))
    return top_text(escape(text)), blocks


# ---------------------------------------------------------------- approvers overview


def _definition_text(policy: Policy, key: str) -> str:
    definition = policy.approver(key)
    if definition is None:
        return "unknown"
    if definition.user is not None:
        return name(definition.user, policy.people)
    if definition.group is not None:
        members = ", ".join(name(m, policy.people) for m in definition.group)
        size = len(definition.group)
        if definition.quorum is not None:
            return f"{definition.quorum} of {size}: {members}"
        if definition.mode == "all" and size > 1:
            return f"{'both' if size == 2 else f'all {size}'} of {members}"
        return f"{definition.mode} of {members}"
    return f"from the quote: `{definition.field}`"


def approvers_overview(policy: Policy, directory: Directory, now: dt.datetime | None = None) -> list[Block]:
    """Every approver definition with its current people (replacements applied), the rules that
    use it, and everyone's delegations (active ones marked when `now` is given). At most 40 blocks."""
    people = policy.people
    used: dict[str, list[str]] = {}
    for rule in policy.rules:
        used.setdefault(rule.approver, []).append(rule.name)
        if rule.escalate_to:
            used.setdefault(rule.escalate_to, []).append(f"{rule.name} (escalation)")
    keys = list(policy.approvers)
    keys += [k for k in [*used, policy.fallback_approver] if k not in keys and k in people]
    admins = names(policy.admins, people) if policy.admins else "none"
    blocks: list[Block] = [
        _section(
            "approvers.policy",
            f"*Admins:* {escape(admins)} · *Fallback approver:* `{escape(policy.fallback_approver)}`",
        )
    ]
    lines_per_approver = []
    for key in keys:
        definition = policy.approver(key)
        now_people = ""
        if definition is not None and definition.field is None:
            members = [definition.user] if definition.user else list(definition.group or [])
            current = [directory.replaced(m) for m in members]
            if current != members:
                now_people = f"\nNow: {escape(', '.join(name(m, people) for m in current))} (after replacements)"
        rules = used.get(key, [])
        uses = f"\nUsed by {escape(', '.join(rules))}" if rules else "\nNot used by any rule"
        fallback = " · the fallback approver" if key == policy.fallback_approver else ""
        lines_per_approver.append(
            f"*`{escape(key)}`* · {escape(_definition_text(policy, key))}{fallback}{now_people}{uses}"
        )
    shown, hidden = split(lines_per_approver, MAX_OVERVIEW_BLOCKS - 4)
    blocks.extend(_section(f"approvers.def.{i}", text) for i, text in enumerate(shown))
    if hidden:
        blocks.append(more(hidden, "approvers", "approvers.more"))
    if directory.replacements:
        lines = ["*Replacements*"] + [
            f"• {escape(name(old, people))} → {escape(name(new, people))}"
            for old, new in directory.replacements.items()
        ]
        blocks.append(_section("approvers.replacements", mrkdwn_lines(lines)))
    delegations = directory.delegations
    if now is not None:
        delegations = [d for d in delegations if d.end >= now.astimezone(policy.person_zone(d.delegator)).date()]
    if delegations:
        lines = ["*Out of office*"]
        for d in sorted(delegations, key=lambda d: (d.start, d.delegator)):
            active = " *(now)*" if now is not None and d.active(policy, now) else ""
            lines.append(
                f"• {escape(name(d.delegator, people))}: {day(d.start)} to {day(d.end)},"
                f" {escape(name(d.delegate, people))} decides{active}"
            )
        blocks.append(_section("approvers.delegations", mrkdwn_lines(lines)))
    return capped(blocks, MAX_OVERVIEW_BLOCKS, "approvers")


def approvers_message(policy: Policy, directory: Directory, now: dt.datetime | None = None) -> tuple[str, list[Block]]:
    """The answer to `/deal approvers`."""
    overview = approvers_overview(policy, directory, now)
    text = f"{_count(len(policy.approvers), 'approver definition')}, with their people and delegations."
    return escape(text), [_header("approvers.header", "Approvers"), *overview]
