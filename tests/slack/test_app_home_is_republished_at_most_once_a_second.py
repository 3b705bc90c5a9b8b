"""Delivery republishes a person's App Home at most once per `home_every` (HOME_EVERY, 1 s, in
production): the changes of a busy moment are published once, as they stand when it is rendered.
`views.publish` is a Tier 3 method (about 50 calls a minute), and an approver with a queue would
otherwise have their Home rendered and sent after every batch.

Q-1042's payment terms need fiona and carl both (finance-review, mode all): fiona's Home changes
when the request is made and again when each of them signs.
"""

from __future__ import annotations

import pytest

from .conftest import Bot

EVERY = 0.5
RULE = "payment-terms"


@pytest.fixture
def home_every() -> float:
    return EVERY


def published(bot: Bot, person: str) -> list[float]:
    """When the stand-in received each successful publication of PERSON's Home."""
    user = bot.slack_id(person)
    return [c.at for c in bot.slack.calls("views.publish") if c.ok and c.args.get("user_id") == user]


async def test_changes_within_the_interval_are_published_once_after_it_with_the_final_state(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")  # fiona's Home now lists the request: published at once
    first = published(bot, "fiona")
    assert first, "the request's first publication of fiona's Home is not delayed"
    assert "Q-1042" in str(bot.slack.home_view(bot.slack_id("fiona")))

    for person in ("fiona", "carl"):
        await bot.runtime.service.decide("Q-1042", RULE, person, "approve", bot.clock())
        await bot.settle()  # each vote delivered in a batch of its own
    assert published(bot, "fiona") == first, "both changes came within the interval: nothing published yet"

    last = await bot.slack.wait_for(
        "views.publish", lambda c: c.ok and c.args.get("user_id") == bot.slack_id("fiona"), count=len(first) + 1
    )
    assert last.at - first[-1] >= EVERY - 0.1, "published no sooner than the interval after the one before"
    assert "Nothing is waiting on you." in str(last.args.get("view")), "the state after both votes"
    assert published(bot, "fiona") == [*first, last.at], "the two changes were published once"


async def test_a_home_still_waiting_when_greenlight_stops_is_dropped_quietly(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    before = published(bot, "fiona")
    await bot.runtime.service.decide("Q-1042", RULE, "fiona", "approve", bot.clock())
    await bot.settle()
    assert "fiona" in bot.runtime.delivery.homes_waiting

    await bot.runtime.delivery.close()  # what `Runtime.stop` does before the database closes

    assert published(bot, "fiona") == before
    assert bot.runtime.delivery.homes_waiting == ()
