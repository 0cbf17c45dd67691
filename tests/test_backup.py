"""`dvk backup` / `dvk restore` on SQLite and PostgreSQL: the database and FILES_DIR."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cli import run_command
from bot.settings import Settings
from storage.db import make_engine
from storage.models import Unit
from tests.helpers import World

Snapshot = dict[str, list[tuple[Any, ...]]]


def _snapshot(connection: Connection) -> Snapshot:
    tables = {}
    for name in sorted(inspect(connection).get_table_names()):
        rows = connection.execute(text(f'SELECT * FROM "{name}"')).all()  # noqa: S608
        tables[name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


async def snapshot(engine: AsyncEngine) -> Snapshot:
    """Every row of every table, as read back."""
    async with engine.connect() as conn:
        return await conn.run_sync(_snapshot)


async def dvk(settings: Settings, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    saved, sys.stderr = sys.stderr, err
    try:
        code = await run_command(list(argv), settings, out)
    finally:
        sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def leftovers(folder: Path) -> list[Path]:
    """What a restore works in next to FILES_DIR, which it must not leave behind."""
    return [*folder.glob(".dvk-restore-*"), *folder.glob(".*before-restore")]


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "dvk-files"
    (folder / "evidence" / "2026" / "1").mkdir(parents=True)
    (folder / "evidence" / "2026" / "1" / "anh-hop-chi-bo.jpg").write_bytes(b"\xff\xd8jpeg" * 50)
    (folder / "links").mkdir()
    (folder / "links" / "Phu_luc_1.xlsx").write_bytes(b"PK workbook")
    return folder


@pytest.fixture
def settings(
    db_url: str, files_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.chdir(tmp_path)
    return Settings(database_url=db_url, files_dir=str(files_dir))


async def test_restore_brings_back_the_database_and_files_of_the_backup(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
    files_dir: Path,
    tmp_path: Path,
) -> None:
    archive = tmp_path / "backups" / "dvk.tar.gz"
    before, files_before = await snapshot(engine), files_of(files_dir)
    assert before["units"]
    assert before["accounts"]

    code, out, _ = await dvk(settings, "backup", str(archive))
    assert code == 0
    assert "và 2 tệp của thư mục" in out
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert "files/evidence/2026/1/anh-hop-chi-bo.jpg" in names
    assert manifest["database"] == ("sqlite" if "sqlite" in settings.database_url else "postgresql")
    assert manifest["revision"] == before["alembic_version"][0][0]

    # Life goes on: a unit added, one renamed, a file changed, another added.
    assert (await dvk(settings, "unit", "add", "Chi bộ Tổ dân phố 9", "--parent", "1"))[0] == 0
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Unit).where(Unit.id == world.cell2.id).values(name="Đổi"))
    (files_dir / "evidence" / "2026" / "1" / "anh-hop-chi-bo.jpg").write_bytes(b"changed")
    (files_dir / "incoming").mkdir()
    (files_dir / "incoming" / "new.png").write_bytes(b"png")
    changed = await snapshot(engine)
    assert changed != before

    # Without --force a database with data is not overwritten: nothing changes.
    code, _, err = await dvk(settings, "restore", str(archive))
    assert code == 1
    assert "--force" in err
    assert "accounts" in err
    assert await snapshot(engine) == changed

    await engine.dispose()  # the bot is stopped for a restore
    code, out, _ = await dvk(settings, "restore", str(archive), "--force")
    assert code == 0, out
    assert "Đã phục hồi từ" in out
    assert "2 tệp" in out
    await engine.dispose()
    assert await snapshot(engine) == before
    assert files_of(files_dir) == files_before
    assert leftovers(tmp_path) == []

    # The ids go on from where the backup was (PostgreSQL's sequences restored too).
    code, out, _ = await dvk(settings, "unit", "add", "Chi bộ mới", "--parent", "1")
    assert (code, out) == (
        0,
        f"Đã thêm đơn vị {max(r[0] for r in before['units']) + 1}: Chi bộ mới\n",
    )


async def test_a_damaged_archive_changes_nothing(
    settings: Settings, engine: AsyncEngine, world: World, files_dir: Path, tmp_path: Path
) -> None:
    before, files_before = await snapshot(engine), files_of(files_dir)
    kind = "sqlite" if "sqlite" in settings.database_url else "postgresql"
    member = "database.sqlite3" if kind == "sqlite" else "database.pgdump"
    archive = tmp_path / "damaged.tar.gz"
    manifest = {
        "format": 1,
        "database": kind,
        "revision": "x",
        "created": "2026-12-04T00:00:00+00:00",
        "files": 0,
    }
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in [
            ("manifest.json", json.dumps(manifest).encode()),
            (member, b"not a database at all" * 100),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    await engine.dispose()
    code, _, err = await dvk(settings, "restore", str(archive), "--force")
    assert code == 1
    assert err.startswith("Lỗi: ")
    await engine.dispose()
    assert await snapshot(engine) == before
    assert files_of(files_dir) == files_before

    (tmp_path / "plain.tar.gz").write_bytes(b"hello")
    code, _, err = await dvk(settings, "restore", str(tmp_path / "plain.tar.gz"))
    assert (code, err) == (
        1,
        f"Lỗi: {tmp_path / 'plain.tar.gz'} không phải tệp sao lưu của trợ lý.\n",
    )
    code, _, err = await dvk(settings, "restore", str(tmp_path / "missing.tar.gz"))
    assert (code, err) == (1, f"Lỗi: Không có tệp {tmp_path / 'missing.tar.gz'}.\n")


async def test_restore_into_a_new_database_needs_no_force(
    blank_db: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = Settings(database_url=blank_db(), files_dir=str(tmp_path / "a"))
    assert (await dvk(first, "db", "upgrade"))[0] == 0
    assert (await dvk(first, "unit", "add", "Đảng bộ phường Hương Văn", "--kind", "phuong"))[0] == 0
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.pdf").write_bytes(b"%PDF")
    assert (await dvk(first, "backup", "b.tar.gz"))[0] == 0

    second = Settings(database_url=blank_db(), files_dir=str(tmp_path / "b"))
    code, out, err = await dvk(second, "restore", "b.tar.gz")
    assert code == 0, err
    assert files_of(tmp_path / "b") == {"x.pdf": b"%PDF"}
    code, out, _ = await dvk(second, "unit", "list")
    assert (code, out) == (0, "    1  Đảng bộ phường Hương Văn [phuong]\n")
    one, two = make_engine(first.database_url), make_engine(second.database_url)
    try:
        assert await snapshot(one) == await snapshot(two)
    finally:
        await one.dispose()
        await two.dispose()
