"""The `/deal` slash command (slack-v1 §3): parsed, carried out for the person acting, answered in the ack."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from domain.errors import GreenlightError, NotAllowed

from .. import commands as cmd
from .. import render, views
from ..deps import Deps
from .acting import acting
from .replies import guarded, refusing

log = logging.getLogger("greenlight.bot")

SLOW = (cmd.Insights, cmd.PolicyDiff)
"""Commands that read much of the store: acknowledged at once, answered through the response_url."""


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/deal")
    @refusing(deps)
    async def deal(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        command = cmd.parse(body.get("text") or "")
        if isinstance(command, cmd.Help):
            await ack(**render.answer(*views.help_message(command.topic)))
            return
        # /deal account is for anyone in the workspace (slack-v1 §3), in the directory or not
        person = (context.get("person") or "") if isinstance(command, cmd.Account) else acting(context)
        if isinstance(command, SLOW):
            await answer_later(deps, command, person, ack, respond)
            return
        await ack(**await render.run_command(deps, command, person))
        deps.kick()


async def answer_later(deps: Deps, command: Any, person: str, ack: AsyncAck, respond: AsyncRespond) -> None:
    """Refuse in the ack, or acknowledge at once and send the answer when it is ready (Slack waits 3 s)."""
    if not cmd.allowed(command, person, is_admin=person in deps.policy.admins):
        raise NotAllowed(cmd.refusal_text(command))
    await ack(**render.answer("Gathering the figures: the answer follows in a moment.", []))
    try:
        found = await render.run_command(deps, command, person)
    except GreenlightError as error:
        found = render.refusal(error)
    except Exception:
        log.exception("/deal %s failed after the ack", command.name)
        found = render.refusal("the figures could not be gathered: try again, or ask whoever runs Greenlight")
    await guarded(f"/deal {command.name}", respond(**found))
