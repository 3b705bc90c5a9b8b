"""Benchmark: CRM quote intake through the API (crm-v1 §4), against the floor of JSON parse + one INSERT.

Greenlight: `POST /api/quotes` with a bearer key, served by the real aiohttp app over a DbStore on
SQLite (a fresh migrated file): authentication, strict JSON, quote validation, people resolution,
the stored quote, its version row, its audit row. The floor, in the same run, on the same kind of
database and through the same HTTP client and concurrency: a route that parses the same JSON and
INSERTs it as one row. Both are served at once and take turns: three windows each of 2 s or more
(bench/measure.py), after warm-up requests on both. Prints the median quotes per second of each, the
spread, this process's CPU per quote (client and both servers share it), the ratio and the target
(>= 25% of the floor); asserts nothing about time. It checks that every quote was stored, so the
figures count finished work.

    python bench/crm.py [--quick | --smoke] [--quotes N] [--concurrency N]   (N: quotes per window at most)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from measure import REPEATS, Series, Window, for_a_while, interleaved, sized, target  # noqa: E402

KEY = "bench-key-0123456789abcdef0123456789abcdef"
FLOOR_SHARE = 0.25
FULL, QUICK = 8_000, 4_000  # quotes per window at most (a window ends at 2 s or when they run out)
WARM_UP = sized("crm", "warm_up", 50)
POLICY = """
version: 1
timezone: UTC
fallback_approver: dana
people:
  dana: {slack: U0DANA, email: dana@example.com, crm_id: 005DANA}
"""


def quote(n: int) -> dict[str, Any]:
    return {
        "id": f"Q-B{n:06d}",
        "version": 1,
        "owner": "dana@example.com",
        "currency": "EUR",
        "term_months": 12,
        "net_total": 1200,
        "list_total": 1500,
        "discount_percent": 20,
        "account": {"id": "A-1", "name": "Acme", "timezone": "Europe/Berlin", "ship_to": "Berlin HQ"},
        "lines": [
            {
                "id": f"L{i}",
                "sku": "SW",
                "quantity": 1,
                "list_price": 300,
                "net_price": 240,
                "net_total": 240,
                "recurring": True,
                "delivery_date": "2027-01-15",
            }
            for i in range(1, 6)
        ],
    }


async def measure(per_window: int, concurrency: int) -> dict[str, Series]:
    """Greenlight's intake and the floor's, in turns (3 windows each of 2 s or more, or until the
    window's quotes run out), both served meanwhile in this process beside the client."""
    import aiohttp
    from aiohttp import web
    from tortoise import Tortoise

    from domain.policy import load_policy
    from domain.service import Approvals
    from greenlight.api import create_app
    from greenlight.settings import Settings
    from store import db
    from store.models import QuoteRow
    from store.tx import DbStore
    from tests.support.loopback import served

    numbers = itertools.count()
    pools = {
        name: [[json.dumps(quote(next(numbers))).encode() for _ in range(per_window)] for _ in range(REPEATS)]
        for name in ("greenlight", "floor")
    }
    warm = [json.dumps(quote(next(numbers))).encode() for _ in range(WARM_UP)]
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    with tempfile.TemporaryDirectory() as folder:
        await db.connect(f"sqlite://{folder}/bench.db")
        try:
            connection = Tortoise.get_connection("default")
            await connection.execute_script("CREATE TABLE floor (id TEXT PRIMARY KEY, data TEXT NOT NULL)")

            async def floor(request: web.Request) -> web.Response:
                data = json.loads(await request.read())
                await connection.execute_query(
                    "INSERT INTO floor (id, data) VALUES (?, ?)", [data["id"], json.dumps(data)]
                )
                return web.json_response({"quote": data["id"]})

            bare = web.Application(client_max_size=1024 * 1024)
            bare.router.add_post("/floor", floor)
            service = Approvals(load_policy(POLICY, "bench"), DbStore())
            settings = Settings(api_keys=f"bench={KEY}")  # type: ignore[arg-type]

            async def healthy() -> bool:
                return True

            app = create_app(service=service, settings=settings, health=healthy)
            async with served(app) as api, served(bare) as plain, aiohttp.ClientSession() as session:
                urls = {"greenlight": api + "/api/quotes", "floor": plain + "/floor"}

                def poster(name: str) -> Any:
                    async def post(body: bytes) -> None:
                        async with session.post(urls[name], data=body, headers=headers) as response:
                            await response.read()
                            if response.status != 200:
                                raise SystemExit(f"{urls[name]} answered {response.status}: {await response.text()}")

                    return post

                for name in urls:  # warm-up: both servers, the same quotes (the floor stores them too)
                    for body in warm:
                        await poster(name)(body)

                def window(name: str) -> Any:
                    async def run() -> Window:
                        return await for_a_while(iter(pools[name].pop(0)), concurrency, poster(name))

                    return run

                series = await interleaved({name: window(name) for name in urls})
            stored = await QuoteRow.all().count()
            expected = WARM_UP + sum(w.ops for w in series["greenlight"].windows)
            assert stored == expected, f"{stored} of {expected} quotes stored"
            rows = await connection.execute_query_dict("SELECT COUNT(*) AS n FROM floor")
            assert rows[0]["n"] == WARM_UP + sum(w.ops for w in series["floor"].windows), "a floor INSERT is missing"
        finally:
            await db.close()
    return series


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="a few quotes: does it still run (bench/measure.py)")
    parser.add_argument("--quotes", type=int)
    parser.add_argument("--concurrency", type=int, default=sized("crm", "concurrency", 8))
    args = parser.parse_args()
    per_window = args.quotes or sized("crm", "quotes", QUICK if args.quick else FULL)
    series = asyncio.run(measure(per_window, args.concurrency))
    rate, floor = series["greenlight"].rate, series["floor"].rate
    share = rate / floor
    print(
        f"CRM intake, {per_window} quotes of 5 lines per window at most, {args.concurrency} in flight, SQLite, "
        f"bearer key; {REPEATS} interleaved windows each"
    )
    series["greenlight"].name = "Greenlight POST /api/quotes"
    series["floor"].name = "floor (JSON parse + INSERT)"
    for each in series.values():
        print(each.line("quotes", width=30))
    print(f"  ratio: {share:.1%} of the floor")
    target(
        f"CRM intake >= {FLOOR_SHARE:.0%} of the floor (JSON parse + INSERT)",
        share >= FLOOR_SHARE,
        f"{share:.0%}: {rate:,.0f} vs {floor:,.0f} quotes/s",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
