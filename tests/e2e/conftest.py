"""The demo (`sandbox.demo.Demo`) in headless Chromium at phone size, driven by Playwright.

Every test starts the whole demo (Slack stand-in, mailbox, ERP stand-in, the real bot on SQLite,
the sandbox page) on loopback ports and a fresh database, and drives the page as a person would.
Waiting is Playwright's auto-waiting on what the page shows; nothing sleeps.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from sandbox.demo import Demo
from tests.support.browser import ARGS, BROWSER, CHROMIUM, PHONE
from tests.support.quotes import ROOT

# The README's screenshots are refreshed on purpose (`GREENLIGHT_SHOTS=docs/walkthrough make test`), never
# as a side effect of a test run: by default they go to a folder of the run's own.
SHOTS = (
    ROOT / os.environ["GREENLIGHT_SHOTS"]
    if os.environ.get("GREENLIGHT_SHOTS")
    else Path(tempfile.mkdtemp(prefix="greenlight-shots-"))
)

# One browser for the whole run (launching takes seconds): the tests, the demo and the browser
# share the session's event loop.
in_session_loop = pytest.mark.asyncio(loop_scope="session")
BROWSER_TESTS = [*BROWSER, in_session_loop]


@pytest_asyncio.fixture(loop_scope="session")
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    async with Demo.running(data_dir=tmp_path / "demo") as running:
        yield running


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    playwright_api = pytest.importorskip("playwright.async_api", reason="Playwright's Python package is missing")
    playwright_api.expect.set_options(timeout=10_000)
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


class Phone:
    """The sandbox page on a phone-sized screen, with the moves a person makes in it."""

    def __init__(self, page: Any, demo: Demo) -> None:
        from playwright.async_api import expect

        self.page = page
        self.demo = demo
        self.expect = expect
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    async def open(self) -> None:
        await self.page.goto(self.demo.url)
        await self.expect(self.page.locator("body[data-ready=true]")).to_be_attached()

    async def act_as(self, person: str) -> None:
        await self.page.get_by_label("Acting as").select_option(person)
        await self.expect(self.page.get_by_label("Acting as")).to_have_value(person)

    async def reads(self, person: str, language: str) -> None:
        """Act as `person` and switch the language they read with the sandbox's menu."""
        await self.act_as(person)
        menu = self.page.get_by_label("Language this person reads")
        await menu.select_option(language)
        await self.expect(menu).to_have_value(language)
        await self.expect(self.page.locator("#toast")).to_contain_text("now reads")
        await self.page.locator("#toast").evaluate("node => { node.hidden = true; }")  # not in the screenshots

    async def tab(self, name: str) -> None:
        await self.page.get_by_role("tab", name=name).click()
        await self.expect(self.page.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")

    async def send(self, text: str) -> None:
        await self.tab("Messages")
        box = self.page.get_by_label("Message Greenlight")
        await box.fill(text)
        await self.page.get_by_role("button", name="Send").click()
        await self.expect(box).to_have_value("")

    def message(self, *texts: str) -> Any:
        """The top-level message (or ephemeral) showing every one of `texts`."""
        found = self.page.locator("#stream > article.msg")
        for text in texts:
            found = found.filter(has_text=text)
        return found

    def request(self, rule: str, version: str) -> Any:
        return self.message(rule, version).filter(has=self.page.locator('[data-block-id="request.why"]'))

    async def thread(self, *texts: str) -> Any:
        """Open the thread of the root message showing `texts`; returns the thread."""
        root = self.message(*texts)
        await self.expect(root).to_have_count(1)
        toggle = root.get_by_role("button", name=re.compile(r"^\d+ repl"))
        if await toggle.get_attribute("aria-expanded") != "true":
            await toggle.click()
        return root.locator(".thread")

    async def approve(self, person: str, rule: str, version: str, outcome: str = "Approved by") -> None:
        await self.act_as(person)
        request = self.request(rule, version)
        await request.get_by_role("button", name="Approve", exact=True).click()
        await self.expect(request).to_contain_text(outcome)
        await self.expect(request.get_by_role("button", name="Approve", exact=True)).to_have_count(0)

    async def shot(self, name: str, top: Any = None) -> None:
        """Screenshot the screen as it is, or with `top` scrolled to the top of its list first."""
        if top is not None:
            await top.evaluate("node => node.scrollIntoView({block: 'start'})")
        (SHOTS / name).parent.mkdir(parents=True, exist_ok=True)  # "fr/1-rep-submits.png" has a folder
        await self.page.screenshot(path=str(SHOTS / name))

    async def fits(self) -> None:
        """Nothing on the screen scrolls sideways: not the page, not a panel, not a modal."""
        overflowing = await self.page.evaluate(
            """() => [...document.querySelectorAll('html, .panel, .stream, .modal-body')]
                .filter((node) => node.offsetParent !== null || node === document.documentElement)
                .filter((node) => node.scrollWidth > node.clientWidth + 1)
                .map((node) => `${node.id || node.className}: ${node.scrollWidth}px in ${node.clientWidth}px`)"""
        )
        assert overflowing == [], f"sideways scrolling on a {PHONE['width']}px screen: {overflowing}"


@pytest_asyncio.fixture(loop_scope="session")
async def phone(demo: Demo, browser: Any) -> AsyncIterator[Phone]:
    context = await browser.new_context(viewport=PHONE, device_scale_factor=1)
    page = await context.new_page()
    screen = Phone(page, demo)
    try:
        await screen.open()
        yield screen
        assert screen.errors == [], screen.errors
    finally:
        await context.close()
