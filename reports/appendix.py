"""Phụ lục 1 and Phụ lục 4 of seed 002 as workbooks, for one unit and (by default) its subtree.

- Phụ lục 1, "BIỂU TỔNG HỢP ĐĂNG KÝ XÂY DỰNG MỚI MÔ HÌNH “DÂN VẬN KHÉO” NĂM …": section I lists
  the models kept from last year, section II the ones registered new this year.
- Phụ lục 4, "BIỂU TỔNG HỢP BÁO CÁO KẾT QUẢ XÂY DỰNG, DUY TRÌ MÔ HÌNH “DÂN VẬN KHÉO” NĂM …":
  one list, new models above kept ones within each unit, with the results of the year.

In both, rows are grouped by owning unit (numbered 1, 2, … with the unit's name as a sub-header,
units in tree order) and ordered by field (KT, VHXH, QPAN, XDĐ&HTCT, then the others); column
(3) numbers the models within their unit. Only active records of the year count.

Built to scale to 100,000 models: the rows come from one SQL query ordered by the database and
read in partitions, each row goes straight into a write-only sheet; the totals come from one
GROUP BY query. Nothing holds all the rows at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, TypeVar

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.utils import get_column_letter
from sqlalchemy import CTE, Select, String, Text, case, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from conversations.catalog import FIELD_LABELS
from reports.style import XLSX_MIME, cell, file_name, merge, setup_sheet, title
from storage.models import DvkModel, Field, ModelYear, Origin, RecordState, Subject, Unit

__all__ = ["XLSX_MIME", "appendix_file_name", "build_pl1", "build_pl4"]

# --- wording of seed 002 ----------------------------------------------------------------------

PL1_LABEL = "Phụ lục 1"
PL4_LABEL = "Phụ lục 4"
PL1_TITLE = "BIỂU TỔNG HỢP ĐĂNG KÝ XÂY DỰNG MỚI MÔ HÌNH “DÂN VẬN KHÉO” NĂM {year}"
PL4_TITLE = "BIỂU TỔNG HỢP BÁO CÁO KẾT QUẢ XÂY DỰNG, DUY TRÌ MÔ HÌNH “DÂN VẬN KHÉO” NĂM {year}"
PL1_SECTION_KEPT = "Mô hình tiếp tục duy trì từ năm {last_year}"
PL1_SECTION_NEW = "Mô hình đăng ký mới năm {year}"

H_STT = "STT"
H_NAME = "Xã, phường, thị trấn, cơ quan đơn vị/\nTên mô hình"
H_COUNT = "Số lượng"
H_PLACE = "Địa điểm xây dựng, triển khai"
H_LEAD = "Chủ trì"
H_FIELD = "Lĩnh vực"
H_SCALE = "Quy mô thực hiện"
H_RESULTS = "Tóm tắt quy mô, kết quả cụ thể đạt được"
H_ORIGIN = "Trong đó"
H_NEW = "XD mới"
H_KEPT = "Duy trì"
H_SUBJECT = "Chủ thể"
H_COLLECTIVE = "Tập thể"
H_INDIVIDUAL = "Cá nhân"
TOTAL = "Tổng số"
MARK = "x"
DASH = "-"

TOTAL_BY_FIELD = "Tổng số mô hình theo lĩnh vực:"
TOTAL_BY_SUBJECT = "Tổng số tập thể, cá nhân xây dựng mô hình"
FIELD_TOTAL_LINES = {
    Field.KT.value: "- Lĩnh vực phát triển kinh tế: {n} mô hình",
    Field.VHXH.value: "- Lĩnh vực văn hoá - xã hội: {n} mô hình",
    Field.QPAN.value: "- Lĩnh vực Quốc phòng - an ninh: {n} mô hình",
    Field.XDD.value: "- Lĩnh vực xây dựng hệ thống chính trị: {n} mô hình",
}
OTHER_FIELD_LINE = "- Lĩnh vực {label}: {n} mô hình"
OTHER_FIELD_DEFAULT = "khác"
SUBJECT_TOTAL_LINES = {
    Subject.COLLECTIVE.value: "- Tập thể: {n} mô hình",
    Subject.INDIVIDUAL.value: "- Cá nhân: {n} mô hình",
}
NOTES_LABEL = "Ghi chú:"
_NOTE_2 = (
    "(2): Chi bộ, phòng, ban, đơn vị, đoàn thể / Tên mô hình (xếp tuần tự theo từng lĩnh vực "
    "sau: KT; VHXH, QPAN, XDĐ&HTCT, …)"
)
_NOTE_6 = (
    "(6): Lĩnh vực (Kinh tế; Văn hóa xã hội; Quốc phòng an ninh; Xây dựng Đảng và hệ thống "
    "chính trị; Xây dựng NTM; Xây dựng Đô thị văn minh...)"
)
PL1_NOTES = (
    _NOTE_2,
    "(3): Số lượng (1,2,3…)",
    "(4): Địa điểm triển khai (phòng, ban, cơ quan, đơn vị, thôn, bản, tổ dân phố, xã, phường, "
    "huyện)",
    "(5): Chủ trì (Chi bộ; UBND, HND, HPN…)",
    _NOTE_6,
    "(7): Quy mô thực hiện (số lượng, diện tích, số hộ...)",
    "(8): Chủ thể thực hiện (đánh dấu X vào cột tập thể hoặc cá nhân)",
)
PL4_NOTES = (
    _NOTE_2,
    "(3): Số lượng (1,2,3…)",
    "(4): Địa điểm triển khai (cơ quan, đơn vị, thôn, bản, tổ dân phố, xã, phường, huyện)",
    "(5): Chủ trì (Chi bộ; UBND, HND, HPN…)",
    _NOTE_6,
    "(7): Tóm tắt quy mô, kết quả đạt được",
    "(8): Xây dựng mới/duy trì: Đánh dấu X vào cột (danh sách sắp xếp loạt mô hình xây dựng mới "
    "lên trên loạt mô hình đang duy trì)",
    "(9): Chủ thể thực hiện (Đánh dấu X vào cột tập thể hoặc cá nhân)",
)

# --- layout -----------------------------------------------------------------------------------

ROW_UNIT = 1  # unit name (left) and appendix label (right)
ROW_TITLE = 3
ROW_HEAD = 5  # two header rows: 5 and 6
ROW_NUMBERS = 7  # (1) (2) …
ROW_TOTAL = 8  # "Tổng số"
FREEZE = f"A{ROW_TOTAL}"

# (label, columns spanned); a group spanning two columns has its sub-labels on the second row.
PL1_HEAD: tuple[tuple[str, int], ...] = (
    (H_STT, 1),
    (H_NAME, 1),
    (H_COUNT, 1),
    (H_PLACE, 1),
    (H_LEAD, 1),
    (H_FIELD, 1),
    (H_SCALE, 1),
    (H_SUBJECT, 2),
)
PL1_SUB = (H_COLLECTIVE, H_INDIVIDUAL)
PL1_WIDTHS = (6, 42, 9, 24, 16, 18, 40, 9, 9)
PL4_HEAD: tuple[tuple[str, int], ...] = (
    (H_STT, 1),
    (H_NAME, 1),
    (H_COUNT, 1),
    (H_PLACE, 1),
    (H_LEAD, 1),
    (H_FIELD, 1),
    (H_RESULTS, 1),
    (H_ORIGIN, 2),
    (H_SUBJECT, 2),
)
PL4_SUB = (H_NEW, H_KEPT, H_COLLECTIVE, H_INDIVIDUAL)
PL4_WIDTHS = (6, 40, 9, 22, 15, 17, 42, 8, 8, 8, 8)

# Rows per fetch: each batch is written (about 40 ms for 100 rows) before the next is read, and
# the event loop runs other work in between.
_PARTITION = 100
_MAIN_FIELDS = (Field.KT.value, Field.VHXH.value, Field.QPAN.value, Field.XDD.value)


# --- SQL --------------------------------------------------------------------------------------

_FIELD_RANK = case(
    {value: rank for rank, value in enumerate(_MAIN_FIELDS)},
    value=ModelYear.field,
    else_=len(_MAIN_FIELDS),
)
# Models of another field are grouped by its name (field_other); the four main ones have none.
_OTHER_KEY = case(
    (ModelYear.field.in_(_MAIN_FIELDS), literal_column("''", String)),
    else_=func.coalesce(ModelYear.field_other, literal_column("''", String)),
)
_IS_KEPT = ModelYear.origin == Origin.KEPT.value


def _digits(column: Any) -> Any:
    """The id as 10 zero-padded digits (an int32 id has at most 10): '2' → '0000000002'.

    substr/length/|| exist under these names on both SQLite and PostgreSQL."""
    text = cast(column, String)
    return func.substr(literal_column("'0000000000'", String).concat(text), func.length(text) + 1)


def _unit_order(root: Unit) -> CTE:
    """Tree order of root's subtree: (unit_id, sort_key), sort_key the padded ids from root down.

    ``ORDER BY units.path`` is depth-first but sorts siblings as text ("/1/10/" before "/1/2/");
    padding every id to a fixed width makes text order equal numeric order at each level, so
    siblings come in creation order and each unit is directly followed by its own subtree."""
    top = (
        select(Unit.id.label("unit_id"), cast(_digits(Unit.id), Text).label("sort_key"))
        .where(Unit.id == root.id)
        .cte("unit_order", recursive=True)
    )
    child = aliased(Unit, name="child_unit")
    return top.union_all(
        select(child.id, cast(top.c.sort_key.concat(_digits(child.id)), Text)).where(
            child.parent_id == top.c.unit_id
        )
    )


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def _scoped(stmt: _Query, root: Unit, year: int, subtree: bool) -> _Query:
    stmt = (
        stmt.join(DvkModel, DvkModel.id == ModelYear.model_id)
        .join(Unit, Unit.id == DvkModel.unit_id)
        .where(ModelYear.year == year, ModelYear.state == RecordState.ACTIVE.value)
    )
    if subtree:
        return stmt.where(Unit.path.startswith(root.path, autoescape=True))
    return stmt.where(Unit.id == root.id)


def _rows_query(
    root: Unit, year: int, subtree: bool, *, kept_first: bool
) -> Select[*tuple[Any, ...]]:
    """Every model row, in the order it is written. PL1 (kept_first): section (kept, then new),
    unit, field; PL4: unit, origin (new, then kept), field."""
    stmt = _scoped(
        select(
            Unit.id.label("unit_id"),
            Unit.name.label("unit_name"),
            ModelYear.origin,
            ModelYear.name,
            ModelYear.field,
            ModelYear.field_other,
            ModelYear.subject,
            ModelYear.subject_name,
            ModelYear.place,
            ModelYear.lead_body,
            ModelYear.scale,
            ModelYear.results,
        ).select_from(ModelYear),
        root,
        year,
        subtree,
    )
    kept_rank = case((_IS_KEPT, 0 if kept_first else 1), else_=1 if kept_first else 0)
    unit_keys: list[Any] = []
    if subtree:
        order = _unit_order(root)
        stmt = stmt.join(order, order.c.unit_id == Unit.id)
        unit_keys.append(order.c.sort_key)
    unit_keys.append(Unit.id)
    by_unit = [*unit_keys, kept_rank] if not kept_first else [kept_rank, *unit_keys]
    return stmt.order_by(*by_unit, _FIELD_RANK, _OTHER_KEY, ModelYear.name, ModelYear.id)


@dataclass
class _Totals:
    """Counts of the year's active models, summed from the GROUP BY groups (a few dozen)."""

    by_origin_subject: Counter[tuple[bool, str]] = field(default_factory=Counter)
    by_field: Counter[str] = field(default_factory=Counter)
    by_other_field: Counter[str] = field(default_factory=Counter)

    def count(self, *, kept: bool | None = None, subject: str | None = None) -> int:
        return sum(
            n
            for (is_kept, subj), n in self.by_origin_subject.items()
            if (kept is None or is_kept == kept) and (subject is None or subj == subject)
        )


async def _totals(session: AsyncSession, root: Unit, year: int, subtree: bool) -> _Totals:
    stmt = _scoped(
        select(
            ModelYear.origin,
            ModelYear.field,
            ModelYear.field_other,
            ModelYear.subject,
            func.count().label("n"),
        ).select_from(ModelYear),
        root,
        year,
        subtree,
    ).group_by(ModelYear.origin, ModelYear.field, ModelYear.field_other, ModelYear.subject)
    totals = _Totals()
    for origin, fld, other, subject, n in await session.execute(stmt):
        totals.by_origin_subject[(origin == Origin.KEPT.value, subject)] += n
        if fld in _MAIN_FIELDS:
            totals.by_field[fld] += n
        else:
            totals.by_other_field[(other or "").strip() or OTHER_FIELD_DEFAULT] += n
    return totals


# --- cell values ------------------------------------------------------------------------------


def _field_text(fld: str, other: str | None) -> str:
    if fld in _MAIN_FIELDS:
        return FIELD_LABELS[Field(fld)]
    return (other or "").strip() or FIELD_LABELS[Field.OTHER]


def _model_name(name: str, subject: str, subject_name: str | None) -> str:
    """The model's name; for a model of one person, who it is: "Tên mô hình (Họ tên)"."""
    person = (subject_name or "").strip()
    if subject == Subject.INDIVIDUAL.value and person and person not in name:
        return f"{name} ({person})"
    return name


def _mark(flag: bool) -> str | None:
    return MARK if flag else None


# --- sheet ------------------------------------------------------------------------------------


class _Stamp:
    """One look made by :func:`reports.style.cell`, stamped on many cells.

    Setting font, alignment and border on each of a million cells costs three style lookups per
    cell; a Cell built with ``style_array`` copies the prototype's style ids instead."""

    def __init__(self, ws: Any, **look: Any) -> None:
        self._ws = ws
        self._style = cell(ws, None, **look)._style

    def __call__(self, value: Any = None) -> Cell:
        return Cell(self._ws, row=1, column=1, value=value, style_array=self._style)


class _Sheet:
    """A write-only sheet that knows its row number, for merges and row heights."""

    def __init__(self, wb: Workbook, name: str, widths: Sequence[float]) -> None:
        self.ws = wb.create_sheet(name)
        self.ncols = len(widths)
        self.widths = widths
        self.per_line = [_per_line(w) for w in widths]
        self.last = get_column_letter(self.ncols)
        self.row = 0
        setup_sheet(
            self.ws,
            dict(enumerate(widths, 1)),
            header_rows=(ROW_HEAD, ROW_NUMBERS),
            freeze=FREEZE,
        )
        ws = self.ws
        self.text = _Stamp(ws)
        self.center = _Stamp(ws, horizontal="center")
        self.bold = _Stamp(ws, bold=True)
        self.bold_center = _Stamp(ws, bold=True, horizontal="center")
        self.empty = self.text  # an empty cell of the table: borders only

    def append(self, cells: Sequence[Any], height: float | None = None) -> int:
        self.row += 1
        if height is not None:
            self.ws.row_dimensions[self.row].height = height
        self.ws.append(list(cells))
        # The row is written out by now: drop its dimension so 100,000 rows keep no objects.
        self.ws.row_dimensions.pop(self.row, None)
        return self.row

    def table_row(self, cells: Sequence[Any]) -> int:
        """A row of the table, as high as its longest wrapped text needs.

        Excel sizes a row without a stored height when it shows it, LibreOffice does not (its
        rows stay one line high and wrapped text is cut), so a row of several lines gets its
        height written."""
        lines = 1
        for per_line, c in zip(self.per_line, cells, strict=False):
            value = c.value
            if isinstance(value, str) and (len(value) > per_line or "\n" in value):
                lines = max(lines, _lines(value, per_line))
        return self.append(cells, None if lines == 1 else _LINE_HEIGHT * lines + 2)

    def merge(self, *ranges: str) -> None:
        merge(self.ws, ranges)

    def bordered(self, cells: Sequence[Any]) -> list[Any]:
        """The row padded to the table's width with empty bordered cells."""
        return [*cells, *(self.empty() for _ in range(self.ncols - len(cells)))]

    def head(
        self,
        root: Unit,
        label: str,
        heading: str,
        groups: Sequence[tuple[str, int]],
        sub_labels: Sequence[str],
    ) -> None:
        """Unit name and appendix label, title, the two header rows and the (1)…(n) row."""
        ws = self.ws
        unit_row = [title(ws, root.name.upper(), size=12)]
        unit_row += [None] * (self.ncols - 3) + [title(ws, label, size=12)]
        lines = _lines(root.name, _per_line(sum(self.widths[:4])))
        self.append(unit_row, None if lines == 1 else _LINE_HEIGHT * lines + 2)
        self.merge(f"A{ROW_UNIT}:D{ROW_UNIT}")
        self.merge(
            f"{get_column_letter(self.ncols - 1)}{ROW_UNIT}:{self.last}{ROW_UNIT}",
        )
        self.append([])
        self.append([title(ws, heading)], height=36)
        self.merge(f"A{ROW_TITLE}:{self.last}{ROW_TITLE}")
        self.append([])
        top: list[Any] = []
        numbers: list[Any] = []
        column = 1
        for number, (text, span) in enumerate(groups, 1):
            first = get_column_letter(column)
            top.append(self.bold_center(text))
            numbers.append(cell(ws, f"({number})", italic=True, horizontal="center"))
            top += [self.empty() for _ in range(span - 1)]
            numbers += [self.empty() for _ in range(span - 1)]
            if span == 1:
                self.merge(f"{first}{ROW_HEAD}:{first}{ROW_HEAD + 1}")
            else:
                end = get_column_letter(column + span - 1)
                self.merge(f"{first}{ROW_HEAD}:{end}{ROW_HEAD}")
                self.merge(f"{first}{ROW_NUMBERS}:{end}{ROW_NUMBERS}")
            column += span
        subs = iter(sub_labels)
        sub: list[Any] = []
        for _text, span in groups:
            sub += (
                [self.empty()] if span == 1 else [self.bold_center(next(subs)) for _ in range(span)]
            )
        self.append(top, height=36)
        self.append(sub, height=30)
        self.append(numbers)

    def footer(self, totals: _Totals, notes: Sequence[str]) -> None:
        """Totals per field and per subject, then the notes, below the table."""
        ws = self.ws
        self.append([])

        def star(text: str) -> None:
            row = self.append(
                [
                    cell(ws, "*", bold=True, horizontal="center", border=False),
                    cell(ws, text, bold=True, border=False),
                ]
            )
            self.merge(f"B{row}:{self.last}{row}")

        def line(text: str, first: str = "B", **look: Any) -> None:
            lead = [] if first == "A" else [None]
            row = self.append([*lead, cell(ws, text, border=False, **look)], self._height(text))
            self.merge(f"{first}{row}:{self.last}{row}")

        star(TOTAL_BY_FIELD)
        for fld, template in FIELD_TOTAL_LINES.items():
            line(template.format(n=totals.by_field[fld]))
        # Other fields by name, the unnamed ones ("khác") last.
        others = sorted(totals.by_other_field, key=lambda x: (x == OTHER_FIELD_DEFAULT, x))
        for label in others:
            line(OTHER_FIELD_LINE.format(label=label, n=totals.by_other_field[label]))
        star(TOTAL_BY_SUBJECT)
        for subject, template in SUBJECT_TOTAL_LINES.items():
            line(template.format(n=totals.count(subject=subject)))
        self.append([])
        line(NOTES_LABEL, "A", bold=True, italic=True)
        for note in notes:
            line(note, italic=True)

    def _height(self, text: str) -> float | None:
        """Merged cells do not grow with wrapped text: a long line gets the height it needs."""
        lines = _lines(text, _per_line(sum(self.widths[1:])))
        return None if lines == 1 else _LINE_HEIGHT * lines + 2


_LINE_HEIGHT = 15.75  # points per line of 12 pt Times New Roman


def _per_line(width: float) -> int:
    """Characters of 12 pt Times New Roman on one line of a column ``width`` wide.

    A width unit holds about 1.2 such characters, Vietnamese included (measured on
    LibreOffice's PDF); 1.15 and one character for the cell's margins leave some room for wide
    letters."""
    return max(int(width * 1.15) - 1, 1)


def _lines(text: str, per_line: int) -> int:
    """How many lines ``text`` takes wrapped at word boundaries, ``per_line`` characters a line
    (an estimate: a word longer than a line counts the lines it fills)."""
    total = 0
    for paragraph in text.split("\n"):
        lines, used = 1, 0
        for word in paragraph.split():
            size = len(word)
            if used and used + 1 + size > per_line:
                lines, used = lines + 1, 0
            if size > per_line:
                lines += (size - 1) // per_line
                size = (size - 1) % per_line + 1
            used += size + (1 if used else 0)
        total += lines
    return total


def _save(wb: Workbook) -> bytes:
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- the appendices ---------------------------------------------------------------------------


async def build_pl1(session: AsyncSession, root: Unit, year: int, subtree: bool = True) -> bytes:
    """Phụ lục 1: the models registered for ``year`` by ``root`` (and its subtree), kept ones in
    section I, new ones in section II."""
    totals = await _totals(session, root, year, subtree)
    wb = Workbook(write_only=True)
    sheet = _Sheet(wb, PL1_LABEL, PL1_WIDTHS)
    sheet.head(root, PL1_LABEL, PL1_TITLE.format(year=year), PL1_HEAD, PL1_SUB)
    coll, indiv = Subject.COLLECTIVE.value, Subject.INDIVIDUAL.value

    def counts_row(stt: str | None, text: str, kept: bool | None) -> list[Any]:
        return sheet.bordered(
            [
                sheet.bold_center(stt),
                sheet.bold(text),
                sheet.bold_center(totals.count(kept=kept)),
                *(sheet.empty() for _ in range(4)),
                sheet.bold_center(totals.count(kept=kept, subject=coll)),
                sheet.bold_center(totals.count(kept=kept, subject=indiv)),
            ]
        )

    sheet.table_row(counts_row(None, TOTAL, None))
    sections = (
        ("I", PL1_SECTION_KEPT.format(last_year=year - 1), True),
        ("II", PL1_SECTION_NEW.format(year=year), False),
    )
    opened = 0  # sections whose header row is written
    unit_id: int | None = None
    unit_no = model_no = 0
    result = await session.stream(_rows_query(root, year, subtree, kept_first=True))
    async for partition in result.partitions(_PARTITION):
        for row in partition:
            section = 0 if row.origin == Origin.KEPT.value else 1
            while opened <= section:  # also writes an empty section I
                sheet.table_row(counts_row(*sections[opened]))
                opened += 1
                unit_id, unit_no = None, 0
            if row.unit_id != unit_id:
                unit_id, unit_no, model_no = row.unit_id, unit_no + 1, 0
                sheet.table_row(
                    sheet.bordered([sheet.bold_center(unit_no), sheet.bold(row.unit_name)])
                )
            model_no += 1
            individual = row.subject == indiv
            sheet.table_row(
                [
                    sheet.center(DASH),
                    sheet.text(_model_name(row.name, row.subject, row.subject_name)),
                    sheet.center(model_no),
                    sheet.text(row.place),
                    sheet.text(row.lead_body),
                    sheet.text(_field_text(row.field, row.field_other)),
                    sheet.text(row.scale),
                    sheet.center(_mark(not individual)),
                    sheet.center(_mark(individual)),
                ]
            )
    while opened < len(sections):
        sheet.table_row(counts_row(*sections[opened]))
        opened += 1
    sheet.footer(totals, PL1_NOTES)
    return await asyncio.to_thread(_save, wb)


async def build_pl4(session: AsyncSession, root: Unit, year: int, subtree: bool = True) -> bytes:
    """Phụ lục 4: the results of ``year`` of every model of ``root`` (and its subtree), new
    models above kept ones within each unit."""
    totals = await _totals(session, root, year, subtree)
    wb = Workbook(write_only=True)
    sheet = _Sheet(wb, PL4_LABEL, PL4_WIDTHS)
    sheet.head(root, PL4_LABEL, PL4_TITLE.format(year=year), PL4_HEAD, PL4_SUB)
    coll, indiv = Subject.COLLECTIVE.value, Subject.INDIVIDUAL.value
    sheet.table_row(
        [
            sheet.empty(),
            sheet.bold(TOTAL),
            sheet.bold_center(totals.count()),
            *(sheet.empty() for _ in range(4)),
            sheet.bold_center(totals.count(kept=False)),
            sheet.bold_center(totals.count(kept=True)),
            sheet.bold_center(totals.count(subject=coll)),
            sheet.bold_center(totals.count(subject=indiv)),
        ]
    )
    unit_id: int | None = None
    unit_no = model_no = 0
    result = await session.stream(_rows_query(root, year, subtree, kept_first=False))
    async for partition in result.partitions(_PARTITION):
        for row in partition:
            if row.unit_id != unit_id:
                unit_id, unit_no, model_no = row.unit_id, unit_no + 1, 0
                sheet.table_row(
                    sheet.bordered([sheet.bold_center(unit_no), sheet.bold(row.unit_name)])
                )
            model_no += 1
            kept = row.origin == Origin.KEPT.value
            individual = row.subject == indiv
            # Column (7) is the year's results; a model whose results are not reported yet
            # shows what it set out to do (its scale) rather than an empty cell.
            summary = row.results if row.results and row.results.strip() else row.scale
            sheet.table_row(
                [
                    sheet.center(DASH),
                    sheet.text(_model_name(row.name, row.subject, row.subject_name)),
                    sheet.center(model_no),
                    sheet.text(row.place),
                    sheet.text(row.lead_body),
                    sheet.text(_field_text(row.field, row.field_other)),
                    sheet.text(summary),
                    sheet.center(_mark(not kept)),
                    sheet.center(_mark(kept)),
                    sheet.center(_mark(not individual)),
                    sheet.center(_mark(individual)),
                ]
            )
    sheet.footer(totals, PL4_NOTES)
    return await asyncio.to_thread(_save, wb)


def appendix_file_name(number: int, root: Unit, year: int) -> str:
    """E.g. ``Phu_luc_1_Dang_bo_phuong_Minh_Khai_2026.xlsx`` (send with :data:`XLSX_MIME`)."""
    return file_name(f"Phụ lục {number}", root.name, year)
