"""storage.sqlite_driver: one trip to aiosqlite's thread per statement, same results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import make_engine
from storage.sqlite_driver import OneTripConnection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'trips.sqlite3'}")
    async with engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER)")
        )
    yield engine
    await engine.dispose()


class Trips:
    """Counts the functions queued to aiosqlite's thread."""

    def __init__(self, conn: Any) -> None:
        self.count = 0
        self._execute = conn._execute

        async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await self._execute(fn, *args, **kwargs)

        conn._execute = counted

    def take(self) -> int:
        count, self.count = self.count, 0
        return count


async def trips_of(conn: AsyncConnection) -> Trips:
    raw = await conn.get_raw_connection()
    assert isinstance(raw.dbapi_connection, OneTripConnection)
    return Trips(raw.driver_connection)


async def test_engine_connections_use_one_trip_cursors(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert type(raw.dbapi_connection) is OneTripConnection


async def test_each_statement_is_one_trip(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        trips = await trips_of(conn)
        await conn.execute(text("INSERT INTO t (name, n) VALUES ('a', 1)"))
        assert trips.take() == 1
        rows = (await conn.execute(text("SELECT name, n FROM t"))).all()
        assert trips.take() == 1
        assert [tuple(r) for r in rows] == [("a", 1)]
        await conn.execute(text("UPDATE t SET n = 2"))
        assert trips.take() == 1


async def test_rowcount_lastrowid_and_columns(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        first = await conn.execute(text("INSERT INTO t (name, n) VALUES ('a', 1)"))
        second = await conn.execute(text("INSERT INTO t (name, n) VALUES ('b', 1)"))
        assert second.lastrowid == first.lastrowid + 1
        updated = await conn.execute(text("UPDATE t SET n = n + 1 WHERE n = 1"))
        assert updated.rowcount == 2
        none = await conn.execute(text("UPDATE t SET n = 0 WHERE name = 'zz'"))
        assert none.rowcount == 0
        returned = await conn.execute(
            text("UPDATE t SET n = 5 WHERE name = :name RETURNING id, n"), {"name": "b"}
        )
        assert list(returned.keys()) == ["id", "n"]
        assert [tuple(r) for r in returned.all()] == [(second.lastrowid, 5)]
        result = await conn.execute(text("SELECT name FROM t ORDER BY name"))
        assert result.fetchmany() == [("a",)]  # no size: one row, as sqlite3 gives
        assert result.fetchall() == [("b",)]
        deleted = await conn.execute(text("DELETE FROM t"))
        assert deleted.rowcount == 2


async def test_many_rows_in_one_statement(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO t (name, n) VALUES (:name, :n)"),
            [{"name": f"x{i}", "n": i} for i in range(50)],
        )
        total = (await conn.execute(text("SELECT count(*), sum(n) FROM t"))).one()
        assert tuple(total) == (50, sum(range(50)))


async def test_errors_are_sqlalchemys_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name, n) VALUES ('a', 1)"))
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (name, n) VALUES ('a', 2)"))
        await conn.rollback()
        await conn.execute(text("INSERT INTO t (name, n) VALUES ('b', 2)"))
        await conn.commit()
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM t"))).scalars().all()
        assert names == ["b"]  # the rolled-back 'a' is gone, 'b' committed


async def test_streamed_results_still_work(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO t (name, n) VALUES (:name, :n)"),
            [{"name": f"x{i:03}", "n": i} for i in range(120)],
        )
        streamed = await conn.stream(text("SELECT n FROM t ORDER BY n"))
        assert [n async for n in streamed.scalars()] == list(range(120))
