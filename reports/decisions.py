"""The lists of recognition: the models a unit proposes for recognition (``dexuat``) and the
models recognised, with the decision that recognised them (``congnhan``).

One row per model of the year in ``root`` (and its subtree), units in tree order, models by
field then name: the model and its unit, field and subject, the self-score and the council's
points (điểm thẩm định), the verdict recognition goes by (``domain.rubric.assessed``); the
recognised list adds the decision's number, date and level. Both end with the signature block
of :mod:`reports.signing`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import rubric
from domain.catalog import (
    DECISION_LEVEL_LABELS,
    FIELD_SHORT,
    SUBJECT_LABELS,
    DecisionLevel,
    Field,
    Review,
    Subject,
)
from reports.signing import Rows
from reports.style import cell, merge, scope_name, setup_sheet, title
from reports.summary import units_in_scope
from storage import model_years
from storage.models import ModelYear, Unit

PROPOSED_TITLE = "DANH SÁCH MÔ HÌNH “DÂN VẬN KHÉO” ĐỀ NGHỊ CÔNG NHẬN NĂM {year}"
RECOGNISED_TITLE = "DANH SÁCH MÔ HÌNH “DÂN VẬN KHÉO” ĐƯỢC CÔNG NHẬN NĂM {year}"
PROPOSED_SHEET = "Đề nghị công nhận"
RECOGNISED_SHEET = "Được công nhận"
NONE_PROPOSED = "Chưa có mô hình nào được đề nghị công nhận."
NONE_RECOGNISED = "Chưa có mô hình nào được công nhận."
NOT_SCORED = "chưa chấm"
NOT_RECORDED = "(chưa ghi)"

COMMON_HEADERS = (
    "STT",
    "Tên mô hình",
    "Đơn vị",
    "Lĩnh vực",
    "Chủ thể",
    rubric.COL_SELF,
    rubric.COL_COUNCIL,
    "Kết quả",
)
COMMON_WIDTHS = (6, 40, 28, 11, 10, 9, 10, 11)
PROPOSED_HEADERS = (*COMMON_HEADERS, "Ngày đề nghị")
PROPOSED_WIDTHS = (*COMMON_WIDTHS, 12)
RECOGNISED_HEADERS = (*COMMON_HEADERS, "Số quyết định", "Ngày quyết định", "Cấp công nhận")
RECOGNISED_WIDTHS = (*COMMON_WIDTHS, 16, 12, 14)
HEADER_ROW = 5
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
LINE_HEIGHT = 16.0
_FIELD_ORDER = {f.value: i for i, f in enumerate(Field)}


def _height(values: Sequence[Any], widths: Sequence[float]) -> float:
    lines = 1
    for value, width in zip(values, widths, strict=False):
        if isinstance(value, str):
            per_line = max(1, int(width * 1.1) - 2)
            lines = max(lines, sum(max(1, math.ceil(len(p) / per_line)) for p in value.split("\n")))
    return LINE_HEIGHT * lines + 4


def _points(value: Decimal | None) -> int | float | str:
    if value is None:
        return NOT_SCORED
    return int(value) if value == value.to_integral_value() else float(value)


def _date(value: date | datetime | None, tz: ZoneInfo) -> str | None:
    """dd/mm/yyyy; a moment (stored in UTC) on its day in ``tz``."""
    if isinstance(value, datetime):
        value = value.astimezone(tz)
    return None if value is None else value.strftime("%d/%m/%Y")


def decision_level_label(level: str | None) -> str | None:
    return None if level is None else DECISION_LEVEL_LABELS[DecisionLevel(level)]


async def _records(
    session: AsyncSession, root: Unit, year: int, subtree: bool, review: str
) -> list[tuple[ModelYear, Unit]]:
    units = [u for u, _ in await units_in_scope(session, root, subtree)]
    order = {u.id: i for i, u in enumerate(units)}
    rows = await session.execute(
        model_years.in_scope(select(ModelYear, Unit), root, year, subtree).where(
            ModelYear.review == review
        )
    )
    found = [(r, u) for r, u in rows.all()]
    found.sort(key=lambda ru: (order[ru[1].id], _FIELD_ORDER.get(ru[0].field, 9), ru[0].name))
    return found


async def _build(
    session: AsyncSession, root: Unit, year: int, subtree: bool, tz: ZoneInfo, *, recognised: bool
) -> bytes:
    review = Review.RECOGNISED.value if recognised else Review.PROPOSED.value
    records = await _records(session, root, year, subtree, review)
    ids = [r.id for r, _ in records]
    own = await model_years.scores_of(session, ids)
    council = await model_years.scores_of(session, ids, council=True)
    headers = RECOGNISED_HEADERS if recognised else PROPOSED_HEADERS
    widths = RECOGNISED_WIDTHS if recognised else PROPOSED_WIDTHS
    last = chr(ord("A") + len(widths) - 1)

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(RECOGNISED_SHEET if recognised else PROPOSED_SHEET)
    setup_sheet(ws, dict(enumerate(widths, 1)), header_rows=(HEADER_ROW, HEADER_ROW), freeze="A6")
    sheet = Rows(ws, widths, landscape=True)
    sheet.append([cell(ws, root.name.upper(), bold=True, border=False, wrap=False)])
    heading = (RECOGNISED_TITLE if recognised else PROPOSED_TITLE).format(year=year)
    sheet.append([title(ws, heading)], 36)
    where = scope_name(root.name, subtree)
    sheet.append([title(ws, where, size=12, italic=True)], 20)
    sheet.append([])
    merge(ws, [f"A2:{last}2", f"A3:{last}3"])
    sheet.append([cell(ws, h, bold=True, horizontal="center") for h in headers], 34)
    sheet.pager.repeated(34)

    center = {0, 3, 4, 5, 6, 7, 9, 10, 11, 12}
    for number, (record, unit) in enumerate(records, 1):
        mine = own.get(record.id, {})
        theirs = council.get(record.id, {})
        assessment = rubric.assessed(mine, theirs, record.subject)
        passed = assessment.verdict.passed and not assessment.verdict.missing
        values: list[Any] = [
            number,
            record.name,
            unit.name,
            FIELD_SHORT[Field(record.field)],
            SUBJECT_LABELS[Subject(record.subject)],
            _points(rubric.verdict(mine, record.subject).total if mine else None),
            _points(assessment.verdict.total if theirs else None),
            "Đạt" if passed else "Không đạt",
        ]
        if recognised:
            values += [
                record.decision_number or NOT_RECORDED,
                _date(record.decision_date, tz),
                decision_level_label(record.decision_level),
            ]
        else:
            values.append(_date(record.proposed_at, tz))
        sheet.append(
            [
                cell(ws, v, horizontal="center" if i in center else "left")
                for i, v in enumerate(values)
            ],
            _height(values, widths),
        )
    if not records:
        row = sheet.append(
            [
                cell(
                    ws,
                    NONE_RECOGNISED if recognised else NONE_PROPOSED,
                    italic=True,
                    horizontal="center",
                ),
                *(cell(ws) for _ in widths[1:]),
            ]
        )
        merge(ws, [f"A{row}:{last}{row}"])
    sheet.sign(root.kind, root.signer_title)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


async def build_proposed(
    session: AsyncSession, root: Unit, year: int, subtree: bool = True, tz: ZoneInfo = LOCAL
) -> bytes:
    """The models of ``year`` proposed for recognition and not decided yet (the day of the
    proposal in ``tz``)."""
    return await _build(session, root, year, subtree, tz, recognised=False)


async def build_recognised(
    session: AsyncSession, root: Unit, year: int, subtree: bool = True, tz: ZoneInfo = LOCAL
) -> bytes:
    """The models of ``year`` recognised, with the decision's number, date and level."""
    return await _build(session, root, year, subtree, tz, recognised=True)
