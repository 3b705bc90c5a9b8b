"""The composition root: one place that wires settings, database, Slack, HTTP and the scheduler.

Nothing connects at import time. `build(settings)` assembles a `Runtime`; `await runtime.start()`
connects the database (applying migrations) and starts the sweeps; `await runtime.stop()`
finishes in-flight sweeps and closes the database.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from domain.events import from_json
from domain.order_service import Orders
from domain.policy import Policy, read_policy
from domain.reactions import Topic
from domain.service import Approvals
from domain.sourcemap import read_text
from notifications.slack_delivery import HOME_EVERY, SlackDelivery, lane_of
from notifications.slack_delivery import LANES as SLACK_LANES
from notifications.worker import Foreground, Worker
from scheduler.jobs import Intervals, Job, schedule, timed_jobs
from scheduler.sweeps import Sweeps
from store import db
from store.outbox import Claimed, Outbox
from store.tx import DbStore

from .api import add_routes
from .live_policy import POLL, LivePolicy
from .observability import Observability
from .proxies import proxy_for
from .settings import Settings
from .socket_mode import SocketMode

if TYPE_CHECKING:
    from bot.locales import SlackLocales

    from .salesforce import SalesforceConnector

log = logging.getLogger("greenlight")

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Runtime:
    settings: Settings
    policy: Policy
    service: Approvals
    web: web.Application
    bolt: AsyncApp
    client: AsyncWebClient
    outbox: Outbox
    sweeps: Sweeps
    clock: Clock
    delivery: SlackDelivery
    orders: Orders
    workers: dict[Topic, Worker] = field(default_factory=dict)
    salesforce: SalesforceConnector | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    live: LivePolicy | None = None
    """The shared policy this process follows (greenlight.live_policy)."""
    slack_app: Callable[[Policy], AsyncApp] | None = None
    """A bolt app with every listener, for a policy (rebuilt when the policy changes)."""
    migrate: bool = True
    """Apply pending migrations on start (`serve --no-migrate`: refuse to start while any is pending)."""
    socket: SocketMode | None = None
    """Slack over Socket Mode (SLACK_APP_TOKEN set), once `serve` started it."""
    locales: SlackLocales | None = None
    """Each Slack user's locale, learnt once in a while and shared by the listeners and the renderer."""
    observability: Observability | None = None
    foreground: Foreground = field(default_factory=Foreground)
    """Slack's requests being answered, which Slack's delivery gives way to (`Worker.foreground`)."""

    unsent: frozenset[str] = frozenset()
    """The topics whose rows this runtime does not write (`DbStore.unsent`): a commit never queues
    one, so no kick runs their sweep for nothing (their timer still closes rows another process wrote)."""

    def kick(self, *names: str) -> None:
        """Ask for sweeps now (after a commit that queued outbox rows)."""
        for name in names or ("slack", "orders", "email", "crm"):
            if name not in self.unsent:
                self.sweeps.kick(name)

    async def health(self) -> bool:
        return await db.ping()

    def apply_policy(self, policy: Policy, version: int | None) -> None:
        """Evaluate, render and answer with `policy` from now on (live_policy calls this)."""
        self.service.use_policy(policy, version)
        self.orders.policy = policy
        from bot.render import BlockRenderer

        self.delivery.use_policy(policy, BlockRenderer(policy, self.locales))
        if self.slack_app is not None:
            self.bolt = self.slack_app(policy)
            if self.socket is not None:
                self.socket.follow(self.bolt)
        self.policy = policy
        self.sweeps.kick("people")  # the admins' changes and Slack ids looked up, on the new people

    async def start(self) -> None:
        for notice in self.settings.notices():
            log.info(notice)
        url = self.settings.database_url.get_secret_value()
        if not self.migrate:
            pending = await db.pending_migrations(url)
            if pending:
                raise db.DatabaseError(
                    f"the database lacks {len(pending)} migration(s) ({', '.join(pending[:3])}): run "
                    "`greenlight db migrate` (the release step), or start without --no-migrate"
                )
        await db.connect(url, apply_migrations=self.migrate)
        if self.client.session is None or self.client.session.closed:
            # one kept-alive session for every Web API call (slack_sdk opens a new one per call without it)
            self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))
        if self.live is not None:
            await self.live.start()
        self.sweeps.start()

    async def stop(self) -> None:
        await self.sweeps.stop()
        for close in self.closers:
            await close()
        if self.client.session is not None:
            await self.client.session.close()
        await db.close()


def build(
    settings: Settings,
    *,
    policy: Policy | None = None,
    clock: Clock = utc_now,
    sweep_every: dt.timedelta = dt.timedelta(seconds=5),
    tick_every: dt.timedelta = dt.timedelta(seconds=60),
    release_every: dt.timedelta = dt.timedelta(seconds=30),
    policy_every: dt.timedelta = POLL,
    home_every: float = HOME_EVERY,
) -> Runtime:
    policy_text = None
    if policy is None:
        policy = read_policy(settings.policy_file)
        policy_text = read_text(settings.policy_file, "policy file")
    crm_on = settings.crm_webhooks_on or settings.salesforce_on
    # without a CRM, no row is written for it (a CRM connected later is not sent the past either way)
    store = DbStore(unsent=() if crm_on else (Topic.CRM,))
    service = Approvals(policy, store)
    orders = Orders(policy, store)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else "xoxb-missing"
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url)
    client.proxy = proxy_for(client.base_url)  # the proxy variables as the webhooks read them (NO_PROXY too)
    client.retry_handlers = [h for h in client.retry_handlers if "RateLimit" not in type(h).__name__]
    # slack_sdk formats a debug line of every request and answer whenever its logger's own level is
    # unset (it tests `logger.level`, not whether DEBUG is on): paid only when debugging
    client.logger.setLevel(logging.NOTSET if logging.getLogger().isEnabledFor(logging.DEBUG) else logging.INFO)
    signing = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""

    async def authorize(enterprise_id: str | None, team_id: str | None, **_: object) -> AuthorizeResult:
        # One workspace, one bot token: no auth.test round trip, so a Slack outage cannot turn the
        # first request after a restart into "please install this app".
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    _quiet_bolt_token_warning()

    async def reload_policy(person: str) -> tuple[bool, str]:
        if runtime.live is None:
            return False, "The policy cannot be reloaded: this process was not started from a policy file."
        outcome = await runtime.live.reload(by=f"/deal policy reload ({person})")
        return outcome.ok, outcome.sentence()

    home_pages: dict[str, int] = {}  # App Home's page per person: outlives the bolt app rebuilt on a policy change

    def slack_app(policy: Policy) -> AsyncApp:
        from bot import render as bot_render
        from bot.deps import Deps
        from bot.listeners import register_all
        from store.crm import requeue_quote

        from .insightswiring import insights_deps

        bolt = AsyncApp(client=client, signing_secret=signing, process_before_response=False, authorize=authorize)
        slack = Deps(
            policy,
            service,
            orders,
            client,
            clock,
            delivery.dm_channel,
            outbox.requeue,
            runtime.kick,
            requeue_crm=requeue_quote,
            **insights_deps(settings, lambda: runtime.policy, clock),
            reload_policy=reload_policy,
            locales=locales,
            home_pages=home_pages,
        )
        register_all(bolt, slack)

        async def home_of(person: str) -> dict[str, Any]:
            return await bot_render.home(slack, person)

        delivery.home = home_of
        return bolt

    outbox = Outbox()
    sweeps = Sweeps()
    from bot.locales import SlackLocales
    from bot.render import BlockRenderer

    locales = SlackLocales(client, clock)
    renderer = BlockRenderer(policy, locales)
    delivery = SlackDelivery(
        client, policy, service, outbox, renderer, clock, email_on=settings.email_on, home_every=home_every
    )
    owner = f"{socket.gethostname()}:{os.getpid()}"
    app = web.Application(client_max_size=1024 * 1024)
    placeholder = AsyncApp(client=client, signing_secret=signing, authorize=authorize)
    runtime = Runtime(settings, policy, service, app, placeholder, client, outbox, sweeps, clock, delivery, orders)
    runtime.unsent = frozenset(topic.value for topic in store.unsent)
    runtime.closers.append(delivery.close)  # before the database closes: a waiting App Home would read it
    runtime.locales = locales

    async def generate_orders(row: Claimed) -> None:
        await orders.react(from_json(row.payload), clock())

    handlers: dict[Topic, Callable[[Claimed], Awaitable[None]]] = {
        Topic.SLACK: delivery.deliver,
        Topic.ORDERS: generate_orders,
    }
    if settings.erp_on:
        from notifications.erp_delivery import ErpDelivery

        erp_secret = settings.erp_secret.get_secret_value() if settings.erp_secret else ""
        erp = ErpDelivery(str(settings.erp_url), erp_secret, orders, clock)
        runtime.closers.append(erp.close)
        handlers[Topic.ERP] = erp.deliver
    salesforce = None
    if settings.salesforce_on:
        from .salesforce import Mapping, SalesforceConnector

        salesforce = SalesforceConnector(
            str(settings.salesforce_login_url),
            str(settings.salesforce_client_id),
            settings.salesforce_client_secret.get_secret_value() if settings.salesforce_client_secret else "",
            Mapping.read(settings.salesforce_mapping),
            service,
            clock,
        )
        runtime.salesforce = salesforce
        runtime.closers.append(salesforce.close)
    if crm_on:
        from domain.crm import CrmDesk
        from notifications.crm_delivery import CrmDelivery

        crm_secret = settings.crm_webhook_secret.get_secret_value() if settings.crm_webhook_secret else ""
        crm = CrmDelivery(
            settings.crm_webhook_url if settings.crm_webhooks_on else None,
            crm_secret,
            CrmDesk(policy, store),
            clock,
            write_back=salesforce.write_back if salesforce is not None else None,
        )
        runtime.closers.append(crm.close)
        handlers[Topic.CRM] = crm.deliver
    else:
        # No CRM to tell: this runtime writes no CRM rows; those another process wrote (a CLI's
        # store writes every topic) are closed as they come, so none waits forever and a CRM
        # connected later is not sent the past (docs/decisions.md).
        async def no_crm(row: Claimed) -> None:
            return None

        handlers[Topic.CRM] = no_crm
    if settings.email_on and settings.smtp is not None:
        from notifications.email_delivery import EmailDelivery

        mailer = EmailDelivery(settings.smtp, settings.mail_settings(), service, outbox, clock)
        handlers[Topic.EMAIL] = mailer.deliver
    workers = {topic: Worker(outbox, topic, handle, clock, owner) for topic, handle in handlers.items()}
    workers[Topic.SLACK].batch = delivery.batch  # updates of one message within a batch are coalesced
    workers[Topic.SLACK].mark_in_batches = True  # nothing waits on a Slack row being marked sent
    # a few quotes at once (Slack answers one call at a time each), each quote's messages in order
    workers[Topic.SLACK].lane, workers[Topic.SLACK].lanes = lane_of, SLACK_LANES
    for worker in workers.values():  # a burst of clicks is answered before its messages are delivered
        worker.foreground = runtime.foreground
    # without a CRM nothing is sent and nothing waits on order: a batch is closed in one statement
    workers[Topic.CRM].mark_in_batches = not crm_on
    # generating a version's orders again finds them made (OrderService.generate): marked per batch
    workers[Topic.ORDERS].mark_in_batches = True
    runtime.workers.update(workers)
    intervals = Intervals(outbox=sweep_every, approvals=tick_every, release=release_every)
    jobs = timed_jobs(orders, service, clock, workers, intervals)
    if salesforce is not None:
        every = dt.timedelta(seconds=settings.salesforce_every)
        jobs.append(Job("salesforce", _pulling(salesforce), every, ("slack", "crm")))
    schedule(sweeps, jobs)
    from notifications.people_lookup import look_up_slack_ids

    async def people_lookup() -> None:
        from store import people as people_store

        in_force = runtime.policy  # the live policy may have been replaced since start
        people_store.apply_changes(in_force, await people_store.changes())  # what admins set from chat
        await look_up_slack_ids(client, in_force)

    sweeps.add("people", people_lookup, dt.timedelta(hours=1))

    from .insightswiring import add_insights_routes

    runtime.bolt = slack_app(policy)
    runtime.slack_app = slack_app
    live = LivePolicy(policy, settings.policy_file if policy_text is not None else None, runtime.apply_policy, clock)
    live.text = policy_text
    runtime.live = live
    sweeps.add("policy", live.follow, policy_every)

    async def slack_events(request: web.Request) -> web.StreamResponse:
        if await is_ssl_check(request):
            return web.Response(status=200)
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            return web.json_response({"error": "the request is not signed by Slack"}, status=401)
        with runtime.foreground.serving():  # Slack's delivery gives way meanwhile
            answer = await runtime.bolt.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(answer)

    app.router.add_post("/slack/events", slack_events)
    api_metrics = add_routes(app, service=service, settings=settings, health=runtime.health, clock=clock)
    observability = Observability(runtime, api_metrics.registry)
    observability.watch_jobs()
    observability.watch_slack()
    app.middlewares.append(observability.middleware())
    observability.add_routes(app)
    runtime.observability = observability
    app.middlewares.append(_kick_after_api_changes(runtime))
    if settings.secret is not None:
        from notifications import pages

        pages.add_routes(
            app, service=service, secret=settings.secret.get_secret_value(), clock=clock, public_url=settings.public_url
        )
    add_insights_routes(app, settings, lambda: runtime.policy, clock)
    return runtime


def _pulling(connector: SalesforceConnector) -> Callable[[], Awaitable[int]]:
    async def pull() -> int:
        try:
            pulled = await connector.pull()
        except Exception:
            log.exception("the Salesforce pull failed; the next one starts from the same watermark")
            return 0
        for name, why in pulled.refused:
            log.warning("Salesforce quote %s was not taken: %s", name, why)
        return pulled.stored

    return pull


def _kick_after_api_changes(runtime: Runtime) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A CRM call that changed something queued outbox rows: deliver them now, not at the next sweep."""

    @web.middleware
    async def kick(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        if request.method == "POST" and request.path.startswith("/api/quotes") and response.status == 200:
            runtime.kick()
        return response

    return kick


async def is_ssl_check(request: web.Request) -> bool:
    """Slack's certificate probe (`ssl_check=1`, unsigned): answered 200 before any signature check,
    as bolt does. It carries no command, so answering it changes nothing."""
    if request.content_type != "application/x-www-form-urlencoded" or (request.content_length or 0) > 1024:
        return False
    form = await request.post()
    return form.get("ssl_check") == "1" and "command" not in form and "payload" not in form


@functools.cache
def settle_heap() -> None:
    """Once per process, when it is ready to serve: collect, then leave what it built to serve (the
    modules, the policy, bolt's app, the store's caches) out of every later collection (`gc.freeze`).
    A full collection scans every object the collector tracks, so without this, the pauses grow with
    what never becomes garbage. Under a burst of clicks they were the slowest acks: p99 100-119 ms,
    75-77 ms with it (docs/decisions.md)."""
    gc.collect()
    gc.freeze()


async def serve(
    runtime: Runtime,
    host: str,
    port: int,
    ready: Callable[[str], None] | None = None,
    socket_ping_interval: float = 10.0,
) -> None:
    """Serve until cancelled; on the way out, finish in-flight work and close the database."""
    import asyncio

    await runtime.start()
    from notifications.pages import AccessLogger

    from .serving import Guard, GuardedSite, guarded_runner

    guard = Guard()
    runner = guarded_runner(runtime.web, guard, shutdown_timeout=10, access_log_class=AccessLogger)
    await runner.setup()
    site = GuardedSite(runner, host, port, guard)
    await site.start()
    bound = runner.addresses[0] if runner.addresses else (host, port)
    url = f"http://{bound[0]}:{bound[1]}"
    log.info("greenlight is listening on %s", url)
    if runtime.settings.slack_app_token is not None:
        token = runtime.settings.slack_app_token.get_secret_value()
        runtime.socket = SocketMode.for_app(runtime.bolt, token, ping_interval=socket_ping_interval)
        runtime.socket.start()
    settle_heap()
    if ready is not None:
        ready(url)
    try:
        await asyncio.Event().wait()
    finally:
        if runtime.socket is not None:
            await runtime.socket.close()
        await runner.cleanup()
        await runtime.stop()


class _TokenIgnoredNoise(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN "will be ignored" whenever `authorize` is given, but our
    `authorize` hands bolt that very token: the warning is false here, and told every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "will be ignored" not in message and "`token` will be unused" not in message


def _quiet_bolt_token_warning() -> None:
    bolt_log = logging.getLogger("slack_bolt.AsyncApp")
    if not any(isinstance(f, _TokenIgnoredNoise) for f in bolt_log.filters):
        bolt_log.addFilter(_TokenIgnoredNoise())
