"""Biểu 1 (Kế hoạch tổng kết 2021–2025, Điện Biên): the documents issued to lead the movement —
STT, number and date, content — and the one way to record such a document (:func:`add_document`).

The title and column headers are those of the Kế hoạch tổng kết 2021–2025 (Điện Biên)
("Biểu 1: VĂN BẢN LÃNH ĐẠO, CHỈ ĐẠO,
TRIỂN KHAI PHONG TRÀO THI ĐUA “DÂN VẬN KHÉO” GIAI ĐOẠN 2021 - 2025"), with the period
replaced by the year of the report.
"""

from __future__ import annotations

import io
import math
from datetime import date, datetime, timedelta

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.text import clean, fold
from reports.signing import Rows
from reports.style import cell, merge, scope_name, setup_sheet, title
from reports.summary import name_key, units_in_scope
from storage.models import LeadDocument, Unit

LABEL = "Biểu 1"
TITLE = "VĂN BẢN LÃNH ĐẠO, CHỈ ĐẠO, TRIỂN KHAI PHONG TRÀO THI ĐUA “DÂN VẬN KHÉO” NĂM {year}"
HEADERS = ("STT", "Số, ngày, tháng, năm ban hành văn bản", "Nội dung văn bản")
HEADER_ROW = 5
WIDTHS = {1: 8, 2: 38, 3: 80}
LINE_HEIGHT = 16.0  # points per line of 12-point Times New Roman
NO_DOCUMENTS = "Chưa có văn bản nào."
NUMBER_MAX = 100
CONTENT_MAX = 2000

_ROMAN = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)


def _height(text: str, width: float) -> float:
    """The height of a row whose cell of ``width`` holds ``text`` wrapped (generous: LibreOffice
    does not grow rows by itself)."""
    per_line = max(1, int(width * 1.1) - 2)
    lines = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
    return LINE_HEIGHT * lines + 4


def roman(number: int) -> str:
    out = []
    for value, letters in _ROMAN:
        count, number = divmod(number, value)
        out.append(letters * count)
    return "".join(out)


def number_and_date(document: LeadDocument) -> str:
    """E.g. ``15-KH/ĐU, ngày 12/3/2026``."""
    d = document.issued_on
    return f"{document.number}, ngày {d.day}/{d.month}/{d.year}"


def _order(document: LeadDocument) -> tuple[date, tuple[str | int, ...], int]:
    return document.issued_on, name_key(document.number), document.id


async def add_document(
    session: AsyncSession,
    unit: Unit,
    year: int,
    number: str,
    issued_on: date,
    content: str,
    person_id: int | None,
    now: datetime,
) -> LeadDocument:
    """Record a document of ``unit`` in Biểu 1 of ``year``. Raises ValueError (Vietnamese,
    for the person) when the number is empty or over 100 characters, the content empty or
    over 2000, the date after today (``now``'s date plus one day, for time zones ahead of
    UTC), or the unit already has a document with that number in that year."""
    number = clean(number)
    content = clean(content)
    if not number:
        raise ValueError("Số hiệu văn bản không được để trống.")
    if len(number) > NUMBER_MAX:
        raise ValueError(f"Số hiệu văn bản dài {len(number)} ký tự, tối đa {NUMBER_MAX} ký tự.")
    if not content:
        raise ValueError("Trích yếu nội dung không được để trống.")
    if len(content) > CONTENT_MAX:
        raise ValueError(
            f"Trích yếu nội dung dài {len(content)} ký tự, tối đa {CONTENT_MAX} ký tự."
        )
    if issued_on > now.date() + timedelta(days=1):
        raise ValueError(
            f"Ngày ban hành {issued_on.strftime('%d/%m/%Y')} ở sau hôm nay: "
            "vui lòng kiểm tra lại ngày."
        )
    existing = await session.scalars(
        select(LeadDocument.number).where(
            LeadDocument.unit_id == unit.id, LeadDocument.year == year
        )
    )
    if any(fold(n) == fold(number) for n in existing.all()):
        raise ValueError(f"Văn bản số {number} đã có trong {LABEL} năm {year} của {unit.name}.")
    document = LeadDocument(
        unit_id=unit.id,
        year=year,
        number=number,
        issued_on=issued_on,
        content=content,
        created_by=person_id,
        created_at=now,
    )
    session.add(document)
    await session.flush()
    return document


async def build_bieu1(session: AsyncSession, root: Unit, year: int, subtree: bool = True) -> bytes:
    """Biểu 1 of ``root`` (and, with ``subtree``, of every unit below it) for ``year``:
    documents by date then number. With several units in scope the documents are grouped
    by unit in tree order, each group under a row with a Roman numeral and the unit's name,
    numbered from 1 within it; units without documents are left out."""
    scope = await units_in_scope(session, root, subtree)
    unit_ids = [u.id for u, _ in scope]
    rows = await session.scalars(
        select(LeadDocument).where(LeadDocument.year == year, LeadDocument.unit_id.in_(unit_ids))
    )
    by_unit: dict[int, list[LeadDocument]] = {}
    for document in rows.all():
        by_unit.setdefault(document.unit_id, []).append(document)
    grouped = len(scope) > 1

    wb = Workbook(write_only=True)
    ws: WriteOnlyWorksheet = wb.create_sheet(LABEL)
    setup_sheet(ws, WIDTHS, header_rows=(HEADER_ROW, HEADER_ROW), freeze="A6")
    sheet = Rows(ws, list(WIDTHS.values()), landscape=True)
    where = scope_name(root.name, grouped)
    sheet.append([cell(ws, f"{LABEL}:", bold=True, border=False, wrap=False)])
    sheet.append([title(ws, TITLE.format(year=year))], 20)
    sheet.append([title(ws, where, size=12, italic=True)], 20)
    sheet.append([])
    merge(ws, ["A2:C2", "A3:C3"])
    sheet.append([cell(ws, h, bold=True, horizontal="center") for h in HEADERS], 34)
    sheet.pager.repeated(34)

    merges: list[str] = []
    groups = 0
    for unit, _depth in scope:
        documents = sorted(by_unit.get(unit.id, []), key=_order)
        if not documents:
            continue
        if grouped:
            groups += 1
            row = sheet.append(
                [
                    cell(ws, roman(groups), bold=True, horizontal="center"),
                    cell(ws, unit.name, bold=True),
                    cell(ws),
                ],
                _height(unit.name, WIDTHS[2] + WIDTHS[3]),
            )
            merges.append(f"B{row}:C{row}")
        for number, document in enumerate(documents, start=1):
            sheet.append(
                [
                    cell(ws, number, horizontal="center"),
                    cell(ws, number_and_date(document)),
                    cell(ws, document.content),
                ],
                max(
                    _height(number_and_date(document), WIDTHS[2]),
                    _height(document.content, WIDTHS[3]),
                ),
            )
    if sheet.row == HEADER_ROW:
        row = sheet.append(
            [cell(ws, NO_DOCUMENTS, italic=True, horizontal="center"), cell(ws), cell(ws)]
        )
        merges.append(f"A{row}:C{row}")
    merge(ws, merges)
    sheet.sign(root.kind, root.signer_title)

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
