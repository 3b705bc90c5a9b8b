"""Benchmark: preview of a 1,000-line quote against a 200-rule policy with 20 variables.

The preview is `plan`: the variables, every rule's conditions and `when`, and each firing rule's
approver resolved to people (what a submission would ask, and what the preview shows). Its floor,
measured in the same run, is a hand-written Python function for this one policy that computes the
same variables in one pass over the lines, tests the same conditions directly and resolves the
same approvers (user, group, the owner's manager, the owner left out, the fallback). The two are
checked to reach the same rules and the same people before anything is timed.

Timing: interleaved windows (engine, floor, floor, engine, ...) of at least 2 s each, repeated
(3 quick, 5 full); per window the median call and the process CPU per call. Printed: the median
over repeats with the spread (min-max), and the ratio per repeat. The full preview with reasons
in words and who is away (`build_preview`) is timed alongside, for information. Asserts nothing
about time.

    python bench/engine.py [--quick | --smoke] [--window SECONDS] [--repeats N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml
from measure import sized, smoke, window_seconds

from domain.approvals import Context, Directory, plan
from domain.policy import load_policy
from domain.preview import build_preview
from domain.quote import parse_quote
from domain.rules import Evaluator

FAMILIES = [f"F{i}" for i in range(10)]
TERMS = ["Net 30", "Net 45", "Net 60", "Net 90"]


def make_policy(rng: random.Random) -> tuple[dict, list[dict]]:
    """A 200-rule policy with 20 variables, and the parameters the floor function reads."""
    people = {f"p{i}": {"slack": f"U{i:04d}", "manager": "boss"} for i in range(20)}
    people["boss"] = {"slack": "UBOSS"}
    people["rep"] = {"slack": "UREP", "manager": "boss"}
    approvers = {f"a{i}": {"user": f"p{i}"} for i in range(10)}
    approvers["desk"] = {"group": ["p10", "p11", "p12"], "mode": "any"}
    approvers["fin"] = {"group": ["p13", "p14", "p15"], "mode": {"quorum": 2}}
    approvers["mgr"] = {"field": "owner.manager"}
    variables = {}
    for family in FAMILIES:
        variables[f"sum_{family}"] = {
            "aggregate": "sum",
            "field": "net_total",
            "where": [{"field": "family", "op": "eq", "value": family}],
        }
        variables[f"max_{family}"] = {
            "aggregate": "max",
            "field": "discount_percent",
            "where": [{"field": "family", "op": "eq", "value": family}],
        }
    rules, params = [], []
    names = sorted(approvers)
    for i in range(200):
        family = FAMILIES[i % 10]
        kind = "sum" if i % 2 == 0 else "max"
        threshold = rng.randint(2000, 60000) if kind == "sum" else rng.randint(5, 40)
        discount = rng.randint(5, 30)
        terms = rng.sample(TERMS, 2)
        when = ["all", "any", "1 and not 2", "(1 or 2) and 3"][i % 4]
        conditions = [
            {"variable": f"{kind}_{family}", "op": "gt", "value": threshold, "smart": True},
            {"field": "discount_percent", "op": "ge", "value": discount},
        ]
        if when == "(1 or 2) and 3":
            conditions.append({"field": "payment_terms", "op": "in", "value": terms})
        rules.append(
            {
                "name": f"r{i}",
                "chain": f"c{i % 5}",
                "step": (i // 5) % 4 + 1,
                "approver": names[i % len(names)],
                "conditions": conditions,
                "when": when,
            }
        )
        params.append(
            {
                "name": f"r{i}",
                "var": (kind, family),
                "threshold": threshold,
                "discount": discount,
                "terms": terms,
                "when": when,
                "approver": names[i % len(names)],
            }
        )
    policy = {
        "version": 1,
        "timezone": "UTC",
        "admins": ["boss"],
        "fallback_approver": "desk",
        "people": people,
        "approvers": approvers,
        "variables": variables,
        "rules": rules,
    }
    return policy, params


def make_quote(rng: random.Random, n: int) -> dict:
    lines = []
    for i in range(n):
        qty = rng.randint(1, 50)
        price = rng.choice([100, 250, 720, 1000])
        disc = rng.randint(0, 40)
        net_price = round(price * (1 - disc / 100), 2)
        lines.append(
            {
                "id": f"L{i}",
                "sku": f"S{i}",
                "family": rng.choice(FAMILIES),
                "quantity": qty,
                "list_price": price,
                "net_price": net_price,
                "discount_percent": disc,
                "net_total": round(qty * net_price, 2),
                "list_total": qty * price,
            }
        )
    net = round(sum(line["net_total"] for line in lines), 2)
    listed = sum(line["list_total"] for line in lines)
    return {
        "id": "Q-BENCH",
        "version": 1,
        "owner": "rep",
        "currency": "USD",
        "account": {"id": "A-1", "name": "Bench Corp"},
        "payment_terms": rng.choice(TERMS),
        "discount_percent": round((1 - net / listed) * 100, 1),
        "net_total": net,
        "list_total": listed,
        "lines": lines,
    }


def floor(quote: dict, params: list[dict], policy: dict) -> list[tuple[str, tuple[str, ...]]]:
    """The same decisions, written by hand for this policy: one pass over the lines, direct tests,
    then each firing rule's approver resolved to people (once per approver, as the engine does)."""
    sums = dict.fromkeys(FAMILIES, 0.0)
    maxes: dict[str, float | None] = dict.fromkeys(FAMILIES)
    for line in quote["lines"]:
        family = line["family"]
        sums[family] += line["net_total"]
        top = maxes[family]
        if top is None or line["discount_percent"] > top:
            maxes[family] = line["discount_percent"]
    discount = quote["discount_percent"]
    terms = quote["payment_terms"]
    people = policy["people"]
    owner = quote["owner"]
    resolved: dict[str, tuple[str, ...]] = {}
    fired = []
    for p in params:
        kind, family = p["var"]
        value = sums[family] if kind == "sum" else maxes[family]
        first = value is not None and value > p["threshold"]
        second = discount >= p["discount"]
        when = p["when"]
        if when == "all":
            ok = first and second
        elif when == "any":
            ok = first or second
        elif when == "1 and not 2":
            ok = first and not second
        else:
            ok = (first or second) and terms in p["terms"]
        if ok:
            approver = p["approver"]
            members = resolved.get(approver)
            if members is None:
                members = resolved[approver] = resolve_by_hand(policy, approver, owner, people)
            fired.append((p["name"], members))
    return fired


def resolve_by_hand(policy: dict, approver: str, owner: str, people: dict) -> tuple[str, ...]:
    """An approver's people on this quote, the owner left out, else the fallback's people."""
    for name in (approver, policy["fallback_approver"]):
        definition = policy["approvers"][name]
        if "user" in definition:
            candidates = [definition["user"]]
        elif "group" in definition:
            candidates = definition["group"]
        else:  # field: owner.manager
            candidates = [people.get(owner, {}).get("manager")]
        members = tuple(p for p in candidates if p is not None and p != owner and p in people)
        quorum = definition.get("mode", {}).get("quorum") if isinstance(definition.get("mode"), dict) else None
        if members and (quorum is None or len(members) >= quorum or name != approver):
            return members
    return ()


def window(fn: Callable[[], object], seconds: float) -> tuple[list[float], float]:
    """Call FN for at least SECONDS: each call's wall time (ms) and the process CPU per call (ms)."""
    times: list[float] = []
    clock = time.perf_counter
    cpu_start = time.process_time()
    end = clock() + seconds
    now = clock()
    while now < end:
        fn()
        after = clock()
        times.append((after - now) * 1000)
        now = after
    return times, (time.process_time() - cpu_start) * 1000 / len(times)


def spread(values: list[float]) -> str:
    return f"{min(values):.3f}-{max(values):.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats (make bench's quick mode)")
    parser.add_argument("--window", type=float, default=None, help="seconds per window (>= 2; default 2, full 3)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repeats (>= 3; default 3, full 5)")
    parser.add_argument("--smoke", action="store_true", help="a 100-line quote, tiny windows (bench/measure.py)")
    args = parser.parse_args()
    seconds = window_seconds() if smoke() else max(2.0, args.window or (2.0 if args.quick else 3.0))
    repeats = max(3, args.repeats or (3 if args.quick or smoke() else 5))
    lines = sized("engine", "lines", 1000)
    rng = random.Random(7)
    policy_data, params = make_policy(rng)
    policy = load_policy(yaml.safe_dump(policy_data), "bench-policy.yaml")
    quote = parse_quote(make_quote(rng, lines), "bench-quote")
    evaluator = Evaluator(policy)
    ctx = Context(policy, evaluator, Directory(), dt.datetime(2026, 12, 1, tzinfo=dt.UTC))

    engine_fired = [(p.rule, p.resolved.members) for p in plan(ctx, quote, None)]
    hand_fired = floor(quote.data, params, policy_data)
    if engine_fired != hand_fired:
        print("MISMATCH: the engine and the hand-written floor disagree", file=sys.stderr)
        print(sorted(set(engine_fired) ^ set(hand_fired)), file=sys.stderr)
        return 1

    subjects: dict[str, Callable[[], object]] = {
        "preview (engine)": lambda: plan(ctx, quote, None),
        "hand-written floor": lambda: floor(quote.data, params, policy_data),
        "preview in words": lambda: build_preview(ctx, quote),
    }
    for fn in subjects.values():  # warm-up on the same calls as measured
        for _ in range(sized("engine", "warm_up", 20)):
            fn()
    medians: dict[str, list[float]] = {name: [] for name in subjects}
    cpus: dict[str, list[float]] = {name: [] for name in subjects}
    counts: dict[str, int] = dict.fromkeys(subjects, 0)
    ratios: list[float] = []
    names = list(subjects)
    for repeat in range(repeats):
        order = names if repeat % 2 == 0 else names[1::-1] + names[2:]  # alternate engine and floor first
        for name in order:
            times, cpu = window(subjects[name], seconds)
            medians[name].append(statistics.median(times))
            cpus[name].append(cpu)
            counts[name] += len(times)
        ratios.append(medians["preview (engine)"][-1] / medians["hand-written floor"][-1])

    rules_firing = len(engine_fired)
    print(
        f"engine preview benchmark · Python {platform.python_version()} · {repeats} interleaved repeats"
        f" · windows of {seconds:g} s"
    )
    print(
        f"  quote: {lines:,} lines · policy: {len(policy.rules)} rules, {len(policy.variables)} variables"
        f" · {rules_firing} rules fire · {len({a for _, a in engine_fired})} distinct approver groups"
    )
    print("  per call:                     median ms (spread over repeats)   CPU ms/call   calls")
    for name in names:
        print(
            f"  {name + ':':<29} {statistics.median(medians[name]):.3f} ({spread(medians[name])})"
            f"{'':<10}{statistics.median(cpus[name]):.3f}       {counts[name]:,}"
        )
    ratio = statistics.median(ratios)
    print(f"  ratio engine/floor per repeat: {', '.join(f'{r:.2f}x' for r in ratios)}")
    verdict = "met" if ratio <= 3 else "NOT met"
    print(f"  target preview <= 3x hand-written: {verdict} ({ratio:.2f}x, median of {repeats} repeats)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
