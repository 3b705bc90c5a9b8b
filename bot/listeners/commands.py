"""The `/deal` slash command (slack-v1 §3): parsed, carried out for the person acting, answered in the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from .. import commands as cmd
from .. import render, views
from ..deps import Deps
from .acting import acting
from .replies import refusing


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/deal")
    @refusing(deps)
    async def deal(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        command = cmd.parse(body.get("text") or "")
        if isinstance(command, cmd.Help):
            await ack(**render.answer(*views.help_message(command.topic)))
            return
        # /deal account is for anyone in the workspace (slack-v1 §3), in the directory or not
        person = (context.get("person") or "") if isinstance(command, cmd.Account) else acting(context)
        await ack(**await render.run_command(deps, command, person))
        deps.kick()
