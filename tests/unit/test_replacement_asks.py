"""A seat a replacement, a delegation or a fallback created is never decided automatically; a replacement
can be listed and undone, giving back exactly the seats it took (issue 12 item 8)."""

import pytest
from unit_kit import Desk, policy_with

from domain.errors import NotFound

RULES = """
- {name: manager-discount, approver: manager, chain: commercial}
- {name: desk-check, approver: deal-desk, chain: desk}
- {name: vp, approver: vp-sales, chain: vp}
"""


@pytest.fixture
def desk() -> Desk:
    return Desk(policy_with(RULES))


async def test_a_request_that_falls_to_the_fallback_asks_even_its_member_who_approved_elsewhere(desk: Desk) -> None:
    await desk.submit()
    await desk.approve("desk-check", "fin1")

    events = await desk.replace("mike", "rita")  # the owner's manager replaced by the owner: nobody else is left

    approval = await desk.approval("manager-discount")
    assert approval.status == "requested", f"{approval.status} by {approval.acted_by}: nobody saw it"
    assert approval.fallback and sorted(await desk.assignees("manager-discount")) == ["dana", "fin1"]
    (moved,) = [e for e in events if e.kind == "replaced"]
    assert moved.detail["fallback"] == ["dana", "fin1"]
    await desk.approve("manager-discount", "fin1")  # asked, fin1 decides by a click
    assert (await desk.approval("manager-discount")).status == "approved"


async def test_a_seat_moved_by_a_replacement_is_not_settled_by_the_new_holders_other_approval(desk: Desk) -> None:
    await desk.submit()
    await desk.approve("desk-check", "fin1")

    await desk.replace("vera", "fin1")

    vp = await desk.approval("vp")
    assert (vp.status, vp.acted_by) == ("requested", None)
    assert await desk.assignees("vp") == ["fin1"]


async def test_undoing_a_replacement_gives_back_exactly_the_seats_it_took(desk: Desk) -> None:
    await desk.submit()
    await desk.replace("vera", "dana")
    assert await desk.assignees("vp") == ["dana"]
    (listed,) = await desk.service.replacements()
    assert (listed.old, listed.new, listed.created_by, listed.moved) == (
        "vera",
        "dana",
        "dana",
        {"Q-1#1": {"vp": ["vera"]}},
    )

    replacement, events = await desk.service.undo_replacement("vera", "dana", desk.now)

    assert (replacement.old, replacement.new) == ("vera", "dana")
    assert await desk.assignees("vp") == ["vera"]
    assert sorted(await desk.assignees("desk-check")) == ["dana", "fin1"], "dana's own seat elsewhere stays hers"
    assert [e.detail.get("undo") for e in events] == [True]
    assert await desk.service.replacements() == []
    assert [e.kind for e in desk.audit() if e.kind.startswith("replacement")] == [
        "replacement_set",
        "replacement_undone",
    ]
    with pytest.raises(NotFound, match="vera is not replaced"):
        await desk.service.undo_replacement("vera", "dana", desk.now)


async def test_a_replacement_that_moves_nothing_is_still_audited(desk: Desk) -> None:
    assert await desk.replace("lea", "leo") == []
    (event,) = desk.audit("replacement_set")
    detail = event.detail
    assert (event.actor, detail["old"], detail["new"], detail["moved"], detail["seats"]) == (
        "dana",
        "lea",
        "leo",
        0,
        {},
    )
