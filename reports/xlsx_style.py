"""The official look of :mod:`reports.style` for workbooks written with XlsxWriter.

Phụ lục 1 and Phụ lục 4 can run to 100,000 rows; they are written with XlsxWriter's
``constant_memory`` mode, which streams each finished row to a temporary file and is several
times faster than openpyxl's write-only mode (see the reports benchmark in README.md). The
other workbooks (Tổng hợp with its chart, Biểu chấm điểm, Biểu 1) stay with openpyxl.

The look is the same: Times New Roman 12, bold centred titles, thin black borders on the
table, wrapped text, A4 landscape fit to one page wide, header rows repeated on every printed
page, frozen header.

XlsxWriter's rules that shape the helpers here:

- a format belongs to one workbook and is made once (:class:`Formats` keeps them by look);
- in ``constant_memory`` mode the rows are written in order: once a cell of a later row is
  written, the earlier rows are gone, so a merged range over several rows cannot be made by
  ``merge_range`` while the first of its rows is still being filled (:func:`merge_down`);
- ``write`` turns text into formulas ("=…") or links ("http…"), so text goes through
  :func:`put`, which writes it as text.
"""

from __future__ import annotations

import contextlib
from io import BytesIO
from typing import Any, Unpack

import xlsxwriter
from xlsxwriter.utility import xl_range

from reports.style import FONT_NAME, Look, LookKey, look_key, title_look

__all__ = [
    "Formats",
    "discard",
    "merge_down",
    "merge_row",
    "new_workbook",
    "put",
    "setup_sheet",
    "start_row",
]

BLACK = "#000000"
A4 = 9
THIN = 1


def new_workbook(buffer: BytesIO) -> Any:
    """A workbook streamed row by row (``constant_memory``) and saved into ``buffer`` on
    ``close()``. Close it (or :func:`discard` it) so its temporary file is removed."""
    return xlsxwriter.Workbook(buffer, {"constant_memory": True})


def discard(wb: Any) -> None:
    """Close a workbook whose build failed: ``close()`` is what removes the temporary files
    of a ``constant_memory`` workbook; the half-written result is dropped with its buffer."""
    with contextlib.suppress(Exception):
        wb.close()


class Formats:
    """The formats of one workbook, one per look, made on first use."""

    def __init__(self, wb: Any) -> None:
        self._wb = wb
        self._made: dict[LookKey, Any] = {}

    def __call__(self, **look: Unpack[Look]) -> Any:
        """The look of :func:`reports.style.cell`: a table cell unless ``border=False``."""
        key = look_key(look)
        made = self._made.get(key)
        if made is None:
            bold, italic, size, horizontal, vertical, wrap, border = key
            props: dict[str, Any] = {
                "font_name": FONT_NAME,
                "font_size": size,
                "bold": bold,
                "italic": italic,
                "align": horizontal,
                "valign": "vcenter" if vertical == "center" else vertical,
                "text_wrap": wrap,
            }
            if border:
                props |= {"border": THIN, "border_color": BLACK}
            made = self._made[key] = self._wb.add_format(props)
        return made

    def title(self, *, size: int = 13, italic: bool = False) -> Any:
        """The look of :func:`reports.style.title`: a bold centred line above the table."""
        return self(**title_look(size, italic))


def put(ws: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    """One cell (0-based row and column): text as text, numbers as numbers, ``None`` or ""
    as an empty cell that keeps ``fmt`` (its borders)."""
    if isinstance(value, str):
        if not value:
            ws.write_blank(row, col, None, fmt)
        elif value.startswith("<r>") and value.endswith("</r>"):
            # XlsxWriter passes such a string through as rich-text XML, unescaped: written in
            # two runs it is escaped like any other text (and reads back the same).
            ws.write_rich_string(row, col, value[:1], fmt, value[1:], fmt)
        else:
            ws.write_string(row, col, value, fmt)
    elif value is None:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def start_row(ws: Any, row: int, height: float | None = None) -> None:
    """Begin ``row`` (rows begun in order): its height in points, if it needs one.

    ``set_row`` keeps an entry per row for the whole build (tens of megabytes for a province's
    rows with a height), yet in ``constant_memory`` mode the entry is only read when the row is
    written out (and for images, which these sheets have none of). The entry of the row two up
    is dropped once that row is written out (the first cell of a row writes out the row before
    it), so the memory stays flat however many rows there are."""
    if height is not None:
        ws.set_row(row, height)
    written = getattr(ws, "previous_row", 0)  # rows above it are written out
    if row - 2 < written:
        for kept in (getattr(ws, "row_info", None), getattr(ws, "row_sizes", None)):
            if kept:
                kept.pop(row - 2, None)


def merge_row(ws: Any, row: int, first_col: int, last_col: int, value: Any, fmt: Any) -> None:
    """Merge columns ``first_col``…``last_col`` of one row, ``value`` in the first cell."""
    ws.merge_range(row, first_col, row, last_col, None, fmt)
    put(ws, row, first_col, value, fmt)


def merge_down(ws: Any, first_row: int, col: int, last_row: int) -> None:
    """Merge one column over rows ``first_row``…``last_row``, written one row at a time.

    ``merge_range`` writes the whole area at once, which ``constant_memory`` cannot do over
    several rows (the cells of the first row right of the range would then be refused). The
    merged range itself is only a record written with the sheet when it is closed, so it is
    recorded here (with XlsxWriter's overlap bookkeeping); the caller writes the cells row by
    row, the value in the first and the others blank in the same format, as ``merge_range``
    would."""
    cells = xl_range(first_row, col, last_row, col)
    for row in range(first_row, last_row + 1):
        ws.merged_cells[(row, col)] = cells
    ws.merge.append([first_row, col, last_row, col])


def setup_sheet(
    ws: Any,
    widths: dict[int, float],
    header_rows: tuple[int, int] | None = None,
    freeze: str | None = None,
) -> None:
    """As :func:`reports.style.setup_sheet` (1-based columns and rows): column widths, A4
    landscape fit to one page wide, header rows repeated on every printed page, frozen
    header (``freeze``, e.g. "A8", is the first cell below it)."""
    for index, width in widths.items():
        ws.set_column(index - 1, index - 1, width)
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.center_horizontally()
    if header_rows is not None:
        ws.repeat_rows(header_rows[0] - 1, header_rows[1] - 1)
    if freeze is not None:
        ws.freeze_panes(freeze)
