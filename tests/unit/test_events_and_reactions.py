"""Event kinds are typed, their JSON form round-trips, and one map says what follows each kind."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.crm import CRM_EVENTS
from domain.events import Event, Kind, from_json, to_json
from domain.memory import MemoryStore
from domain.reactions import REACTIONS, TOPIC, Reaction, Topic, reactions, topics

NOW = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)

texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
events = st.builds(
    Event,
    kind=st.sampled_from(Kind),
    at=st.datetimes(timezones=st.just(dt.UTC)),
    quote_id=texts,
    quote_version=st.integers(0, 2**31),
    submission=st.integers(0, 1000),
    rule=st.none() | texts,
    actor=st.none() | texts,
    on_behalf_of=st.none() | texts,
    comment=st.none() | texts,
    people=st.lists(texts, max_size=3).map(tuple),
    detail=st.dictionaries(texts, st.none() | st.integers() | texts, max_size=3),
)


@given(events)
def test_an_event_survives_its_json_form_unchanged(event: Event) -> None:
    assert from_json(to_json(event)) == event


def test_a_kind_given_as_text_becomes_the_typed_kind() -> None:
    event = Event("quote_approved", NOW, "Q-1", 1, 1)  # type: ignore[arg-type]
    assert event.kind is Kind.QUOTE_APPROVED


def test_a_misspelt_kind_is_refused_where_the_event_is_made() -> None:
    with pytest.raises(ValueError, match="quote_aproved"):
        Event("quote_aproved", NOW, "Q-1", 1, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        from_json({**to_json(Event(Kind.SUBMITTED, NOW, "Q-1", 1, 1)), "kind": "submited"})


def test_every_kind_says_what_follows_it_and_every_reaction_has_a_topic() -> None:
    assert set(REACTIONS) == set(Kind)
    assert set(TOPIC) == set(Reaction)


def test_an_approved_quote_is_announced_in_slack_and_its_orders_are_generated_on_a_topic_of_their_own() -> None:
    assert reactions(Kind.QUOTE_APPROVED) == {Reaction.THREAD, Reaction.GENERATE_ORDERS, Reaction.NOTIFY_CRM}
    assert topics(Kind.QUOTE_APPROVED) == (Topic.SLACK, Topic.ORDERS, Topic.CRM)


def test_a_released_order_goes_to_the_erp_and_to_the_reps_thread() -> None:
    for kind in (Kind.ORDER_RELEASED, Kind.ORDER_RELEASE):
        assert topics(kind) == (Topic.SLACK, Topic.ERP, Topic.CRM)


def test_exactly_the_outcomes_of_crm_v1_go_to_the_crm_each_with_its_webhook_type() -> None:
    told = {kind for kind in Kind if Reaction.NOTIFY_CRM in reactions(kind)}
    assert told == set(CRM_EVENTS)
    assert set(CRM_EVENTS.values()) == {
        "quote.submitted",
        "approval.decided",
        "quote.approved",
        "quote.rejected",
        "quote.recalled",
        "orders.generated",
        "order.changed",
        "contract.renewal_due",
    }


def test_what_only_the_audit_needs_queues_nothing() -> None:
    assert topics(Kind.QUOTE_RECEIVED) == ()


def test_delegations_and_replacements_are_told_to_the_people_concerned_through_slack() -> None:
    for kind in (Kind.DELEGATION_SET, Kind.DELEGATION_ENDED, Kind.REPLACEMENT_SET):
        assert topics(kind) == (Topic.SLACK,)


async def test_the_memory_store_queues_each_event_once_for_each_topic_of_its_reactions() -> None:
    store = MemoryStore()
    recorded = [Event(k, NOW, "Q-1", 1, 1) for k in (Kind.SUBMITTED, Kind.QUOTE_APPROVED, Kind.QUOTE_RECEIVED)]
    async with store.transaction() as tx:
        await tx.record(recorded)
    assert store.events == recorded
    assert [(topic, event.kind) for topic, event in store.outbox] == [
        (Topic.SLACK, Kind.SUBMITTED),
        (Topic.CRM, Kind.SUBMITTED),
        (Topic.SLACK, Kind.QUOTE_APPROVED),
        (Topic.ORDERS, Kind.QUOTE_APPROVED),
        (Topic.CRM, Kind.QUOTE_APPROVED),
    ]
