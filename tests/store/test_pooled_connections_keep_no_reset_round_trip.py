"""PostgreSQL: a pooled connection given back is not reset with a query of its own (store/db.py,
`keep_session`), which was a round trip after every statement outside a transaction; a transaction
left open on it is still rolled back (asyncpg does that before calling the reset)."""

from __future__ import annotations

import pytest
from tortoise import Tortoise

from store.models import RequestKeyRow
from tests.support.postgres import backend

pytestmark = pytest.mark.skipif(backend() != "postgres", reason="asyncpg's connection pool")


async def test_a_statement_outside_a_transaction_is_not_followed_by_reset_all(connected: str) -> None:
    db = Tortoise.get_connection("default")
    await db.execute_query("SET application_name = 'greenlight-kept'")
    try:
        # one connection in the pool while nothing else runs: RESET ALL on its way back would
        # have put the name back to the pool's
        rows = await db.execute_query_dict("SHOW application_name")
        assert rows[0]["application_name"] == "greenlight-kept"
    finally:
        await db.execute_query("RESET application_name")


async def test_a_transaction_left_open_on_a_connection_given_back_is_rolled_back(connected: str) -> None:
    pool = Tortoise.get_connection("default")._pool
    connection = await pool.acquire()
    await connection.execute("BEGIN")
    await connection.execute("INSERT INTO request_key (key, answer, created_at) VALUES ('left-open', '{}', now())")
    await pool.release(connection)

    assert await RequestKeyRow.filter(key="left-open").count() == 0
    again = await pool.acquire()
    try:
        assert not again.is_in_transaction()
    finally:
        await pool.release(again)
