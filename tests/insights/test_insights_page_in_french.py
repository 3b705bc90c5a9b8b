"""The insights page over real HTTP in the admin's language, its times in the policy's zone, named."""

from __future__ import annotations

import datetime as dt

import aiohttp
from aiohttp import web

from domain.policy import load_policy
from notifications import insights_page
from store.insights import gather
from tests.support.history import fill, policy_text
from tests.support.loopback import served

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
SECRET = "insights-french-secret-0123456789"


async def test_a_french_admin_reads_the_insights_page_in_french_with_the_expiry_in_the_policys_zone(
    connected: str,
) -> None:
    await fill(40, start=NOW - dt.timedelta(days=20), span=dt.timedelta(days=19))
    text = policy_text(25).replace("timezone: UTC", "timezone: Europe/Paris\nlocale: fr", 1)
    policy = load_policy(text, "policy.yaml")
    app = web.Application()

    async def figures(now: dt.datetime, since: dt.datetime | None) -> object:
        return await gather(policy, now, since, None)

    insights_page.add_routes(app, policy=lambda: policy, gather=figures, secret=SECRET, clock=lambda: NOW)  # type: ignore[arg-type]
    token = insights_page.issue(SECRET, "dana", NOW)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    async with served(app) as url, aiohttp.ClientSession() as session:
        async with session.get(f"{url}/insights/{token}") as answer:
            page = await answer.text()
            assert answer.status == 200
        async with session.get(f"{url}/insights/{forged}") as refused:
            refusal = await refused.text()
            assert refused.status == 403
    assert '<html lang="fr">' in page
    assert "<h1>Où les affaires attendent</h1>" in page
    assert "Indicateurs Greenlight · du 2 novembre 2026 au 30 novembre 2026" in page
    assert "ce lien est valable jusqu’à 10:15 (Paris)." in page  # 09:15 UTC, named in the policy's zone
    assert "<h2>Goulots d’étranglement</h2>" in page
    assert "Where deals wait" not in page and "Bottlenecks" not in page
    assert "Ce lien a été modifié" in refusal and "Rien n’a été modifié." in refusal
