"""App Home (slack-v1 §4): what waits on you, your quotes, your out-of-office, and for admins
the approvers overview; and the out-of-office modal its button opens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from domain.approvals import Approval, Delegation, Submission
from domain.i18n import _
from domain.quote import Quote

from . import ids
from .requests import BUTTON_LIMIT, TITLE_LIMIT, group_text, reasons_of, request_buttons
from .text import (
    TEXT_LIMIT,
    VIEW_BLOCKS,
    People,
    clip,
    customer,
    day,
    deal_words,
    escape,
    more,
    mrkdwn_lines,
    name,
    quote_label,
    split,
    when,
)

MAX_WAITING = 10
WAITING_PER_PAGE = 10
"""Submissions waiting on a person per page of App Home (one request each, nearly always)."""
PLACEHOLDER_LIMIT = 150
MAX_QUOTES = 12


def _section(block_id: str, text: str, accessory: ButtonElement | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=clip(text, TEXT_LIMIT)), accessory=accessory)


def _waiting_text(
    sub: Submission, approval: Approval, people: People | None, zone: dt.tzinfo, now: dt.datetime | None
) -> str:
    quote = Quote(sub.heading())
    words = deal_words(quote)
    lines = [
        f"*{escape(customer(quote))}* · {escape(quote_label(quote))}" + (f" · *{escape(words)}*" if words else ""),
        f"`{escape(approval.rule)}` · "
        + _("from {who}", who=escape(name(sub.owner, people)))
        + (
            " · " + escape(_("requested {moment}", moment=when(approval.requested_at, zone, now)))
            if approval.requested_at
            else ""
        ),
        *(f"• {escape(reason)}" for reason in reasons_of(approval)),
    ]
    return mrkdwn_lines(lines)


def _quote_text(sub: Submission, people: People | None, zone: dt.tzinfo, now: dt.datetime | None) -> str:
    quote = Quote(sub.heading())
    words = deal_words(quote)
    head = f"*{escape(customer(quote))}* · {escape(quote_label(quote))}" + (f" · {escape(words)}" if words else "")
    if sub.status == "pending":
        requested = [a for a in sub.approvals if a.status == "requested"]
        holding = "; ".join(f"{group_text(a, people)} ({a.rule})" for a in requested) or _("the next step")
        since = min((a.requested_at for a in requested if a.requested_at), default=sub.submitted_at)
        state = ":hourglass_flowing_sand: " + _(
            "pending: with {people}, since {moment}", people=holding, moment=when(since, zone, now)
        )
    elif sub.status == "approved":
        state = ":white_check_mark: " + _("approved {moment}", moment=when(sub.decided_at, zone, now))
    elif sub.status == "rejected":
        state = ":x: " + _(
            "rejected {moment}: {reason}",
            moment=when(sub.decided_at, zone, now),
            reason=sub.comment or _("no reason given"),
        )
    elif sub.comment:
        state = ":leftwards_arrow_with_hook: " + _(
            "recalled {moment}: {reason}", moment=when(sub.decided_at, zone, now), reason=sub.comment
        )
    else:
        state = ":leftwards_arrow_with_hook: " + _("recalled {moment}", moment=when(sub.decided_at, zone, now))
    return mrkdwn_lines([head, escape(state)])


def _pager(page: int, pages: int) -> list[Block]:
    """'Page 2 of 5' and the buttons that turn to the page before and after (the first has no
    Previous, the last no Next)."""
    turns = []
    if page > 1:
        turns.append(ButtonElement(text=_("Previous page"), action_id=ids.HOME_PAGE_PREVIOUS, value=str(page - 1)))
    if page < pages:
        turns.append(ButtonElement(text=_("Next page"), action_id=ids.HOME_PAGE_NEXT, value=str(page + 1)))
    return [
        ContextBlock(
            block_id="home.waiting.page",
            elements=[MarkdownTextObject(text=_("Page {page} of {pages}", page=page, pages=pages))],
        ),
        ActionsBlock(block_id="home.waiting.pages", elements=turns),
    ]


def _ooo_blocks(
    ooo: Delegation | None,
    people: People | None,
    zone: dt.tzinfo,
    now: dt.datetime | None,
    windows: Sequence[Delegation] = (),
) -> list[Block]:
    if len(windows) > 1:
        lines = [_("You have {count} out-of-office windows:", count=len(windows))]
        lines += [
            "• "
            + _(
                "#{id} {start} to {end}: {who} decides",
                id=w.id,
                start=day(w.start),
                end=day(w.end),
                who=escape(name(w.delegate, people)),
            )
            for w in windows[:10]
        ]
        if len(windows) > 10:
            lines.append("_" + _("and {count} more: `/deal ooo` lists them all", count=len(windows) - 10) + "_")
        lines.append("_" + _("`/deal ooo replace N …` or `/deal ooo cancel N` changes one.") + "_")
        buttons = [
            ButtonElement(text=_("Add a window"), action_id=ids.OOO_OPEN, value="set"),
            ButtonElement(text=_("End out of office"), action_id=ids.OOO_END, value="end", style="danger"),
        ]
        return [
            _section("home.ooo.status", mrkdwn_lines(lines)),
            ActionsBlock(block_id="home.ooo.actions", elements=buttons),
        ]
    if ooo is None:
        text = _("You are not out of office. Set a delegate for when you are away.")
        buttons = [ButtonElement(text=_("Set out of office"), action_id=ids.OOO_OPEN, value="set")]
    else:
        today = now.astimezone(zone).date() if now is not None else None
        upcoming = today is not None and ooo.start > today
        who = escape(name(ooo.delegate, people))
        if upcoming:
            text = _(
                "You will be out of office from {start} to {end}: {who} decides for you.",
                start=day(ooo.start),
                end=day(ooo.end),
                who=who,
            )
        else:
            text = _(
                "You are out of office from {start} to {end}: {who} decides for you.",
                start=day(ooo.start),
                end=day(ooo.end),
                who=who,
            )
        buttons = [
            ButtonElement(text=_("Change"), action_id=ids.OOO_OPEN, value=f"change:{ooo.id}"),
            ButtonElement(text=_("End out of office"), action_id=ids.OOO_END, value="end", style="danger"),
        ]
    return [_section("home.ooo.status", text), ActionsBlock(block_id="home.ooo.actions", elements=buttons)]


def app_home(
    person: str,
    waiting_on_you: Sequence[tuple[Submission, Approval]],
    your_quotes: Sequence[Submission],
    ooo_status: Delegation | None,
    admin_overview: Sequence[Block] | None = None,
    *,
    people: People | None = None,
    zone: dt.tzinfo = dt.UTC,
    now: dt.datetime | None = None,
    waiting_total: int | None = None,
    ooo_windows: Sequence[Delegation] = (),
    page: int = 1,
    pages: int = 1,
) -> View:
    """The App Home of `person` (a people key).

    `waiting_on_you`: the open requests they may act on, oldest first, as (submission,
    approval); `your_quotes`: the latest submission of each of their quotes; `ooo_status`: their
    current or next delegation (None: not away); `admin_overview`: `approvers_overview(...)` for
    admins, None for everybody else. Request buttons carry numbered action ids (`ids.numbered`).
    `waiting_total` is how many requests wait in all, when only the first few were passed. With
    `pages` > 1, `waiting_on_you` is page `page` (from 1) of them, and Previous / Next turn it.
    """
    total = max(waiting_total or 0, len(waiting_on_you))
    blocks: list[Block] = [
        HeaderBlock(block_id="home.waiting.header", text=_("Waiting on you ({count})", count=total)),
    ]
    shown, hidden = split(list(waiting_on_you), MAX_WAITING)
    if pages == 1:
        hidden += total - len(waiting_on_you)
    if not shown:
        blocks.append(_section("home.waiting.none", _("Nothing is waiting on you.")))
    for index, (sub, approval) in enumerate(shown):
        blocks.append(_section(f"home.waiting.{index}", _waiting_text(sub, approval, people, zone, now)))
        blocks.append(
            ActionsBlock(
                block_id=f"home.waiting.{index}.actions",
                elements=request_buttons(ids.RequestRef.of(sub, approval), index),
            )
        )
    if hidden:
        blocks.append(more(hidden, _("requests: decide these first, or open them from your DMs"), "home.waiting.more"))
    if pages > 1:
        blocks += _pager(page, pages)
    blocks += [
        DividerBlock(block_id="home.quotes.divider"),
        HeaderBlock(block_id="home.quotes.header", text=_("Your quotes")),
    ]
    quotes, hidden = split(list(your_quotes), MAX_QUOTES)
    if not quotes:
        blocks.append(_section("home.quotes.none", _("You have no quotes in approval. `/deal submit Q-…` sends one.")))
    for index, sub in enumerate(quotes):
        blocks.append(_section(f"home.quotes.{index}", _quote_text(sub, people, zone, now)))
    if hidden:
        blocks.append(more(hidden, _("quotes: `/deal status Q-…` shows any of them"), "home.quotes.more"))
    blocks += [
        DividerBlock(block_id="home.ooo.divider"),
        HeaderBlock(block_id="home.ooo.header", text=_("Out of office")),
    ]
    blocks += _ooo_blocks(ooo_status, people, zone, now, ooo_windows)
    if admin_overview is not None:
        blocks += [
            DividerBlock(block_id="home.admin.divider"),
            HeaderBlock(block_id="home.admin.header", text=_("Approvers (admin)")),
        ]
        room = VIEW_BLOCKS - len(blocks)
        overview = list(admin_overview)
        if len(overview) > room:
            overview = [
                *overview[: room - 1],
                ContextBlock(
                    block_id="home.admin.more",
                    elements=[MarkdownTextObject(text="_" + _("The full list: `/deal approvers`") + "_")],
                ),
            ]
        blocks += overview
    return View(type="home", callback_id="home", blocks=blocks[:VIEW_BLOCKS])


def ooo_modal(
    start: dt.date | None = None,
    end: dt.date | None = None,
    delegate_slack_id: str | None = None,
    for_person: str | None = None,
    replacing: int | None = None,
) -> View:
    """Set an out-of-office: two dates (inclusive) and a delegate. `private_metadata` names the
    person it is for (empty: whoever submits it), or `replace:<id>`, the window it replaces."""
    start_block, start_action = ids.OOO_START
    end_block, end_action = ids.OOO_END_DATE
    delegate_block, delegate_action = ids.OOO_DELEGATE
    placeholder = clip(_("Who decides for you"), PLACEHOLDER_LIMIT)
    delegate = UserSelectElement(action_id=delegate_action, placeholder=placeholder)
    if delegate_slack_id:
        delegate = UserSelectElement(action_id=delegate_action, placeholder=placeholder, initial_user=delegate_slack_id)
    return View(
        type="modal",
        callback_id=ids.OOO_MODAL,
        title=clip(_("Out of office"), TITLE_LIMIT),
        submit=clip(_("Save"), BUTTON_LIMIT),
        close=clip(_("Cancel"), BUTTON_LIMIT),
        private_metadata=(f"replace:{replacing}" if replacing else for_person) or None,
        blocks=[
            InputBlock(
                block_id=start_block,
                label=_("First day away"),
                element=DatePickerElement(action_id=start_action, initial_date=start.isoformat() if start else None),
            ),
            InputBlock(
                block_id=end_block,
                label=_("Last day away"),
                element=DatePickerElement(action_id=end_action, initial_date=end.isoformat() if end else None),
            ),
            InputBlock(block_id=delegate_block, label=_("Delegate"), element=delegate),
            ContextBlock(
                block_id="ooo.note",
                elements=[
                    MarkdownTextObject(
                        text=_(
                            "Both days count, in your own time zone. Requests already waiting on you go to your"
                            " delegate too; you can still decide them yourself."
                        )
                    )
                ],
            ),
        ],
    )


__all__ = ["app_home", "ooo_modal"]
