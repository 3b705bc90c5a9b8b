"""Block Kit as plain dicts, for the messages the outbox worker sends on every click.

Each helper returns exactly what the `slack_sdk.models` object of the same name gives from
`to_dict()` (same keys, same order), without building the object: building and serialising the
models (which checks every limit each time) was about a third of the CPU of delivering a click.
The checks moved to the tests (`tests/bot/test_blockkit.py`): each helper is compared with its
model's `to_dict()`, and every message the views build is parsed back through `slack_sdk`, which
validates it, at the extremes of `tests/bot/test_views_against_slack_types.py`. The views keep
Slack's limits themselves (`bot.views.text`: `clip`, `TEXT_LIMIT`, `FIELD_LIMIT`, `HEADER_LIMIT`).

Views and modals built less often (App Home, modals, command answers) still use the models.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Block = dict[str, Any]


def mrkdwn(text: str) -> dict[str, Any]:
    """`MarkdownTextObject(text=text).to_dict()`."""
    return {"text": text, "type": "mrkdwn"}


def plain(text: str) -> dict[str, Any]:
    """`PlainTextObject(text=text, emoji=True).to_dict()`, what a button's or a header's text becomes."""
    return {"emoji": True, "text": text, "type": "plain_text"}


def section(block_id: str, text: str) -> Block:
    """`SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text)).to_dict()`."""
    return {"block_id": block_id, "text": {"text": text, "type": "mrkdwn"}, "type": "section"}


def context(block_id: str, *texts: str) -> Block:
    """`ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=t) ...]).to_dict()`."""
    return {"block_id": block_id, "elements": [{"text": t, "type": "mrkdwn"} for t in texts], "type": "context"}


def header(block_id: str, text: str) -> Block:
    """`HeaderBlock(block_id=block_id, text=text).to_dict()`."""
    return {"block_id": block_id, "text": {"emoji": True, "text": text, "type": "plain_text"}, "type": "header"}


def button(text: str, action_id: str, value: str | None = None, style: str | None = None) -> dict[str, Any]:
    """`ButtonElement(text=text, action_id=action_id, value=value, style=style).to_dict()` (which
    leaves out an empty value or style)."""
    out: dict[str, Any] = {"action_id": action_id}
    if style:
        out["style"] = style
    out["text"] = {"emoji": True, "text": text, "type": "plain_text"}
    out["type"] = "button"
    if value:
        out["value"] = value
    return out


def actions(block_id: str, elements: Iterable[dict[str, Any]]) -> Block:
    """`ActionsBlock(block_id=block_id, elements=[...]).to_dict()`."""
    return {"block_id": block_id, "elements": list(elements), "type": "actions"}
