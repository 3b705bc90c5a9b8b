"""`make demo`: Greenlight on its embedded defaults.

Checks the example policy, previews every example quote, then runs every example scenario step by
step, printing what happens to each approval.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

from domain.approvals import Context, Directory
from domain.errors import InvalidInput
from domain.policy import read_policy
from domain.preview import build_preview
from domain.quote import load_quote_text
from domain.rules import Evaluator

from . import render
from .scenarios import run_files

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def banner(text: str) -> None:
    print()
    print(render.paint(f"── {text} " + "─" * max(0, 70 - len(text)), "1;35"))


def main() -> int:
    policy_file = EXAMPLES / "policy.yaml"
    banner(f"1. The policy: {policy_file.relative_to(EXAMPLES.parent)}")
    try:
        policy = read_policy(policy_file)
    except InvalidInput as error:
        print("\n".join(str(p) for p in error.problems))
        return 1
    chains = sorted({r.chain for r in policy.rules})
    print(
        f"{len(policy.rules)} rules in {len(chains)} chains ({', '.join(chains)}), "
        f"{len(policy.approvers)} approvers, {len(policy.variables)} variables, {len(policy.people)} people."
    )
    ctx = Context(policy, Evaluator(policy), Directory(), dt.datetime.now(dt.UTC))
    quotes = sorted((EXAMPLES / "quotes").glob("*.json"))
    banner(f"2. Previews of {len(quotes)} example quotes: what a rep sees before submitting")
    for path in quotes:
        quote = load_quote_text(path.read_text(encoding="utf-8"), str(path))
        print()
        print(render.preview_text(build_preview(ctx, quote)))
    scenarios = sorted(str(p) for p in (EXAMPLES / "scenarios").glob("*.yaml"))
    banner(f"3. {len(scenarios)} scenarios, step by step")
    results = asyncio.run(run_files(scenarios))
    print(render.scenario_text(results))
    print()
    print("Next: the Slack sandbox. Until it lands, try `greenlight preview` and `greenlight policy test`.")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
