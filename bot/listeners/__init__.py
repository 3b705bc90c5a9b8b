"""Slack listeners by kind: each acks, parses, calls one service function and renders one view.

Decisions are committed before the ack (a crash after it loses nothing); Slack messages go out
afterwards from the outbox. One middleware resolves who is acting (`acting`); one wrapper answers
every refusal (`replies.refusing`).
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from ..ack import prompt_acks
from ..deps import Deps
from . import alerts, approvals, commands, home, orders
from .acting import person_middleware


def register_all(app: AsyncApp, deps: Deps) -> None:
    prompt_acks(app)
    app.use(person_middleware(deps.policy, deps.locales))
    for kind in (commands, approvals, home, orders, alerts):
        kind.register(app, deps)
