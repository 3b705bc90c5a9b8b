"""Past delegation windows are history (issue 12 item 10): only current and future ones are read, and
the prune job deletes windows that ended long ago while their audit rows stay."""

from __future__ import annotations

import datetime as dt

from domain.service import DELEGATIONS_KEPT, Approvals
from store.models import AuditRow, DelegationRow

from .support import NOW

PAST = 5_000


async def past_windows(count: int) -> None:
    """COUNT windows of p01 that all ended before NOW, the oldest years ago."""
    rows = []
    for n in range(count):
        end = NOW.date() - dt.timedelta(days=2 + n % 2_000)
        rows.append(
            DelegationRow(delegator="p01", delegate="p02", start=end - dt.timedelta(days=3), end=end, created_by="p01")
        )
    await DelegationRow.bulk_create(rows, batch_size=1_000)


async def test_the_directory_reads_only_current_and_future_windows_among_thousands_of_past_ones(
    service: Approvals,
) -> None:
    await past_windows(PAST)
    today = NOW.date()
    await service.delegate("p03", "p04", today, today + dt.timedelta(days=2), "p03", NOW)
    await service.delegate("p05", "p06", today + dt.timedelta(days=10), today + dt.timedelta(days=12), "p05", NOW)

    directory = await service.directory(NOW)

    assert sorted((d.delegator, d.delegate) for d in directory.delegations) == [("p03", "p04"), ("p05", "p06")]
    waiting, total = await service.waiting_on("p04", NOW)
    assert (waiting, total) == ([], 0)
    assert len((await service.directory()).delegations) == PAST + 2  # everything, for who asks without a date


async def test_the_prune_job_deletes_long_ended_windows_and_keeps_their_audit(service: Approvals) -> None:
    old_end = (NOW - DELEGATIONS_KEPT).date() - dt.timedelta(days=1)
    recent_end = NOW.date() - dt.timedelta(days=5)
    await service.delegate("p01", "p02", old_end - dt.timedelta(days=3), old_end, "p01", NOW - DELEGATIONS_KEPT * 2)
    # set while it was still to come (a window already over is refused), ended five days ago
    await service.delegate(
        "p03", "p04", recent_end - dt.timedelta(days=3), recent_end, "p03", NOW - dt.timedelta(days=10)
    )
    await past_windows(PAST)
    kept_before = await DelegationRow.filter(end__gte=(NOW - DELEGATIONS_KEPT).date()).count()

    pruned = await service.prune_delegations(NOW)

    assert pruned > 0
    assert await DelegationRow.all().count() == kept_before
    assert await DelegationRow.filter(delegator="p03").count() == 1
    set_rows = await AuditRow.filter(kind="delegation_set").values_list("on_behalf_of", flat=True)
    assert sorted(set_rows) == ["p01", "p03"], "the audit of a pruned window must stay"
    (summary,) = await AuditRow.filter(kind="delegations_pruned").values_list("detail", flat=True)
    assert summary["count"] == pruned
    assert await service.prune_delegations(NOW) == 0  # nothing left to prune, nothing recorded
    assert await AuditRow.filter(kind="delegations_pruned").count() == 1
