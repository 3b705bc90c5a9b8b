"""The sandbox: a browser client on 127.0.0.1 that plays Slack for the bot, with its mail and its ERP.

    GET  /                          the client: plain HTML, CSS and JS modules from static/ (no build step)
    GET  /api/meta                  the people of the policy with their roles, which panels exist, the clock
    GET  /api/people/{key}          what one person sees: DMs and threads, ephemerals, App Home, open modals
    POST /api/people/{key}/command  {"text": "/deal submit Q-1042"}: a slash command, signed as Slack signs
    POST /api/people/{key}/act      a click on a button, overflow, select or date picker of a message or view
    POST /api/people/{key}/submit   {"view_id", "values"}: a modal submitted; answers the app's field errors
    POST /api/people/{key}/close    {"view_id"}: a modal's Cancel
    POST /api/people/{key}/home     the App Home tab opened (app_home_opened)
    POST /api/people/{key}/language {"language": "fr"}: the person reads another language from now on
                                    (their Slack locale in `users.info`, and their `locale` in the policy)
    GET  /api/events                server-sent events: `change` whenever what is shown may have changed
    GET  /api/mail · GET /mail/{id} the mailbox, and one email's HTML part (sandboxed, no scripts)
    GET  /api/erp · POST /api/erp   the orders the ERP stand-in received; make it fail to show retries
    GET  /api/crm · POST /api/crm   the example quotes; send one to the bot's quote API, signed like the CRM;
                                    and the webhooks the bot sent the CRM (crm-v1 §6)
    POST /api/clock                 move the demo clock forward (reminders, escalations, order releases)

Everything the browser does reaches the bot through `SlackDriver`, exactly as Slack would send it;
what the bot sends back lands in the `SlackStandIn`, which this page shows. Only JSON posts from
this page's own origin are accepted (a web page elsewhere cannot drive it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html import escape as html_escape
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlencode, urlsplit

import aiohttp
from aiohttp import web

from domain import i18n
from domain.policy import Policy
from greenlight import signing
from sandbox.crm_receiver import CrmReceiver
from sandbox.driver import HONEST, DriverResponse, SlackDriver
from sandbox.erp import ErpStandIn
from sandbox.mailbox import Mailbox
from sandbox.slack_api import JSON, Ephemeral, Message, SlackStandIn

STATIC = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"
)
MAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)
SELECTABLE = {
    "static_select": "selected_option",
    "external_select": "selected_option",
    "overflow": "selected_option",
    "radio_buttons": "selected_option",
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "multi_static_select": "selected_options",
    "multi_users_select": "selected_users",
    "checkboxes": "selected_options",
}
ROLE_ORDER = ("rep", "approver", "admin")
TEXT_MAIL_STYLE = "white-space:pre-wrap;font:14px/1.4 monospace;margin:12px"


# ---------------------------------------------------------------- who is who


@dataclass(frozen=True)
class Member:
    """A person of the policy as the sandbox lists them."""

    key: str
    name: str
    slack_id: str | None
    email: str | None
    roles: tuple[str, ...]
    timezone: str
    language: str = i18n.DEFAULT_LOCALE

    def as_json(self) -> JSON:
        return {
            "key": self.key,
            "name": self.name,
            "slack_id": self.slack_id,
            "email": self.email,
            "roles": list(self.roles),
            "timezone": self.timezone,
            "language": self.language,
        }


def members_of(policy: Policy, owners: Iterable[str] = ()) -> list[Member]:
    """Everyone in the policy with their roles: rep (owns a quote), approver (named by an approver,
    a rule, or someone's manager), admin. Ordered reps first, then approvers, then the rest."""
    approvers: set[str] = set()
    for definition in policy.approvers.values():
        approvers.update([definition.user] if definition.user else definition.group or [])
    approvers.update(rule.approver for rule in policy.rules if rule.approver in policy.people)
    approvers.update(person.manager for person in policy.people.values() if person.manager)
    if policy.fallback_approver in policy.people:
        approvers.add(policy.fallback_approver)
    reps = {policy.person_for(owner) or owner for owner in owners}
    members = []
    for key, person in policy.people.items():
        roles = tuple(
            role
            for role, holds in (("rep", key in reps), ("approver", key in approvers), ("admin", key in policy.admins))
            if holds
        )
        members.append(
            Member(
                key,
                person.name or key,
                person.slack,
                person.email,
                roles,
                person.timezone or policy.timezone,
                policy.person_locale(key),
            )
        )
    rank = {role: index for index, role in enumerate(ROLE_ORDER)}
    return sorted(members, key=lambda m: (min((rank[r] for r in m.roles), default=len(rank)), m.name))


# ---------------------------------------------------------------- the demo clock


class DemoClock:
    """The bot's clock: real time from a starting moment, and moved forward on request."""

    def __init__(self, start: dt.datetime | None = None, zone: Any = dt.UTC) -> None:
        self.offset = (start - dt.datetime.now(dt.UTC)) if start is not None else dt.timedelta(0)
        self.zone = zone
        self._offsets: list[tuple[float, dt.timedelta]] = [(0.0, self.offset)]

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, delta: dt.timedelta) -> None:
        if delta <= dt.timedelta(0):
            raise ValueError("the demo clock only moves forward")
        self.offset += delta
        self._offsets.append((time.time(), self.offset))

    def at(self, real: float) -> dt.datetime:
        """The demo time it was at the real moment `real` (Unix seconds), e.g. a message's ts."""
        offset = next(offset for since, offset in reversed(self._offsets) if since <= real)
        return dt.datetime.fromtimestamp(real, dt.UTC) + offset


# ---------------------------------------------------------------- the ERP, watched


class SandboxErp(ErpStandIn):
    """The ERP stand-in on the demo clock, telling the page of every delivery attempt and its answer."""

    def __init__(self, secret: str, now: Callable[[], dt.datetime] | None = None, **kwargs: Any) -> None:
        if now is not None:
            kwargs["clock"] = lambda: now().timestamp()
        super().__init__(secret, **kwargs)
        self.last_status: dict[str, int] = {}
        self.references: dict[str, str] = {}
        self.accepted_on: dict[str, int] = {}
        self._listeners: list[Callable[[str], None]] = []

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        super().fail_next(status, times, retry_after)
        self._tell()

    def refuse(self, status: int | None) -> None:
        super().refuse(status)
        self._tell()

    def recover(self) -> None:
        """Answer normally again: no scripted failures left, no refusal."""
        self.script.clear()
        self.refuse(None)

    def _tell(self) -> None:
        for listener in list(self._listeners):
            listener("erp")

    async def _orders(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key", "")
        try:
            answer = await super()._orders(request)
            self.last_status[key] = answer.status
            if answer.status == 200 and isinstance(answer.body, bytes):
                reference = json.loads(answer.body).get("erp_reference")
                if reference and key not in self.references:
                    self.references[key] = str(reference)
                    self.accepted_on[key] = self.attempts[key]
            return answer
        finally:
            self._tell()

    def as_json(self) -> JSON:
        received = []
        for item in reversed(self.received):
            payload = item.payload
            lines = payload.get("lines") or []
            received.append(
                {
                    "key": item.key,
                    "reference": self.references.get(item.key),
                    "number": payload.get("number"),
                    "event": payload.get("event"),
                    "quote": f"{payload.get('quote_id')} v{payload.get('quote_version')}",
                    "account": payload.get("account_id"),
                    "delivery_date": payload.get("delivery_date"),
                    "ship_to": payload.get("ship_to"),
                    "total": f"{payload.get('currency', '')} {payload.get('total', '')}".strip(),
                    "lines": [f"{line.get('id')} {line.get('sku') or ''} ×{line.get('quantity')}" for line in lines],
                    "attempts": self.accepted_on.get(item.key, self.attempts.get(item.key, 1)),
                }
            )
        accepted = set(self.accepted)
        failing = [
            {"key": key, "attempts": count, "last_status": self.last_status.get(key)}
            for key, count in self.attempts.items()
            if key not in accepted
        ]
        return {
            "received": received,
            "failing": failing,
            "scripted_failures": len(self.script),
            "refusing": self.always,
        }


# ---------------------------------------------------------------- the CRM


@dataclass
class Crm:
    """Sends example quote files to the bot's `POST /api/quotes`, signed with GREENLIGHT_API_SECRET."""

    files: list[Path]
    api_url: str
    secret: str
    clock: Callable[[], dt.datetime]
    sent: dict[str, str] = field(default_factory=dict)
    receiver: CrmReceiver | None = None  # where Greenlight's webhooks to the CRM arrive (crm-v1 §6)
    salesforce: Any = None  # the Salesforce stand-in of `make demo-salesforce`: its quote records

    def __post_init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def catalogue(self) -> list[JSON]:
        out = []
        for path in self.files:
            data = json.loads(path.read_text(encoding="utf-8"))
            out.append(
                {
                    "file": path.name,
                    "id": data.get("id"),
                    "version": data.get("version"),
                    "customer": (data.get("account") or {}).get("name") or data.get("customer"),
                    "owner": data.get("owner"),
                    "total": f"{data.get('currency', '')} {_amount(data.get('net_total'))}".strip(),
                    "discount": data.get("discount_percent"),
                    "sent": self.sent.get(path.name),
                }
            )
        return out

    async def send(self, name: str) -> tuple[int, JSON]:
        path = next((p for p in self.files if p.name == name), None)
        if path is None:
            return 404, {"error": f"no example quote {name}"}
        body = path.read_bytes()
        timestamp = str(int(self.clock().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "X-Greenlight-Request-Timestamp": timestamp,
            "X-Greenlight-Signature": signing.sign(self.secret, timestamp, body),
        }
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=False)
        async with self._session.post(self.api_url, data=body, headers=headers) as answer:
            try:
                reply = await answer.json(content_type=None)
            except ValueError:
                reply = {"error": (await answer.text())[:300]}
            status = answer.status
        if status == 200:
            self.sent[name] = f"sent: {reply.get('status', 'ok')}"
        else:
            self.sent[name] = f"refused ({status}): {reply.get('error', '')}"[:300]
        return status, reply if isinstance(reply, dict) else {"answer": reply}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


# ---------------------------------------------------------------- the driver, for every kind of element


class BrowserDriver(SlackDriver):
    """`SlackDriver` plus the block_actions of elements that carry a choice (selects, overflow, date pickers)."""

    async def choose(
        self,
        user_id: str,
        action_id: str,
        selection: Mapping[str, Any],
        *,
        message: Message | Ephemeral | None = None,
        view: Mapping[str, Any] | None = None,
    ) -> DriverResponse:
        blocks = view["blocks"] if view is not None else message.blocks if message is not None else []
        found = _find(blocks, action_id)
        if found is None:
            raise LookupError(f"nothing with action_id {action_id!r} is shown there")
        block_id, element = found
        action: JSON = {
            "type": element["type"],
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": f"{time.time():.6f}",
            **selection,
        }
        for key in ("placeholder", "initial_date", "initial_option", "initial_user"):
            if key in element:
                action[key] = element[key]
        slack = self._slack
        trigger_id = slack.issue_trigger_id(user_id)
        payload: JSON = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": slack.app_id,
            "token": "deprecated-verification-token",
            "trigger_id": trigger_id,
            "team": {"id": slack.team_id, "domain": slack.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            "actions": [action],
        }
        response_url = None
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = dict(view)
        else:
            assert message is not None
            ephemeral = isinstance(message, Ephemeral)
            response_url = slack.response_url(user_id, message.channel, message.ts, is_ephemeral=ephemeral)
            payload["container"] = {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": message.channel, "name": "directmessage"}
            if isinstance(message, Message):
                payload["message"] = message.to_payload()
            payload["response_url"] = response_url
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self._post(body, "application/x-www-form-urlencoded", HONEST, response_url, trigger_id)


def _amount(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.2f}".removesuffix(".00")
    return str(value or "")


def _elements(block: Mapping[str, Any]) -> list[JSON]:
    found = [e for e in block.get("elements", []) if isinstance(e, dict)]
    found += [block[key] for key in ("accessory", "element") if isinstance(block.get(key), dict)]
    return found


def _find(blocks: list[JSON], action_id: str) -> tuple[str, JSON] | None:
    for block in blocks:
        for element in _elements(block):
            if element.get("action_id") == action_id:
                return block.get("block_id", ""), element
    return None


def _ts_key(ts: str) -> tuple[int, int]:
    whole, _, part = str(ts).partition(".")
    try:
        return int(whole), int(part or 0)
    except ValueError:
        return 0, 0


# ---------------------------------------------------------------- the page's server


class _Hub:
    """Fans change notices out to every open event stream."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[tuple[int, str] | None]] = set()
        self.seq = 0

    def publish(self, what: str) -> None:
        self.seq += 1
        for queue in list(self.queues):
            queue.put_nowait((self.seq, what))

    def join(self) -> asyncio.Queue[tuple[int, str] | None]:
        queue: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue()
        self.queues.add(queue)
        return queue

    def leave(self, queue: asyncio.Queue[tuple[int, str] | None]) -> None:
        self.queues.discard(queue)

    def close(self) -> None:
        for queue in list(self.queues):
            queue.put_nowait(None)


class _Refused(Exception):
    def __init__(self, status: int, sentence: str) -> None:
        super().__init__(sentence)
        self.status = status
        self.sentence = sentence


class Sandbox:
    """The browser client's server. Use ``async with Sandbox(...) as sandbox:``; open ``sandbox.url``."""

    def __init__(
        self,
        slack: SlackStandIn,
        driver: SlackDriver,
        members: list[Member],
        *,
        command: str = "/deal",
        mailbox: Mailbox | None = None,
        erp: SandboxErp | None = None,
        crm: Crm | None = None,
        clock: DemoClock | None = None,
        after_action: Callable[[], object] | None = None,
        on_language: Callable[[str, str], Awaitable[object]] | None = None,
        bot_url: str | None = None,
        title: str = "Greenlight sandbox",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.slack = slack
        self.driver = driver
        self.members = {m.key: m for m in members}
        self.command_name = command
        self.mailbox = mailbox
        self.erp = erp
        self.crm = crm
        self.clock = clock
        self.after_action = after_action
        self.on_language = on_language
        self.bot_url = bot_url
        self.title = title
        self.host = host
        self.port = port
        self._hub = _Hub()
        self._runner: web.AppRunner | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self.url = ""

    # -- lifecycle

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._headers], client_max_size=256 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC, follow_symlinks=False)
        app.router.add_get("/api/meta", self._meta)
        app.router.add_get("/api/events", self._events)
        app.router.add_get("/api/people/{key}", self._person)
        app.router.add_post("/api/people/{key}/command", self._command)
        app.router.add_post("/api/people/{key}/act", self._act)
        app.router.add_post("/api/people/{key}/submit", self._submit)
        app.router.add_post("/api/people/{key}/close", self._close)
        app.router.add_post("/api/people/{key}/home", self._home)
        app.router.add_post("/api/people/{key}/language", self._language)
        app.router.add_get("/api/mail", self._mail)
        app.router.add_get("/mail/{id}", self._mail_html)
        app.router.add_get("/api/erp", self._erp)
        app.router.add_post("/api/erp", self._erp_control)
        app.router.add_get("/api/crm", self._crm)
        app.router.add_post("/api/crm", self._crm_send)
        app.router.add_post("/api/clock", self._clock)
        return app

    async def start(self) -> Self:
        receiver = self.crm.receiver if self.crm is not None else None
        for source in (self.slack, self.mailbox, self.erp, receiver):
            if source is not None:
                self._unsubscribe.append(source.subscribe(self._hub.publish))
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/"
        return self

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._hub.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if self.crm is not None:
            await self.crm.close()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- plumbing

    @web.middleware
    async def _headers(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        try:
            response = await handler(request)
        except _Refused as refused:
            response = web.json_response({"error": refused.sentence}, status=refused.status)
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = CSP
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    async def _body(self, request: web.Request) -> JSON:
        if request.content_type != "application/json":
            raise _Refused(415, "send JSON")
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            raise _Refused(403, "only this page can act in the sandbox")
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            raise _Refused(403, "only this page can act in the sandbox")
        try:
            body = await request.json()
        except ValueError:
            raise _Refused(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise _Refused(400, "the body must be a JSON object")
        return body

    def _member(self, request: web.Request, *, slack: bool = True) -> Member:
        member = self.members.get(request.match_info["key"])
        if member is None:
            raise _Refused(404, "nobody by that key in the policy")
        if slack and not member.slack_id:
            raise _Refused(409, f"{member.name} is not on Slack: their requests arrive by email")
        return member

    def _acted(self) -> None:
        if self.after_action is not None:
            self.after_action()
        self._hub.publish("action")

    @staticmethod
    def _answer(answer: DriverResponse) -> web.Response:
        if answer.status != 200:
            return web.json_response(
                {"error": f"the app answered {answer.status}", "status": answer.status, "body": answer.body[:300]},
                status=502,
            )
        return web.json_response({"status": answer.status})

    # -- the page

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")

    async def _meta(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "title": self.title,
                "command": self.command_name,
                "people": [m.as_json() for m in self.members.values()],
                "bot": {"id": self.slack.bot_user_id, "name": "Greenlight"},
                "panels": {"mail": self.mailbox is not None, "erp": self.erp is not None, "crm": self.crm is not None},
                "languages": [{"tag": tag, "name": _language_name(tag)} for tag in i18n.available()],
                "clock": self._clock_json(),
                "seq": self._hub.seq,
            }
        )

    def _clock_json(self) -> JSON | None:
        if self.clock is None:
            return None
        now = self.clock()
        return {"now": now.isoformat(), "local": now.astimezone(self.clock.zone).strftime("%a %d %b %Y %H:%M")}

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        queue = self._hub.join()
        try:
            await response.write(f"retry: 1000\nevent: hello\ndata: {self._hub.seq}\n\n".encode())
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if item is None:
                    break
                seq, what = item
                kinds = {what}
                while not queue.empty():
                    more = queue.get_nowait()
                    if more is None:
                        return response
                    seq = more[0]
                    kinds.add(more[1])
                data = json.dumps({"seq": seq, "what": sorted(kinds)})
                await response.write(f"event: change\ndata: {data}\n\n".encode())
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            pass
        finally:
            self._hub.leave(queue)
        return response

    # -- one person's Slack

    async def _person(self, request: web.Request) -> web.Response:
        member = self._member(request, slack=False)
        if not member.slack_id:
            return web.json_response({"person": member.as_json(), "timeline": [], "home": None, "modals": []})
        slack_id = member.slack_id
        messages = self.slack.dm_history(slack_id)
        replies: dict[str, list[JSON]] = {}
        roots: list[JSON] = []
        for message in messages:
            shown = _message_json(message, self._shown_at(message.ts))
            if message.thread_ts and message.thread_ts != message.ts:
                replies.setdefault(message.thread_ts, []).append(shown)
            else:
                roots.append(shown)
        for root in roots:
            root["replies"] = sorted(replies.pop(root["ts"], []), key=lambda m: _ts_key(m["ts"]))
        orphans = [reply for thread in replies.values() for reply in thread]
        ephemerals = [
            {
                "kind": "ephemeral",
                "ts": e.ts,
                "shown_at": self._shown_at(e.ts),
                "channel": e.channel,
                "text": e.text,
                "blocks": e.blocks,
            }
            for e in self.slack.ephemerals(slack_id)
        ]
        timeline = sorted([*roots, *orphans, *ephemerals], key=lambda m: _ts_key(m["ts"]))
        return web.json_response(
            {
                "person": member.as_json(),
                "timeline": timeline,
                "home": self.slack.home_view(slack_id),
                "modals": self.slack.open_views(slack_id),
            }
        )

    def _shown_at(self, ts: str) -> str:
        """When a message was posted, by the bot's clock (ISO 8601)."""
        real = float(_ts_key(ts)[0])
        moment = self.clock.at(real) if self.clock is not None else dt.datetime.fromtimestamp(real, dt.UTC)
        return moment.isoformat()

    async def _command(self, request: web.Request) -> web.Response:
        member = self._member(request)
        text = str((await self._body(request)).get("text") or "").strip()
        name, _, rest = text.partition(" ")
        if not name.startswith("/"):
            raise _Refused(400, f"Type a slash command, e.g. {self.command_name} help")
        if name != self.command_name:
            raise _Refused(400, f"{name} is not a command in this workspace: only {self.command_name} is installed")
        try:
            answer = await self.driver.command(member.slack_id or "", name, rest.strip())
        except ValueError as error:
            raise _Refused(502, str(error)) from None
        self._acted()
        return self._answer(answer)

    def _surface(self, member: Member, body: JSON) -> tuple[Message | Ephemeral | None, JSON | None]:
        slack_id = member.slack_id or ""
        surface = body.get("surface")
        if surface == "message":
            try:
                return self.slack.message(str(body.get("channel")), str(body.get("ts"))), None
            except KeyError:
                raise _Refused(404, "that message is gone") from None
        if surface == "ephemeral":
            found = next((e for e in self.slack.ephemerals(slack_id) if e.ts == body.get("ts")), None)
            if found is None:
                raise _Refused(404, "that message is gone")
            return found, None
        if surface == "view":
            views = [self.slack.home_view(slack_id), *self.slack.open_views(slack_id)]
            view = next((v for v in views if v and v["id"] == body.get("view_id")), None)
            if view is None:
                raise _Refused(404, "that view is closed")
            return None, view
        raise _Refused(400, "surface must be message, ephemeral or view")

    async def _act(self, request: web.Request) -> web.Response:
        member = self._member(request)
        body = await self._body(request)
        message, view = self._surface(member, body)
        action_id = str(body.get("action_id") or "")
        selection = body.get("selection")
        try:
            if isinstance(selection, dict) and selection:
                allowed = set(SELECTABLE.values())
                chosen = {k: v for k, v in selection.items() if k in allowed}
                answer = await self._driver().choose(
                    member.slack_id or "", action_id, chosen, message=message, view=view
                )
            else:
                answer = await self.driver.click(member.slack_id or "", action_id, message=message, view=view)
        except LookupError as error:
            raise _Refused(409, str(error)) from None
        self._acted()
        return self._answer(answer)

    def _driver(self) -> BrowserDriver:
        if isinstance(self.driver, BrowserDriver):
            return self.driver
        raise _Refused(501, "this sandbox's driver cannot send selections")

    async def _submit(self, request: web.Request) -> web.Response:
        member = self._member(request)
        body = await self._body(request)
        view = next((v for v in self.slack.open_views(member.slack_id) if v["id"] == body.get("view_id")), None)
        if view is None:
            raise _Refused(404, "that view is closed")
        entered = body.get("values") if isinstance(body.get("values"), dict) else {}
        values = _form_values(view, entered)
        try:
            answer = await self.driver.submit_view(member.slack_id or "", view, values)
        except ValueError as error:
            raise _Refused(502, str(error)) from None
        self._acted()
        if answer.status != 200:
            return self._answer(answer)
        ack = None
        if answer.body and answer.headers.get("Content-Type", "").startswith("application/json"):
            ack = answer.json()
        if isinstance(ack, dict) and ack.get("response_action") == "errors":
            return web.json_response({"status": 200, "errors": ack.get("errors") or {}})
        return web.json_response({"status": 200})

    async def _close(self, request: web.Request) -> web.Response:
        member = self._member(request)
        view_id = str((await self._body(request)).get("view_id") or "")
        if any(v["id"] == view_id for v in self.slack.open_views(member.slack_id)):
            self.slack.close_view(view_id)
        return web.json_response({"status": 200})

    async def _home(self, request: web.Request) -> web.Response:
        member = self._member(request)
        await self._body(request)
        answer = await self.driver.app_home_opened(member.slack_id or "")
        return self._answer(answer)

    # -- mail

    async def _language(self, request: web.Request) -> web.Response:
        """Switch the language a person reads: Slack's locale for them in the stand-in (what `users.info`
        with `include_locale` reports) and, through `on_language`, their `locale` in the policy."""
        member = self._member(request, slack=False)
        body = await self._body(request)
        wanted = body.get("language")
        language = i18n.normalize(wanted) if isinstance(wanted, str) else None
        if language is None:
            offered = ", ".join(i18n.available())
            raise _Refused(
                400, f"{wanted!r} is not a language Greenlight speaks (it speaks {offered}); nothing changed"
            )
        if self.on_language is not None:
            await self.on_language(member.key, language)
        if member.slack_id and self.slack.user(member.slack_id) is not None:
            self.slack.set_locale(member.slack_id, _slack_locale(language))
        self.members[member.key] = dataclasses.replace(member, language=language)
        self._acted()
        return web.json_response({"person": self.members[member.key].as_json()})

    async def _mail(self, request: web.Request) -> web.Response:
        if self.mailbox is None:
            raise _Refused(404, "this sandbox has no mailbox")
        return web.json_response({"messages": [m.as_json() for m in self.mailbox.messages()]})

    async def _mail_html(self, request: web.Request) -> web.Response:
        if self.mailbox is None:
            raise _Refused(404, "this sandbox has no mailbox")
        try:
            mail = self.mailbox.message(int(request.match_info["id"]))
        except ValueError:
            mail = None
        if mail is None:
            raise web.HTTPNotFound()
        if mail.html is not None:
            html = mail.html
            head = html.lower().find("<head>")
            base = '<base target="_blank">'
            html = html[: head + 6] + base + html[head + 6 :] if head >= 0 else base + html
        else:
            html = f'<base target="_blank"><pre style="{TEXT_MAIL_STYLE}">{html_escape(mail.text)}</pre>'
        response = web.Response(text=html, content_type="text/html")
        response.headers["Content-Security-Policy"] = MAIL_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    # -- ERP

    async def _erp(self, request: web.Request) -> web.Response:
        if self.erp is None:
            raise _Refused(404, "this sandbox has no ERP")
        return web.json_response(self.erp.as_json())

    async def _erp_control(self, request: web.Request) -> web.Response:
        if self.erp is None:
            raise _Refused(404, "this sandbox has no ERP")
        body = await self._body(request)
        if "fail_next" in body:
            times = int(body["fail_next"])
            if not 0 < times <= 20:
                raise _Refused(400, "fail between 1 and 20 deliveries")
            self.erp.fail_next(503, times)
        if "refuse" in body:
            self.erp.refuse(422 if body["refuse"] else None)
        if body.get("recover"):
            self.erp.recover()
        return web.json_response(self.erp.as_json())

    # -- CRM

    async def _crm(self, request: web.Request) -> web.Response:
        if self.crm is None:
            raise _Refused(404, "this sandbox has no CRM")
        webhooks = self.crm.receiver.as_json() if self.crm.receiver is not None else None
        records = None
        if self.crm.salesforce is not None:
            records = [
                {
                    "id": r["Id"],
                    "name": r.get("Name"),
                    "status": r.get("Greenlight_Status__c"),
                    "comment": r.get("Greenlight_Comment__c"),
                }
                for r in self.crm.salesforce.records.get("SBQQ__Quote__c", {}).values()
            ]
        return web.json_response({"quotes": self.crm.catalogue(), "webhooks": webhooks, "salesforce": records})

    async def _crm_send(self, request: web.Request) -> web.Response:
        if self.crm is None:
            raise _Refused(404, "this sandbox has no CRM")
        status, reply = await self.crm.send(str((await self._body(request)).get("file") or ""))
        self._acted()
        return web.json_response({"status": status, "answer": reply})

    # -- clock

    async def _clock(self, request: web.Request) -> web.Response:
        if self.clock is None:
            raise _Refused(404, "this sandbox has no demo clock")
        body = await self._body(request)
        try:
            hours = float(body.get("hours") or 0)
            self.clock.advance(dt.timedelta(hours=hours))
        except (TypeError, ValueError):
            raise _Refused(400, "advance by a positive number of hours") from None
        self._acted()
        return web.json_response({"clock": self._clock_json()})


def _message_json(message: Message, shown_at: str) -> JSON:
    return {
        "kind": "message",
        "ts": message.ts,
        "shown_at": shown_at,
        "channel": message.channel,
        "text": message.text,
        "blocks": message.blocks,
        "edited": bool(message.edits),
        "thread_ts": message.thread_ts,
    }


def _form_values(view: JSON, entered: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The browser's form values shaped for `SlackDriver.submit_view`: every input of the view,
    empty ones as Slack sends them (null)."""
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks", []):
        element = block.get("element") if block.get("type") == "input" else None
        if not isinstance(element, dict) or not element.get("action_id"):
            continue
        block_id, action_id, kind = block["block_id"], element["action_id"], element.get("type", "")
        value = (entered.get(block_id) or {}).get(action_id) if isinstance(entered.get(block_id), dict) else None
        if value in (None, "", []):
            empty_field = SELECTABLE.get(kind, "value")
            values.setdefault(block_id, {})[action_id] = {empty_field: [] if empty_field.endswith("s") else None}
        else:
            values.setdefault(block_id, {})[action_id] = value
    return values


def _language_name(tag: str) -> str:
    """A language by its own name, as a language menu shows it: English, Français."""
    from babel import Locale

    name = Locale.parse(tag).get_display_name(tag) or tag
    return name[:1].upper() + name[1:]


def _slack_locale(language: str) -> str:
    """The tag Slack would report for a language: `fr` -> `fr-FR`, `en` -> `en-US`."""
    from babel import Locale

    territory = Locale.parse(language).territory or {"en": "US"}.get(language) or language.upper()
    return f"{language}-{territory}"
