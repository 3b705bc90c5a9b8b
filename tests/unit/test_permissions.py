"""Who may do what (domain/permissions.py): one table for approvals and orders."""

from __future__ import annotations

import pytest
from unit_kit import policy_with

from domain import permissions
from domain.errors import NotAllowed

POLICY = policy_with()  # admins: [dana]


@pytest.mark.parametrize(("by", "allowed"), [("rita", True), ("dana", True), ("mike", False), (None, True)], ids=str)
def test_orders_are_managed_by_the_quote_owner_an_admin_or_greenlight_itself(by: str | None, allowed: bool) -> None:
    assert permissions.may_manage_orders(POLICY, by, "rita") is allowed


def test_an_order_change_by_someone_else_is_refused_in_one_sentence() -> None:
    with pytest.raises(NotAllowed, match=r"^only the owner of Q-1 or an admin can change its orders$"):
        permissions.require_order_manager(POLICY, "mike", "rita", "Q-1", "change")
    with pytest.raises(NotAllowed, match=r"^only the owner of Q-1 or an admin can generate its orders$"):
        permissions.require_order_manager(POLICY, "mike", None, "Q-1", "generate")
    permissions.require_order_manager(POLICY, "dana", None, "Q-1", "change")


def test_only_the_owner_submits_or_recalls_not_even_an_admin() -> None:
    with pytest.raises(NotAllowed, match=r"^only the quote owner \(rita\) can submit Q-1$"):
        permissions.require_owner("dana", "rita", "submit", "Q-1")
    permissions.require_owner("rita", "rita", "recall", "Q-1")
    permissions.require_owner(None, "rita", "submit", "Q-1")


def test_admin_only_actions_refuse_everyone_else() -> None:
    assert permissions.is_admin(POLICY, "dana") and not permissions.is_admin(POLICY, None)
    with pytest.raises(NotAllowed, match=r"^only an admin can retry an ERP delivery$"):
        permissions.require_admin(POLICY, "rita", "retry an ERP delivery")
    permissions.require_admin(POLICY, "dana", "replace an approver")


def test_a_delegation_is_set_or_ended_by_the_delegator_or_an_admin() -> None:
    assert permissions.may_act_for(POLICY, "mike", "mike")
    assert permissions.may_act_for(POLICY, "dana", "mike")
    with pytest.raises(NotAllowed, match=r"^only an admin can end someone else's delegation$"):
        permissions.require_self_or_admin(POLICY, "vera", "mike", "end someone else's delegation")
