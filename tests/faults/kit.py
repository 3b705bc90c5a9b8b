"""What the fault tests share: a policy and quotes made for them, waiting on a real condition.

Each fault test runs the real Greenlight (the composition root `greenlight.app.build`, or the
`greenlight serve` command in a subprocess) against real stand-ins on loopback: Slack
(`sandbox.slack_api`), SMTP (aiosmtpd, tests.support.smtp), the ERP (`sandbox.erp`), and a real
database of the run's backend (tests.support.postgres: a SQLite file in the test's tmp_path, or a
PostgreSQL database of the test's own, `greenlight_faults_<hex>`, dropped afterwards).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

BOT_TOKEN = "xoxb-greenlight-fault-tests"
SIGNING_SECRET = "fault-tests-signing-secret"
API_SECRET = "fault-tests-api-secret-0123456789"
LINK_SECRET = "fault-tests-link-secret-0123456789"
ERP_SECRET = "fault-tests-erp-secret"

REP = "rep"
REP_SLACK = "U0REP"
ADMIN = "dana"
ADMIN_SLACK = "U0DANA"


def slack_of(person: str) -> str:
    return f"U0{person.upper()}"


def policy_text(
    slack_approvers: Iterable[str] = (), email_approvers: Iterable[str] = (), *, generate: str = "button"
) -> str:
    """One rule per approver (all in step 1, so a quote asks all of them at once); every rule fires.

    Slack approvers `a01` get Slack id `U0A01`; email approvers have an address and no Slack id.
    """
    people = [
        f"  {REP}: {{name: Rita Rep, slack: {REP_SLACK}, email: rep@example.com}}",
        f"  {ADMIN}: {{name: Dana Desk, slack: {ADMIN_SLACK}, email: dana@example.com}}",
    ]
    approvers, rules = [], []
    for person in slack_approvers:
        people.append(
            f"  {person}: {{name: Approver {person}, slack: {slack_of(person)}, email: {person}@example.com}}"
        )
    for person in email_approvers:
        people.append(f"  {person}: {{name: Mailer {person}, email: {person}@example.com}}")
    for person in [*slack_approvers, *email_approvers]:
        approvers.append(f"  by-{person}: {{user: {person}}}")
        rules.append(
            f"  - name: rule-{person}\n    step: 1\n    approver: by-{person}\n"
            f"    conditions:\n      - {{field: discount_percent, op: gt, value: 0, label: discount}}"
        )
    nl = "\n"
    return (
        f"version: 1\ntimezone: UTC\nadmins: [{ADMIN}]\nfallback_approver: desk\n"
        f"people:\n{nl.join(people)}\n"
        f"approvers:\n  desk: {{user: {ADMIN}}}\n{nl.join(approvers)}\n"
        f"rules:\n{nl.join(rules)}\n"
        f'orders:\n  release_time: "06:00"\n  generate: {generate}\n'
    )


def quote_data(quote_id: str, *, delivery: dt.date | None = None, lines: int = 1) -> dict[str, Any]:
    """A small valid quote owned by the rep, 5% off (every rule fires); its lines ship on `delivery`."""
    day = (delivery or dt.date(2027, 1, 1)).isoformat()
    return {
        "id": quote_id,
        "version": 1,
        "owner": REP,
        "currency": "USD",
        "account": {"id": "A-1", "name": "Acme GmbH", "timezone": "UTC", "ship_to": "Berlin HQ"},
        "start_date": day,
        "term_months": 12,
        "payment_terms": "Net 30",
        "discount_percent": 5,
        "net_total": 950 * lines,
        "list_total": 1000 * lines,
        "lines": [
            {
                "id": f"L{n}",
                "sku": f"SKU-{n}",
                "family": "Hardware",
                "quantity": 1,
                "list_price": 1000,
                "net_price": 950,
                "discount_percent": 5,
                "net_total": 950,
                "list_total": 1000,
                "recurring": False,
                "delivery_date": day,
                "ship_to": "Berlin HQ" if n % 2 else "Hamburg DC",
            }
            for n in range(1, lines + 1)
        ],
    }


# ---- waiting --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    seconds: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "_end", time.monotonic() + self.seconds)

    @property
    def passed(self) -> bool:
        return time.monotonic() > self._end  # type: ignore[attr-defined]


async def until(
    condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 10.0, every: float = 0.05
) -> None:
    """Poll a real condition (a database count, a stand-in's state) until it holds; fail after `timeout`."""
    deadline = Deadline(timeout)
    while not await condition():
        if deadline.passed:
            raise AssertionError(f"{what}: still not true after {timeout} s")
        await asyncio.sleep(every)


def payload_of(row: dict[str, Any]) -> dict[str, Any]:
    value = row["payload"]
    return json.loads(value) if isinstance(value, str | bytes) else value
