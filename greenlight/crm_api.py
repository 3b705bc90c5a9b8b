"""The CRM's routes beside the quote intake (crm-v1 §4), each answering the status document (§5).

    GET  /api/quotes/{id}          the quote's state; 404
    POST /api/quotes/{id}/submit   {"version", "comment"?}: submit on behalf of the owner; 409; 422
    POST /api/quotes/{id}/recall   {"comment"?}: recall the pending submission; 409 when none is
    POST /api/preview              a quote: what it would need, stored nowhere; 422

Every route takes either scheme of `greenlight.auth` (a GET is signed as an empty body); anything
else is a 401 that changes nothing. The caller's key name is the actor of what it does.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from domain.crm import CrmDesk, resolve_quote_people
from domain.errors import Conflict, GreenlightError, InvalidInput, NotAllowed, NotFound, Problem, StaleRequest
from domain.preview import build_preview
from domain.quote import QUOTE_ID, parse_quote
from domain.service import Approvals

from .api import MAX_QUOTE_BYTES, Clock, _invalid, _read_json, _too_large, _unauthorized, _with_period, api_off, error
from .auth import Caller, Pending, identify
from .settings import Settings

log = logging.getLogger("greenlight.api")

MAX_VERSION = 2**53 - 1
MAX_COMMENT = 3000
MAX_SMALL_BODY = 16 * 1024

Handler = Callable[[web.Request, Caller, Any], Awaitable[web.Response]]


def add_crm_routes(app: web.Application, *, service: Approvals, settings: Settings, clock: Clock) -> None:
    routes = CrmRoutes(service, CrmDesk(service.policy, service.store), settings, clock)
    app.router.add_get("/api/quotes/{quote_id}", routes.guarded(routes.status, body=False))
    app.router.add_post("/api/quotes/{quote_id}/submit", routes.guarded(routes.submit, limit=MAX_SMALL_BODY))
    app.router.add_post("/api/quotes/{quote_id}/recall", routes.guarded(routes.recall, limit=MAX_SMALL_BODY))
    app.router.add_post("/api/preview", routes.guarded(routes.preview, limit=MAX_QUOTE_BYTES, needs_body=True))


class CrmRoutes:
    def __init__(self, service: Approvals, desk: CrmDesk, settings: Settings, clock: Clock) -> None:
        self.service = service
        self.desk = desk
        self.settings = settings
        self.clock = clock

    def guarded(
        self, handler: Handler, *, body: bool = True, limit: int = MAX_QUOTE_BYTES, needs_body: bool = False
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        """The route behind authentication, size limits and JSON parsing; errors become 4xx sentences."""

        async def handle(request: web.Request) -> web.Response:
            if not self.settings.api_on:
                return api_off()
            declared = request.content_length
            if declared is not None and declared > limit:
                return _too_large_for(declared, limit)
            now = self.clock()
            who = identify(request.headers, self.settings, now)
            if isinstance(who, str):
                return _unauthorized(who)
            try:
                raw = await request.read()
            except web.HTTPRequestEntityTooLarge:
                return _too_large_for(None, limit)
            if len(raw) > limit:
                return _too_large_for(len(raw), limit)
            caller = who.verify(raw, now) if isinstance(who, Pending) else who
            if isinstance(caller, str):
                return _unauthorized(caller)
            data: Any = None
            if body and raw.strip():
                data, problem = _read_json(raw)
                if problem is not None:
                    return error(422, f"The body is not JSON: {problem}.")
            elif needs_body:
                return error(422, "The body is empty: send the quote as JSON.")
            log.info("%s %s by %s", request.method, request.path, caller.actor)
            try:
                return await handler(request, caller, data)
            except InvalidInput as refused:
                return _invalid(refused.problems)
            except (Conflict, StaleRequest) as refused:
                return error(409, _with_period(str(refused)))
            except NotFound as refused:
                return error(404, _with_period(str(refused)))
            except NotAllowed as refused:
                return error(403, _with_period(str(refused)))
            except GreenlightError as refused:
                return error(422, _with_period(str(refused)), problems=[{"where": "", "message": str(refused)}])
            except Exception:
                log.exception("%s %s failed", request.method, request.path)
                return error(500, "The request failed because of an internal error: send it again later.")

        return handle

    def _quote_id(self, request: web.Request) -> str:
        quote_id = request.match_info["quote_id"]
        if not QUOTE_ID.match(quote_id):
            raise NotFound(f"{quote_id[:64]!r} is not a quote id Greenlight could have stored")
        return quote_id

    async def _document(self, quote_id: str) -> web.Response:
        document = await self.desk.status(quote_id)
        if document is None:
            raise NotFound(f"no quote {quote_id} has been received")
        return web.json_response(document)

    async def status(self, request: web.Request, caller: Caller, data: Any) -> web.Response:
        return await self._document(self._quote_id(request))

    async def submit(self, request: web.Request, caller: Caller, data: Any) -> web.Response:
        quote_id = self._quote_id(request)
        fields = _object(data, {"version", "comment"}, required={"version"})
        version = fields["version"]
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
            raise InvalidInput([_problem("version", f"version must be a whole number from 1 to {MAX_VERSION}")])
        comment = _comment(fields)
        if await self.service.stored_quote(quote_id) is None:
            raise NotFound(f"no quote {quote_id} has been received")
        await self.service.submit(quote_id, None, self.clock(), comment, version=version, actor=caller.actor)
        return await self._document(quote_id)

    async def recall(self, request: web.Request, caller: Caller, data: Any) -> web.Response:
        quote_id = self._quote_id(request)
        fields = _object(data, {"comment"}, required=set())
        comment = _comment(fields)
        if await self.service.stored_quote(quote_id) is None:
            raise NotFound(f"no quote {quote_id} has been received")
        latest = await self.service.latest(quote_id)
        if latest is None or latest.status != "pending":
            state = "has never been submitted" if latest is None else f"is {latest.status}"
            raise Conflict(f"{quote_id} {state}: nothing is pending, so there is nothing to recall")
        await self.service.recall(quote_id, latest.owner, self.clock(), comment=comment, actor=caller.actor)
        return await self._document(quote_id)

    async def preview(self, request: web.Request, caller: Caller, data: Any) -> web.Response:
        quote = resolve_quote_people(self.service.policy, parse_quote(data, "quote"))
        now = self.clock()
        previous = await self.service.latest(quote.id)
        ctx = self.service.context(await self.service.directory(now), now)
        return web.json_response(build_preview(ctx, quote, previous).as_dict())


def _problem(where: str, message: str) -> Problem:
    return Problem(where, message)


def _object(data: Any, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput([_problem("", "the body must be a JSON object")])
    problems = [
        _problem(name, f"{name} is not a field of this request (it takes {', '.join(sorted(allowed))})")
        for name in data
        if name not in allowed
    ]
    problems += [_problem(name, f"{name} is required") for name in sorted(required) if name not in data]
    if problems:
        raise InvalidInput(problems)
    return data


def _comment(fields: dict[str, Any]) -> str | None:
    comment = fields.get("comment")
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise InvalidInput([_problem("comment", "comment must be text")])
    if len(comment) > MAX_COMMENT:
        raise InvalidInput([_problem("comment", f"comment may be at most {MAX_COMMENT} characters")])
    return comment.strip() or None


def _too_large_for(size: int | None, limit: int) -> web.Response:
    if limit == MAX_QUOTE_BYTES:
        return _too_large(size)
    this = f"this one has {size} bytes" if size is not None else "this one is larger"
    return error(413, f"This request's body may be at most {limit} bytes; {this}.", limit=limit)
