"""The insights chart page in headless Chromium, on a phone (390x844) and on a desktop (1280x900).

Four weeks of history (tests/support/history.py) in the run's database; the page served by the
same route `serve` registers, opened from a link signed as `/deal insights` signs it. Screenshots
go to docs/ when GREENLIGHT_SHOTS is set (`GREENLIGHT_SHOTS=1 pytest tests/insights`), else to a
folder of the run's own.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from aiohttp import web

from domain.policy import load_policy
from notifications import insights_page
from store.insights import gather
from store.models import DelegationRow
from tests.support.browser import ARGS, BROWSER, CHROMIUM, PHONE
from tests.support.history import fill, policy_text
from tests.support.loopback import served
from tests.support.quotes import ROOT

pytestmark = BROWSER

SHOTS = ROOT / "docs" if os.environ.get("GREENLIGHT_SHOTS") else Path(tempfile.mkdtemp(prefix="greenlight-shots-"))
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
SECRET = "insights-browser-secret-0123456789"
DESKTOP = {"width": 1280, "height": 900}


async def test_the_chart_page_fits_a_phone_and_a_desktop_and_every_chart_is_drawn(connected: str) -> None:
    from playwright.async_api import async_playwright

    await fill(600, start=NOW - dt.timedelta(days=28), span=dt.timedelta(days=27))
    await DelegationRow.create(
        delegator="vera", delegate="dana", start=NOW.date(), end=NOW.date() + dt.timedelta(days=7), created_by="vera"
    )
    policy = load_policy(policy_text(25), "policy.yaml")
    app = web.Application()

    async def figures(now: dt.datetime, since: dt.datetime | None) -> object:
        return await gather(policy, now, since, None)

    insights_page.add_routes(app, policy=lambda: policy, gather=figures, secret=SECRET, clock=lambda: NOW)  # type: ignore[arg-type]
    token = insights_page.issue(SECRET, "dana", NOW)
    async with served(app) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            for size, name in ((PHONE, "390x844"), (DESKTOP, "desktop")):
                page = await browser.new_page(viewport=size, device_scale_factor=1)
                answer = await page.goto(f"{url}/insights/{token}")
                assert answer is not None and answer.status == 200
                assert await page.get_by_role("heading", name="Where deals wait").is_visible()
                assert await page.evaluate("document.documentElement.scrollWidth") <= size["width"]
                images = await page.evaluate(
                    """[...document.images].map(i => ({ok: i.complete && i.naturalWidth > 0,
                         narrow: i.currentSrc !== i.src, width: i.getBoundingClientRect().width}))"""
                )
                assert len(images) == 5
                assert all(i["ok"] for i in images), images  # every chart drawn, nothing blocked by the CSP
                assert all(i["narrow"] == (size is PHONE) for i in images), images  # the phone gets the narrow charts
                assert all(0 < i["width"] <= size["width"] for i in images)
                assert await page.evaluate("getComputedStyle(document.body).fontSize") == "16px"
                SHOTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SHOTS / f"insights-{name}.png"))
                await page.screenshot(path=str(SHOTS / f"insights-{name}-full.png"), full_page=True)
                await page.close()
        finally:
            await browser.close()
