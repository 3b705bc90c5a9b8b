"""Between the listeners and the views: runs `/deal` commands and gathers what each view shows.

The views (`bot.views`) are pure; this module reads the service for them and turns their
`slack_sdk.models` objects into the dicts the Web API takes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from domain import approvals as lifecycle
from domain import permissions
from domain.approvals import Approval, Submission
from domain.errors import Conflict, GreenlightError, NotAllowed, NotFound
from domain.events import Event, Kind
from domain.i18n import _, speaking
from domain.out_of_office import open_windows
from domain.policy import Policy
from domain.preview import build_preview
from domain.quote import Quote

from . import blockkit as bk
from . import commands as cmd
from . import views
from .deps import Deps
from .locales import SlackLocales
from .views.text import VIEW_BLOCKS, day


def dicts(blocks: list[Any]) -> list[dict[str, Any]]:
    return [b.to_dict() if hasattr(b, "to_dict") else b for b in blocks]


def answer(text: str, blocks: list[Any]) -> dict[str, Any]:
    return {"text": text, "blocks": dicts(blocks), "response_type": "ephemeral"}


def refusal(error: Exception | str, command_text: str = "") -> dict[str, Any]:
    if isinstance(error, cmd.UsageError):
        return answer(*views.usage_message(error))
    return answer(*views.refusal(str(error)))


class BlockRenderer:
    """What the outbox worker posts: request DMs, the rep's thread, reminders, alerts.

    What one person reads (their request, a reminder, a notice) is in their language; the rep's
    thread and the alerts, which several people read, are in the policy's.
    """

    def __init__(self, policy: Policy, locales: SlackLocales | None = None) -> None:
        self.policy = policy
        self.locales = locales

    async def prepare(self, person: str) -> None:
        """Learn `person`'s Slack locale (once in a while, not per message) before rendering for them."""
        if self.locales is not None:
            await self.locales.person_locale(self.policy, person)

    def for_person(self, person: str) -> contextlib.AbstractContextManager[str]:
        entry = self.policy.people.get(person)
        known = self.locales.known(entry.slack) if self.locales is not None and entry is not None else None
        return speaking(self.policy.person_locale(person, known))

    def for_all(self) -> contextlib.AbstractContextManager[str]:
        return speaking(self.policy.locale)

    def description(self, rule: str) -> str | None:
        found = next((r for r in self.policy.rules if r.name == rule), None)
        return found.description if found is not None else None

    def request(
        self,
        sub: Submission,
        approval: Approval,
        person: str,
        now: dt.datetime,
        holders: list[str] | None = None,
        acting_for: list[str] | None = None,
    ) -> tuple[str, list[dict[str, Any]]]:
        state = views.request_state(sub, approval, person, holders)
        with self.for_person(person):
            text, blocks = views.approval_request(
                sub,
                approval,
                None,
                self.policy.people,
                views.decisions(sub, approval),
                state,
                description=self.description(approval.rule),
                zone=self.policy.person_zone(person),
                now=now,
                acting_for=acting_for or (),
            )
            return text, blocks

    def thread_root(
        self, sub: Submission, holders: dict[str, list[str]] | None = None
    ) -> tuple[str, list[dict[str, Any]]]:
        with self.for_all():
            return views.status_message(sub, None, self.policy.people, holders, zone=self.policy.zone)

    def thread_line(self, event: Event, sub: Submission) -> tuple[str, list[dict[str, Any]]] | None:
        with self.for_all():
            return self._thread_line(event, sub)

    def _thread_line(self, event: Event, sub: Submission) -> tuple[str, list[dict[str, Any]]] | None:
        found = views.rep_thread_update(event, sub, self.policy.people, zone=self.policy.zone)
        if found is None:
            return None
        text, blocks = found
        blocks = list(blocks)
        if event.kind is Kind.QUOTE_APPROVED and self.policy.orders.generate == "button":
            button = bk.button(_("Generate orders"), "orders.generate", sub.quote_id, style="primary")
            blocks.append(bk.actions("orders.actions", [button]))
        return text, blocks

    def notice(self, event: Event, person: str) -> tuple[str, list[dict[str, Any]]]:
        from .views.notices import notice

        with self.for_person(person):
            text, blocks = notice(event, person, self.policy.people)
            return text, dicts(blocks)

    def reminder(self, sub: Submission, approval: Approval, person: str) -> str:
        with self.for_person(person):
            return views.escape(
                _("Reminder: {quote} still needs your decision on {rule}.", quote=sub.quote_id, rule=approval.rule)
            )

    def alert_resolved(self, event: Event) -> tuple[str, list[dict[str, Any]]]:
        with self.for_all():
            return _resolved(event)

    def alert(self, event: Event, sub: Submission | None) -> tuple[str, list[dict[str, Any]]]:
        with self.for_all():
            return self._alert(event, sub)

    def _alert(self, event: Event, sub: Submission | None) -> tuple[str, list[dict[str, Any]]]:
        if event.kind is Kind.EMAIL_FAILED:
            who = event.detail.get("person") or _("someone")
            text = _(
                "An email to {who} about {quote} could not be delivered: {why}",
                who=who,
                quote=event.quote_id or _("a quote"),
                why=event.comment,
            )
            blocks = [
                SectionBlock(
                    block_id="alert.text", text=MarkdownTextObject(text=f":rotating_light: {views.escape(text)}")
                ),
                ActionsBlock(
                    block_id="alert.actions",
                    elements=[
                        ButtonElement(
                            text=_("Retry"),
                            action_id="email.retry",
                            value=str(event.detail.get("outbox", "")),
                            style="primary",
                        ),
                    ],
                ),
            ]
            return alert_text(text), dicts(blocks)
        if event.kind is Kind.CRM_FAILED:
            text = _(
                "The CRM did not take a webhook about {quote}: {why}",
                quote=event.quote_id,
                why=event.comment or _("no detail"),
            )
            blocks = [
                SectionBlock(
                    block_id="alert.text", text=MarkdownTextObject(text=f":rotating_light: {views.escape(text)}")
                ),
                ActionsBlock(
                    block_id="alert.actions",
                    elements=[
                        ButtonElement(text=_("Retry"), action_id="crm.retry", value=event.quote_id, style="primary")
                    ],
                ),
            ]
            return alert_text(text), dicts(blocks)
        number = str(event.detail.get("order", ""))
        text = _(
            "ERP sync failed for order {order} of {quote}: {why}",
            order=number,
            quote=event.quote_id,
            why=event.comment or _("no detail"),
        )
        blocks = [
            SectionBlock(block_id="alert.text", text=MarkdownTextObject(text=f":rotating_light: {views.escape(text)}")),
            ActionsBlock(
                block_id="alert.actions",
                elements=[
                    ButtonElement(text=_("Retry"), action_id="erp.retry", value=number, style="primary"),
                ],
            ),
        ]
        return alert_text(text), dicts(blocks)


def _resolved(event: Event) -> tuple[str, list[dict[str, Any]]]:
    number = str(event.detail.get("order", ""))
    reference = event.detail.get("erp_reference")
    if reference:
        text = _(
            "Order {order} of {quote} reached the ERP (reference {reference}): nothing left to do.",
            order=number,
            quote=event.quote_id,
            reference=reference,
        )
    else:
        text = _("Order {order} of {quote} reached the ERP: nothing left to do.", order=number, quote=event.quote_id)
    block = SectionBlock(
        block_id="alert.text", text=MarkdownTextObject(text=f":white_check_mark: {views.escape(text)}")
    )
    return alert_text(text), dicts([block])


def alert_text(text: str) -> str:
    """An alert's push text: what came from outside (an SMTP or ERP error body) shown literally, clipped."""
    return views.top_text(views.escape(text))


async def holders_of(deps: Deps, sub: Submission) -> dict[str, list[str]]:
    ctx = deps.service.context(await deps.service.directory(deps.clock()), deps.clock())
    return {a.rule: lifecycle.assignees(ctx, sub, a) for a in sub.approvals if a.status == "requested"}


def _way(how: str) -> str:
    return {"slack": _("in Slack"), "email": _("by email"), "both": _("in Slack and by email")}.get(how, how)


def _name(person: str, policy: Policy) -> str:
    entry = policy.people.get(person)
    return entry.name if entry is not None and entry.name else person


def _person(ref: cmd.UserRef, policy: Policy) -> str:
    found = cmd.resolve_user(ref, policy)
    if found is None:
        raise NotFound(unknown_person(ref))
    return found


def unknown_person(ref: cmd.UserRef) -> str:
    """Why a person named in a command was refused (a mention is looked up by its Slack id alone)."""
    if ref.slack_id:
        # named as typed (`@zed`), never as a raw `<@U...>` the answer would show as markup
        if ref.name:
            who = _("@{name} (Slack id {id})", name=ref.name, id=ref.slack_id)
        else:
            who = _("The person with Slack id {id}", id=ref.slack_id)
        return _(
            "{who} is not in Greenlight's directory: an admin adds people to the "
            "policy's `people` with their Slack id; nothing was changed",
            who=who,
        )
    return _(
        "{who} is not in Greenlight's directory: mention the person with @ so Slack sends their id; "
        "nothing was changed",
        who=ref,
    )


def _received(quote: Quote | None) -> Quote:
    """The quote a quote command names (run_command has refused one the CRM never sent)."""
    if quote is None:
        raise NotFound(_("Greenlight has no such quote: the CRM has not sent it (check the id)"))
    return quote


async def desk_answer(
    deps: Deps, person: str, first: dt.date | None, last: dt.date | None, page: int
) -> dict[str, Any]:
    """The order desk's answer: orders across quotes due in the period (this week when none)."""
    from domain.order_service import DESK_PAGE

    from .orders_view import desk_message

    if first is None or last is None:
        first, last = deps.orders.this_week(deps.clock())
    orders, total = await deps.orders.due_between(person or "", first, last, page)
    return answer(*desk_message(orders, total, first, last, page, DESK_PAGE))


async def run_command(deps: Deps, command: Any, person: str) -> dict[str, Any]:
    """Carry out one parsed `/deal` command for `person`; returns the ephemeral answer."""
    policy, service, now = deps.policy, deps.service, deps.clock()
    is_admin = person in policy.admins
    quote_id: str = getattr(command, "quote_id", "")
    quote = await service.stored_quote(quote_id) if quote_id else None
    sub = await service.latest(quote_id) if quote_id else None
    if quote_id and quote is None:
        for guess in dict.fromkeys((quote_id.upper(), quote_id.lower())):
            if guess != quote_id and await service.stored_quote(guess) is not None:
                raise NotFound(
                    _(
                        "Greenlight has no quote {quote}; did you mean {guess}? Quote ids are written exactly as the"
                        " CRM sends them: `/deal {command} {guess}`",
                        quote=quote_id,
                        guess=guess,
                        command=command.name,
                    )
                )
        raise NotFound(_("Greenlight has no quote {quote}: the CRM has not sent it (check the id)", quote=quote_id))
    owner = lifecycle.owner_key(policy, quote) if quote is not None else None
    is_approver = bool(sub) and any(
        person in [s.holder for s in a.seats] + a.escalated_to
        for a in sub.approvals  # type: ignore[union-attr]
    )
    if not cmd.allowed(command, person, owner, is_admin, is_approver):
        raise NotAllowed(_("/deal {command} is for {who}", command=command.name, who=cmd.who_may(command.name)))

    if isinstance(command, cmd.Preview):
        directory = await service.directory(now)
        ctx = service.context(directory, now)
        return answer(*views.preview_message(build_preview(ctx, _received(quote), sub), policy))
    if isinstance(command, cmd.Submit):
        submitted, _events = await service.submit(quote_id, person, now, command.justification)
        directory = await service.directory(now)
        ctx = service.context(directory, now)
        before = await service.submission(quote_id, submitted.number - 1) if submitted.number > 1 else None
        return answer(*views.preview_message(build_preview(ctx, _received(quote), before), policy, submitted))
    if isinstance(command, cmd.Status):
        holders = await holders_of(deps, sub) if sub else None
        return answer(
            *views.status_message(sub, quote, policy.people, holders, zone=policy.person_zone(person), now=now)
        )
    if isinstance(command, cmd.Recall):
        await service.recall(quote_id, person, now)
        return answer(_("{quote} is recalled: its approvers were told.", quote=quote_id), [])
    if isinstance(command, cmd.OutOfOffice | cmd.OutOfOfficeReplace):
        delegate = _person(command.delegate, policy)
        if delegate == person:
            raise Conflict(_("You cannot be your own delegate: choose someone else to decide for you."))
        replacing = command.window if isinstance(command, cmd.OutOfOfficeReplace) else None
        await service.delegate(person, delegate, command.start, command.end, person, now, replacing=replacing)
        away = _(
            "You are away from {start} to {end}; {who} decides for you and has been told.",
            start=day(command.start),
            end=day(command.end),
            who=_name(delegate, policy),
        )
        if replacing:
            away = _("Window #{number} replaced: {what}", number=replacing, what=away)
        return answer(views.escape(away), [])
    if isinstance(command, cmd.OutOfOfficeList):
        return answer(*views.windows_message(await service.windows(person, now), policy.people))
    if isinstance(command, cmd.OutOfOfficeCancel):
        window = await service.cancel_window(person, command.window, person, now)
        return answer(
            views.escape(
                _(
                    "Window #{number} ({start} to {end}, {who}) is cancelled; they have been told.",
                    number=window.id,
                    start=day(window.start),
                    end=day(window.end),
                    who=_name(window.delegate, policy),
                )
            ),
            [],
        )
    if isinstance(command, cmd.OutOfOfficeOff):
        count = await service.end_delegation(person, person, now)
        return answer(_("Welcome back: your delegation is off.") if count else _("You had no delegation to end."), [])
    if isinstance(command, cmd.Delegate):
        who, to = _person(command.who, policy), _person(command.to, policy)
        await service.delegate(who, to, command.start, command.end, person, now)
        return answer(
            views.escape(
                _(
                    "{who} is away from {start} to {end}; {to} decides for them.",
                    who=_name(who, policy),
                    start=day(command.start),
                    end=day(command.end),
                    to=_name(to, policy),
                )
            ),
            [],
        )
    if isinstance(command, cmd.Replace | cmd.Replacements):
        from .replacement_answers import replacement_answer

        return await replacement_answer(deps, command, person)
    if isinstance(command, cmd.People):
        from store import people as people_store

        if command.person is None:
            return answer(*views.people_message(policy, await people_store.changes()))
        data: dict[str, Any] = {k: (v or None) for k, v in command.fields}
        manager = data.get("manager")
        if isinstance(manager, str):
            mention = cmd._MENTION.match(manager)
            data["manager"] = (policy.person_for(mention.group(1)) or manager) if mention else manager
        await people_store.change_person(policy, command.person, data, person, now)
        listed = ", ".join(f"{k} {v or _('(cleared)')}" for k, v in data.items())
        return answer(
            views.escape(
                _(
                    "{who} ({key}) is saved: {fields}. Recorded in the audit.",
                    who=_name(command.person, policy),
                    key=command.person,
                    fields=listed,
                )
            ),
            [],
        )
    if isinstance(command, cmd.Notify):
        from store import people as prefs

        entry = policy.people.get(person)
        if entry is None:
            raise NotAllowed(_("Only people in Greenlight's directory are reached by it: ask an admin to add you"))
        if command.how is None:
            how = await prefs.notify_of(person)
            return answer(
                views.escape(
                    _("Greenlight reaches you {how}. Change it: `/deal notify slack|email|both`.", how=_way(how))
                ),
                [],
            )
        if command.how in ("email", "both") and not entry.email:
            raise Conflict(_("You have no email address in Greenlight's directory: ask an admin to add one first"))
        if command.how in ("slack", "both") and not entry.slack:
            raise Conflict(_("You have no Slack id in Greenlight's directory: ask an admin to add it first"))
        await prefs.set_notify(person, command.how, now)  # type: ignore[arg-type]
        return answer(views.escape(_("Done: Greenlight now reaches you {how}.", how=_way(command.how))), [])
    if isinstance(command, cmd.Approvers):
        return answer(*views.approvers_message(policy, await service.directory(now), now))
    if isinstance(command, cmd.Orders):
        from .orders_view import orders_message

        return answer(*orders_message(await deps.orders.orders_of(quote_id), quote_id))
    if isinstance(command, cmd.OrdersDue):
        return await desk_answer(deps, person, command.start, command.end, 0)
    if isinstance(command, cmd.Account):
        from .orders_view import account_message

        at = command.at or now.astimezone(policy.zone).date()
        asker = person or ""  # someone outside the directory reads no account
        contracts, found, statuses = await deps.orders.account_with_status(command.account_id, at, asker)
        return answer(*account_message(command.account_id, at, contracts, found, statuses))
    if isinstance(command, cmd.PolicyReload):
        if deps.reload_policy is None:
            raise GreenlightError(_("the policy cannot be reloaded here: it needs the policy file and the store"))
        from .views.policy import policy_reloaded

        return answer(*policy_reloaded(*await deps.reload_policy(person)))
    if isinstance(command, cmd.Insights | cmd.PolicyDiff):
        from .insights_answers import insights_answer

        return await insights_answer(deps, command, person)
    raise GreenlightError(_("/deal {command} is not available", command=command.name))


async def home(deps: Deps, person: str | None) -> dict[str, Any]:
    """The person's App Home, in their language (whoever publishes it: a listener or the worker)."""
    if deps.locales is not None:
        locale = await deps.locales.person_locale(deps.policy, person)
    else:
        locale = deps.policy.person_locale(person)
    with speaking(locale):
        return await _home(deps, person)


async def waiting_page(deps: Deps, person: str, now: dt.datetime) -> tuple[list[tuple[Submission, str]], int, int, int]:
    """The page of what waits on `person` that they turned to (a page past the last, since requests
    were decided, is the last): its requests, how many submissions wait in all, the page, the pages.
    Reads one page and the count; a page past the end reads the last page once more."""
    per_page = views.WAITING_PER_PAGE
    page = deps.home_pages.get(person, 1)
    waiting, total = await deps.service.waiting_on(person, now, limit=per_page, offset=(page - 1) * per_page)
    pages = max(1, -(-total // per_page))
    if page > pages:
        page = pages
        waiting, total = await deps.service.waiting_on(person, now, limit=per_page, offset=(page - 1) * per_page)
        pages = max(1, -(-total // per_page))
    if page > 1:
        deps.home_pages[person] = page
    else:
        deps.home_pages.pop(person, None)
    return waiting, total, page, pages


async def _home(deps: Deps, person: str | None) -> dict[str, Any]:
    if person is None:
        view = views.app_home("", [], [], None, None)
        return view.to_dict()
    now = deps.clock()
    waiting, total, page, pages = await waiting_page(deps, person, now)
    pairs = [(sub, sub.approval(rule)) for sub, rule in waiting]
    quotes = await deps.service.quotes_of(person)
    directory = await deps.service.directory(deps.clock())
    today = now.astimezone(deps.policy.person_zone(person)).date()
    mine = open_windows(directory.delegations, person, today)
    ooo = mine[0] if mine else None
    overview = views.approvers_overview(deps.policy, directory, now) if person in deps.policy.admins else None
    view = views.app_home(
        person,
        pairs,
        quotes,
        ooo,
        overview,
        people=deps.policy.people,
        zone=deps.policy.person_zone(person),
        now=now,
        waiting_total=total,
        ooo_windows=mine,
        page=page,
        pages=pages,
    )
    shown = view.to_dict()
    if permissions.is_order_desk(deps.policy, person):
        from .orders_view import desk_home_blocks

        first, last = deps.orders.this_week(now)
        orders, due = await deps.orders.due_between(person, first, last, 0, per_page=5)
        blocks = shown["blocks"]
        at = next((i for i, b in enumerate(blocks) if b.get("block_id") == "home.admin.divider"), len(blocks))
        extra = dicts(desk_home_blocks(orders, due, first, last))
        shown["blocks"] = (blocks[:at] + extra + blocks[at:])[:VIEW_BLOCKS]
    return shown
