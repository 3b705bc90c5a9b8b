"""A local stand-in for Slack's Web API, for tests and the demo.

`SlackStandIn` is a real aiohttp server on 127.0.0.1 that the real slack_sdk and bolt clients talk
to with ``base_url=stand_in.api_url``. It keeps the messages, views and users a test asserts on,
records every call, serves ``response_url`` hooks, and can be scripted to fail the way Slack does
(429 with ``Retry-After``, 5xx, ``ok: false``, a dropped connection).

It is stricter than Slack where Greenlight wants to be: every message needs a non-empty top-level
``text`` (the push notification and screen-reader text), and ``action_id`` and ``block_id`` must be
unique within a whole message or view (Slack only asks action ids to be unique within a block).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import itertools
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

JSON = dict[str, Any]

RESPONSE_URL = "response_url"
"""The method name under which ``response_url`` posts are recorded and scripted."""

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_LENGTH = 40_000
RESPONSE_URL_USES = 5
DEFAULT_SCOPES = (
    "chat:write",
    "commands",
    "im:write",
    "users:read",
    "users:read.email",
)

FaultKind = Literal["rate_limited", "http_status", "api_error", "disconnect"]


@dataclass(frozen=True)
class Fault:
    """One scripted failure. Build it with one of the class methods."""

    kind: FaultKind
    status: int = 200
    error: str | None = None
    retry_after: int | None = None

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Fault:
        return cls("rate_limited", status=429, error="ratelimited", retry_after=retry_after)

    @classmethod
    def http_status(cls, status: int = 503) -> Fault:
        return cls("http_status", status=status)

    @classmethod
    def api_error(cls, error: str) -> Fault:
        return cls("api_error", error=error)

    @classmethod
    def disconnect(cls) -> Fault:
        return cls("disconnect", status=0)


@dataclass(frozen=True)
class Call:
    """One request the stand-in received, with what it answered (``status`` 0: dropped)."""

    method: str
    args: JSON
    at: float
    status: int
    response: JSON | None
    url: str
    peer: str = ""
    """The client's address and port (`127.0.0.1:40112`): calls over one kept-alive connection share it."""

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error") if self.response else None


@dataclass
class Message:
    """A message as the channel shows it now."""

    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    user: str
    bot_id: str
    thread_ts: str | None = None
    metadata: JSON | None = None
    edits: int = 0

    def action_ids(self) -> list[str]:
        return list(_action_ids(self.blocks))

    def to_payload(self) -> JSON:
        payload: JSON = {
            "type": "message",
            "user": self.user,
            "bot_id": self.bot_id,
            "text": self.text,
            "blocks": copy.deepcopy(self.blocks),
            "ts": self.ts,
        }
        if self.thread_ts:
            payload["thread_ts"] = self.thread_ts
        if self.metadata:
            payload["metadata"] = copy.deepcopy(self.metadata)
        if self.edits:
            payload["edited"] = {"user": self.user, "ts": self.ts}
        return payload


@dataclass
class Ephemeral:
    """A message only ``user`` sees, from chat.postEphemeral or a response_url."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JSON]
    via: str


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str | None
    tz: str
    real_name: str
    locale: str = "en-US"
    """The user's Slack language (an IETF tag, as Slack writes it: `en-US`, `fr-FR`)."""

    def to_api(self, team_id: str, include_locale: bool = False) -> JSON:
        profile: JSON = {"real_name": self.real_name, "display_name": self.name}
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": False,
            "is_bot": False,
            "tz": self.tz,
            "profile": profile,
            # Slack adds the locale only when asked (`include_locale=true`)
            **({"locale": self.locale} if include_locale else {}),
        }


@dataclass
class _Trigger:
    user: str
    issued: float
    used: bool = False


@dataclass
class _Hook:
    user: str
    channel: str
    message_ts: str | None
    is_ephemeral: bool
    issued: float
    uses: int = 0


class _Failure(Exception):
    def __init__(self, error: str, detail: str | None = None, *, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.detail = detail
        self.status = status

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error": self.error}
        if self.detail:
            body["errors"] = [self.detail]
            body["response_metadata"] = {"messages": [f"[ERROR] {self.detail}"]}
        return body


@dataclass
class _State:
    channels: defaultdict[str, list[Message]] = field(default_factory=lambda: defaultdict(list))
    ephemerals: list[Ephemeral] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    dms: dict[str, str] = field(default_factory=dict)
    group_dms: dict[tuple[str, ...], str] = field(default_factory=dict)
    modals: dict[str, JSON] = field(default_factory=dict)
    modal_owner: dict[str, str] = field(default_factory=dict)
    homes: dict[str, JSON] = field(default_factory=dict)
    triggers: dict[str, _Trigger] = field(default_factory=dict)
    hooks: dict[str, _Hook] = field(default_factory=dict)


class SlackStandIn:
    """Slack's Web API on loopback. Use ``async with SlackStandIn() as slack:``."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-greenlight-test-token",
        team_id: str = "T0GREEN01",
        team_domain: str = "greenlight-test",
        bot_user_id: str = "U0GREENBOT",
        bot_id: str = "B0GREENBOT",
        app_id: str = "A0GREEN01",
        scopes: Iterable[str] = DEFAULT_SCOPES,
        trigger_ttl: float = 3.0,
        response_url_ttl: float = 30 * 60.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.scopes = tuple(scopes)
        self.trigger_ttl = trigger_ttl
        self.response_url_ttl = response_url_ttl
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._calls: list[Call] = []
        self._changed = asyncio.Condition()
        self._scripts: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self._outage: Fault | None = None
        self._ids = itertools.count(1)
        self._state = _State()
        self._listeners: list[Callable[[str], None]] = []
        self._methods: dict[str, Callable[[JSON], JSON]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.open": self._conversations_open,
        }
        self._app_methods: dict[str, tuple[str, Callable[[JSON], JSON]]] = {}

    def add_app_method(self, method: str, app_token: str, handler: Callable[[JSON], JSON]) -> None:
        """A Web API method called with an app-level token (xapp-...), such as apps.connections.open."""
        self._app_methods[method] = (app_token, handler)

    # -- lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{hook}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        host, port = self._runner.addresses[0][:2]
        self._url = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the Slack stand-in is not started")
        return self._url

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    # -- seeding and the handles Slack gives to an app

    def add_user(
        self,
        id: str,
        name: str,
        email: str | None = None,
        *,
        tz: str = "UTC",
        real_name: str | None = None,
        locale: str = "en-US",
    ) -> User:
        user = User(id=id, name=name, email=email, tz=tz, real_name=real_name or name, locale=locale)
        self._state.users[id] = user
        return user

    def user(self, user_id: str) -> User | None:
        return self._state.users.get(user_id)

    def set_locale(self, user_id: str, locale: str) -> None:
        """The user switches their Slack language (`fr-FR`)."""
        user = self._state.users[user_id]
        self._state.users[user_id] = dataclasses.replace(user, locale=locale)

    def issue_trigger_id(self, user_id: str) -> str:
        trigger_id = f"{int(time.time())}.{next(self._ids)}.{secrets.token_hex(16)}"
        self._state.triggers[trigger_id] = _Trigger(user=user_id, issued=time.monotonic())
        return trigger_id

    def response_url(
        self,
        user_id: str,
        channel: str,
        message_ts: str | None = None,
        *,
        is_ephemeral: bool = False,
    ) -> str:
        hook_id = secrets.token_urlsafe(12)
        self._state.hooks[hook_id] = _Hook(
            user=user_id,
            channel=channel,
            message_ts=message_ts,
            is_ephemeral=is_ephemeral,
            issued=time.monotonic(),
        )
        return f"{self.url}/response/{hook_id}"

    # -- watching (the sandbox's browser client streams changes)

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener(what)`` after every recorded call, ack and modal change; returns the unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def _changed_by(self, what: str) -> None:
        for listener in list(self._listeners):
            listener(what)

    def close_view(self, view_id: str) -> None:
        """The user closed a modal (its Cancel or X): Slack drops it and, unasked, tells the app nothing."""
        self._state.modals.pop(view_id, None)
        self._state.modal_owner.pop(view_id, None)
        self._changed_by("views.close")

    # -- faults

    def script(self, method: str, faults: Iterable[Fault]) -> None:
        """Queue faults for ``method`` (or RESPONSE_URL): each answers one call, in order."""
        self._scripts[method].extend(faults)

    def start_outage(self, fault: Fault | None = None) -> None:
        """Fail every call (503 unless told otherwise) until end_outage()."""
        self._outage = fault or Fault.http_status(503)

    def end_outage(self) -> None:
        self._outage = None

    # -- what tests look at

    def calls(self, method: str | None = None) -> list[Call]:
        return [call for call in self._calls if method is None or call.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> Call:
        """Wait for ``count`` matching calls (earlier ones count too) and return the last."""

        def matching() -> list[Call]:
            return [call for call in self._calls if call.method == method and (predicate is None or predicate(call))]

        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            seen = ", ".join(call.method for call in self._calls) or "none"
            raise TimeoutError(
                f"no {count} matching {method} call(s) within {timeout}s; calls so far: {seen}"
            ) from None
        return matching()[count - 1]

    def messages(self, channel: str) -> list[Message]:
        """Snapshots of a channel's messages (a user id means that user's DM), oldest first.

        Snapshots stay as they were when taken: clicking one after an update plays a stale client.
        """
        return copy.deepcopy(self._state.channels.get(self._dm_or_channel(channel), []))

    def message(self, channel: str, ts: str) -> Message:
        for message in self.messages(channel):
            if message.ts == ts:
                return message
        raise KeyError(f"no message {ts} in {channel}")

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        return [m for m in self.messages(channel) if m.thread_ts == thread_ts]

    def dm_channel(self, user_id: str) -> str:
        if user_id not in self._state.users:
            raise KeyError(f"unknown user {user_id}: seed it with add_user()")
        return self._open_dm(user_id)

    def dm_history(self, user_id: str) -> list[Message]:
        return self.messages(self.dm_channel(user_id))

    def ephemerals(self, user_id: str | None = None) -> list[Ephemeral]:
        return [copy.deepcopy(e) for e in self._state.ephemerals if user_id is None or e.user == user_id]

    def home_view(self, user_id: str) -> JSON | None:
        view = self._state.homes.get(user_id)
        return copy.deepcopy(view) if view else None

    def open_views(self, user_id: str | None = None) -> list[JSON]:
        return [
            copy.deepcopy(view)
            for view_id, view in self._state.modals.items()
            if user_id is None or self._state.modal_owner[view_id] == user_id
        ]

    def command_acked(self, user_id: str, channel: str, ack: JSON) -> None:
        """Show a slash command's ack body as Slack does: to the user, or in the channel."""
        with _refused_ack():
            self._reply(user_id, channel, ack, "ack")
        self._changed_by("ack")

    def view_submitted(self, view_id: str, ack: JSON | None) -> None:
        """Do to the modal what Slack does with the app's answer to a view_submission."""
        action = (ack or {}).get("response_action")
        owner = self._state.modal_owner.get(view_id)
        if action in (None, "clear"):
            closing = [view_id] if action is None else self._views_of(owner)
            for closed in closing:
                self._state.modals.pop(closed, None)
                self._state.modal_owner.pop(closed, None)
        elif action in ("update", "push") and owner and ack:
            with _refused_ack():
                new = self._checked_view(ack.get("view"), {"modal"})
            if action == "update":
                self._state.modals[view_id] = self._stored_view(new, view_id)
            else:
                pushed = self._stored_view(new)
                self._state.modals[pushed["id"]] = pushed
                self._state.modal_owner[pushed["id"]] = owner
        self._changed_by("view_submission")

    # -- HTTP

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            args = await _read_args(request)
        except _Failure as failure:
            return await self._answer(request, method, {}, failure.body(), failure.status)
        bearer = request.headers.get("Authorization", "")
        token = args.pop("token", None)
        if bearer.startswith("Bearer "):
            token = bearer.removeprefix("Bearer ")

        fault = self._next_fault(method)
        if fault is not None:
            return await self._fail(request, method, args, fault)
        try:
            if not token:
                raise _Failure("not_authed")
            app_method = self._app_methods.get(method)
            if app_method is not None:
                if token != app_method[0]:
                    raise _Failure("invalid_auth")
            elif token != self.bot_token:
                raise _Failure("invalid_auth")
            handler = app_method[1] if app_method is not None else self._methods.get(method)
            if handler is None:
                raise _Failure("unknown_method", status=404)
            body = {"ok": True, **handler(args)}
        except _Failure as failure:
            return await self._answer(request, method, args, failure.body(), failure.status)
        headers = {"x-oauth-scopes": ",".join(self.scopes)}
        return await self._answer(request, method, args, body, 200, headers)

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            failure = _Failure("invalid_payload", "the body must be a JSON object", status=400)
            return await self._answer(request, RESPONSE_URL, {}, failure.body(), failure.status)
        fault = self._next_fault(RESPONSE_URL)
        if fault is not None:
            return await self._fail(request, RESPONSE_URL, body, fault)
        try:
            self._respond(request.match_info["hook"], body)
        except _Failure as failure:
            status = 400 if failure.status == 200 else failure.status
            return await self._answer(request, RESPONSE_URL, body, failure.body(), status)
        return await self._answer(request, RESPONSE_URL, body, {"ok": True}, 200)

    def _next_fault(self, method: str) -> Fault | None:
        if self._outage is not None:
            return self._outage
        queue = self._scripts.get(method)
        return queue.popleft() if queue else None

    async def _fail(self, request: web.Request, method: str, args: JSON, fault: Fault) -> web.StreamResponse:
        if fault.kind == "disconnect":
            await self._record(Call(method, args, time.time(), 0, None, str(request.url)))
            if request.transport is not None:
                request.transport.close()
            return web.Response()
        if fault.kind == "http_status":
            await self._record(Call(method, args, time.time(), fault.status, None, str(request.url)))
            return web.Response(
                status=fault.status,
                text=f"<html><body>{fault.status}</body></html>",
                content_type="text/html",
            )
        body = {"ok": False, "error": fault.error}
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return await self._answer(request, method, args, body, fault.status, headers)

    async def _answer(
        self,
        request: web.Request,
        method: str,
        args: JSON,
        body: JSON,
        status: int,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        peername = request.transport.get_extra_info("peername") if request.transport is not None else None
        peer = f"{peername[0]}:{peername[1]}" if peername else ""
        await self._record(Call(method, args, time.time(), status, body, str(request.url), peer))
        return web.json_response(body, status=status, headers=headers)

    async def _record(self, call: Call) -> None:
        self._calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        self._changed_by(call.method)

    # -- Web API methods: each returns the body after "ok": true, or raises _Failure

    def _auth_test(self, args: JSON) -> JSON:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_domain,
            "user": "greenlight",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: JSON) -> JSON:
        _required(args, "channel")
        channel = self._resolve_channel(args["channel"], allow_user_id=True)
        text = _message_text(args)
        blocks = _checked_blocks(args.get("blocks"), MAX_MESSAGE_BLOCKS)
        message = Message(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            user=self.bot_user_id,
            bot_id=self.bot_id,
            thread_ts=args.get("thread_ts") or None,
            metadata=_decoded(args.get("metadata"), "invalid_metadata_format"),
        )
        self._state.channels[channel].append(message)
        return {"channel": channel, "ts": message.ts, "message": message.to_payload()}

    def _chat_update(self, args: JSON) -> JSON:
        _required(args, "channel", "ts")
        channel = self._resolve_channel(args["channel"], allow_user_id=False)
        message = self._find_message(channel, args["ts"])
        text = _message_text(args)
        if "blocks" in args:
            message.blocks = _checked_blocks(args["blocks"], MAX_MESSAGE_BLOCKS)
        message.text = text
        if "metadata" in args:
            message.metadata = _decoded(args["metadata"], "invalid_metadata_format")
        message.edits += 1
        return {
            "channel": channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_payload(),
        }

    def _chat_post_ephemeral(self, args: JSON) -> JSON:
        _required(args, "channel", "user")
        if args["user"] not in self._state.users:
            raise _Failure("user_not_found")
        channel = self._resolve_channel(args["channel"], allow_user_id=True)
        ephemeral = Ephemeral(
            channel=channel,
            user=args["user"],
            ts=self._next_ts(),
            text=_message_text(args),
            blocks=_checked_blocks(args.get("blocks"), MAX_MESSAGE_BLOCKS),
            via="chat.postEphemeral",
        )
        self._state.ephemerals.append(ephemeral)
        return {"message_ts": ephemeral.ts}

    def _views_open(self, args: JSON) -> JSON:
        _required(args, "trigger_id", "view")
        view = self._checked_view(args["view"], {"modal"})
        user = self._use_trigger(args["trigger_id"])
        stored = self._stored_view(view)
        self._state.modals[stored["id"]] = stored
        self._state.modal_owner[stored["id"]] = user
        return {"view": copy.deepcopy(stored)}

    def _views_update(self, args: JSON) -> JSON:
        _required(args, "view")
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if not view_id and not external_id:
            raise _Failure("invalid_arguments", "missing required field: view_id or external_id")
        view = self._checked_view(args["view"], {"modal", "home"})
        views = {**self._state.modals, **{v["id"]: v for v in self._state.homes.values()}}
        current = next(
            (
                v
                for v in views.values()
                if (view_id and v["id"] == view_id) or (external_id and v.get("external_id") == external_id)
            ),
            None,
        )
        if current is None:
            raise _Failure("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise _Failure("hash_conflict")
        stored = self._stored_view(view, current["id"])
        if current["id"] in self._state.modals:
            self._state.modals[current["id"]] = stored
        else:
            owner = next(u for u, v in self._state.homes.items() if v["id"] == current["id"])
            self._state.homes[owner] = stored
        return {"view": copy.deepcopy(stored)}

    def _views_publish(self, args: JSON) -> JSON:
        _required(args, "user_id", "view")
        user_id = args["user_id"]
        if user_id not in self._state.users:
            raise _Failure("user_not_found")
        view = self._checked_view(args["view"], {"home"})
        current = self._state.homes.get(user_id)
        if current and args.get("hash") and args["hash"] != current["hash"]:
            raise _Failure("hash_conflict")
        stored = self._stored_view(view, current["id"] if current else None)
        self._state.homes[user_id] = stored
        return {"view": copy.deepcopy(stored)}

    def _users_info(self, args: JSON) -> JSON:
        _required(args, "user")
        user = self._state.users.get(args["user"])
        if user is None:
            raise _Failure("user_not_found")
        return {"user": user.to_api(self.team_id, include_locale=_truthy(args.get("include_locale")))}

    def _users_lookup_by_email(self, args: JSON) -> JSON:
        _required(args, "email")
        wanted = str(args["email"]).lower()
        for user in self._state.users.values():
            if user.email and user.email.lower() == wanted:
                return {"user": user.to_api(self.team_id)}
        raise _Failure("users_not_found")

    def _conversations_open(self, args: JSON) -> JSON:
        if args.get("channel"):
            channel = self._resolve_channel(args["channel"], allow_user_id=False)
            return {"channel": {"id": channel}, "no_op": True, "already_open": True}
        _required(args, "users")
        users = tuple(sorted(u.strip() for u in str(args["users"]).split(",") if u.strip()))
        for user in users:
            if user not in self._state.users:
                raise _Failure("user_not_found")
        if len(users) == 1:
            already_open = users[0] in self._state.dms
            channel = self._open_dm(users[0])
        else:
            already_open = users in self._state.group_dms
            channel = self._state.group_dms.setdefault(users, self._new_id("G"))
        reply: JSON = {"channel": {"id": channel}}
        if already_open:
            reply.update(no_op=True, already_open=True)
        return reply

    # -- response_url

    def _respond(self, hook_id: str, body: JSON) -> None:
        hook = self._state.hooks.get(hook_id)
        if hook is None or time.monotonic() - hook.issued > self.response_url_ttl:
            raise _Failure("expired_url", status=404)
        if hook.uses >= RESPONSE_URL_USES:
            raise _Failure("used_url", f"a response_url works {RESPONSE_URL_USES} times", status=404)
        hook.uses += 1
        if body.get("delete_original"):
            self._delete_original(hook)
            return
        if body.get("replace_original"):
            text = _message_text(body)
            self._replace_original(hook, text, _checked_blocks(body.get("blocks"), MAX_MESSAGE_BLOCKS))
        else:
            self._reply(hook.user, hook.channel, body, RESPONSE_URL)

    def _reply(self, user_id: str, channel: str, body: JSON, via: str) -> None:
        text = _message_text(body)
        blocks = _checked_blocks(body.get("blocks"), MAX_MESSAGE_BLOCKS)
        if body.get("response_type") == "in_channel":
            message = Message(
                channel=channel,
                ts=self._next_ts(),
                text=text,
                blocks=blocks,
                user=self.bot_user_id,
                bot_id=self.bot_id,
                thread_ts=body.get("thread_ts") or None,
            )
            self._state.channels[channel].append(message)
        else:
            self._state.ephemerals.append(Ephemeral(channel, user_id, self._next_ts(), text, blocks, via))

    def _replace_original(self, hook: _Hook, text: str, blocks: list[JSON]) -> None:
        if hook.message_ts is None:
            raise _Failure("no_original_message", status=404)
        if hook.is_ephemeral:
            original = self._find_ephemeral(hook)
            original.text, original.blocks = text, blocks
            return
        message = self._find_message(hook.channel, hook.message_ts, status=404)
        message.text, message.blocks = text, blocks
        message.edits += 1

    def _delete_original(self, hook: _Hook) -> None:
        if hook.message_ts is None:
            raise _Failure("no_original_message", status=404)
        if hook.is_ephemeral:
            self._state.ephemerals.remove(self._find_ephemeral(hook))
            return
        message = self._find_message(hook.channel, hook.message_ts, status=404)
        self._state.channels[hook.channel].remove(message)

    # -- helpers

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ids):06d}"

    def _open_dm(self, user_id: str) -> str:
        return self._state.dms.setdefault(user_id, self._new_id("D"))

    def _dm_or_channel(self, channel: str) -> str:
        return self._state.dms.get(channel, channel)

    def _resolve_channel(self, channel: Any, *, allow_user_id: bool) -> str:
        channel = str(channel)
        if channel[:1] in ("U", "W"):
            if not allow_user_id or channel not in self._state.users:
                raise _Failure("channel_not_found")
            return self._open_dm(channel)
        if channel.startswith("D") and channel not in self._state.dms.values():
            raise _Failure("channel_not_found")
        return channel

    def _find_message(self, channel: str, ts: Any, *, status: int = 200) -> Message:
        for message in self._state.channels.get(channel, []):
            if message.ts == ts:
                return message
        raise _Failure("message_not_found", status=status)

    def _find_ephemeral(self, hook: _Hook) -> Ephemeral:
        for ephemeral in self._state.ephemerals:
            if (ephemeral.channel, ephemeral.user, ephemeral.ts) == (
                hook.channel,
                hook.user,
                hook.message_ts,
            ):
                return ephemeral
        raise _Failure("message_not_found", status=404)

    def _use_trigger(self, trigger_id: Any) -> str:
        trigger = self._state.triggers.get(str(trigger_id))
        if trigger is None:
            raise _Failure("invalid_trigger_id")
        if trigger.used:
            raise _Failure("exchanged_trigger_id")
        if time.monotonic() - trigger.issued > self.trigger_ttl:
            raise _Failure("expired_trigger_id")
        trigger.used = True
        return trigger.user

    def _views_of(self, user_id: str | None) -> list[str]:
        return [v for v, owner in self._state.modal_owner.items() if owner == user_id]

    def _checked_view(self, raw: Any, types: set[str]) -> JSON:
        view = _decoded(raw, "invalid_arguments")
        if not isinstance(view, dict) or view.get("type") not in types:
            raise _Failure("invalid_arguments", f"view.type must be one of {sorted(types)}")
        if view["type"] == "modal" and not view.get("title"):
            raise _Failure("invalid_arguments", "a modal needs a title")
        return {**view, "blocks": _checked_blocks(view.get("blocks", []), MAX_VIEW_BLOCKS)}

    def _stored_view(self, view: JSON, view_id: str | None = None) -> JSON:
        view_id = view_id or self._new_id("V")
        return {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view["blocks"],
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": view.get("title"),
            "submit": view.get("submit"),
            "close": view.get("close"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "external_id": view.get("external_id", ""),
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }


@contextlib.contextmanager
def _refused_ack() -> Iterator[None]:
    try:
        yield
    except _Failure as failure:
        raise ValueError(f"Slack would refuse this answer: {failure.body()}") from None


async def _read_args(request: web.Request) -> JSON:
    args: JSON = dict(request.query)
    if not request.body_exists:
        return args
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _Failure("invalid_json") from None
        if not isinstance(body, dict):
            raise _Failure("invalid_json")
        args.update(body)
    else:
        form = await request.post()
        args.update((key, value) for key, value in form.items() if isinstance(value, str))
    return args


def _required(args: JSON, *names: str) -> None:
    for name in names:
        if args.get(name) in (None, ""):
            raise _Failure("invalid_arguments", f"missing required field: {name}")


def _decoded(value: Any, error: str) -> Any:
    """Form and query bodies carry structured arguments as JSON strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _Failure(error) from None
    return value


def _message_text(args: JSON) -> str:
    text = args.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _Failure(
            "no_text",
            "a non-empty top-level text is required: it is the notification and screen-reader text",
        )
    if len(text) > MAX_TEXT_LENGTH:
        raise _Failure("msg_too_long")
    return text


def _checked_blocks(raw: Any, limit: int) -> list[JSON]:
    if raw is None:
        return []
    blocks = _decoded(raw, "invalid_blocks_format")
    if not isinstance(blocks, list) or not all(
        isinstance(block, dict) and isinstance(block.get("type"), str) for block in blocks
    ):
        raise _Failure("invalid_blocks_format", "blocks must be a list of objects with a type")
    if len(blocks) > limit:
        raise _Failure("invalid_blocks", f"{len(blocks)} blocks, at most {limit} allowed")
    _refuse_duplicates("block_id", [b["block_id"] for b in blocks if "block_id" in b])
    _refuse_duplicates("action_id", list(_action_ids(blocks)))
    checked = copy.deepcopy(blocks)
    for block in checked:
        # Slack names every block; the driver finds clicked elements through these ids.
        block.setdefault("block_id", secrets.token_urlsafe(4))
    return checked


def _refuse_duplicates(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for id_ in ids:
        if id_ in seen:
            raise _Failure("invalid_blocks", f"duplicate {kind} {id_!r}")
        seen.add(id_)


def _action_ids(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("action_id"), str):
            yield node["action_id"]
        for value in node.values():
            yield from _action_ids(value)
    elif isinstance(node, list):
        for item in node:
            yield from _action_ids(item)


def _truthy(value: Any) -> bool:
    """A boolean argument as Slack reads it from a form (`true`, `1`) or from JSON (`true`)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)
