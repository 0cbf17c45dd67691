"""Engine, sessions and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool

from storage.sqlite_driver import use_one_trip_cursors

MIGRATIONS = Path(__file__).parent / "migrations"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# Connections besides those of the messages handled at once: the reminder planner and the
# outbox's senders.
BACKGROUND_CONNECTIONS = 2


def make_engine(
    url: str, *, concurrency: int | None = None, one_trip_cursors: bool = True, **kwargs: Any
) -> AsyncEngine:
    """The engine for ``url``. ``concurrency``: messages handled at the same moment (the
    channels' limit); a PostgreSQL pool then keeps a connection for each, and for the
    background work, instead of opening and closing extra ones under load.
    ``one_trip_cursors=False`` keeps SQLAlchemy's own SQLite cursor (what
    bench/bench_internals.py compares with)."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # SQLite has one writer at a time and every message writes: one pooled connection,
        # handed out in arrival order, beats many connections sleeping in SQLite's busy
        # handler (measured by bench/bench_registration.py: p99 1.0–1.3 s → about 0.2 s).
        options: dict[str, Any] = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60}
        options.update(kwargs)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **options)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            if one_trip_cursors:
                use_one_trip_cursors(dbapi_connection)
            cursor = dbapi_connection.cursor()
            # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer.
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if concurrency is not None:
        kwargs.setdefault("pool_size", max(5, concurrency + BACKGROUND_CONNECTIONS))
    # No pre-ping (a round trip per message): a connection found dead is invalidated and
    # the message is retried once on a fresh one (handlers.core).
    return create_async_engine(url, pool_recycle=1800, **kwargs)


async def open_connections(engine: AsyncEngine, count: int) -> int:
    """Open up to ``count`` connections now and leave them in the pool (never more than it
    keeps): the first messages after a start then do not wait for connections to be set up
    (bench/bench_registration.py at a human pace, PostgreSQL: p95 of the second and third
    steps 130 and 101 ms → 34–63 and 27–36 ms). Returns how many the pool holds."""
    pool = engine.pool
    keeps = pool.size() if isinstance(pool, QueuePool) else 1
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(min(count, keeps)):
            conn = await stack.enter_async_context(engine.connect())
            await conn.exec_driver_sql("SELECT 1")
    return pool.checkedin() if isinstance(pool, QueuePool) else 1


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade_sync(connection: Connection, url: str, revision: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations on an open engine (shares its connection with Alembic)."""
    async with engine.begin() as conn:
        await conn.run_sync(
            _upgrade_sync, engine.url.render_as_string(hide_password=False), revision
        )


def _revision_sync(connection: Connection, url: str, message: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(cfg).get_current_head()
    rev_id = f"{int(head) + 1:04d}" if head and head.isdigit() else None  # 0001, 0002, …
    command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)


async def make_revision(engine: AsyncEngine, message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    async with engine.begin() as conn:
        await conn.run_sync(
            _revision_sync, engine.url.render_as_string(hide_password=False), message
        )


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _rev(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_rev)


async def unreachable(url: str, timeout: float = 3.0) -> str | None:  # noqa: ASYNC109
    """Why the database at ``url`` cannot be reached (for a skip or a bench's note), or
    None when it answers."""
    engine = make_engine(url, connect_args={"timeout": timeout})
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return None
    except Exception as err:  # any failure to reach it is the reason
        return f"{type(err).__name__}: {err}"
    finally:
        await engine.dispose()
