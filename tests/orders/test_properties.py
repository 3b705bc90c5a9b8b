"""Properties of splitting, money and release instants, checked on many generated cases."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.contracts import add_months, build_contract
from domain.orders import allocate, release_at, split, to_cents

from .kit import line, plan, quote

FAST = settings(max_examples=200, deadline=None, database=None)

DATES = [None, "2027-01-15", "2027-02-01", "2027-03-14", "2027-11-07"]
PLACES = [None, "Berlin HQ", "Munich", "Bonn"]
ZONES = ["Europe/Berlin", "America/New_York", "America/Los_Angeles", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]

amounts = st.decimals(min_value=-1000, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


@st.composite
def quotes(draw):
    count = draw(st.integers(min_value=1, max_value=12))
    lines = [
        line(
            f"L{index}",
            net_total=float(draw(amounts)),
            delivery_date=draw(st.sampled_from(DATES)),
            ship_to=draw(st.sampled_from(PLACES)),
            recurring=draw(st.booleans()),
            term_months=12,
        )
        for index in range(1, count + 1)
    ]
    exact = sum(Decimal(repr(ln["net_total"])) for ln in lines)
    # A net_total off the lines by more than a cent per line is refused (domain.orders.total_tolerance).
    net_total = draw(
        st.one_of(
            st.none(),
            st.integers(min_value=-count, max_value=count).map(
                lambda cents: float(to_cents(exact) + Decimal(cents) / 100)
            ),
        )
    )
    return quote(*lines, net_total=net_total)


def target_of(q) -> Decimal:
    net_total = q.data.get("net_total")
    if net_total is None:
        return to_cents(sum(Decimal(repr(ln["net_total"])) for ln in q.lines))
    return to_cents(Decimal(repr(net_total)))


@FAST
@given(quotes())
def test_every_line_of_a_quote_is_on_exactly_one_order(q):
    orders = plan(q)
    placed = [line_id for order in orders for line_id in order.line_ids]
    assert sorted(placed) == sorted(ln["id"] for ln in q.lines)
    assert len(placed) == len(set(placed))


@FAST
@given(quotes())
def test_the_orders_add_up_exactly_to_the_quote_net_total(q):
    orders = plan(q)
    assert sum(o.total for o in orders) == target_of(q)
    for order in orders:
        assert order.total == sum(ln.net_total for ln in order.lines)
        assert all(ln.net_total == to_cents(ln.net_total) for ln in order.lines)


@FAST
@given(quotes())
def test_orders_are_numbered_in_delivery_order_and_share_date_and_destination(q):
    orders = plan(q)
    assert [o.number for o in orders] == [f"Q-1042-{n:02d}" for n in range(1, len(orders) + 1)]
    assert [o.delivery_date for o in orders] == sorted(o.delivery_date for o in orders)
    keys = [(o.delivery_date, o.ship_to) for o in orders]
    assert len(keys) == len(set(keys))
    for order in orders:
        assert {(ln.delivery_date, ln.ship_to) for ln in order.lines} == {(order.delivery_date, order.ship_to)}


@FAST
@given(quotes())
def test_a_contract_adds_up_to_the_quote_net_total(q):
    orders = plan(q)
    assert build_contract(q, orders).total == target_of(q)


@FAST
@given(st.lists(amounts, min_size=1, max_size=20))
def test_rounding_moves_no_line_by_a_whole_cent_and_a_half(values):
    target = sum(values, Decimal(0))
    allocated = allocate(values, target)
    assert sum(allocated) == to_cents(target)
    assert all(abs(a - v) < Decimal("0.015") for a, v in zip(allocated, values, strict=True))


@FAST
@given(quotes(), st.data())
def test_a_split_keeps_every_line_and_every_cent(q, data):
    orders = plan(q)
    order = data.draw(st.sampled_from(orders))
    if len(order.lines) < 2:
        return
    moving = data.draw(
        st.lists(st.sampled_from(order.line_ids), min_size=1, max_size=len(order.lines) - 1, unique=True)
    )
    kept, new = split(order, moving, dt.date(2027, 6, 1), taken=[o.number for o in orders])
    assert sorted((*kept.line_ids, *new.line_ids)) == sorted(order.line_ids)
    assert kept.total + new.total == order.total
    assert new.number == f"Q-1042-{len(orders) + 1:02d}"


@FAST
@given(
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2037, 12, 31)),
    st.sampled_from(ZONES),
    st.times().map(lambda t: f"{t.hour:02d}:{t.minute:02d}"),
)
def test_a_release_happens_once_on_its_day_at_or_just_after_the_local_release_time(day, zone, release_time):
    tz = ZoneInfo(zone)
    instant = release_at(day, release_time, zone)
    local = instant.astimezone(tz)
    wall = dt.datetime.combine(day, dt.time.fromisoformat(release_time))
    assert local.date() == day
    assert local.replace(tzinfo=None) >= wall
    assert local.replace(tzinfo=None) - wall <= dt.timedelta(hours=1)
    assert instant < release_at(day + dt.timedelta(days=1), release_time, zone)


@FAST
@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31)), st.integers(1, 120))
def test_calendar_months_keep_the_day_or_end_the_month(start, months):
    end = add_months(start, months)
    assert (end.year - start.year) * 12 + end.month - start.month == months
    assert end.day == start.day or (end.day < start.day and (end + dt.timedelta(days=1)).day == 1)
