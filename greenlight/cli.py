"""The `greenlight` command.

It speaks the language of LC_ALL, LC_MESSAGES or LANG (the first one set, as POSIX reads them);
when none is set, or it says C or POSIX, the default language (`locale:`) of the policy the command
reads (its --policy or FILE, else GREENLIGHT_POLICY), else English. Times are shown in the
policy's zone, named.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from domain import i18n
from domain.approvals import Context, Directory, Submission
from domain.errors import GreenlightError, InvalidInput
from domain.i18n import _, _n
from domain.policy import read_policy
from domain.preview import build_preview
from domain.quote import Quote, load_quote_text
from domain.rules import Evaluator
from domain.sourcemap import read_text

from . import render
from .scenarios import run_files

EXIT_FAILED = 1


def _now(text: str | None) -> dt.datetime:
    if not text:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(_("--at {text!r} is not an ISO time such as 2026-12-01T09:00:00Z", text=text)) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _problems(error: InvalidInput) -> str:
    lines = []
    for problem in error.problems:
        if error.source and problem.where.startswith("$"):
            lines.append(f"{error.source}: {problem}")
        else:
            lines.append(str(problem))
    return "\n".join(lines)


def cmd_policy_check(args: argparse.Namespace) -> int:
    policy = read_policy(args.file)
    chains = {r.chain for r in policy.rules}
    print(
        _(
            "{file}: valid · {rules} in {chains} · {approvers} · {variables} · {people}",
            file=args.file,
            rules=_n("{count} rule", "{count} rules", len(policy.rules)),
            chains=_n("{count} chain", "{count} chains", len(chains)),
            approvers=_n("{count} approver", "{count} approvers", len(policy.approvers)),
            variables=_n("{count} variable", "{count} variables", len(policy.variables)),
            people=_n("{count} person", "{count} people", len(policy.people)),
        )
    )
    return 0


def _read_quote(path: str) -> Quote:
    return load_quote_text(read_text(path, "quote file"), path)


async def _from_store(url: str, quote_id: str) -> tuple[Directory, Submission | None]:
    """Who is away (delegations, replacements) and the quote's last submission, read from a store."""
    from store import db
    from store.tx import DbStore

    await db.connect(url)
    try:
        async with DbStore().transaction() as tx:
            return await tx.directory(), await tx.latest(quote_id)
    finally:
        await db.close()


def cmd_preview(args: argparse.Namespace) -> int:
    policy = read_policy(args.policy)
    quote = _read_quote(args.quote)
    directory, previous = Directory(), None
    if args.db:
        directory, previous = asyncio.run(_from_store(args.db, quote.id))
    ctx = Context(policy, Evaluator(policy), directory, _now(args.at))
    preview = build_preview(ctx, quote, previous)
    if args.format == "json":
        print(json.dumps(preview.as_dict(), indent=2, ensure_ascii=False))
    else:
        owner = policy.person_for(quote.owner)
        entry = policy.people.get(owner) if owner else None
        print(render.preview_text(preview, owner=entry.name if entry and entry.name else owner))
        if not args.db:
            print(
                "\n"
                + _(
                    "(No store given: nobody is shown away and nothing carried. "
                    "--db URL reads delegations and the last submission from Greenlight's database.)"
                )
            )
    return 0


def cmd_policy_test(args: argparse.Namespace) -> int:
    if args.db:
        from greenlight.dbstore import run_on_database

        results = asyncio.run(run_on_database(args.files, args.db))
    else:
        results = asyncio.run(run_files(args.files))
    if args.format == "json":
        print(json.dumps({"scenarios": [r.as_json() for r in results]}, indent=2, ensure_ascii=False))
    else:
        print(render.scenario_text(results, verbose=not args.quiet))
    return 0 if all(r.passed for r in results) else EXIT_FAILED


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="greenlight",
        description=_("Deal approvals and split orders for sales teams, in Slack."),
        epilog=_("Run 'greenlight COMMAND --help' for the options of one command."),
    )
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    policy = commands.add_parser("policy", help=_("check a policy file or run its test scenarios"))
    policy_commands = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    check = policy_commands.add_parser(
        "check",
        help=_("validate a policy file and list every problem"),
        description=_("Validate a policy file; exits 0 only when it is valid."),
    )
    check.add_argument("file", help=_("the policy YAML file"))
    check.set_defaults(run=cmd_policy_check)
    test = policy_commands.add_parser(
        "test",
        help=_("run scenario files against the policy they name"),
        description=_("Run scenario files (policy-v1 §4) on a fresh store each; exits 1 on any failed expectation."),
    )
    test.add_argument("files", nargs="+", metavar="FILE", help=_("scenario YAML files"))
    test.add_argument("--format", choices=("text", "json"), default="text")
    test.add_argument("--quiet", action="store_true", help=_("print only failures and the summary"))
    test.add_argument("--db", metavar="URL", help=_("run against a fresh database at URL instead of memory"))
    test.set_defaults(run=cmd_policy_test)
    from . import policycli

    policycli.add_actions(policy_commands)

    preview = commands.add_parser(
        "preview",
        help=_("show every approval a quote would need"),
        description=_(
            "Preview the approvals a quote needs: by chain and step, who would be asked and why. Alone it needs no"
            " store or network; with --db it also shows who is away (and their delegates) and which approvals"
            " smart approvals would carry from the quote's last submission."
        ),
    )
    preview.add_argument("--policy", required=True, metavar="FILE", help=_("the policy YAML file"))
    preview.add_argument("--quote", required=True, metavar="FILE", help=_("the quote JSON file"))
    preview.add_argument("--format", choices=("text", "json"), default="text")
    preview.add_argument("--at", metavar="TIMESTAMP", help=_("evaluate as of this ISO time (default: now)"))
    preview.add_argument(
        "--db",
        metavar="URL",
        help=_("Greenlight's database (sqlite://... or postgres://...): delegations and carries"),
    )
    preview.set_defaults(run=cmd_preview)

    from . import insightscli, orderscli, servecli, storecli

    insightscli.add_commands(commands, policy_commands)

    orderscli.add_commands(commands)
    storecli.add_commands(commands)
    servecli.add_commands(commands)
    from . import crmcli

    crmcli.add_commands(commands)
    return top


def environment_language(env: Mapping[str, str] = os.environ) -> str | None:
    """The language LC_ALL, LC_MESSAGES or LANG asks for, the first one set deciding (as POSIX reads
    them); None when none is set, or it says C or POSIX, or a language Greenlight does not speak."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return i18n.normalize(env[name])
    return None


def policy_language(args: argparse.Namespace | None, env: Mapping[str, str] = os.environ) -> str | None:
    """The default language of the policy a command reads: its --policy, its policy FILE, else
    GREENLIGHT_POLICY (or ./policy.yaml); None when there is none that reads."""
    candidates = [getattr(args, "policy", None)]
    if getattr(args, "command", None) == "policy":
        candidates.append(getattr(args, "file", None))
    candidates.append(env.get("GREENLIGHT_POLICY") or "policy.yaml")
    for candidate in candidates:
        if not isinstance(candidate, str) or not Path(candidate).is_file():
            continue
        try:
            return read_policy(candidate).locale
        except (GreenlightError, OSError, ValueError):
            continue
    return None


def main(argv: Sequence[str] | None = None) -> int:
    with i18n.speaking(environment_language() or policy_language(None)):
        args = parser().parse_args(argv)
    with i18n.speaking(environment_language() or policy_language(args)):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    run: Callable[[argparse.Namespace], int] = args.run  # every command's cmd_* function
    try:
        return run(args)
    except InvalidInput as error:
        print(_problems(error), file=sys.stderr)
        count = len(error.problems)
        print(_n("{count} problem found.", "{count} problems found.", count), file=sys.stderr)
        return EXIT_FAILED
    except GreenlightError as error:
        problems = getattr(error, "problems", None)
        if problems:
            for problem in problems:
                print(f"greenlight: {getattr(problem, 'message', problem)}", file=sys.stderr)
        else:
            print(f"greenlight: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
