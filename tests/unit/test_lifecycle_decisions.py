"""Same person on several approvals, rejection, recall and a quote changed while pending (§3.4-3.7)."""

import pytest
from unit_kit import Desk, kinds, policy_with

from domain.errors import Conflict, NotAllowed, StaleRequest
from domain.quote import parse_quote

SAME_PERSON = """
- {name: manager-discount, chain: commercial, step: 1, approver: manager}
- {name: manager-terms, chain: terms, step: 1, approver: mike}
- {name: manager-signoff, chain: commercial, step: 2, approver: mike}
- {name: vp-final, chain: commercial, step: 3, approver: vp-sales}
"""


# ------------------------------------------------------------ §3.4 same person, several approvals


async def test_a_persons_approval_also_settles_their_open_approval_in_another_chain():
    desk = Desk(policy_with(SAME_PERSON))
    await desk.submit()
    events = await desk.approve("manager-discount", "mike")
    approval = await desk.approval("manager-terms")
    assert (approval.status, approval.acted_by) == ("auto", "mike")
    assert ("auto_approved", "manager-terms", "mike") in [(e.kind, e.rule, e.actor) for e in events]


async def test_a_persons_approval_settles_their_later_step_as_it_opens():
    desk = Desk(policy_with(SAME_PERSON))
    await desk.submit()
    await desk.approve("manager-discount", "mike")
    assert await desk.statuses() == {
        "manager-discount": "approved",
        "manager-terms": "auto",
        "manager-signoff": "auto",
        "vp-final": "requested",
    }


async def test_an_explicit_rule_is_never_settled_by_the_same_persons_other_approval():
    rules = SAME_PERSON.replace("step: 2, approver: mike}", "step: 2, approver: mike, explicit: true}")
    rules = rules.replace(
        "chain: terms, step: 1, approver: mike}", "chain: terms, step: 1, approver: mike, explicit: true}"
    )
    desk = Desk(policy_with(rules))
    await desk.submit()
    await desk.approve("manager-discount", "mike")
    assert await desk.statuses() == {
        "manager-discount": "approved",
        "manager-terms": "requested",
        "manager-signoff": "requested",
        "vp-final": "waiting",
    }


async def test_an_approval_of_an_explicit_rule_still_counts_on_the_persons_other_approvals():
    desk = Desk(
        policy_with(
            """
            - {name: vp-deep, chain: a, approver: vp-sales, explicit: true}
            - {name: vp-terms, chain: b, approver: vera}
            """
        )
    )
    await desk.submit()
    await desk.approve("vp-deep", "vera")
    assert await desk.statuses() == {"vp-deep": "approved", "vp-terms": "auto"}


GROUPS = """
- {name: desk-check, chain: a, approver: deal-desk}
- {name: finance-check, chain: b, approver: finance}
"""


async def test_an_automatic_vote_in_an_all_group_counts_but_does_not_settle_it_alone():
    desk = Desk(policy_with(GROUPS))
    await desk.submit()
    await desk.approve("desk-check", "fin1")
    finance = await desk.approval("finance-check")
    assert finance.status == "requested"
    assert [(s.member, s.vote, s.auto) for s in finance.seats] == [("fin1", "approve", True), ("fin2", None, False)]
    await desk.approve("finance-check", "fin2")
    finance = await desk.approval("finance-check")
    assert (finance.status, finance.acted_by) == ("approved", "fin2")


async def test_an_automatic_vote_that_settles_an_all_group_makes_it_auto():
    desk = Desk(policy_with(GROUPS))
    await desk.submit()
    await desk.approve("finance-check", "fin2")
    await desk.approve("desk-check", "fin1")
    finance = await desk.approval("finance-check")
    assert (finance.status, finance.acted_by) == ("auto", "fin1")
    assert (await desk.latest()).status == "approved"


async def test_a_rejection_does_not_count_on_the_persons_other_approvals():
    desk = Desk(policy_with(GROUPS))
    await desk.submit()
    await desk.approve("finance-check", "fin2")
    await desk.reject("desk-check", "fin1", "too deep")
    assert await desk.statuses() == {"desk-check": "rejected", "finance-check": "revoked"}


# ------------------------------------------------------------ §3.5 reject


REJECT = """
- {name: manager-discount, chain: commercial, step: 1, approver: manager}
- {name: vp-deep, chain: commercial, step: 2, approver: vp-sales}
- {name: legal-terms, chain: legal, step: 1, approver: legal}
- {name: desk-check, chain: ops, step: 1, approver: deal-desk}
"""


@pytest.mark.parametrize("reason", [None, "", "   "])
async def test_a_rejection_without_a_reason_is_refused_and_changes_nothing(reason):
    desk = Desk(policy_with(REJECT))
    await desk.submit()
    with pytest.raises(NotAllowed, match="needs a reason"):
        await desk.reject("manager-discount", "mike", reason)
    assert (await desk.latest()).status == "pending"
    assert (await desk.approval("manager-discount")).status == "requested"


async def test_a_rejection_rejects_the_quote_and_revokes_every_open_approval_but_keeps_settled_ones():
    desk = Desk(policy_with(REJECT))
    await desk.submit()
    await desk.approve("desk-check", "dana")
    await desk.approve("legal-terms", "lea")
    events = await desk.reject("manager-discount", "mike", "Too deep for a 3-year term")
    sub = await desk.latest()
    assert sub.status == "rejected"
    assert {a.rule: a.status for a in sub.approvals} == {
        "manager-discount": "rejected",
        "vp-deep": "revoked",  # was waiting
        "legal-terms": "revoked",  # was requested, with one vote cast
        "desk-check": "approved",
    }
    assert sub.comment == "Too deep for a 3-year term"
    assert [e.kind for e in events] == ["rejected", "revoked", "revoked", "quote_rejected"]


async def test_an_auto_approval_keeps_its_status_when_the_quote_is_rejected():
    desk = Desk(policy_with(SAME_PERSON))
    await desk.submit()
    await desk.approve("manager-discount", "mike")
    await desk.reject("vp-final", "vera", "no")
    assert await desk.statuses() == {
        "manager-discount": "approved",
        "manager-terms": "auto",
        "manager-signoff": "auto",
        "vp-final": "rejected",
    }


async def test_the_rejection_reason_is_kept_on_the_approval():
    desk = Desk(policy_with(REJECT))
    await desk.submit()
    await desk.reject("manager-discount", "mike", "  Too deep  ")
    approval = await desk.approval("manager-discount")
    assert (approval.acted_by, approval.comment) == ("mike", "Too deep")


async def test_nothing_can_be_decided_on_a_rejected_submission():
    desk = Desk(policy_with(REJECT))
    await desk.submit()
    await desk.reject("manager-discount", "mike", "no")
    with pytest.raises(StaleRequest, match="no longer pending"):
        await desk.approve("legal-terms", "lea")


async def test_a_waiting_approval_cannot_be_decided_yet():
    desk = Desk(policy_with(REJECT))
    await desk.submit()
    with pytest.raises(StaleRequest, match="not requested yet"):
        await desk.approve("vp-deep", "vera")


async def test_someone_who_is_not_an_assignee_cannot_decide():
    desk = Desk(policy_with(REJECT))
    await desk.submit()
    with pytest.raises(NotAllowed, match="not an approver"):
        await desk.approve("manager-discount", "vera")


async def test_a_settled_approval_cannot_be_decided_again():
    desk = Desk(policy_with(REJECT))
    await desk.submit()
    await desk.approve("desk-check", "dana")
    with pytest.raises(StaleRequest, match="already approved by dana"):
        await desk.approve("desk-check", "fin1")


# ------------------------------------------------------------ §3.6 recall


async def test_the_owner_recalls_a_pending_submission_and_its_open_approvals_are_revoked():
    desk = Desk(policy_with(REJECT))
    await desk.submit()
    await desk.approve("desk-check", "dana")
    events = await desk.recall("rita")
    sub = await desk.latest()
    assert sub.status == "recalled"
    assert {a.rule: a.status for a in sub.approvals} == {
        "manager-discount": "revoked",
        "vp-deep": "revoked",
        "legal-terms": "revoked",
        "desk-check": "approved",
    }
    assert kinds(events)[-1] == "recalled"
    assert events[-1].actor == "rita"


async def test_only_the_owner_can_recall():
    desk = Desk(policy_with(REJECT))
    await desk.submit()
    with pytest.raises(NotAllowed, match="only the quote owner"):
        await desk.recall("mike")
    assert (await desk.latest()).status == "pending"


async def test_a_settled_submission_cannot_be_recalled():
    desk = Desk(policy_with("- {name: vp, approver: vp-sales}"))
    await desk.submit()
    await desk.approve("vp", "vera")
    with pytest.raises(StaleRequest, match="nothing to recall"):
        await desk.recall("rita")


async def test_a_recalled_quote_refuses_further_decisions():
    desk = Desk(policy_with(REJECT))
    await desk.submit()
    await desk.recall()
    with pytest.raises(StaleRequest):
        await desk.approve("manager-discount", "mike")


# ------------------------------------------------------------ §3.7 quote changed while pending


async def test_a_new_version_of_a_pending_quote_recalls_the_submission_because_the_quote_changed():
    desk = Desk(policy_with(REJECT))
    await desk.submit(discount_percent=12)
    received = await desk.send(discount_percent=14)
    sub = await desk.latest()
    assert received.status == "recalled"
    assert (sub.status, sub.comment) == ("recalled", "the quote changed")
    assert set(a.status for a in sub.approvals) == {"revoked"}
    changed = [e for e in received.events if e.kind == "quote_changed"]
    assert len(changed) == 1 and changed[0].comment == "the quote changed"
    assert {e.comment for e in received.events if e.kind == "revoked"} == {"the quote changed"}


async def test_a_new_version_of_a_quote_that_is_not_pending_is_only_stored():
    desk = Desk(policy_with("- {name: vp, approver: vp-sales}"))
    await desk.submit()
    await desk.reject("vp", "vera", "no")
    received = await desk.send(discount_percent=5)
    assert received.status == "stored"
    assert (await desk.latest()).status == "rejected"


async def test_an_older_version_is_refused():
    desk = Desk(policy_with(REJECT))
    await desk.send()
    await desk.send()
    older = parse_quote({"id": "Q-1", "version": 1, "owner": "rita"})
    with pytest.raises(Conflict, match="stale"):
        await desk.service.receive_quote(older, desk.now)


async def test_the_same_version_with_other_content_is_refused():
    desk = Desk(policy_with(REJECT))
    await desk.send(discount_percent=10)
    same_version = parse_quote({"id": "Q-1", "version": 1, "owner": "rita", "discount_percent": 11})
    with pytest.raises(Conflict, match="stale"):
        await desk.service.receive_quote(same_version, desk.now)


async def test_the_same_version_with_the_same_content_is_accepted_unchanged():
    desk = Desk(policy_with(REJECT))
    await desk.submit(discount_percent=10)
    again = parse_quote({"id": "Q-1", "version": 1, "owner": "rita", "discount_percent": 10})
    received = await desk.service.receive_quote(again, desk.now)
    assert received.status == "unchanged"
    assert (await desk.latest()).status == "pending"


async def test_a_pending_quote_cannot_be_submitted_twice():
    desk = Desk(policy_with(REJECT))
    await desk.submit()
    with pytest.raises(Conflict, match="already pending"):
        await desk.resubmit()


async def test_an_approved_quote_cannot_be_submitted_again_unchanged():
    desk = Desk(policy_with("- {name: vp, approver: vp-sales}"))
    await desk.submit()
    await desk.approve("vp", "vera")
    with pytest.raises(Conflict, match="already approved"):
        await desk.resubmit()


async def test_only_the_owner_may_submit():
    desk = Desk(policy_with(REJECT))
    await desk.send()
    with pytest.raises(NotAllowed, match="only the quote owner"):
        await desk.service.submit("Q-1", "mike", desk.now)
