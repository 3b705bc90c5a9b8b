"""Salesforce CPQ without code (crm-v1 §7): pull changed quotes, write outcomes back.

`SalesforceConnector.pull()` logs in with the OAuth client-credentials flow, asks for the quotes
(`SBQQ__Quote__c`, with their `SBQQ__QuoteLine__c` lines as a sub-query) changed since its stored
watermark, pages through `nextRecordsUrl`, turns each record into quote JSON by the mapping file
(`examples/crm/salesforce-cpq.yaml`) and sends it through the same intake as `POST /api/quotes`.
The watermark moves only when a run has read every page, so a run that stops half-way is read
again (a quote already stored is `unchanged`). A quote whose content did not change (only its
modification stamp, e.g. by our own write-back) is skipped.

`write_back(event, document)` PATCHes the quote's record with its status and comment; the CRM
outbox worker calls it, so outcomes go back in order per quote, retried like the webhooks.

simple-salesforce is synchronous: its calls run in a worker thread. A session that expired
(`INVALID_SESSION_ID`) is renewed by logging in again, once per call.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import requests
import yaml
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from domain.crm import resolve_quote_people
from domain.errors import Conflict, GreenlightError, InvalidInput, Problem, StaleRequest
from domain.events import Event
from domain.quote import parse_quote
from domain.service import Approvals
from notifications.worker import Permanent, Retry, backoff
from store import crm as store_crm

log = logging.getLogger("greenlight.salesforce")

API_VERSION = "59.0"
WATERMARK = "salesforce"
T = TypeVar("T")


class ConnectorError(GreenlightError):
    """The connector cannot run: a mapping file, a login or a query went wrong (one sentence)."""


# ------------------------------------------------------------------------------------------ mapping


@dataclass(frozen=True)
class Mapping:
    """What `examples/crm/salesforce-cpq.yaml` says: where each quote JSON field comes from."""

    object: str
    lines: str
    where: str | None
    quote: dict[str, Any]
    line: dict[str, Any]
    status_field: str
    comment_field: str | None
    statuses: dict[str, str]
    submit: bool = False

    @classmethod
    def read(cls, path: str | Path) -> Mapping:
        source = Path(path)
        try:
            data = yaml.safe_load(source.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConnectorError(f"the mapping file {source} cannot be read: {error.strerror}") from None
        except yaml.YAMLError as error:
            raise ConnectorError(f"the mapping file {source} is not YAML: {error}") from None
        return cls.parse(data, str(source))

    @classmethod
    def parse(cls, data: Any, source: str = "mapping") -> Mapping:
        problems: list[Problem] = []

        def need(key: str, kind: type, where: Any = None) -> Any:
            node = data if where is None else where
            value = node.get(key) if isinstance(node, dict) else None
            if not isinstance(value, kind):
                problems.append(Problem(key, f"{key} is required ({kind.__name__})"))
            return value

        if not isinstance(data, dict):
            raise InvalidInput([Problem("", "the mapping must be a YAML mapping")], source)
        obj, lines = need("object", str), need("lines", str)
        quote, line = need("quote", dict), need("line", dict)
        back = need("write_back", dict)
        status = need("status", str, back) if isinstance(back, dict) else None
        for name in ("id", "owner"):
            if isinstance(quote, dict) and name not in quote:
                problems.append(Problem(f"quote.{name}", f"quote.{name} must say which field holds the {name}"))
        where = data.get("where")
        if where is not None and not isinstance(where, str):
            problems.append(Problem("where", "where must be a SOQL condition (text)"))
        if problems:
            raise InvalidInput(problems, source)
        statuses = dict(back.get("statuses") or {})
        return cls(
            obj,
            lines,
            where,
            dict(quote),
            dict(line),
            str(status),
            back.get("comment"),
            {k: str(v) for k, v in statuses.items()},
            bool(data.get("submit", False)),
        )

    def soql(self, since: str | None) -> str:
        fields = sorted({"Id", "LastModifiedDate", *_sources(self.quote)})
        line_fields = ", ".join(sorted({"Id", *_sources(self.line)}))
        conditions = [f"({self.where})"] if self.where else []
        if since:
            conditions.append(f"LastModifiedDate > {since}")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return (
            f"SELECT {', '.join(fields)}, (SELECT {line_fields} FROM {self.lines}) FROM {self.object}{where} "
            "ORDER BY LastModifiedDate, Id"
        )

    def quote_json(self, record: dict[str, Any]) -> dict[str, Any]:
        """The quote JSON of policy-v1 §2 for one record: mapped fields, lines, the version and the record id."""
        data = _mapped(self.quote, record)
        rows = (record.get(self.lines) or {}).get("records") or []
        data["lines"] = [_mapped(self.line, row) for row in rows]
        data["version"] = epoch_ms(str(record["LastModifiedDate"]))
        data["crm_record_id"] = record["Id"]
        return data


def _sources(spec: dict[str, Any]) -> list[str]:
    out = []
    for value in spec.values():
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict) and isinstance(value.get("field"), str):
            out.append(value["field"])
    return out


def _read(record: dict[str, Any], path: str) -> Any:
    node: Any = record
    for step in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(step)
    return node


def _mapped(spec: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for target, source in spec.items():
        if isinstance(source, dict) and "value" in source:
            value = source["value"]
        elif isinstance(source, dict):
            value = _read(record, str(source.get("field")))
            if source.get("present"):
                value = value is not None
        else:
            value = _read(record, str(source))
        if value is None:
            continue
        node = out
        *parents, last = target.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = value
    return out


def epoch_ms(stamp: str) -> int:
    """Salesforce's `2026-12-01T09:00:00.000+0000` as milliseconds since 1970 (the quote's version)."""
    moment = dt.datetime.strptime(stamp.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(moment.timestamp() * 1000)


def soql_instant(stamp: str) -> str:
    """A record's LastModifiedDate as a SOQL datetime literal (2026-12-01T09:00:00.000Z)."""
    moment = dt.datetime.strptime(stamp.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------------------- connector


@dataclass
class Pulled:
    """What one run did."""

    read: int = 0
    stored: int = 0
    submitted: int = 0
    unchanged: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    pages: int = 0
    logins: int = 0


@dataclass
class SalesforceConnector:
    login_url: str
    client_id: str
    client_secret: str
    mapping: Mapping
    service: Approvals
    clock: Callable[[], dt.datetime]
    version: str = API_VERSION

    def __post_init__(self) -> None:
        self._sf: Salesforce | None = None
        self._logins = 0
        self._one_at_a_time = asyncio.Lock()

    # -- talking to Salesforce (in a worker thread)

    def _login(self) -> Salesforce:
        url = self.login_url.rstrip("/") + "/services/oauth2/token"
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret}
        try:
            with requests.Session() as session:
                answer = session.post(url, data=form, timeout=30)
        except requests.RequestException as error:
            raise ConnectorError(f"Salesforce login failed: {error.__class__.__name__} at {url}") from None
        if answer.status_code != 200:
            try:
                detail = answer.json().get("error_description") or answer.json().get("error")
            except ValueError:
                detail = answer.text[:200]
            raise ConnectorError(
                f"Salesforce refused the login ({answer.status_code}: {detail}): check "
                "GREENLIGHT_SALESFORCE_CLIENT_ID and GREENLIGHT_SALESFORCE_CLIENT_SECRET"
            )
        token = answer.json()
        self._logins += 1
        return Salesforce(
            instance_url=token["instance_url"],
            session_id=token["access_token"],
            version=self.version,
            session=requests.Session(),
        )

    def _call(self, work: Callable[[Salesforce], T]) -> T:
        if self._sf is None:
            self._sf = self._login()
        try:
            return work(self._sf)
        except SalesforceExpiredSession:
            log.info("the Salesforce session expired: logging in again")
            self._close_session()
            self._sf = self._login()
            return work(self._sf)

    def _close_session(self) -> None:
        if self._sf is not None:
            self._sf.session.close()
            self._sf = None

    async def close(self) -> None:
        await asyncio.to_thread(self._close_session)

    async def _run(self, work: Callable[[Salesforce], T]) -> T:
        return await asyncio.to_thread(self._call, work)

    # -- pull

    async def pull(self) -> Pulled:
        """One run: every quote changed since the watermark, through the intake; the watermark moves last.
        Runs of one process take turns (the timer and `greenlight crm salesforce` alike)."""
        async with self._one_at_a_time:
            return await self._pull()

    async def _pull(self) -> Pulled:
        result = Pulled()
        since = await store_crm.watermark(WATERMARK)
        before = self._logins
        page = await self._run(lambda sf: sf.query(self.mapping.soql(since)))
        newest = None
        while True:
            result.pages += 1
            for record in page.get("records") or []:
                result.read += 1
                newest = str(record.get("LastModifiedDate") or newest)
                await self._take(record, result)
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                break
            page = await self._run(partial(_more, url=str(next_url)))
        if newest:
            await store_crm.set_watermark(WATERMARK, soql_instant(newest), self.clock())
        result.logins = self._logins - before
        return result

    async def _take(self, record: dict[str, Any], result: Pulled) -> None:
        data = self.mapping.quote_json(record)
        name = str(data.get("id") or record.get("Id"))
        try:
            quote = resolve_quote_people(self.service.policy, parse_quote(data, name))
            stored = await self.service.stored_quote(quote.id)
            if stored is not None and _without_version(stored.data) == _without_version(quote.data):
                result.unchanged += 1
                return
            received = await self.service.receive_quote(quote, self.clock(), actor="crm:salesforce")
        except InvalidInput as refused:
            result.refused.append((name, "; ".join(str(p) for p in refused.problems)))
            return
        except GreenlightError as refused:
            result.refused.append((name, str(refused)))
            return
        if received.status == "unchanged":
            result.unchanged += 1
            return
        result.stored += 1
        if self.mapping.submit:
            try:
                await self.service.submit(quote.id, None, self.clock(), version=quote.version, actor="crm:salesforce")
                result.submitted += 1
            except (Conflict, StaleRequest):
                pass  # already pending, or this content already approved
            except GreenlightError as refused:
                result.refused.append((name, f"stored, not submitted: {refused}"))

    # -- write back

    async def write_back(self, event: Event, document: dict[str, Any]) -> None:
        """The quote's record gets its status and comment (raises Retry or Permanent, like a webhook)."""
        quote = await self.service.stored_quote(event.quote_id)
        record_id = quote.data.get("crm_record_id") if quote is not None else None
        if not isinstance(record_id, str):
            return  # not a Salesforce quote
        status = str(document["status"])
        changes: dict[str, Any] = {self.mapping.status_field: self.mapping.statuses.get(status, status.title())}
        if self.mapping.comment_field:
            changes[self.mapping.comment_field] = outcome_comment(document)
        try:
            await self._run(lambda sf: getattr(sf, self.mapping.object).update(record_id, changes))
        except (SalesforceMalformedRequest, SalesforceResourceNotFound) as refused:
            raise Permanent(f"Salesforce refused the write-back to {record_id}: {_sf_message(refused)}") from None
        except (SalesforceError, requests.RequestException, ConnectorError) as error:
            wait = backoff(1)
            raise Retry(self.clock() + wait, f"Salesforce write-back failed: {error.__class__.__name__}") from None


def _more(sf: Salesforce, url: str) -> Any:
    return sf.query_more(url, identifier_is_url=True)


def _without_version(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "version"}


def _sf_message(error: SalesforceError) -> str:
    content = getattr(error, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return f"{content[0].get('errorCode')}: {content[0].get('message')}"
    return str(error)[:200]


def outcome_comment(document: dict[str, Any]) -> str:
    """One line for the CRM's comment field: the latest decision's comment, or who decided."""
    decided = [a for a in document.get("approvals") or [] if a.get("decided_at") and a.get("acted_by")]
    decided.sort(key=lambda a: str(a["decided_at"]))
    status = str(document.get("status"))
    if status in ("recalled", "pending") or not decided:
        return str(document.get("comment") or status.title())[:255]
    last = decided[-1]
    if last.get("comment"):
        return f"{last['acted_by']}: {last['comment']}"[:255]
    people = ", ".join(dict.fromkeys(str(a["acted_by"]) for a in decided))
    return f"{status.title()} by {people}"[:255]
