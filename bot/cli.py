"""The `dvk` command line: run the bot, chat in a terminal, administer units, invites, years."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App, build_app, setup_logging
from bot.cli_backup import add_backup_parsers
from bot.cli_common import CliError, default_root, resolve_unit
from bot.cli_reports import add_report_parser
from bot.demo import describe, load_demo
from bot.runner import ConfigError, run
from bot.settings import Settings
from bot.terminal import chat
from domain.calendar import DEADLINE_KINDS, KIND_ALIASES, kind_from_text
from domain.catalog import ROLE_LABELS, Role, signer_title
from domain.text import clean, one_line
from handlers.core import utcnow
from reports.bieu1 import add_document
from reports.exports import EXPORTS, Scope, make_export
from reports.importer import WorkbookError, import_models
from reports.unit_import import TableError, import_units, read_table
from storage import audit_log, deadlines, invites, unit_tree
from storage.db import current_revision, explain, make_revision, upgrade
from storage.models import LeadDocument, Unit


def parse_date(text: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError as err:
        raise CliError(f"Ngày “{text}” không đúng dạng dd/mm/yyyy.") from err


# --- commands ------------------------------------------------------------------


async def cmd_db(app: App, args: argparse.Namespace, out: TextIO) -> None:
    if args.action == "upgrade":
        await upgrade(app.engine)
    elif args.action == "revision":
        if not args.message:
            raise CliError('Cần mô tả: dvk db revision -m "thêm bảng …"')
        await make_revision(app.engine, args.message)
        out.write("Đã tạo tệp di chuyển mới trong storage/migrations/versions/.\n")
        return
    out.write(f"Phiên bản lược đồ: {await current_revision(app.engine)}\n")


SIGNER_TITLE_MAX = 200


async def cmd_unit(app: App, args: argparse.Namespace, out: TextIO) -> int:
    now = utcnow()
    async with app.sessionmaker() as session, session.begin():
        if args.action == "add":
            parent = await resolve_unit(session, args.parent) if args.parent else None
            unit = await unit_tree.add_unit(session, one_line(args.name), args.kind, parent, now)
            out.write(f"Đã thêm đơn vị {unit.id}: {unit.name}\n")
        elif args.action == "list":
            units = await unit_tree.list_units(session)
            if not units:
                out.write("Chưa có đơn vị nào. Thêm bằng: dvk unit add TÊN --kind LOẠI\n")
            for u in units:
                out.write(f"{'  ' * u.depth}{u.id:>5}  {u.name} [{u.kind}]\n")
        elif args.action == "set-signer":
            unit = await resolve_unit(session, args.unit)
            title = one_line(args.title or "")
            if len(title) > SIGNER_TITLE_MAX:
                raise CliError(f"Chức danh dài {len(title)} ký tự, tối đa {SIGNER_TITLE_MAX}.")
            unit.signer_title = title or None
            await audit_log.audit(
                session, None, "set_signer", "unit", unit.id, {"title": unit.signer_title}, now
            )
            shown = signer_title(unit.kind, unit.signer_title)
            how = "" if unit.signer_title else " (mặc định theo loại đơn vị)"
            out.write(f"Các biểu của {unit.name} do “{shown}” ký{how}.\n")
        else:
            try:
                rows = read_table(Path(args.file))
            except TableError as err:
                raise CliError(str(err)) from None
            result = await import_units(session, rows, now)
            out.write(result.text(dry_run=args.dry_run))
            if args.dry_run:
                await session.rollback()
            return 1 if result.failed else 0
    return 0


async def cmd_invite(app: App, args: argparse.Namespace, out: TextIO) -> None:
    if args.uses < 1 or args.days < 1:
        raise CliError("--uses và --days phải từ 1 trở lên.")
    async with app.sessionmaker() as session, session.begin():
        unit = await resolve_unit(session, args.unit)
        invite = await invites.create_invite(
            session, unit, args.role, args.uses, args.days, utcnow()
        )
    expires = invite.expires_at.astimezone(app.core.tz).strftime("%d/%m/%Y %H:%M")
    out.write(
        f"Mã mời: {invite.code}\n"
        f"Đơn vị: {unit.name} — vai trò: {ROLE_LABELS[args.role]}\n"
        f"Dùng được {invite.uses_left} lần, hết hạn {expires}\n"
        f"Người được mời gõ trong trò chuyện với bot: /start {invite.code}\n"
    )
    username = app.settings.telegram_bot_username
    if username:
        out.write(f"Liên kết Telegram: https://t.me/{username.lstrip('@')}?start={invite.code}\n")
    else:
        out.write("(Đặt TELEGRAM_BOT_USERNAME để in liên kết Telegram bấm là vào.)\n")


async def top_unit(session: AsyncSession, ref: str | None) -> Unit | None:
    """``--unit`` if given, else the one unit without a parent (None: there is no unit)."""
    if ref:
        return await resolve_unit(session, ref)
    candidates = await deadlines.top_units(session)
    if len(candidates) > 1:
        raise CliError("Có nhiều đơn vị cấp cao nhất; hãy chọn --unit.")
    return candidates[0] if candidates else None


async def cmd_campaign(app: App, args: argparse.Namespace, out: TextIO) -> None:
    now = utcnow()
    year = args.year or now.astimezone(app.core.tz).year
    async with app.sessionmaker() as session, session.begin():
        unit = await top_unit(session, args.unit)
        if unit is None:
            if args.action == "set":
                raise CliError("Chưa có đơn vị nào để đặt hạn. Thêm đơn vị trước: dvk unit add")
            out.write(f"Các hạn năm {year} (mặc định, chưa có đơn vị nào):\n")
            for d in deadlines.YearPlan(year, {}, {}).defaults():
                out.write(f"  {d.due_on.strftime('%d/%m/%Y')}  {d.kind:<13} {d.title}\n")
            return
        if args.action == "set":
            changes = parse_changes(args.deadlines, year)
            if not changes:
                raise CliError("Cần ít nhất một hạn, ví dụ: registration=15/04/2026")
            for kind, due in changes.items():
                old = (await deadlines.due_for(session, unit, year, kind)).due_on
                await deadlines.set_deadline(session, unit, year, kind, due, now)
                await audit_log.audit(
                    session,
                    None,
                    "set_deadline",
                    "unit",
                    unit.id,
                    {"year": year, "kind": kind, "from": old.isoformat(), "to": due.isoformat()},
                    now,
                    "cli",
                )
        out.write(
            f"Các hạn năm {year} của {unit.name} (và các đơn vị trực thuộc chưa đặt riêng):\n"
        )
        for d in await deadlines.dues_for(session, unit, year):
            level = await session.get(Unit, d.set_by) if d.set_by is not None else None
            where = f"theo kế hoạch của {level.name}" if level is not None else "mặc định"
            out.write(f"  {d.due_on.strftime('%d/%m/%Y')}  {d.kind:<13} {d.title} ({where})\n")


def parse_assignment(text: str) -> tuple[str, date]:
    kind_text, sep, value = text.partition("=")
    return _deadline_kind(kind_text, text, bool(sep)), parse_date(value)


def _deadline_kind(word: str, given: str, ok: bool = True) -> str:
    kind = kind_from_text(word) if ok else None
    if kind is None or kind not in DEADLINE_KINDS:
        kinds = ", ".join(f"{k} ({KIND_ALIASES[k][0]})" for k in DEADLINE_KINDS)
        raise CliError(
            f"“{given}”: cần dạng LOẠI=dd/mm/yyyy (hoặc LOẠI dd/mm/yyyy) với LOẠI là một "
            f"trong: {kinds}."
        )
    return kind


def parse_changes(words: Sequence[str], year: int) -> dict[str, date]:
    """``registration=30/04/2026 tonghop=10/12/2026`` or ``dangky 30/04/2026``."""
    changes: dict[str, date] = {}
    rest = list(words)
    while rest:
        word = rest.pop(0)
        if "=" in word:
            kind, due = parse_assignment(word)
        else:
            kind = _deadline_kind(word, word)
            if not rest:
                raise CliError(f"“{word}”: thiếu ngày, ví dụ: dvk campaign set {word} 30/04/{year}")
            due = parse_date(rest.pop(0))
        if due.year not in (year, year + 1):
            raise CliError(
                f"Ngày {due.strftime('%d/%m/%Y')} không thuộc năm {year}; "
                f"hạn của năm khác thì thêm --year {due.year}."
            )
        changes[kind] = due
    return changes


async def cmd_demo(app: App, args: argparse.Namespace, out: TextIO) -> None:
    now = utcnow()
    as_of = parse_date(args.date) if args.date else None
    async with app.sessionmaker() as session, session.begin():
        result = await load_demo(session, now, app.core.tz, as_of)
    out.write(describe(result, now.astimezone(app.core.tz).date()))


async def cmd_chat(app: App, args: argparse.Namespace, out: TextIO) -> None:
    await chat(app.core, args.as_name, stdin=sys.stdin, stdout=out)


async def cmd_run(app: App, args: argparse.Namespace, out: TextIO) -> None:
    try:
        await run(app, args.webhook, out)
    except ConfigError as err:
        out.write(str(err))
        raise SystemExit(2) from None


async def cmd_export(app: App, args: argparse.Namespace, out: TextIO) -> None:
    now = utcnow()
    year = args.year or now.astimezone(app.core.tz).year
    async with app.sessionmaker() as session:
        root = await resolve_unit(session, args.unit) if args.unit else await default_root(session)
        scope = Scope(root, True, year, app.core.tz, now, app.core.quotas)
        document = await make_export(session, args.kind, scope)
    target = Path(args.output) if args.output else Path(document.file_name)
    if target.is_dir():
        target = target / document.file_name
    target.write_bytes(document.content)
    label = EXPORTS[args.kind].label
    out.write(f"Đã ghi {label} năm {year} — {root.name}: {target} ({len(document.content)} byte)\n")


async def cmd_doc(app: App, args: argparse.Namespace, out: TextIO) -> None:
    now = utcnow()
    async with app.sessionmaker() as session, session.begin():
        unit = await resolve_unit(session, args.unit)
        if args.action == "add":
            issued = parse_date(args.date)
            year = args.year or issued.year
            try:
                number, content = one_line(args.number), clean(args.content)
                doc = await add_document(session, unit, year, number, issued, content, None, now)
            except ValueError as err:
                raise CliError(str(err)) from None
            out.write(f"Đã thêm văn bản {doc.number} ngày {issued.strftime('%d/%m/%Y')}.\n")
            return
        year = args.year or now.astimezone(app.core.tz).year
        rows = await session.scalars(
            select(LeadDocument)
            .where(LeadDocument.unit_id == unit.id, LeadDocument.year == year)
            .order_by(LeadDocument.issued_on, LeadDocument.number)
        )
        found = list(rows.all())
        if not found:
            out.write(f"{unit.name} chưa có văn bản nào năm {year}.\n")
        for d in found:
            out.write(f"{d.issued_on.strftime('%d/%m/%Y')}  {d.number}  {d.content}\n")


def parse_accept(text: str | None) -> bool | frozenset[int]:
    """``--accept`` alone: every suggestion; ``--accept 16,23``: those rows' suggestions."""
    if text is None:
        return False
    if text == ACCEPT_ALL:
        return True
    try:
        rows = frozenset(int(part) for part in text.replace(" ", ",").split(",") if part)
    except ValueError:
        raise CliError(
            f"--accept “{text}”: cần các số dòng cách nhau bằng dấu phẩy (--accept 16,23), "
            "hoặc --accept đứng một mình (đặt sau tên tệp) để nhận mọi gợi ý."
        ) from None
    return rows


async def cmd_import(app: App, args: argparse.Namespace, out: TextIO) -> None:
    """``dvk import models FILE.xlsx``: a filled Phụ lục 1 or 4 into the database."""
    path = Path(args.file)
    accept = parse_accept(args.accept)
    async with app.sessionmaker() as session:
        root = await resolve_unit(session, args.unit) if args.unit else None
        try:
            report = await import_models(
                session, path, args.year, root, utcnow(), file_name=path.name, accept=accept
            )
        except WorkbookError as err:
            raise CliError(str(err)) from None
        # Written before the transaction ends: a rollback expires the units the report names.
        text = report.text(dry_run=args.dry_run)
        table = report.workbook(args.dry_run) if args.report else b""
        if args.dry_run:
            await session.rollback()
        else:
            await session.commit()
    out.write(text)
    if args.report:
        await asyncio.to_thread(Path(args.report).write_bytes, table)
        out.write(f"Đã ghi bảng kết quả nhập: {args.report}\n")


Command = Callable[[App, argparse.Namespace, TextIO], Awaitable[int | None]]
DATABASE_TROUBLE = 3  # the exit status when the database cannot be used
ACCEPT_ALL = "*"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dvk", description="Trợ lý “Dân vận khéo”")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="chạy bot trên các kênh đã cấu hình")
    run.add_argument(
        "--webhook", action="store_true", help="nhận tin qua webhook (cần PUBLIC_BASE_URL)"
    )
    run.set_defaults(func=cmd_run)

    chat = sub.add_parser("chat", help="trò chuyện với trợ lý trong terminal")
    chat.add_argument("--as", dest="as_name", default="canbo", help="tên tài khoản terminal")
    chat.set_defaults(func=cmd_chat)

    demo = sub.add_parser("demo", help="nạp dữ liệu mẫu (một phường, các chi bộ, đoàn thể)")
    demo.add_argument(
        "--date", "--today", help="dữ liệu như vào ngày dd/mm/yyyy (mặc định: hôm nay)"
    )
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="cơ sở dữ liệu")
    db.add_argument("action", choices=["upgrade", "current", "revision"])
    db.add_argument("-m", "--message", help="mô tả của bản di chuyển mới (với revision)")
    db.set_defaults(func=cmd_db)

    add_backup_parsers(sub)

    unit = sub.add_parser("unit", help="đơn vị")
    unit_sub = unit.add_subparsers(dest="action", required=True)
    add = unit_sub.add_parser("add", help="thêm một đơn vị")
    add.add_argument("name")
    add.add_argument("--kind", default="khac", help="loại: tinh, xa, phuong, chi_bo, doan_the…")
    add.add_argument(
        "--parent", help="đơn vị cấp trên: mã số, tên, hoặc đường dẫn “Cấp trên / Tên”"
    )
    unit_sub.add_parser("list", help="cây đơn vị")
    signer = unit_sub.add_parser(
        "set-signer", help="chức danh người ký các biểu của đơn vị (vd. “T/M ĐẢNG ỦY”)"
    )
    signer.add_argument("unit", help="mã số, tên hoặc đường dẫn của đơn vị")
    signer.add_argument(
        "title", nargs="?", default="", help="chức danh; bỏ trống: theo loại đơn vị"
    )
    imp = unit_sub.add_parser(
        "import", help="nhập cây đơn vị từ CSV hoặc XLSX (cột Tên, Loại, Cấp trên)"
    )
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="chỉ kiểm tra và báo cáo, không ghi")
    unit.set_defaults(func=cmd_unit)

    invite = sub.add_parser("invite", help="mã mời")
    invite_sub = invite.add_subparsers(dest="action", required=True)
    create = invite_sub.add_parser("create", help="tạo mã mời vào một đơn vị")
    create.add_argument("--unit", required=True, help="mã số hoặc tên đơn vị")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--uses", type=int, default=1, help="số lần dùng (mặc định 1)")
    create.add_argument("--days", type=int, default=7, help="số ngày hiệu lực (mặc định 7)")
    invite.set_defaults(func=cmd_invite)

    campaign = sub.add_parser("campaign", help="các hạn của một năm")
    campaign_sub = campaign.add_subparsers(dest="action", required=True)
    show = campaign_sub.add_parser("show", help="xem các hạn")
    show.add_argument("--year", type=int)
    show.add_argument("--unit", help="mã số hoặc tên đơn vị (mặc định đơn vị cấp cao nhất)")
    set_ = campaign_sub.add_parser(
        "set",
        help="đặt hạn: LOẠI=dd/mm/yyyy … hoặc LOẠI dd/mm/yyyy "
        "(LOẠI: registration/dangky, evaluation/danhgia, unit_report/baocao, "
        "consolidated/tonghop)",
    )
    set_.add_argument("--year", type=int)
    set_.add_argument(
        "--unit",
        help="đơn vị đặt hạn cho mình và các đơn vị trực thuộc (mặc định đơn vị cấp cao nhất)",
    )
    set_.add_argument("deadlines", nargs="*", metavar="LOẠI=dd/mm/yyyy")
    campaign.set_defaults(func=cmd_campaign)

    export = sub.add_parser("export", help=f"xuất biểu: {', '.join(EXPORTS)}")
    export.add_argument("kind", choices=list(EXPORTS))
    export.add_argument("--year", type=int, help="năm (mặc định năm nay)")
    export.add_argument("--unit", help="mã số hoặc tên đơn vị (mặc định đơn vị cấp cao nhất)")
    export.add_argument("-o", "--output", help="tệp hoặc thư mục ghi ra")
    export.set_defaults(func=cmd_export)

    add_report_parser(sub)

    doc = sub.add_parser("doc", help="văn bản chỉ đạo (Biểu 1)")
    doc_sub = doc.add_subparsers(dest="action", required=True)
    doc_add = doc_sub.add_parser("add", help="thêm một văn bản")
    doc_add.add_argument("--unit", required=True, help="mã số hoặc tên đơn vị ban hành")
    doc_add.add_argument("--number", required=True, help="số hiệu, ví dụ 15-KH/ĐU")
    doc_add.add_argument("--date", required=True, help="ngày ban hành dd/mm/yyyy")
    doc_add.add_argument("--content", required=True, help="trích yếu nội dung")
    doc_add.add_argument("--year", type=int, help="năm của phong trào (mặc định năm ban hành)")
    doc_list = doc_sub.add_parser("list", help="các văn bản của một đơn vị trong năm")
    doc_list.add_argument("--unit", required=True)
    doc_list.add_argument("--year", type=int)
    doc.set_defaults(func=cmd_doc)

    imp_data = sub.add_parser("import", help="nhập dữ liệu từ biểu Excel đã điền")
    imp_sub = imp_data.add_subparsers(dest="what", required=True)
    imp_models = imp_sub.add_parser(
        "models", help="nhập mô hình từ Phụ lục 1 hoặc Phụ lục 4 (.xlsx) theo mẫu"
    )
    imp_models.add_argument("file")
    imp_models.add_argument("--year", type=int, help="năm (mặc định năm ghi ở tiêu đề biểu)")
    imp_models.add_argument(
        "--unit", help="mã số hoặc tên đơn vị gốc (mặc định đơn vị cấp cao nhất)"
    )
    imp_models.add_argument(
        "--dry-run", action="store_true", help="chỉ kiểm tra và báo cáo, không ghi gì"
    )
    imp_models.add_argument(
        "--accept",
        nargs="?",
        const=ACCEPT_ALL,
        metavar="DÒNG,…",
        help="áp dụng các gợi ý của báo cáo: mọi gợi ý, hoặc chỉ của các dòng đã nêu",
    )
    imp_models.add_argument("--report", metavar="TỆP.xlsx", help="ghi bảng kết quả nhập ra tệp")
    imp_data.set_defaults(func=cmd_import)
    return parser


async def run_command(
    argv: Sequence[str], settings: Settings | None = None, out: TextIO | None = None
) -> int:
    out = out or sys.stdout  # looked up now: tests and callers may have replaced it
    args = build_parser().parse_args(argv)
    settings = settings or Settings()
    if args.command == "chat":
        # Keep the conversation readable: log records go to a file instead of the screen.
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        logging.basicConfig(filename="dvk-chat.log", level=logging.INFO)
    # May be run on a database not migrated yet (restore: one never migrated at all).
    administering = args.command in ("db", "backup", "restore")
    try:
        app = await build_app(
            settings, migrate=False if administering else None, check_schema=not administering
        )
        try:
            code = await args.func(app, args, out)
        finally:
            await app.close()
    except CliError as err:
        sys.stderr.write(f"Lỗi: {err}\n")
        return 1
    except Exception as err:
        # The one place where a failure of the database becomes one line to act on, for
        # every command; the traceback only with LOG_LEVEL=DEBUG.
        problem = explain(err, settings.database_url)
        if problem is None:
            raise
        if settings.log_level.upper() == "DEBUG":
            traceback.print_exception(err, file=sys.stderr)
        sys.stderr.write(f"Lỗi: {problem}\n")
        return DATABASE_TROUBLE
    return code or 0


def main(argv: Sequence[str] | None = None) -> None:
    settings = Settings()
    setup_logging(settings)
    try:
        code = asyncio.run(run_command(sys.argv[1:] if argv is None else argv, settings))
    except KeyboardInterrupt:
        code = 130
    raise SystemExit(code)
