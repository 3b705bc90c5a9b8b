"""`greenlight policy apply FILE`: validate a policy and make it the one every replica follows."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from typing import Any

from domain.errors import InvalidInput
from domain.i18n import _
from domain.sourcemap import read_text
from store import db

from .live_policy import LivePolicy, Reload, publish
from .storecli import database_url


def cmd_policy_apply(args: argparse.Namespace) -> int:
    url = database_url(args)
    text = read_text(args.file, "policy file")
    LivePolicy.check(text, args.file)  # every located problem, before touching the database

    async def work() -> Reload:
        await db.connect(url)
        try:
            return await publish(text, args.file, args.by, dt.datetime.now(dt.UTC))
        finally:
            await db.close()

    outcome = asyncio.run(work())
    print(outcome.sentence(), file=sys.stdout if outcome.ok else sys.stderr)
    if not outcome.ok:
        raise InvalidInput(list(outcome.problems), args.file)
    return 0


def add_actions(policy_commands: Any) -> None:
    apply = policy_commands.add_parser(
        "apply",
        help=_("validate a policy file and put it in force in every running replica"),
        description=_(
            "Validate FILE; if it is valid and differs from the policy in force, it becomes the next "
            "policy version in the database and every running `greenlight serve` applies it within seconds "
            "(no restart). An invalid file changes nothing and every problem is listed. Open submissions keep "
            "the approvals they already asked for (docs/operations.md)."
        ),
    )
    apply.add_argument("file", metavar="FILE", help=_("the policy YAML file"))
    apply.add_argument("--db", metavar="URL", help=_("the database (default: GREENLIGHT_DATABASE_URL)"))
    apply.add_argument("--by", default="cli", help=_("who applies it, for the record (default: cli)"))
    apply.set_defaults(run=cmd_policy_apply)
