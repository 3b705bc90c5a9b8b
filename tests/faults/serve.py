"""`greenlight serve` in a subprocess, as an operator runs it: settings from the environment."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.crm import crm_headers
from tests.support.loopback import PROXY_VARIABLES
from tests.support.quotes import ROOT

from .kit import API_SECRET

GREENLIGHT = ROOT / ".venv" / "bin" / "greenlight"
READY = "Greenlight is up on "


def _limit_files(count: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))


@dataclass
class Server:
    process: asyncio.subprocess.Process
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    async def start(
        cls, environment: dict[str, str], folder: Path, name: str, timeout: float = 20.0, open_files: int | None = None
    ) -> Server:
        """Start `greenlight serve --port 0` in FOLDER (so no stray .env is read) and wait for its ready line;
        with OPEN_FILES, the process may hold at most that many file descriptors (RLIMIT_NOFILE)."""
        env = {key: value for key, value in os.environ.items() if key not in PROXY_VARIABLES}
        env = {key: value for key, value in env.items() if not key.startswith(("GREENLIGHT_", "SLACK_"))}
        env.update(environment)
        log = folder / f"{name}.log"
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                str(GREENLIGHT),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                cwd=folder,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                preexec_fn=None if open_files is None else partial(_limit_files, open_files),
            )
        assert process.stdout is not None
        try:
            async with asyncio.timeout(timeout):
                while True:
                    line = (await process.stdout.readline()).decode()
                    if not line:
                        raise AssertionError(f"greenlight serve exited before it was up:\n{log.read_text()[-3000:]}")
                    if line.startswith(READY):
                        return cls(process, line.removeprefix(READY).strip(), log)
        except BaseException:
            if process.returncode is None:
                process.kill()
                await process.wait()
            raise

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, whatever was in flight is cut off."""
        if self.process.returncode is None:
            os.kill(self.process.pid, signal.SIGKILL)

    async def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM (the graceful way), then SIGKILL if it does not exit in time."""
        if self.process.returncode is None:
            self.process.terminate()
            try:
                async with asyncio.timeout(timeout):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        assert self.process.returncode is not None
        return self.process.returncode


async def send_quote(session: aiohttp.ClientSession, url: str, data: dict[str, Any]) -> dict[str, Any]:
    """The CRM sends a quote to POST /api/quotes."""
    body = json.dumps(data).encode()
    async with session.post(f"{url}/api/quotes", data=body, headers=crm_headers(API_SECRET, body)) as answer:
        text = await answer.text()
        assert answer.status == 200, f"{answer.status}: {text}"
        return json.loads(text)
