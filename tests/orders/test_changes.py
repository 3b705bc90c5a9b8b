"""Changes before release (orders-v1 §2): the status table, reschedule and split."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from domain.errors import Conflict, NotAllowed
from domain.orders import (
    ACTIONS,
    STATUSES,
    PlannedOrder,
    can,
    next_number,
    next_status,
    reschedule,
    split,
    transition,
)

from .kit import line, plan, quote, utc

NOW = utc(2027, 1, 10, 9, 0)


def one_order():
    (order,) = plan(
        quote(
            line("L1", net_total=33.33, delivery_date="2027-01-15"),
            line("L2", net_total=33.33, delivery_date="2027-01-15"),
            line("L3", net_total=33.33, delivery_date="2027-01-15"),
            net_total=100,
        )
    )
    return order


# ----------------------------------------------------------------------------------- the table


def test_a_scheduled_order_can_be_changed_in_every_way_before_release():
    assert {a for a in ACTIONS if can("scheduled", a)} == {"reschedule", "split", "hold", "cancel", "release"}


def test_a_held_order_can_be_resumed_rescheduled_split_cancelled_or_released_now():
    assert {a for a in ACTIONS if can("held", a)} == {"reschedule", "split", "resume", "cancel", "release"}


def test_a_released_order_can_only_be_synced_or_fail_to_sync():
    assert {a for a in ACTIONS if can("released", a)} == {"sync", "sync_fail"}


def test_an_order_that_failed_to_sync_can_be_retried():
    assert next_status("sync_failed", "retry") == "released"
    assert next_status("sync_failed", "sync") == "synced"


@pytest.mark.parametrize("status", ["synced", "cancelled"])
def test_synced_and_cancelled_orders_allow_nothing(status):
    assert not any(can(status, a) for a in ACTIONS)


def test_unknown_statuses_and_actions_are_programming_errors():
    with pytest.raises(ValueError):
        can("shipped", "hold")
    with pytest.raises(ValueError):
        can("scheduled", "ship")


def test_every_transition_ends_in_a_known_status():
    assert {next_status(s, a) for s in STATUSES for a in ACTIONS if can(s, a)} <= set(STATUSES)


# ---------------------------------------------------------------------------- status changes


def test_hold_then_resume_brings_an_order_back_to_scheduled():
    order = one_order()
    held = transition(order, "hold")
    assert held.status == "held"
    assert transition(held, "resume").status == "scheduled"


def test_releasing_records_when_it_happened_in_utc():
    released = transition(
        one_order(), "release", at=dt.datetime(2027, 1, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    )
    assert (released.status, released.released_at) == ("released", NOW)


def test_releasing_needs_the_instant():
    with pytest.raises(ValueError):
        transition(one_order(), "release")


def test_a_cancelled_order_cannot_be_released():
    cancelled = transition(one_order(), "cancel")
    with pytest.raises(Conflict, match="Q-1042-01 is cancelled: it can no longer be released"):
        transition(cancelled, "release", at=NOW)


# ------------------------------------------------------------------------------------ reschedule


def test_rescheduling_moves_the_order_its_lines_and_its_release_instant():
    moved = reschedule(one_order(), dt.date(2027, 7, 1))
    assert moved.delivery_date == dt.date(2027, 7, 1)
    assert {ln.delivery_date for ln in moved.lines} == {dt.date(2027, 7, 1)}
    assert moved.local_release_at.isoformat() == "2027-07-01T06:00:00+02:00"
    assert (moved.number, moved.total) == ("Q-1042-01", Decimal("100.00"))


def test_a_held_order_stays_held_when_rescheduled():
    assert reschedule(transition(one_order(), "hold"), dt.date(2027, 7, 1)).status == "held"


@pytest.mark.parametrize("action", ["release", "cancel"])
def test_a_released_or_cancelled_order_cannot_be_rescheduled(action):
    changed = transition(one_order(), action, at=NOW)
    with pytest.raises(Conflict, match="can no longer be rescheduled"):
        reschedule(changed, dt.date(2027, 7, 1))


# ----------------------------------------------------------------------------------------- split


def test_splitting_moves_lines_to_a_new_order_with_the_next_free_number():
    order = one_order()
    kept, new = split(order, ["L3"], dt.date(2027, 2, 1), taken=[order.number])
    assert (kept.number, kept.line_ids, kept.delivery_date) == ("Q-1042-01", ("L1", "L2"), dt.date(2027, 1, 15))
    assert (new.number, new.line_ids, new.delivery_date) == ("Q-1042-02", ("L3",), dt.date(2027, 2, 1))
    assert new.release_at == utc(2027, 2, 1, 5, 0)
    assert new.lines[0].delivery_date == dt.date(2027, 2, 1)


def test_after_a_split_the_totals_still_add_up_to_the_cent():
    order = one_order()
    kept, new = split(order, ["L1"], dt.date(2027, 2, 1), taken=[order.number])
    assert (kept.total, new.total) == (Decimal("66.66"), Decimal("33.34"))
    assert kept.total + new.total == order.total == Decimal("100.00")


def test_a_split_skips_every_number_the_quote_has_used():
    order = one_order()
    _, new = split(order, ["L1"], dt.date(2027, 2, 1), taken=["Q-1042-01", "Q-1042-02", "Q-1042-05", "Q-9-07"])
    assert new.number == "Q-1042-06"


def test_numbers_grow_past_99():
    assert next_number("Q-1", [f"Q-1-{n:02d}" for n in range(1, 100)]) == "Q-1-100"


def test_a_split_of_a_held_order_stays_held():
    held = transition(one_order(), "hold")
    kept, new = split(held, ["L1"], dt.date(2027, 2, 1), taken=[held.number])
    assert (kept.status, new.status) == ("held", "held")


def test_a_split_must_name_lines():
    with pytest.raises(NotAllowed, match="name the lines"):
        split(one_order(), [], dt.date(2027, 2, 1), taken=[])


def test_a_split_refuses_lines_that_are_not_on_the_order():
    with pytest.raises(NotAllowed, match="L7, L8 are not on order Q-1042-01"):
        split(one_order(), ["L1", "L7", "L8"], dt.date(2027, 2, 1), taken=[])


def test_moving_every_line_is_a_reschedule_not_a_split():
    with pytest.raises(NotAllowed, match="reschedule, not a split"):
        split(one_order(), ["L1", "L2", "L3", "L2"], dt.date(2027, 2, 1), taken=[])


def test_a_released_order_cannot_be_split():
    released = transition(one_order(), "release", at=NOW)
    with pytest.raises(Conflict, match="Q-1042-01 is released: it can no longer be split"):
        split(released, ["L1"], dt.date(2027, 2, 1), taken=[])


def test_an_order_comes_back_from_its_plain_data():
    order = transition(one_order(), "release", at=NOW)
    assert PlannedOrder.from_dict(json.loads(json.dumps(order.as_dict()))) == order


def test_a_line_keeps_every_decimal_of_its_approved_price():
    (order,) = plan(quote(line("L1", quantity=3, net_price=33.333, net_total=None)))
    data = order.as_dict()["lines"][0]
    assert (data["net_price"], data["approved_net_total"], data["net_total"]) == ("33.333", "99.999", "100.00")
    assert PlannedOrder.from_dict(order.as_dict()) == order


def test_a_quantity_split_moves_part_of_a_line_and_shares_its_amount_to_the_cent():
    q = quote(line("SEATS", quantity=100, net_price=33.33, net_total=3333, delivery_date="2027-01-15"), net_total=3333)
    (order,) = plan(q)
    kept, moved = split(order, [], dt.date(2027, 3, 1), taken=[order.number], quantities={"SEATS": Decimal(40)})
    assert [(ln.id, ln.quantity, ln.net_total) for ln in kept.lines] == [("SEATS", 60, Decimal("1999.80"))]
    assert [(ln.id, ln.quantity, ln.net_total) for ln in moved.lines] == [("SEATS", 40, Decimal("1333.20"))]
    assert kept.total + moved.total == order.total
    assert moved.delivery_date == dt.date(2027, 3, 1)


@pytest.mark.parametrize("units", [0, 100, 120, -5])
def test_a_quantity_split_of_none_or_all_of_a_line_is_refused(units):
    q = quote(line("SEATS", quantity=100, net_price=10, delivery_date="2027-01-15"), line("HW"))
    (order,) = [o for o in plan(q) if "SEATS" in o.line_ids]
    with pytest.raises(NotAllowed, match="move between 0 and 100 units of SEATS"):
        split(order, [], dt.date(2027, 3, 1), taken=[order.number], quantities={"SEATS": Decimal(units)})
