"""Messages that answer `/deal` and follow a submission: previews, status, the rep's thread,
the approvers overview, help and refusals. Each returns (top-level text, blocks)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.commands import USAGE, UsageError, help_text
from domain.approvals import Approval, Directory, Submission
from domain.events import Event, Kind
from domain.i18n import _, _n
from domain.policy import Policy
from domain.preview import Preview, PreviewItem
from domain.quote import Quote

from .. import blockkit as bk
from .order_events import order_event_text
from .requests import approval_lines, group_text, reasons_of, status_word, waiting_words
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
    stamp,
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


def _text(block_id: str, text: str) -> bk.Block:
    """A section as a dict (`bot.blockkit`): for the messages the outbox worker sends on every click."""
    return bk.section(block_id, clip(text, TEXT_LIMIT))


def _small(block_id: str, text: str) -> bk.Block:
    return bk.context(block_id, clip(text, FIELD_LIMIT))


def _approvals(n: int) -> str:
    return _n("{count} approval", "{count} approvals", n)


def _chains(n: int) -> str:
    return _n("{count} chain", "{count} chains", n)


# ---------------------------------------------------------------- help, refusals, usage


def refusal(message: str) -> tuple[str, list[Block]]:
    """An ephemeral "no": why, in one sentence (nothing was changed)."""
    text = top_text(escape(sentence(message.strip() or _("That cannot be done"))))
    return text, [_section("refusal", f":no_entry_sign: {text}")]


def usage_message(error: UsageError) -> tuple[str, list[Block]]:
    """What was wrong with a `/deal` text and how it is written."""
    problem = escape(sentence(error.problem[:1].upper() + error.problem[1:]))
    usage = "\n".join(escape(line) for line in error.usage.splitlines())
    return _("{problem} Usage: {usage}", problem=problem, usage=usage), [
        _section("usage.problem", f":warning: {problem}"),
        _section("usage.usage", "*" + _("Usage") + f"*\n```{usage}```"),
    ]


def help_message(topic: str | None = None) -> tuple[str, list[Block]]:
    """The `/deal help` answer: every subcommand with its usage and who may run it."""
    lines = help_text(topic).split("\n")
    if topic:
        text = _("Usage: {usage}", usage=USAGE[topic])
    else:
        text = _("Greenlight /deal commands: {usages}", usages="; ".join(USAGE.values()))
    return escape(text), [_section("help", mrkdwn_lines(lines))]


# ---------------------------------------------------------------- preview


def _who(item: PreviewItem, people: People | None) -> str:
    parts = []
    for person in item.people:
        text = name(person.person, people)
        if person.away and person.delegates:
            text += _(" (away → {delegates})", delegates=names(person.delegates, people))
        elif person.away:
            text += _(" (away)")
        parts.append(text)
    listed = ", ".join(parts)
    if len(parts) == 1:
        group = parts[0]
    elif item.mode == "all" and len(parts) == 2:
        group = _("both of {people}", people=listed)
    elif item.mode == "all":
        group = _("all {count} of {people}", count=len(parts), people=listed)
    elif item.mode == "quorum":
        group = _("{quorum} of {count}: {people}", quorum=item.quorum, count=len(parts), people=listed)
    else:
        group = _("any of {people}", people=listed)
    if item.fallback and item.fallback_reason:
        return group + _(" (fallback approver: {reason})", reason=item.fallback_reason)
    return group + (_(" (fallback approver)") if item.fallback else "")


def _item_text(item: PreviewItem, people: People | None, status: str | None) -> str:
    step = _("step {step}", step=item.step)
    head = f"*{escape(item.chain)}* · {step} · `{escape(item.rule)}` → {escape(_who(item, people))}"
    flags = []
    if item.carried:
        origin = item.carried_from or _("an earlier submission")
        flags.append(escape(_("carried from {origin}", origin=origin)))
    elif status:
        flags.append(escape(status_word(status)))
    if item.explicit:
        flags.append(_("explicit"))
    lines = [head + (f" _({'; '.join(flags)})_" if flags else "")]
    if item.description:
        lines.append(f"_{escape(item.description)}_")
    lines.extend(f"• {escape(reason)}" for reason in item.reasons)
    return mrkdwn_lines(lines)


def _needs(needed: int, chains: int, carried: int) -> str:
    if carried:
        return _(
            "Needs {approvals} in {chains}; {carried} carried by smart approvals.",
            approvals=_approvals(needed),
            chains=_chains(chains),
            carried=carried,
        )
    return _("Needs {approvals} in {chains}.", approvals=_approvals(needed), chains=_chains(chains))


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
        need = (
            _("No approval needed: it is approved.")
            if submitted
            else _("No approval needed: submitting approves it at once.")
        )
    else:
        need = _needs(len(needed), len(chains), len(carried))
    label, who = quote_label(quote), customer(quote)
    if submitted is not None:
        if submitted.status == "approved":
            text = _(
                "Submitted {quote} ({customer}) as {ref}: approved, no approval was needed.",
                quote=label,
                customer=who,
                ref=submitted.ref,
            )
        else:
            lead = _("Submitted {quote} ({customer}) as {ref}", quote=label, customer=who, ref=submitted.ref)
            text = f"{lead}. {need}"
    else:
        text = _("Preview of {quote} ({customer}).", quote=label, customer=who) + f" {need}"
    words = deal_words(quote)
    blocks: list[Block] = [
        _header("preview.header", f"{quote_label(quote)} · {customer(quote)}"),
        _section(
            "preview.summary",
            (f"*{escape(words)}* · " if words else "")
            + _("owner {who}", who=escape(name(owner, people)))
            + "\n"
            + ("*" + _("Submitted as {ref}.", ref=escape(submitted.ref)) + "* " if submitted is not None else "")
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
        blocks.append(more(hidden, _("approvals"), "preview.more"))
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
) -> tuple[str, list[bk.Block]]:
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
    blocks: list[bk.Block] = []
    if sub is None:
        text = _("{quote} ({customer}) has not been submitted.", quote=quote_label(current), customer=customer(current))
        blocks.append(_text("status.summary", f"{head}\n{escape(text)}"))
        return top_text(escape(text)), blocks
    submitted = f"{sub.quote_id} v{sub.quote_version}"
    requested = [a for a in sub.approvals if a.status == "requested"]
    if sub.status == "pending":
        if requested:
            waiting_on = "; ".join(f"{waiting_words(a, _holding(a, holders), people)} ({a.rule})" for a in requested)
            text = _("{quote} is pending: waiting on {people}.", quote=submitted, people=waiting_on)
        else:
            text = _("{quote} is pending.", quote=submitted)
    elif sub.status == "approved":
        text = _("{quote} was approved at {moment}.", quote=submitted, moment=when(sub.decided_at, zone, now))
    elif sub.status == "rejected":
        rejected = next((a for a in sub.approvals if a.status == "rejected"), None)
        who = _(" by {who} ({rule})", who=name(rejected.acted_by, people), rule=rejected.rule) if rejected else ""
        text = sentence(
            _(
                "{quote} was rejected{who} at {moment}: {reason}",
                quote=submitted,
                who=who,
                moment=when(sub.decided_at, zone, now),
                reason=sub.comment or _("no reason given"),
            )
        )
    else:
        text = sentence(
            _(
                "{quote} was recalled at {moment}: {reason}",
                quote=submitted,
                moment=when(sub.decided_at, zone, now),
                reason=sub.comment or _("recalled"),
            )
        )
    since = _("Submission {ref}, submitted {moment}", ref=sub.ref, moment=when(sub.submitted_at, zone, now))
    if sub.policy_version is not None:
        since += _(", evaluated by policy version {version}", version=sub.policy_version)
    blocks.append(_text("status.summary", f"{head}\n{escape(text)}"))
    if sub.justification:
        blocks.append(_text("status.justification", justification_text(sub.justification, sub.owner, people)))
    if quote is not None and quote.version != sub.quote_version:
        blocks.append(
            _small(
                "status.version",
                escape(
                    _(
                        "The CRM has sent v{new} since; this submission is for v{old}.",
                        new=quote.version,
                        old=sub.quote_version,
                    )
                ),
            )
        )
    if requested:
        lines = ["*" + _("Waiting on") + "*"]
        for a in requested:
            since_at = _(", since {moment}", moment=when(a.requested_at, zone, now)) if a.requested_at else ""
            holding = waiting_words(a, _holding(a, holders), people)
            where = escape(_("{chain}, step {step}", chain=a.chain, step=a.step))
            lines.append(f"• `{escape(a.rule)}` ({where}): {escape(holding)}{escape(since_at)}")
            votes = [seat for seat in a.seats if seat.vote and seat.voted_by]
            if votes:
                cast = ", ".join(_vote_words(name(v.voted_by, people), v.vote) for v in votes)
                lines.append(f"    ◦ _{escape(cast)}_")
            lines.extend(f"    ◦ {escape(r)}" for r in reasons_of(a))
        blocks.append(_text("status.waiting", mrkdwn_lines(lines)))
    later = [a for a in sub.approvals if a.status == "waiting"]
    if later:
        lines = ["*" + _("Next") + "*"] + [
            f"• `{escape(a.rule)}` ({escape(_('{chain}, step {step}', chain=a.chain, step=a.step))}):"
            f" {escape(group_text(a, people))}"
            for a in later
        ]
        blocks.append(_text("status.next", mrkdwn_lines(lines)))
    done = [a for a in sub.approvals if a.status not in ("requested", "waiting")]
    if done:
        lines = ["*" + _("Done") + "*"]
        for a in done:
            lines.extend(approval_lines(a, people, zone, now)[:1])
        blocks.append(_text("status.done", mrkdwn_lines(lines)))
    blocks.append(_small("status.meta", escape(since)))
    return top_text(escape(text)), blocks


def _vote_words(who: str, vote: str | None) -> str:
    if vote == "approve":
        return _("{who} voted to approve", who=who)
    return _("{who} voted to reject", who=who)


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
) -> tuple[str, list[bk.Block]] | None:
    """The message for the rep's thread about one event of their submission, or None when the
    event is not worth one (`QUIET_KINDS`)."""
    if event.kind in QUIET_KINDS:
        return None
    quote = Quote(sub.snapshot)
    label = f"{event.quote_id} v{event.quote_version}"
    actor = name(event.actor, people) if event.actor else None
    if actor and event.on_behalf_of:
        by: str | None = _("{who} (for {whom})", who=actor, whom=name(event.on_behalf_of, people))
    else:
        by = actor
    rule = event.rule or ""
    comment = _(': "{comment}"', comment=event.comment) if event.comment else ""
    kind = event.kind
    mark = ":speech_balloon:"
    detail: str | None = None
    if kind is Kind.SUBMITTED:
        mark = ":outbox_tray:"
        rules = list(event.detail.get("rules") or [a.rule for a in sub.approvals])
        carried = [a.rule for a in sub.approvals if a.status == "carried"]
        needed = len(rules) - len(carried)
        if not rules:
            text = _("{quote} submitted: no approval needed.", quote=label)
        elif carried:
            text = _(
                "{quote} submitted for approval: {approvals} needed, {carried} carried from before.",
                quote=label,
                approvals=_approvals(needed),
                carried=len(carried),
            )
        else:
            text = _("{quote} submitted for approval: {approvals} needed.", quote=label, approvals=_approvals(needed))
        first = [a for a in sub.approvals if a.requested_at == event.at and a.status != "carried"]
        if first:
            detail = _("Now with {people}", people="; ".join(f"{group_text(a, people)} ({a.rule})" for a in first))
    elif kind is Kind.VOTED:
        if event.detail.get("vote") == "approve":
            text = _(
                "{who} voted to approve {rule} on {quote}{comment}.",
                who=by,
                rule=rule,
                quote=label,
                comment=comment,
            )
        else:
            text = _(
                "{who} voted to reject {rule} on {quote}{comment}.",
                who=by,
                rule=rule,
                quote=label,
                comment=comment,
            )
        mark = ":ballot_box_with_ballot:"
    elif kind is Kind.APPROVED:
        text = _("{who} approved {rule} on {quote}{comment}.", who=by, rule=rule, quote=label, comment=comment)
        mark = ":white_check_mark:"
    elif kind is Kind.AUTO_APPROVED:
        text = _(
            "{rule} on {quote} approved automatically: {who} had already approved.", rule=rule, quote=label, who=by
        )
        mark = ":white_check_mark:"
    elif kind is Kind.CARRIED:
        origin = event.detail.get("carried_from") or _("an earlier submission")
        if actor:
            text = _(
                "{rule} on {quote} carried from {origin} ({who}'s approval).",
                rule=rule,
                quote=label,
                origin=origin,
                who=actor,
            )
        else:
            text = _("{rule} on {quote} carried from {origin}.", rule=rule, quote=label, origin=origin)
        mark = ":recycle:"
    elif kind is Kind.QUOTE_APPROVED:
        text = _("{quote} is approved.", quote=label)
        mark = ":tada:"
    elif kind is Kind.QUOTE_REJECTED:
        text = _(
            "{quote} was rejected by {who} ({rule}): {reason}",
            quote=label,
            who=by or _("an approver"),
            rule=rule,
            reason=event.comment or _("no reason given"),
        )
        mark = ":x:"
    elif kind is Kind.RECALLED:
        text = _("{quote} was recalled by {who}.", quote=label, who=by or _("its owner"))
        mark = ":leftwards_arrow_with_hook:"
    elif kind is Kind.QUOTE_CHANGED:
        text = _(
            "{quote} was withdrawn from approval: the CRM sent a new version. Submit it when it is ready.", quote=label
        )
        mark = ":leftwards_arrow_with_hook:"
    elif kind is Kind.REASSIGNED:
        text = _(
            "{who} handed {rule} on {quote} to {people}{comment}.",
            who=by,
            rule=rule,
            quote=label,
            people=names(event.people, people),
            comment=comment,
        )
        mark = ":arrow_right:"
    elif kind is Kind.REPLACED:
        old, new = event.detail.get("old"), event.detail.get("new")
        text = _(
            "{rule} on {quote} moved from {old} to {new} (an admin replaced the approver).",
            rule=rule,
            quote=label,
            old=name(old, people),
            new=name(new, people),
        )
        mark = ":arrow_right:"
    elif kind is Kind.ESCALATED:
        escalated = names(event.people, people)
        text = _("{rule} on {quote} was escalated to {people}.", rule=rule, quote=label, people=escalated)
        mark = ":rotating_light:"
    elif (about_order := order_event_text(event, by)) is not None:
        text = f"{label}: {about_order}"
        mark = ":package:"
    else:
        what = kind.replace("_", " ")
        text = f"{label}: {what}" + (f" ({rule})" if rule else "") + (_(" by {who}", who=by) if by else "") + comment
    text = sentence(text)
    blocks: list[bk.Block] = [_text("thread.event", f"{mark} {escape(text)}")]
    if detail:
        blocks.append(_text("thread.detail", escape(detail)))
    if kind is Kind.SUBMITTED and event.comment:
        blocks.append(_text("thread.justification", justification_text(event.comment)))
    # each reader's Slack shows the moment in their own zone; the fallback names the policy's
    blocks.append(_small("thread.meta", f"{escape(customer(quote))} · {stamp(event.at, zone)}"))
    return top_text(escape(text)), blocks


# ---------------------------------------------------------------- approvers overview


def _definition_text(policy: Policy, key: str) -> str:
    definition = policy.approver(key)
    if definition is None:
        return _("unknown")
    if definition.user is not None:
        return name(definition.user, policy.people)
    if definition.group is not None:
        members = ", ".join(name(m, policy.people) for m in definition.group)
        size = len(definition.group)
        if definition.quorum is not None:
            return _("{quorum} of {count}: {people}", quorum=definition.quorum, count=size, people=members)
        if definition.mode == "all" and size == 2:
            return _("both of {people}", people=members)
        if definition.mode == "all" and size > 1:
            return _("all {count} of {people}", count=size, people=members)
        if definition.mode == "any":
            return _("any of {people}", people=members)
        return f"{definition.mode} of {members}"
    return _("from the quote: `{field}`", field=definition.field)


def approvers_overview(policy: Policy, directory: Directory, now: dt.datetime | None = None) -> list[Block]:
    """Every approver definition with its current people (replacements applied), the rules that
    use it, and everyone's delegations (active ones marked when `now` is given). At most 40 blocks."""
    people = policy.people
    used: dict[str, list[str]] = {}
    for rule in policy.rules:
        used.setdefault(rule.approver, []).append(rule.name)
        if rule.escalate_to:
            used.setdefault(rule.escalate_to, []).append(_("{rule} (escalation)", rule=rule.name))
    keys = list(policy.approvers)
    keys += [k for k in [*used, policy.fallback_approver] if k not in keys and k in people]
    admins = names(policy.admins, people) if policy.admins else _("none")
    blocks: list[Block] = [
        _section(
            "approvers.policy",
            _(
                "*Admins:* {admins} · *Fallback approver:* {fallback}",
                admins=escape(admins),
                fallback="`" + escape(policy.fallback_approver) + "`",
            ),
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
                listed = escape(", ".join(name(m, people) for m in current))
                now_people = "\n" + _("Now: {people} (after replacements)", people=listed)
        rules = used.get(key, [])
        uses = "\n" + (_("Used by {rules}", rules=escape(", ".join(rules))) if rules else _("Not used by any rule"))
        fallback = " · " + _("the fallback approver") if key == policy.fallback_approver else ""
        lines_per_approver.append(
            f"*`{escape(key)}`* · {escape(_definition_text(policy, key))}{fallback}{now_people}{uses}"
        )
    shown, hidden = split(lines_per_approver, MAX_OVERVIEW_BLOCKS - 4)
    blocks.extend(_section(f"approvers.def.{i}", text) for i, text in enumerate(shown))
    if hidden:
        blocks.append(more(hidden, _("approvers"), "approvers.more"))
    if directory.replacements:
        lines = ["*" + _("Replacements") + "*"] + [
            f"• {escape(name(old, people))} → {escape(name(new, people))}"
            for old, new in directory.replacements.items()
        ]
        blocks.append(_section("approvers.replacements", mrkdwn_lines(lines)))
    delegations = directory.delegations
    if now is not None:
        delegations = [d for d in delegations if d.end >= now.astimezone(policy.person_zone(d.delegator)).date()]
    if delegations:
        lines = ["*" + _("Out of office") + "*"]
        for d in sorted(delegations, key=lambda d: (d.start, d.delegator)):
            active = " *" + _("(now)") + "*" if now is not None and d.active(policy, now) else ""
            said = _(
                "{who}: {start} to {end}, {delegate} decides",
                who=escape(name(d.delegator, people)),
                start=day(d.start),
                end=day(d.end),
                delegate=escape(name(d.delegate, people)),
            )
            lines.append(f"• {said}{active}")
        blocks.append(_section("approvers.delegations", mrkdwn_lines(lines)))
    return capped(blocks, MAX_OVERVIEW_BLOCKS, "approvers")


def approvers_message(policy: Policy, directory: Directory, now: dt.datetime | None = None) -> tuple[str, list[Block]]:
    """The answer to `/deal approvers`."""
    overview = approvers_overview(policy, directory, now)
    count = len(policy.approvers)
    text = _n(
        "{count} approver definition, with their people and delegations.",
        "{count} approver definitions, with their people and delegations.",
        count,
    )
    return escape(text), [_header("approvers.header", _("Approvers")), *overview]
