"""What operators watch: Prometheus metrics beyond the API's counters, `/readyz`, JSON logs.

Metrics (docs/operations.md lists them with the alerts in deploy/prometheus-alerts.yaml):

- `greenlight_outbox_rows{topic,status}` and `greenlight_outbox_oldest_age_seconds{topic}`: what
  waits to leave (pending, sending, failed) and the dead letters (dead), read from the database at
  each scrape, so every replica reports the same shared figures; only for the topics this process
  delivers (without an ERP URL the ERP's rows wait for one, neither counted nor raising the age alert);
- `greenlight_approvals{status}`: open approvals (waiting, requested), same way, through the index
  that starts with their status: a figure of the work in flight, whatever the table's history;
- `greenlight_approval_outcomes_total{status}` (store.tx): approvals closed by an outcome (approved,
  rejected, auto, carried, revoked), counted by each replica as its changes commit;
- `greenlight_outbox_reclaims_total{topic}` (notifications.worker): rows retried after a lease ran out;
- `greenlight_slack_api_calls_total{method,error}`: Web API calls by method and error (`ok` when none);
- `greenlight_http_request_seconds{route}`: latency of every route (the Slack ack is `/slack/events`,
  the CRM API `/api/quotes`);
- `greenlight_job_runs_total{job}`, `greenlight_job_seconds{job}`, `greenlight_job_last_run_age_seconds{job}`:
  the timed jobs (sweeps), how long they take and how long since each last ran (its lag);
- `greenlight_policy_version`, `greenlight_policy_reloads_total{result}`, `greenlight_socket_mode_connected`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from tortoise import Tortoise

from domain import approvals as lifecycle
from domain.reactions import Topic

if TYPE_CHECKING:
    from .app import Runtime

log = logging.getLogger("greenlight")

OPEN_APPROVALS = (
    "SELECT status, COUNT(*) AS n FROM approval "
    f"WHERE status IN ({', '.join(repr(status) for status in lifecycle.OPEN)}) GROUP BY status"
)
"""The open approvals by status, read through `approval_status_requested_at_idx` (migration 0010): only
the open ones' entries. Counting every status read the whole table on each scrape (260 ms at a million
approvals on SQLite, its one connection held meanwhile); closed ones are counted as they close
(`greenlight_approval_outcomes_total`)."""

OUTBOX_STATUSES = ("pending", "sending", "failed", "dead")
"""The statuses `greenlight_outbox_rows` counts: rows still in play (sent ones: greenlight_outbox_sent_total)."""


class Observability:
    def __init__(self, runtime: Runtime, registry: CollectorRegistry) -> None:
        self.runtime = runtime
        self.outbox = Gauge(
            "greenlight_outbox_rows",
            "Outbox rows still in play by topic and status: pending, sending, failed, dead (shared database).",
            ["topic", "status"],
            registry=registry,
        )
        self.oldest = Gauge(
            "greenlight_outbox_oldest_age_seconds",
            "Age of the oldest row still waiting to leave, by topic (0 when none waits).",
            ["topic"],
            registry=registry,
        )
        self.approvals = Gauge(
            "greenlight_approvals",
            "Open approvals by status: waiting (a later step), requested (shared database).",
            ["status"],
            registry=registry,
        )
        self.slack_calls = Counter(
            "greenlight_slack_api_calls",
            "Slack Web API calls by method and error.",
            ["method", "error"],
            registry=registry,
        )
        self.http = Histogram(
            "greenlight_http_request_seconds",
            "Time to answer an HTTP request, by route (/slack/events is the Slack ack).",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0, 10.0),
            registry=registry,
        )
        self.job_runs = Counter("greenlight_job_runs", "Timed job runs, by job.", ["job", "result"], registry=registry)
        self.job_seconds = Histogram(
            "greenlight_job_seconds", "Timed job run duration, by job.", ["job"], registry=registry
        )
        self.job_age = Gauge(
            "greenlight_job_last_run_age_seconds",
            "Seconds since each timed job last finished.",
            ["job"],
            registry=registry,
        )
        self.policy_version = Gauge(
            "greenlight_policy_version", "The shared policy version this process applies.", registry=registry
        )
        self.reloads = Gauge(
            "greenlight_policy_reloads",
            "Policy reloads asked of this process, by result.",
            ["result"],
            registry=registry,
        )
        self.socket = Gauge(
            "greenlight_socket_mode_connected",
            "1 while the Socket Mode connection is up (0: down or HTTP mode).",
            registry=registry,
        )
        self._finished: dict[str, float] = {}

    # ---- wiring -----------------------------------------------------------------------------

    def watch_jobs(self) -> None:
        """Time every sweep (timed job) of the runtime."""
        for sweep in self.runtime.sweeps.sweeps.values():
            sweep.run = self._timed(sweep.name, sweep.run)

    def _timed(self, name: str, run: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        async def timed() -> object:
            started = time.monotonic()
            result = "ok"
            try:
                return await run()
            except Exception:
                result = "error"
                raise
            finally:
                self.job_seconds.labels(job=name).observe(time.monotonic() - started)
                self.job_runs.labels(job=name, result=result).inc()
                self._finished[name] = time.monotonic()

        return timed

    def watch_slack(self) -> None:
        """Count every Web API call of the runtime's Slack client by method and error."""
        client = self.runtime.client
        call = client.api_call
        counter = self.slack_calls

        async def counted(api_method: str, *args: Any, **kwargs: Any) -> Any:
            try:
                response = await call(api_method, *args, **kwargs)
            except Exception as error:
                answer = getattr(error, "response", None)
                data = getattr(answer, "data", None)  # a dict, or the body as text when it was not JSON
                reason = data.get("error") if isinstance(data, dict) else None
                counter.labels(method=api_method, error=str(reason or type(error).__name__)).inc()
                raise
            counter.labels(method=api_method, error="ok").inc()
            return response

        client.api_call = counted  # type: ignore[method-assign]

    def middleware(self) -> Any:
        histogram = self.http

        @web.middleware
        async def timing(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
            if request.path == "/metrics":
                await self.refresh()
            resource = getattr(request.match_info.route, "resource", None)
            route = resource.canonical if resource is not None else "unmatched"
            started = time.monotonic()
            try:
                return await handler(request)
            finally:
                histogram.labels(route=route).observe(time.monotonic() - started)

        return timing

    # ---- figures read at scrape time ----------------------------------------------------------

    async def refresh(self) -> None:
        live = self.runtime.live
        self.policy_version.set(live.version if live is not None and live.version is not None else 0)
        if live is not None:
            for result, count in live.reloads.items():
                self.reloads.labels(result=result).set(count)
        socket = self.runtime.socket
        self.socket.set(1 if socket is not None and await socket.connected() else 0)
        now = time.monotonic()
        for name, finished in self._finished.items():
            self.job_age.labels(job=name).set(now - finished)
        try:
            await self._from_database()
        except Exception:
            log.warning("metrics: the database did not answer; shared figures are from the last scrape")

    async def _from_database(self) -> None:
        connection = Tortoise.get_connection("default")
        # Rows still in play only: the open ones through their partial index (idx_outbox_open), the
        # failed and dead through theirs (idx_outbox_dead, migration 0017). Sent rows are history,
        # counted as they are sent (greenlight_outbox_sent_total): counting them here read the whole
        # table on every scrape (1.1 s at a million rows on SQLite, its one connection held meanwhile).
        # Rows of a topic this replica has no receiver for (`_held`) are left out: they wait for one
        # and would otherwise be read at every scrape, one more with each release, for good.
        held = self._held()
        delivered = ", ".join(f"'{topic.value}'" for topic in Topic if topic.value not in held)
        rows: list[dict[str, Any]] = []
        for condition in (  # one statement per index
            "status IN ('pending', 'sending')" + (f" AND topic IN ({delivered})" if held else ""),
            "status IN ('failed', 'dead')",
        ):
            rows += await connection.execute_query_dict(
                "SELECT topic, status, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox "
                f"WHERE {condition} GROUP BY topic, status"
            )
        now = dt.datetime.now(dt.UTC)
        oldest: dict[str, float] = {}
        seen: set[tuple[str, str]] = set()
        for row in rows:
            topic, status = str(row["topic"]), str(row["status"])
            seen.add((topic, status))
            self.outbox.labels(topic=topic, status=status).set(int(row["n"]))
            if status in ("pending", "sending", "failed") and row["oldest"] is not None:
                age = (now - _moment(row["oldest"])).total_seconds()
                oldest[topic] = max(oldest.get(topic, 0.0), age)
        for topic in ({topic.value for topic in Topic} | {topic for topic, _ in seen}) - held:
            self.oldest.labels(topic=topic).set(max(oldest.get(topic, 0.0), 0.0))
            for status in OUTBOX_STATUSES:
                if (topic, status) not in seen:
                    self.outbox.labels(topic=topic, status=status).set(0)
        counts = {str(row["status"]): int(row["n"]) for row in await connection.execute_query_dict(OPEN_APPROVALS)}
        for status in lifecycle.OPEN:
            self.approvals.labels(status=status).set(counts.get(status, 0))

    def _held(self) -> set[str]:
        """The topics this runtime has no receiver for (no ERP URL, no SMTP server): their rows wait
        for one to be configured, neither counted nor aged, so that the alert on the oldest row's age
        does not fire in a deployment that has no ERP, and a scrape does not read its backlog."""
        if self.runtime is None:
            return set()
        return {topic.value for topic in Topic} - {str(topic) for topic in self.runtime.workers}

    # ---- /readyz ---------------------------------------------------------------------------------

    async def readiness(self) -> list[str]:
        """Why this process should not get traffic now (empty: ready)."""
        problems = []
        if not await self.runtime.health():
            problems.append("the database does not answer")
        if self.runtime.live is not None and self.runtime.live.version is None:
            problems.append("no shared policy version is applied yet")
        if self.runtime.socket is not None and not await self.runtime.socket.connected():
            problems.append("the Socket Mode connection to Slack is down")
        if not self.runtime.sweeps.scheduler.running:
            problems.append("the timed jobs are not running")
        return problems

    def add_routes(self, app: web.Application) -> None:
        async def readyz(request: web.Request) -> web.Response:
            problems = await self.readiness()
            if problems:
                return web.json_response({"ok": False, "problems": problems}, status=503)
            return web.json_response({"ok": True})

        app.router.add_get("/readyz", readyz)


def _moment(value: Any) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
