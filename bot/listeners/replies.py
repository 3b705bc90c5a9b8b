"""How listeners answer: work after the ack guarded, App Home published, refusals told.

Bolt loses the ack when a listener raises right after `await ack()` (testing-slack-offline.md,
trap 1), so work after an ack never raises: `guarded` logs its failure instead. `refusing` is the
one place a domain refusal (`GreenlightError`) becomes what the person sees: the ephemeral answer
of a slash command, the error under a modal's field, or, for a click, an ephemeral message after
the ack (`tell`).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond

from domain.errors import GreenlightError

from .. import render, views
from ..deps import Deps
from .acting import speaking_to

log = logging.getLogger("greenlight.bot")

Listener = Callable[..., Awaitable[None]]

GIVEN = ("ack", "body", "respond", "context")
"""What a listener wrapped by `refusing` may ask for, by name, as bolt's own listeners do."""


async def guarded(what: str, work: Awaitable[Any]) -> None:
    """Post-ack work: a failure is logged, never raised (bolt would lose the ack)."""
    try:
        await work
    except Exception:
        log.exception("after the ack: %s failed", what)


def in_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"


async def publish_home(deps: Deps, slack_id: str, person: str | None) -> None:
    await deps.client.views_publish(user_id=slack_id, view=await render.home(deps, person))


async def tell(
    deps: Deps, body: dict[str, Any], respond: AsyncRespond | None, person: str | None, error: Exception
) -> None:
    """Say ephemerally why nothing changed: through the response_url, or (a click in App Home has
    none) in the person's DM with the app, and then refresh their Home."""
    answer = render.refusal(error)
    if body.get("response_url") and respond is not None:
        await guarded("refusal", respond(**answer, replace_original=False))
        return
    slack_id = (body.get("user") or {}).get("id") or ""

    async def ephemeral() -> None:
        channel = await deps.dm_channel(slack_id)
        await deps.client.chat_postEphemeral(
            channel=channel, user=slack_id, text=answer["text"], blocks=answer["blocks"]
        )

    await guarded("refusal", ephemeral())
    if in_home(body):
        await guarded("views.publish", publish_home(deps, slack_id, person))


def refusing(deps: Deps, *, field: str | None = None) -> Callable[[Listener], Listener]:
    """Wrap a listener so that the `GreenlightError` it raises is answered as its request allows.

    A slash command answers in its ack. A modal submission answers in its ack too, under `field`
    (or under the fields a `FormErrors` names). A click is acked if it was not yet, then told
    ephemerally. Any other error after the ack is logged: the ack stands.
    """

    def wrap(listener: Listener) -> Listener:
        wanted = list(inspect.signature(listener).parameters)
        if unknown := [name for name in wanted if name not in GIVEN]:
            raise TypeError(f"{listener.__name__} asks for {unknown}: a refusing listener may ask for {GIVEN}")

        async def answered(
            ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
        ) -> None:
            given = {"ack": ack, "body": body, "respond": respond, "context": context}
            with speaking_to(context):  # the refusal too is in the reader's language
                try:
                    await listener(**{name: given[name] for name in wanted})
                except GreenlightError as error:
                    if field is not None:
                        errors = error.errors if isinstance(error, views.FormErrors) else {field: str(error)[:150]}
                        await ack(response_action="errors", errors=errors)
                    elif body.get("command"):
                        await ack(**render.refusal(error))
                    else:
                        if ack.response is None:
                            await ack()
                        await tell(deps, body, respond, context.get("person"), error)
                except Exception:
                    if ack.response is None:
                        raise
                    log.exception("after the ack: %s failed", listener.__name__)

        # Not functools.wraps: bolt would follow __wrapped__ and pass only what the listener asks for.
        answered.__name__, answered.__qualname__ = listener.__name__, listener.__qualname__
        return answered

    return wrap
