"""`dvk backup` / `dvk restore`: the database and the files directory in one ``.tar.gz``.

The archive holds ``manifest.json`` (format, kind of database, schema revision, time),
the database and ``files/`` (the whole ``FILES_DIR``: evidence, incoming photos, links):

- SQLite: ``database.sqlite3``, a copy made with SQLite's online backup API
  (``sqlite3.Connection.backup``), consistent while the bot keeps writing; restored the same
  way, page by page, into the configured file.
- PostgreSQL: ``database.pgdump``, ``pg_dump --format=custom`` (one consistent snapshot,
  without owners or grants, so it can be restored under another user); restored by turning
  it into SQL with ``pg_restore`` and running that with ``psql`` in ONE transaction, after
  dropping the tables there: a restore that fails leaves the database as it was.

A restore refuses a database holding any row (or a files directory holding any file) unless
``force``: a restore replaces everything, it never merges.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import current_revision, is_sqlite

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
FILES_MEMBER = "files"
# Not data: the schema's version, and the processes' sending turns (scheduler/turns.py).
NOT_DATA = frozenset({"alembic_version", "send_turns"})


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line to show."""


@dataclass(frozen=True)
class BackupInfo:
    database: str  # "sqlite" or "postgresql"
    revision: str | None
    created: str  # ISO time the backup was made
    files: int  # files of FILES_DIR in the archive


def _kind(url: str) -> str:
    return "sqlite" if is_sqlite(url) else "postgresql"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("Cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu được.")
    return Path(database)


def pg_environment(url: str) -> dict[str, str]:
    """libpq's variables for ``url`` (a SQLAlchemy URL): the password stays out of the
    command line, where other users of the machine could read it."""
    parsed = make_url(url)
    env = dict(os.environ)
    values = {
        "PGHOST": parsed.host or "localhost",
        "PGPORT": str(parsed.port or 5432),
        "PGUSER": parsed.username,
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
    }
    ssl = parsed.query.get("sslmode") or parsed.query.get("ssl")
    if isinstance(ssl, str):
        values["PGSSLMODE"] = ssl
    env.update({key: str(value) for key, value in values.items() if value})
    return env


async def _tool(args: list[str], env: dict[str, str]) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(
            f"Không tìm thấy lệnh {args[0]}: cài gói postgresql-client "
            "(cùng phiên bản chính với máy chủ PostgreSQL hoặc mới hơn)."
        )
    proc = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        lines = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
        detail = " ".join(lines[-3:]) if lines else f"mã thoát {proc.returncode}"
        raise BackupError(f"{args[0]} không chạy xong: {detail}")


# --- what the database holds ----------------------------------------------------------------


def _tables_with_rows(connection: Connection) -> list[str]:
    found = []
    for name in inspect(connection).get_table_names():
        if name in NOT_DATA:
            continue
        quoted = connection.dialect.identifier_preparer.quote(name)
        if connection.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1")).first() is not None:  # noqa: S608
            found.append(name)
    return found


async def tables_with_rows(engine: AsyncEngine) -> list[str]:
    """The tables of the database that hold at least one row (NOT_DATA aside)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_tables_with_rows)


def _files_in(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else 0


# --- backup ---------------------------------------------------------------------------------


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"Không có tệp cơ sở dữ liệu {source}.")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        # One self-contained file in the archive, whatever the live database's journal.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _write_archive(
    target: Path, manifest: dict[str, Any], database: Path, member: str, files_dir: Path
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(database, arcname=member)
            if files_dir.is_dir():
                tar.add(files_dir, arcname=FILES_MEMBER)
        os.replace(partial, target)  # never a half-written archive under the real name
    finally:
        partial.unlink(missing_ok=True)


async def backup(engine: AsyncEngine, files_dir: Path, target: Path, now: datetime) -> BackupInfo:
    """Write the database of ``engine`` and ``files_dir`` to the archive ``target``."""
    url = engine.url.render_as_string(hide_password=False)
    kind = _kind(url)
    info = BackupInfo(kind, await current_revision(engine), now.isoformat(), _files_in(files_dir))
    manifest = {"format": FORMAT, **info.__dict__}
    with tempfile.TemporaryDirectory(prefix="dvk-backup-") as work:
        if kind == "sqlite":
            database, member = Path(work) / SQLITE_MEMBER, SQLITE_MEMBER
            await asyncio.to_thread(_sqlite_copy, _sqlite_path(url), database)
        else:
            database, member = Path(work) / PG_MEMBER, PG_MEMBER
            args = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges"]
            await _tool([*args, f"--file={database}"], pg_environment(url))
        await asyncio.to_thread(_write_archive, target, manifest, database, member, files_dir)
    return info


# --- restore --------------------------------------------------------------------------------


def read_manifest(source: Path) -> BackupInfo:
    """The manifest of the archive ``source``; BackupError when it is not a dvk backup."""
    try:
        with tarfile.open(source, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            data = json.loads(member.read()) if member is not None else None
    except FileNotFoundError:
        raise BackupError(f"Không có tệp {source}.") from None
    except (tarfile.TarError, KeyError, OSError, ValueError):
        raise BackupError(f"{source} không phải tệp sao lưu của trợ lý.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f"{source} không phải tệp sao lưu của trợ lý (hoặc của bản khác).")
    return BackupInfo(data["database"], data["revision"], data["created"], data["files"])


def _extract(source: Path, into: Path) -> None:
    with tarfile.open(source, "r:gz") as tar:
        tar.extractall(into, filter="data")  # nothing outside ``into``, no devices or links


def _sqlite_restore(copy: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(copy)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA quick_check").fetchall()
        src.backup(dst)  # every page replaced, in one transaction of the target
        dst.execute("PRAGMA journal_mode=WAL")  # as the bot opens it
    except sqlite3.DatabaseError as err:
        raise BackupError(f"Tệp cơ sở dữ liệu trong bản sao lưu bị hỏng: {err}") from None
    finally:
        dst.close()
        src.close()


def _drop_everything(connection: Connection) -> str:
    """SQL dropping the tables, views and free sequences of the current schema."""
    quote = connection.dialect.identifier_preparer.quote
    rows = connection.execute(
        text(
            "SELECT c.relname, c.relkind::text FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
        )
    ).all()
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    return "".join(f"DROP {kinds[kind]} IF EXISTS {quote(name)} CASCADE;\n" for name, kind in rows)


async def _pg_restore(engine: AsyncEngine, dump: Path, work: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    async with engine.connect() as conn:
        drops = await conn.run_sync(_drop_everything)
    await engine.dispose()
    prelude, script = work / "drop.sql", work / "restore.sql"
    prelude.write_text(drops, encoding="utf-8")
    env = pg_environment(url)
    args = ["pg_restore", "--no-owner", "--no-privileges", f"--file={script}", str(dump)]
    await _tool(args, env)
    # Both files in one transaction: a restore that fails midway leaves the database as it was.
    await _tool(
        [
            *("psql", "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1"),
            *(f"--file={prelude}", f"--file={script}"),
        ],
        env,
    )


def _replace_files(extracted: Path | None, files_dir: Path) -> None:
    files_dir.parent.mkdir(parents=True, exist_ok=True)
    old = files_dir.with_name(f".{files_dir.name}.before-restore")
    shutil.rmtree(old, ignore_errors=True)
    if files_dir.exists():
        files_dir.rename(old)
    if extracted is not None and extracted.is_dir():
        shutil.move(extracted, files_dir)
    else:
        files_dir.mkdir()
    shutil.rmtree(old, ignore_errors=True)


async def restore(
    engine: AsyncEngine, files_dir: Path, source: Path, *, force: bool = False
) -> BackupInfo:
    """Replace the database of ``engine`` and ``files_dir`` with the archive ``source``.
    Refused (BackupError) when the database has rows or the folder files, unless ``force``.
    ``engine`` is disposed on the way (its connections would hold the old database)."""
    info = read_manifest(source)
    url = engine.url.render_as_string(hide_password=False)
    kind = _kind(url)
    if info.database != kind:
        raise BackupError(
            f"Tệp sao lưu là của cơ sở dữ liệu {info.database}, còn DATABASE_URL là {kind}."
        )
    if not force:
        full = await tables_with_rows(engine)
        if full:
            raise BackupError(
                f"Cơ sở dữ liệu đang có dữ liệu (bảng {', '.join(full[:5])}"
                f"{'…' if len(full) > 5 else ''}). Phục hồi sẽ xóa hết; thêm --force nếu chắc chắn."
            )
        if _files_in(files_dir):
            raise BackupError(
                f"Thư mục tệp {files_dir} đang có tệp. Phục hồi sẽ thay thế cả thư mục; "
                "thêm --force nếu chắc chắn."
            )
    staging = files_dir.parent if files_dir.parent.exists() else None
    with tempfile.TemporaryDirectory(prefix=".dvk-restore-", dir=staging) as work_dir:
        work = Path(work_dir)
        await asyncio.to_thread(_extract, source, work)
        database = work / (SQLITE_MEMBER if kind == "sqlite" else PG_MEMBER)
        if not database.is_file():
            raise BackupError(f"{source} thiếu tệp cơ sở dữ liệu.")
        if kind == "sqlite":
            await engine.dispose()
            await asyncio.to_thread(_sqlite_restore, database, _sqlite_path(url))
        else:
            await _pg_restore(engine, database, work)
        extracted = work / FILES_MEMBER
        await asyncio.to_thread(
            _replace_files, extracted if extracted.exists() else None, files_dir
        )
    return info
