"""`greenlight serve`: the Slack bot, the CRM API and the sweeps in one process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

from .settings import Settings


class HideSecrets(logging.Filter):
    """Replaces every configured secret in log lines, whatever logged it."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

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


def configure_logging(settings: Settings, level: int = logging.INFO, stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(HideSecrets(settings.secrets()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def cmd_serve(args: argparse.Namespace) -> int:
    from .app import build, serve

    settings = Settings.from_env()
    configure_logging(settings, logging.DEBUG if args.verbose else logging.INFO)
    runtime = build(settings)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port

    async def main() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]
        try:
            await serve(runtime, host, port, ready=lambda url: print(f"Greenlight is up on {url}", flush=True))
        except asyncio.CancelledError:
            logging.getLogger("greenlight").info("shutting down: in-flight work finished, database closed")

    asyncio.run(main())
    return 0


def add_commands(commands: Any) -> None:
    serve = commands.add_parser(
        "serve", help="run the Slack bot, the CRM API and the scheduler",
        description="Serve /slack/events, /api/quotes, /a/<token>, /healthz and /metrics. Settings come from the "
        "environment and .env (see the README); a bad or missing one stops start-up with a sentence naming it.",
    )  # fmt: skip
    serve.add_argument("--host", help="override GREENLIGHT_HOST")
    serve.add_argument("--port", type=int, help="override GREENLIGHT_PORT (0 picks a free port)")
    serve.add_argument("--verbose", action="store_true", help="debug logging")
    serve.set_defaults(run=cmd_serve)
