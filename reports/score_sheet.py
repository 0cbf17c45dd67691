"""Biểu chấm điểm mô hình (Kế hoạch năm 2024 (Yên Bái)): one sheet per scored model of a year.

Each sheet is the form filled in for one model: its name, unit and subject above the table
STT | Tiêu chí | Điểm tối đa | Điểm tự chấm | Điểm thẩm định | Ghi chú, Part I and the Part II
section of the model's subject with every criterion's full wording (``domain/rubric.py``), the
totals, the pass rule, the verdicts with their reasons (the council's assessment, when there
is one, is the one recognition goes by: ``rubric.assessed``) and the signature block. Each
sheet prints on one A4 page. :func:`build_blank_score_sheet` gives the form blank, to fill by
hand.

The scores are read in one streamed query of plain tuples ordered by model then criterion, so
a province's thousands of models are written one sheet at a time in constant memory.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from domain import rubric
from domain.catalog import SUBJECT_LABELS, Subject
from reports.signing import Rows
from reports.style import cell, merge, scope_name, setup_sheet, title
from storage import model_years
from storage.models import CouncilScore, ModelScore, ModelYear, Unit

WIDTHS = {1: 6, 2: 56, 3: 8, 4: 9, 5: 10, 6: 13}
LAST_COL = "F"
LINE_HEIGHT = 16.5  # points per wrapped line of 12-point Times New Roman
SHEET_NAME_MAX = 31
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
EMPTY_SHEET = "Biểu chấm điểm"
BLANK_SHEETS = {Subject.COLLECTIVE.value: "Tập thể", Subject.INDIVIDUAL.value: "Cá nhân"}
MUST_MAX_NOTE = "phải đạt điểm tối đa"
MISSING_NOTE = "chưa chấm"
DOTS = "……………………………………………………"
SELF_RESULT = "Kết quả tự chấm"
COUNCIL_RESULT = "Kết quả thẩm định"
USED_FOR = "Kết quả xét công nhận theo {source}."


@dataclass
class _Model:
    """One scored model as the query returns it, its points gathered row by row."""

    id: int
    name: str
    subject: str
    subject_name: str
    unit_name: str
    points: dict[int, Decimal] = field(default_factory=dict)  # self-score
    council: dict[int, Decimal] = field(default_factory=dict)  # điểm thẩm định


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


class _Sheet(Rows):
    """One model's form: a write-only sheet printed on one A4 page, upright like the form."""

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
    # A one-model form of narrow columns reads best upright, like the form's page, and is
    # printed on one page: the verdict and the signatures stay with the table.
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToHeight = 1
    return _Sheet(ws, list(WIDTHS.values()), landscape=False)


HEADER_ROW = 8  # title, year, blank, name, unit, subject, blank, then the table header


def _write_model(
    wb: Workbook, model: _Model, year: int, used: set[str] | None, signer: Unit
) -> None:
    """The form of one model; ``used`` None: a blank form for a unit to fill by hand."""
    blank = used is None
    name = BLANK_SHEETS[model.subject] if used is None else sheet_name(model.name, used)
    sheet = _new_sheet(wb, name, HEADER_ROW)
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
            head(rubric.COL_SELF),
            head(rubric.COL_COUNCIL),
            head(rubric.COL_NOTE),
        ],
        2 * LINE_HEIGHT,
    )
    assert row == HEADER_ROW

    criteria = rubric.criteria_for(model.subject)

    def subtotal(points: dict[int, Decimal], part: str | None) -> int | float | None:
        values = [
            points[c.number]
            for c in criteria
            if (part is None or c.part == part) and c.number in points
        ]
        return _number(sum(values, Decimal(0))) if values else None

    def heading(label: str, text: str, maximum: Decimal | None, part: str | None = "") -> None:
        given = (
            (None, None)
            if part == ""
            else (
                subtotal(model.points, part),
                subtotal(model.council, part),
            )
        )
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
                *(cell(ws, g, bold=True, horizontal="center") for g in given),
                cell(ws, None),
            ],
            LINE_HEIGHT * _lines(text, WIDTHS[2]),
        )

    def criterion_row(c: rubric.Criterion) -> None:
        given = model.points.get(c.number)
        notes = []
        if c.must_max:
            notes.append(MUST_MAX_NOTE)
        if given is None and not blank:
            notes.append(MISSING_NOTE)
        note = "; ".join(notes).capitalize()
        council = model.council.get(c.number)
        sheet.append(
            [
                cell(ws, c.number, horizontal="center"),
                cell(ws, c.text, horizontal="justify"),
                cell(ws, _number(c.maximum), horizontal="center"),
                cell(ws, None if given is None else _number(given), horizontal="center"),
                cell(ws, None if council is None else _number(council), horizontal="center"),
                cell(ws, note or None, italic=True, size=11),
            ],
            LINE_HEIGHT
            * max(_lines(c.text, WIDTHS[2]), _lines(note, WIDTHS[6] * 12 / 11) if note else 1),
        )

    heading(rubric.PART_I_LABEL, rubric.PART_I_TITLE, rubric.PART_I_MAX, "I")
    for c in criteria:
        if c.part == "I":
            criterion_row(c)
    heading(
        rubric.PART_II_LABEL,
        f"{rubric.PART_II_TITLE}\n{rubric.PART_II_NOTE}",
        rubric.PART_II_MAX,
        "II",
    )
    heading(*rubric.part_two_heading(model.subject), None)
    for c in criteria:
        if c.part == "II":
            criterion_row(c)
    heading("", rubric.TOTAL_LABEL, rubric.TOTAL_MAX, None)

    sheet.blank()
    sheet.line(rubric.RULE_TEXT, italic=True)
    if blank:
        sheet.line(f"Kết quả: {DOTS}", bold=True)
    else:
        _verdicts(sheet, model)
    sheet.sign(signer.kind, signer.signer_title, breaks=False)


def _verdicts(sheet: _Sheet, model: _Model) -> None:
    """The verdict of the self-score and, when the council scored, of its assessment; then
    which one recognition goes by."""
    own = rubric.verdict(model.points, model.subject)
    if not model.council:
        sheet.line(f"Kết quả: {rubric.verdict_text(own)}.", bold=True)
        missing = rubric.missing_text(own)
        if missing is not None:
            sheet.line(missing, italic=True)
        return
    assessment = rubric.assessed(model.points, model.council, model.subject)
    council = assessment.verdict
    sheet.line(f"{SELF_RESULT}: {rubric.verdict_text(own)}.")
    sheet.line(f"{COUNCIL_RESULT}: {rubric.verdict_text(council)}.", bold=True)
    missing = rubric.missing_text(council)
    if missing is not None:
        sheet.line(missing, italic=True)
    sheet.line(USED_FOR.format(source=assessment.source), italic=True)


def _write_empty(wb: Workbook, root: Unit, year: int, subtree: bool) -> None:
    sheet = _new_sheet(wb, EMPTY_SHEET, None)
    where = scope_name(root.name, subtree)
    sheet.title(rubric.SHEET_TITLE)
    sheet.title(f"Năm {year}", size=12, italic=True)
    sheet.blank()
    sheet.line(f"Chưa có mô hình nào được chấm điểm năm {year} — {where}.")
    sheet.finish()


async def build_blank_score_sheet(
    _session: AsyncSession, root: Unit, year: int, _subtree: bool = True
) -> bytes:
    """A blank Biểu chấm điểm for ``root`` to fill by hand: one sheet for a model of a
    collective, one for a model of an individual, every criterion with its maximum."""
    wb = Workbook(write_only=True)
    for subject in BLANK_SHEETS:
        model = _Model(0, DOTS, subject, DOTS, root.name)
        _write_model(wb, model, year, None, root)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


async def build_score_sheet(
    session: AsyncSession, root: Unit, year: int, subtree: bool = True
) -> bytes:
    """The Biểu chấm điểm of every active model of ``year`` in ``root`` (and, with
    ``subtree``, every unit below it) that has at least one criterion scored, as .xlsx bytes.
    """
    points = union_all(
        select(
            ModelScore.model_year_id.label("record"),
            ModelScore.criterion.label("criterion"),
            ModelScore.points.label("points"),
            literal(0).label("council"),
        ),
        select(
            CouncilScore.model_year_id,
            CouncilScore.criterion,
            CouncilScore.points,
            literal(1),
        ),
    ).subquery("points")
    query = model_years.in_scope(
        select(
            ModelYear.id,
            ModelYear.name,
            ModelYear.subject,
            ModelYear.subject_name,
            Unit.name,
            points.c.criterion,
            points.c.points,
            points.c.council,
        ).select_from(ModelYear),
        root,
        year,
        subtree,
    )
    query = query.join(points, points.c.record == ModelYear.id).order_by(
        Unit.path, ModelYear.id, points.c.council, points.c.criterion
    )
    wb = Workbook(write_only=True)
    used: set[str] = set()
    current: _Model | None = None
    rows = await session.stream(query)
    async for my_id, name, subject, subject_name, unit_name, criterion, given, council in rows:
        if current is None or current.id != my_id:
            if current is not None:
                _write_model(wb, current, year, used, root)
            current = _Model(my_id, name, subject, subject_name, unit_name)
        (current.council if council else current.points)[criterion] = Decimal(given)
    if current is not None:
        _write_model(wb, current, year, used, root)
    else:
        _write_empty(wb, root, year, subtree)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
