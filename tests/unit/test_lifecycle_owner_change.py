"""A quote that changes hands never counts its new owner's own earlier approval (issue 12 item 7)."""

from test_lifecycle_smart import SMART, approved_then_rejected
from unit_kit import Desk, policy_with


async def test_a_new_owners_own_approval_is_not_carried_onto_their_quote() -> None:
    desk = Desk(policy_with(SMART))
    await approved_then_rejected(desk, ["manager-discount"], discount_percent=18)
    assert (await desk.approval("manager-discount")).acted_by == "mike"

    sub = await desk.submit(net_total=1000, discount_percent=15, owner="mike")

    approval = sub.approval("manager-discount")
    assert approval.status == "requested", f"{approval.status}, acted_by={approval.acted_by} on mike's own quote"
    assert approval.acted_by is None
    assert [seat.holder for seat in approval.seats] == ["vera"]  # mike's manager
    assert "mike" not in [e.actor for e in desk.audit("carried")]


async def test_the_same_owner_still_gets_the_carry() -> None:
    desk = Desk(policy_with(SMART))
    await approved_then_rejected(desk, ["manager-discount"], discount_percent=18)

    sub = await desk.submit(net_total=1000, discount_percent=15)

    assert (sub.approval("manager-discount").status, sub.approval("manager-discount").acted_by) == ("carried", "mike")
