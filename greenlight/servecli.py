"""`greenlight serve`: the Slack bot, the CRM API and the sweeps in one process."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import signal
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from domain.i18n import _

from .settings import Settings


class HideSecrets(logging.Filter):
    """Replaces every configured secret in log lines, whatever logged it."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = _variants(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = message
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, "[secret]")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class SecretFreeFormatter(logging.Formatter):
    """Formats as usual, then replaces every secret in the whole line, tracebacks included."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self.secrets = _variants(secrets)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in self.secrets:
            line = line.replace(secret, "[secret]")
        return line


class JsonSecretFreeFormatter(JsonFormatter):
    """One JSON object per line (GREENLIGHT_LOG_FORMAT=json), built on python-json-logger.

    Fields: `time` (UTC, ISO 8601, milliseconds), `level` (lower case), `logger`, `message`, `exception`
    (the traceback, when there is one) and any `extra=` fields. Every secret is replaced by `[secret]` in
    every value before the line is encoded, as in text lines (so escaping cannot hide one).
    """

    def __init__(self, secrets: list[str]) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            json_default=self._unknown,
            json_ensure_ascii=False,
        )
        self.secrets = _variants(secrets)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        moment = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        log_data["time"] = moment  # first, as in the text format
        super().add_fields(log_data, record, message_dict)
        log_data["level"] = record.levelname.lower()

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: self._clean(value) for key, value in log_data.items()}

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self.secrets:
                value = value.replace(secret, "[secret]")
            return value
        if isinstance(value, dict):
            return {key: self._clean(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._clean(item) for item in value]
        return value

    def _unknown(self, value: object) -> str:
        """Objects JSON cannot encode (an `extra=` field) are written as their text, secrets replaced."""
        return str(self._clean(str(value)))


def _variants(secrets: list[str]) -> list[str]:
    """Each secret as written and URL-encoded (a password in a logged URL), longest first."""
    from urllib.parse import quote

    found = {v for s in secrets if s and len(s) >= 4 for v in (s, quote(s, safe=""), quote(s))}
    return sorted(found, key=len, reverse=True)


def configure_logging(settings: Settings, level: int = logging.INFO, stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    if os.environ.get("GREENLIGHT_LOG_FORMAT", "text").strip().lower() == "json":
        handler.setFormatter(JsonSecretFreeFormatter(settings.secrets()))
    else:
        handler.setFormatter(SecretFreeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", settings.secrets()))
    handler.addFilter(HideSecrets(settings.secrets()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # tortoise logs connection settings at DEBUG (a database password, partly masked)
    for name in ("tortoise", "tortoise.db_client", "aiosqlite", "asyncpg"):
        logging.getLogger(name).setLevel(max(level, logging.INFO))


def cmd_serve(args: argparse.Namespace) -> int:
    from .app import build, serve

    settings = Settings.from_env()
    configure_logging(settings, logging.DEBUG if args.verbose else logging.INFO)
    runtime = build(settings)
    runtime.migrate = not args.no_migrate
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port

    async def main() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]
        reloads: set[asyncio.Task[object]] = set()
        # until start-up is done, SIGHUP must not kill the process (its default): the file is read at start anyway
        loop.add_signal_handler(signal.SIGHUP, lambda: None)

        def reload_policy() -> None:
            # SIGHUP (`systemctl reload`): read the policy file again; an invalid one changes nothing
            if runtime.live is not None:
                reload = loop.create_task(runtime.live.reload(by="SIGHUP"))
                reloads.add(reload)
                reload.add_done_callback(reloads.discard)

        def ready(url: str) -> None:
            # registered once the database is connected: the handler runs in this context, which has it
            loop.add_signal_handler(signal.SIGHUP, reload_policy)
            print(f"Greenlight is up on {url}", flush=True)

        try:
            await serve(runtime, host, port, ready=ready)
        except asyncio.CancelledError:
            logging.getLogger("greenlight").info("shutting down: in-flight work finished, database closed")

    asyncio.run(main())
    return 0


def add_commands(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help=_("run the Slack bot, the CRM API and the scheduler"),
        description=_(
            "Serve /slack/events, /api/quotes, /a/<token>, /healthz and /metrics. Settings come from the "
            "environment and .env (see the README); a bad or missing one stops start-up with a sentence naming it. "
            "Any number of replicas may start at once (migrations take turns under a lock); SIGHUP reloads the "
            "policy file in every replica, SIGTERM stops after in-flight work."
        ),
    )
    serve.add_argument("--host", help=_("override GREENLIGHT_HOST"))
    serve.add_argument("--port", type=int, help=_("override GREENLIGHT_PORT (0 picks a free port)"))
    serve.add_argument("--verbose", action="store_true", help=_("debug logging"))
    serve.add_argument(
        "--no-migrate",
        action="store_true",
        help=_(
            "do not apply migrations on start (they run as a release step: `greenlight db migrate`); "
            "refuses to start while one is pending"
        ),
    )
    serve.set_defaults(run=cmd_serve)
