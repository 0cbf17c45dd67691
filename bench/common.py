"""What the benchmarks share: the PostgreSQL server they use and throw-away databases; how a
target is reported.

PostgreSQL: ``DVK_BENCH_POSTGRES_URL`` (else ``DVK_TEST_POSTGRES_URL``, else the local
server); a database is created on it for one run and dropped at the end."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import make_engine

PG_ADMIN_URL = os.environ.get(
    "DVK_BENCH_POSTGRES_URL",
    os.environ.get("DVK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
)


async def _pg_admin(url: str, sql: str) -> None:
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def pg_database(
    admin_url: str = PG_ADMIN_URL, prefix: str = "dvk_bench_"
) -> AsyncIterator[str]:
    """A throw-away database on the server; dropped at the end."""
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    await _pg_admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def sqlite_database(prefix: str = "dvk_bench_") -> AsyncIterator[str]:
    """A throw-away SQLite file in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        yield f"sqlite+aiosqlite:///{Path(folder) / 'dvk_bench.sqlite3'}"


@contextlib.asynccontextmanager
async def database(kind: str, prefix: str = "dvk_bench_") -> AsyncIterator[str]:
    """A throw-away database: ``sqlite`` or (any other kind) PostgreSQL at PG_ADMIN_URL."""
    if kind == "sqlite":
        async with sqlite_database(prefix) as url:
            yield url
    else:
        async with pg_database(PG_ADMIN_URL, prefix) as url:
            yield url


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"
