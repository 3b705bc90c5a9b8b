"""One of the processes of test_two_processes: approve the same quotes as the other process.

    python race_worker.py DATABASE_URL POLICY_FILE PERSON QUOTE_ID...

Connects (without migrating: the test did), prints `ready`, waits for a line on stdin (the
barrier: the test releases every worker at once), approves each quote's panel-review as PERSON
with a few decisions in flight at a time, and prints one JSON object: quote id -> [outcome, detail]
where outcome is `won` (the events' kinds), `stale` (the refusal), `exhausted` or `error`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from typing import Any

from domain.errors import StaleRequest
from domain.policy import read_policy
from domain.service import Approvals, ConcurrentChange
from store import db
from store.tx import DbStore

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
IN_FLIGHT = 8
RULE = "panel-review"


async def main(url: str, policy_file: str, person: str, quotes: list[str]) -> int:
    service = Approvals(read_policy(policy_file), DbStore())
    await db.connect(url, apply_migrations=False)
    try:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        slots = asyncio.Semaphore(IN_FLIGHT)
        outcomes: dict[str, list[Any]] = {}

        async def approve(quote_id: str) -> None:
            async with slots:
                try:
                    events = await service.decide(quote_id, RULE, person, "approve", NOW)
                    outcomes[quote_id] = ["won", [e.kind for e in events]]
                except ConcurrentChange as error:
                    outcomes[quote_id] = ["exhausted", str(error)]
                except StaleRequest as error:
                    outcomes[quote_id] = ["stale", str(error)]
                except Exception as error:
                    outcomes[quote_id] = ["error", f"{error.__class__.__name__}: {error}"]

        await asyncio.gather(*(approve(quote_id) for quote_id in quotes))
    finally:
        await db.close()
    print(json.dumps(outcomes), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])))
