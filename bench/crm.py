"""Benchmark: CRM quote intake through the API (crm-v1 §4), against the floor of JSON parse + one INSERT.

Greenlight: `POST /api/quotes` with a bearer key, served by the real aiohttp app over a DbStore on
SQLite (a fresh migrated file): authentication, strict JSON, quote validation, people resolution,
the stored quote, its version row, its audit row. The floor, in the same run, on the same kind of
database and through the same HTTP client and concurrency: a route that parses the same JSON and
INSERTs it as one row. Prints quotes per second for both, the ratio and the target (>= 25% of the
floor); asserts nothing about time. It checks that every quote was stored, so the figures count
finished work.

    python bench/crm.py [--quick | --smoke] [--quotes N] [--concurrency N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from measure import sized, target  # noqa: E402

KEY = "bench-key-0123456789abcdef0123456789abcdef"
FLOOR_SHARE = 0.25
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


async def drive(url: str, bodies: list[bytes], concurrency: int) -> float:
    import aiohttp

    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    queue = list(reversed(bodies))
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise SystemExit(f"{url} answered {response.status}: {await response.text()}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


async def measure(count: int, concurrency: int) -> tuple[float, float]:
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

    bodies = [json.dumps(quote(n)).encode() for n in range(count)]
    with tempfile.TemporaryDirectory() as folder:
        await db.connect(f"sqlite://{folder}/bench.db")
        try:
            policy = load_policy(POLICY, "bench")

            async def healthy() -> bool:
                return True

            settings = Settings(api_keys=f"bench={KEY}")  # type: ignore[arg-type]
            app = create_app(service=Approvals(policy, DbStore()), settings=settings, health=healthy)
            async with served(app) as url:
                took = await drive(url + "/api/quotes", bodies, concurrency)
            stored = await QuoteRow.all().count()
            assert stored == count, f"{stored} of {count} quotes stored"

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
            async with served(bare) as url:
                floor_took = await drive(url + "/floor", bodies, concurrency)
            rows = await connection.execute_query_dict("SELECT COUNT(*) AS n FROM floor")
            assert rows[0]["n"] == count
        finally:
            await db.close()
    return count / took, count / floor_took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="a few quotes: does it still run (bench/measure.py)")
    parser.add_argument("--quotes", type=int)
    parser.add_argument("--concurrency", type=int, default=sized("crm", "concurrency", 8))
    args = parser.parse_args()
    count = args.quotes or sized("crm", "quotes", 1_000 if args.quick else 5_000)
    rate, floor = asyncio.run(measure(count, args.concurrency))
    share = rate / floor
    print(f"CRM intake, {count} quotes of 5 lines, {args.concurrency} in flight, SQLite, bearer key")
    print(f"  Greenlight POST /api/quotes : {rate:8.0f} quotes/s")
    print(f"  floor (JSON parse + INSERT) : {floor:8.0f} quotes/s")
    print(f"  ratio                       : {share:8.1%}")
    target(
        f"CRM intake >= {FLOOR_SHARE:.0%} of the floor (JSON parse + INSERT)",
        share >= FLOOR_SHARE,
        f"{share:.0%}: {rate:,.0f} vs {floor:,.0f} quotes/s",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
