"""Release instants (orders-v1 §2): local release time in the account's zone, stored in UTC, DST days."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from domain.orders import is_due, is_order_due, release_at, release_due_at, transition

from .kit import line, plan, policy, quote, utc

NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"


def minutes_of(day: dt.date, zone: str) -> list[dt.datetime]:
    """Every minute, as UTC instants, from local midnight of `day` to local midnight of the next day."""
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
    count = int((end - start).total_seconds() // 60)
    return [start + dt.timedelta(minutes=m) for m in range(count)]


def times_due_flips(release: dt.datetime, moments: list[dt.datetime]) -> int:
    due = [is_due(release, moment) for moment in moments]
    return sum(1 for before, after in itertools.pairwise(due) if before != after)


# ----------------------------------------------------------------------------------- ordinary days


def test_a_berlin_release_at_0600_is_0500_utc_in_winter_and_0400_utc_in_summer():
    assert release_at(dt.date(2027, 1, 15), "06:00", BERLIN) == utc(2027, 1, 15, 5, 0)
    assert release_at(dt.date(2027, 7, 15), "06:00", BERLIN) == utc(2027, 7, 15, 4, 0)


def test_release_instants_are_aware_utc():
    instant = release_at(dt.date(2027, 1, 15), "06:00", ZoneInfo(NEW_YORK))
    assert instant.utcoffset() == dt.timedelta(0)
    assert instant == utc(2027, 1, 15, 11, 0)


def test_an_order_is_released_in_the_account_zone():
    (order,) = plan(quote(line("L1", delivery_date="2027-01-15")), policy(timezone=NEW_YORK))
    assert order.zone == BERLIN
    assert order.release_at == utc(2027, 1, 15, 5, 0)
    assert order.local_release_at.isoformat() == "2027-01-15T06:00:00+01:00"


def test_an_order_for_an_account_without_zone_is_released_in_the_policy_zone():
    (order,) = plan(quote(line("L1", delivery_date="2027-01-15"), account={"id": "A-77"}), policy(timezone=NEW_YORK))
    assert order.zone == NEW_YORK
    assert order.release_at == utc(2027, 1, 15, 11, 0)


def test_the_policy_release_time_is_used():
    (order,) = plan(quote(line("L1", delivery_date="2027-01-15")), policy(release_time="17:45"))
    assert order.local_release_at.isoformat() == "2027-01-15T17:45:00+01:00"


# --------------------------------------------------------------------------------------- DST days


def test_a_0230_release_on_new_york_spring_forward_day_happens_when_the_gap_ends():
    assert release_at(dt.date(2027, 3, 14), "02:30", NEW_YORK) == utc(2027, 3, 14, 7, 0)


def test_a_0230_release_on_new_york_spring_forward_day_happens_once():
    release = release_at(dt.date(2027, 3, 14), "02:30", NEW_YORK)
    moments = minutes_of(dt.date(2027, 3, 14), NEW_YORK)
    assert len(moments) == 23 * 60
    assert times_due_flips(release, moments) == 1


def test_a_0130_release_on_new_york_fall_back_day_uses_the_first_occurrence():
    release = release_at(dt.date(2027, 11, 7), "01:30", NEW_YORK)
    assert release == utc(2027, 11, 7, 5, 30)
    assert release.astimezone(ZoneInfo(NEW_YORK)).tzname() == "EDT"
    moments = minutes_of(dt.date(2027, 11, 7), NEW_YORK)
    assert len(moments) == 25 * 60
    assert times_due_flips(release, moments) == 1


def test_a_0230_release_on_berlin_spring_forward_day_happens_at_0300_cest():
    release = release_at(dt.date(2027, 3, 28), "02:30", BERLIN)
    assert release == utc(2027, 3, 28, 1, 0)
    assert release.astimezone(ZoneInfo(BERLIN)).isoformat() == "2027-03-28T03:00:00+02:00"


def test_a_0230_release_on_berlin_fall_back_day_happens_at_the_first_0230():
    release = release_at(dt.date(2027, 10, 31), "02:30", BERLIN)
    assert release == utc(2027, 10, 31, 0, 30)
    assert release.astimezone(ZoneInfo(BERLIN)).isoformat() == "2027-10-31T02:30:00+02:00"


@pytest.mark.parametrize(
    ("day", "zone", "expected"),
    [
        (dt.date(2027, 3, 14), NEW_YORK, utc(2027, 3, 14, 10, 0)),
        (dt.date(2027, 11, 7), NEW_YORK, utc(2027, 11, 7, 11, 0)),
        (dt.date(2027, 3, 28), BERLIN, utc(2027, 3, 28, 4, 0)),
        (dt.date(2027, 10, 31), BERLIN, utc(2027, 10, 31, 5, 0)),
    ],
)
def test_a_0600_release_on_a_dst_day_uses_that_morning_offset(day, zone, expected):
    assert release_at(day, "06:00", zone) == expected


def test_releases_around_a_dst_change_come_once_a_day_in_order():
    days = [dt.date(2027, 3, 12) + dt.timedelta(days=n) for n in range(5)]
    releases = [release_at(day, "02:30", NEW_YORK) for day in days]
    assert releases == sorted(set(releases))
    assert [r.astimezone(ZoneInfo(NEW_YORK)).date() for r in releases] == days


def test_a_release_time_in_a_whole_day_gap_happens_at_the_start_of_the_next_day():
    # Samoa skipped 30 December 2011 when it moved across the date line.
    release = release_at(dt.date(2011, 12, 30), "06:00", "Pacific/Apia")
    assert release.astimezone(ZoneInfo("Pacific/Apia")).isoformat() == "2011-12-31T00:00:00+14:00"


# ------------------------------------------------------------------------------------------- due


def test_a_release_for_a_past_date_is_due_at_once():
    assert is_due(release_at(dt.date(2026, 11, 1), "06:00", BERLIN), utc(2026, 12, 10, 9, 0))


def test_a_release_is_due_from_its_instant_on_and_not_before():
    release = release_at(dt.date(2027, 1, 15), "06:00", BERLIN)
    assert not is_due(release, release - dt.timedelta(seconds=1))
    assert is_due(release, release)


def test_due_checks_need_aware_times():
    with pytest.raises(ValueError, match="aware"):
        is_due(utc(2027, 1, 15, 5, 0), dt.datetime(2027, 1, 15, 6, 0))


def test_an_order_dated_today_is_released_at_once_even_before_its_release_time():
    now = utc(2027, 1, 15, 2, 0)  # 03:00 in Berlin
    assert release_due_at(dt.date(2027, 1, 15), "06:00", BERLIN, now) == now
    (order,) = plan(quote(line("L1", delivery_date="2027-01-15")))
    assert not is_due(order.release_at, now)
    assert is_order_due(order, now)


def test_an_order_dated_in_the_past_keeps_its_planned_instant_for_the_sweep():
    now = utc(2027, 1, 20, 12, 0)
    assert release_due_at(dt.date(2027, 1, 15), "06:00", BERLIN, now) == utc(2027, 1, 15, 5, 0)


def test_an_order_dated_tomorrow_waits_for_its_release_time():
    now = utc(2027, 1, 14, 22, 30)  # 23:30 in Berlin, 14:30 in Los Angeles
    assert release_due_at(dt.date(2027, 1, 15), "06:00", BERLIN, now) == utc(2027, 1, 15, 5, 0)
    (order,) = plan(quote(line("L1", delivery_date="2027-01-15")))
    assert not is_order_due(order, now)


def test_today_is_read_in_the_order_zone():
    now = utc(2027, 1, 14, 23, 30)  # already 15 January in Berlin
    assert release_due_at(dt.date(2027, 1, 15), "06:00", BERLIN, now) == now
    assert release_due_at(dt.date(2027, 1, 15), "06:00", NEW_YORK, now) == utc(2027, 1, 15, 11, 0)


def test_only_a_scheduled_order_is_due():
    (order,) = plan(quote(line("L1", delivery_date="2027-01-15")))
    later = utc(2027, 2, 1, 0, 0)
    assert is_order_due(order, later)
    assert not is_order_due(transition(order, "hold"), later)
    assert not is_order_due(transition(order, "release", at=later), later)
