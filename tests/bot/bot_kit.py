"""Realistic data for the view tests: the example policy and quotes, run through the engine.

Submissions come from `domain.approvals.submit` with a fixed clock (3 November 2026, 14:00 UTC:
09:00 in New York, outside the year-end rule's window). Views are serialised with `.to_dict()`,
which runs slack_sdk's own validation, and walked for the checks slack_sdk does not make.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from domain import approvals as lifecycle
from domain.approvals import Context, Directory, Event, Submission
from domain.policy import Policy
from domain.quote import Quote
from domain.rules import Evaluator
from tests.support.quotes import EXAMPLE_QUOTES, example_policy, example_quote

NOW = dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC)
QUOTES = EXAMPLE_QUOTES


@cache
def policy() -> Policy:
    """The example policy, read once (views never change it)."""
    return example_policy()


quote = example_quote


def context(now: dt.datetime = NOW, directory: Directory | None = None) -> Context:
    return Context(policy(), Evaluator(policy()), directory or Directory(), now)


class Deal:
    """One quote moving through the engine, with its clock."""

    def __init__(self, q: Quote, now: dt.datetime = NOW, directory: Directory | None = None) -> None:
        self.quote = q
        self.ctx = context(now, directory)
        self.sub, self.events = lifecycle.submit(self.ctx, q, 1, None)

    @property
    def now(self) -> dt.datetime:
        return self.ctx.now

    def later(self, minutes: int) -> Deal:
        self.ctx.now = self.ctx.now + dt.timedelta(minutes=minutes)
        return self

    def approve(self, rule: str, person: str) -> list[Event]:
        events = lifecycle.decide(self.ctx, self.sub, rule, person, "approve")
        self.events += events
        return events

    def reject(self, rule: str, person: str, reason: str) -> list[Event]:
        events = lifecycle.decide(self.ctx, self.sub, rule, person, "reject", reason)
        self.events += events
        return events

    def recall(self, quote_changed: bool = False) -> list[Event]:
        events = lifecycle.recall(self.ctx, self.sub, self.sub.owner, quote_changed=quote_changed)
        self.events += events
        return events

    def reassign(self, rule: str, giver: str, receiver: str, comment: str | None = None) -> list[Event]:
        events = lifecycle.reassign(self.ctx, self.sub, rule, giver, receiver, comment)
        self.events += events
        return events

    def resubmit(self, q: Quote) -> Deal:
        previous = self.sub
        self.quote = q
        self.sub, events = lifecycle.submit(self.ctx, q, previous.number + 1, previous)
        self.events += events
        return self

    def assignees(self, rule: str) -> list[str]:
        return lifecycle.assignees(self.ctx, self.sub, self.sub.approval(rule))


def deal(name: str = "q1042-v3", **changes: Any) -> Deal:
    return Deal(quote(name, **changes))


def submission(name: str) -> Submission:
    return deal(name).sub


# ---------------------------------------------------------------- looking into serialised views


def serialised(blocks: Sequence[Block] | View) -> list[dict[str, Any]]:
    """Block dicts, validated by slack_sdk on the way (a view's dicts are parsed back into its models,
    which check Slack's limits as they serialise, and must come out unchanged)."""
    if isinstance(blocks, View):
        return blocks.to_dict()["blocks"]
    out = []
    for block in blocks:
        if isinstance(block, dict):
            parsed = Block.parse(block)
            assert parsed is not None and parsed.to_dict() == block, block
            out.append(block)
        else:
            out.append(block.to_dict())
    return out


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def action_ids(node: Any) -> list[str]:
    return [d["action_id"] for d in walk(node) if isinstance(d.get("action_id"), str)]


def block_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["block_id"] for b in blocks if "block_id" in b]


def mrkdwn_texts(node: Any) -> list[str]:
    return [d["text"] for d in walk(node) if d.get("type") == "mrkdwn"]


def all_text(node: Any) -> str:
    return "\n".join(d["text"] for d in walk(node) if d.get("type") in ("mrkdwn", "plain_text"))


def buttons(node: Any) -> list[dict[str, Any]]:
    return [d for d in walk(node) if d.get("type") == "button"]


def assert_valid_message(text: str, blocks: Sequence[Block], limit: int = 50) -> list[dict[str, Any]]:
    """What the Slack stand-in (and Slack) require of a message, plus Greenlight's escaping."""
    assert text.strip(), "a message needs a top-level text (push notification, screen readers)"
    data = serialised(blocks)
    assert 1 <= len(data) <= limit
    assert_unique_ids(data)
    assert_escaped(data)
    return data


def assert_unique_ids(data: list[dict[str, Any]]) -> None:
    actions, ids = action_ids(data), block_ids(data)
    assert len(actions) == len(set(actions)), actions
    assert len(ids) == len(set(ids)), ids


DATE_TOKEN = re.compile(r"<!date\^\d+\^[^|<>]*\|[^<>]*>")
"""Slack's date formatting token, which Greenlight writes for moments (each reader sees their zone)."""


def assert_escaped(data: Any) -> None:
    """Greenlight writes no links or mentions: every `<`, `>` and `&` in mrkdwn is an escape, but
    for Slack's date tokens."""
    for text in mrkdwn_texts(data):
        text = DATE_TOKEN.sub("", text)
        assert "<" not in text and ">" not in text, text
        stripped = text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
        assert "&" not in stripped, text
        assert len(text) <= 3000
