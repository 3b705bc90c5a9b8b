"""The walkthrough again with the people switched to French in the sandbox: what each one reads is
French, and the screenshots go to docs/walkthrough/fr/ (when GREENLIGHT_SHOTS=docs/walkthrough)."""

from __future__ import annotations

from .conftest import BROWSER_TESTS, SHOTS, Phone

pytestmark = BROWSER_TESTS

WHY = "Meridian quitte Vantix : 3 ans de capteurs si nous alignons leurs 30 % de remise."


async def test_the_walkthrough_in_french_on_a_phone(phone: Phone) -> None:
    page, expect = phone.page, phone.expect
    for person in ("farah", "fiona", "carl", "marco", "ava"):
        await phone.reads(person, "fr")

    # 1. Ava submits Q-1042; 2. Marco sees the request in his language.
    await phone.send(f"/deal submit Q-1042 {WHY}")
    answer = phone.message("Only visible to you", "Soumis sous Q-1042#1")  # the answer, not the thread root
    await expect(answer).to_contain_text("Nécessite 6 approbations dans 3 chaînes")
    await expect(answer).to_contain_text(WHY)
    await phone.fits()
    await phone.shot("fr/1-rep-submits.png", top=answer)

    await phone.act_as("marco")
    request = phone.request("manager-discount", "Q-1042 v1")
    await expect(request).to_contain_text("Approbation requise")
    await expect(request).to_contain_text("Meridian Freight Lines")
    for button in ("Approuver", "Refuser", "Détails"):
        await expect(request.get_by_role("button", name=button, exact=True)).to_be_visible()
    await phone.fits()
    await phone.shot("fr/2-approver-request.png")
    await request.get_by_role("button", name="Approuver", exact=True).click()
    await expect(request).to_contain_text("Approuvée par Marco Bellini")
    await expect(request.get_by_role("button")).to_have_count(0)
    await phone.shot("fr/3-approved.png")

    # payment-terms is approved (Fiona, then Carl): rev-rec-multi-year asks Farah, not on Slack, by email.
    service, demo = phone.demo.runtime.service, phone.demo
    for person in ("fiona", "carl"):
        await service.decide("Q-1042", "payment-terms", person, "approve", demo.clock())
    await demo.settle("slack", "email")

    await phone.act_as("farah")
    await phone.tab("Mail")
    mail = page.locator("article.mail").filter(has_text="rev-rec-multi-year")
    await expect(mail).to_contain_text("À approuver")
    await expect(mail).to_contain_text("sollicite votre approbation, Farah Siddiqui.")
    await expect(mail).to_contain_text("Pourquoi votre approbation est nécessaire")
    approve = mail.get_by_role("link", name="Approuver")
    assert (await approve.get_attribute("href") or "").startswith(f"{demo.bot_url}/a/")
    await mail.get_by_text("Show the email").click()
    await expect(mail.frame_locator("iframe").get_by_role("link", name="Approuver")).to_be_visible()
    await phone.fits()
    await phone.shot("fr/mail-tab.png", top=mail)

    async with page.context.expect_page() as opened:
        await approve.click()
    link_page = await opened.value
    await expect(link_page.get_by_text("Farah Siddiqui, votre décision est attendue")).to_be_visible()
    await expect(link_page.locator("html")).to_have_attribute("lang", "fr")
    await link_page.set_viewport_size({"width": 390, "height": 844})
    await link_page.screenshot(path=str(SHOTS / "fr" / "link-page.png"))
    await link_page.get_by_role("button", name="Approuver Q-1042").click()
    await expect(link_page.get_by_role("heading", name="Approuvé")).to_be_visible()
    await expect(link_page.get_by_text("Vous avez approuvé rev-rec-multi-year de Q-1042. Merci.")).to_be_visible()
    await link_page.close()
