"""The answer to `/deal policy reload`: what is in force now, or every problem that kept it out."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from .text import TEXT_LIMIT, escape, mrkdwn_lines, top_text


def policy_reloaded(ok: bool, sentence: str) -> tuple[str, list[Block]]:
    """`sentence` is live_policy's: its first line says what happened, the others are the problems."""
    head, *problems = sentence.splitlines()
    icon = ":white_check_mark:" if ok else ":no_entry_sign:"
    blocks: list[Block] = [
        SectionBlock(block_id="policy.reload", text=MarkdownTextObject(text=f"{icon} {escape(head)}"[:TEXT_LIMIT]))
    ]
    if problems:
        text = mrkdwn_lines(escape(line) for line in problems)
        blocks.append(SectionBlock(block_id="policy.problems", text=MarkdownTextObject(text=text)))
    return top_text(escape(head)), blocks
