"""Q-1042 v1 (commercial, finance and legal chains) goes from submission to approved through taps
on the approvers' DMs: an `all` group, a quorum of two, an explicit VP step and, for Farah who
has no Slack, a decision through the service (as her email link would)."""

from __future__ import annotations

from collections import Counter

from .conftest import Bot, action_ids, blocks_of, values_in

REF = "Q-1042#1"
FIRST_REQUESTS = {
    "manager-discount": ["marco"],
    "services-discount": ["sam"],
    "payment-terms": ["fiona", "carl"],
    "legal-custom-terms": ["lena", "leo", "luis"],
}


def ref(rule: str) -> str:
    return f"{REF}/{rule}"


def has_buttons(message) -> bool:
    return "approval.approve" in action_ids(message)


async def test_submission_sends_one_dm_with_buttons_to_every_first_step_approver(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    for rule, people in FIRST_REQUESTS.items():
        for person in people:
            message = bot.request(person, ref(rule))
            assert has_buttons(message), (person, rule)
            assert message.text.startswith("Approval needed: Meridian Freight Lines, Q-1042 v1")
    assert bot.request_posts(ref("vp-deep-discount")) == []
    assert bot.request_posts(ref("rev-rec-multi-year")) == []
    root = [m for m in bot.dm("ava") if m.thread_ts is None]
    assert len(root) == 1 and "pending" in root[0].text


async def test_quote_with_three_chains_is_approved_entirely_by_clicks(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    service = bot.runtime.service

    await bot.approve("marco", ref("manager-discount"))
    assert bot.request_posts(ref("vp-deep-discount")) == [], "step 2 waits for all of step 1"
    await bot.approve("sam", ref("services-discount"))
    vera = bot.request("vera", ref("vp-deep-discount"))
    assert has_buttons(vera)

    # finance-review is mode all: Fiona's vote alone leaves it open for Carl
    await bot.approve("fiona", ref("payment-terms"))
    assert (await service.latest("Q-1042")).approval("payment-terms").status == "requested"
    assert "You voted to approve" in bot.request("fiona", ref("payment-terms")).text
    carl = bot.request("carl", ref("payment-terms"))
    assert has_buttons(carl) and "Fiona Gallagher voted to approve" in str(carl.blocks)
    await bot.approve("carl", ref("payment-terms"))
    assert not has_buttons(bot.request("fiona", ref("payment-terms")))
    assert "Approved by Carl Jensen" in bot.request("carl", ref("payment-terms")).text

    # finance step 2: Felix on Slack, Farah (no Slack id) by email
    felix = bot.request("felix", ref("rev-rec-multi-year"))
    assert has_buttons(felix)
    emails = await bot.outbox("email")
    assert [(e.payload["person"], e.payload["rule"]) for e in emails] == [("farah", "rev-rec-multi-year")]

    # legal is a quorum of 2 out of 3: Lena's vote leaves it open, Leo's closes it for Luis too
    await bot.approve("lena", ref("legal-custom-terms"))
    assert has_buttons(bot.request("luis", ref("legal-custom-terms")))
    await bot.approve("leo", ref("legal-custom-terms"))
    luis = bot.request("luis", ref("legal-custom-terms"))
    assert not has_buttons(luis) and "Approved by Leo Fitzgerald" in luis.text

    # Farah decides from her email (the link ends in service.decide)
    await service.decide("Q-1042", "rev-rec-multi-year", "farah", "approve", bot.clock(), comment="Ratable.")
    await bot.settle()
    felix = bot.request("felix", ref("rev-rec-multi-year"))
    assert not has_buttons(felix) and "Approved by Farah Siddiqui" in felix.text

    assert (await service.latest("Q-1042")).status == "pending"
    await bot.approve("vera", ref("vp-deep-discount"))

    sub = await service.latest("Q-1042")
    assert sub.status == "approved"
    assert {a.rule: a.acted_by for a in sub.approvals} == {
        "manager-discount": "marco",
        "services-discount": "sam",
        "vp-deep-discount": "vera",
        "payment-terms": "carl",
        "rev-rec-multi-year": "farah",
        "legal-custom-terms": "leo",
    }
    for rule, people in {**FIRST_REQUESTS, "vp-deep-discount": ["vera"], "rev-rec-multi-year": ["felix"]}.items():
        for person in people:
            assert not has_buttons(bot.request(person, ref(rule))), (person, rule)
    lines = [m.text for m in bot.thread("ava")]
    assert lines[-1].endswith("Q-1042 v1 is approved.")
    assert any("Marco Bellini approved manager-discount" in line for line in lines)
    assert any("Farah Siddiqui approved rev-rec-multi-year" in line for line in lines)
    root = next(m for m in bot.dm("ava") if m.thread_ts is None)
    assert "approved" in root.text

    posted = Counter(
        (call.response["channel"], value)
        for call in bot.slack.calls("chat.postMessage")
        if call.ok and call.response
        for value in set(values_in(blocks_of(call)))
        if value.startswith(REF)
    )
    assert posted and max(posted.values()) == 1, posted


async def test_felix_can_take_revenue_accounting_instead_of_farah(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    await bot.approve("fiona", ref("payment-terms"))
    await bot.approve("carl", ref("payment-terms"))
    await bot.approve("felix", ref("rev-rec-multi-year"))
    sub = await bot.runtime.service.latest("Q-1042")
    assert sub.approval("rev-rec-multi-year").status == "approved"
    assert sub.approval("rev-rec-multi-year").acted_by == "felix"
    emails = await bot.outbox("email")
    assert len(emails) == 1, "Farah was asked by email; Felix's click settles it for both"
    assert "Approved by Felix Nakamura" in bot.request("felix", ref("rev-rec-multi-year")).text
