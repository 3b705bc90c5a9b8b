"""Benchmark: what App Home reads for a person (their directory and what waits on them) as past
delegation windows pile up (issue 12 item 10). The floor is the same read with no past window.

Migrates a SQLite file, adds N windows that all ended before now (never deleted before the prune
job existed), then times `Approvals.directory(now)` + `Approvals.waiting_on(...)` and, for
comparison, the unbounded `Approvals.directory()`. Asserts nothing.

    python bench/delegations.py [--quick | --smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from measure import sized  # noqa: E402

from domain.policy import load_policy  # noqa: E402
from domain.service import Approvals  # noqa: E402
from store import db  # noqa: E402
from store.models import DelegationRow  # noqa: E402
from store.tx import DbStore  # noqa: E402

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
POLICY = """
version: 1
timezone: UTC
admins: [dana]
fallback_approver: dana
people:
  dana: {slack: U0DANA}
  p01: {slack: U0P01}
  p02: {slack: U0P02}
"""


async def timed(run: object, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        await run()  # type: ignore[operator]
        out.append((time.perf_counter() - start) * 1000)
    return out


async def measure(past: int, rounds: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite://{Path(folder) / 'bench.db'}"
        await db.connect(url)
        try:
            service = Approvals(load_policy(POLICY, "bench policy"), DbStore())
            rows = [
                DelegationRow(
                    delegator="p01",
                    delegate="p02",
                    start=NOW.date() - dt.timedelta(days=3 + n % 3000),
                    end=NOW.date() - dt.timedelta(days=2 + n % 3000),
                    created_by="p01",
                )
                for n in range(past)
            ]
            await DelegationRow.bulk_create(rows, batch_size=1000)

            async def home() -> None:
                await service.directory(NOW)
                await service.waiting_on("p02", NOW)

            async def everything() -> None:
                await service.directory()

            bounded = statistics.median(await timed(home, rounds))
            unbounded = statistics.median(await timed(everything, max(3, rounds // 5)))
            return bounded, unbounded
        finally:
            await db.close()


async def main(quick: bool) -> None:
    rounds = sized("delegations", "rounds", 10 if quick else 40)
    print(f"delegations benchmark (SQLite): App Home's reads with past delegation windows, {rounds} rounds")
    floor, _ = await measure(0, rounds)
    print(f"  floor (no past window):   directory(now)+waiting_on median {floor:8.2f} ms")
    for past in sized("delegations", "past", (5_000, 8_000)):
        bounded, unbounded = await measure(past, rounds)
        print(
            f"  {past:,} past windows:     directory(now)+waiting_on median {bounded:8.2f} ms "
            f"({bounded / floor:.1f}x floor) · every window read: {unbounded:8.2f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="a few windows: does it still run (bench/measure.py)")
    asyncio.run(main(parser.parse_args().quick))
