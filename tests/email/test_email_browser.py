"""The link page in headless Chromium at phone size (390x844): readable, no sideways scroll, decides."""

import os
import tempfile
from pathlib import Path

from email_kit import NOW, Desk, link_for, mail_settings, serve_pages

from notifications.email import render_request
from tests.support.browser import ARGS, BROWSER, CHROMIUM, PHONE
from tests.support.quotes import ROOT

# Refreshed on purpose with GREENLIGHT_SHOTS set (see tests/e2e/conftest.py), never as a side effect.
SHOTS = ROOT / "docs" if os.environ.get("GREENLIGHT_SHOTS") else Path(tempfile.mkdtemp(prefix="greenlight-shots-"))
SCREENSHOT = SHOTS / "email-page-390x844.png"

pytestmark = BROWSER


async def test_on_a_phone_the_page_fits_the_screen_and_one_confirmation_approves():
    from playwright.async_api import async_playwright

    desk = await Desk.submitted(account={"id": "A-2301", "name": "Meridian Freight Lines"})
    await desk.service.decide("Q-1042", "payment-terms", "carl", "approve", desk.clock(), "Net 90 is fine this once")
    async with serve_pages(desk) as site, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page(viewport=PHONE, device_scale_factor=1)
            answer = await page.goto(link_for(site, await desk.sub(), "marco"))
            assert answer is not None and answer.status == 200
            approve = page.get_by_role("button", name="Approve Q-1042")
            assert await approve.is_visible()
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
            box = await approve.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
            assert box["height"] >= 44  # a comfortable tap target
            assert await page.evaluate("getComputedStyle(document.body).fontSize") == "16px"
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT))

            async with page.expect_navigation():
                await approve.click()
            assert await page.get_by_role("heading", name="Approved").is_visible()
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        finally:
            await browser.close()
    approval = (await desk.sub()).approval("manager-discount")
    assert (approval.status, approval.acted_by) == ("approved", "marco")


async def test_on_a_phone_a_rejection_cannot_be_sent_without_a_reason():
    from playwright.async_api import async_playwright

    desk = await Desk.submitted()
    before = desk.snapshot()
    async with serve_pages(desk) as site, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page(viewport=PHONE)
            await page.goto(link_for(site, await desk.sub(), "marco", verdict="reject"))
            reject = page.get_by_role("button", name="Reject Q-1042")
            await reject.click()  # the browser holds the empty required field back
            assert await page.evaluate("document.querySelector('#reject-reason').validity.valueMissing")
            assert desk.snapshot() == before
            await page.get_by_label("Reason").fill("40% on seats is below our floor")
            async with page.expect_navigation():
                await reject.click()
            assert await page.get_by_role("heading", name="Rejected").is_visible()
        finally:
            await browser.close()
    assert (await desk.sub()).comment == "40% on seats is below our floor"


async def test_the_html_email_fits_a_phone_screen_too():
    from playwright.async_api import async_playwright

    desk = await Desk.submitted()
    sub = await desk.sub()
    message = render_request(
        mail_settings(), desk.policy, sub, sub.approval("manager-discount"), "marco", outbox_key="outbox-1", now=NOW
    )
    html = message.get_body(("html",))
    assert html is not None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page(viewport=PHONE, java_script_enabled=False)
            await page.set_content(html.get_content())
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
            assert await page.get_by_role("link", name="Approve").is_visible()
            assert await page.get_by_role("link", name="Reject").is_visible()
        finally:
            await browser.close()
