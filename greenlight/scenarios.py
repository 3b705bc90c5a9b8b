"""`greenlight policy test`: scenario files run against the real approvals and orders services.

A scenario (policy-v1 §4) names a policy, a starting clock and steps. Each step drives the same
services the Slack bot drives, on a fresh store (in memory by default), and its `expect` is
checked against the resulting state. The JSON report is stable: keys and order do not change.
A scenario with order steps (`generate_orders`, `change_order`, `release_due`) or order
expectations also reports, after each step, the current quote's orders and the ERP messages
queued for them (`orders` and `erp`); other scenarios report exactly what they always did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from domain import approvals as lifecycle
from domain.approvals import Submission
from domain.errors import GreenlightError, InvalidInput, Problem, ScenarioError
from domain.events import Event, Kind
from domain.memory import MemoryStore
from domain.order_service import CHANGES, Orders
from domain.orders import PlannedOrder, money
from domain.orders import number as quantity_json
from domain.policy import Policy, parse_duration, read_policy
from domain.quote import Quote, load_quote_text, parse_quote
from domain.service import Approvals, Store
from domain.sourcemap import SourceMap, load_yaml, read_text

ACTIONS = (
    "submit",
    "update",
    "approve",
    "reject",
    "recall",
    "delegate",
    "end_delegation",
    "replace",
    "reassign",
    "advance",
    "generate_orders",
    "change_order",
    "release_due",
)
ORDER_ACTIONS = ("generate_orders", "change_order", "release_due")
STATUSES = ("waiting", "requested", "approved", "rejected", "revoked", "carried", "auto")
ORDER_EXPECT_KEYS = {"orders", "erp", "entitlements"}
EXPECT_KEYS = {
    "status",
    *STATUSES,
    "assignees",
    "acted_by",
    "on_behalf_of",
    "carried_from",
    "events",
    "error",
    *ORDER_EXPECT_KEYS,
}
ORDER_FIELDS = ("status", "delivery_date", "ship_to", "total", "lines", "release_at", "released_at", "kind", "changes")
# What an order shows for a field its report leaves out (plain orders have no kind or changes in it).
_ORDER_DEFAULTS: dict[str, Any] = {"kind": "order", "changes": {}}
_FIELDS = {
    "submit": None,
    "update": None,
    "advance": None,
    "approve": ({"rule", "by"}, {"quote", "comment"}),
    "reject": ({"rule", "by"}, {"quote", "reason", "comment"}),
    "recall": ({"by"}, {"quote"}),
    "delegate": ({"from", "to", "start", "end"}, {"by"}),
    "end_delegation": ({"from"}, {"by"}),
    "replace": ({"old", "new"}, {"by"}),
    "reassign": ({"rule", "from", "to"}, {"quote", "comment"}),
    "generate_orders": (set(), {"quote", "by"}),
    "change_order": ({"number", "action", "by"}, {"date", "lines"}),
    "release_due": (set(), {"at"}),
}

StoreFactory = Callable[[], Awaitable[Store]]


@dataclass
class StepResult:
    index: int
    action: str
    status: str | None
    approvals: list[dict[str, Any]]
    events: list[str]
    failures: list[str]
    error: str | None = None
    summary: str = ""
    orders: list[dict[str, Any]] | None = None
    erp: list[str] | None = None
    # What the current quote's account is entitled to on each date an `entitlements` expectation
    # names (checked, not reported): {date: {line id: quantity}}.
    entitled: dict[str, dict[str, Any]] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "action": self.action,
            "status": self.status,
            "approvals": self.approvals,
            "events": self.events,
            "error": self.error,
        }
        if self.orders is not None:
            out["orders"] = self.orders
            out["erp"] = self.erp
        out["failures"] = self.failures
        return out


@dataclass
class ScenarioResult:
    file: str
    steps: list[StepResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(not s.failures for s in self.steps)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "passed": self.passed, "steps": [s.as_json() for s in self.steps]}
        if self.problems:
            out["problems"] = self.problems
        return out


@dataclass
class Scenario:
    path: Path
    policy: Policy
    now: dt.datetime
    steps: list[tuple[str, Any, dict[str, Any] | None]]

    @property
    def has_orders(self) -> bool:
        """Whether the scenario drives or checks orders (its report then shows them)."""
        return any(a in ORDER_ACTIONS or set(e or {}) & ORDER_EXPECT_KEYS for a, _, e in self.steps)


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def load_scenario(path: str | Path) -> Scenario:
    file = Path(path)
    source = str(path)
    try:
        text = read_text(file, "scenario")
    except InvalidInput as error:
        raise ScenarioError(error.problems) from None
    data, where, problems = load_yaml(text, source)
    if problems:
        raise ScenarioError(problems, source)
    if not isinstance(data, dict):
        raise ScenarioError([Problem(source, "a scenario is a mapping with policy:, now: and steps:")])
    for key in data:
        if key not in ("policy", "now", "steps", "description"):
            problems.append(where.problem((key,), f"unknown key {key!r} (use policy:, now:, steps:)"))
    policy: Policy | None = None
    if not isinstance(data.get("policy"), str):
        problems.append(where.problem(("policy",), "policy: is required: the policy file, relative to the scenario"))
    else:
        try:
            policy = read_policy(file.parent / data["policy"])
        except InvalidInput as error:
            problems.extend(error.problems)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    if "now" in data:
        try:
            now = _aware(data["now"])
        except (ValueError, TypeError):
            problems.append(where.problem(("now",), f"{data['now']!r} is not an ISO timestamp"))
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        problems.append(where.problem(("steps",), "steps: is required: a list of actions"))
        raw_steps = []
    steps = []
    for index, raw in enumerate(raw_steps):
        step = _check_step(raw, (("steps", index)), where, problems, file.parent)
        if step is not None:
            steps.append(step)
    if problems or policy is None:
        raise ScenarioError(problems, source)
    return Scenario(file, policy, now, steps)


def _check_step(
    raw: Any, path: tuple[str | int, ...], where: SourceMap, problems: list[Problem], base: Path
) -> tuple[str, Any, dict[str, Any] | None] | None:
    if not isinstance(raw, dict):
        problems.append(where.problem(path, f"a step is a mapping with one action ({', '.join(ACTIONS)})"))
        return None
    actions = [k for k in raw if k in ACTIONS]
    others = [k for k in raw if k not in ACTIONS and k != "expect"]
    if len(actions) != 1 or others:
        what = f"unknown key {others[0]!r}" if others else f"{len(actions)} actions"
        problems.append(where.problem(path, f"{what}: a step has exactly one of {', '.join(ACTIONS)}"))
        return None
    action = actions[0]
    args = raw[action]
    before = len(problems)
    if action in ("submit", "update"):
        if isinstance(args, str):
            target = base / args
            if not target.is_file():
                problems.append(where.problem((*path, action), f"no quote file at {args} (relative to the scenario)"))
        elif not isinstance(args, dict):
            problems.append(where.problem((*path, action), "give a quote file path or an inline quote"))
    elif action == "advance":
        try:
            parse_duration(str(args))
        except ValueError as error:
            problems.append(where.problem((*path, action), str(error)))
    elif _shorthand(action, args):
        pass
    else:
        required, optional = _FIELDS[action]  # type: ignore[misc]
        if not isinstance(args, dict):
            keys = ", ".join(sorted(required or optional))
            shorthand = {"generate_orders": "a quote id, or ", "release_due": "nothing, or "}.get(action, "")
            problems.append(where.problem((*path, action), f"{action} takes {shorthand}a mapping with {keys}"))
        else:
            missing = sorted(required - set(args))
            unknown = sorted(set(args) - required - optional)
            if missing:
                problems.append(where.problem((*path, action), f"{action} needs {', '.join(missing)}"))
            if unknown:
                problems.append(where.problem((*path, action, unknown[0]), f"{action} has no key {unknown[0]!r}"))
            for key, value in args.items():
                if key not in _NOT_TEXT and not isinstance(value, str):
                    problems.append(where.problem((*path, action, key), f"{key} must be text, not {value!r}"))
            for key in ("start", "end", "date"):
                if key in args and action in ("delegate", "change_order"):
                    try:
                        _date(args[key])
                    except (ValueError, TypeError):
                        problems.append(where.problem((*path, action, key), f"{args[key]!r} is not a date"))
            problems.extend(_order_step_problems(action, args, (*path, action), where))
    expect = raw.get("expect")
    if expect is not None:
        if not isinstance(expect, dict):
            problems.append(where.problem((*path, "expect"), "expect: is a mapping"))
        else:
            for key, value in expect.items():
                shape = _expect_shape_problem(key, value)
                if key in EXPECT_KEYS and shape:
                    problems.append(where.problem((*path, "expect", key), shape))
                if key not in EXPECT_KEYS:
                    problems.append(
                        where.problem(
                            (*path, "expect", key),
                            (f"unknown expectation {key!r}: use {', '.join(sorted(EXPECT_KEYS))}"),
                        )
                    )
    if len(problems) != before:
        return None
    return action, args, expect


_NOT_TEXT = ("start", "end", "date", "lines", "at")


def _shorthand(action: str, args: Any) -> bool:
    """`generate_orders: Q-1042` or a bare `generate_orders:` (the current quote), a bare `release_due:` (now)."""
    if action == "generate_orders":
        return args is None or (isinstance(args, str) and bool(args))
    return action == "release_due" and args is None


def _order_step_problems(
    action: str, args: dict[str, Any], path: tuple[str | int, ...], where: SourceMap
) -> list[Problem]:
    problems = []
    if action == "change_order":
        if "action" in args and args["action"] not in CHANGES:
            problems.append(where.problem((*path, "action"), f"action is one of {', '.join(CHANGES)}"))
        if "lines" in args and not (_texts(args["lines"]) and args["lines"]):
            problems.append(where.problem((*path, "lines"), "lines is a list of line ids, e.g. [L4, L5]"))
    if action == "release_due" and "at" in args:
        try:
            _aware(args["at"])
        except (ValueError, TypeError):
            problems.append(where.problem((*path, "at"), f"{args['at']!r} is not an ISO timestamp"))
    return problems


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _expect_shape_problem(key: str, value: Any) -> str | None:
    """Why an expectation's value has the wrong shape, or None."""
    if key in STATUSES or key == "events":
        return None if value is None or _texts(value) else f"{key} is a list of names, e.g. [manager-discount]"
    if key == "status":
        return None if value is None or isinstance(value, str) else "status is a submission status, e.g. pending"
    if key == "error":
        return None if isinstance(value, str) else "error is a piece of the expected refusal message"
    if key == "assignees":
        ok = isinstance(value, dict) and all(_texts(v) for v in value.values())
        return None if ok else "assignees maps each rule to a list of people, e.g. {legal-terms: [lea, leo]}"
    if key == "erp":
        return None if _texts(value) else "erp is a list of ERP message keys, e.g. [Q-1042-01:released]"
    if key == "orders":
        return _orders_shape_problem(value)
    if key == "entitlements":
        example = "entitlements maps each date to the quantity of each line in force, e.g. {2027-02-01: {L3: 100}}"
        if not isinstance(value, dict) or not all(_day(d) is not None for d in value):
            return example
        if not all(isinstance(v, dict) and all(_amount(q) is not None for q in v.values()) for v in value.values()):
            return example
        return None
    ok = isinstance(value, dict) and all(v is None or isinstance(v, str) for v in value.values())
    return None if ok else f"{key} maps each rule to one person, e.g. {{manager-discount: mike}}"


def _orders_shape_problem(value: Any) -> str | None:
    example = "orders maps each order number to what it must be, e.g. {Q-1042-01: {status: released}}"
    if not isinstance(value, dict):
        return example
    for number, wanted in value.items():
        if wanted is None:
            continue
        if not isinstance(wanted, dict):
            return example
        unknown = sorted(set(wanted) - set(ORDER_FIELDS))
        if unknown:
            return f"{number}: unknown order field {unknown[0]!r} (use {', '.join(ORDER_FIELDS)})"
        if "lines" in wanted and not _texts(wanted["lines"]):
            return f"{number}: lines is a list of line ids"
        if "total" in wanted and _amount(wanted["total"]) is None:
            return f"{number}: total is an amount, e.g. 73920.00"
        for moment in ("release_at", "released_at"):
            if wanted.get(moment) is not None and _instant(wanted[moment]) is None:
                return f"{number}: {moment} is an ISO timestamp"
        if "delivery_date" in wanted and _day(wanted["delivery_date"]) is None:
            return f"{number}: delivery_date is a date"
    return None


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _instant(value: Any) -> dt.datetime | None:
    try:
        return _aware(value)
    except (ValueError, TypeError):
        return None


def _day(value: Any) -> dt.date | None:
    try:
        return _date(value)
    except (ValueError, TypeError):
        return None


def order_json(order: PlannedOrder) -> dict[str, Any]:
    """An order as the scenario report shows it."""
    return {
        "number": order.number,
        "status": order.status,
        "delivery_date": order.delivery_date.isoformat(),
        "ship_to": order.ship_to,
        "total": money(order.total, order.currency),
        "currency": order.currency,
        "lines": list(order.line_ids),
        "release_at": order.local_release_at.isoformat(),
        "released_at": order.released_at.isoformat() if order.released_at else None,
    } | _amendment_json(order)


def _amendment_json(order: PlannedOrder) -> dict[str, Any]:
    """An amendment or cancellation order also shows its kind and each line's signed change."""
    if order.kind == "order":
        return {}
    return {"kind": order.kind, "changes": {line.id: quantity_json(line.quantity) for line in order.lines}}


def approval_json(ctx: lifecycle.Context, sub: Submission, approval: lifecycle.Approval) -> dict[str, Any]:
    people = lifecycle.assignees(ctx, sub, approval) if approval.open else _static_people(approval)
    return {
        "rule": approval.rule,
        "chain": approval.chain,
        "step": approval.step,
        "approver": approval.approver,
        "status": approval.status,
        "assignees": people,
        "acted_by": approval.acted_by,
        "on_behalf_of": approval.on_behalf_of,
        "carried_from": approval.carried_from,
    }


def _static_people(approval: lifecycle.Approval) -> list[str]:
    out: list[str] = []
    for person in [s.holder for s in approval.seats] + approval.escalated_to:
        if person not in out:
            out.append(person)
    return out


class Runner:
    """Runs one scenario on a fresh store and checks its expectations."""

    def __init__(self, scenario: Scenario, store: Store) -> None:
        self.scenario = scenario
        self.service = Approvals(scenario.policy, store)
        self.orders = Orders(scenario.policy, store)
        self.now = scenario.now
        self.current: str | None = None

    def _quote(self, args: Any) -> Quote:
        base = self.scenario.path.parent
        if isinstance(args, str):
            return load_quote_text(read_text(base / args, "quote file"), args)
        return parse_quote(args, "inline quote")

    async def _submit(self, args: Any, submit: bool) -> list[Event]:
        if isinstance(args, dict) and set(args) == {"quote"}:
            quote_id = str(args["quote"])
        else:
            quote = self._quote(args)
            before = len(await self.service.audit(quote.id))
            received = await self.service.receive_quote(quote, self.now)
            quote_id = quote.id
            self.current = quote_id
            # A newer version holds the earlier versions' orders not released yet (docs/orders.md).
            held = [e for e in (await self.service.audit(quote_id))[before:] if e.kind is Kind.ORDER_HOLD]
            events = list(received.events) + held
            if not submit:
                return events
            _, more = await self.service.submit(quote_id, None, self.now)
            return events + more
        self.current = quote_id
        _, events = await self.service.submit(quote_id, None, self.now)
        return events

    def _target(self, args: dict[str, Any]) -> str:
        quote_id = args.get("quote") or self.current
        if quote_id is None:
            raise GreenlightError("no quote yet: submit one before deciding")
        self.current = str(quote_id)
        return self.current

    async def _act(self, action: str, args: Any) -> tuple[list[Event], str]:
        s = self.service
        now = self.now
        if action == "submit":
            events = await self._submit(args, True)
            return events, f"submit {args if isinstance(args, str) else 'quote'}"
        if action == "update":
            events = await self._submit(args, False)
            return events, f"CRM sends {args if isinstance(args, str) else 'a new version'}"
        if action == "approve":
            quote = self._target(args)
            events = await s.decide(quote, args["rule"], args["by"], "approve", now, args.get("comment"))
            return events, f"{args['by']} approves {args['rule']}"
        if action == "reject":
            quote = self._target(args)
            reason = args.get("reason", args.get("comment"))
            events = await s.decide(quote, args["rule"], args["by"], "reject", now, reason)
            return events, f"{args['by']} rejects {args['rule']}: {reason!r}"
        if action == "recall":
            return await s.recall(self._target(args), args["by"], now), f"{args['by']} recalls"
        if action == "reassign":
            quote = self._target(args)
            events = await s.reassign(quote, args["rule"], args["from"], args["to"], now, args.get("comment"))
            return events, f"{args['from']} reassigns {args['rule']} to {args['to']}"
        if action == "replace":
            by = args.get("by") or (self.scenario.policy.admins or ["admin"])[0]
            return await s.replace(args["old"], args["new"], by, now), f"{by} replaces {args['old']} with {args['new']}"
        if action == "delegate":
            start, end = _date(args["start"]), _date(args["end"])
            _, events = await s.delegate(args["from"], args["to"], start, end, args.get("by") or args["from"], now)
            return events, f"{args['from']} delegates to {args['to']} from {start} to {end}"
        if action == "end_delegation":
            await s.end_delegation(args["from"], args.get("by") or args["from"], now)
            return [], f"{args['from']} is back"
        if action == "advance":
            self.now = now + parse_duration(str(args))
            return await s.tick(self.now), f"clock moves {args} to {self.now.isoformat()}"
        if action in ORDER_ACTIONS:
            return await self._on_orders(action, args), describe(action, args)
        raise AssertionError(action)

    async def _on_orders(self, action: str, args: Any) -> list[Event]:
        """Run an order step; its events are what it added to the current quote's audit trail."""
        a = args if isinstance(args, dict) else {}
        if action == "generate_orders":
            quote_id = args if isinstance(args, str) else a.get("quote") or self.current
            if quote_id is None:
                raise GreenlightError("no quote yet: submit one before generating its orders")
            self.current = str(quote_id)
            return await self._audited(self.orders.generate(self.current, a.get("by"), self.now))
        if action == "change_order":
            self.current = (await self.orders.order(a["number"])).quote_id
            new_date = _date(a["date"]) if "date" in a else None
            change = self.orders.change(
                a["number"], a["action"], a["by"], self.now, new_date=new_date, line_ids=a.get("lines")
            )
            return await self._audited(change)
        if "at" in a:
            at = _aware(a["at"])
            if at < self.now:
                raise GreenlightError(f"release_due at {at.isoformat()} is before the clock ({self.now.isoformat()})")
            self.now = at
        return await self._audited(self.orders.release_due(self.now))

    async def _entitled(self, days: list[Any]) -> dict[str, dict[str, Any]]:
        quote = None
        if self.current:
            async with self.orders.store.transaction() as tx:
                quote = await tx.quote(self.current)
        account = quote.account.get("id") if quote is not None else None
        found: dict[str, dict[str, Any]] = {}
        for day in days:
            if account is None:
                found[str(day)] = {}
                continue
            _, items = await self.orders.account(str(account), _date(day))
            in_force = {s.line_id: quantity_json(s.quantity) for s in items.subscriptions}
            found[str(day)] = in_force | {a.line_id: quantity_json(a.quantity) for a in items.assets}
        return found

    async def _audited(self, command: Awaitable[object]) -> list[Event]:
        before = len(await self.service.audit(self.current)) if self.current else 0
        await command
        return (await self.service.audit(self.current))[before:] if self.current else []

    async def run(self) -> ScenarioResult:
        result = ScenarioResult(str(self.scenario.path))
        for index, (action, args, expect) in enumerate(self.scenario.steps):
            error: str | None = None
            events: list[Event] = []
            summary = describe(action, args)
            try:
                events, _ = await self._act(action, args)
            except GreenlightError as failure:
                error = str(failure)
            sub = await self.service.latest(self.current) if self.current else None
            ctx = self.service.context(await self.service.directory(), self.now)
            approvals = [approval_json(ctx, sub, a) for a in sub.approvals] if sub else []
            step = StepResult(
                index, action, sub.status if sub else None, approvals, [e.kind for e in events], [], error, summary
            )
            if self.scenario.has_orders:
                orders = await self.orders.orders_of(self.current) if self.current else []
                step.orders = [order_json(o) for o in orders]
                step.erp = [m.key for m in await self.orders.erp_messages(self.current)] if self.current else []
            days = (expect or {}).get("entitlements")
            if days:
                step.entitled = await self._entitled(list(days))
            step.failures = _check(expect or {}, step)
            result.steps.append(step)
        return result


def describe(action: str, args: Any) -> str:
    """A step in words, for the report."""
    a = args if isinstance(args, dict) else {}
    if action in ("submit", "update"):
        what = args if isinstance(args, str) else a.get("quote") or a.get("id") or "an inline quote"
        return f"submit {what}" if action == "submit" else f"the CRM sends {what}"
    if action == "approve":
        return f"{a.get('by')} approves {a.get('rule')}"
    if action == "reject":
        return f"{a.get('by')} rejects {a.get('rule')}: {a.get('reason', a.get('comment'))!r}"
    if action == "recall":
        return f"{a.get('by')} recalls the quote"
    if action == "reassign":
        return f"{a.get('from')} reassigns {a.get('rule')} to {a.get('to')}"
    if action == "replace":
        return f"{a.get('old')} is replaced by {a.get('new')}"
    if action == "delegate":
        return f"{a.get('from')} is away {a.get('start')} to {a.get('end')}, delegate {a.get('to')}"
    if action == "end_delegation":
        return f"{a.get('from')} is back"
    if action == "generate_orders":
        what = args if isinstance(args, str) else a.get("quote") or "the quote"
        return f"{a['by']} generates the orders of {what}" if a.get("by") else f"the orders of {what} are generated"
    if action == "change_order":
        moved = f" to {a['date']}" if "date" in a else ""
        lines = f" ({', '.join(a['lines'])})" if a.get("lines") else ""
        return f"{a.get('by')} changes order {a.get('number')}: {a.get('action')}{lines}{moved}"
    if action == "release_due":
        return f"the release sweep runs at {a['at']}" if "at" in a else "the release sweep runs"
    return f"the clock moves {args}"


def _check(expect: dict[str, Any], step: StepResult) -> list[str]:
    failures: list[str] = []
    wanted_error = expect.get("error")
    if step.error is not None and wanted_error is None:
        failures.append(f"the step was refused: {step.error}")
    if wanted_error is not None:
        if step.error is None:
            failures.append(f"expected the step to be refused with {wanted_error!r}, but it was accepted")
        elif str(wanted_error).lower() not in step.error.lower():
            failures.append(f"expected a refusal mentioning {wanted_error!r}, got: {step.error}")
    if "status" in expect and expect["status"] != step.status:
        failures.append(f"status: expected {expect['status']}, got {step.status}")
    by_rule = {a["rule"]: a for a in step.approvals}
    for status in STATUSES:
        if status in expect:
            want = set(expect[status] or [])
            got = {a["rule"] for a in step.approvals if a["status"] == status}
            if want != got:
                failures.append(f"{status}: expected {sorted(want)}, got {sorted(got)}")
    for key in ("assignees", "acted_by", "on_behalf_of", "carried_from"):
        for rule, want in (expect.get(key) or {}).items():
            if rule not in by_rule:
                failures.append(f"{key}: no approval for rule {rule!r}")
                continue
            got = by_rule[rule][key]
            if key == "assignees":
                if set(want or []) != set(got):
                    failures.append(f"assignees of {rule}: expected {sorted(want or [])}, got {sorted(got)}")
            elif want != got:
                failures.append(f"{key} of {rule}: expected {want}, got {got}")
    for kind in expect.get("events") or []:
        if kind not in step.events:
            failures.append(f"events: expected {kind!r} among {step.events}")
    if "orders" in expect:
        failures.extend(_check_orders(expect["orders"] or {}, step.orders or []))
    if "erp" in expect and set(expect["erp"] or []) != set(step.erp or []):
        failures.append(f"erp: expected {sorted(expect['erp'] or [])}, got {sorted(step.erp or [])}")
    for day, wanted in (expect.get("entitlements") or {}).items():
        in_force = (step.entitled or {}).get(str(day), {})
        expected = {str(k): _amount(v) for k, v in (wanted or {}).items()}
        if expected != {k: _amount(v) for k, v in in_force.items()}:
            failures.append(f"entitlements on {day}: expected {wanted or {}}, got {in_force}")
    return failures


def _check_orders(expect: dict[str, Any], orders: list[dict[str, Any]]) -> list[str]:
    """The quote's orders are exactly those named, each as described."""
    failures = []
    got = {o["number"]: o for o in orders}
    if set(expect) != set(got):
        failures.append(f"orders: expected {sorted(expect)}, got {sorted(got)}")
    for number, wanted in expect.items():
        if number not in got:
            continue
        for key, want in (wanted or {}).items():
            value = got[number].get(key, _ORDER_DEFAULTS.get(key))
            if not _same(key, want, value):
                failures.append(f"{key} of order {number}: expected {want}, got {value}")
    return failures


def _same(key: str, want: Any, value: Any) -> bool:
    if want is None or value is None:
        return want is value
    if key == "total":
        return _amount(want) == Decimal(value)
    if key == "delivery_date":
        return _day(want) == dt.date.fromisoformat(value)
    if key in ("release_at", "released_at"):
        return _instant(want) == dt.datetime.fromisoformat(value)
    if key == "lines":
        return set(want) == set(value)
    if key == "changes":
        return {str(k): _amount(v) for k, v in want.items()} == {k: _amount(v) for k, v in value.items()}
    return bool(want == value)


async def memory_store() -> Store:
    return MemoryStore()


async def run_files(paths: list[str], store_factory: StoreFactory = memory_store) -> list[ScenarioResult]:
    results = []
    for path in paths:
        try:
            scenario = load_scenario(path)
        except InvalidInput as error:
            results.append(ScenarioResult(str(path), problems=[str(p) for p in error.problems]))
            continue
        store = await store_factory()
        results.append(await Runner(scenario, store).run())
    return results
