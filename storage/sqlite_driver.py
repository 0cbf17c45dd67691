"""SQLite statements in one trip to aiosqlite's thread instead of three or four.

aiosqlite runs the sqlite3 connection in a thread of its own; every call on it is a trip:
queued to the thread, run there, its result handed back to the event loop through the
loop's self-pipe. SQLAlchemy's adapter makes a trip for each DB-API step of a statement:
open a cursor, execute, fetch the rows, close the cursor. A message of the registration
flow runs three statements and a commit, so about thirteen trips, each costing the loop a
wake-up and the two threads a hand-over of the GIL.

``OneTripCursor`` does the four steps in one function on the thread and keeps what
SQLAlchemy reads afterwards (description, rowcount, lastrowid, rows) as plain values:
one trip per statement. It is put under the connections of an SQLite engine by
``use_one_trip_cursors`` (``storage.db.make_engine``); results streamed with
``session.stream`` keep aiosqlite's server-side cursor. Measured against SQLAlchemy's own
cursor by ``bench/bench_internals.py``: see the README.

It subclasses SQLAlchemy's private adapter cursor and reaches into aiosqlite's private
queue, so before the first connection uses it, ``one_trip_problem`` checks those internals
on the installed versions (names, parameters, and the same statements run through both
cursors on an in-memory database); when they are not as expected, SQLAlchemy's own cursor
is used (same results, slower) and one warning says why.
"""

from __future__ import annotations

import collections
import inspect
import logging
import sqlite3
from collections.abc import Callable, Sequence
from importlib.metadata import version
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.util import EMPTY_DICT, await_

log = logging.getLogger(__name__)

Description = tuple[tuple[Any, ...], ...] | None


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement runs, is fetched and closed in one trip."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No cursor is opened here (that would be a trip of its own): each statement opens
        # and closes one on aiosqlite's thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Description = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1  # sqlite3's default: what fetchmany() without a size returns

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        raise NotImplementedError("fetchmany() sizes are given per call here")

    async def _async_soft_close(self) -> None:
        """Nothing is open between trips: the thread closed the cursor already."""

    def close(self) -> None:
        self._rows.clear()

    async def _trip(self, statement: Callable[[sqlite3.Cursor], object]) -> Any:
        """Open a cursor, run ``statement`` on it, read its rows and close it: all on
        aiosqlite's thread, through its own queue (``Connection._execute``), in one trip."""
        conn = self._connection

        def work() -> tuple[Description, int, int | None, list[Any]]:
            cursor = conn._conn.cursor()
            try:
                statement(cursor)
                # Rows first: with RETURNING, sqlite3 counts the rows only once they are read.
                rows = cursor.fetchall() if cursor.description else []
                return cursor.description, cursor.rowcount, cursor.lastrowid, rows
            finally:
                cursor.close()

        async with self._adapt_connection._execute_mutex:
            self._description, self._rowcount, self._lastrowid, rows = await conn._execute(work)
        self._rows = collections.deque(rows)
        return self

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        if parameters is None:
            return await self._trip(lambda cursor: cursor.execute(operation))
        return await self._trip(lambda cursor: cursor.execute(operation, parameters))

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        return await self._trip(lambda cursor: cursor.executemany(operation, seq_of_parameters))


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection, handing out ``OneTripCursor``s."""

    __slots__ = ()
    _cursor_cls: type[AsyncAdapt_aiosqlite_cursor] = OneTripCursor


# What OneTripCursor takes over from SQLAlchemy's cursor, with the parameters SQLAlchemy calls
# them with; the slots of SQLAlchemy's cursor it fills itself; what it uses of aiosqlite's
# connection (its queue to the thread, and the sqlite3 connection on that thread).
OVERRIDDEN = {
    "__init__": ("self", "adapt_connection"),
    "_execute_async": ("self", "operation", "parameters"),
    "_executemany_async": ("self", "operation", "seq_of_parameters"),
    "_async_soft_close": ("self",),
    "close": ("self",),
}
CURSOR_SLOTS = frozenset({"_adapt_connection", "_connection", "_rows", "_soft_closed_memoized"})
AIOSQLITE_USED = ("_execute", "_conn")

# Statements whose every outcome SQLAlchemy reads (description, rowcount, lastrowid, rows),
# for both cursors to run: a table, one row, many rows, RETURNING, a query, a delete.
PROBE: tuple[tuple[str, Any], ...] = (
    ("CREATE TABLE probe (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER)", None),
    ("INSERT INTO probe (name, n) VALUES (?, ?)", ("a", 1)),
    ("INSERT INTO probe (name, n) VALUES (?, ?)", [("b", 2), ("c", 3)]),
    ("UPDATE probe SET n = n + 1 WHERE n > ? RETURNING id, n", (1,)),
    ("SELECT id, name, n FROM probe ORDER BY id", None),
    ("DELETE FROM probe WHERE n > ?", (3,)),
)


def _run_probe(dbapi: Any, one_trip: bool) -> list[Any]:
    """What SQLAlchemy would see of ``PROBE`` on a fresh in-memory database, through
    SQLAlchemy's cursor or (``one_trip``) through ``OneTripCursor``. Called in SQLAlchemy's
    greenlet, like the DB-API calls of an engine."""
    connection = dbapi.connect(":memory:")
    seen: list[Any] = []
    try:
        if one_trip:
            connection.__class__ = OneTripConnection
        for statement, parameters in PROBE:
            cursor = connection.cursor()
            if isinstance(parameters, list):
                cursor.executemany(statement, parameters)
            else:
                cursor.execute(statement, parameters)
            first = cursor.fetchone()
            await_(cursor._async_soft_close())  # as SQLAlchemy does before buffering the rest
            seen.append(
                (cursor.description, cursor.rowcount, cursor.lastrowid, first, cursor.fetchall())
            )
            cursor.close()
        cursor = connection.cursor()
        try:
            cursor.execute(*PROBE[1])  # the unique name again
            seen.append("no error")
        except dbapi.IntegrityError as err:
            seen.append(type(err))
        cursor.close()
        connection.rollback()
    finally:
        connection.close()
    return seen


def one_trip_problem(dbapi: Any) -> str | None:
    """Why ``OneTripCursor`` would not stand in for SQLAlchemy's aiosqlite cursor with the
    installed SQLAlchemy and aiosqlite, or None. ``dbapi``: SQLAlchemy's aiosqlite module
    adapter (a connection's ``.dbapi``). Runs in SQLAlchemy's greenlet."""
    for name, expected in OVERRIDDEN.items():
        stock = getattr(AsyncAdapt_aiosqlite_cursor, name, None)
        if stock is None:
            return f"SQLAlchemy's aiosqlite cursor has no {name}"
        parameters = tuple(inspect.signature(stock).parameters)
        if parameters != expected:
            return f"SQLAlchemy's aiosqlite cursor's {name} takes {parameters}, not {expected}"
    slots = {
        s for cls in AsyncAdapt_aiosqlite_cursor.__mro__ for s in getattr(cls, "__slots__", ())
    }
    if missing := sorted(CURSOR_SLOTS - slots):
        return f"SQLAlchemy's aiosqlite cursor has no {', '.join(missing)}"
    if missing := [name for name in AIOSQLITE_USED if not hasattr(aiosqlite.Connection, name)]:
        return f"aiosqlite's Connection has no {', '.join(missing)}"
    try:
        stock_seen, one_trip_seen = _run_probe(dbapi, False), _run_probe(dbapi, True)
    except Exception as err:  # whatever changed internals raise is the reason
        return f"running statements through it failed: {type(err).__name__}: {err}"
    statements = [statement for statement, _ in PROBE] + ["a duplicate INSERT"]
    for statement, stock_outcome, one_trip_outcome in zip(
        statements, stock_seen, one_trip_seen, strict=True
    ):
        if stock_outcome != one_trip_outcome:
            return (
                f"{statement!r} gave {one_trip_outcome!r} through it and {stock_outcome!r} "
                "through SQLAlchemy's cursor"
            )
    return None


_verdicts: dict[type, bool] = {}  # per connection class: is OneTripCursor used under it


def use_one_trip_cursors(dbapi_connection: Any) -> None:
    """Called on each new connection of an SQLite engine (its ``connect`` event): switches it
    to ``OneTripCursor`` when the check (made once per process) passes."""
    kind = type(dbapi_connection)
    if kind not in _verdicts:
        problem = (
            one_trip_problem(dbapi_connection.dbapi)
            if kind is AsyncAdapt_aiosqlite_connection
            else f"the connection is a {kind.__qualname__}, not AsyncAdapt_aiosqlite_connection"
        )
        if problem is not None:
            log.warning(
                "SQLite: SQLAlchemy's own aiosqlite cursor is used instead of OneTripCursor "
                "(same results, three or four trips to aiosqlite's thread per statement "
                "instead of one): %s. storage/sqlite_driver.py is checked with the versions "
                "pinned in pyproject.toml; installed SQLAlchemy %s, aiosqlite %s",
                problem,
                version("SQLAlchemy"),
                version("aiosqlite"),
            )
        _verdicts[kind] = problem is None
    if _verdicts[kind]:
        # Same layout (no slots added), so the connection can simply change class.
        dbapi_connection.__class__ = OneTripConnection
