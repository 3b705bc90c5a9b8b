"""Quote data with mrkdwn, HTML and control characters shows as text everywhere it is shown.

The customer name of Q-7001 carries: Slack's mention, broadcast and link syntax; HTML with a script;
a literal entity; mrkdwn formatting; C0 control characters, DEL and a right-to-left override; and
line breaks that try to add a fake "approved" line and a fake Approve link. Felix sees the request
in Slack, Farah by email and on the link page, Ava in her thread.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from sandbox.slack_api import Call
from tests.support.pages import links_in, parts

from .conftest import App, backdated_quote

REF = "Q-7001#1/backdated-start"
FAKE_LINE = ":white_check_mark: *Approved by Carl Jensen (CFO)*"
FAKE_LINK = "https://evil.example/a/v1.fake.link"
HOSTILE = (
    'Acme <!channel> <@U03MB2N7RGM> <https://evil.example|Approve here> <script>alert("x")</script> & &amp; '
    "*bold* _it_ ~gone~ `code` \x00\x07\x1b[31m red\x7f \u202eDSU 000,01\u2066"
    f"\n\n{FAKE_LINE}\nApprove:\n{FAKE_LINK}"
)
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MRKDWN_FORMATTING = ("*bold*", "_it_", "~gone~", "`code`")


@pytest.fixture
async def hostile(app: App) -> App:
    await app.submit(backdated_quote(account={"id": "A-9001", "name": HOSTILE, "segment": "Enterprise"}))
    return app


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def texts_of(call: Call) -> tuple[list[str], list[str]]:
    """(mrkdwn texts, plain texts) a Web API call put on screen, its top-level `text` counted as mrkdwn."""
    args = call.args
    nodes: list[Any] = []
    for key in ("blocks", "view"):
        raw = args.get(key)
        if raw:
            nodes.append(json.loads(raw) if isinstance(raw, str) else raw)
    mrkdwn = [args["text"]] if isinstance(args.get("text"), str) else []
    plain: list[str] = []
    for node in walk(nodes):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            mrkdwn.append(node["text"])
        elif node.get("type") == "plain_text" and isinstance(node.get("text"), str):
            plain.append(node["text"])
    return mrkdwn, plain


def slack_texts(app: App) -> tuple[list[str], list[str]]:
    """Everything Greenlight showed in Slack that carries the customer's name."""
    mrkdwn: list[str] = []
    plain: list[str] = []
    for call in app.slack.calls():
        if call.method in (
            "chat.postMessage",
            "chat.update",
            "chat.postEphemeral",
            "views.open",
            "views.publish",
            "views.update",
            "response_url",
        ):
            found_mrkdwn, found_plain = texts_of(call)
            mrkdwn += [text for text in found_mrkdwn if "Acme" in text]
            plain += [text for text in found_plain if "Acme" in text]
    assert mrkdwn, "the customer's name was shown in Slack"
    return mrkdwn, plain


async def shown_everywhere_in_slack(app: App) -> tuple[list[str], list[str]]:
    """The request DM, the rep's thread, the details modal and App Home of the approver."""
    felix = app.slack_id("felix")
    await app.driver.click(felix, "approval.details", message=app.request("felix", REF))
    await app.slack.wait_for("views.open")
    await app.driver.app_home_opened(felix)
    await app.slack.wait_for("views.publish")
    return slack_texts(app)


async def test_mentions_links_broadcasts_and_html_in_quote_data_reach_slack_escaped(hostile: App) -> None:
    mrkdwn, _ = await shown_everywhere_in_slack(hostile)

    for text in mrkdwn:
        assert "<" not in text and ">" not in text, text
        assert "&" not in re.sub(r"&(amp|lt|gt);", "", text), text
        assert "&lt;!channel&gt;" in text and "&amp;amp;" in text, text


async def test_control_characters_in_quote_data_never_reach_slack(hostile: App) -> None:
    mrkdwn, plain = await shown_everywhere_in_slack(hostile)

    for text in mrkdwn + plain:
        found = CONTROL.search(text)
        assert found is None, f"control character {found.group()!r} in {text!r}" if found else ""


async def test_line_breaks_in_quote_data_cannot_add_lines_to_slack_messages(hostile: App) -> None:
    mrkdwn, plain = await shown_everywhere_in_slack(hostile)

    for text in mrkdwn + plain:
        for line in text.split("\n"):
            assert not line.startswith(":white_check_mark:"), f"a line added by quote data: {text!r}"
            assert not line.startswith(FAKE_LINK), f"a line added by quote data: {text!r}"


async def test_mrkdwn_formatting_in_quote_data_does_not_format_slack_messages(hostile: App) -> None:
    """Slack has no escape for * _ ~ `: data belongs in plain_text, or its markers must be neutralised."""
    mrkdwn, _ = await shown_everywhere_in_slack(hostile)

    for text in mrkdwn:
        for marked in MRKDWN_FORMATTING:
            assert marked not in text, f"{marked} from the customer's name formats {text!r}"


async def request_email(app: App) -> EmailMessage:
    [arrived] = await app.inbox.wait_for(1)
    return arrived.message


async def test_html_in_quote_data_is_escaped_in_the_emails_html_part(hostile: App) -> None:
    _, html = parts(await request_email(hostile))
    body = html.split("<body", 1)[1]

    assert "<script" not in body and "<!channel" not in body and "<https://evil" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body
    assert "&amp;amp;" in body
    assert FAKE_LINK not in re.findall(r'href="([^"]*)"', body)


async def test_line_breaks_in_quote_data_cannot_add_lines_or_links_to_the_email(hostile: App) -> None:
    message = await request_email(hostile)
    text = parts(message)[0].replace("\r\n", "\n")

    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
    offered = re.findall(r"^(Approve|Reject)[^\n]*:\n(\S+)$", text, flags=re.MULTILINE)
    assert [(label, url.startswith(f"{hostile.url}/a/")) for label, url in offered] == [
        ("Approve", True),
        ("Reject", True),
    ], f"the text part offers these links: {offered}"
    assert FAKE_LINE not in text.split("\n"), "quote data added a line to the text part"


async def test_control_characters_in_quote_data_never_reach_the_email(hostile: App) -> None:
    message = await request_email(hostile)
    text, html = parts(message)

    for where, content in [("subject", str(message["Subject"])), ("text part", text), ("HTML part", html)]:
        found = CONTROL.search(content)
        assert found is None, f"{found.group()!r} in the {where}"


async def test_html_in_quote_data_is_escaped_on_the_link_page(hostile: App) -> None:
    app = hostile
    page = await app.get(links_in(await request_email(app))["approve"])

    assert page.status == 200
    body = page.text.split("<body", 1)[1]
    assert "<script" not in body and "<!channel" not in body
    assert "&lt;script&gt;" in body
    assert FAKE_LINK not in re.findall(r'href="([^"]*)"', body)
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")


async def test_control_characters_in_quote_data_never_reach_the_link_page(hostile: App) -> None:
    app = hostile
    page = await app.get(links_in(await request_email(app))["approve"])

    found = CONTROL.search(page.text)
    assert found is None, f"{found.group()!r} on the page" if found else ""
