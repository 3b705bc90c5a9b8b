"""The built wheel runs outside the repository: installed into a fresh venv (its dependencies taken
from this checkout's venv, the checkout itself not on the path), `greenlight serve` answers /healthz,
and the sandbox is not in it."""

from __future__ import annotations

import asyncio
import os
import sys
import sysconfig
from pathlib import Path

import aiohttp

from tests.faults.kit import policy_text
from tests.support.loopback import PROXY_VARIABLES
from tests.support.quotes import ROOT

from .kit import environment


async def run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode == 0, (command, out.decode()[-3000:])
    return out.decode()


async def test_the_wheel_installed_in_a_fresh_venv_serves_healthz_without_the_sandbox(tmp_path: Path):
    dist = tmp_path / "dist"
    await run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), ".", cwd=ROOT)
    (wheel,) = dist.glob("greenlight-*.whl")
    venv = tmp_path / "venv"
    await run(sys.executable, "-m", "venv", str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    await run(str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel), cwd=tmp_path)
    # the dependencies, not the checkout: a .pth line adds a directory without reading its .pth files
    site = Path(sysconfig.get_paths()["purelib"])
    printed = await run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path)
    fresh_site = Path(printed.strip())
    (fresh_site / "dependencies.pth").write_text(f"{site}\n")

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PROXY_VARIABLES and not k.startswith(("GREENLIGHT_", "SLACK_", "PYTHON"))
    }
    where = await run(
        str(python),
        "-c",
        "import greenlight, importlib.util; print(greenlight.__file__); print(importlib.util.find_spec('sandbox'))",
        cwd=tmp_path,
        env=env,
    )
    assert str(venv) in where.splitlines()[0] and where.splitlines()[1] == "None", where

    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(["a01"]))
    env.update(environment(None, f"sqlite://{tmp_path / 'greenlight.db'}", policy))
    process = await asyncio.create_subprocess_exec(
        str(venv / "bin" / "greenlight"),
        "serve",
        "--port",
        "0",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert line.startswith("Greenlight is up on "), line
        url = line.removeprefix("Greenlight is up on ").strip()
        async with aiohttp.ClientSession() as session, session.get(url + "/healthz") as answer:
            assert answer.status == 200
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 30) == 0
