"""`greenlight insights` and `greenlight policy backtest`: where deals wait, what a policy change would do."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from typing import Any

from domain import backtest as backtesting
from domain import insights as figures
from domain.errors import InvalidInput
from domain.i18n import _
from domain.policy import Policy, read_policy
from store import db
from store.backtest import backtest
from store.insights import gather

from .settings import Settings
from .storecli import database_url

DB_HELP = "database URL (default: GREENLIGHT_DATABASE_URL, else sqlite://greenlight.db)"
PERIOD_HELP = (
    "a date (YYYY-MM-DD, in the policy's time zone) or an ISO time; --since is inclusive, and a --until "
    "date includes that whole day"
)


def moment(text: str | None, option: str, policy: Policy, end: bool = False) -> dt.datetime | None:
    """The instant an option names: a date is midnight in the policy's zone (the next one for --until)."""
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        pass
    else:
        start = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(), policy.zone)
        return start.astimezone(dt.UTC)
    try:
        found = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r} is neither a date like 2026-11-01 nor a time like 2026-11-01T09:00:00Z"
        ) from None
    return (found if found.tzinfo else found.replace(tzinfo=policy.zone)).astimezone(dt.UTC)


def period(args: argparse.Namespace, policy: Policy) -> tuple[dt.datetime | None, dt.datetime | None]:
    since = moment(args.since, "--since", policy)
    until = moment(getattr(args, "until", None), "--until", policy, end=True)
    if since is not None and until is not None and since >= until:
        raise InvalidInput(f"--since {args.since} is not before --until {args.until}: the period is empty")
    return since, until


def policy_in_force(args: argparse.Namespace) -> Policy:
    path = getattr(args, "policy", None) or str(Settings.from_env(require_slack=False).policy_file)
    return read_policy(path)


async def _on_db(url: str, work: Any) -> Any:
    await db.connect(url)
    try:
        return await work()
    finally:
        await db.close()


def cmd_insights(args: argparse.Namespace) -> int:
    policy = policy_in_force(args)
    since, until = period(args, policy)
    now = dt.datetime.now(dt.UTC)
    report = asyncio.run(_on_db(database_url(args), lambda: gather(policy, now, since, until)))
    if args.format == "json":
        print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    elif args.format == "csv":
        print(figures.csv_text(report), end="")
    else:
        print(figures.text(report), end="")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    new = read_policy(args.file)
    current = policy_in_force(args)
    since, until = period(args, current)
    result = asyncio.run(_on_db(database_url(args), lambda: backtest(new, current, since, until)))
    if args.format == "json":
        print(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
    else:
        print(backtesting.text(result, args.file), end="")
    return 0


def add_commands(commands: Any, policy_commands: Any) -> None:
    insights = commands.add_parser(
        "insights",
        help=_("where deals wait: cycle and waiting times, stuck requests, bottlenecks, rejections"),
        description=_(
            "Insights over the submissions made in a period: cycle time (submitted to decided) and the "
            "waiting time of each request, median and 90th percentile, by week, chain, step, rule, approver "
            "and rep; open requests by age and those stuck beyond the policy's insights.stuck_after (48h by "
            "default); the approvers with the longest or slowest queues, delegations in force included; "
            "rejection rate by rule, second asks saved by smart approvals, reminders, escalations, and "
            "decisions taken in Slack or by email."
        ),
    )
    insights.add_argument("--since", metavar="WHEN", help=PERIOD_HELP)
    insights.add_argument("--until", metavar="WHEN", help=PERIOD_HELP)
    insights.add_argument("--format", choices=("text", "json", "csv"), default="text")
    insights.add_argument("--db", metavar="URL", help=DB_HELP)
    insights.add_argument("--policy", metavar="FILE", help=_("the policy in force (default: GREENLIGHT_POLICY)"))
    insights.set_defaults(run=cmd_insights)

    test = policy_commands.add_parser(
        "backtest",
        help=_("what a new policy would have changed on the quotes already submitted"),
        description=_(
            "Replay every submitted quote version under NEW and compare with the approvals the policy that "
            "decided it asked for: per rule, the quotes that would newly need it or no longer need it; each "
            "approver's load before and after; the decided quotes that would have been decided differently, "
            "with example quote ids. Changes nothing."
        ),
    )
    test.add_argument("file", metavar="NEW.yaml", help=_("the policy to try"))
    test.add_argument("--since", metavar="WHEN", help=PERIOD_HELP)
    test.add_argument("--until", metavar="WHEN", help=PERIOD_HELP)
    test.add_argument("--format", choices=("text", "json"), default="text")
    test.add_argument("--db", metavar="URL", help=DB_HELP)
    test.add_argument(
        "--policy", metavar="FILE", help=_("the policy in force, for its approvers (default: GREENLIGHT_POLICY)")
    )
    test.set_defaults(run=cmd_backtest)
