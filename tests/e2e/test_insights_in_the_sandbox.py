"""The sandbox shows the insights: Dana (an admin) types /deal insights and opens the charts from its link."""

from __future__ import annotations

from .conftest import BROWSER_TESTS, Phone

pytestmark = BROWSER_TESTS


async def test_an_admin_opens_the_chart_page_from_deal_insights_in_the_sandbox(phone: Phone) -> None:
    page, expect = phone.page, phone.expect
    await phone.act_as("ava")
    await phone.send("/deal submit Q-1042")
    await expect(phone.message("Submitted as Q-1042#1")).to_be_visible()
    await phone.approve("marco", "manager-discount", "Q-1042 v1")

    await phone.act_as("dana")
    await phone.send("/deal insights")
    answer = phone.message("Where deals wait: last 28 days")
    await expect(answer).to_contain_text("Worst bottlenecks")
    await expect(answer).to_contain_text("Open now: 3")
    await phone.fits()
    await phone.shot("insights-in-slack.png", top=answer)

    async with page.context.expect_page() as opened:
        await answer.get_by_role("button", name="Open the charts").click()
    charts = await opened.value
    await charts.wait_for_load_state()
    assert charts.url.startswith(f"{phone.demo.bot_url}/insights/")
    await expect(charts.get_by_role("heading", name="Where deals wait")).to_be_visible()
    assert await charts.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert await charts.evaluate("document.documentElement.scrollWidth") <= 390
    await charts.close()
