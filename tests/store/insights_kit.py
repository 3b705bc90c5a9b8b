"""A known history for the insights and backtest tests: every figure below is worked out by hand.

t0 = Monday 2 November 2026, 09:00 UTC; the report is asked for at t0 + 5 days.

Q-1  rep,  15% off           submitted t0;       mike approves (Slack) at t0 + 3 h 10 min   approved
Q-2  rep,  30% off           submitted t0 + 1 h; mike approves (Slack) at t0 + 2 h; vera is asked
                             then and rejects (Slack) at t0 + 7 h                          rejected
Q-2  v2, 20% off             resubmitted t0 + 8 h: the manager's approval is carried, no VP  approved
Q-3  rep2, 12% off, Net 60   submitted t0 + 24 h; reminder to mike at + 4 h; fin2 approves the
                             terms by email at + 6 h; escalated to dana at + 24 h; still open
Q-4  rep2, 5% off            submitted t0 + 30 h: needs nobody                                approved
vera is away from t0 + 4 d to t0 + 9 d; dana stands in for her.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.policy import Policy, load_policy
from domain.quote import parse_quote
from domain.service import Approvals
from tests.support.quotes import one_line_quote

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(days=5)

POLICY = """
version: 1
timezone: UTC
admins: [dana]
fallback_approver: desk
people:
  rep:  {slack: U0REP, email: rep@example.com, manager: mike}
  rep2: {slack: U0REP2, email: rep2@example.com, manager: mike}
  mike: {slack: U0MIKE, email: mike@example.com}
  vera: {slack: U0VERA, email: vera@example.com}
  dana: {slack: U0DANA, email: dana@example.com}
  fin1: {slack: U0FIN1, email: fin1@example.com}
  fin2: {email: fin2@example.com}
approvers:
  manager: {field: owner.manager}
  vp: {user: vera}
  desk: {user: dana}
  finance: {group: [fin1, fin2], mode: any}
rules:
  - name: manager-discount
    chain: commercial
    step: 1
    approver: manager
    conditions: [{field: discount_percent, op: gt, value: 10, smart: true}]
    remind_after: 4h
    escalate_after: 24h
    escalate_to: desk
  - name: vp-deep-discount
    chain: commercial
    step: 2
    approver: vp
    conditions: [{field: discount_percent, op: gt, value: VP_THRESHOLD, smart: true}]
  - name: finance-terms
    chain: finance
    step: 1
    approver: finance
    conditions: [{field: payment_terms, op: in, value: [Net 60, Net 90]}]
insights: {stuck_after: 48h}
"""


def policy_text(vp_threshold: int = 25) -> str:
    return POLICY.replace("VP_THRESHOLD", str(vp_threshold))


def policy(vp_threshold: int = 25) -> Policy:
    return load_policy(policy_text(vp_threshold), f"vp-{vp_threshold}.yaml")


def quote(quote_id: str, discount: float, *, owner: str = "rep", version: int = 1, **changes: Any) -> Any:
    net = round(10000 * (1 - discount / 100), 2)
    data = one_line_quote(
        quote_id, version, owner=owner, discount_percent=discount, net_total=net, list_total=10000, **changes
    )
    data["lines"][0].update(discount_percent=discount, net_total=net, net_price=net)
    return parse_quote(data)


def at(**delta: float) -> dt.datetime:
    return T0 + dt.timedelta(**delta)


async def play_history(service: Approvals) -> None:
    """The history of the module docstring, through the service, each step at its own time."""
    s = service
    await s.receive_quote(quote("Q-1", 15), at())
    await s.submit("Q-1", None, at())
    await s.decide("Q-1", "manager-discount", "mike", "approve", at(hours=3, minutes=10), via="slack")

    await s.receive_quote(quote("Q-2", 30), at(hours=1))
    await s.submit("Q-2", None, at(hours=1))
    await s.decide("Q-2", "manager-discount", "mike", "approve", at(hours=2), via="slack")
    await s.decide("Q-2", "vp-deep-discount", "vera", "reject", at(hours=7), "Too deep", via="slack")
    await s.receive_quote(quote("Q-2", 20, version=2), at(hours=8))
    await s.submit("Q-2", None, at(hours=8))

    await s.receive_quote(quote("Q-3", 12, owner="rep2", payment_terms="Net 60"), at(hours=24))
    await s.submit("Q-3", None, at(hours=24))
    await s.tick(at(hours=28))
    await s.decide("Q-3", "finance-terms", "fin2", "approve", at(hours=30), via="email")
    await s.tick(at(hours=48))

    await s.receive_quote(quote("Q-4", 5, owner="rep2"), at(hours=30))
    await s.submit("Q-4", None, at(hours=30))

    start = (T0 + dt.timedelta(days=4)).date()
    await s.delegate("vera", "dana", start, start + dt.timedelta(days=5), "vera", at(hours=50))
