"""Engine, sessions and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from asyncpg.exceptions import (
    CannotConnectNowError,
    ConnectionDoesNotExistError,
    InvalidAuthorizationSpecificationError,
    InvalidCatalogNameError,
    InvalidPasswordError,
    PostgresError,
    UndefinedTableError,
)
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidRequestError, NoSuchModuleError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool, QueuePool

from storage.sqlite_driver import use_one_trip_cursors

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


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
        # handler (bench/bench_registration.py measures the tail latency both ways).
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
    (bench/bench_registration.py at a human pace on PostgreSQL shows the difference).
    Returns how many the pool holds."""
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
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            log.warning("after the migrations, rows refer to rows that are gone: %s", broken[:20])


def _migration_engine(url: str) -> AsyncEngine:
    """An SQLite engine on which each migration is one transaction, all or nothing.

    Python's sqlite3 runs DDL outside any transaction, so a start killed halfway through a
    migration left its first tables created and the revision not recorded, and the next
    start stopped at “table … already exists”. Here the driver's own transaction handling
    is off and SQLAlchemy's begin emits BEGIN IMMEDIATE (the write lock at once), so a
    revision's statements and its version stamp commit together. Foreign keys are off while
    tables are rebuilt (SQLite's way of altering them): with them on, dropping the old
    table deleted the rows of every table referring to it ON DELETE CASCADE."""
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision``, each in a transaction of its own: a start
    interrupted at any point leaves the database at the last revision completed, and the
    next start goes on from there (PostgreSQL and SQLite alike)."""
    url = engine.url.render_as_string(hide_password=False)
    own = is_sqlite(url) and make_url(url).database not in (None, "", ":memory:")
    migrating = _migration_engine(url) if own else engine
    try:
        async with migrating.connect() as conn:
            await conn.run_sync(_upgrade_sync, url, revision)
    finally:
        if own:
            await migrating.dispose()


def _revision_sync(connection: Connection, url: str, message: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
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


# --- a database that cannot be used --------------------------------------------------------


class DatabaseTrouble(Exception):
    """The database cannot be used. The message is one line in Vietnamese: what is wrong and
    what to do; the error behind it is the exception's cause (for LOG_LEVEL=DEBUG)."""


def _first(err: BaseException, kind: type[BaseException] | tuple[type[BaseException], ...]) -> Any:
    """The first exception of ``kind`` in the chain behind ``err`` (DB-API errors wrapped by
    SQLAlchemy, asyncpg's behind its adapter), or None."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return None


def _sqlite_path(url: str) -> str:
    return str(Path(make_url(url).database or "").resolve())


def _where(url: str) -> str:
    """The server as the message names it, never with the password."""
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


UPGRADE = "Chạy: dvk db upgrade"


def explain(err: BaseException, url: str, *, starting: bool = False) -> str | None:
    """What a failure of the database means for the person running ``dvk``, or None when
    ``err`` is no database failure. ``starting``: ``err`` came from opening the database at
    start, where a network or file-system error can only be the database's."""
    if isinstance(err, DatabaseTrouble):
        return str(err)
    try:
        make_url(url)
    except ArgumentError:
        return (
            f"DATABASE_URL “{url}” không đúng dạng: cần sqlite+aiosqlite:///đường/dẫn.sqlite3 "
            "hoặc postgresql+asyncpg://người_dùng:mật_khẩu@máy:5432/tên_cơ_sở_dữ_liệu."
        )
    driver = make_url(url).drivername
    if driver not in ("sqlite+aiosqlite", "postgresql+asyncpg") and (
        starting or isinstance(err, (NoSuchModuleError, ImportError, InvalidRequestError))
    ):
        return (
            f"DATABASE_URL chọn “{driver}”, trợ lý không dùng được: dùng sqlite+aiosqlite:/// "
            "(tệp SQLite) hoặc postgresql+asyncpg:// (PostgreSQL)."
        )
    if not starting and _first(err, (DBAPIError, sqlite3.Error, PostgresError)) is None:
        return None
    return _explain_sqlite(err, url, starting) if is_sqlite(url) else _explain_pg(err, url)


def _explain_sqlite(err: BaseException, url: str, starting: bool) -> str | None:
    path = _sqlite_path(url)
    failure = _first(err, sqlite3.Error)
    name = getattr(failure, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_READONLY") or "readonly" in str(failure):
        return (
            f"Tệp cơ sở dữ liệu {path} chỉ đọc được, không ghi được: cấp quyền ghi tệp và thư mục "
            "chứa nó cho người dùng chạy dvk, hoặc đặt DATABASE_URL sang tệp khác."
        )
    if name == "SQLITE_NOTADB":
        return (
            f"Tệp {path} không phải cơ sở dữ liệu SQLite (hoặc đã hỏng phần đầu): khôi phục tệp "
            "từ bản sao lưu, hoặc đặt DATABASE_URL sang tệp khác."
        )
    if name.startswith("SQLITE_CORRUPT"):
        return (
            f"Tệp cơ sở dữ liệu {path} bị hỏng (bị cắt cụt hoặc ghi dở): khôi phục từ bản sao "
            "lưu; đừng ghi tiếp vào tệp này."
        )
    if name.startswith("SQLITE_BUSY"):
        return (
            f"Tệp cơ sở dữ liệu {path} đang bị một tiến trình khác giữ khóa ghi quá lâu: chờ nó "
            "xong (hoặc dừng nó) rồi chạy lại."
        )
    if name.startswith("SQLITE_CANTOPEN") or (starting and _first(err, OSError) is not None):
        folder = Path(path).parent
        why = _cannot_create(folder)
        return (
            f"Không mở hoặc tạo được tệp cơ sở dữ liệu {path}: {why}. Tạo thư mục và cấp quyền "
            "ghi, hoặc đặt DATABASE_URL sang đường dẫn khác."
        )
    if name == "SQLITE_ERROR" and "no such table" in str(failure):
        return f"Tệp cơ sở dữ liệu {path} thiếu bảng của trợ lý. {UPGRADE}"
    return None


def _cannot_create(folder: Path) -> str:
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} là một tệp, không phải thư mục"
            if parent != folder:
                return f"không tạo được thư mục {folder} trong {parent}"
            return f"thư mục {folder} không ghi được"
    return f"thư mục {folder} không có"


def _explain_pg(err: BaseException, url: str) -> str | None:
    parsed = make_url(url)
    where, name, user = _where(url), parsed.database or "", parsed.username or ""
    if _first(err, InvalidCatalogNameError) is not None:
        return (
            f"Cơ sở dữ liệu “{name}” chưa có trên máy chủ PostgreSQL {where}: tạo nó "
            f"(createdb {name}) rồi chạy: dvk db upgrade"
        )
    if _first(err, (InvalidAuthorizationSpecificationError, InvalidPasswordError)) is not None:
        return (
            f"PostgreSQL {where} không cho người dùng “{user}” đăng nhập: kiểm tra tên và mật "
            "khẩu trong DATABASE_URL."
        )
    if _first(err, UndefinedTableError) is not None:
        return f"Cơ sở dữ liệu “{name}” trên PostgreSQL {where} chưa có bảng của trợ lý. {UPGRADE}"
    if _first(err, socket.gaierror) is not None:
        return (
            f"Không tìm thấy máy chủ PostgreSQL “{parsed.host}”: kiểm tra tên máy trong "
            "DATABASE_URL."
        )
    if _first(err, TimeoutError) is not None:
        return (
            f"PostgreSQL {where} không trả lời: kiểm tra máy chủ đang chạy, mạng, tường lửa và "
            "địa chỉ trong DATABASE_URL."
        )
    if _first(err, (OSError, CannotConnectNowError, ConnectionDoesNotExistError)) is not None:
        return (
            f"Không kết nối được PostgreSQL {where}: kiểm tra máy chủ PostgreSQL đang chạy và địa "
            "chỉ, cổng trong DATABASE_URL."
        )
    return None


def _sqlite_file_problem(url: str) -> str | None:
    """What is wrong with the SQLite file before it is opened: the start must not turn a
    read-only, foreign or truncated file into a traceback, or into a server that starts and
    fails at its first write."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    path = Path(database)
    if not path.exists():
        return None
    with path.open("rb") as file:
        header = file.read(100)
    size = path.stat().st_size
    if size and not header.startswith(b"SQLite format 3\x00"):
        return explain(sqlite3.DatabaseError("file is not a database"), url, starting=True)
    if len(header) == 100:
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(header[28:32], "big")
        # The size in the header counts only when the file says it is valid (SQLite's rule).
        if header[24:28] == header[92:96] and pages * page_size > size:
            return (
                f"Tệp cơ sở dữ liệu {_sqlite_path(url)} bị cắt cụt ({size} trên "
                f"{pages * page_size} byte): khôi phục từ bản sao lưu; đừng ghi tiếp vào tệp này."
            )
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
    if not writable:
        return explain(sqlite3.OperationalError("attempt to write a readonly database"), url)
    return None


async def open_database(
    url: str, *, migrate: bool, current: bool, concurrency: int | None = None
) -> AsyncEngine:
    """The engine for ``url``, ready: see :func:`prepare`. Raises DatabaseTrouble."""
    try:
        engine = make_engine(url, concurrency=concurrency)
    except Exception as err:  # a URL it cannot read, a folder it cannot create
        problem = explain(err, url, starting=True)
        if problem is None:
            raise
        raise DatabaseTrouble(problem) from err
    try:
        await prepare(engine, migrate=migrate, current=current)
    except BaseException:
        await engine.dispose()
        raise
    return engine


async def prepare(engine: AsyncEngine, *, migrate: bool, current: bool) -> None:
    """Open the database at start: check the SQLite file, apply the migrations (``migrate``),
    and with ``current`` make sure the schema is the one this program needs. Any failure is
    a DatabaseTrouble with the one line to show."""
    url = engine.url.render_as_string(hide_password=False)
    problem = _sqlite_file_problem(url) if is_sqlite(url) else None
    if problem is not None:
        raise DatabaseTrouble(problem)
    try:
        if migrate:
            await upgrade(engine)
        revision = await current_revision(engine)
    except Exception as err:
        problem = explain(err, url, starting=True)
        if problem is None:
            raise
        raise DatabaseTrouble(problem) from err
    if current:
        _check_revision(revision, url)


def _check_revision(revision: str | None, url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_current_head()
    if revision == head:
        return
    name = make_url(url).database or ""
    if revision is None:
        raise DatabaseTrouble(f"Cơ sở dữ liệu “{name}” chưa có bảng của trợ lý. {UPGRADE}")
    known = {rev.revision for rev in script.walk_revisions()}
    if revision not in known:
        raise DatabaseTrouble(
            f"Cơ sở dữ liệu “{name}” ở phiên bản lược đồ {revision}, mới hơn chương trình này "
            f"(cần {head}): cập nhật chương trình."
        )
    raise DatabaseTrouble(
        f"Cơ sở dữ liệu “{name}” đang ở phiên bản lược đồ {revision}, chương trình cần {head}. "
        f"{UPGRADE}"
    )
