"""The connection pool: sized for the messages handled at once, opened before the first."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from storage.db import BACKGROUND_CONNECTIONS, is_sqlite, make_engine, open_connections


def pool_size(engine: AsyncEngine) -> int:
    assert isinstance(engine.pool, QueuePool)
    return engine.pool.size()


def test_a_postgresql_pool_keeps_a_connection_per_message_at_once(db_url: str) -> None:
    # SQLite has one writer at a time: one connection, whatever the concurrency.
    one = is_sqlite(db_url)
    for concurrency in (8, 20):
        expected = 1 if one else concurrency + BACKGROUND_CONNECTIONS
        assert pool_size(make_engine(db_url, concurrency=concurrency)) == expected
    assert pool_size(make_engine(db_url, concurrency=1)) == (1 if one else 5)  # the least


async def test_open_connections_leaves_them_in_the_pool(db_url: str) -> None:
    engine = make_engine(db_url, concurrency=8)
    try:
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool.checkedin() == 0
        expected = 1 if is_sqlite(db_url) else 8
        assert await open_connections(engine, 8) == expected
        assert (engine.pool.checkedin(), engine.pool.checkedout()) == (expected, 0)
        # Asked again, nothing more is opened.
        assert await open_connections(engine, 8) == expected
        # Never more than the pool keeps (the rest would be closed on return).
        assert await open_connections(engine, 50) == engine.pool.size()
    finally:
        await engine.dispose()
