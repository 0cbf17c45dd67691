"""The official look shared by every workbook: Times New Roman, bold centred titles, thin
borders on the table, wrapped text, A4 landscape fit to width, header rows repeated on every
printed page, frozen header.

Workbooks are written in openpyxl's write-only mode (rows streamed, constant memory), so
styles are set on ``WriteOnlyCell`` objects made by :func:`cell`; the Font, Border and
Alignment objects are shared (openpyxl keeps one style id per combination).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict, Unpack

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FONT_NAME = "Times New Roman"
SIZE = 12
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_THIN = Side(style="thin", color="000000")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
NO_BORDER = Border()
_FONTS: dict[tuple[bool, bool, int], Font] = {}
_ALIGNS: dict[tuple[str, str, bool], Alignment] = {}


def font(bold: bool = False, italic: bool = False, size: int = SIZE) -> Font:
    key = (bold, italic, size)
    if key not in _FONTS:
        _FONTS[key] = Font(name=FONT_NAME, size=size, bold=bold, italic=italic)
    return _FONTS[key]


def align(horizontal: str = "left", vertical: str = "center", wrap: bool = True) -> Alignment:
    key = (horizontal, vertical, wrap)
    if key not in _ALIGNS:
        _ALIGNS[key] = Alignment(horizontal=horizontal, vertical=vertical, wrap_text=wrap)
    return _ALIGNS[key]


class Look(TypedDict, total=False):
    """How a cell looks, in both writers (openpyxl here, XlsxWriter in
    :class:`reports.xlsx_style.Formats`); what is left out is as :func:`look_key` says."""

    bold: bool
    italic: bool
    size: int
    horizontal: str
    vertical: str
    wrap: bool
    border: bool  # a table cell; False: a line above or below the table


LookKey = tuple[bool, bool, int, str, str, bool, bool]


def look_key(look: Look) -> LookKey:
    """(bold, italic, size, horizontal, vertical, wrap, border), with the defaults: regular
    :data:`SIZE`, left, centred vertically, wrapped, bordered."""
    return (
        look.get("bold", False),
        look.get("italic", False),
        look.get("size", SIZE),
        look.get("horizontal", "left"),
        look.get("vertical", "center"),
        look.get("wrap", True),
        look.get("border", True),
    )


def title_look(size: int = 13, italic: bool = False) -> Look:
    """A bold (or italic) centred line above the table, without borders."""
    return Look(bold=not italic, italic=italic, size=size, horizontal="center", border=False)


def cell(ws: WriteOnlyWorksheet, value: Any = None, **look: Unpack[Look]) -> WriteOnlyCell:
    """A styled cell for a write-only sheet (``ws.append([...cells])``)."""
    bold, italic, size, horizontal, vertical, wrap, border = look_key(look)
    c = WriteOnlyCell(ws, value=value)
    c.font = font(bold, italic, size)
    c.alignment = align(horizontal, vertical, wrap)
    c.border = BORDER if border else NO_BORDER
    return c


def title(
    ws: WriteOnlyWorksheet, value: str, *, size: int = 13, italic: bool = False
) -> WriteOnlyCell:
    """A bold centred line above the table (no border)."""
    return cell(ws, value, **title_look(size, italic))


def setup_sheet(
    ws: WriteOnlyWorksheet,
    widths: Mapping[int, float],
    header_rows: tuple[int, int] | None = None,
    freeze: str | None = None,
) -> None:
    """Column widths, A4 landscape fit to one page wide, header rows repeated on every printed
    page, frozen header. Call before the first ``append`` (write-only sheets need it)."""
    for index, width in widths.items():
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    if header_rows is not None:
        ws.print_title_rows = f"{header_rows[0]}:{header_rows[1]}"
    if freeze is not None:
        ws.freeze_panes = freeze


def merge(ws: WriteOnlyWorksheet, ranges: Iterable[str]) -> None:
    """Merged ranges of a write-only sheet (written with the sheet when it is saved)."""
    for r in ranges:
        ws.merged_cells.add(r)


def ascii_slug(text: str) -> str:
    """Vietnamese without diacritics, words joined by '_': for file names."""
    text = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def scope_name(unit_name: str, subtree: bool) -> str:
    """What a sheet covers, as its heading says: the unit, and with ``subtree`` "… và các
    đơn vị trực thuộc"."""
    return f"{unit_name} và các đơn vị trực thuộc" if subtree else unit_name


def file_name(kind: str, unit_name: str, year: int) -> str:
    """E.g. ``Phu_luc_1_Dang_bo_phuong_Minh_Khai_2026.xlsx``."""
    return f"{ascii_slug(kind)}_{ascii_slug(unit_name)}_{year}.xlsx"
