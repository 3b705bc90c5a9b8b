"""The README's five-step walkthrough, clicked through on a phone-sized screen.

Each step checks what each person sees afterwards, and leaves a screenshot in docs/walkthrough/.
"""

from __future__ import annotations

from typing import Any

from .conftest import BROWSER_TESTS, Phone

pytestmark = BROWSER_TESTS

REASON = "Services at 25% off lose money on delivery: 20% is the floor."
WHY = "Meridian is leaving Vantix: 3 years of sensors if we match their 30% off."
FELIX = "U04FN5R3REV"


async def test_the_walkthrough_on_a_phone(phone: Phone) -> None:
    page, expect = phone.page, phone.expect

    # 1. Ava submits Q-1042: the answer lists what it needs; her DM gets the quote's thread.
    await phone.act_as("ava")
    await phone.send(f"/deal submit Q-1042 {WHY}")
    answer = phone.message("Only visible to you", "Submitted as Q-1042#1")
    await expect(answer).to_contain_text("Needs 6 approvals in 3 chains")
    await expect(answer).to_contain_text(WHY)
    await expect(phone.message("Q-1042 v1 is pending")).to_be_visible()
    await phone.fits()
    await phone.shot("1-rep-submits.png", top=answer)

    # 2. Marco, on his phone, sees the request with its buttons, and approves with one tap.
    await phone.act_as("marco")
    request = phone.request("manager-discount", "Q-1042 v1")
    await expect(request).to_contain_text("Approval needed: Meridian Freight Lines")
    await expect(request).to_contain_text("quote discount 32.4% > 10%")
    await expect(request).to_contain_text(f"Why, from Ava Brooks: {WHY}")
    for button in ("Approve", "Approve with comment", "Reject", "Reassign", "Details"):
        await expect(request.get_by_role("button", name=button, exact=True)).to_be_visible()
    await phone.fits()
    await phone.shot("2-approver-request.png")
    await request.get_by_role("button", name="Approve", exact=True).click()
    await expect(request).to_contain_text("Approved by Marco Bellini")
    await expect(request.get_by_role("button")).to_have_count(0)
    await phone.shot("3-approved.png")

    await phone.act_as("ava")
    thread = await phone.thread("Q-1042 v1 is pending")
    await expect(thread).to_contain_text("Marco Bellini approved manager-discount on Q-1042 v1.")

    # 2b. Fiona is away: Felix is told, and her request reaches him saying whom he acts for.
    await phone.act_as("fiona")
    # the sandbox's clock starts on Tuesday 1 December 2026
    await phone.send(f"/deal ooo 2026-12-01 2026-12-04 <@{FELIX}|felix>")
    await expect(phone.message("Only visible to you", "Felix Nakamura decides for you")).to_be_visible()
    await phone.act_as("felix")
    await expect(phone.message("Fiona Gallagher is out of office")).to_be_visible()
    acting = phone.request("payment-terms", "Q-1042 v1")
    await expect(acting).to_contain_text("Approval needed for Fiona Gallagher: Meridian Freight Lines")
    await expect(acting).to_contain_text(f"Why, from Ava Brooks: {WHY}")
    await phone.fits()
    await phone.shot("2b-delegate-acts-for.png", top=acting)

    # 3. Sam rejects services-discount; the modal will not go without a reason.
    await phone.act_as("sam")
    request = phone.request("services-discount", "Q-1042 v1")
    await request.get_by_role("button", name="Reject").click()
    dialog = page.get_by_role("dialog", name="Reject")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Reject").click()
    await expect(dialog.get_by_role("alert").filter(has_text="required")).to_be_visible()
    await dialog.get_by_label("Reason").fill(REASON)
    await phone.fits()
    await phone.shot("4-reject-with-reason.png")
    await dialog.get_by_role("button", name="Reject").click()
    await expect(dialog).to_be_hidden()
    await expect(request).to_contain_text("Rejected by Sam Adeyemi")
    await expect(request.get_by_role("button")).to_have_count(0)

    await phone.act_as("fiona")
    await expect(phone.request("payment-terms", "Q-1042 v1")).to_contain_text("Closed: the quote was rejected")

    await phone.act_as("ava")
    thread = await phone.thread("Q-1042 v1 was rejected by Sam Adeyemi")
    await expect(thread).to_contain_text(f"Q-1042 v1 was rejected by Sam Adeyemi (services-discount): {REASON}")
    await phone.shot("5-rep-sees-the-reason.png")

    # 4. The CRM sends v2 (services at 20%, 27.9% off); Ava resubmits; Marco's approval carries.
    await phone.tab("CRM")
    quote = page.locator("article.crm-quote").filter(has_text="Q-1042 v2")
    await quote.get_by_role("button", name="Send Q-1042 v2").click()
    await expect(quote).to_contain_text("stored")
    await phone.send("/deal submit Q-1042")
    answer = phone.message("Only visible to you", "Submitted as Q-1042#2")
    await expect(answer).to_contain_text("$431,880.00 at 27.9% discount")
    carried = answer.locator("[data-block-id^='preview.item']").filter(has_text="manager-discount")
    await expect(carried).to_contain_text("→ Marco Bellini (carried from Q-1042#1")
    await expect(phone.message("Q-1042 v2 is pending")).to_be_visible()
    await phone.shot("6-resubmitted-approval-carried.png", top=answer)
    thread = await phone.thread("Q-1042 v2 is pending")
    await expect(thread).to_contain_text("manager-discount on Q-1042 v2 carried from Q-1042#1")

    await phone.act_as("marco")
    await expect(phone.request("manager-discount", "Q-1042 v1")).to_contain_text("Approved by Marco Bellini")
    await expect(phone.request("manager-discount", "Q-1042 v2")).to_have_count(0)

    # 5. Everyone else approves v2; Ava generates the orders and releases the first one.
    await phone.approve("vera", "vp-deep-discount", "Q-1042 v2")
    await phone.approve("fiona", "payment-terms", "Q-1042 v2", outcome="You voted to approve")
    await phone.approve("carl", "payment-terms", "Q-1042 v2")
    await phone.approve("lena", "legal-custom-terms", "Q-1042 v2", outcome="You voted to approve")
    await phone.approve("leo", "legal-custom-terms", "Q-1042 v2")
    await phone.approve("felix", "rev-rec-multi-year", "Q-1042 v2")

    await phone.act_as("ava")
    thread = await phone.thread("Q-1042 v2 was approved")
    approved = thread.locator("article.msg").filter(has_text="Q-1042 v2 is approved.")
    await approved.get_by_role("button", name="Generate orders").click()
    await expect(thread).to_contain_text("orders generated")
    await phone.send("/deal orders Q-1042")
    orders = phone.message("Only visible to you", "Q-1042: 4 orders")
    for number in ("Q-1042-01", "Q-1042-02", "Q-1042-03", "Q-1042-04"):
        await expect(orders.locator(f'[data-block-id="orders.order.{number}"]')).to_be_visible()
    first = orders.locator('[data-block-id="orders.actions.Q-1042-01"]')
    await expect(first.get_by_role("button", name="Release now")).to_be_visible()
    await phone.fits()
    await phone.shot("7-orders.png", top=orders)
    # Release now asks first (Slack's confirm dialog, played by the browser's own): say yes.
    asked: list[str] = []

    async def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.once("dialog", accept)
    await first.get_by_role("button", name="Release now").click()
    await expect(orders.locator('[data-block-id="orders.order.Q-1042-01"]')).to_contain_text("released")
    assert asked and "Q-1042-01" in asked[0], asked
    await expect(orders.locator('[data-block-id="orders.actions.Q-1042-01"]')).to_have_count(0)

    await phone.tab("ERP")
    received = page.locator("article.erp-order").filter(has_text="Q-1042-01")
    await expect(received).to_contain_text("released")
    await expect(received).to_contain_text("Meridian DC Joliet")
    await expect(page.locator("article.erp-order")).to_have_count(1)
    await phone.fits()
    await phone.shot("8-erp-received.png")
