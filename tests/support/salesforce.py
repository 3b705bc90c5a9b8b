"""A local stand-in for the Salesforce REST API, served over HTTPS on loopback (its certificate is in
tests/support/tls/: trust it with REQUESTS_CA_BUNDLE, as `SalesforceStandIn.trust()` does).

What it plays, as Salesforce documents it:
- `POST /services/oauth2/token` (client credentials): an access token and the `instance_url`;
  wrong client credentials answer 400 `{"error": "invalid_client", "error_description": ...}`.
- `GET /services/data/vXX.X/query?q=<SOQL>`: the records of the `FROM` object, oldest change first,
  in pages of `page_size` with `nextRecordsUrl` (`/services/data/vXX.X/query/<locator>-<offset>`).
  Of SOQL it reads the object, `Field = 'text'` conditions and `LastModifiedDate > <instant>` (the
  connector's watermark); each quote carries its lines as the `SBQQ__LineItems__r` sub-query.
- `PATCH /services/data/vXX.X/sobjects/<object>/<id>`: 204; an unknown id 404 `NOT_FOUND`, an
  unknown field 400 `INVALID_FIELD`, in Salesforce's error body (a list of `{message, errorCode}`).
- A token that `expire_sessions()` made stale answers 401 `INVALID_SESSION_ID`.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import ssl
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import pytest
from aiohttp import web

TLS = Path(__file__).parent / "tls"
CERT, KEY = TLS / "loopback-cert.pem", TLS / "loopback-key.pem"
QUOTE = "SBQQ__Quote__c"
LINE = "SBQQ__QuoteLine__c"
LINES = "SBQQ__LineItems__r"


def sf_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response([{"message": message, "errorCode": code}], status=status)


def stamp(moment: dt.datetime) -> str:
    """Salesforce's format for a datetime field: 2026-12-01T09:00:00.000+0000."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_stamp(text: str) -> dt.datetime:
    return dt.datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")


@dataclass
class SalesforceStandIn:
    client_id: str = "greenlight-connected-app"
    client_secret: str = "connected-app-secret-0123456789"
    page_size: int = 200
    version: str = "59.0"
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    patches: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    logins: int = 0
    expire_after_queries: int | None = None
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._tokens: set[str] = set()
        self._cursors: dict[str, list[dict[str, Any]]] = {}
        self.url = ""

    # -- running

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_post("/services/oauth2/token", self._token)
        app.router.add_get("/services/data/v{version}/query", self._query)
        app.router.add_get("/services/data/v{version}/query/", self._query)
        app.router.add_get("/services/data/v{version}/query/{cursor}", self._more)
        app.router.add_patch("/services/data/v{version}/sobjects/{object}/{id}", self._patch)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(CERT, KEY)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"https://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @staticmethod
    def trust(monkeypatch: pytest.MonkeyPatch) -> None:
        """Make `requests` (under simple-salesforce) trust the stand-in's certificate."""
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(CERT))

    # -- the org's data

    def put_quote(self, record_id: str, fields: dict[str, Any], lines: list[dict[str, Any]], at: dt.datetime) -> None:
        """A quote record (and its lines) as a rep saved it at `at`."""
        record = {
            "attributes": {"type": QUOTE, "url": f"/services/data/v{self.version}/sobjects/{QUOTE}/{record_id}"},
            "Id": record_id,
            **fields,
            "LastModifiedDate": stamp(at),
        }
        record[LINES] = {
            "totalSize": len(lines),
            "done": True,
            "records": [{"attributes": {"type": LINE}, **line} for line in lines],
        }
        self.records.setdefault(QUOTE, {})[record_id] = record

    def quote(self, record_id: str) -> dict[str, Any]:
        return self.records[QUOTE][record_id]

    def expire_sessions(self) -> None:
        """Every token given so far stops working (a session timeout, a password reset)."""
        self._tokens.clear()

    # -- routes

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[len("Bearer ") :] in self._tokens

    async def _token(self, request: web.Request) -> web.Response:
        self.calls["token"] += 1
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return web.json_response(
                {"error": "unsupported_grant_type", "error_description": "grant type not supported"}, status=400
            )
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return web.json_response(
                {"error": "invalid_client", "error_description": "invalid client credentials"}, status=400
            )
        token = "00D" + secrets.token_hex(16)
        self._tokens.add(token)
        self.logins += 1
        return web.json_response(
            {
                "access_token": token,
                "instance_url": self.url,
                "id": f"{self.url}/id/00D000000000001/005000000000001",
                "token_type": "Bearer",
                "issued_at": "1764579600000",
                "signature": "stand-in",
            }
        )

    def _expire_if_due(self) -> None:
        if self.expire_after_queries is not None and self.calls["query"] >= self.expire_after_queries:
            self.expire_after_queries = None
            self.expire_sessions()

    async def _query(self, request: web.Request) -> web.Response:
        self._expire_if_due()
        if not self._authorized(request):
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        self.calls["query"] += 1
        soql = re.sub(r"\([^()']*\bFROM\b[^()]*\)", "", request.query.get("q", ""))  # sub-queries: lines come along
        found = re.search(r"\bFROM\s+(\w+)", soql, re.IGNORECASE)
        if found is None:
            return sf_error(400, "MALFORMED_QUERY", "unexpected token: no FROM")
        name = found.group(1)
        if name not in (QUOTE,):
            return sf_error(400, "INVALID_TYPE", f"sObject type '{name}' is not supported.")
        rows = sorted(self.records.get(name, {}).values(), key=lambda r: (r["LastModifiedDate"], r["Id"]))
        for name_, value in re.findall(r"(\w+)\s*=\s*'([^']*)'", soql):
            rows = [r for r in rows if r.get(name_) == value]
        since = re.search(r"LastModifiedDate\s*>\s*(\S+)", soql)
        if since is not None:
            after = dt.datetime.fromisoformat(since.group(1).replace("Z", "+00:00"))
            rows = [r for r in rows if parse_stamp(r["LastModifiedDate"]) > after]
        return self._page(rows, secrets.token_hex(6), 0)

    async def _more(self, request: web.Request) -> web.Response:
        self._expire_if_due()
        if not self._authorized(request):
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        self.calls["query"] += 1
        locator, _, offset = request.match_info["cursor"].rpartition("-")
        rows = self._cursors.get(locator)
        if rows is None or not offset.isdigit():
            return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(rows, locator, int(offset))

    def _page(self, rows: list[dict[str, Any]], locator: str, offset: int) -> web.Response:
        self._cursors[locator] = rows
        page = rows[offset : offset + self.page_size]
        done = offset + self.page_size >= len(rows)
        body: dict[str, Any] = {"totalSize": len(rows), "done": done, "records": page}
        if not done:
            body["nextRecordsUrl"] = f"/services/data/v{self.version}/query/{locator}-{offset + self.page_size}"
        return web.json_response(body)

    async def _patch(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        self.calls["patch"] += 1
        name, record_id = request.match_info["object"], request.match_info["id"]
        record = self.records.get(name, {}).get(record_id)
        if record is None:
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        changes = await request.json()
        unknown = [key for key in changes if key not in record]
        if unknown:
            return sf_error(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {name}")
        record.update(changes)
        # Salesforce stamps every save, a write-back included
        after = parse_stamp(record["LastModifiedDate"]) + dt.timedelta(milliseconds=1)
        record["LastModifiedDate"] = stamp(max(self.clock(), after))
        self.patches.append((name, record_id, changes))
        return web.Response(status=204)
