"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is used when it answers at ``DVK_TEST_POSTGRES_URL`` (default: the local server,
database ``test``); otherwise those tests are skipped with the reason, unless
``DVK_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handlers.core import Core
from storage.db import make_engine, make_sessionmaker, unreachable, upgrade
from storage.models import Base
from tests.helpers import Clock, World, build_world

PG_URL = os.environ.get(
    "DVK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("DVK_REQUIRE_POSTGRES") == "1"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    """A fresh database for this test session, migrated once; None when unreachable."""
    problem = asyncio.run(unreachable(PG_URL))
    if problem is not None:
        yield None
        return
    name = f"dvk_test_{uuid.uuid4().hex[:10]}"
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    async def migrate() -> None:
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    asyncio.run(migrate())
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def admin(sql: str) -> None:
    """A statement on the PostgreSQL server outside any database's transaction."""
    engine = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_db(
    request: pytest.FixtureRequest, tmp_path: Path, pg_url: str | None
) -> Iterator[Callable[[], str]]:
    """Makes databases that have never been migrated: an SQLite file not there yet, or a new
    PostgreSQL database (dropped afterwards). For tests of the migrations themselves."""
    if request.param == "postgresql" and pg_url is None:
        _skip_or_fail_without_pg()
    made: list[str] = []

    def new() -> str:
        if request.param == "sqlite":
            made.append(str(tmp_path / f"blank{len(made)}.sqlite3"))
            return f"sqlite+aiosqlite:///{made[-1]}"
        made.append(f"dvk_blank_{uuid.uuid4().hex[:10]}")
        # In a thread of its own: the caller may be a test already running an event loop.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, admin(f'CREATE DATABASE "{made[-1]}"')).result()
        return make_url(PG_URL).set(database=made[-1]).render_as_string(hide_password=False)

    yield new
    if request.param == "postgresql":
        for name in made:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file copied for each test: migrating once keeps the suite fast."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"

    async def migrate() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return path


def _skip_or_fail_without_pg() -> None:
    reason = f"PostgreSQL not reachable at {PG_URL} (set DVK_TEST_POSTGRES_URL)"
    if REQUIRE_PG:
        pytest.fail(f"{reason}; DVK_REQUIRE_POSTGRES=1 makes PostgreSQL tests mandatory")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_url: str | None
) -> str:
    if request.param == "sqlite":
        path = tmp_path / "dvk.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    if pg_url is None:
        _skip_or_fail_without_pg()
    assert pg_url is not None

    async def truncate() -> None:
        engine = make_engine(pg_url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    asyncio.run(truncate())
    return pg_url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
def clock() -> Clock:
    # Early March: before the 15/4 registration deadline of 2026.
    return Clock(datetime(2026, 3, 2, 8, 0, tzinfo=TZ).astimezone(UTC))


@pytest.fixture
def core(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> Core:
    return Core(sessionmaker, clock=clock)


@pytest.fixture
async def world(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> World:
    return await build_world(sessionmaker, clock())
