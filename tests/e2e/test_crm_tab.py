"""The sandbox's CRM tab: the webhooks Greenlight sent the CRM, as a phone shows them."""

from __future__ import annotations

from .conftest import BROWSER_TESTS, Phone

pytestmark = BROWSER_TESTS


async def test_the_crm_tab_lists_the_webhooks_of_a_submission_and_its_decision(phone: Phone) -> None:
    page, expect = phone.page, phone.expect
    await phone.act_as("ava")
    await phone.send("/deal submit Q-1001")  # 9.1% off: approved at once
    await phone.thread("Q-1001 v1 was approved")

    await phone.tab("CRM")
    section = page.locator("section.crm-webhooks")
    await expect(section.get_by_role("heading", name="Webhooks Greenlight sent the CRM")).to_be_visible()
    approved = section.locator("article.crm-webhook").filter(has_text="quote.approved · Q-1001 v1")
    await expect(approved).to_be_visible()
    await expect(approved).to_contain_text("status approved")
    await expect(approved).to_contain_text("signature checked")
    await expect(section.locator("article.crm-webhook").filter(has_text="quote.submitted · Q-1001 v1")).to_be_visible()
    await phone.fits()
    await phone.shot("crm-tab.png", section)
    assert phone.errors == []
