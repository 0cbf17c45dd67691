"""Sheets ready to sign: page numbers in the footer, the place-date line and the signature
block after the table ("Người lập biểu" on the left, the unit's signer on the right), and the
page breaks that keep every printed page whole.

Where a page ends is decided here rather than left to the spreadsheet program: every row's
height is known when it is written, so :class:`Pager` puts a manual break before the row that
would not fit on an A4 page at the scale "fit to one page wide" gives, counting the header
rows repeated on every page. A row height not written is counted as :data:`DEFAULT_ROW`, more
than LibreOffice and Excel give a line of 12-point Times New Roman, and a page is filled only
to :data:`FILL` of its height, so each planned page holds what was planned and the program
adds no break of its own. Before the signature block, :meth:`Pager.keep_with` moves the last
rows of the table to the next page when the block would not fit under them: no page holds
only a signature block. (Excel keeps at most 1,023 manual breaks in a sheet; past them, in
sheets of thousands of pages, the program breaks the pages itself.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.pagebreak import Break

from domain.catalog import signer_title
from reports.style import cell, merge

FOOTER_TEXT = "Trang &P/&N"
FOOTER = f'&C&"Times New Roman,Regular"&10{FOOTER_TEXT}'
PLACE_DATE = "……………, ngày …… tháng …… năm ………"
MAKER = "NGƯỜI LẬP BIỂU"
MAKER_HINT = "(Ký, ghi rõ họ tên)"
SIGNER_HINT = "(Ký tên, đóng dấu)"

# A4 in points and the margins of reports.style.setup_sheet (0.5 in left and right, 0.6 in
# top and bottom).
_A4 = (595.0, 842.0)
_MARGIN_X = 36.0
_MARGIN_Y = 43.2
FILL = 0.86  # share of a page's height the planned rows may take (the footer's line, rounding)
DEFAULT_ROW = 17.0  # a row written without a height, counted generously
MAX_BREAKS = 1023


LINE_HEIGHT = 15.75  # points per line of 12 pt Times New Roman


def per_line(width: float) -> int:
    """Characters of 12 pt Times New Roman on one line of a column ``width`` wide.

    A width unit holds about 1.2 such characters, Vietnamese included (measured on
    LibreOffice's PDF); 1.15 and one character for the cell's margins leave some room for wide
    letters."""
    return max(int(width * 1.15) - 1, 1)


def wrapped_lines(text: str, chars: int) -> int:
    """How many lines ``text`` takes wrapped at word boundaries, ``chars`` characters a line
    (an estimate: a word longer than a line counts the lines it fills)."""
    total = 0
    for paragraph in text.split("\n"):
        lines, used = 1, 0
        for word in paragraph.split():
            size = len(word)
            if used and used + 1 + size > chars:
                lines, used = lines + 1, 0
            if size > chars:
                lines += (size - 1) // chars
                size = (size - 1) % chars + 1
            used += size + (1 if used else 0)
        total += lines
    return total


def lines_height(lines: int) -> float | None:
    """The height to write for a row of ``lines`` lines: None for one (the program's own).
    Excel sizes a row without a stored height when it shows it, LibreOffice does not."""
    return None if lines == 1 else LINE_HEIGHT * lines + 2


def text_height(text: str, width: float) -> float | None:
    """The height of a row whose cell (or merged cells) ``width`` wide holds ``text``."""
    return lines_height(wrapped_lines(text, per_line(width)))


def column_points(widths: Sequence[float]) -> float:
    """The printed width of columns of these Excel widths, in points (generous)."""
    return sum(width * 5.4 + 4.5 for width in widths)


class Pager:
    """Plans the page breaks of one sheet as its rows are written, in order (rows 1-based)."""

    def __init__(self, widths: Sequence[float], landscape: bool) -> None:
        page_w, page_h = (_A4[1], _A4[0]) if landscape else _A4
        self.scale = min(1.0, (page_w - 2 * _MARGIN_X) / column_points(widths))
        self.capacity = (page_h - 2 * _MARGIN_Y) * FILL / self.scale
        self.repeat = 0.0  # height of the header rows printed again on every later page
        self.used = 0.0
        self.page: list[tuple[int, float]] = []  # rows on the current page
        self.breaks: list[int] = []  # a page ends after each of these rows

    def repeated(self, height: float) -> None:
        """The header rows repeated on every page take ``height`` points."""
        self.repeat = height

    def add(self, row: int, height: float | None) -> None:
        h = DEFAULT_ROW if height is None else max(height, 1.0)
        if self.page and self.used + h > self.capacity:
            self._break_before(row)
        self.used += h
        self.page.append((row, h))

    def _break_before(self, row: int) -> None:
        if len(self.breaks) < MAX_BREAKS:
            self.breaks.append(row - 1)
        self.used = self.repeat
        self.page = []

    def keep_with(self, block: float, keep: int = 2) -> None:
        """Before a closing block ``block`` points high: when it does not fit under the rows
        of the current page, the last ``keep`` of them go with it to the next page."""
        if self.used + block <= self.capacity or len(self.page) <= keep:
            return
        moved = self.page[-keep:]
        self._break_before(moved[0][0])
        for row, h in moved:
            self.used += h
            self.page.append((row, h))


@dataclass(frozen=True)
class SignLine:
    """One line of the signature block: text under the left half and the right half."""

    left: str | None
    right: str | None
    bold: bool = False
    italic: bool = False
    height: float = 18.0


def signature_lines(kind: str, title: str | None) -> tuple[SignLine, ...]:
    """The block after a table: the place-date line, then who signs on each side, with room
    to sign. ``kind`` and ``title`` are the unit's (``Unit.kind``, ``Unit.signer_title``)."""
    return (
        SignLine(None, None, height=10.0),
        SignLine(None, PLACE_DATE, italic=True),
        SignLine(MAKER, signer_title(kind, title), bold=True),
        SignLine(MAKER_HINT, SIGNER_HINT, italic=True),
        SignLine(None, None, height=22.0),
        SignLine(None, None, height=22.0),
        SignLine(None, None, height=22.0),
    )


def block_height(lines: Sequence[SignLine]) -> float:
    return sum(line.height for line in lines)


def halves(widths: Sequence[float]) -> tuple[tuple[int, int], tuple[int, int]]:
    """0-based first and last columns of the left and the right part of a table: the left
    part the first columns holding at least a third of its width (all but the last when the
    last is wider than two thirds)."""
    total, running = sum(widths), 0.0
    for index, width in enumerate(widths[:-1]):
        running += width
        if running >= total / 3:
            return (0, index), (index + 1, len(widths) - 1)
    # The last column alone is wider than two thirds: it is the right part.
    return (0, len(widths) - 2), (len(widths) - 1, len(widths) - 1)


class Rows:
    """A write-only openpyxl sheet written row by row that knows its row number, plans its
    page breaks (:class:`Pager`) and ends with the signature block."""

    def __init__(self, ws: WriteOnlyWorksheet, widths: Sequence[float], landscape: bool) -> None:
        self.ws = ws
        self.widths = list(widths)
        self.row = 0
        self.pager = Pager(widths, landscape)
        ws.oddFooter.center.text = FOOTER_TEXT
        ws.oddFooter.center.font = "Times New Roman,Regular"
        ws.oddFooter.center.size = 10

    def append(self, cells: Sequence[Any], height: float | None = None) -> int:
        self.row += 1
        if height is not None:
            self.ws.row_dimensions[self.row].height = height
        self.pager.add(self.row, height)
        self.ws.append(list(cells))
        return self.row

    def keep_together(self, height: float) -> None:
        """The next rows, ``height`` points in all, start a new page unless they fit under
        the rows already on this one (a heading is never the last line of a page)."""
        if self.pager.page and self.pager.used + height > self.pager.capacity:
            self.page_break()

    def page_break(self) -> None:
        """The next row starts a new page."""
        self.pager.breaks.append(self.row)
        self.pager.used, self.pager.page = self.pager.repeat, []

    def sign(self, kind: str, title: str | None, breaks: bool = True) -> None:
        """The signature block of a unit of ``kind`` (its own ``title``, if any), kept on one
        page with the last rows above it; then the planned page breaks are recorded (unless
        ``breaks`` is False: a sheet fitted to one page)."""
        lines = signature_lines(kind, title)
        self.pager.keep_with(block_height(lines))
        (l1, l2), (r1, r2) = halves(self.widths)
        letter = get_column_letter
        merges = []
        for line in lines:
            cells: list[Any] = [None] * len(self.widths)
            for first, text in ((l1, line.left), (r1, line.right)):
                if text is not None:
                    cells[first] = cell(
                        self.ws,
                        text,
                        bold=line.bold,
                        italic=line.italic,
                        horizontal="center",
                        border=False,
                    )
            row = self.append(cells, line.height)
            if line.left is not None and l2 > l1:
                merges.append(f"{letter(l1 + 1)}{row}:{letter(l2 + 1)}{row}")
            if line.right is not None and r2 > r1:
                merges.append(f"{letter(r1 + 1)}{row}:{letter(r2 + 1)}{row}")
        merge(self.ws, merges)
        if breaks:
            self.finish()

    def finish(self) -> None:
        for row in self.pager.breaks:
            self.ws.row_breaks.append(Break(id=row))


def sign_xlsxwriter(
    ws: Any, look: Any, row: int, widths: Sequence[float], kind: str, title: str | None
) -> int:
    """The signature block of an XlsxWriter sheet from 0-based ``row`` on (its rows planned by
    the caller's :class:`Pager` with :meth:`Pager.keep_with` first); returns the last row."""
    (l1, l2), (r1, r2) = halves(widths)
    for line in signature_lines(kind, title):
        ws.set_row(row, line.height)
        fmt = look(bold=line.bold, italic=line.italic, horizontal="center", border=False)
        for first, last, text in ((l1, l2, line.left), (r1, r2, line.right)):
            if text is None:
                continue
            if last > first:
                ws.merge_range(row, first, row, last, text, fmt)
            else:
                ws.write_string(row, first, text, fmt)
        row += 1
    return row - 1


def xlsxwriter_footer(ws: Any) -> None:
    """Page numbers in the footer of an XlsxWriter sheet."""
    ws.set_footer(FOOTER)
