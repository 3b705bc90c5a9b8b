"""A small policy for the tests of issue 17 (notices, reminders, group wording, out of office):
a manager, a VP who is reminded and escalated, an all-must-approve pair and a 2-of-3 quorum."""

from __future__ import annotations

from pathlib import Path

from .conftest import Bot

POLICY = """
version: 1
timezone: UTC
admins: [dana]
fallback_approver: desk
people:
  ava: {name: Ava Brooks, slack: U0AVA, email: ava@example.com, manager: max}
  max: {name: Max Müller, slack: U0MAX, email: max@example.com}
  vera: {name: Vera Lindqvist, slack: U0VERA, email: vera@example.com}
  fay: {name: Fay Fin, slack: U0FAY}
  fio: {name: Fio Fin, slack: U0FIO}
  la: {name: Lou Able, slack: U0LA}
  lb: {name: Lia Bell, slack: U0LB}
  lc: {name: Lee Cole, slack: U0LC}
  dana: {name: Dana Whitfield, slack: U0DANA}
  ben: {name: Ben Okafor, slack: U0BEN}
  noah: {name: Noah Park, email: noah@example.com}
approvers:
  desk: {user: dana}
  manager: {field: owner.manager}
  vp: {user: vera}
  finance: {group: [fay, fio], mode: all}
  legal: {group: [la, lb, lc], mode: {quorum: 2}}
rules:
  - name: manager-discount
    chain: commercial
    approver: manager
    conditions: [{field: discount_percent, op: gt, value: 10, label: quote discount}]
  - name: vp-discount
    chain: vp
    approver: vp
    remind_after: 4h
    remind_every: 1d
    escalate_after: 24h
    escalate_to: desk
    conditions: [{field: discount_percent, op: gt, value: 10, label: quote discount}]
  - name: finance-terms
    chain: finance
    approver: finance
    conditions: [{field: payment_terms, op: eq, value: Net 90, label: payment terms}]
  - name: legal-terms
    chain: legal
    approver: legal
    conditions: [{field: payment_terms, op: eq, value: Net 90, label: payment terms}]
"""


def write_policy(folder: Path, text: str = POLICY) -> Path:
    path = folder / "policy.yaml"
    path.write_text(text)
    return path


async def submit_deal(bot: Bot, justification: str = "") -> str:
    """Q-1001 at 20% off on Net 90, submitted by Ava (all four rules fire)."""
    quote_id = await bot.receive("q1001-v1.json", discount_percent=20, payment_terms="Net 90")
    answer = await bot.deal("ava", f"submit {quote_id} {justification}".strip())
    assert "Submitted" in answer.json()["text"], answer.json()
    await bot.settle()
    return quote_id


def mention(bot: Bot, person: str) -> str:
    return f"<@{bot.slack_id(person)}|{person}>"
