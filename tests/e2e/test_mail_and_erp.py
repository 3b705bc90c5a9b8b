"""The sandbox's mailbox and ERP: an email's Approve link decides, a refused order is retried."""

from __future__ import annotations

from .conftest import BROWSER_TESTS, Phone

pytestmark = BROWSER_TESTS


async def test_farahs_email_approves_through_the_bots_link_page_and_slack_follows(phone: Phone) -> None:
    page, expect, demo = phone.page, phone.expect, phone.demo
    await phone.act_as("ava")
    await phone.send("/deal submit Q-1042")
    await expect(phone.message("Submitted as Q-1042#1")).to_be_visible()
    await phone.approve("fiona", "payment-terms", "Q-1042 v1", outcome="You voted to approve")
    await phone.approve("carl", "payment-terms", "Q-1042 v1")

    # rev-rec-multi-year opens: Felix is asked in Slack, Farah (not on Slack) by email.
    await phone.act_as("farah")
    await phone.tab("Mail")
    mail = page.locator("article.mail").filter(has_text="rev-rec-multi-year")
    await expect(mail).to_have_class("mail mine")
    await expect(mail).to_contain_text("farah.siddiqui@kestrel-systems.example")
    approve = mail.get_by_role("link", name="Approve")
    for link in (approve, mail.get_by_role("link", name="Reject")):
        assert (await link.get_attribute("href") or "").startswith(f"{demo.bot_url}/a/")
    await mail.get_by_text("Show the email").click()
    await expect(mail.frame_locator("iframe").get_by_role("link", name="Approve")).to_be_visible()
    await phone.fits()
    await phone.shot("mail-tab.png")

    async with page.context.expect_page() as opened:
        await approve.click()
    link_page = await opened.value
    await link_page.get_by_role("button", name="Approve Q-1042").click()
    await expect(link_page.get_by_role("heading", name="Approved")).to_be_visible()
    await link_page.close()

    await phone.act_as("felix")
    await phone.tab("Messages")
    request = phone.request("rev-rec-multi-year", "Q-1042 v1")
    await expect(request).to_contain_text("Approved by Farah Siddiqui")
    await expect(request.get_by_role("button")).to_have_count(0)


async def test_an_order_the_erp_refused_reaches_it_when_an_admin_retries(phone: Phone) -> None:
    page, expect = phone.page, phone.expect
    await phone.act_as("ava")
    await phone.send("/deal submit Q-1001")  # 9.1% off: approved at once
    thread = await phone.thread("Q-1001 v1 was approved")

    await phone.tab("ERP")
    await page.get_by_label("Refuse every delivery (422)").check()
    await expect(page.get_by_text("Every delivery is refused with 422.")).to_be_visible()

    # Q-1001-01 is for today: it is released as soon as it exists, and the ERP refuses it.
    await phone.tab("Messages")
    await thread.get_by_role("button", name="Generate orders").click()
    await expect(thread).to_contain_text("orders generated")
    await phone.tab("ERP")
    await expect(page.locator(".erp-failing")).to_contain_text("Q-1001-01:released: 1 attempt(s), last answer 422")
    await page.get_by_label("Refuse every delivery (422)").uncheck()

    await phone.act_as("dana")
    await phone.tab("Messages")
    alert = phone.message("ERP sync failed for order Q-1001-01")
    await alert.get_by_role("button", name="Retry").click()

    await phone.tab("ERP")
    received = page.locator("article.erp-order").filter(has_text="Q-1001-01")
    await expect(received).to_contain_text("accepted on attempt 2")
    await expect(page.locator(".erp-failing")).to_have_count(0)

    # Orders not yet released change from /deal orders: a new date through the date picker.
    await phone.act_as("ava")
    await phone.send("/deal orders Q-1001")
    orders = phone.message("Only visible to you", "Q-1001: 2 orders")
    await orders.locator('[data-block-id="orders.actions.Q-1001-02"] input[type=date]').fill("2026-12-09")
    await expect(orders.locator('[data-block-id="orders.order.Q-1001-02"]')).to_contain_text("2026-12-09")
