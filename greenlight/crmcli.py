"""`greenlight crm salesforce`: pull the Salesforce CPQ quotes changed since the last run (crm-v1 §7).

It reads the same settings as `serve` (GREENLIGHT_SALESFORCE_LOGIN_URL, _CLIENT_ID, _CLIENT_SECRET,
_MAPPING, the database and the policy), runs one pull and says what became of each quote. Outcomes
are written back to Salesforce by `serve`, as they happen (its CRM outbox worker), and `serve` also
pulls on a timer (GREENLIGHT_SALESFORCE_EVERY seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from typing import Any

from domain.errors import GreenlightError
from domain.i18n import _
from domain.policy import read_policy
from domain.service import Approvals
from store import db
from store.tx import DbStore

from .settings import Settings


def cmd_crm_salesforce(args: argparse.Namespace) -> int:
    from .salesforce import Mapping, SalesforceConnector

    settings = Settings.from_env(require_slack=False)
    if not settings.salesforce_on:
        print(
            _(
                "greenlight: the Salesforce connector is not configured: set GREENLIGHT_SALESFORCE_LOGIN_URL, "
                "GREENLIGHT_SALESFORCE_CLIENT_ID and GREENLIGHT_SALESFORCE_CLIENT_SECRET (see docs/crm.md)."
            ),
            file=sys.stderr,
        )
        return 2
    mapping = Mapping.read(args.mapping or settings.salesforce_mapping)
    if args.show_query:
        print(mapping.soql(None))
        return 0
    policy = read_policy(settings.policy_file)

    async def work() -> int:
        await db.connect(settings.database_url.get_secret_value())
        connector = SalesforceConnector(
            str(settings.salesforce_login_url),
            str(settings.salesforce_client_id),
            settings.salesforce_client_secret.get_secret_value() if settings.salesforce_client_secret else "",
            mapping,
            Approvals(policy, DbStore()),
            lambda: dt.datetime.now(dt.UTC),
        )
        try:
            pulled = await connector.pull()
        finally:
            await connector.close()
            await db.close()
        for name, why in pulled.refused:
            print(_("{name}: not taken: {why}", name=name, why=why), file=sys.stderr)
        print(
            _(
                "read {read} changed quotes in {pages} page(s): {stored} stored ({submitted} submitted), "
                "{unchanged} unchanged, {refused} refused",
                read=pulled.read,
                pages=pulled.pages,
                stored=pulled.stored,
                submitted=pulled.submitted,
                unchanged=pulled.unchanged,
                refused=len(pulled.refused),
            )
        )
        return 1 if pulled.refused else 0

    try:
        return asyncio.run(work())
    except GreenlightError:
        raise
    except Exception as error:  # the org or the network: one sentence, no traceback
        print(
            _(
                "greenlight: the Salesforce pull failed: {kind}: {detail}",
                kind=error.__class__.__name__,
                detail=str(error)[:300],
            ),
            file=sys.stderr,
        )
        return 1


def add_commands(commands: Any) -> None:
    crm = commands.add_parser("crm", help=_("connect a CRM (crm-v1)"))
    connectors = crm.add_subparsers(dest="connector", required=True, metavar="CONNECTOR")
    salesforce = connectors.add_parser(
        "salesforce",
        help=_("pull Salesforce CPQ quotes changed since the last run"),
        description="\n".join(__doc__.splitlines()[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    salesforce.add_argument(
        "--mapping", metavar="FILE", help=_("the mapping file (default GREENLIGHT_SALESFORCE_MAPPING)")
    )
    salesforce.add_argument("--show-query", action="store_true", help=_("print the SOQL the mapping asks and stop"))
    salesforce.set_defaults(run=cmd_crm_salesforce)
