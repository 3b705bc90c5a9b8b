"""The HTTP surface besides Slack (slack-v1 §2): the CRM quote intake, health and metrics.

    POST /api/quotes   a quote from the CRM, signed like Slack with GREENLIGHT_API_SECRET, or with a
                       bearer key of GREENLIGHT_API_KEYS (crm-v1 §1; the other CRM routes: crm_api.py)
    GET  /healthz      200 {"ok": true} while the database answers, else 503
    GET  /metrics      Prometheus text format

Every refusal answers JSON with an `error` sentence and changes nothing. The checks run cheapest
first: API off (503), declared size (413), headers and timestamp (401), then the body is read
(at most MAX_QUOTE_BYTES) and its signature (401), JSON (422), quote (422) and version (409)
are checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.exposition import choose_encoder

from domain.amounts import read_number
from domain.crm import resolve_quote_people
from domain.errors import (
    Conflict,
    GreenlightError,
    InvalidInput,
    NotAllowed,
    NotFound,
    Problem,
    StaleRequest,
    StaleVersion,
)
from domain.quote import parse_quote
from domain.service import Approvals
from notifications.worker import RECLAIMS, SENT_ROWS
from store.tx import OUTCOMES

from .auth import SIGNATURE_HEADER as SIGNATURE_HEADER
from .auth import TIMESTAMP_HEADER as TIMESTAMP_HEADER
from .auth import Pending, identify
from .settings import Settings

log = logging.getLogger("greenlight.api")

MAX_QUOTE_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
HEALTH_TIMEOUT_SECONDS = 5.0
QUOTE_STATUSES = ("stored", "unchanged", "recalled")

Clock = Callable[[], dt.datetime]
Health = Callable[[], Awaitable[bool]]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Metrics:
    """The counters the API keeps, in their own registry (one per application, so tests stay apart)."""

    registry: CollectorRegistry
    quotes: Counter
    requests: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> Metrics:
        registry = registry if registry is not None else CollectorRegistry()
        quotes = Counter(
            "greenlight_quotes_received",
            "Quotes sent by the CRM, by outcome (stored, unchanged, recalled, invalid, stale).",
            ["status"],
            registry=registry,
        )
        for status in (*QUOTE_STATUSES, "invalid", "stale"):
            quotes.labels(status=status)
        requests = Counter(
            "greenlight_http_requests",
            "HTTP requests answered, by route and status code.",
            ["route", "status"],
            registry=registry,
        )
        for counter in (RECLAIMS, SENT_ROWS, OUTCOMES):
            with contextlib.suppress(ValueError):  # already there: a registry shared by two apps
                registry.register(counter)
        return cls(registry, quotes, requests)


METRICS = web.AppKey("greenlight_metrics", Metrics)


def create_app(
    *,
    service: Approvals,
    settings: Settings,
    health: Health,
    clock: Clock = utc_now,
    registry: CollectorRegistry | None = None,
) -> web.Application:
    """An application serving the routes below, refusing bodies over MAX_QUOTE_BYTES."""
    app = web.Application(client_max_size=MAX_QUOTE_BYTES)
    add_routes(app, service=service, settings=settings, health=health, clock=clock, registry=registry)
    return app


def add_routes(
    app: web.Application,
    *,
    service: Approvals,
    settings: Settings,
    health: Health,
    clock: Clock = utc_now,
    registry: CollectorRegistry | None = None,
) -> Metrics:
    """Register POST /api/quotes, GET /healthz and GET /metrics on APP (before it starts).

    The quote route enforces MAX_QUOTE_BYTES whatever APP's `client_max_size`; give APP that
    limit too (`create_app` does) so that no other route buffers more.
    """
    metrics = Metrics.create(registry)
    app[METRICS] = metrics
    app.middlewares.append(_count_requests(metrics))
    app.router.add_post("/api/quotes", _QuoteIntake(service, settings, clock, metrics).handle)
    app.router.add_get("/healthz", _health_check(health))
    app.router.add_get("/metrics", _serve_metrics(metrics))
    from .crm_api import add_crm_routes

    add_crm_routes(app, service=service, settings=settings, clock=clock)
    return metrics


def error(status: int, sentence: str, **extra: Any) -> web.Response:
    return web.json_response({"error": sentence, **extra}, status=status)


class _QuoteIntake:
    def __init__(self, service: Approvals, settings: Settings, clock: Clock, metrics: Metrics) -> None:
        self.service = service
        self.settings = settings
        self.clock = clock
        self.metrics = metrics

    async def handle(self, request: web.Request) -> web.Response:
        if not self.settings.api_on:
            return api_off()
        declared = request.content_length
        if declared is not None and declared > MAX_QUOTE_BYTES:
            return _too_large(declared)
        now = self.clock()
        who = identify(request.headers, self.settings, now)
        if isinstance(who, str):
            return _unauthorized(who)

        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _too_large(None)
        if len(body) > MAX_QUOTE_BYTES:
            return _too_large(len(body))
        caller = who.verify(body, now) if isinstance(who, Pending) else who
        if isinstance(caller, str):
            return _unauthorized(caller)

        data, problem = _read_json(body)
        if problem is not None:
            return error(422, f"The body is not a JSON quote: {problem}.")
        try:
            quote = resolve_quote_people(self.service.policy, parse_quote(data, "quote"))
            received = await self.service.receive_quote(quote, now, actor=caller.actor)
        except InvalidInput as refused:
            self.metrics.quotes.labels(status="invalid").inc()
            return _invalid(refused.problems)
        except StaleVersion as refused:
            self.metrics.quotes.labels(status="stale").inc()
            return error(
                409,
                f"{_with_period(str(refused))} Send a version higher than {refused.stored}.",
                quote=refused.quote_id,
                stored_version=refused.stored,
            )
        except (Conflict, StaleRequest) as refused:
            self.metrics.quotes.labels(status="stale").inc()
            return error(409, _with_period(str(refused)))
        except NotAllowed as refused:
            return error(403, _with_period(str(refused)))
        except NotFound as refused:
            return error(404, _with_period(str(refused)))
        except GreenlightError as refused:
            return error(400, _with_period(str(refused)))
        except RecursionError:
            return error(422, f"The quote is nested too deeply: at most {MAX_JSON_DEPTH} levels.")
        except Exception:
            log.exception("a quote from the CRM could not be stored")
            return error(500, "The quote could not be stored because of an internal error: send it again later.")
        self.metrics.quotes.labels(status=received.status).inc()
        log.info(
            "quote %s version %s from the CRM: %s (sent by %s)",
            received.quote.id,
            received.quote.version,
            received.status,
            caller.actor,
        )
        return web.json_response(
            {"quote": received.quote.id, "version": received.quote.version, "status": received.status}
        )


def api_off() -> web.Response:
    return error(
        503,
        "The CRM API is off: neither GREENLIGHT_API_SECRET nor GREENLIGHT_API_KEYS is set on the Greenlight server.",
    )


def _unauthorized(sentence: str) -> web.Response:
    log.warning("quote API request refused (401): %s", sentence)
    return error(401, sentence)


def _too_large(size: int | None) -> web.Response:
    this = f"this one has {size} bytes" if size is not None else "this one is larger"
    return error(413, f"A quote may be at most 1 MB ({MAX_QUOTE_BYTES} bytes); {this}.", limit=MAX_QUOTE_BYTES)


def _invalid(problems: list[Problem]) -> web.Response:
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    return error(
        422,
        f"The quote has {count} {noun} and was not stored.",
        problems=[{"where": problem.where, "message": problem.message} for problem in problems],
    )


def _read_json(body: bytes) -> tuple[Any, str | None]:
    """(data, None) or (None, why it is not JSON). Strict: UTF-8, no NaN, bounded nesting."""
    if not body.strip():
        return None, "the body is empty"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, "it is not UTF-8 text"
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=read_number)
    except json.JSONDecodeError as problem:
        return None, f"{problem.msg} at line {problem.lineno}, column {problem.colno}"
    except ValueError as problem:
        return None, str(problem)
    except RecursionError:
        return None, f"it is nested more than {MAX_JSON_DEPTH} levels deep"
    if _depth(data) > MAX_JSON_DEPTH:
        return None, f"it is nested more than {MAX_JSON_DEPTH} levels deep"
    return data, None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(data: Any) -> int:
    deepest = 0
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                break
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _with_period(sentence: str) -> str:
    sentence = sentence.strip()
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def _health_check(health: Health) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def healthz(request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
                ok = await health()
        except Exception:
            log.exception("the health check failed")
            ok = False
        if ok:
            return web.json_response({"ok": True})
        return web.json_response({"ok": False, "error": "The database is unreachable."}, status=503)

    return healthz


def _serve_metrics(metrics: Metrics) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def serve(request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encoder(metrics.registry), headers={"Content-Type": content_type})

    return serve


def _count_requests(metrics: Metrics) -> Any:
    @web.middleware
    async def count(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
        resource = getattr(request.match_info.route, "resource", None)
        route = resource.canonical if resource is not None else "unmatched"
        try:
            response = await handler(request)
        except web.HTTPException as answer:
            metrics.requests.labels(route=route, status=str(answer.status)).inc()
            raise
        except BaseException:
            metrics.requests.labels(route=route, status="500").inc()
            raise
        metrics.requests.labels(route=route, status=str(response.status)).inc()
        return response

    return count
