"""The pure parts of the insights: durations as people read them, nearest ranks, bottlenecks, text and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from domain.insights import NONE, Insights, RuleStats, Spread, bottlenecks, csv_text, duration, rank, text
from notifications.pages import redact

NOW = dt.datetime(2026, 11, 7, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (None, "-"),
        (0, "0 s"),
        (45, "45 s"),
        (60, "1 min"),
        (3 * 3600 + 600, "3 h 10 min"),
        (3 * 3600 + 629, "3 h 10 min"),
        (7200, "2 h"),
        (2 * 86400 + 4 * 3600 + 59, "2 d 4 h"),
        (86400, "1 d"),
    ],
)
def test_a_duration_reads_as_people_say_it(seconds: int | None, words: str) -> None:
    assert duration(seconds) == words


@pytest.mark.parametrize(
    ("count", "percent", "expected"), [(1, 50, 1), (4, 50, 2), (5, 50, 3), (10, 90, 9), (11, 90, 10)]
)
def test_nearest_rank(count: int, percent: int, expected: int) -> None:
    assert rank(count, percent) == expected


def test_a_delegate_holds_the_queue_of_whoever_is_away() -> None:
    queues = {"vera": (3, 1, 200_000), "mike": (2, 0, 3600)}
    speed = {"mike": Spread(4, 7200, 9000)}
    loads = {b.person: b for b in bottlenecks(queues, speed, {"vera": ["dana"]})}
    assert loads["vera"].away and loads["vera"].delegate == "dana"
    assert loads["dana"].standing_in_for == ("vera",)
    assert loads["dana"].queue_with_delegations == 3
    assert bottlenecks(queues, speed, {"vera": ["dana"]})[0].person == "vera"  # the stuck one first


def report() -> Insights:
    return Insights(
        since=None,
        until=None,
        now=NOW,
        stuck_after=48 * 3600,
        submissions={"approved": 2, "rejected": 1},
        cycle=Spread(3, 11400, 21600),
        cycle_by_week={"2026-11-02": Spread(3, 11400, 21600)},
        cycle_by_rep={"rep": Spread(3, 11400, 21600)},
        waiting=Spread(2, 3600, 18000),
        waiting_by_week={},
        waiting_by_chain={},
        waiting_by_step={},
        waiting_by_approver={"mike": Spread(2, 3600, 18000)},
        rules=[RuleStats("vp-deep-discount", "commercial", 2, 2, 1, 1, 0, 0, 0, NONE)],
        open_by_age={"under 4 h": 0},
        stuck=[],
        stuck_count=0,
        open_count=0,
        bottlenecks=[],
        reminders=1,
        escalations=0,
        carried=1,
        decisions_via={"slack": 2, "email": 1},
    )


def test_the_text_report_says_each_figure_in_words() -> None:
    shown = text(report())
    assert "Cycle time (submitted to decided): median 3 h 10 min, p90 6 h (3)" in shown
    assert "vp-deep-discount (commercial step 2): 2 asked, 1 approved, 1 rejected (50%)" in shown
    assert "Decisions: 2 in Slack, 1 by email" in shown


def test_the_csv_report_has_one_row_per_figure() -> None:
    rows = list(csv.DictReader(io.StringIO(csv_text(report()))))
    cycle = next(r for r in rows if r["section"] == "cycle")
    assert (cycle["key"], cycle["count"], cycle["median_seconds"], cycle["p90_seconds"]) == (
        "all",
        "3",
        "11400",
        "21600",
    )
    rate = next(r for r in rows if r["section"] == "rejection_rate_by_rule")
    assert (rate["key"], rate["value"]) == ("vp-deep-discount", "0.5000")


def test_chart_links_are_kept_out_of_the_access_log() -> None:
    assert redact("/insights/i1.eyJwIjoi.c2ln") == "/insights/<token>"
