"""Text from outside (ERP and SMTP error bodies) is shown literally in an alert's push text, not only in its
blocks (issue 12, clearer answers): no live link, mention or markup reaches a phone's notification."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.render import BlockRenderer
from domain.events import Event, Kind
from tests.support.quotes import example_policy

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
ERP_PAGE = '<html><body><a href="http://evil.example">Bad Gateway</a> <!channel> & more</body></html>'


@pytest.mark.parametrize(
    "event",
    [
        Event(Kind.ORDER_SYNC_FAILED, NOW, "Q-1042", 1, 1, comment=ERP_PAGE, detail={"order": "Q-1042-01"}),
        Event(Kind.EMAIL_FAILED, NOW, "Q-1042", 1, 1, comment=ERP_PAGE, detail={"person": "farah", "outbox": 7}),
    ],
    ids=["erp", "email"],
)
def test_an_alerts_push_text_escapes_the_error_body_it_quotes(event: Event) -> None:
    text, blocks = BlockRenderer(example_policy()).alert(event, None)

    assert "<" not in text and ">" not in text, text
    assert "&lt;!channel&gt;" in text and "&amp; more" in text
    assert "\n" not in text and len(text) <= 3000
    assert blocks[0]["text"]["text"].endswith(text)
