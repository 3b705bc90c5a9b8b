"""Block Kit as plain dicts (`bot.blockkit`) is exactly what slack_sdk's models serialise to: the
same keys in the same order, for any text within Slack's limits."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot import blockkit as bk

texts = st.text(min_size=1, max_size=300)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz._-0123456789", min_size=1, max_size=40)
styles = st.sampled_from([None, "primary", "danger"])
values = st.one_of(st.none(), st.text(max_size=100))


def same(built: dict[str, object], model: object) -> None:
    assert json.dumps(built, ensure_ascii=False) == json.dumps(model.to_dict(), ensure_ascii=False)  # type: ignore[attr-defined]


@given(text=texts, block_id=ids)
def test_a_section_a_context_and_a_header_are_what_their_models_serialise_to(text: str, block_id: str) -> None:
    same(bk.mrkdwn(text), MarkdownTextObject(text=text))
    same(bk.plain(text), PlainTextObject(text=text, emoji=True))
    same(bk.section(block_id, text), SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text)))
    same(
        bk.context(block_id, text, text[::-1]),
        ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=text), MarkdownTextObject(text=text[::-1])]),
    )
    same(bk.header(block_id, text[:150]), HeaderBlock(block_id=block_id, text=text[:150]))


@given(text=st.text(min_size=1, max_size=75), action_id=ids, value=values, style=styles, block_id=ids)
def test_buttons_and_their_actions_block_are_what_their_models_serialise_to(
    text: str, action_id: str, value: str | None, style: str | None, block_id: str
) -> None:
    built = bk.button(text, action_id, value, style=style)
    model = ButtonElement(text=text, action_id=action_id, value=value, style=style)
    same(built, model)
    same(bk.actions(block_id, [built, built]), ActionsBlock(block_id=block_id, elements=[model, model]))
