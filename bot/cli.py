"""The `dvk` command line: run the bot, chat in a terminal, administer units, invites, years."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App, build_app, setup_logging
from bot.demo import load_demo
from bot.runner import ConfigError, run
from bot.settings import Settings
from bot.terminal import chat
from domain.calendar import DEADLINE_KINDS, KIND_ALIASES, kind_from_text
from domain.catalog import ROLE_LABELS, Role
from domain.text import clean, fold
from handlers.core import utcnow
from reports.bieu1 import add_document
from reports.exports import EXPORTS, Scope, make_export
from reports.importer import WorkbookError, import_models
from storage import deadlines, repo
from storage.db import current_revision, make_revision, upgrade
from storage.models import LeadDocument, Unit


class CliError(Exception):
    """A mistake in the command's arguments or data; printed without a traceback."""


def parse_date(text: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError as err:
        raise CliError(f"Ngày “{text}” không đúng dạng dd/mm/yyyy.") from err


async def resolve_unit(session: AsyncSession, ref: str) -> Unit:
    """A unit by id or by name (with or without diacritics); ambiguity is an error."""
    if ref.isdigit():
        unit = await session.get(Unit, int(ref))
        if unit is None:
            raise CliError(f"Không có đơn vị mã {ref}.")
        return unit
    found = await repo.find_units_by_name(session, ref, partial=True)
    if not found:
        raise CliError(f"Không tìm thấy đơn vị “{ref}”. Xem danh sách: dvk unit list")
    if len(found) > 1:
        ids = ", ".join(f"{u.id} {u.name}" for u in found[:10])
        raise CliError(f"Có nhiều đơn vị khớp “{ref}” (mã {ids}); hãy dùng mã số.")
    return found[0]


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


async def cmd_unit(app: App, args: argparse.Namespace, out: TextIO) -> None:
    now = utcnow()
    async with app.sessionmaker() as session, session.begin():
        if args.action == "add":
            parent = await resolve_unit(session, args.parent) if args.parent else None
            unit = await repo.add_unit(session, clean(args.name), args.kind, parent, now)
            out.write(f"Đã thêm đơn vị {unit.id}: {unit.name}\n")
        elif args.action == "list":
            units = await repo.list_units(session)
            if not units:
                out.write("Chưa có đơn vị nào. Thêm bằng: dvk unit add TÊN --kind LOẠI\n")
            for u in units:
                out.write(f"{'  ' * u.depth}{u.id:>5}  {u.name} [{u.kind}]\n")
        else:
            rows = read_table(Path(args.file))
            created = await import_units(session, rows, now)
            out.write(f"Đã nhập {created} đơn vị mới ({len(rows) - created} đã có sẵn).\n")


def read_table(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV or XLSX file as dicts keyed by folded header."""
    if not path.exists():
        raise CliError(f"Không thấy tệp {path}.")
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        sheet = wb.active
        raw = [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
        wb.close()
    else:
        text = path.read_text(encoding="utf-8-sig")
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
        raw = list(csv.reader(io.StringIO(text), dialect))
    raw = [r for r in raw if any(c.strip() for c in r)]
    if not raw:
        return []
    header = [fold(h) for h in raw[0]]
    return [dict(zip(header, (clean(c) for c in r), strict=False)) for r in raw[1:]]


HEADER_NAMES = {
    "name": ("ten", "ten don vi", "name", "don vi"),
    "kind": ("loai", "kind", "loai don vi", "cap"),
    "parent": ("cap tren", "parent", "don vi cap tren", "truc thuoc"),
}


def _column(row: dict[str, str], what: str) -> str:
    for header in HEADER_NAMES[what]:
        if row.get(header):
            return row[header]
    return ""


async def import_units(session: AsyncSession, rows: list[dict[str, str]], now: datetime) -> int:
    """Create the units of a table (name, kind, parent name); rows may come in any order."""
    pending = []
    for number, row in enumerate(rows, 2):
        name = _column(row, "name")
        if not name:
            raise CliError(f"Dòng {number}: thiếu tên đơn vị (cột “Tên”).")
        pending.append((number, name, _column(row, "kind") or "khac", _column(row, "parent")))
    created = 0
    while pending:
        progress = False
        for item in list(pending):
            number, name, kind, parent_name = item
            parent = None
            if parent_name:
                candidates = await repo.find_units_by_name(session, parent_name)
                if len(candidates) > 1:
                    raise CliError(f"Dòng {number}: có nhiều đơn vị tên “{parent_name}”.")
                if not candidates:
                    continue  # its parent may be further down the file
                parent = candidates[0]
            same = await session.scalar(
                select(Unit)
                .where(Unit.parent_id.is_(None) if parent is None else Unit.parent_id == parent.id)
                .where(Unit.name == name)
            )
            if same is None:
                await repo.add_unit(session, name, kind, parent, now)
                created += 1
            pending.remove(item)
            progress = True
        if not progress:
            missing = ", ".join(f"dòng {n}: “{p}”" for n, _, _, p in pending)
            raise CliError(f"Không tìm thấy đơn vị cấp trên ({missing}).")
    return created


async def cmd_invite(app: App, args: argparse.Namespace, out: TextIO) -> None:
    if args.uses < 1 or args.days < 1:
        raise CliError("--uses và --days phải từ 1 trở lên.")
    async with app.sessionmaker() as session, session.begin():
        unit = await resolve_unit(session, args.unit)
        invite = await repo.create_invite(session, unit, args.role, args.uses, args.days, utcnow())
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
                await repo.audit(
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
    async with app.sessionmaker() as session, session.begin():
        result = await load_demo(session, utcnow(), app.core.tz)
    if not result.created:
        out.write("Dữ liệu mẫu đã có sẵn. Thử ngay: dvk chat\n")
        return
    out.write(
        f"Đã tạo dữ liệu mẫu: {result.units} đơn vị, {result.models} mô hình"
        " (năm nay và năm trước).\n"
        "Thử trò chuyện trong terminal:\n"
        "  dvk chat                 # Nguyễn Thị Lan, cán bộ Hội LHPN phường\n"
        "  dvk chat --as lanhdao    # Trần Văn Hùng, lãnh đạo Đảng bộ phường\n"
        "Mã mời cho Telegram/Zalo:\n"
    )
    for label, code in result.invites.items():
        out.write(f"  {code}  ({label})\n")


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
        if args.unit:
            root = await resolve_unit(session, args.unit)
        else:
            tops = await session.scalars(select(Unit).where(Unit.parent_id.is_(None)))
            candidates = list(tops.all())
            if len(candidates) != 1:
                raise CliError("Có nhiều (hoặc không có) đơn vị cấp cao nhất; hãy chọn --unit.")
            root = candidates[0]
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
                doc = await add_document(
                    session, unit, year, clean(args.number), issued, clean(args.content), None, now
                )
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


async def cmd_import(app: App, args: argparse.Namespace, out: TextIO) -> None:
    """``dvk import models FILE.xlsx``: a filled Phụ lục 1 or 4 into the database."""
    path = Path(args.file)
    async with app.sessionmaker() as session:
        if args.unit:
            root = await resolve_unit(session, args.unit)
        else:
            tops = list((await session.scalars(select(Unit).where(Unit.parent_id.is_(None)))).all())
            if len(tops) != 1:
                raise CliError("Có nhiều (hoặc không có) đơn vị cấp cao nhất; hãy chọn --unit.")
            root = tops[0]
        try:
            report = await import_models(
                session, path, args.year, root, utcnow(), file_name=path.name
            )
        except WorkbookError as err:
            raise CliError(str(err)) from None
        text = report.text(dry_run=args.dry_run)
        if args.dry_run:
            await session.rollback()
        else:
            await session.commit()
    out.write(text)


Command = Callable[[App, argparse.Namespace, TextIO], Awaitable[None]]


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
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="cơ sở dữ liệu")
    db.add_argument("action", choices=["upgrade", "current", "revision"])
    db.add_argument("-m", "--message", help="mô tả của bản di chuyển mới (với revision)")
    db.set_defaults(func=cmd_db)

    unit = sub.add_parser("unit", help="đơn vị")
    unit_sub = unit.add_subparsers(dest="action", required=True)
    add = unit_sub.add_parser("add", help="thêm một đơn vị")
    add.add_argument("name")
    add.add_argument("--kind", default="khac", help="loại: tinh, xa, phuong, chi_bo, doan_the…")
    add.add_argument("--parent", help="mã số hoặc tên đơn vị cấp trên")
    unit_sub.add_parser("list", help="cây đơn vị")
    imp = unit_sub.add_parser("import", help="nhập cây đơn vị từ CSV hoặc XLSX")
    imp.add_argument("file")
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

    export = sub.add_parser("export", help="xuất biểu: pl1, pl4, score, bieu1, summary")
    export.add_argument("kind", choices=["pl1", "pl4", "score", "bieu1", "summary", "intro"])
    export.add_argument("--year", type=int, help="năm (mặc định năm nay)")
    export.add_argument("--unit", help="mã số hoặc tên đơn vị (mặc định đơn vị cấp cao nhất)")
    export.add_argument("-o", "--output", help="tệp hoặc thư mục ghi ra")
    export.set_defaults(func=cmd_export)

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
    imp_data.set_defaults(func=cmd_import)
    return parser


async def run_command(
    argv: Sequence[str], settings: Settings | None = None, out: TextIO = sys.stdout
) -> int:
    args = build_parser().parse_args(argv)
    settings = settings or Settings()
    if args.command == "chat":
        # Keep the conversation readable: log records go to a file instead of the screen.
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        logging.basicConfig(filename="dvk-chat.log", level=logging.INFO)
    migrate = None if args.command != "db" else False
    app = await build_app(settings, migrate=migrate)
    try:
        await args.func(app, args, out)
    except CliError as err:
        sys.stderr.write(f"Lỗi: {err}\n")
        return 1
    finally:
        await app.close()
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    settings = Settings()
    setup_logging(settings)
    try:
        code = asyncio.run(run_command(sys.argv[1:] if argv is None else argv, settings))
    except KeyboardInterrupt:
        code = 130
    raise SystemExit(code)
