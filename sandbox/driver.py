"""Plays Slack's side of the Request URL: signed slash commands, clicks, submissions and events.

`SlackDriver` posts to a bolt app the way Slack does (same encodings, same signature headers,
payload shapes taken from Slack's reference) and hands out ``response_url`` and ``trigger_id``
values served by a `SlackStandIn`, so the app's replies land where tests can see them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import aiohttp

from sandbox.slack_api import JSON, Ephemeral, Message, SlackStandIn


@dataclass(frozen=True)
class Signing:
    """How a request is signed: honestly by default."""

    forge: bool = False
    clock_skew: float = 0.0


HONEST = Signing()
BAD_SIGNATURE = Signing(forge=True)
STALE_TIMESTAMP = Signing(clock_skew=-10 * 60)


@dataclass(frozen=True)
class DriverResponse:
    """The app's HTTP answer, and the handles Slack gave it with the request."""

    status: int
    headers: Mapping[str, str]
    body: str
    response_url: str | None = None
    trigger_id: str | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def slack_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class SlackDriver:
    """Sends what Slack would send to ``request_url``. Use ``async with SlackDriver(...)``."""

    def __init__(
        self,
        request_url: str,
        *,
        signing_secret: str,
        stand_in: SlackStandIn,
        verification_token: str = "deprecated-verification-token",
    ) -> None:
        self.request_url = request_url
        self._secret = signing_secret
        self._slack = stand_in
        self._verification_token = verification_token
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def command(
        self,
        user_id: str,
        command: str,
        text: str = "",
        *,
        channel_id: str | None = None,
        signing: Signing = HONEST,
    ) -> DriverResponse:
        channel = channel_id or self._slack.dm_channel(user_id)
        response_url = self._slack.response_url(user_id, channel)
        trigger_id = self._slack.issue_trigger_id(user_id)
        fields = {
            "token": self._verification_token,
            "team_id": self._slack.team_id,
            "team_domain": self._slack.team_domain,
            "channel_id": channel,
            "channel_name": _channel_name(channel),
            "user_id": user_id,
            "user_name": self._user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": self._slack.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        body = urlencode(fields).encode()
        answer = await self._post(body, _FORM, signing, response_url, trigger_id)
        if answer.status == 200 and answer.body:
            ack = answer.json() if _is_json(answer) else {"text": answer.body}
            self._slack.command_acked(user_id, channel, ack)
        return answer

    async def click(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        *,
        message: Message | Ephemeral | None = None,
        view: Mapping[str, Any] | None = None,
        channel_id: str | None = None,
        block_id: str | None = None,
        selected: Mapping[str, Any] | None = None,
        signing: Signing = HONEST,
    ) -> DriverResponse:
        """Click the element ``action_id`` on a message (or an ephemeral one) or a view.

        The element is looked up on that surface, as a user can only click what is shown;
        pass ``block_id`` to click an element that is not there any more (a stale client).
        ``selected`` is what a picker now holds, as Slack sends it: ``{"selected_date": "2026-12-09"}``.
        """
        blocks = view["blocks"] if view is not None else message.blocks if message else []
        found = _find_element(blocks, action_id)
        if found is not None:
            shown_block_id, element = found
        elif block_id is not None or (message is None and view is None):
            shown_block_id, element = "", {"type": "button"}
        else:
            raise LookupError(f"nothing with action_id {action_id!r} is shown there")
        action: JSON = {
            "action_id": action_id,
            "block_id": block_id or shown_block_id,
            "type": element.get("type", "button"),
            "action_ts": f"{time.time():.6f}",
        }
        if "text" in element:
            action["text"] = element["text"]
        if value is not None or "value" in element:
            action["value"] = value if value is not None else element["value"]
        action.update(selected or {})

        trigger_id = self._slack.issue_trigger_id(user_id)
        payload: JSON = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self._slack.app_id,
            "token": self._verification_token,
            "trigger_id": trigger_id,
            "team": {"id": self._slack.team_id, "domain": self._slack.team_domain},
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
            channel = message.channel if message else channel_id or self._slack.dm_channel(user_id)
            ephemeral = isinstance(message, Ephemeral)
            ts = message.ts if message else None
            response_url = self._slack.response_url(user_id, channel, ts, is_ephemeral=ephemeral)
            payload["container"] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": channel, "name": _channel_name(channel)}
            if isinstance(message, Message):
                payload["message"] = message.to_payload()
            payload["response_url"] = response_url
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self._post(body, _FORM, signing, response_url, trigger_id)

    async def submit_view(
        self,
        user_id: str,
        view: Mapping[str, Any],
        values: Mapping[str, Mapping[str, Any]],
        *,
        signing: Signing = HONEST,
    ) -> DriverResponse:
        """Submit a modal with ``values[block_id][action_id]``, then close or change it as Slack
        does with the app's answer. A plain value is shaped for its element's type; a mapping is
        used as the element's state as is.
        """
        state = {
            block_id: {
                action_id: _state_of(_input_element(view, block_id, action_id), entered)
                for action_id, entered in by_action.items()
            }
            for block_id, by_action in values.items()
        }
        trigger_id = self._slack.issue_trigger_id(user_id)
        payload: JSON = {
            "type": "view_submission",
            "team": {"id": self._slack.team_id, "domain": self._slack.team_domain},
            "user": self._user(user_id),
            "api_app_id": self._slack.app_id,
            "token": self._verification_token,
            "trigger_id": trigger_id,
            "view": {**view, "state": {"values": state}},
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        answer = await self._post(body, _FORM, signing, None, trigger_id)
        if answer.status == 200:
            ack = answer.json() if _is_json(answer) else None
            self._slack.view_submitted(view["id"], ack)
        return answer

    async def app_home_opened(self, user_id: str, *, signing: Signing = HONEST) -> DriverResponse:
        event: JSON = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self._slack.dm_channel(user_id),
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        home = self._slack.home_view(user_id)
        if home is not None:
            event["view"] = home
        return await self.event(event, signing=signing)

    async def event(
        self,
        event: Mapping[str, Any],
        *,
        retry_num: int | None = None,
        signing: Signing = HONEST,
    ) -> DriverResponse:
        """Deliver an Events API ``event_callback``; ``retry_num`` marks Slack's redeliveries."""
        envelope = {
            "token": self._verification_token,
            "team_id": self._slack.team_id,
            "api_app_id": self._slack.app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns():X}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self._slack.team_id,
                    "user_id": self._slack.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "timeout"}
        body = json.dumps(envelope).encode()
        return await self._post(body, "application/json", signing, None, None, headers)

    async def _post(
        self,
        body: bytes,
        content_type: str,
        signing: Signing,
        response_url: str | None,
        trigger_id: str | None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> DriverResponse:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        timestamp = str(int(time.time() + signing.clock_skew))
        secret = f"not-{self._secret}" if signing.forge else self._secret
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack_signature(secret, timestamp, body),
            **(extra_headers or {}),
        }
        async with self._session.post(self.request_url, data=body, headers=headers) as answer:
            text = await answer.text()
            return DriverResponse(
                status=answer.status,
                headers=answer.headers.copy(),
                body=text,
                response_url=response_url,
                trigger_id=trigger_id,
            )

    def _user_name(self, user_id: str) -> str:
        user = self._slack.user(user_id)
        return user.name if user else user_id

    def _user(self, user_id: str) -> JSON:
        name = self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self._slack.team_id}


_FORM = "application/x-www-form-urlencoded"


def _is_json(answer: DriverResponse) -> bool:
    content_type = answer.headers.get("Content-Type", "")
    return content_type.startswith("application/json") and bool(answer.body)


def _channel_name(channel: str) -> str:
    return "directmessage" if channel.startswith("D") else channel


def _elements(block: Mapping[str, Any]) -> list[JSON]:
    found = [e for e in block.get("elements", []) if isinstance(e, dict)]
    found += [block[key] for key in ("accessory", "element") if isinstance(block.get(key), dict)]
    return found


def _find_element(blocks: list[JSON], action_id: str) -> tuple[str, JSON] | None:
    for block in blocks:
        for element in _elements(block):
            if element.get("action_id") == action_id:
                return block.get("block_id", ""), element
    return None


def _input_element(view: Mapping[str, Any], block_id: str, action_id: str) -> JSON:
    for block in view["blocks"]:
        if block.get("block_id") == block_id:
            for element in _elements(block):
                if element.get("action_id") == action_id:
                    return element
    raise KeyError(f"the view has no element {block_id}/{action_id} to fill in")


_VALUE_FIELD = {
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
}


def _state_of(element: Mapping[str, Any], entered: Any) -> JSON:
    kind = element["type"]
    if isinstance(entered, Mapping):
        return {"type": kind, **entered}
    if kind in _VALUE_FIELD:
        return {"type": kind, _VALUE_FIELD[kind]: entered}
    options = {o.get("value"): o for o in element.get("options", [])}
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": options.get(entered, {"value": entered})}
    if kind in ("multi_static_select", "checkboxes"):
        return {"type": kind, "selected_options": [options.get(v, {"value": v}) for v in entered]}
    return {"type": kind, "value": entered}
