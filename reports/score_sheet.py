"""Biểu chấm điểm mô hình (seed 002): one sheet per scored model of a year.

Each sheet is the form filled in for one model: its name, unit and subject above the table
STT | Tiêu chí | Điểm tối đa | Điểm đánh giá | Ghi chú, Part I and the Part II section of the
model's subject with every criterion's full wording (``reports/rubric.py``), the total, the
pass rule and the verdict with its reasons.

The scores are read in one streamed query of plain tuples ordered by model then criterion, so
a province's thousands of models are written one sheet at a time in constant memory.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import rubric
from domain.catalog import SUBJECT_LABELS, RecordState, Subject
from reports.style import cell, merge, setup_sheet, title
from storage.models import DvkModel, ModelScore, ModelYear, Unit

WIDTHS = {1: 7, 2: 60, 3: 9, 4: 10, 5: 14}
LAST_COL = "E"
LINE_HEIGHT = 16.5  # points per wrapped line of 12-point Times New Roman
SHEET_NAME_MAX = 31
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
EMPTY_SHEET = "Biểu chấm điểm"
MUST_MAX_NOTE = "phải đạt điểm tối đa"
MISSING_NOTE = "chưa chấm"


@dataclass
class _Model:
    """One scored model as the query returns it, its points gathered row by row."""

    id: int
    name: str
    subject: str
    subject_name: str
    unit_name: str
    points: dict[int, Decimal] = field(default_factory=dict)


def _number(value: Decimal) -> int | float:
    """A cell value: points are whole or halves, exact as a float."""
    return int(value) if value == value.to_integral_value() else float(value)


def _lines(text: str, width: float) -> int:
    """How many lines wrapped ``text`` takes in a column ``width`` characters wide (generous:
    a row a little too tall reads fine, one too short hides words)."""
    per_line = max(1.0, width * 0.9)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def sheet_name(name: str, used: set[str]) -> str:
    """A sheet name Excel accepts: no []:*?/\\, at most 31 characters, not starting or ending
    with an apostrophe, unique ignoring case (as Excel compares them)."""
    base = " ".join(_SHEET_BAD.sub(" ", name).split()).strip(" '") or "Mô hình"
    candidate = base[:SHEET_NAME_MAX].rstrip(" '")
    n = 1
    while candidate.casefold() in used or candidate.casefold() == "history":
        n += 1
        suffix = f" ({n})"
        candidate = base[: SHEET_NAME_MAX - len(suffix)].rstrip(" '") + suffix
    used.add(candidate.casefold())
    return candidate


class _Sheet:
    """A write-only sheet that knows its next row number, to set row heights and merges."""

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        self.ws = ws
        self.row = 0

    def append(self, cells: Sequence[Any], height: float | None = None) -> int:
        self.row += 1
        if height is not None:
            self.ws.row_dimensions[self.row].height = height
        self.ws.append(list(cells))
        return self.row

    def line(self, value: str, *, bold: bool = False, italic: bool = False) -> None:
        """A line of text across the whole table width, no border."""
        width = sum(WIDTHS.values())
        c = cell(self.ws, value, bold=bold, italic=italic, border=False)
        row = self.append([c], LINE_HEIGHT * _lines(value, width))
        merge(self.ws, [f"A{row}:{LAST_COL}{row}"])

    def title(self, value: str, *, size: int = 13, italic: bool = False) -> None:
        row = self.append([title(self.ws, value, size=size, italic=italic)], 20)
        merge(self.ws, [f"A{row}:{LAST_COL}{row}"])

    def blank(self) -> None:
        self.append([])


def _new_sheet(wb: Workbook, name: str, header_row: int | None) -> _Sheet:
    ws = wb.create_sheet(name)
    rows = (header_row, header_row) if header_row is not None else None
    freeze = f"A{header_row + 1}" if header_row is not None else None
    setup_sheet(ws, WIDTHS, header_rows=rows, freeze=freeze)
    # A one-model form of five narrow columns reads best upright, like the seed's page.
    ws.page_setup.orientation = "portrait"
    return _Sheet(ws)


HEADER_ROW = 8  # title, year, blank, name, unit, subject, blank, then the table header


def _write_model(wb: Workbook, model: _Model, year: int, used: set[str]) -> None:
    sheet = _new_sheet(wb, sheet_name(model.name, used), HEADER_ROW)
    ws = sheet.ws
    subject_label = SUBJECT_LABELS[Subject(model.subject)]
    sheet.title(rubric.SHEET_TITLE)
    sheet.title(f"Năm {year}", size=12, italic=True)
    sheet.blank()
    sheet.line(f"Tên mô hình: {model.name}", bold=True)
    sheet.line(f"Đơn vị: {model.unit_name}")
    sheet.line(f"Chủ thể thực hiện: {subject_label} — {model.subject_name}")
    sheet.blank()

    def head(value: str) -> Any:
        return cell(ws, value, bold=True, horizontal="center")

    row = sheet.append(
        [
            head(rubric.COL_NUMBER),
            head(rubric.COL_CRITERION),
            head(rubric.COL_MAXIMUM),
            head(rubric.COL_POINTS),
            head(rubric.COL_NOTE),
        ],
        2 * LINE_HEIGHT,
    )
    assert row == HEADER_ROW

    result = rubric.verdict(model.points, model.subject)
    criteria = rubric.criteria_for(model.subject)

    def subtotal(part: str) -> int | float | None:
        values = [
            model.points[c.number] for c in criteria if c.part == part and c.number in model.points
        ]
        return _number(sum(values, Decimal(0))) if values else None

    def heading(label: str, text: str, maximum: Decimal | None, points: Any = None) -> None:
        sheet.append(
            [
                cell(ws, label, bold=True, horizontal="center"),
                cell(ws, text, bold=True),
                cell(
                    ws,
                    None if maximum is None else _number(maximum),
                    bold=True,
                    horizontal="center",
                ),
                cell(ws, points, bold=True, horizontal="center"),
                cell(ws, None),
            ],
            LINE_HEIGHT * _lines(text, WIDTHS[2]),
        )

    def criterion_row(c: rubric.Criterion) -> None:
        given = model.points.get(c.number)
        notes = []
        if c.must_max:
            notes.append(MUST_MAX_NOTE)
        if given is None:
            notes.append(MISSING_NOTE)
        note = "; ".join(notes).capitalize()
        sheet.append(
            [
                cell(ws, c.number, horizontal="center"),
                cell(ws, c.text, horizontal="justify"),
                cell(ws, _number(c.maximum), horizontal="center"),
                cell(ws, None if given is None else _number(given), horizontal="center"),
                cell(ws, note or None, italic=True, size=11),
            ],
            LINE_HEIGHT
            * max(_lines(c.text, WIDTHS[2]), _lines(note, WIDTHS[5] * 12 / 11) if note else 1),
        )

    heading(rubric.PART_I_LABEL, rubric.PART_I_TITLE, rubric.PART_I_MAX, subtotal("I"))
    for c in criteria:
        if c.part == "I":
            criterion_row(c)
    heading(
        rubric.PART_II_LABEL,
        f"{rubric.PART_II_TITLE}\n{rubric.PART_II_NOTE}",
        rubric.PART_II_MAX,
        subtotal("II"),
    )
    heading(*rubric.part_two_heading(model.subject), None)
    for c in criteria:
        if c.part == "II":
            criterion_row(c)
    heading("", rubric.TOTAL_LABEL, rubric.TOTAL_MAX, _number(result.total))

    sheet.blank()
    sheet.line(rubric.RULE_TEXT, italic=True)
    sheet.line(f"Kết quả: {rubric.verdict_text(result)}.", bold=True)
    missing = rubric.missing_text(result)
    if missing is not None:
        sheet.line(missing, italic=True)


def _write_empty(wb: Workbook, root: Unit, year: int, subtree: bool) -> None:
    sheet = _new_sheet(wb, EMPTY_SHEET, None)
    where = f"{root.name} và các đơn vị trực thuộc" if subtree else root.name
    sheet.title(rubric.SHEET_TITLE)
    sheet.title(f"Năm {year}", size=12, italic=True)
    sheet.blank()
    sheet.line(f"Chưa có mô hình nào được chấm điểm năm {year} — {where}.")


async def build_score_sheet(
    session: AsyncSession, root: Unit, year: int, subtree: bool = True
) -> bytes:
    """The Biểu chấm điểm of every active model of ``year`` in ``root`` (and, with
    ``subtree``, every unit below it) that has at least one criterion scored, as .xlsx bytes.
    """
    scope = Unit.path.startswith(root.path, autoescape=True) if subtree else Unit.id == root.id
    query = (
        select(
            ModelYear.id,
            ModelYear.name,
            ModelYear.subject,
            ModelYear.subject_name,
            Unit.name,
            ModelScore.criterion,
            ModelScore.points,
        )
        .join(DvkModel, DvkModel.id == ModelYear.model_id)
        .join(Unit, Unit.id == DvkModel.unit_id)
        .join(ModelScore, ModelScore.model_year_id == ModelYear.id)
        .where(ModelYear.year == year, ModelYear.state == RecordState.ACTIVE.value, scope)
        .order_by(Unit.path, ModelYear.id, ModelScore.criterion)
    )
    wb = Workbook(write_only=True)
    used: set[str] = set()
    current: _Model | None = None
    rows = await session.stream(query)
    async for my_id, name, subject, subject_name, unit_name, criterion, points in rows:
        if current is None or current.id != my_id:
            if current is not None:
                _write_model(wb, current, year, used)
            current = _Model(my_id, name, subject, subject_name, unit_name)
        current.points[criterion] = Decimal(points)
    if current is not None:
        _write_model(wb, current, year, used)
    else:
        _write_empty(wb, root, year, subtree)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
