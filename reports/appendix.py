"""Phụ lục 1 and Phụ lục 4 of the Kế hoạch năm 2024 (Yên Bái) as workbooks, for one unit and
(by default) its subtree.

- Phụ lục 1, "BIỂU TỔNG HỢP ĐĂNG KÝ XÂY DỰNG MỚI MÔ HÌNH “DÂN VẬN KHÉO” NĂM …": section I lists
  the models kept from last year, section II the ones registered new this year.
- Phụ lục 4, "BIỂU TỔNG HỢP BÁO CÁO KẾT QUẢ XÂY DỰNG, DUY TRÌ MÔ HÌNH “DÂN VẬN KHÉO” NĂM …":
  one list, new models above kept ones within each unit, with the results of the year.

In both, rows are grouped by owning unit (numbered 1, 2, … with the unit's name as a sub-header,
units in tree order) and ordered by field (KT, VHXH, QPAN, XDĐ&HTCT, then the others); column
(3) numbers the models within their unit. Only active records of the year count.

Built to scale to 100,000 models: the rows come from one SQL query ordered by the database and
read in partitions, each row goes straight into a sheet that XlsxWriter streams to a temporary
file (``constant_memory``; see :mod:`reports.xlsx_style`); the totals, written above the rows,
come first from one GROUP BY query. Nothing holds all the rows at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from io import BytesIO
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import Subject
from reports.appendix_form import (
    DASH,
    FIELD_TOTAL_LINES,
    FREEZE,
    MARK,
    NOT_REPORTED,
    NOTES_LABEL,
    OTHER_FIELD_DEFAULT,
    OTHER_FIELD_LINE,
    PL1,
    PL1_SECTION_KEPT,
    PL1_SECTION_NEW,
    PL4,
    ROW_HEAD,
    ROW_NUMBERS,
    SUBJECT_TOTAL_LINES,
    TOTAL,
    TOTAL_BY_FIELD,
    TOTAL_BY_SUBJECT,
    Form,
)
from reports.appendix_rows import KEPT, Totals, field_text, read_totals, rows_query, shown_name
from reports.signing import (
    DEFAULT_ROW,
    Pager,
    block_height,
    lines_height,
    per_line,
    sign_xlsxwriter,
    signature_lines,
    text_height,
    wrapped_lines,
    xlsxwriter_footer,
)
from reports.style import XLSX_MIME, file_name
from reports.xlsx_style import (
    Formats,
    discard,
    merge_down,
    merge_row,
    new_workbook,
    put,
    setup_sheet,
    start_row,
)
from storage.models import Unit

__all__ = ["XLSX_MIME", "appendix_file_name", "build_pl1", "build_pl4"]

# Rows per fetch: each batch is written before the next is read, and the event loop runs other
# work in between. Larger batches read no faster (``bench/bench_reports.py``).
_PARTITION = 100

_COLLECTIVE, _INDIVIDUAL = Subject.COLLECTIVE.value, Subject.INDIVIDUAL.value


# --- sheet ------------------------------------------------------------------------------------


class _Sheet:
    """A sheet written row by row (XlsxWriter ``constant_memory``) that knows its row number.

    Rows and columns are 0-based here, as XlsxWriter counts; the layout constants above are the
    1-based numbers a reader of the sheet sees."""

    def __init__(self, wb: Any, name: str, widths: Sequence[float]) -> None:
        self.ws = wb.add_worksheet(name)
        self.pager = Pager(widths, landscape=True)
        self.pager.repeated(_HEAD_HEIGHT)
        xlsxwriter_footer(self.ws)
        self.ncols = len(widths)
        self.widths = widths
        self.per_line = [per_line(w) for w in widths]
        self.last = self.ncols - 1
        self.row = -1
        setup_sheet(
            self.ws,
            dict(enumerate(widths, 1)),
            header_rows=(ROW_HEAD, ROW_NUMBERS),
            freeze=FREEZE,
        )
        self.look = look = Formats(wb)
        self.text = look()
        self.center = look(horizontal="center")
        self.bold = look(bold=True)
        self.bold_center = look(bold=True, horizontal="center")
        self.empty = self.text  # an empty cell of the table: borders only

    def next_row(self, height: float | None = None) -> int:
        self.row += 1
        start_row(self.ws, self.row, height)
        self.pager.add(self.row + 1, height)
        return self.row

    def table_row(self, values: Sequence[Any], formats: Sequence[Any]) -> int:
        """A row of the table, as high as its longest wrapped text needs.

        Excel sizes a row without a stored height when it shows it, LibreOffice does not (its
        rows stay one line high and wrapped text is cut), so a row of several lines gets its
        height written."""
        lines = 1
        for chars, value in zip(self.per_line, values, strict=False):
            if value.__class__ is str and (len(value) > chars or "\n" in value):
                lines = max(lines, wrapped_lines(value, chars))
        row = self.next_row(lines_height(lines))
        ws, blank = self.ws, self.empty
        for col, value in enumerate(values):
            put(ws, row, col, value, formats[col])
        for col in range(len(values), self.ncols):  # padded with empty bordered cells
            ws.write_blank(row, col, None, blank)
        return row

    def unit_row(self, number: int, name: str, count: int) -> int:
        """The sub-header of one unit's models: its number, name and how many models it has
        (column (3)), in bold."""
        return self.table_row(
            (number, name, count), (self.bold_center, self.bold, self.bold_center)
        )

    def sign(self, root: Unit) -> None:
        """The signature block after the table, with the last rows above it on its page; the
        planned page breaks."""
        lines = signature_lines(root.kind, root.signer_title)
        self.pager.keep_with(block_height(lines))
        self.row = sign_xlsxwriter(
            self.ws, self.look, self.row + 1, self.widths, root.kind, root.signer_title
        )
        self.ws.set_h_pagebreaks(self.pager.breaks)

    def head(
        self,
        root: Unit,
        label: str,
        heading: str,
        groups: Sequence[tuple[str, int]],
        sub_labels: Sequence[str],
    ) -> None:
        """Unit name and appendix label, title, the two header rows and the (1)…(n) row."""
        ws, look = self.ws, self.look
        name_look = look.title(size=12)
        row = self.next_row(text_height(root.name, sum(self.widths[:4])))
        merge_row(ws, row, 0, 3, root.name.upper(), name_look)  # A:D
        merge_row(ws, row, self.ncols - 2, self.last, label, name_look)
        self.next_row()
        row = self.next_row(height=36)
        merge_row(ws, row, 0, self.last, heading, look.title())
        self.next_row()
        # Row by row, as the sheet is streamed: a single column spans both header rows (its
        # lower cell blank), a group spans its columns on the first and on the numbers row.
        top = self.next_row(height=36)
        column = 0
        for text, span in groups:
            if span == 1:
                put(ws, top, column, text, self.bold_center)
                merge_down(ws, top, column, top + 1)
            else:
                merge_row(ws, top, column, column + span - 1, text, self.bold_center)
            column += span
        sub = self.next_row(height=30)
        subs = iter(sub_labels)
        column = 0
        for _text, span in groups:
            for k in range(span):
                put(ws, sub, column + k, None if span == 1 else next(subs), self.bold_center)
            column += span
        numbers = self.next_row()
        number_look = look(italic=True, horizontal="center")
        column = 0
        for number, (_text, span) in enumerate(groups, 1):
            if span == 1:
                put(ws, numbers, column, f"({number})", number_look)
            else:
                merge_row(ws, numbers, column, column + span - 1, f"({number})", number_look)
            column += span

    def footer(self, totals: Totals, notes: Sequence[str]) -> None:
        """Totals per field and per subject, then the notes, below the table."""
        ws, look = self.ws, self.look
        star_look = look(bold=True, horizontal="center", border=False)
        bold_look = look(bold=True, border=False)
        plain = look(border=False)
        self.next_row()

        def star(text: str) -> None:
            row = self.next_row()
            put(ws, row, 0, "*", star_look)
            merge_row(ws, row, 1, self.last, text, bold_look)

        def line(text: str, first: int = 1, fmt: Any = plain) -> None:
            row = self.next_row(self._height(text))
            merge_row(ws, row, first, self.last, text, fmt)

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
        self.next_row()
        line(NOTES_LABEL, 0, look(bold=True, italic=True, border=False))
        italic = look(italic=True, border=False)
        for note in notes:
            line(note, fmt=italic)

    def _height(self, text: str) -> float | None:
        """Merged cells do not grow with wrapped text: a long line gets the height it needs."""
        return text_height(text, sum(self.widths[1:]))


_HEAD_HEIGHT = 36 + 30 + DEFAULT_ROW  # the header rows repeated on every page


@contextlib.asynccontextmanager
async def _workbook() -> AsyncIterator[tuple[Any, BytesIO]]:
    """A streamed workbook and the buffer it is saved into. Saved (the rows streamed to a
    temporary file are zipped into the buffer) in a worker thread when the body ends; closed
    anyway, its temporary file removed, when the body fails."""
    buffer = BytesIO()
    wb = new_workbook(buffer)
    try:
        yield wb, buffer
    except BaseException:
        discard(wb)
        raise
    await asyncio.to_thread(wb.close)


@contextlib.asynccontextmanager
async def _appendix(
    session: AsyncSession, root: Unit, year: int, subtree: bool, form: Form
) -> AsyncIterator[tuple[_Sheet, Totals, BytesIO]]:
    """The sheet of ``form`` with its header written, the totals of the year, and the buffer
    the workbook is saved into once the body has written the table; the notes and the
    signature close it."""
    totals = await read_totals(session, root, year, subtree)
    async with _workbook() as (wb, buffer):
        sheet = _Sheet(wb, form.label, form.widths)
        sheet.head(root, form.label, form.title.format(year=year), form.head, form.sub)
        yield sheet, totals, buffer
        sheet.footer(totals, form.notes)
        sheet.sign(root)


async def _model_rows(
    session: AsyncSession, root: Unit, year: int, subtree: bool, *, kept_first: bool
) -> AsyncIterator[Row[*tuple[Any, ...]]]:
    """The rows of :func:`rows_query`, read :data:`_PARTITION` at a time."""
    result = await session.stream(rows_query(root, year, subtree, kept_first=kept_first))
    async for partition in result.partitions(_PARTITION):
        for row in partition:
            yield row


class _Numbering:
    """The running numbers of the model rows: a unit's sub-header row (numbered) is written
    before its first model, and the models are numbered within their unit."""

    def __init__(self, sheet: _Sheet, totals: Totals, by_section: bool) -> None:
        self.sheet = sheet
        self.totals = totals
        self.by_section = by_section  # Phụ lục 1: a unit's count within its section
        self.unit_id: int | None = None
        self.unit_no = self.model_no = 0

    def restart(self) -> None:
        """Units are numbered from 1 again (a new section)."""
        self.unit_id, self.unit_no = None, 0

    def model_cells(self, row: Row[*tuple[Any, ...]]) -> tuple[Any, ...]:
        """The first six cells of a model's row: dash, name, number, place, lead body, field."""
        unit_id, unit_name, origin, name, fld, other, subject, person, place, lead, *_ = row
        if unit_id != self.unit_id:
            self.unit_id, self.unit_no, self.model_no = unit_id, self.unit_no + 1, 0
            by_unit = self.totals.by_unit
            if self.by_section:
                count = by_unit[(unit_id, origin == KEPT)]
            else:
                count = by_unit[(unit_id, True)] + by_unit[(unit_id, False)]
            self.sheet.unit_row(self.unit_no, unit_name, count)
        self.model_no += 1
        return (
            DASH,
            shown_name(name, subject, person),
            self.model_no,
            place,
            lead,
            field_text(fld, other),
        )


# --- the appendices ---------------------------------------------------------------------------


async def build_pl1(session: AsyncSession, root: Unit, year: int, subtree: bool = True) -> bytes:
    """Phụ lục 1: the models registered for ``year`` by ``root`` (and its subtree), kept ones in
    section I, new ones in section II."""
    async with _appendix(session, root, year, subtree, PL1) as (sheet, totals, buffer):
        text, center, bold, bold_center = sheet.text, sheet.center, sheet.bold, sheet.bold_center
        counts_looks = (bold_center, bold, bold_center, text, text, text, text, *(bold_center,) * 2)
        model_looks = (center, text, center, text, text, text, text, center, center)

        def counts_row(stt: str | None, label: str, kept: bool | None) -> None:
            n, n_coll = totals.count(kept=kept), totals.count(kept=kept, subject=_COLLECTIVE)
            n_indiv = totals.count(kept=kept, subject=_INDIVIDUAL)
            values = (stt, label, n, None, None, None, None, n_coll, n_indiv)
            sheet.table_row(values, counts_looks)

        counts_row(None, TOTAL, None)
        sections = (
            ("I", PL1_SECTION_KEPT.format(last_year=year - 1), True),
            ("II", PL1_SECTION_NEW.format(year=year), False),
        )
        opened = 0  # sections whose header row is written
        numbering = _Numbering(sheet, totals, by_section=True)
        async for row in _model_rows(session, root, year, subtree, kept_first=True):
            section = 0 if row.origin == KEPT else 1
            while opened <= section:  # also writes an empty section I
                counts_row(*sections[opened])
                opened += 1
                numbering.restart()
            individual = row.subject == _INDIVIDUAL
            sheet.table_row(
                (
                    *numbering.model_cells(row),
                    row.scale,
                    None if individual else MARK,
                    MARK if individual else None,
                ),
                model_looks,
            )
        while opened < len(sections):
            counts_row(*sections[opened])
            opened += 1
    return buffer.getvalue()


async def build_pl4(session: AsyncSession, root: Unit, year: int, subtree: bool = True) -> bytes:
    """Phụ lục 4: the results of ``year`` of every model of ``root`` (and its subtree), new
    models above kept ones within each unit."""
    async with _appendix(session, root, year, subtree, PL4) as (sheet, totals, buffer):
        text, center, bold, bold_center = sheet.text, sheet.center, sheet.bold, sheet.bold_center
        sheet.table_row(
            (
                None,
                TOTAL,
                totals.count(),
                None,
                None,
                None,
                None,
                totals.count(kept=False),
                totals.count(kept=True),
                totals.count(subject=_COLLECTIVE),
                totals.count(subject=_INDIVIDUAL),
            ),
            (text, bold, bold_center, text, text, text, text, *(bold_center,) * 4),
        )
        model_looks = (center, text, center, text, text, text, text, *(center,) * 4)
        numbering = _Numbering(sheet, totals, by_section=False)
        async for row in _model_rows(session, root, year, subtree, kept_first=False):
            kept = row.origin == KEPT
            individual = row.subject == _INDIVIDUAL
            results = row.results
            # Column (7) is the year's results: "(chưa báo cáo)" until they are entered.
            sheet.table_row(
                (
                    *numbering.model_cells(row),
                    results if results and results.strip() else NOT_REPORTED,
                    None if kept else MARK,
                    MARK if kept else None,
                    None if individual else MARK,
                    MARK if individual else None,
                ),
                model_looks,
            )
    return buffer.getvalue()


def appendix_file_name(number: int, root: Unit, year: int) -> str:
    """E.g. ``Phu_luc_1_Dang_bo_phuong_Minh_Khai_2026.xlsx`` (send with :data:`XLSX_MIME`)."""
    return file_name(f"Phụ lục {number}", root.name, year)
