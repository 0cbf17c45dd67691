"""storage.sqlite_driver: one trip to aiosqlite's thread per statement, same results; and
SQLAlchemy's own cursor, with a warning, when the internals it relies on are not as
expected."""

from __future__ import annotations

import collections
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_cursor
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util import await_

from domain.messages import IncomingMessage
from handlers.core import Core
from handlers.texts import SORRY
from storage import sqlite_driver
from storage.db import make_engine, make_sessionmaker
from storage.sqlite_driver import OneTripConnection, one_trip_problem
from tests.helpers import warnings_of


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


async def test_an_engine_may_keep_sqlalchemys_cursor(tmp_path: Path) -> None:
    engine = make_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'stock.sqlite3'}", one_trip_cursors=False
    )
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert type(raw.dbapi_connection) is AsyncAdapt_aiosqlite_connection
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()


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


# --- the check of SQLAlchemy's and aiosqlite's internals ----------------------------------


async def test_the_check_passes_on_the_installed_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sqlite_driver, "_verdicts", {})  # checked afresh
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'checked.sqlite3'}")
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(lambda c: one_trip_problem(c.dialect.dbapi)) is None
            raw = await conn.get_raw_connection()
            assert type(raw.dbapi_connection) is OneTripConnection
    finally:
        await engine.dispose()
    assert warnings_of(caplog, "storage.sqlite_driver") == []


def renamed_execute_async(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLAlchemy's cursor runs statements through a coroutine of another name."""
    stock = AsyncAdapt_dbapi_cursor._execute_async

    def execute(self: Any, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._run_statement(operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    monkeypatch.delattr(AsyncAdapt_dbapi_cursor, "_execute_async")
    monkeypatch.setattr(AsyncAdapt_dbapi_cursor, "_run_statement", stock, raising=False)
    monkeypatch.setattr(AsyncAdapt_dbapi_cursor, "execute", execute)


def new_executemany_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLAlchemy's cursor's ``_executemany_async`` takes one more parameter."""
    stock = AsyncAdapt_dbapi_cursor._executemany_async

    async def executemany_async(
        self: Any, operation: Any, seq_of_parameters: Any, batch: int | None = None
    ) -> Any:
        return await stock(self, operation, seq_of_parameters)

    monkeypatch.setattr(AsyncAdapt_dbapi_cursor, "_executemany_async", executemany_async)


def rows_as_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same names and parameters, but SQLAlchemy's cursor hands rows over as lists."""
    stock = AsyncAdapt_dbapi_cursor._execute_async

    async def execute_async(self: Any, operation: Any, parameters: Any) -> Any:
        result = await stock(self, operation, parameters)
        if not self.server_side:
            self._rows = collections.deque(list(row) for row in self._rows)
        return result

    monkeypatch.setattr(AsyncAdapt_dbapi_cursor, "_execute_async", execute_async)


CHANGES: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], str]] = {
    "renamed": (renamed_execute_async, "has no _execute_async"),
    "signature": (new_executemany_parameter, "_executemany_async takes"),
    "behaviour": (rows_as_lists, "through SQLAlchemy's cursor"),
}


@pytest.mark.parametrize("change", list(CHANGES))
async def test_changed_internals_fall_back_to_sqlalchemys_cursor(
    change: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_change, reason = CHANGES[change]
    make_change(monkeypatch)
    monkeypatch.setattr(sqlite_driver, "_verdicts", {})
    for n in range(2):  # two engines: the check is made, and the warning logged, once
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / f'stock{n}.sqlite3'}")
        try:
            async with engine.begin() as conn:
                raw = await conn.get_raw_connection()
                assert type(raw.dbapi_connection) is AsyncAdapt_aiosqlite_connection
                await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
                await conn.execute(
                    text("INSERT INTO t (name) VALUES (:name)"), [{"name": "a"}, {"name": "b"}]
                )
                renamed = await conn.execute(
                    text("UPDATE t SET name = 'c' WHERE name = 'b' RETURNING id")
                )
                assert renamed.scalars().all() == [2]
                names = await conn.execute(text("SELECT name FROM t ORDER BY id"))
                assert names.scalars().all() == ["a", "c"]
        finally:
            await engine.dispose()
    warnings = warnings_of(caplog, "storage.sqlite_driver")
    assert len(warnings) == 1
    assert "SQLAlchemy's own aiosqlite cursor is used instead of OneTripCursor" in warnings[0]
    assert reason in warnings[0]


async def test_the_core_answers_on_sqlalchemys_cursor(
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    renamed_execute_async(monkeypatch)
    monkeypatch.setattr(sqlite_driver, "_verdicts", {})
    shutil.copy(sqlite_template, tmp_path / "dvk.sqlite3")
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'dvk.sqlite3'}")
    try:
        core = Core(make_sessionmaker(engine))
        replies = await core.handle(
            IncomingMessage("terminal", "khach", "khach", text="/start", update_id="1")
        )
    finally:
        await engine.dispose()
    assert replies
    assert "mã mời" in replies[0].text
    assert SORRY not in replies[0].text
    assert len(warnings_of(caplog, "storage.sqlite_driver")) == 1
