"""Slack messages from the outbox: every change reaches every copy of a request exactly once.

Each outbox row of topic `slack` is one domain event; `domain.reactions` says which Slack work
follows its kind (ask, update, remind, thread, alert). The worker turns it into Slack work, renders
from the *current* state (so a late delivery never shows stale buttons) and remembers every
message it posted (`slack_message`): a copy whose `ts` is known is updated, never posted again.
Slack failures leave the row for a later attempt: 429 after its `Retry-After`, connection errors
and 5xx with backoff. A person without a Slack id, or unreachable past the fallback time, gets an
`email` outbox row instead (the email worker sends it).

Updates are coalesced within a claimed batch (`batch`): when a later row of the batch will update
the same message (a request's copies, a thread root, a deal-channel root), an earlier row leaves
that update to it, so only the latest content is sent, in the order of the rows; the later row
renders the state as it is then, and if it fails it is retried like any row, so the latest content
is never lost. App Homes are republished once per person at the end of the batch, and at most once
a second per person (`HOME_EVERY`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from domain import approvals as lifecycle
from domain import out_of_office
from domain.approvals import Approval, Directory, Submission
from domain.events import Event, Kind, from_json
from domain.policy import Policy
from domain.reactions import Reaction, reactions
from domain.service import Approvals
from store import people as people_prefs
from store.outbox import Claimed, Outbox
from store.slack_messages import Posted, SlackMessages
from store.submissions import submissions_at

from .worker import Permanent, Retry, backoff

log = logging.getLogger("greenlight.slack")

# People wait for these messages: once Slack answers again, every row is tried within a minute.
SLACK_RETRY_CAP = 60.0
ROOT_WAIT = dt.timedelta(seconds=2)
"""How soon an event for a thread whose root another worker is posting is tried again."""
ROOT_CLAIM = dt.timedelta(minutes=2)
"""How long a claim on a thread root is honoured before another worker takes it over (its holder died)."""


class Renderer(Protocol):
    def request(
        self,
        sub: Submission,
        approval: Approval,
        person: str,
        now: dt.datetime,
        holders: list[str] | None = None,
        acting_for: list[str] | None = None,
    ) -> tuple[str, list[dict[str, Any]]]: ...
    def thread_root(
        self, sub: Submission, holders: dict[str, list[str]] | None = None
    ) -> tuple[str, list[dict[str, Any]]]: ...
    def thread_line(self, event: Event, sub: Submission) -> tuple[str, list[dict[str, Any]]] | None: ...
    def reminder(self, sub: Submission, approval: Approval, person: str) -> str: ...
    def notice(self, event: Event, person: str) -> tuple[str, list[dict[str, Any]]]: ...
    def alert(self, event: Event, sub: Submission | None) -> tuple[str, list[dict[str, Any]]]: ...
    def alert_resolved(self, event: Event) -> tuple[str, list[dict[str, Any]]]: ...
    async def prepare(self, person: str) -> None:
        """Learn what the renderer needs to know of `person` (their language) before rendering for them."""


RECIPIENT_GONE = frozenset(
    {
        "user_not_found",
        "users_not_found",
        "user_disabled",
        "account_inactive",
        "channel_not_found",
        "is_archived",
        "message_not_found",
        "cant_update_message",
        "cannot_dm_bot",
        "messages_tab_disabled",
    }
)
"""`ok: false` errors about one person or one message: the rest of an event is still delivered."""


def refused_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    if not isinstance(error, SlackApiError) or response is None or getattr(response, "status_code", 0) != 200:
        return None
    code = response.get("error")
    return code if code in RECIPIENT_GONE else None


BROADCAST = frozenset({Kind.QUOTE_APPROVED, Kind.QUOTE_REJECTED, Kind.QUOTE_CHANGED})
"""Thread lines that tell the rep the outcome (or ask them to act) go to the channel too, so they notify."""

OUTCOMES = frozenset({Kind.QUOTE_APPROVED, Kind.QUOTE_REJECTED})


@dataclass(frozen=True)
class Updater:
    """The last row of a batch that updates a message, and whether it is an outcome (a rep who
    reads outcomes by email only gets no thread update from it)."""

    row: int
    outcome: bool = False


def last_updaters(rows: list[Claimed]) -> dict[tuple[str, str, int, str], Updater]:
    """For each message a batch's rows update, the last row that certainly does: keyed by
    ("copies", quote, submission, rule), ("root", quote, submission) and ("deal", quote, submission)."""
    last: dict[tuple[str, str, int, str], Updater] = {}
    for row in sorted(rows, key=lambda r: r.id):
        try:
            event = from_json(row.payload)
        except (KeyError, TypeError, ValueError):
            continue
        if not event.quote_id or not event.submission:
            continue
        wanted = reactions(event.kind)
        if Reaction.UPDATE in wanted and event.rule:
            last[("copies", event.quote_id, event.submission, event.rule)] = Updater(row.id)
        if Reaction.THREAD in wanted:
            last[("root", event.quote_id, event.submission, "")] = Updater(row.id, event.kind in OUTCOMES)
            last[("deal", event.quote_id, event.submission, "")] = Updater(row.id)
    return last


def batch_refs(rows: list[Claimed]) -> list[tuple[str, int]]:
    """The submissions (quote id, number) a batch's rows are about, in order of first mention."""
    refs: dict[tuple[str, int], None] = {}
    for row in rows:
        try:
            event = from_json(row.payload)
        except (KeyError, TypeError, ValueError):
            continue
        if event.quote_id and event.submission:
            refs[(event.quote_id, event.submission)] = None
    return list(refs)


HOME_EVERY = 1.0
"""Seconds at least between two publications of one person's App Home by delivery. A person whose
pending list changes at every batch (an approver with a queue, a rep whose quotes are being decided)
has it rendered and published once a second, showing all that changed meanwhile, instead of once per
batch: `views.publish` is a Tier 3 method (about 50 calls a minute), and the rendering costs a
delivery as much as a few messages. What is shown is never older than that, and a Home being opened
is rendered at once (`bot/listeners/home.py`)."""

LANES = 4
"""Quotes of a batch delivered at once (`Worker.lanes`): each quote's rows still go in order."""


def lane_of(row: Claimed) -> str:
    """What must stay in order: the messages of one quote (its request copies, its thread)."""
    quote_id = row.payload.get("quote_id") if isinstance(row.payload, dict) else None
    return f"quote:{quote_id}" if quote_id else f"row:{row.id}"


@dataclass
class SlackDelivery:
    client: AsyncWebClient
    policy: Policy
    service: Approvals
    outbox: Outbox
    renderer: Renderer
    clock: Callable[[], dt.datetime]
    fallback_after: dt.timedelta = dt.timedelta(minutes=15)
    email_on: bool = True
    messages: SlackMessages = dataclasses.field(default_factory=SlackMessages)
    home: Callable[[str], Awaitable[dict[str, Any]]] | None = None
    """The App Home view of a person (a people key), to republish when their pending list changed."""
    home_every: float = HOME_EVERY
    """Seconds at least between two publications of one person's App Home by delivery (see HOME_EVERY)."""

    def __post_init__(self) -> None:
        self._channels: dict[str, str] = {}
        self._paused_until: dt.datetime | None = None
        self._directory: Directory | None = None
        self._updaters: dict[tuple[str, str, int, str], Updater] = {}
        self._homes_due: dict[str, None] | None = None
        self._subs: dict[tuple[str, int], Submission] | None = None
        self._prefs: dict[str, people_prefs.Notify] | None = None
        self._homes_published: dict[str, float] = {}
        """When (the event loop's clock) each person's App Home was last published by delivery."""
        self._homes_later: dict[str, asyncio.Task[None]] = {}
        """App Homes to publish once `home_every` has passed since their last publication."""

    @asynccontextmanager
    async def batch(self, rows: list[Claimed]) -> AsyncIterator[None]:
        """Deliver `rows` (one claimed batch, in id order) with their updates coalesced, reading what
        they need at once: their submissions (one statement), the messages posted for them, how
        people chose to be reached and the directory. The submissions are as committed when the
        batch starts, which is at least as new as every event of the batch; a later change queues
        rows of its own, rendered from the state it left."""
        self._updaters, self._homes_due = last_updaters(rows), {}
        refs = batch_refs(rows)
        try:
            self._subs = await submissions_at(refs)
            await self.messages.preload([f"{quote_id}#{number}" for quote_id, number in refs])
            self._prefs = await people_prefs.notify_all()
            self._directory = None
            yield
            homes = list(self._homes_due)
        finally:
            self._updaters, self._homes_due = {}, None
            self._subs, self._prefs, self._directory = None, None, None
            self.messages.forget()
        for person in homes:
            await self._home_changed(person)

    def _later(self, what: str, sub: Submission, row: Claimed, rule: str = "") -> Updater | None:
        """The later row of this batch that will update this message again, if any."""
        updater = self._updaters.get((what, sub.quote_id, sub.number, rule))
        return updater if updater is not None and updater.row > row.id else None

    def use_policy(self, policy: Policy, renderer: Renderer) -> None:
        """Address with `policy` and render with `renderer` from now on (a live policy change)."""
        self.policy, self.renderer = policy, renderer

    def slack_id(self, person: str) -> str | None:
        entry = self.policy.people.get(person)
        return entry.slack if entry and entry.slack else None

    async def deliver(self, row: Claimed) -> None:
        """Do the Slack work for one event row; raises Retry or Permanent when it cannot finish now."""
        if self._paused_until is not None and self.clock() < self._paused_until:
            raise Retry(self._paused_until, "waiting out Slack's Retry-After")
        if self._subs is None:  # outside a batch: the directory as it is now (a batch reads it once)
            self._directory = None
        event = from_json(row.payload)
        wanted = reactions(event.kind)
        if event.kind in (Kind.EMAIL_FAILED, Kind.CRM_FAILED):
            for admin in self.policy.admins:
                await self._alert(admin, event, None, row)
            return
        if Reaction.NOTICE in wanted:
            try:
                for person in out_of_office.notice_recipients(event):
                    await self._notice(person, event, row)
            except SlackApiError as error:
                raise self._classify(error, row) from error
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                raise Retry(
                    self.clock() + backoff(row.attempts, cap=SLACK_RETRY_CAP), f"Slack unreachable: {error!r}"
                ) from error
            return
        if not event.quote_id:
            return
        if event.submission == 0 and event.kind.startswith("order_"):
            latest = await self.service.latest(event.quote_id)
            event = dataclasses.replace(event, submission=latest.number if latest else 0)
        if event.submission == 0:
            return
        sub = await self._submission(event.quote_id, event.submission)
        if sub is None:
            return
        approval = sub.find(event.rule) if event.rule else None
        try:
            if approval is not None and Reaction.ASK in wanted:
                for person in event.people:
                    await self._ensure_request(sub, approval, person, row)
            updated_later = approval is not None and self._later("copies", sub, row, approval.rule)
            if approval is not None and Reaction.UPDATE in wanted and not updated_later:
                await self._update_copies(sub, approval)
            if approval is not None and Reaction.REMIND in wanted:
                for person in event.people:
                    await self._remind(sub, approval, person, row)
            if Reaction.THREAD in wanted:
                await self._thread(event, sub, row)
                await self._deal_channel(event, sub, row)
            if Reaction.ALERT in wanted:
                for admin in self.policy.admins:
                    await self._alert(admin, event, sub, row)
            if event.kind is Kind.ORDER_SYNCED:
                await self._resolve_alerts(event, sub)
            if approval is not None and (Reaction.ASK in wanted or Reaction.UPDATE in wanted):
                await self._republish_homes(event, sub, approval)
        except SlackApiError as error:
            raise self._classify(error, row) from error
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            wait = backoff(row.attempts, cap=SLACK_RETRY_CAP)
            raise Retry(self.clock() + wait, f"Slack unreachable: {error!r}") from error

    def _classify(self, error: SlackApiError, row: Claimed) -> Exception:
        status = getattr(error.response, "status_code", 0)
        if status == 429:
            wait = int(error.response.headers.get("Retry-After", error.response.headers.get("retry-after", 1)) or 1)
            # Every call waits, not only this one: the rest of the batch would get 429s too.
            self._paused_until = self.clock() + dt.timedelta(seconds=wait)
            return Retry(self._paused_until, "Slack rate limit (429)")
        if status >= 500 or status == 0:
            return Retry(self.clock() + backoff(row.attempts, cap=SLACK_RETRY_CAP), f"Slack answered {status}")
        code = error.response.get("error") if error.response is not None else None
        if code in ("ratelimited", "service_unavailable", "fatal_error", "internal_error", "request_timeout"):
            return Retry(self.clock() + backoff(row.attempts, cap=SLACK_RETRY_CAP), f"Slack error {code}")
        return Permanent(f"Slack refused: {code or status}")

    async def _holders(self, sub: Submission) -> dict[str, list[str]]:
        if not any(a.status == "requested" for a in sub.approvals):
            return {}
        if self._directory is None:  # read once per event row, not once per message
            self._directory = await self.service.directory(self.clock())
        ctx = self.service.context(self._directory, self.clock())
        return {a.rule: lifecycle.assignees(ctx, sub, a) for a in sub.approvals if a.status == "requested"}

    async def _acting_for(self, sub: Submission, approval: Approval, person: str) -> list[str]:
        """Whom `person` stands in for on this request (said in its header)."""
        if approval.status != "requested":
            return []
        if self._directory is None:
            self._directory = await self.service.directory(self.clock())
        ctx = self.service.context(self._directory, self.clock())
        return lifecycle.acting_for(ctx, sub, approval, person)

    async def dm_channel(self, slack_id: str) -> str:
        """The app's DM with a person (opened once, then remembered)."""
        channel = self._channels.get(slack_id)
        if channel is None:
            answer = await self.client.conversations_open(users=slack_id)
            channel = answer["channel"]["id"]
            self._channels[slack_id] = channel
        return channel

    async def _known(self, key: str, sub: Submission | None = None) -> Posted | None:
        """The message of `key`; with its submission, a batch answers from the messages it read at once."""
        return await self.messages.find(key, sub.ref if sub is not None else None)

    async def _notify_of(self, person: str) -> str:
        """How `person` is reached (read once per batch)."""
        if self._prefs is not None:
            return self._prefs.get(person, "slack")
        return await people_prefs.notify_of(person)

    async def _submission(self, quote_id: str, number: int) -> Submission | None:
        if self._subs is not None and (quote_id, number) in self._subs:
            return self._subs[(quote_id, number)]
        return await self.service.submission(quote_id, number)

    async def _remember(
        self, key: str, person: str, channel: str, ts: str, sub: Submission, rule: str | None, kind: str
    ) -> Posted:
        return await self.messages.add(key, person, channel, ts, sub.ref, rule, kind, self.clock())

    async def _email(self, kind: str, person: str, sub: Submission, rule: str | None, row: Claimed) -> None:
        if not self.email_on:
            log.warning("%s has no way to be reached for %s of %s: no Slack id and email is off", person, kind, sub.ref)
            return
        await self.outbox.add(
            "email",
            f"email:{kind}:{sub.ref}:{rule}:{person}:{row.id}",
            {"kind": kind, "person": person, "quote_id": sub.quote_id, "submission": sub.number, "rule": rule},
            self.clock(),
        )

    def _has_email(self, person: str) -> bool:
        entry = self.policy.people.get(person)
        return self.email_on and entry is not None and bool(entry.email)

    def _past_fallback(self, row: Claimed) -> bool:
        """Slack has been failing for this row long enough to reach people by email instead."""
        return self.email_on and self.clock() - row.created_at >= self.fallback_after

    async def _ensure_request(self, sub: Submission, approval: Approval, person: str, row: Claimed) -> None:
        slack_id = self.slack_id(person)
        how = await self._notify_of(person)
        if how in ("email", "both") and self._has_email(person):
            await self._email("request", person, sub, approval.rule, row)
            if how == "email":
                return
        if slack_id is None:
            if how == "slack":
                await self._email("request", person, sub, approval.rule, row)
            return
        key = f"request:{sub.ref}/{approval.rule}:{person}"
        if await self._known(key, sub) is not None:
            await self._update_copies(sub, approval)
            return
        try:
            channel = await self.dm_channel(slack_id)
            holders = (await self._holders(sub)).get(approval.rule)
            for_whom = await self._acting_for(sub, approval, person)
            await self.renderer.prepare(person)
            text, blocks = self.renderer.request(sub, approval, person, self.clock(), holders, for_whom)
            answer = await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as error:
            # Slack refused this one person for good: the rest of the event is still delivered
            # (by email when it is on; otherwise _email says who could not be reached)
            if self._past_fallback(row) or refused_code(error):
                await self._email("request", person, sub, approval.rule, row)
                return
            raise
        await self._remember(key, person, answer["channel"], answer["ts"], sub, approval.rule, "request")

    async def _update_copies(self, sub: Submission, approval: Approval) -> None:
        rows = await self.messages.copies(sub.ref, approval.rule)
        holders = (await self._holders(sub)).get(approval.rule) if rows else None
        for message in rows:
            for_whom = await self._acting_for(sub, approval, message.person)
            await self.renderer.prepare(message.person)
            text, blocks = self.renderer.request(sub, approval, message.person, self.clock(), holders, for_whom)
            try:
                await self.client.chat_update(channel=message.channel, ts=message.ts, text=text, blocks=blocks)
            except SlackApiError as error:
                if not refused_code(error):
                    raise
                log.warning(
                    "copy of %s/%s for %s not updated: %s", sub.ref, approval.rule, message.person, refused_code(error)
                )

    async def _remind(self, sub: Submission, approval: Approval, person: str, row: Claimed) -> None:
        original = await self._known(f"request:{sub.ref}/{approval.rule}:{person}", sub)
        key = f"reminder:{row.id}:{person}"
        if original is None or await self._known(key, sub) is not None:
            if original is None:
                await self._email("reminder", person, sub, approval.rule, row)
            return
        await self.renderer.prepare(person)
        text = self.renderer.reminder(sub, approval, person)
        # broadcast: a reply only in a thread may never push to a phone (a reminder must be seen)
        answer = await self.client.chat_postMessage(
            channel=original.channel, thread_ts=original.ts, text=text, reply_broadcast=True
        )
        await self._remember(key, person, original.channel, answer["ts"], sub, approval.rule, "reminder")
        entry = self.policy.people.get(person)
        if entry is not None and entry.email:
            await self._email("reminder", person, sub, approval.rule, row)

    async def _thread(self, event: Event, sub: Submission, row: Claimed) -> None:
        owner = sub.owner
        slack_id = self.slack_id(owner)
        outcome = event.kind in (Kind.QUOTE_APPROVED, Kind.QUOTE_REJECTED)
        if slack_id is not None and outcome and self._has_email(owner):
            how = await self._notify_of(owner)
            if how in ("email", "both"):
                await self._email("decision", owner, sub, None, row)
                if how == "email":
                    return
        if slack_id is None:
            if event.kind in (Kind.QUOTE_APPROVED, Kind.QUOTE_REJECTED):
                await self._email("decision", owner, sub, None, row)
            return
        root_key = f"thread:{sub.ref}"
        root = await self._known(root_key, sub)
        if root is None or not root.ts:
            root = await self._post_root(root_key, root is not None, slack_id, sub, await self._holders(sub))
        elif not await self._root_updated_later(sub, row):
            text, blocks = self.renderer.thread_root(sub, await self._holders(sub))
            await self.client.chat_update(channel=root.channel, ts=root.ts, text=text, blocks=blocks)
        if event.kind is Kind.SUBMITTED:
            return
        key = f"thread-line:{row.key}"
        if await self._known(key, sub) is not None:
            return
        line = self.renderer.thread_line(event, sub)
        if line is None:
            return
        text, blocks = line
        answer = await self.client.chat_postMessage(
            channel=root.channel,
            thread_ts=root.ts,
            text=text,
            blocks=blocks,
            reply_broadcast=event.kind in BROADCAST,
        )
        await self._remember(key, owner, root.channel, answer["ts"], sub, event.rule, "thread-line")

    async def _root_updated_later(self, sub: Submission, row: Claimed) -> bool:
        """A later row of the batch updates the rep's thread root (an outcome does not when the
        rep reads outcomes by email only)."""
        later = self._later("root", sub, row)
        if later is None:
            return False
        if not later.outcome or not self._has_email(sub.owner):
            return True
        return await self._notify_of(sub.owner) != "email"

    async def _republish_homes(self, event: Event, sub: Submission, approval: Approval) -> None:
        """Home is a copy of each person's pending list too: republish it for everyone whose list
        this event changed (the people who may act on the approval, who acted, who was moved)."""
        if self.home is None:
            return
        people = [s.holder for s in approval.seats] + [s.member for s in approval.seats]
        people += [s.voted_by for s in approval.seats if s.voted_by] + list(approval.escalated_to)
        if self._directory is None:
            self._directory = await self.service.directory(self.clock())
        ctx = self.service.context(self._directory, self.clock())
        people += lifecycle.assignees(ctx, sub, approval)
        people += [*event.people, event.actor or "", event.on_behalf_of or "", str(event.detail.get("old") or "")]
        people.append(sub.owner)  # "Your quotes" shows where the quote stands
        for person in dict.fromkeys(p for p in people if p):
            if self._homes_due is not None:
                self._homes_due[person] = None  # published once, at the end of the batch
            else:
                await self._home_changed(person)

    async def _home_changed(self, person: str) -> None:
        """Publish PERSON's App Home now, or `home_every` after its last publication if that was more
        recent: the changes of a busy moment are published once, as they stand then."""
        if person in self._homes_later:
            return  # already due: it shows what is there when it is rendered
        loop = asyncio.get_running_loop()
        wait = self._homes_published.get(person, -math.inf) + self.home_every - loop.time()
        if wait <= 0:
            await self._publish_home(person)
        else:
            self._homes_later[person] = loop.create_task(self._publish_home_later(person, wait))

    async def _publish_home_later(self, person: str, wait: float) -> None:
        await asyncio.sleep(wait)
        del self._homes_later[person]  # a change during the rendering below asks for the next one
        try:
            await self._publish_home(person)
        except Exception:  # nobody awaits this task: what failed is said here
            log.exception("App Home of %s not republished", person)

    @property
    def homes_waiting(self) -> tuple[str, ...]:
        """The people whose App Home waits for `home_every` to pass before it is published."""
        return tuple(self._homes_later)

    async def close(self) -> None:
        """Drop the App Home publications still waiting (a stale Home is rendered afresh when opened)."""
        waiting = list(self._homes_later.values())
        self._homes_later.clear()
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)

    async def _publish_home(self, person: str) -> None:
        slack_id = self.slack_id(person)
        if slack_id is None or self.home is None:
            return
        self._homes_published[person] = asyncio.get_running_loop().time()
        try:
            await self.client.views_publish(user_id=slack_id, view=await self.home(person))
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as error:
            # the DMs are the copies that must be right; a stale Home is fixed when it is opened
            log.warning("App Home of %s not republished: %r", person, error)

    async def _notice(self, person: str, event: Event, row: Claimed) -> None:
        """Tell one person of a delegation or replacement, once (a DM; email without Slack)."""
        key = f"notice:{row.key}:{person}"
        if await self._known(key) is not None:
            return
        await self.renderer.prepare(person)
        text, blocks = self.renderer.notice(event, person)
        slack_id = self.slack_id(person)
        entry = self.policy.people.get(person)
        if slack_id is None:
            if self.email_on and entry is not None and entry.email:
                await self.outbox.add(
                    "email",
                    f"email:notice:{row.key}:{person}",
                    {
                        "kind": "alert",
                        "person": entry.email,
                        "subject": "Greenlight: who decides approvals has changed",
                        "headline": "Who decides approvals has changed",
                        "detail": text,
                    },
                    self.clock(),
                )
            await self.messages.add(key, person, "-", "-", "-", None, "notice", self.clock())
            return
        channel = await self.dm_channel(slack_id)
        answer = await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        await self.messages.add(key, person, answer["channel"], answer["ts"], "-", None, "notice", self.clock())

    async def _deal_channel(self, event: Event, sub: Submission, row: Claimed) -> None:
        """The policy's deal channel: one thread per submission, the same lines as the rep's thread."""
        channel = self.policy.deal_channel
        if channel is None:
            return
        root_key = f"deal-thread:{sub.ref}"
        root = await self._known(root_key, sub)
        try:
            if root is None:
                text, blocks = self.renderer.thread_root(sub, await self._holders(sub))
                answer = await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
                root = await self._remember(root_key, sub.owner, answer["channel"], answer["ts"], sub, None, "deal")
            elif not self._later("deal", sub, row):
                text, blocks = self.renderer.thread_root(sub, await self._holders(sub))
                await self.client.chat_update(channel=root.channel, ts=root.ts, text=text, blocks=blocks)
            key = f"deal-line:{row.key}"
            if event.kind is Kind.SUBMITTED or await self._known(key, sub) is not None:
                return
            line = self.renderer.thread_line(event, sub)
            if line is None:
                return
            text, blocks = line
            blocks = [b for b in blocks if b.get("type") != "actions"]  # buttons stay with the rep
            answer = await self.client.chat_postMessage(
                channel=root.channel, thread_ts=root.ts, text=text, blocks=blocks
            )
            await self._remember(key, sub.owner, root.channel, answer["ts"], sub, event.rule, "deal-line")
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else None
            if code in ("not_in_channel", "channel_not_found", "is_archived"):
                log.warning("deal channel %s refused the thread of %s: %s (invite the app)", channel, sub.ref, code)
                return
            raise

    async def _post_root(
        self, key: str, claimed: bool, slack_id: str, sub: Submission, holders: dict[str, list[str]]
    ) -> Posted:
        """Post the rep's thread root exactly once across workers and processes: claim its key first;
        a worker that finds it claimed tries again shortly, when the root is there to reply to."""
        now = self.clock()
        if claimed:
            mine = await self.messages.take_over(key, now - ROOT_CLAIM, now)
        else:
            mine = await self.messages.claim(key, sub.owner, sub.ref, "thread", now)
        if not mine:
            raise Retry(now + ROOT_WAIT, f"the thread root of {sub.ref} is being posted by another worker")
        try:
            channel = await self.dm_channel(slack_id)
            text, blocks = self.renderer.thread_root(sub, holders)
            answer = await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        except BaseException:
            await self.messages.release(key)
            raise
        return await self.messages.fill(key, answer["channel"], answer["ts"])

    async def _alert(self, admin: str, event: Event, sub: Submission | None, row: Claimed) -> None:
        slack_id = self.slack_id(admin)
        key = f"alert:{row.key}:{admin}"
        if slack_id is None:
            if sub is not None and event.kind is not Kind.EMAIL_FAILED:
                await self._email("alert", admin, sub, None, row)
            return
        if await self._known(key) is not None:
            return
        channel = await self.dm_channel(slack_id)
        text, blocks = self.renderer.alert(event, sub)
        answer = await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        ref = sub.ref if sub else event.quote_id or "-"
        about = str(event.detail["order"]) if event.detail.get("order") else None  # found again once synced
        await self.messages.add(key, admin, answer["channel"], answer["ts"], ref, about, "alert", self.clock())

    async def _resolve_alerts(self, event: Event, sub: Submission) -> None:
        """The ERP took an order the admins were alerted about: each alert says so, its Retry gone."""
        number = str(event.detail.get("order") or "")
        if not number:
            return
        text, blocks = self.renderer.alert_resolved(event)
        for posted in await self.messages.copies(sub.ref, number, "alert"):
            await self.client.chat_update(channel=posted.channel, ts=posted.ts, text=text, blocks=blocks)
