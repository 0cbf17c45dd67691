"""`dvk backup FILE` and `dvk restore FILE [--force]`: the database and the files directory
in one archive (storage/backup.py)."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from bot.app import App
from bot.cli_common import CliError
from handlers.core import utcnow
from storage.backup import BackupError, backup, restore


async def cmd_backup(app: App, args: argparse.Namespace, out: TextIO) -> None:
    files_dir = Path(app.settings.files_dir)
    try:
        info = await backup(app.engine, files_dir, Path(args.file), utcnow())
    except BackupError as err:
        raise CliError(str(err)) from None
    out.write(
        f"Đã sao lưu cơ sở dữ liệu ({info.database}, phiên bản lược đồ {info.revision}) "
        f"và {info.files} tệp của thư mục {files_dir} vào {args.file}.\n"
    )


async def cmd_restore(app: App, args: argparse.Namespace, out: TextIO) -> None:
    files_dir = Path(app.settings.files_dir)
    try:
        info = await restore(app.engine, files_dir, Path(args.file), force=args.force)
    except BackupError as err:
        raise CliError(str(err)) from None
    made = datetime.fromisoformat(info.created).astimezone(app.core.tz).strftime("%d/%m/%Y %H:%M")
    out.write(
        f"Đã phục hồi từ {args.file} (sao lưu lúc {made}): cơ sở dữ liệu ({info.database}, "
        f"phiên bản lược đồ {info.revision}) và {info.files} tệp vào thư mục {files_dir}.\n"
    )
    if not app.settings.auto_migrate:
        out.write("Nếu chương trình mới hơn bản sao lưu, chạy tiếp: dvk db upgrade\n")


def add_backup_parsers(sub: Any) -> None:
    back = sub.add_parser(
        "backup", help="sao lưu cơ sở dữ liệu và thư mục tệp (FILES_DIR) vào một tệp .tar.gz"
    )
    back.add_argument("file", help="tệp sao lưu, ví dụ dvk-backup-2026-12-04.tar.gz")
    back.set_defaults(func=cmd_backup)
    rest = sub.add_parser("restore", help="phục hồi cơ sở dữ liệu và thư mục tệp từ tệp sao lưu")
    rest.add_argument("file")
    rest.add_argument(
        "--force", action="store_true", help="xóa dữ liệu đang có (cơ sở dữ liệu, thư mục tệp)"
    )
    rest.set_defaults(func=cmd_restore)
