"""Small policies, quotes and a desk that drives the approvals service, for the unit tests.

Policies are written inline as YAML: `policy_with(rules=...)` puts the rules (and optional
variables) under a shared directory of people and approvers, so a test shows only what it is about.
Time is an argument everywhere: the desk carries its own clock and tests move it explicitly.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any

from domain import approvals as lifecycle
from domain.approvals import Context, Delegation, Directory, Event, Submission
from domain.memory import MemoryStore
from domain.policy import Policy, load_policy
from domain.quote import Quote, parse_quote
from domain.rules import Evaluator
from domain.service import Approvals, Received
from tests.support.clock import Clock

# 14:00 UTC is 09:00 in New York (the policy zone) and 15:00 in Paris (mike's zone).
NOW = dt.datetime(2026, 12, 1, 14, 0, tzinfo=dt.UTC)

PEOPLE = """\
people:
  rita: {slack: U0RITA, email: rita@example.com, manager: mike}
  mike: {slack: U0MIKE, email: mike@example.com, manager: vera, timezone: Europe/Paris}
  vera: {slack: U0VERA, email: vera@example.com}
  dana: {slack: U0DANA}
  fin1: {slack: U0FIN1}
  fin2: {email: fin2@example.com}
  fin3: {}
  lea: {}
  leo: {}
  lou: {}
  sam: {manager: vera, timezone: Asia/Tokyo}
  ned: {}
"""

APPROVERS = """\
approvers:
  deal-desk: {group: [dana, fin1], mode: any}
  finance: {group: [fin1, fin2], mode: all}
  legal: {group: [lea, leo, lou], mode: {quorum: 2}}
  vp-sales: {user: vera}
  manager: {field: owner.manager}
"""


def indent(text: str, by: int = 2) -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * by) + "\n"


def policy_yaml(
    rules: str = "",
    variables: str = "",
    *,
    timezone: str = "America/New_York",
    fallback: str = "deal-desk",
    admins: str = "[dana]",
    people: str = PEOPLE,
    approvers: str = APPROVERS,
) -> str:
    text = f"version: 1\ntimezone: {timezone}\nadmins: {admins}\nfallback_approver: {fallback}\n"
    text += people + approvers
    if variables.strip():
        text += "variables:\n" + indent(variables)
    if rules.strip():
        text += "rules:\n" + indent(rules)
    return text


def policy_with(rules: str = "", variables: str = "", **options: Any) -> Policy:
    return load_policy(policy_yaml(rules, variables, **options), "policy.yaml")


def quote(**fields: Any) -> Quote:
    data: dict[str, Any] = {"id": "Q-1", "version": 1, "owner": "rita"}
    data.update(fields)
    return parse_quote(data)


def line(line_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": line_id, **fields}


def context(policy: Policy, now: dt.datetime = NOW, directory: Directory | None = None) -> Context:
    return Context(policy, Evaluator(policy), directory or Directory(), now)


def statuses(sub: Submission) -> dict[str, str]:
    return {a.rule: a.status for a in sub.approvals}


def holders(sub: Submission, rule: str) -> list[str]:
    return [seat.holder for seat in sub.approval(rule).seats]


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


def away(delegator: str, delegate: str, start: dt.date, end: dt.date, ident: int = 1) -> Delegation:
    return Delegation(delegator, delegate, start, end, id=ident)


class Desk:
    """The approvals service over a fresh in-memory store, with a clock the test moves."""

    def __init__(self, policy: Policy, now: dt.datetime = NOW, quote_id: str = "Q-1") -> None:
        self.policy = policy
        self.store = MemoryStore()
        self.service = Approvals(policy, self.store)
        self.clock = Clock(now)
        self.quote_id = quote_id
        self.version = 0
        self.fields: dict[str, Any] = {}

    @property
    def now(self) -> dt.datetime:
        return self.clock()

    def later(self, **delta: float) -> dt.datetime:
        return self.clock.advance(**delta)

    async def send(self, **fields: Any) -> Received:
        """The CRM sends the next version of the quote (with these fields); it is not submitted."""
        self.version += 1
        self.fields = {"owner": "rita", **fields}
        data = {"id": self.quote_id, "version": self.version, **self.fields}
        return await self.service.receive_quote(parse_quote(data), self.now)

    async def submit(self, **fields: Any) -> Submission:
        """Send a new version with these fields and submit it."""
        await self.send(**fields)
        return await self.resubmit()

    async def resubmit(self) -> Submission:
        """Submit the stored version again (after a rejection or a recall)."""
        sub, _ = await self.service.submit(self.quote_id, None, self.now)
        return sub

    async def approve(self, rule: str, by: str, comment: str | None = None) -> list[Event]:
        return await self.service.decide(self.quote_id, rule, by, "approve", self.now, comment)

    async def reject(self, rule: str, by: str, reason: str | None = "too deep") -> list[Event]:
        return await self.service.decide(self.quote_id, rule, by, "reject", self.now, reason)

    async def recall(self, by: str = "rita") -> list[Event]:
        return await self.service.recall(self.quote_id, by, self.now)

    async def reassign(self, rule: str, giver: str, receiver: str, comment: str | None = None) -> list[Event]:
        return await self.service.reassign(self.quote_id, rule, giver, receiver, self.now, comment)

    async def replace(self, old: str, new: str, by: str = "dana") -> list[Event]:
        return await self.service.replace(old, new, by, self.now)

    async def delegate(self, delegator: str, delegate: str, start: dt.date, end: dt.date) -> list[Event]:
        _, events = await self.service.delegate(delegator, delegate, start, end, delegator, self.now)
        return events

    async def tick(self) -> list[Event]:
        return await self.service.tick(self.now)

    async def latest(self) -> Submission:
        sub = await self.service.latest(self.quote_id)
        assert sub is not None, "nothing was submitted"
        return sub

    async def statuses(self) -> dict[str, str]:
        return statuses(await self.latest())

    async def approval(self, rule: str) -> lifecycle.Approval:
        return (await self.latest()).approval(rule)

    async def assignees(self, rule: str) -> list[str]:
        sub = await self.latest()
        ctx = self.service.context(await self.service.directory(), self.now)
        return lifecycle.assignees(ctx, sub, sub.approval(rule))

    def audit(self, kind: str | None = None) -> list[Event]:
        return [e for e in self.store.events if kind is None or e.kind == kind]
