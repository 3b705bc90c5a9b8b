"""Benchmark: preview of a 1,000-line quote against a 200-rule policy with 20 variables.

Prints the median and p95 time of a full preview (variables, every rule, approver resolution),
and in the same run the time of a hand-written Python function that makes the same decisions
for the same quote (the floor of interpretation cost). Asserts nothing about time; it does
check that both reach the same decisions, so the comparison is honest.

    python bench/engine.py [--runs N] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from domain.approvals import Context, Directory, plan
from domain.policy import load_policy
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


def floor(quote: dict, params: list[dict]) -> list[str]:
    """The same decisions, written by hand for this policy: one pass over lines, direct tests."""
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
            fired.append(p["name"])
    return fired


def measure(first, second, runs: int) -> tuple[list[float], list[float]]:
    """Time two functions in alternation, so that machine noise falls on both alike."""
    a, b = [], []
    for _ in range(runs):
        for fn, out in ((first, a), (second, b)):
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1000)
    return a, b


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="fewer runs (for make bench's quick mode)")
    args = parser.parse_args()
    runs = 60 if args.quick else args.runs
    rng = random.Random(7)
    policy_data, params = make_policy(rng)
    policy = load_policy(yaml.safe_dump(policy_data), "bench-policy.yaml")
    quote = parse_quote(make_quote(rng, 1000), "bench-quote")
    evaluator = Evaluator(policy)
    ctx = Context(policy, evaluator, Directory(), dt.datetime(2026, 12, 1, tzinfo=dt.UTC))

    engine_fired = [p.rule for p in plan(ctx, quote, None)]
    hand_fired = floor(quote.data, params)
    if engine_fired != hand_fired:
        print("MISMATCH: the engine and the hand-written floor disagree", file=sys.stderr)
        print(sorted(set(engine_fired) ^ set(hand_fired)), file=sys.stderr)
        return 1

    for _ in range(10):
        plan(ctx, quote, None)
        floor(quote.data, params)
    engine, hand = measure(lambda: plan(ctx, quote, None), lambda: floor(quote.data, params), runs)
    em, hm = statistics.median(engine), statistics.median(hand)
    print(f"engine preview benchmark · Python {platform.python_version()} · {runs} runs")
    print(
        f"  quote: 1,000 lines · policy: {len(policy.rules)} rules, {len(policy.variables)} variables"
        f" · {len(engine_fired)} rules fire"
    )
    print(f"  preview (engine):     median {em:.3f} ms   p95 {p95(engine):.3f} ms")
    print(f"  hand-written floor:   median {hm:.3f} ms   p95 {p95(hand):.3f} ms")
    print(f"  ratio engine/floor:   {em / hm:.2f}x   (targets: median <= 5 ms, ratio <= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
