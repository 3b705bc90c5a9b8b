"""`make demo`: Greenlight with Slack, email, the ERP and the CRM played on this machine, in a browser.

    python -m sandbox.demo [--port 8080] [--open] [--data-dir DIR] [--real-clock] [--verbose]

Starts on 127.0.0.1: the Slack Web API stand-in, a mail server, the ERP stand-in, the real bot
(`greenlight.app.build`) on a fresh SQLite database, and the sandbox page; loads the example
policy, sends the first version of every example quote through the bot's CRM API, prints the URL
and a five-step walkthrough, and stops cleanly on Ctrl-C or SIGTERM (servers closed, database
closed, the temporary folder removed).

The bot's clock starts on Tuesday 1 December 2026, 09:00 in New York (when the example quotes are
being negotiated) and runs at normal speed; the sandbox can move it forward. `--real-clock` uses
today instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import errno
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import webbrowser
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from domain.policy import Policy, read_policy
from greenlight.app import Runtime, build
from greenlight.servecli import HideSecrets
from greenlight.settings import Settings
from sandbox.crm_receiver import CrmReceiver
from sandbox.mailbox import Mailbox
from sandbox.slack_api import SlackStandIn
from sandbox.web import BrowserDriver, Crm, DemoClock, Sandbox, SandboxErp, members_of

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
POLICY = EXAMPLES / "policy.yaml"
DEMO_START = dt.datetime(2026, 12, 1, 14, 0, tzinfo=dt.UTC)  # Tuesday 09:00 in New York
DEFAULT_PORT = 8080
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")

log = logging.getLogger("greenlight.demo")

WALKTHROUGH = """\
Five steps (the page fits a phone: narrow the window, or use the browser's device toolbar at 390x844):

 1. Submit as a rep. Act as Ava Brooks (rep) and type  /deal submit Q-1042  in the message box.
    The answer lists the six approvals Meridian Freight's 32.4% discount needs; Ava's DM gets a
    thread that follows the quote from now on.
 2. Approve on the phone. Act as Marco Bellini, Ava's manager: his DM asks for manager-discount with
    Approve, Reject, Reassign and Details. Tap Approve: the buttons give way to "Approved by Marco
    Bellini", and Ava's thread says so.
 3. Reject with a reason. Act as Sam Adeyemi (services lead), tap Reject on services-discount and
    give a reason, e.g. "Services at 25% off lose money on delivery: 20% is the floor". Ava's thread
    shows the rejection and the reason; the other open requests close.
 4. Resubmit and watch smart approvals carry. In the CRM tab, send Q-1042 v2 (services at 20%, 27.9%
    off, Net 90). As Ava, /deal submit Q-1042 again: manager-discount is carried from the first
    submission (Marco is not asked again: the discount got better); the others are asked anew.
 5. Generate split orders and release one. Approve the rest as Vera, Fiona, Carl, Lena, Leo, then
    Felix, or Farah by email from the Mail tab (each one's App Home lists what waits on them).
    Ava's thread says Q-1042 v2 is approved: tap Generate orders (four orders, one per delivery
    date), then  /deal orders Q-1042  and Release now on Q-1042-01. The ERP tab shows the order
    received; "Fail the next 3 deliveries" there shows retries.
"""
EMAIL_ON = "Emails (Farah Siddiqui is not on Slack) arrive in the Mail tab, with working Approve / Reject links."
EMAIL_OFF = "The Mail tab stays empty: this build of the bot has no email worker yet."


@dataclass
class Demo:
    """Everything the demo runs; `Demo.running(...)` starts it all and stops it all."""

    runtime: Runtime
    slack: SlackStandIn
    driver: BrowserDriver
    mailbox: Mailbox
    erp: SandboxErp
    crm: Crm
    sandbox: Sandbox
    clock: DemoClock
    policy: Policy
    bot_url: str
    database: Path
    salesforce: Any = None  # the Salesforce stand-in, with --salesforce

    @property
    def url(self) -> str:
        return self.sandbox.url

    def kick(self) -> None:
        kick_all(self.runtime)

    async def settle(self, *names: str) -> None:
        """Run sweeps now and wait for them (default: every sweep)."""
        for name in names or tuple(self.runtime.sweeps.sweeps):
            await self.runtime.sweeps.run_now(name)

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls,
        *,
        port: int = 0,
        data_dir: Path | None = None,
        start: dt.datetime | None = DEMO_START,
        sweep_every: dt.timedelta = dt.timedelta(seconds=2),
        policy_file: Path = POLICY,
        quotes: Sequence[Path] | None = None,
        salesforce: bool = False,
    ) -> AsyncIterator[Demo]:
        policy = read_policy(policy_file)
        files = sorted(quotes if quotes is not None else (EXAMPLES / "quotes").glob("*.json"))
        async with contextlib.AsyncExitStack() as stack:
            folder = data_dir
            if folder is None:
                folder = Path(tempfile.mkdtemp(prefix="greenlight-demo-"))
                stack.callback(shutil.rmtree, folder, True)
            folder.mkdir(parents=True, exist_ok=True)
            database = folder / "greenlight.db"
            for stale in folder.glob("greenlight.db*"):
                stale.unlink()

            clock = DemoClock(start, zone=policy.zone)
            bot_token = "xoxb-demo-" + secrets.token_hex(12)
            signing_secret = secrets.token_hex(32)
            api_secret = secrets.token_hex(32)
            erp_secret = secrets.token_hex(32)

            slack = SlackStandIn(bot_token=bot_token, team_domain="kestrel-systems")
            await slack.start()
            stack.push_async_callback(slack.stop)
            for key, person in policy.people.items():
                if person.slack:
                    slack.add_user(
                        person.slack, key, person.email, tz=person.timezone or policy.timezone, real_name=person.name
                    )
            mailbox = await Mailbox().start()
            stack.push_async_callback(mailbox.stop)
            erp = SandboxErp(erp_secret, now=clock)
            await erp.start()
            stack.push_async_callback(erp.stop)
            crm_secret = secrets.token_hex(32)
            receiver = CrmReceiver(crm_secret, clock=lambda: clock().timestamp())
            await receiver.start()
            stack.push_async_callback(receiver.stop)

            org_settings: dict[str, str] = {}
            org = None
            if salesforce:
                org = await stack.enter_async_context(demo_org(policy, clock))
                org_settings = {
                    "GREENLIGHT_SALESFORCE_LOGIN_URL": org.url,
                    "GREENLIGHT_SALESFORCE_CLIENT_ID": org.client_id,
                    "GREENLIGHT_SALESFORCE_CLIENT_SECRET": org.client_secret,
                    "GREENLIGHT_SALESFORCE_MAPPING": str(EXAMPLES / "crm" / "salesforce-cpq.yaml"),
                    "GREENLIGHT_SALESFORCE_EVERY": "10",
                }

            bot_socket = _listening_socket(0)
            stack.callback(bot_socket.close)
            bot_url = f"http://127.0.0.1:{bot_socket.getsockname()[1]}"
            settings = Settings.from_env(
                environ={
                    "SLACK_BOT_TOKEN": bot_token,
                    "SLACK_SIGNING_SECRET": signing_secret,
                    "SLACK_API_URL": slack.api_url,
                    "GREENLIGHT_DATABASE_URL": f"sqlite://{database}",
                    "GREENLIGHT_POLICY": str(policy_file),
                    "GREENLIGHT_PUBLIC_URL": bot_url,
                    "GREENLIGHT_SMTP_URL": mailbox.url,
                    "GREENLIGHT_MAIL_FROM": "Greenlight <greenlight@kestrel-systems.example>",
                    "GREENLIGHT_SECRET": secrets.token_hex(32),
                    "GREENLIGHT_API_SECRET": api_secret,
                    "GREENLIGHT_ERP_URL": erp.url,
                    "GREENLIGHT_ERP_SECRET": erp_secret,
                    "GREENLIGHT_CRM_WEBHOOK_URL": receiver.url,
                    "GREENLIGHT_CRM_WEBHOOK_SECRET": crm_secret,
                    **org_settings,
                },
                env_file=None,
            )
            runtime = build(settings, policy=policy, clock=clock, sweep_every=sweep_every, release_every=sweep_every)
            await runtime.start()
            stack.push_async_callback(runtime.stop)
            runner = web.AppRunner(runtime.web, access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            stack.push_async_callback(runner.cleanup)
            await web.SockSite(runner, bot_socket).start()

            driver = BrowserDriver(f"{bot_url}/slack/events", signing_secret=signing_secret, stand_in=slack)
            stack.push_async_callback(driver.close)
            crm = Crm(files, f"{bot_url}/api/quotes", api_secret, clock, receiver=receiver, salesforce=org)
            stack.push_async_callback(crm.close)
            for path in files:
                if path.stem.endswith("-v1"):
                    status, answer = await crm.send(path.name)
                    if status != 200:
                        raise RuntimeError(f"the bot refused the example quote {path.name} ({status}): {answer}")

            owners = [json.loads(p.read_text(encoding="utf-8")).get("owner", "") for p in files]

            async def switch_language(person: str, language: str) -> None:
                """What a person's own language setting does: stored like a chat change of the directory."""
                from store import people as people_store

                await people_store.change_person(runtime.policy, person, {"locale": language}, "sandbox", clock())

            sandbox = Sandbox(
                slack,
                driver,
                members_of(policy, owners),
                mailbox=mailbox,
                erp=erp,
                crm=crm,
                clock=clock,
                after_action=lambda: kick_all(runtime),
                on_language=switch_language,
                bot_url=bot_url,
                title="Greenlight sandbox · Kestrel Systems",
                port=port,
            )
            await sandbox.start()
            stack.push_async_callback(sandbox.stop)
            yield cls(runtime, slack, driver, mailbox, erp, crm, sandbox, clock, policy, bot_url, database, org)


def kick_all(runtime: Runtime) -> None:
    """Ask every sweep to run now: what an action queued goes out at once, not on the next tick."""
    for name in list(runtime.sweeps.sweeps):
        runtime.sweeps.kick(name)


def sends_email(runtime: Runtime) -> bool:
    return any("mail" in name for name in [*runtime.workers, *runtime.sweeps.sweeps])


def _listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


# ---------------------------------------------------------------- a Salesforce org, played


@contextlib.asynccontextmanager
async def demo_org(policy: Policy, clock: Callable[[], dt.datetime]) -> AsyncIterator[Any]:
    """The Salesforce stand-in with one CPQ quote in review, owned by Ava (by her email, as a CRM knows her)."""
    from tests.support.salesforce import CERT, SalesforceStandIn

    os.environ["REQUESTS_CA_BUNDLE"] = str(CERT)  # trust the stand-in's loopback certificate
    org = SalesforceStandIn(clock=clock)
    email = policy.people["ava"].email if "ava" in policy.people else "ava@example.com"
    org.put_quote(
        "a0Q5e000000SF01",
        {
            "Name": "Q-SF-2001",
            "SBQQ__Status__c": "In Review",
            "SBQQ__SalesRep__r": {"attributes": {"type": "User"}, "Email": email},
            "CurrencyIsoCode": "USD",
            "SBQQ__StartDate__c": "2027-01-01",
            "SBQQ__SubscriptionTerm__c": 12,
            "SBQQ__PaymentTerms__c": "Net 30",
            "SBQQ__AverageCustomerDiscount__c": 18,
            "SBQQ__NetAmount__c": 49200,
            "SBQQ__ListAmount__c": 60000,
            "SBQQ__Account__c": "0015e000009SF01",
            "SBQQ__Account__r": {
                "attributes": {"type": "Account"},
                "Name": "Harbor Analytics",
                "Greenlight_Time_Zone__c": "America/New_York",
            },
            "SBQQ__ShippingName__c": "Harbor HQ Boston",
            "Greenlight_Status__c": None,
            "Greenlight_Comment__c": None,
        },
        [
            {
                "Name": "QL-1",
                "SBQQ__ProductCode__c": "SW-PLAT-S",
                "SBQQ__ProductFamily__c": "Software",
                "SBQQ__Quantity__c": 1,
                "SBQQ__ListPrice__c": 60000,
                "SBQQ__NetPrice__c": 49200,
                "SBQQ__Discount__c": 18,
                "SBQQ__NetTotal__c": 49200,
                "SBQQ__ListTotal__c": 60000,
                "SBQQ__SubscriptionPricing__c": "Fixed Price",
                "SBQQ__StartDate__c": "2027-01-01",
                "Ship_To__c": "Harbor HQ Boston",
            }
        ],
        clock(),
    )
    async with org:
        yield org


# ---------------------------------------------------------------- the command


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.demo",
        description="Run Greenlight with Slack, email, the ERP and the CRM played locally, and print the URL of "
        "the sandbox page. Ctrl-C stops everything.",
    )
    parser.add_argument(
        "--port", type=int, default=None, help=f"port of the sandbox page (default {DEFAULT_PORT}; 0: any free port)"
    )
    parser.add_argument("--open", action="store_true", help="open the page in the default browser")
    parser.add_argument(
        "--no-browser", action="store_true", help="only print the URL (the default; for headless machines)"
    )
    parser.add_argument(
        "--data-dir", type=Path, help="keep the SQLite database in this folder (default: a temporary folder)"
    )
    parser.add_argument("--real-clock", action="store_true", help="start the bot's clock today, not on 1 Dec 2026")
    parser.add_argument(
        "--salesforce",
        action="store_true",
        help="also play a Salesforce CPQ org: its quote in review comes to Slack, the outcome goes back",
    )
    parser.add_argument("--verbose", action="store_true", help="log what the bot does")
    return parser.parse_args(argv)


def banner(demo: Demo) -> str:
    now = demo.clock().astimezone(demo.policy.zone)
    lines = [
        "",
        f"Greenlight sandbox: {demo.url}",
        "",
        f"  bot        {demo.bot_url}   (Slack requests, /api/quotes, /a/<token>, /healthz)",
        f"  Slack      {demo.slack.url}   (the Web API stand-in)",
        f"  mail       {demo.mailbox.url}",
        f"  ERP        {demo.erp.url}",
        *(
            [f"  Salesforce {demo.salesforce.url}   (Q-SF-2001 in review: pulled every 10 s)"]
            if demo.salesforce
            else []
        ),
        f"  database   sqlite://{demo.database}",
        f"  clock      {now:%a %d %b %Y %H:%M} {demo.policy.timezone}",
        "",
        WALKTHROUGH,
        EMAIL_ON if sends_email(demo.runtime) else EMAIL_OFF,
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


async def _run(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    start = None if args.real_clock else DEMO_START
    port = DEFAULT_PORT if args.port is None else args.port
    try:
        async with contextlib.AsyncExitStack() as stack:
            try:
                demo = await stack.enter_async_context(
                    Demo.running(port=port, data_dir=args.data_dir, start=start, salesforce=args.salesforce)
                )
            except OSError as error:
                if error.errno != errno.EADDRINUSE or args.port is not None:
                    raise
                print(f"Port {DEFAULT_PORT} is taken: using a free port instead (choose one with --port).")
                demo = await stack.enter_async_context(
                    Demo.running(port=0, data_dir=args.data_dir, start=start, salesforce=args.salesforce)
                )
            hide = HideSecrets(demo.runtime.settings.secrets())
            for handler in logging.getLogger().handlers:
                handler.addFilter(hide)
            print(banner(demo), flush=True)
            if args.open and not args.no_browser:
                webbrowser.open(demo.url)
            await stop.wait()
            print("\nStopping: closing the servers and the database...", flush=True)
    except OSError as error:
        print(f"The demo could not start: {error.strerror or error} ({error.__class__.__name__}).", file=sys.stderr)
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    print("Stopped.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    for name in PROXY_VARIABLES:  # slack_sdk ignores NO_PROXY: loopback calls would go to a proxy
        os.environ.pop(name, None)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if not args.verbose:
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
