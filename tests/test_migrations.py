"""Migrations: a start killed at any point of the first start's migrations comes up at the
next start with the whole schema (each revision is one transaction), an SQLite table rebuilt
by a migration keeps the rows that refer to it, and the names of existing rows are put on one
line. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.cli import run_command
from bot.settings import Settings
from storage.db import alembic_config, current_revision, is_sqlite, make_engine, upgrade
from storage.models import Base
from tests.migrate_worker import KILL_AT_EXIT

ROOT = Path(__file__).parent.parent


def start_command(url: str) -> list[str]:
    """How an office starts on this database: any command migrates the SQLite file; a
    PostgreSQL server is migrated by `dvk db upgrade`."""
    return ["unit", "list"] if is_sqlite(url) else ["db", "upgrade"]


def worker(url: str, kill_at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.migrate_worker", url, str(kill_at)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def schema_problems(url: str) -> tuple[str | None, list[object]]:
    """The revision the database is at, and how its schema differs from the models."""

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
        return await current_revision(engine), differences
    finally:
        await engine.dispose()


def test_a_start_killed_during_the_migrations_comes_up_whole(
    blank_db: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    whole = worker(blank_db(), 0)
    assert whole.returncode == 0, whole.stderr
    sent = int(whole.stdout.rsplit("statements ", 1)[1])
    assert sent > 40
    # Points spread over the whole run: inside the first revision, inside a table rebuild,
    # between revisions, just before the last stamp.
    points = sorted({1, 3, *range(sent // 6, sent, sent // 6), sent - 1})
    for kill_at in points:
        url = blank_db()
        killed = worker(url, kill_at)
        assert killed.returncode == KILL_AT_EXIT, (kill_at, killed.stderr)
        out = io.StringIO()
        code = asyncio.run(run_command(start_command(url), Settings(database_url=url), out))
        assert code == 0, (kill_at, out.getvalue())
        assert asyncio.run(schema_problems(url)) == (head, []), kill_at


async def test_a_table_rebuilt_by_a_migration_keeps_the_rows_that_refer_to_it(
    blank_db: Callable[[], str],
) -> None:
    """On SQLite, 0006 rebuilds model_years; with foreign keys on, dropping the old table
    deleted every score of every model (model_scores refers to it ON DELETE CASCADE)."""
    engine = make_engine(blank_db())
    try:
        await upgrade(engine, "0005")
        at = datetime(2026, 3, 2)
        async with engine.begin() as conn:
            for sql in (
                "INSERT INTO units (id, name, kind, path, created_at) "
                "VALUES (1, 'Chi bộ 1', 'chi_bo', '/1/', :at)",
                "INSERT INTO models (id, unit_id, created_at) VALUES (1, 1, :at)",
                "INSERT INTO model_years (id, model_id, year, origin, name, field, subject, "
                "subject_name, place, lead_body, scale, state, created_at, updated_at) VALUES "
                "(1, 1, 2026, 'new', 'Mô hình', 'KT', 'collective', 'Chi bộ 1', 'Tổ 1', "
                "'Chi bộ', '20 hộ', 'active', :at, :at)",
                "INSERT INTO model_scores (model_year_id, criterion, points, scored_at) "
                "VALUES (1, 1, 5, :at)",
            ):
                await conn.execute(text(sql), {"at": at})
        await upgrade(engine)
        async with engine.connect() as conn:
            scores = await conn.scalar(text("SELECT count(*) FROM model_scores"))
        assert scores == 1
    finally:
        await engine.dispose()


async def test_names_of_existing_rows_are_put_on_one_line(blank_db: Callable[[], str]) -> None:
    engine = make_engine(blank_db())
    nfd = "Chi bo\u0302\u0323 To\u0302\u0309 da\u0302n pho\u0302\u0301 3"  # typed in NFD
    try:
        await upgrade(engine, "0006")
        at = datetime(2026, 3, 2)
        async with engine.begin() as conn:
            for sql, values in (
                (
                    "INSERT INTO units (id, name, kind, path, created_at) VALUES "
                    "(1, 'Đảng bộ phường\nHương Hồ', 'phuong', '/1/', :at), "
                    "(2, :nfd, 'chi_bo', '/1/2/', :at), "
                    "(3, 'Chi bộ  Tổ 1', 'chi_bo', '/1/3/', :at), "
                    "(4, 'Chi bộ Tổ 1', 'chi_bo', '/1/4/', :at)",
                    {"nfd": nfd},
                ),
                ("UPDATE units SET parent_id = 1 WHERE id > 1", {}),
                ("INSERT INTO models (id, unit_id, created_at) VALUES (1, 2, :at)", {}),
                (
                    "INSERT INTO model_years (id, model_id, year, origin, name, field, subject, "
                    "subject_name, place, lead_body, scale, state, created_at, updated_at) "
                    "VALUES (1, 1, 2026, 'new', 'Tuyến phố\r\nvăn  minh ', 'KT', 'individual', "
                    "'Bà Nguyễn\nThị Mận', 'Tổ  3', 'Chi bộ', '20 hộ\n30 triệu đồng', 'active', "
                    ":at, :at)",
                    {},
                ),
                (
                    "INSERT INTO people (id, full_name, created_at) "
                    "VALUES (1, 'Nguyễn  Thị\nLan', :at)",
                    {},
                ),
            ):
                await conn.execute(text(sql), {"at": at, **values})
        await upgrade(engine)
        async with engine.connect() as conn:
            units = (await conn.execute(text("SELECT id, name FROM units ORDER BY id"))).all()
            model = (
                await conn.execute(text("SELECT name, subject_name, place, scale FROM model_years"))
            ).one()
            person = await conn.scalar(text("SELECT full_name FROM people"))
    finally:
        await engine.dispose()
    assert [tuple(u) for u in units] == [
        (1, "Đảng bộ phường Hương Hồ"),
        (2, "Chi bộ Tổ dân phố 3"),
        (3, "Chi bộ  Tổ 1"),  # its sibling already has the name: kept, and logged
        (4, "Chi bộ Tổ 1"),
    ]
    # The scale is a paragraph: its lines stay.
    assert tuple(model) == (
        "Tuyến phố văn minh",
        "Bà Nguyễn Thị Mận",
        "Tổ 3",
        "20 hộ\n30 triệu đồng",
    )
    assert person == "Nguyễn Thị Lan"
