"""Who is acting: one bolt middleware puts the person behind every request in `context["person"]`.

The Slack user comes from where each kind of request carries it (`user.id` in clicks and modal
submissions, `user_id` in slash commands, `event.user` in events); the person is their key in
the policy's directory, or None for someone Greenlight does not know. Listeners that need a
person call `acting(context)`, which refuses the others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from domain.errors import NotAllowed
from domain.policy import Policy

NOT_IN_DIRECTORY = "You are not in Greenlight's directory: ask an admin to add your Slack id to the policy"


def slack_user(body: dict[str, Any]) -> str:
    """The Slack user id of whoever sent the request, "" when it names nobody."""
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id") or "")
    if body.get("user_id"):
        return str(body["user_id"])
    user = (body.get("event") or {}).get("user")
    return user if isinstance(user, str) else ""


def person_middleware(policy: Policy) -> Callable[..., Awaitable[None]]:
    async def resolve_person(
        body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        slack_id = slack_user(body)
        context["person"] = policy.person_for(slack_id) if slack_id else None
        await next()

    return resolve_person


def acting(context: AsyncBoltContext) -> str:
    """The person acting; someone outside the directory is refused."""
    person = context.get("person")
    if not isinstance(person, str):
        raise NotAllowed(NOT_IN_DIRECTORY)
    return person
