"""Command-line tools over the durable store: `db migrate`, `quotes import`, `audit`."""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from domain import i18n
from domain.errors import GreenlightError, InvalidInput
from domain.events import Event, to_json
from domain.i18n import _, _n
from domain.policy import read_policy
from domain.quote import load_quote_text
from domain.service import Approvals
from domain.sourcemap import read_text
from store import db
from store.tx import DbStore

from .settings import Settings

AUDIT_COLUMNS = (
    "at",
    "kind",
    "quote_id",
    "quote_version",
    "submission",
    "rule",
    "actor",
    "on_behalf_of",
    "comment",
    "people",
    "detail",
)


def database_url(args: argparse.Namespace) -> str:
    if getattr(args, "db", None):
        return str(args.db)
    return Settings.from_env(require_slack=False).database_url.get_secret_value()


async def _with_db(url: str, work: Callable[[], Awaitable[int]]) -> int:
    await db.connect(url)
    try:
        return await work()
    finally:
        await db.close()


def cmd_db_migrate(args: argparse.Namespace) -> int:
    url = database_url(args)

    async def work() -> None:
        try:
            await db.migrate(url)
        finally:
            await db.close()

    asyncio.run(work())
    print(_("database is up to date"))
    return 0


def cmd_quotes_import(args: argparse.Namespace) -> int:
    url = database_url(args)
    settings_policy = args.policy or str(Settings.from_env(require_slack=False).policy_file)
    policy = read_policy(settings_policy)

    async def work() -> int:
        service = Approvals(policy, DbStore())
        failed = 0
        for index, path in enumerate(args.files, start=1):
            prefix = f"[{index}/{len(args.files)}] {path}"
            try:
                quote = load_quote_text(read_text(path, "quote file"), path)
                received = await service.receive_quote(quote, dt.datetime.now(dt.UTC))
            except InvalidInput as error:
                failed += 1
                print(_("{prefix}: refused, nothing stored", prefix=prefix), file=sys.stderr)
                for problem in error.problems:
                    print(f"    {problem}", file=sys.stderr)
                continue
            except GreenlightError as error:
                failed += 1
                print(_("{prefix}: refused, nothing stored: {error}", prefix=prefix, error=error), file=sys.stderr)
                continue
            print(f"{prefix}: {quote.id} v{quote.version} {received.status}")
        print(_("{imported} imported, {refused} refused", imported=len(args.files) - failed, refused=failed))
        return 1 if failed else 0

    return asyncio.run(_with_db(url, work))


def event_row(event: Event) -> dict[str, Any]:
    """One audit row: the event's JSON form, in the columns' order."""
    data = to_json(event)
    return {column: data[column] for column in AUDIT_COLUMNS}


def render_audit(events: list[Event], form: str) -> str:
    rows = [event_row(e) for e in events]
    if form == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False, default=str)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=AUDIT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        row = dict(row, people=" ".join(row["people"]), detail=json.dumps(row["detail"], default=str))
        writer.writerow(row)
    return buffer.getvalue().rstrip("\n")


def _moment(text: str | None, option: str, end_of_day: bool = False) -> dt.datetime | None:
    """`--since 2026-11-01` (the day's start, UTC) or an ISO time; `--until` a date means through that day."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day, dt.time(), dt.UTC)
            return moment + dt.timedelta(days=1) if end_of_day else moment
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            _(
                "{option} {text!r} is not a date (2026-11-01) or an ISO time (2026-11-01T09:00:00Z)",
                option=option,
                text=text,
            )
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def cmd_audit(args: argparse.Namespace) -> int:
    url = database_url(args)
    since = _moment(args.since, "--since")
    until = _moment(args.until, "--until", end_of_day=True)
    if since is not None and until is not None and until <= since:
        raise InvalidInput(
            _(
                "--until {until} is not after --since {since}: the window is empty",
                until=args.until,
                since=args.since,
            )
        )
    if args.quote is None and since is None and until is None:
        raise InvalidInput(
            _("name a quote, or a window with --since and/or --until (audit Q-1042 · audit --since 2026-11-01)")
        )

    async def work() -> int:
        if args.quote is None:
            from store import audit

            print(render_audit(await audit.between(since, until), args.format))
            return 0
        async with DbStore().transaction() as tx:
            events = await tx.audit(args.quote)
            known = await tx.quote(args.quote)
        if not events and known is None:
            print(_("greenlight: no quote {quote} is in the database at this URL", quote=args.quote), file=sys.stderr)
            return 1
        events = [e for e in events if (since is None or e.at >= since) and (until is None or e.at < until)]
        print(render_audit(events, args.format))
        return 0

    return asyncio.run(_with_db(url, work))


def cmd_account(args: argparse.Namespace) -> int:
    from domain.order_service import Orders

    url = database_url(args)
    settings_policy = args.policy or str(Settings.from_env(require_slack=False).policy_file)
    policy = read_policy(settings_policy)
    try:
        at = dt.date.fromisoformat(args.at) if args.at else dt.datetime.now(policy.zone).date()
    except ValueError:
        raise InvalidInput(_("--at {text!r} is not a date like 2027-03-01", text=args.at)) from None

    async def work() -> int:
        contracts, found = await Orders(policy, DbStore()).account(args.account, at)
        if args.format == "json":
            print(
                json.dumps(
                    {
                        "account": args.account,
                        "contracts": [c.as_dict() for c in contracts],
                        "entitlements": found.as_dict(),
                    },
                    indent=2,
                )
            )
            return 0
        if not contracts:
            print(_("{account} has no contract yet.", account=args.account))
            return 0
        contracts_count = _n("{count} contract", "{count} contracts", len(contracts))
        print(_("{account} on {day}: {contracts}", account=args.account, day=i18n.date(at), contracts=contracts_count))
        print("  " + _("subscriptions in force: {count}", count=len(found.subscriptions)))
        for item in found.subscriptions:
            span = _("{start} to {end}", start=i18n.date(item.start), end=i18n.date(item.end))
            order = _("(order {number})", number=item.order_number)
            print(f"    {item.sku or item.line_id} x{item.quantity.normalize():f}  {span}  {order}")
        print("  " + _("assets delivered: {count}", count=len(found.assets)))
        for asset in found.assets:
            unit = f" #{asset.unit}" if asset.unit else ""
            order = _("(order {number})", number=asset.order_number)
            print(f"    {asset.sku or asset.line_id}{unit}  {order}")
        return 0

    return asyncio.run(_with_db(url, work))


def cmd_people_export(args: argparse.Namespace) -> int:
    """The policy's `people:` with the changes admins made from chat laid over it, as YAML."""
    import yaml

    from store import people as people_store

    url = database_url(args)
    policy = read_policy(args.policy or str(Settings.from_env(require_slack=False).policy_file))

    async def work() -> int:
        changed = await people_store.changes()
        people_store.apply_changes(policy, changed)
        people = {
            key: {k: v for k, v in person.model_dump().items() if v is not None}
            for key, person in sorted(policy.people.items())
        }
        print(
            "# "
            + _(
                "people of {policy}, with {changes} made from chat",
                policy=args.policy or _("the policy"),
                changes=_n("{count} change", "{count} changes", len(changed)),
            )
        )
        print(yaml.safe_dump({"people": people}, allow_unicode=True, sort_keys=False, default_flow_style=None), end="")
        return 0

    return asyncio.run(_with_db(url, work))


def add_commands(commands: Any) -> None:
    db_help = _("database URL (default: GREENLIGHT_DATABASE_URL, else sqlite://greenlight.db)")
    database = commands.add_parser("db", help=_("database maintenance"))
    actions = database.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    migrate = actions.add_parser("migrate", help=_("apply every pending migration (also done on start)"))
    migrate.add_argument("--db", metavar="URL", help=db_help)
    migrate.set_defaults(run=cmd_db_migrate)

    quotes = commands.add_parser("quotes", help=_("quotes from the CRM"))
    quote_actions = quotes.add_subparsers(dest="quotes_command", metavar="ACTION", required=True)
    importer = quote_actions.add_parser(
        "import",
        help=_("store quote JSON files as if the CRM had sent them"),
        description=_("Validate and store quote files; a bad file is refused with its problems and changes nothing."),
    )
    importer.add_argument("files", nargs="+", metavar="FILE")
    importer.add_argument("--db", metavar="URL", help=db_help)
    importer.add_argument("--policy", metavar="FILE", help=_("the policy (default: GREENLIGHT_POLICY)"))
    importer.set_defaults(run=cmd_quotes_import)

    audit = commands.add_parser(
        "audit",
        help=_("every event of a quote: who, when, on whose behalf, version, comment"),
        description=_(
            "Export the audit trail as CSV (default) or JSON: one quote's, or every quote's (and every delegation"
            " and replacement) within --since/--until."
        ),
    )
    audit.add_argument("quote", metavar="QUOTE_ID", nargs="?", help=_("one quote (default: every quote in the window)"))
    audit.add_argument("--since", metavar="WHEN", help=_("from this date (UTC day) or ISO time, inclusive"))
    audit.add_argument("--until", metavar="WHEN", help=_("up to this date (through that UTC day) or ISO time"))
    audit.add_argument("--format", choices=("csv", "json"), default="csv")
    audit.add_argument("--db", metavar="URL", help=db_help)
    audit.set_defaults(run=cmd_audit)

    people = commands.add_parser("people", help=_("the directory, with what admins changed from chat"))
    people_actions = people.add_subparsers(dest="people_command", metavar="ACTION", required=True)
    export = people_actions.add_parser(
        "export",
        help=_("print the policy's people: with chat changes applied, as YAML to paste back into the policy"),
        description=_(
            "Print the policy's `people:` section with every person added or changed from chat"
            " (`/deal people set`) laid over it: the YAML stays the source, and this brings it up to date."
        ),
    )
    export.add_argument("--db", metavar="URL", help=db_help)
    export.add_argument("--policy", metavar="FILE", help=_("the policy (default: GREENLIGHT_POLICY)"))
    export.set_defaults(run=cmd_people_export)

    account = commands.add_parser(
        "account",
        help=_("contracts, subscriptions and assets of an account at a date"),
        description=_("What an account is entitled to at a date (orders-v1 §3): subscriptions in force and assets."),
    )
    account.add_argument("account", metavar="ACCOUNT_ID")
    account.add_argument("--at", metavar="DATE", help=_("the date (default: today in the policy's zone)"))
    account.add_argument("--format", choices=("text", "json"), default="text")
    account.add_argument("--db", metavar="URL", help=db_help)
    account.add_argument("--policy", metavar="FILE", help=_("the policy (default: GREENLIGHT_POLICY)"))
    account.set_defaults(run=cmd_account)
