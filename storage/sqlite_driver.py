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
``session.stream`` keep aiosqlite's server-side cursor. Measured by
``bench/bench_registration.py`` (core alone on SQLite, CPU per message): see the README.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.util import EMPTY_DICT

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


def use_one_trip_cursors(dbapi_connection: Any) -> None:
    """Called on each new connection of an SQLite engine (its ``connect`` event)."""
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        # Same layout (no slots added), so the connection can simply change class.
        dbapi_connection.__class__ = OneTripConnection
