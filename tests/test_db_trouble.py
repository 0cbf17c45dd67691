"""A database that cannot be used, at the start of every `dvk` command: one line in
Vietnamese saying what is wrong and what to do, exit status 3, the traceback only with
LOG_LEVEL=DEBUG. Through the real entry point (``bot.cli.main``, settings from the
environment)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.cli import DATABASE_TROUBLE, main
from storage.db import make_engine, upgrade
from tests.conftest import PG_URL, admin

COMMANDS = (
    ("run",),
    ("chat",),
    ("db", "upgrade"),
    ("db", "current"),
    ("unit", "list"),
    ("demo",),
    ("import", "models", "khong_co.xlsx"),
    ("export", "pl1"),
)


@pytest.fixture(autouse=True)
def _environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the working tree; dvk-chat.log lands here
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.stdin", open(os.devnull))  # noqa: SIM115 - closed with the test


def dvk(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, *argv: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(SystemExit) as stop:
        main(list(argv))
    captured = capsys.readouterr()
    code = stop.value.code
    assert isinstance(code, int)
    return code, captured.out, captured.err


def refused(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    line: str,
    commands: tuple[tuple[str, ...], ...] = COMMANDS,
) -> None:
    """Every command stops with status 3 and ``line`` as its only message."""
    for argv in commands:
        code, out, err = dvk(monkeypatch, capsys, url, *argv)
        assert (code, err, out) == (DATABASE_TROUBLE, f"Lỗi: {line}\n", ""), argv


def migrated_sqlite(path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"

    async def migrate() -> None:
        engine = make_engine(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return url


@pytest.fixture
def pg_database(pg_url: str | None) -> Iterator[str]:
    """A new PostgreSQL database, not migrated."""
    if pg_url is None:
        pytest.skip("PostgreSQL not reachable")
    name = f"dvk_trouble_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- PostgreSQL --------------------------------------------------------------------------------


def test_postgresql_that_does_not_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+asyncpg://dvk:bí_mật@127.0.0.1:1/dvk"
    line = (
        "Không kết nối được PostgreSQL 127.0.0.1:1: kiểm tra máy chủ PostgreSQL đang chạy và "
        "địa chỉ, cổng trong DATABASE_URL."
    )
    refused(monkeypatch, capsys, url, line)
    refused(
        monkeypatch,
        capsys,
        "postgresql+asyncpg://dvk@may-chu-khong-co.invalid/dvk",
        "Không tìm thấy máy chủ PostgreSQL “may-chu-khong-co.invalid”: kiểm tra tên máy trong "
        "DATABASE_URL.",
        (("unit", "list"),),
    )


def test_postgresql_database_that_does_not_exist(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], pg_url: str | None
) -> None:
    if pg_url is None:
        pytest.skip("PostgreSQL not reachable")
    url = make_url(PG_URL).set(database="dvk_khong_co").render_as_string(hide_password=False)
    where = f"{make_url(PG_URL).host}:{make_url(PG_URL).port or 5432}"
    refused(
        monkeypatch,
        capsys,
        url,
        f"Cơ sở dữ liệu “dvk_khong_co” chưa có trên máy chủ PostgreSQL {where}: tạo nó "
        "(createdb dvk_khong_co) rồi chạy: dvk db upgrade",
    )


def test_postgresql_not_migrated_then_upgraded(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], pg_database: str
) -> None:
    name = make_url(pg_database).database
    not_admin = tuple(a for a in COMMANDS if a[0] != "db")
    line = f"Cơ sở dữ liệu “{name}” chưa có bảng của trợ lý. Chạy: dvk db upgrade"
    refused(monkeypatch, capsys, pg_database, line, not_admin)
    assert dvk(monkeypatch, capsys, pg_database, "db", "current")[:2] == (
        0,
        "Phiên bản lược đồ: None\n",
    )

    async def part_way() -> None:
        engine = make_engine(pg_database)
        await upgrade(engine, "0005")
        await engine.dispose()

    asyncio.run(part_way())
    code, _, err = dvk(monkeypatch, capsys, pg_database, "unit", "list")
    assert code == DATABASE_TROUBLE
    assert err.startswith(f"Lỗi: Cơ sở dữ liệu “{name}” đang ở phiên bản lược đồ 0005, ")
    assert err.endswith(". Chạy: dvk db upgrade\n")
    assert dvk(monkeypatch, capsys, pg_database, "db", "upgrade")[0] == 0
    assert dvk(monkeypatch, capsys, pg_database, "unit", "list")[0] == 0


# --- SQLite ------------------------------------------------------------------------------------


def test_sqlite_file_that_is_no_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "dvk.sqlite3"
    path.write_bytes(b"PK\x03\x04" + b"a workbook saved over the database " * 200)
    refused(
        monkeypatch,
        capsys,
        f"sqlite+aiosqlite:///{path}",
        f"Tệp {path} không phải cơ sở dữ liệu SQLite (hoặc đã hỏng phần đầu): khôi phục tệp "
        "từ bản sao lưu, hoặc đặt DATABASE_URL sang tệp khác.",
    )
    assert path.read_bytes().startswith(b"PK\x03\x04")  # nothing written over it


def test_sqlite_file_truncated_or_damaged(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "dvk.sqlite3"
    url = migrated_sqlite(path)
    assert dvk(monkeypatch, capsys, url, "demo")[0] == 0
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        units_page = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'units'"
        ).fetchone()[0]
    whole = path.read_bytes()
    damaged = tmp_path / "hong.sqlite3"
    # A copy cut short, as a full disk or a copy stopped halfway leaves it.
    path.write_bytes(whole[: len(whole) // 2])
    refused(
        monkeypatch,
        capsys,
        url,
        f"Tệp cơ sở dữ liệu {path} bị cắt cụt ({len(whole) // 2} trên {len(whole)} byte): "
        "khôi phục từ bản sao lưu; đừng ghi tiếp vào tệp này.",
    )
    # A page of the unit table overwritten: found when it is read.
    start = (units_page - 1) * 4096
    damaged.write_bytes(whole[:start] + b"\xff" * 4096 + whole[start + 4096 :])
    refused(
        monkeypatch,
        capsys,
        f"sqlite+aiosqlite:///{damaged}",
        f"Tệp cơ sở dữ liệu {damaged} bị hỏng (bị cắt cụt hoặc ghi dở): khôi phục từ bản sao "
        "lưu; đừng ghi tiếp vào tệp này.",
        (("unit", "list"), ("export", "pl1")),
    )


def test_sqlite_path_that_cannot_be_created(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "bao_cao.xlsx").write_bytes(b"")
    path = tmp_path / "bao_cao.xlsx" / "dvk.sqlite3"
    refused(
        monkeypatch,
        capsys,
        f"sqlite+aiosqlite:///{path}",
        f"Không mở hoặc tạo được tệp cơ sở dữ liệu {path}: {tmp_path / 'bao_cao.xlsx'} là một "
        "tệp, không phải thư mục. Tạo thư mục và cấp quyền ghi, hoặc đặt DATABASE_URL sang "
        "đường dẫn khác.",
    )


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A migrated SQLite file the user running the tests cannot write (chmod, or for root,
    who writes any file, the immutable attribute)."""
    path = tmp_path / "ro" / "dvk.sqlite3"
    path.parent.mkdir()
    migrated_sqlite(path)
    for extra in path.parent.glob("dvk.sqlite3-*"):
        extra.unlink()
    path.chmod(0o444)
    path.parent.chmod(0o555)
    immutable = False
    if os.access(path, os.W_OK) and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(path)], check=False).returncode == 0  # noqa: S603, S607
    if os.access(path, os.W_OK):
        path.parent.chmod(0o755)
        pytest.skip("no way to make a file read-only for this user here")
    yield path
    if immutable:
        subprocess.run(["chattr", "-i", str(path)], check=True)  # noqa: S603, S607
    path.parent.chmod(0o755)


def test_sqlite_file_that_is_read_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], read_only: Path
) -> None:
    refused(
        monkeypatch,
        capsys,
        f"sqlite+aiosqlite:///{read_only}",
        f"Tệp cơ sở dữ liệu {read_only} chỉ đọc được, không ghi được: cấp quyền ghi tệp và thư "
        "mục chứa nó cho người dùng chạy dvk, hoặc đặt DATABASE_URL sang tệp khác.",
    )


def test_a_url_that_is_no_database_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    refused(
        monkeypatch,
        capsys,
        "mysql://dvk@127.0.0.1/dvk",
        "DATABASE_URL chọn “mysql”, trợ lý không dùng được: dùng sqlite+aiosqlite:/// (tệp "
        "SQLite) hoặc postgresql+asyncpg:// (PostgreSQL).",
        (("unit", "list"),),
    )


def test_the_traceback_only_with_log_level_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+asyncpg://dvk@127.0.0.1:1/dvk"
    code, _, err = dvk(monkeypatch, capsys, url, "unit", "list")
    assert "Traceback" not in err
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    code, _, err = dvk(monkeypatch, capsys, url, "unit", "list")
    assert code == DATABASE_TROUBLE
    assert "Traceback (most recent call last)" in err
    assert "ConnectionRefusedError" in err
    assert err.endswith(
        "Lỗi: Không kết nối được PostgreSQL 127.0.0.1:1: kiểm tra máy chủ "
        "PostgreSQL đang chạy và địa chỉ, cổng trong DATABASE_URL.\n"
    )
