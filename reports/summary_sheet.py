"""The workbook "Tổng hợp" (:func:`write_summary`): one row per unit, indented by depth,
models per field, subject and origin, quota, registration on time, recognition, and in the
evaluation season (from the registration deadline on) results, self-scores, passing models
and yearly reports sent; a totals row, a bar chart of models per field, and the signature
block under it, ready to print and sign. A second sheet lists the units owing models that
have none. The figures are :func:`reports.summary.summary_of`'s, the ones /tonghop shows."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import (
    CharacterProperties,
    Font,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
)
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from domain.catalog import FIELD_KEYS, FIELD_SHORT, UNIT_KINDS, Field
from reports.signing import Rows, lines_height, per_line, wrapped_lines
from reports.style import FONT_NAME, cell, merge, scope_name, setup_sheet, title
from reports.summary import DEFAULT_TZ, REVIEW_KEYS, Summary, UnitLine
from storage.models import Unit

SHEET = "Tổng hợp"
MISSING_SHEET = "Chưa đăng ký"
HEADER_TOP = 5  # first header row; the table starts two rows below
YES, NO, NOT_REGISTERED, NO_QUOTA = "có", "không", "chưa đăng ký", "—"
SENT, NOT_SENT = "đã gửi", "chưa gửi"
REVIEW_LABELS = ("Chờ duyệt", "Công nhận", "Không công nhận", "Thanh loại")
# The evaluation season's columns: Summary / UnitLine attribute → header.
SEASON_KEYS: tuple[tuple[str, str], ...] = (
    ("results", "Có kết quả"),
    ("scored", "Đã tự chấm điểm"),
    ("passing", "Đạt yêu cầu"),
)
REPORT_LABEL = "Báo cáo năm"
FIELDS_GROUP, SEASON_GROUP, REVIEW_GROUP = (
    "Số mô hình theo lĩnh vực",
    "Đánh giá cuối năm",
    "Đề nghị công nhận",
)
HEADER_HEIGHTS = (30.0, 50.0)
CHART_HEIGHT_CM, CHART_WIDTH_CM = 8.0, 16.0
CHART_ROW = 240.0  # points: one row holds the chart (8 cm) so a page break never cuts it
_INDENTS: dict[tuple[int, bool], Alignment] = {}


@dataclass(frozen=True)
class Column:
    """A column of the table: its header (second header row when it has a group, the two
    header rows merged when not), the group above it, its width."""

    label: str
    group: str | None = None
    at_least: float = 7.0

    @property
    def width(self) -> float:
        # Header cells wrap at spaces: the longest word must fit, bold (+2).
        return max(self.at_least, max(len(word) for word in self.label.split()) + 2.5)


def columns(evaluation: bool) -> list[Column]:
    """The table's columns; the evaluation season's four at the end when ``evaluation``."""
    cols = [
        Column("STT", at_least=5),
        Column("Đơn vị", at_least=32),
        *(Column(FIELD_SHORT[Field(f)], FIELDS_GROUP) for f in FIELD_KEYS),
        Column("Tập thể", "Chủ thể"),
        Column("Cá nhân", "Chủ thể"),
        Column("XD mới", "XD mới / Duy trì"),
        Column("Duy trì", "XD mới / Duy trì"),
        Column("Tổng số mô hình", at_least=8),
        Column("Chỉ tiêu"),
        Column("Đạt chỉ tiêu"),
        Column("Đăng ký đúng hạn", at_least=10),
        *(Column(label, REVIEW_GROUP, at_least=8) for label in REVIEW_LABELS),
    ]
    if evaluation:
        cols += [
            *(Column(label, SEASON_GROUP, at_least=8) for _, label in SEASON_KEYS),
            Column(REPORT_LABEL, SEASON_GROUP, at_least=9),
        ]
    return cols


def _indented(ws: WriteOnlyWorksheet, name: str, depth: int, bold: bool) -> WriteOnlyCell:
    c = cell(ws, name, bold=bold)
    key = (min(depth, 15), bold)
    if key not in _INDENTS:
        _INDENTS[key] = Alignment(
            horizontal="left", vertical="center", wrap_text=True, indent=2 * key[0]
        )
    c.alignment = _INDENTS[key]
    return c


def _num(ws: WriteOnlyWorksheet, value: object, bold: bool = False) -> WriteOnlyCell:
    return cell(ws, value, bold=bold, horizontal="center")


def _local_day(deadline: datetime, tz: tzinfo) -> str:
    """The registration day of a deadline given as the first instant after that day."""
    day = (deadline - timedelta(microseconds=1)).astimezone(tz).date()
    return f"{day.day}/{day.month}/{day.year}"


def _name_height(name: str, depth: int, width: float) -> float | None:
    """The height of a unit's row: its name wraps in the indented column (an indent level
    takes about three characters)."""
    return lines_height(wrapped_lines(name, max(8, per_line(width) - 6 * min(depth, 15))))


def _header(sheet: Rows, cols: Sequence[Column]) -> None:
    ws, top, low = sheet.ws, HEADER_TOP, HEADER_TOP + 1

    def h(value: str | None) -> WriteOnlyCell:
        return cell(ws, value, bold=True, horizontal="center")

    first_of_group = [
        i == 0 or c.group is None or cols[i - 1].group != c.group for i, c in enumerate(cols)
    ]
    sheet.append(
        [
            h(c.label if c.group is None else c.group if first else None)
            for c, first in zip(cols, first_of_group, strict=True)
        ],
        HEADER_HEIGHTS[0],
    )
    sheet.append([h(None if c.group is None else c.label) for c in cols], HEADER_HEIGHTS[1])
    sheet.pager.repeated(sum(HEADER_HEIGHTS))
    ranges = []
    for i, c in enumerate(cols):
        letter = get_column_letter(i + 1)
        if c.group is None:
            ranges.append(f"{letter}{top}:{letter}{low}")
        elif first_of_group[i]:
            last = i
            while last + 1 < len(cols) and cols[last + 1].group == c.group:
                last += 1
            if last > i:
                ranges.append(f"{letter}{top}:{get_column_letter(last + 1)}{top}")
    merge(ws, ranges)


def _on_time_label(line: UnitLine) -> str:
    if not line.registered:
        return NOT_REGISTERED
    return YES if line.on_time else NO


def _report_label(line: UnitLine, receiver: bool) -> str:
    """A unit's yearly report: sent or not; the unit the others report to owes none here."""
    if receiver:
        return NO_QUOTA
    return SENT if line.report_sent else NOT_SENT


def _chart_text(size: int = 1000, bold: bool = False) -> CharacterProperties:
    return CharacterProperties(latin=Font(typeface=FONT_NAME), sz=size, b=bold)


def _rich(size: int = 1000) -> RichText:
    """Text properties of a chart part: Times New Roman, as the table."""
    props = _chart_text(size)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props)])


def _title(text: str, size: int = 1100) -> Title:
    props = _chart_text(size, bold=True)
    paragraph = Paragraph(
        pPr=ParagraphProperties(defRPr=props), r=[RegularTextRun(rPr=props, t=text)]
    )
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def _chart(ws: WriteOnlyWorksheet, summary: Summary, total_row: int) -> BarChart:
    """Models per field (the totals row), titled with the unit and the year; whole numbers
    on the axis and above each bar; every text in Times New Roman."""
    chart = BarChart()
    chart.type = "col"
    chart.title = _title(f"Số mô hình theo lĩnh vực năm {summary.year} — {summary.root_name}")
    chart.y_axis.title = _title("Số mô hình", 1000)
    chart.x_axis.title = _title("Lĩnh vực", 1000)
    chart.y_axis.number_format = "0"
    chart.y_axis.majorUnit = max(1, -(-max(summary.by_field.values(), default=0) // 8))
    chart.dataLabels = DataLabelList()
    # The count alone: LibreOffice adds the series and the category unless told not to.
    chart.dataLabels.showVal = True
    chart.dataLabels.showSerName = False
    chart.dataLabels.showCatName = False
    chart.dataLabels.showLegendKey = False
    chart.dataLabels.showPercent = False
    chart.dataLabels.txPr = _rich()
    chart.x_axis.txPr = _rich()
    chart.y_axis.txPr = _rich()
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend = None
    chart.height, chart.width = CHART_HEIGHT_CM, CHART_WIDTH_CM
    last = 2 + len(FIELD_KEYS)
    data = Reference(ws, min_col=3, max_col=last, min_row=total_row, max_row=total_row)
    categories = Reference(
        ws, min_col=3, max_col=last, min_row=HEADER_TOP + 1, max_row=HEADER_TOP + 1
    )
    chart.add_data(data, from_rows=True, titles_from_data=False)
    chart.set_categories(categories)
    return chart


def write_summary(
    summary: Summary,
    root: Unit,
    subtree: bool = True,
    *,
    evaluation: bool = False,
    tz: tzinfo = DEFAULT_TZ,
) -> bytes:
    """The workbook "Tổng hợp" of ``summary`` (:func:`reports.summary.summary_of` of ``root``,
    and of every unit below it when ``subtree``), signed for ``root``. ``evaluation`` (the
    registration deadline has passed: :func:`reports.summary.in_season`) adds the season's
    columns. ``tz`` only shows the deadline's day."""
    assert summary.deadline is not None, "a summary from summary_of has its deadline"
    deadline = summary.deadline
    year = summary.year
    cols = columns(evaluation)
    widths = [c.width for c in cols]
    end = get_column_letter(len(cols))
    wb = Workbook(write_only=True)
    ws: WriteOnlyWorksheet = wb.create_sheet(SHEET)
    setup_sheet(
        ws,
        dict(enumerate(widths, 1)),
        header_rows=(HEADER_TOP, HEADER_TOP + 1),
        freeze=f"C{HEADER_TOP + 2}",
    )
    sheet = Rows(ws, widths, landscape=True)
    where = scope_name(root.name, subtree)
    sheet.append([title(ws, f"TỔNG HỢP MÔ HÌNH “DÂN VẬN KHÉO” NĂM {year}")], 22)
    sheet.append([title(ws, where, size=12, italic=True)], 20)
    # The units that must register (their kind has a quota), as /tonghop counts them.
    registered = f"{summary.owing_registered}/{len(summary.must_register)}"
    sheet.append(
        [
            title(
                ws,
                f"Hạn đăng ký mô hình: ngày {_local_day(deadline, tz)}. "
                f"Đơn vị đã đăng ký: {registered}.",
                size=12,
                italic=True,
            )
        ],
        20,
    )
    sheet.append([])
    merge(ws, [f"A{r}:{end}{r}" for r in (1, 2, 3)])
    _header(sheet, cols)

    # The unit the others report to: the root of a subtree with units below it.
    receiver = subtree and len(summary.units) > 1
    for number, line in enumerate(summary.units, start=1):
        bold = line.depth == 0 and subtree
        values = [
            _num(ws, number),
            _indented(ws, line.name, line.depth, bold),
            *(_num(ws, line.by_field[f]) for f in FIELD_KEYS),
            _num(ws, line.collective),
            _num(ws, line.individual),
            _num(ws, line.new),
            _num(ws, line.kept),
            _num(ws, line.models, bold=True),
            _num(ws, line.quota or None),
            _num(ws, (YES if line.quota_met else NO) if line.quota else NO_QUOTA),
            _num(ws, _on_time_label(line)),
            *(_num(ws, getattr(line, key)) for key, _ in REVIEW_KEYS),
        ]
        if evaluation:
            values += [
                *(_num(ws, getattr(line, key)) for key, _ in SEASON_KEYS),
                _num(ws, _report_label(line, receiver and line.depth == 0)),
            ]
        sheet.append(values, _name_height(line.name, line.depth, widths[1]))

    with_quota = summary.must_register
    totals = [
        _num(ws, None),
        cell(ws, "Tổng cộng", bold=True, horizontal="center"),
        *(_num(ws, summary.by_field[f], bold=True) for f in FIELD_KEYS),
        _num(ws, summary.collective, bold=True),
        _num(ws, summary.individual, bold=True),
        _num(ws, summary.new, bold=True),
        _num(ws, summary.kept, bold=True),
        _num(ws, summary.models, bold=True),
        _num(ws, sum(u.quota for u in with_quota), bold=True),
        _num(ws, f"{sum(1 for u in with_quota if u.quota_met)}/{len(with_quota)}", bold=True),
        _num(ws, f"{sum(1 for u in summary.units if u.on_time)}/{summary.units_total}", bold=True),
        *(_num(ws, getattr(summary, key), bold=True) for key, _ in REVIEW_KEYS),
    ]
    if evaluation:
        totals += [
            *(_num(ws, getattr(summary, key), bold=True) for key, _ in SEASON_KEYS),
            _num(ws, f"{summary.reports_sent}/{summary.reports_due}", bold=True),
        ]
    total_row = sheet.append(totals, 20)

    chart_row = sheet.append([], CHART_ROW)
    ws.add_chart(_chart(ws, summary, total_row), f"B{chart_row}")
    sheet.sign(root.kind, root.signer_title)

    _missing_sheet(wb, summary, where, root)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


MISSING_WIDTHS = (6, 42, 16, 42, 10)


def _missing_sheet(wb: Workbook, summary: Summary, where: str, root: Unit) -> None:
    ws: WriteOnlyWorksheet = wb.create_sheet(MISSING_SHEET)
    setup_sheet(ws, dict(enumerate(MISSING_WIDTHS, 1)), header_rows=(4, 4), freeze="A5")
    sheet = Rows(ws, MISSING_WIDTHS, landscape=True)
    sheet.append([title(ws, f"CÁC ĐƠN VỊ CHƯA ĐĂNG KÝ MÔ HÌNH NĂM {summary.year}")], 22)
    sheet.append([title(ws, where, size=12, italic=True)], 20)
    sheet.append([])
    merge(ws, ["A1:E1", "A2:E2"])
    sheet.append(
        [
            cell(ws, h, bold=True, horizontal="center")
            for h in ("STT", "Đơn vị", "Loại đơn vị", "Trực thuộc", "Chỉ tiêu")
        ],
        20,
    )
    sheet.pager.repeated(20)
    parents: list[str] = []  # the name of the last unit seen at each depth
    missing: list[tuple[UnitLine, str]] = []
    for line in summary.units:
        del parents[line.depth :]
        parent = parents[-1] if parents else ""
        parents.append(line.name)
        if line.must_register and not line.registered:
            missing.append((line, parent))
    for number, (line, parent) in enumerate(missing, start=1):
        sheet.append(
            [
                cell(ws, number, horizontal="center"),
                cell(ws, line.name),
                cell(ws, UNIT_KINDS.get(line.kind, line.kind)),
                cell(ws, parent),
                cell(ws, line.quota or None, horizontal="center"),
            ],
            _name_height(max(line.name, parent, key=len), 0, MISSING_WIDTHS[1]),
        )
    if not missing:
        row = sheet.append(
            [
                cell(ws, "Tất cả đơn vị đã đăng ký mô hình.", italic=True, horizontal="center"),
                *(cell(ws) for _ in range(4)),
            ]
        )
        merge(ws, [f"A{row}:E{row}"])
    sheet.sign(root.kind, root.signer_title)


__all__ = ["columns", "write_summary"]
