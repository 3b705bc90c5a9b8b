"""Who is acting: one bolt middleware puts the person behind every request in `context["person"]`.

The Slack user comes from where each kind of request carries it (`user.id` in clicks and modal
submissions, `user_id` in slash commands, `event.user` in events); the person is their key in
the policy's directory, or None for someone Greenlight does not know. Listeners that need a
person call `acting(context)`, which refuses the others.

The same middleware puts the language that person reads in `context["locale"]` (their
`locale:` in the policy, else their Slack locale, else the policy's); a listener renders inside
`speaking_to(context)`, which the refusal wrapper (`replies.refusing`) does for every listener it
wraps. Bolt runs the listener after the middleware chain, not inside it, so the middleware
cannot set the current language itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from domain.errors import NotAllowed
from domain.i18n import _, speaking
from domain.policy import Policy

from ..locales import SlackLocales


def slack_user(body: dict[str, Any]) -> str:
    """The Slack user id of whoever sent the request, "" when it names nobody."""
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id") or "")
    if body.get("user_id"):
        return str(body["user_id"])
    user = (body.get("event") or {}).get("user")
    return user if isinstance(user, str) else ""


def person_middleware(policy: Policy, locales: SlackLocales | None = None) -> Callable[..., Awaitable[None]]:
    async def resolve_person(
        body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        slack_id = slack_user(body)
        person = policy.person_for(slack_id) if slack_id else None
        context["person"] = person
        if locales is None:
            context["locale"] = policy.person_locale(person)
        else:
            context["locale"] = await locales.person_locale(policy, person, slack_id)
        await next()

    return resolve_person


def acting(context: AsyncBoltContext) -> str:
    """The person acting; someone outside the directory is refused."""
    person = context.get("person")
    if not isinstance(person, str):
        raise NotAllowed(_("You are not in Greenlight's directory: ask an admin to add your Slack id to the policy"))
    return person


@contextlib.contextmanager
def speaking_to(context: AsyncBoltContext) -> Iterator[str]:
    """Render in the language of whoever sent the request (set by the middleware)."""
    locale = context.get("locale")
    with speaking(locale if isinstance(locale, str) else None) as chosen:
        yield chosen
