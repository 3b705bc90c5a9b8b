"""`/deal recall` and a newer version from the CRM withdraw a pending submission: every open copy
loses its buttons and says why, the rep is told in their thread, old buttons change nothing."""

from __future__ import annotations

from .conftest import Bot, action_ids

REF = "Q-1042#1"
OPEN_COPIES = [
    ("sam", "services-discount"),
    ("fiona", "payment-terms"),
    ("carl", "payment-terms"),
    ("lena", "legal-custom-terms"),
    ("leo", "legal-custom-terms"),
    ("luis", "legal-custom-terms"),
]


async def test_owner_recalls_with_deal_recall_and_every_open_copy_is_withdrawn(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    await bot.approve("marco", f"{REF}/manager-discount")

    answer = await bot.deal("ava", "recall Q-1042")

    assert answer.json()["response_type"] == "ephemeral"
    assert "Q-1042 is recalled" in answer.json()["text"]
    await bot.settle()
    assert (await bot.runtime.service.latest("Q-1042")).status == "recalled"
    for person, rule in OPEN_COPIES:
        copy = bot.request(person, f"{REF}/{rule}")
        assert action_ids(copy) == [], (person, rule)
        assert copy.text.startswith("Withdrawn: the owner recalled the quote"), copy.text
    marco = bot.request("marco", f"{REF}/manager-discount")
    assert marco.text.startswith("Approved by Marco Bellini"), "a decided copy keeps its outcome"
    assert bot.thread("ava")[-1].text == "Q-1042 v1 was recalled by Ava Brooks."


async def test_only_the_owner_can_recall(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    answer = await bot.deal("marco", "recall Q-1042")

    assert "/deal recall is for the quote's owner" in answer.json()["text"]
    assert (await bot.runtime.service.latest("Q-1042")).status == "pending"


async def test_recalling_twice_says_there_is_nothing_to_recall(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    await bot.deal("ava", "recall Q-1042")

    answer = await bot.deal("ava", "recall Q-1042")

    assert "not pending: there is nothing to recall" in answer.json()["text"]


async def test_newer_version_from_the_crm_withdraws_the_requests_and_tells_the_rep(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    await bot.approve("marco", f"{REF}/manager-discount")
    await bot.approve("sam", f"{REF}/services-discount")
    before = bot.request("vera", f"{REF}/vp-deep-discount")

    await bot.receive("q1042-v2.json")
    await bot.settle()

    assert (await bot.runtime.service.latest("Q-1042")).status == "recalled"
    for person, rule in [*OPEN_COPIES[1:], ("vera", "vp-deep-discount")]:
        copy = bot.request(person, f"{REF}/{rule}")
        assert action_ids(copy) == [], (person, rule)
        assert copy.text.startswith("Withdrawn: the quote changed"), copy.text
    assert bot.thread("ava")[-1].text.startswith("Q-1042 v1 was withdrawn from approval: the CRM sent a new version")

    # Vera taps Approve on the copy she saw before the change
    await bot.click("vera", "approval.approve", before)
    await bot.slack.wait_for("response_url")
    assert "Q-1042" in bot.ephemerals("vera")[0] and "revoked" in bot.ephemerals("vera")[0]
    assert (await bot.runtime.service.latest("Q-1042")).approval("vp-deep-discount").status == "revoked"


async def test_resubmitted_new_version_asks_again_and_carries_the_managers_approval(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    await bot.approve("marco", f"{REF}/manager-discount")
    await bot.receive("q1042-v2.json")
    await bot.settle()

    await bot.deal("ava", "submit Q-1042")
    await bot.settle()

    sub = await bot.runtime.service.latest("Q-1042")
    assert sub.number == 2 and sub.approval("manager-discount").status == "carried"
    assert bot.request_posts("Q-1042#2/manager-discount") == []
    vera = bot.request("vera", "Q-1042#2/vp-deep-discount")
    assert "approval.approve" in action_ids(vera)
    assert vera.text.startswith("Approval needed: Meridian Freight Lines, Q-1042 v2")
