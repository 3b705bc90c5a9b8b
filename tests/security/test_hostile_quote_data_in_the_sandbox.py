"""The sandbox's browser client shows hostile quote data as text: headless Chromium opens Felix's DM
(the request for Q-7001, whose customer name carries HTML, a script, Slack links and mentions)."""

from __future__ import annotations

from sandbox.web import Sandbox, members_of
from tests.support.browser import ARGS, BROWSER, CHROMIUM

from .conftest import App, backdated_quote

CUSTOMER = (
    'Acme <img src=x onerror="window.pwnd=1"> <script>window.pwnd=2</script> '
    "<!channel> <@U03MB2N7RGM> <https://evil.example|Approve here> &amp;lt;b&amp;gt;"
)

pytestmark = BROWSER


async def test_html_links_and_mentions_in_quote_data_show_as_text_in_the_sandbox(app: App) -> None:
    from playwright.async_api import async_playwright

    await app.submit(backdated_quote(account={"id": "A-9001", "name": CUSTOMER, "segment": "Enterprise"}))
    async with (
        Sandbox(app.slack, app.driver, members_of(app.policy)) as sandbox,
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: dialogs.append(dialog.message))
            await page.goto(f"{sandbox.url}#person=felix&tab=messages")
            request = page.locator("#stream article", has_text="Approval needed")
            await request.first.wait_for()

            shown = await request.first.inner_text()
            assert "<script>window.pwnd=2</script>" in shown, shown
            assert "<!channel>" in shown and "<https://evil.example|Approve here>" in shown, shown
            assert "&amp;lt;b&amp;gt;" in shown, "an entity in the data shows as typed (decoded once, by Slack)"
            assert await page.evaluate("window.pwnd") is None
            assert dialogs == []
            assert await page.locator("#stream img, #stream script, #stream iframe").count() == 0
            assert await page.locator('a[href*="evil.example"]').count() == 0
            assert await page.locator("#stream .mention").count() == 0, "the data's <@...> and <!channel> are text"
        finally:
            await browser.close()
