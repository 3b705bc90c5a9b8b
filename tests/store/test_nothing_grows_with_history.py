"""Issue 16 item 1: what a request reads does not grow with history.

The directory (windows not yet ended, replacements) is reused while `directory_version` stands and
read again as soon as any writer changes a delegation or a replacement (another process, a script);
a decision leaves the quote's snapshot as it was submitted; App Home reads one page of what waits
on a person, and counts the rest in the database.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from tortoise import Tortoise

from domain.amounts import Amount
from domain.quote import parse_quote
from domain.service import Approvals
from store.models import SubmissionRow, SubmissionSnapshotRow
from store.tx import DbStore
from tests.support.quotes import one_line_quote

from .support import DESK_RULE, NOW, PANEL_RULE


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements tortoise sends while the block runs (BEGIN and COMMIT are not logged)."""
    sent: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            sent.append(str(record.msg % record.args if record.args else record.msg))

    logger, handler = logging.getLogger("tortoise.db_client"), Keep(logging.DEBUG)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield sent
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def delegation_reads(sent: list[str]) -> list[str]:
    return [s for s in sent if s.startswith("SELECT") and 'FROM "delegation"' in s]


async def submit(service: Approvals, quote_id: str) -> None:
    await service.receive_quote(parse_quote(one_line_quote(quote_id)), NOW)
    await service.submit(quote_id, None, NOW)


async def test_an_unchanged_directory_is_not_read_again(service: Approvals) -> None:
    today = NOW.date()
    await service.delegate("p01", "p02", today, today + dt.timedelta(days=2), "p01", NOW)
    first = await service.directory(NOW)

    with statements() as sent:
        again = await service.directory(NOW)

    assert again == first
    assert delegation_reads(sent) == []
    assert [(d.delegator, d.delegate) for d in again.delegations] == [("p01", "p02")]


async def test_a_delegation_set_by_another_process_is_seen_by_the_next_transaction(policy, connected: str) -> None:
    here, there = Approvals(policy, DbStore()), Approvals(policy, DbStore())
    today = NOW.date()
    assert (await here.directory(NOW)).delegations == []

    await there.delegate("p03", "p04", today, today + dt.timedelta(days=1), "p03", NOW)

    assert [(d.delegator, d.delegate) for d in (await here.directory(NOW)).delegations] == [("p03", "p04")]
    await there.replace("p05", "p06", "dana", NOW)
    assert (await here.directory(NOW)).replacements == {"p05": "p06"}


async def test_a_window_written_by_a_script_outside_greenlight_is_seen_too(service: Approvals) -> None:
    assert (await service.directory(NOW)).delegations == []
    connection = Tortoise.get_connection("default")
    mark = "?" if connection.capabilities.dialect == "sqlite" else "$1"
    await connection.execute_query(
        'INSERT INTO "delegation" ("delegator", "delegate", "start", "end", "created_by", "created_at") '
        f"VALUES ('p07', 'p08', {mark}, {mark.replace('1', '2')}, 'ops', {mark.replace('1', '3')})",
        [NOW.date(), NOW.date(), NOW],
    )

    assert [(d.delegator, d.delegate) for d in (await service.directory(NOW)).delegations] == [("p07", "p08")]


async def test_a_decision_leaves_the_snapshot_as_it_was_submitted(service: Approvals) -> None:
    await submit(service, "Q-7001")
    before = await SubmissionRow.get(quote_id="Q-7001")
    kept, version = await SubmissionSnapshotRow.get(submission_id=before.id), await row_version(before.id)

    await service.decide("Q-7001", PANEL_RULE, "p01", "approve", NOW)
    await service.decide("Q-7001", DESK_RULE, "dana", "approve", NOW)

    after = await SubmissionRow.get(quote_id="Q-7001")
    assert (after.status, after.revision) == ("approved", before.revision + 2)
    again = await SubmissionSnapshotRow.get(submission_id=after.id)
    assert (again.heading, again.snapshot) == (kept.heading, kept.snapshot)
    assert await row_version(after.id) == version, "the snapshot's row was written again"
    assert kept.snapshot == parse_quote(one_line_quote("Q-7001")).data
    assert kept.heading == {k: v for k, v in kept.snapshot.items() if k != "lines"}
    assert "snapshot" not in after.state, "the state document must not carry the snapshot again"


async def row_version(submission_id: int) -> str | None:
    """The transaction that last wrote the submission's snapshot row, on PostgreSQL (`xmin`)."""
    connection = Tortoise.get_connection("default")
    if connection.capabilities.dialect != "postgres":
        return None
    rows = await connection.execute_query_dict(
        'SELECT xmin::text AS v FROM "submission_snapshot" WHERE "submission_id" = $1', [submission_id]
    )
    return str(rows[0]["v"])


async def legacy(row: SubmissionRow) -> dict[str, Any]:
    """Make ROW as rows were stored before migration 0011 (after 0014: the snapshot inside the state
    document only, no snapshot row); its snapshot."""
    kept = await SubmissionSnapshotRow.get(submission_id=row.id)
    await SubmissionRow.filter(id=row.id).update(state={**row.state, "snapshot": kept.snapshot})
    await SubmissionSnapshotRow.filter(submission_id=row.id).delete()
    return kept.snapshot


async def test_a_submission_stored_before_the_snapshot_table_keeps_its_snapshot(service: Approvals) -> None:
    await submit(service, "Q-7002")
    row = await SubmissionRow.get(quote_id="Q-7002")
    snapshot = await legacy(row)

    assert (await service.latest("Q-7002")).snapshot == snapshot  # type: ignore[union-attr]
    await service.decide("Q-7002", PANEL_RULE, "p01", "approve", NOW)

    moved = await SubmissionSnapshotRow.get(submission_id=row.id)
    assert moved.snapshot == snapshot
    assert moved.heading == {k: v for k, v in snapshot.items() if k != "lines"}
    assert "snapshot" not in (await SubmissionRow.get(id=row.id)).state
    assert (await service.latest("Q-7002")).snapshot == snapshot  # type: ignore[union-attr]
    await service.decide("Q-7002", DESK_RULE, "dana", "approve", NOW)  # moved once: no second row to insert
    again = await SubmissionSnapshotRow.get(submission_id=row.id)
    assert (again.heading, again.snapshot) == (moved.heading, moved.snapshot)


async def test_app_home_reads_one_page_of_what_waits_and_counts_the_rest(service: Approvals) -> None:
    quotes = [f"Q-71{i:02d}" for i in range(7)]
    for minute, quote_id in enumerate(quotes):
        await service.receive_quote(parse_quote(one_line_quote(quote_id)), NOW)
        await service.submit(quote_id, None, NOW + dt.timedelta(minutes=minute))

    first, total = await service.waiting_on("p09", NOW, limit=3)
    second, again = await service.waiting_on("p09", NOW, limit=3, offset=3)
    last, _ = await service.waiting_on("p09", NOW, limit=3, offset=6)

    assert (total, again) == (7, 7)
    assert [sub.quote_id for sub, _ in first] == quotes[:3]
    assert [sub.quote_id for sub, _ in second] == quotes[3:6]
    assert [sub.quote_id for sub, _ in last] == quotes[6:]
    assert {rule for _, rule in first + second + last} == {PANEL_RULE}


async def test_your_quotes_shows_the_latest_submission_of_each_quote(service: Approvals) -> None:
    await submit(service, "Q-7201")
    await submit(service, "Q-7202")
    await service.recall("Q-7201", "rep", NOW)
    await service.submit("Q-7201", None, NOW + dt.timedelta(minutes=5))

    shown = await service.quotes_of("rep")

    assert [(s.quote_id, s.number, s.status) for s in shown] == [("Q-7201", 2, "pending"), ("Q-7202", 1, "pending")]


async def test_a_list_of_quotes_reads_their_headings_without_the_lines(service: Approvals) -> None:
    data = one_line_quote("Q-7301", net_total=Amount("28500.00"), list_total=30000, discount_percent=Amount("5.0000"))
    data["lines"] = [{**data["lines"][0], "id": f"L{n}"} for n in range(1, 4)]
    await service.receive_quote(parse_quote(data), NOW)
    await service.submit("Q-7301", None, NOW)
    row = await SubmissionSnapshotRow.get(submission__quote_id="Q-7301")
    await submit(service, "Q-7302")
    old = await legacy(await SubmissionRow.get(quote_id="Q-7302"))  # its snapshot kept in the state, as before 0011
    await submit(service, "Q-7303")
    before_0012 = await SubmissionSnapshotRow.get(submission__quote_id="Q-7303")  # a snapshot, no heading yet
    await SubmissionSnapshotRow.filter(submission_id=before_0012.submission_id).update(heading=None)

    listed = {sub.quote_id: sub for sub in await service.quotes_of("rep")}
    waiting, _ = await service.waiting_on("p09", NOW)

    heading = listed["Q-7301"].heading()
    assert "lines" not in heading
    assert heading == {key: value for key, value in row.snapshot.items() if key != "lines"}
    assert [repr(heading[k]) for k in ("net_total", "discount_percent")] == ["28500.00", "5.0000"], "digits kept"
    with pytest.raises(LookupError, match="Q-7301#1 was read for a list, without its snapshot"):
        listed["Q-7301"].snapshot  # noqa: B018 (a list does not read the snapshot)
    assert (await service.latest("Q-7301")).snapshot == row.snapshot  # type: ignore[union-attr]
    assert row.heading == heading, "written with the submission"
    assert listed["Q-7302"].heading() == {k: v for k, v in old.items() if k != "lines"}
    assert listed["Q-7302"].snapshot == old, "kept in the state: read with it"
    assert listed["Q-7303"].heading() == {k: v for k, v in before_0012.snapshot.items() if k != "lines"}
    assert {sub.quote_id: sub.heading() for sub, _ in waiting} == {q: s.heading() for q, s in listed.items()}


async def test_one_submission_of_a_quote_is_read_alone_whatever_came_before(service: Approvals) -> None:
    """`Approvals.submission` (a request's Details, an email, the Slack fallback) read every
    submission the quote ever had, snapshots decoded, to return one."""
    await submit(service, "Q-7401")
    for _ in range(30):  # recalled and submitted again: 31 submissions
        await service.recall("Q-7401", "rep", NOW)
        await service.submit("Q-7401", None, NOW)

    with statements() as sent:
        first, middle, last = [await service.submission("Q-7401", n) for n in (1, 16, 31)]
    missing = await service.submission("Q-7401", 32)

    assert [(s.number, s.status) for s in (first, middle, last) if s] == [
        (1, "recalled"),
        (16, "recalled"),
        (31, "pending"),
    ]
    assert last is not None and last.snapshot["id"] == "Q-7401"  # read with its snapshot
    assert missing is None
    reads = [s for s in sent if s.lstrip().startswith("SELECT") and re.search(r'FROM "?submission"?\s', s)]
    # each read names its one submission (store.submissions: the refs as a JSON list), not the quote
    assert len(reads) == 3 and all("json_each" in s or "jsonb_array_elements" in s for s in reads), reads
