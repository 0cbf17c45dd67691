"""`dvk report yearly|consolidated|review`: a report draft in Word (reports/draft_files.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import exists, select

from bot.app import App
from bot.cli_common import CliError, default_root, resolve_unit
from handlers.core import utcnow
from reports.draft_files import CONSOLIDATED, DRAFT_KINDS, DRAFT_LABELS, REVIEW, make_draft
from storage.models import Unit

REVIEW_YEARS = 5  # a review covers five years unless --from says otherwise


async def cmd_report(app: App, args: argparse.Namespace, out: TextIO) -> None:
    now = utcnow()
    this_year = now.astimezone(app.core.tz).year
    last = args.to or args.year or this_year
    first = args.from_ if args.from_ is not None else last - REVIEW_YEARS + 1
    if args.kind != REVIEW and (args.from_ is not None or args.to is not None):
        raise CliError("--from và --to chỉ dùng cho báo cáo tổng kết (review).")
    if args.kind == REVIEW and first > last:
        raise CliError(f"Năm bắt đầu {first} ở sau năm kết thúc {last}.")
    async with app.sessionmaker() as session:
        root = await resolve_unit(session, args.unit) if args.unit else await default_root(session)
        if args.kind == CONSOLIDATED and not await session.scalar(
            select(exists().where(Unit.parent_id == root.id))
        ):
            raise CliError(
                f"{root.name} không có đơn vị trực thuộc nên không có báo cáo tổng hợp; "
                "dùng: dvk report yearly"
            )
        document = await make_draft(
            session,
            args.kind,
            root,
            last,
            today=now.astimezone(app.core.tz).date(),
            subtree=not args.unit_only,
            first=first if args.kind == REVIEW else None,
        )
    target = Path(args.output) if args.output else Path(document.file_name)
    if target.is_dir():
        target = target / document.file_name
    target.write_bytes(document.content)
    period = f"giai đoạn {first} - {last}" if args.kind == REVIEW else f"năm {last}"
    out.write(
        f"Đã ghi dự thảo {DRAFT_LABELS[args.kind].lower()} {period} — {root.name}: "
        f"{target} ({len(document.content)} byte)\n"
    )


def add_report_parser(sub: Any) -> None:
    """`dvk report …` among the commands of ``sub`` (argparse subparsers)."""
    report = sub.add_parser("report", help="dự thảo báo cáo (Word): yearly, consolidated, review")
    report.add_argument("kind", choices=list(DRAFT_KINDS))
    report.add_argument("--unit", help="mã số, tên hoặc đường dẫn đơn vị (mặc định cấp cao nhất)")
    report.add_argument("--year", type=int, help="năm báo cáo (mặc định năm nay)")
    report.add_argument("--from", dest="from_", type=int, help="review: năm đầu giai đoạn")
    report.add_argument("--to", type=int, help="review: năm cuối giai đoạn (mặc định --year)")
    report.add_argument(
        "--unit-only",
        action="store_true",
        help="chỉ số liệu của đơn vị, không gồm các đơn vị trực thuộc",
    )
    report.add_argument("-o", "--output", help="tệp hoặc thư mục ghi ra")
    report.set_defaults(func=cmd_report)
