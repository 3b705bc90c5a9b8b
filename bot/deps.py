"""What the Slack side needs from the rest of Greenlight, and nothing more.

The composition root (`greenlight.app`) builds one `Deps` and hands it to
`bot.listeners.register_all`; the listeners and `bot.render` reach the store, the services and
Slack only through it, so `bot/` never imports the composition root.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from slack_sdk.web.async_client import AsyncWebClient

from domain.backtest import Backtest
from domain.insights import Insights
from domain.order_service import Orders
from domain.policy import Policy
from domain.service import Approvals

from .locales import SlackLocales

Clock = Callable[[], dt.datetime]


class Kick(Protocol):
    def __call__(self, *sweeps: str) -> None:
        """Run these sweeps now ("slack" and "email" when none is named): a commit queued outbox rows."""


@dataclass(frozen=True)
class Deps:
    policy: Policy
    service: Approvals
    orders: Orders
    client: AsyncWebClient
    clock: Clock
    dm_channel: Callable[[str], Awaitable[str]]
    """The app's DM with a Slack user: where a click that came without a response_url is answered."""
    requeue: Callable[[int, dt.datetime], Awaitable[bool]]
    """Put a dead outbox row back in line (the admins' Retry); False when no dead row has that id."""
    kick: Kick
    requeue_crm: Callable[[str, dt.datetime], Awaitable[int]] | None = None
    """Put a quote's dead CRM webhooks back in line (the admins' Retry); how many were dead."""
    insights: Callable[[dt.datetime, dt.datetime | None], Awaitable[Insights]] | None = None
    """The insights figures at `now` for submissions since a moment (None: no database)."""
    insights_link: Callable[[str, dt.datetime], str | None] | None = None
    """A signed, short-lived link to the chart page for an admin (None: no GREENLIGHT_SECRET)."""
    policy_diff: Callable[[], Awaitable[tuple[Backtest, str, bool]]] | None = None
    """The policy file on disk replayed against the one in force: (result, its path, identical?)."""
    reload_policy: Callable[[str], Awaitable[tuple[bool, str]]] | None = None
    """Put the policy file in force in every replica, asked by a person: (applied or unchanged?, the sentence)."""
    locales: SlackLocales | None = None
    """Each Slack user's locale, learnt once and kept (None: everyone reads the policy's language)."""
    home_pages: dict[str, int] = field(default_factory=dict)
    """The page of "Waiting on you" each person turned to in App Home (people key -> page from 2;
    absent: the first), kept by this process: republishing a Home shows the page its reader is on."""
