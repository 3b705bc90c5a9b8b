"""Each Slack user's locale (`users.info` with `include_locale`), kept beside their Slack id.

Slack tells an app a user's language only when asked (`include_locale=true`, scope `users:read`).
Asking on every click would add a Web API call to each one, so the answer is kept in memory for
`KEEP` (a person rarely changes their Slack language; a new one is seen within that time) and a
failed lookup is not tried again for `RETRY_AFTER`: while Slack is unreachable, people read the
policy's language instead of waiting. Each replica keeps its own copy: the cost is one call per
person per replica and per `KEEP`.

The lookup sits on the way to an ack (the middleware learns the language of whoever clicked), so
it is bounded (`LOOKUP_WITHIN`) and never raises: whatever goes wrong, the person reads the
policy's language this time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from domain.policy import Policy

log = logging.getLogger("greenlight.bot")

KEEP = dt.timedelta(hours=12)
RETRY_AFTER = dt.timedelta(minutes=10)
LOOKUP_WITHIN = 1.0
"""Seconds a lookup may take before the person reads the policy's language (Slack wants an ack in 3 s)."""


@dataclass(frozen=True)
class _Known:
    locale: str | None
    until: dt.datetime


class SlackLocales:
    def __init__(self, client: AsyncWebClient, clock: Callable[[], dt.datetime]) -> None:
        self.client = client
        self.clock = clock
        self._known: dict[str, _Known] = {}

    def known(self, slack_id: str | None) -> str | None:
        """The locale already learnt for `slack_id` (`fr-FR`), without asking Slack; None if none."""
        found = self._known.get(slack_id or "")
        return found.locale if found is not None else None

    async def of(self, slack_id: str | None) -> str | None:
        """The Slack locale of `slack_id`, asked of Slack when not known or known for too long."""
        if not slack_id:
            return None
        now = self.clock()
        found = self._known.get(slack_id)
        if found is not None and now < found.until:
            return found.locale
        try:
            async with asyncio.timeout(LOOKUP_WITHIN):
                answer = await self.client.users_info(user=slack_id, include_locale=True)
        except Exception as error:  # a language is never worth a failed click: any trouble, the default
            log.warning("Slack locale of %s not read: %r; trying again later", slack_id, error)
            stale = found.locale if found is not None else None
            self._known[slack_id] = _Known(stale, now + RETRY_AFTER)
            return stale
        locale = (answer.get("user") or {}).get("locale")
        learnt = locale if isinstance(locale, str) and locale else None
        self._known[slack_id] = _Known(learnt, now + KEEP)
        return learnt

    async def person_locale(self, policy: Policy, person: str | None, slack_id: str | None = None) -> str:
        """The language `person` reads (`policy.person_locale`); Slack is asked only when the policy
        does not name their language."""
        entry = policy.people.get(person) if person else None
        if entry is not None and entry.locale:
            return policy.person_locale(person)
        return policy.person_locale(person, await self.of(slack_id or (entry.slack if entry else None)))
