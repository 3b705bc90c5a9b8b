"""Wiring of the insights for `serve`: what `/deal insights` and `/deal policy diff` need, and the chart page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from aiohttp import web

from domain.backtest import Backtest
from domain.insights import Insights
from domain.policy import Policy, read_policy
from notifications import insights_page
from store.backtest import backtest
from store.insights import gather

from .settings import Settings

Clock = Callable[[], dt.datetime]
DIFF_PERIOD = dt.timedelta(days=90)
"""`/deal policy diff` replays the last 90 days inside the bot; `greenlight policy backtest` any period."""


def insights_deps(settings: Settings, policy: Callable[[], Policy], clock: Clock) -> dict[str, Any]:
    """The `Deps` fields of the insights; `policy` gives the policy in force (it may be reloaded)."""

    async def insights(now: dt.datetime, since: dt.datetime | None) -> Insights:
        return await gather(policy(), now, since, None)

    async def policy_diff() -> tuple[Backtest, str, bool]:
        path = str(settings.policy_file)
        on_disk, in_force = read_policy(path), policy()
        if on_disk == in_force:
            return Backtest(), path, True
        since = clock() - DIFF_PERIOD
        return await backtest(on_disk, in_force, since), path, False

    link: Callable[[str, dt.datetime], str] | None = None
    if settings.secret is not None:
        secret = settings.secret.get_secret_value()

        def link(person: str, now: dt.datetime) -> str:
            return insights_page.link(settings.public_url, insights_page.issue(secret, person, now))

    return {"insights": insights, "insights_link": link, "policy_diff": policy_diff}


def add_insights_routes(app: web.Application, settings: Settings, policy: Callable[[], Policy], clock: Clock) -> None:
    """GET /insights/{token}, when GREENLIGHT_SECRET is set to sign its links."""
    if settings.secret is None:
        return

    async def figures(now: dt.datetime, since: dt.datetime | None) -> Insights:
        return await gather(policy(), now, since, None)

    insights_page.add_routes(app, policy=policy, gather=figures, secret=settings.secret.get_secret_value(), clock=clock)
