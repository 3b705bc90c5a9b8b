"""Who may do what, in one place: the owner-or-admin rules of approvals and orders. Pure.

A `by` of None is Greenlight itself (the CRM feed, the `generate_orders` reaction): the system
may do what the quote's owner may. Each `require_*` raises `NotAllowed` with the sentence the
person is shown; each `may_*` answers the same question without raising.

    submit a quote                  its owner
    recall a submission             its owner
    replace an approver             an admin
    set or end a delegation         the delegator, or an admin for someone else
    generate or change orders       the quote's owner, or an admin
    retry an ERP delivery           an admin
    send a failed email again       an admin
    see a submission's details      its owner, its approvers (escalations included), an admin
    read an account's contracts     an admin, the order desk (`orders.desk`), the owner of one of
                                    the account's quotes
    see the order desk              an admin, the order desk
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import NotAllowed
from .policy import Policy

if TYPE_CHECKING:  # approvals checks its owner here: a runtime import would be circular
    from .approvals import Submission


def is_admin(policy: Policy, person: str | None) -> bool:
    return person is not None and person in policy.admins


def may_act_as_owner(by: str | None, owner: str | None) -> bool:
    return by is None or by == owner


def may_manage_orders(policy: Policy, by: str | None, owner: str | None) -> bool:
    return may_act_as_owner(by, owner) or is_admin(policy, by)


def may_act_for(policy: Policy, by: str, person: str) -> bool:
    """Whether `by` may set or end `person`'s delegation."""
    return by == person or is_admin(policy, by)


def require_owner(by: str | None, owner: str, action: str, quote_id: str) -> None:
    """Only the quote's owner may `action` it: "only the quote owner (rita) can submit Q-1"."""
    if not may_act_as_owner(by, owner):
        raise NotAllowed(f"only the quote owner ({owner}) can {action} {quote_id}")


def require_admin(policy: Policy, by: str | None, action: str) -> None:
    """Only an admin may `action`: "only an admin can replace an approver"."""
    if not is_admin(policy, by):
        raise NotAllowed(f"only an admin can {action}")


def require_self_or_admin(policy: Policy, by: str, person: str, action: str) -> None:
    """`person` themselves, or an admin: "only an admin can end someone else's delegation"."""
    if not may_act_for(policy, by, person):
        raise NotAllowed(f"only an admin can {action}")


def require_order_manager(policy: Policy, by: str | None, owner: str | None, quote_id: str, action: str) -> None:
    """The quote's owner or an admin: "only the owner of Q-1 or an admin can change its orders"."""
    if not may_manage_orders(policy, by, owner):
        raise NotAllowed(f"only the owner of {quote_id} or an admin can {action} its orders")


def is_order_desk(policy: Policy, person: str | None) -> bool:
    return person is not None and (person in policy.orders.desk or is_admin(policy, person))


def may_read_account(policy: Policy, person: str | None, owners: set[str]) -> bool:
    """Contracts and entitlements are for the admins, the order desk and the account's own reps."""
    return is_order_desk(policy, person) or (person is not None and person in owners)


def require_account_reader(policy: Policy, person: str | None, owners: set[str], account_id: str) -> None:
    if not may_read_account(policy, person, owners):
        raise NotAllowed(
            f"only an admin, the order desk or the owner of one of {account_id}'s quotes can read its contracts"
        )


def require_order_desk(policy: Policy, person: str | None) -> None:
    if not is_order_desk(policy, person):
        raise NotAllowed("only the order desk (orders.desk in the policy) and admins see orders across quotes")


def may_see(policy: Policy, person: str, sub: Submission) -> bool:
    """The owner, anyone asked for an approval of it (now or by escalation), and admins."""
    return (
        person == sub.owner
        or is_admin(policy, person)
        or any(person in [s.holder for s in a.seats] + a.escalated_to for a in sub.approvals)
    )


def require_may_see(policy: Policy, person: str, sub: Submission) -> None:
    if not may_see(policy, person, sub):
        raise NotAllowed(f"only the owner, the approvers and admins can see {sub.quote_id}")
