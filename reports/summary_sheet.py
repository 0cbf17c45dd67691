"""The workbook "Tổng hợp" (:func:`build_summary`): one row per unit, indented by depth,
models per field, subject and origin, quota, registration on time, a totals row and a bar
chart; a second sheet lists the units without a model. The figures are
:func:`reports.summary.summary_of`'s."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import FIELD_SHORT, UNIT_KINDS, Field
from reports.signing import FOOTER_TEXT
from reports.style import cell, merge, setup_sheet, title
from reports.summary import DEFAULT_TZ, FIELD_KEYS, REVIEW_KEYS, Summary, UnitLine, summary_of
from storage.models import Unit

SHEET = "Tổng hợp"
MISSING_SHEET = "Chưa đăng ký"
COLUMNS = 19
HEADER_TOP = 5  # first header row; the table starts two rows below
YES, NO, NOT_REGISTERED, NO_QUOTA = "có", "không", "chưa đăng ký", "—"
_INDENTS: dict[tuple[int, bool], Alignment] = {}


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


def _header(ws: WriteOnlyWorksheet) -> None:
    top, low = HEADER_TOP, HEADER_TOP + 1

    def h(value: str | None) -> WriteOnlyCell:
        return cell(ws, value, bold=True, horizontal="center")

    ws.append(
        [
            h("STT"),
            h("Đơn vị"),
            h("Số mô hình theo lĩnh vực"),
            *(h(None) for _ in range(4)),
            h("Chủ thể"),
            h(None),
            h("XD mới / Duy trì"),
            h(None),
            h("Tổng số mô hình"),
            h("Chỉ tiêu"),
            h("Đạt chỉ tiêu"),
            h("Đăng ký đúng hạn"),
            h("Đề nghị công nhận"),
            *(h(None) for _ in range(3)),
        ]
    )
    ws.append(
        [
            h(None),
            h(None),
            *(h(FIELD_SHORT[Field(f)]) for f in FIELD_KEYS),
            h("Tập thể"),
            h("Cá nhân"),
            h("XD mới"),
            h("Duy trì"),
            *(h(None) for _ in range(4)),
            h("Chờ duyệt"),
            h("Công nhận"),
            h("Không công nhận"),
            h("Thanh loại"),
        ]
    )
    merge(
        ws,
        [
            f"A{top}:A{low}",
            f"B{top}:B{low}",
            f"C{top}:G{top}",
            f"H{top}:I{top}",
            f"J{top}:K{top}",
            *(f"{c}{top}:{c}{low}" for c in "LMNO"),
            f"P{top}:S{top}",
        ],
    )


def _on_time_label(line: UnitLine) -> str:
    if not line.registered:
        return NOT_REGISTERED
    return YES if line.on_time else NO


async def build_summary(
    session: AsyncSession,
    root: Unit,
    year: int,
    deadline: datetime,
    quotas: Mapping[str, int] | None = None,
    subtree: bool = True,
    *,
    tz: tzinfo = DEFAULT_TZ,
) -> bytes:
    """The workbook "Tổng hợp": one row per unit (name indented by depth), models per field,
    subject and origin, total, quota, quota met, registered on time, a totals row and a bar
    chart of models per field; a second sheet lists the units without a model. ``tz`` only
    shows the deadline's day."""
    summary = await summary_of(session, root, year, deadline, quotas, subtree)
    wb = Workbook(write_only=True)
    ws: WriteOnlyWorksheet = wb.create_sheet(SHEET)
    setup_sheet(
        ws,
        {
            1: 6,
            2: 42,
            **dict.fromkeys(range(3, 14), 9),
            # A field's short name is one word ("XDĐ&HTCT"): it cannot wrap, so it must fit.
            **{3 + i: max(9, len(FIELD_SHORT[Field(f)]) + 3) for i, f in enumerate(FIELD_KEYS)},
            14: 10,
            15: 13,
            16: 9,
            17: 9,
            18: 11,
            19: 10,
        },
        header_rows=(HEADER_TOP, HEADER_TOP + 1),
        freeze=f"C{HEADER_TOP + 2}",
    )
    where = f"{root.name} và các đơn vị trực thuộc" if subtree else root.name
    ws.oddFooter.center.text = FOOTER_TEXT  # "Trang x/y", as on the official sheets
    ws.oddFooter.center.font = "Times New Roman,Regular"
    ws.oddFooter.center.size = 10
    ws.append([title(ws, f"TỔNG HỢP MÔ HÌNH “DÂN VẬN KHÉO” NĂM {year}")])
    ws.append([title(ws, where, size=12, italic=True)])
    ws.append(
        [
            title(
                ws,
                # The units that must register (their kind has a quota), as /tonghop counts.
                f"Hạn đăng ký mô hình: ngày {_local_day(deadline, tz)}. Đơn vị đã đăng ký: "
                f"{summary.owing_registered}/{len(summary.must_register)}.",
                size=12,
                italic=True,
            )
        ]
    )
    ws.append([])
    merge(ws, [f"A{r}:S{r}" for r in (1, 2, 3)])
    _header(ws)

    row = HEADER_TOP + 1
    for number, line in enumerate(summary.units, start=1):
        bold = line.depth == 0 and subtree
        ws.append(
            [
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
        )
        row += 1

    with_quota = [u for u in summary.units if u.quota]
    ws.append(
        [
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
            _num(
                ws, f"{sum(1 for u in summary.units if u.on_time)}/{summary.units_total}", bold=True
            ),
            *(_num(ws, getattr(summary, key), bold=True) for key, _ in REVIEW_KEYS),
        ]
    )
    total_row = row + 1

    chart = BarChart()
    chart.type = "col"
    chart.title = f"Số mô hình theo lĩnh vực năm {year} — {summary.root_name}"
    chart.y_axis.title = "Số mô hình"
    # Models are counted whole: whole-number steps on the axis, the count above each bar.
    chart.y_axis.number_format = "0"
    chart.y_axis.majorUnit = max(1, -(-max(summary.by_field.values(), default=0) // 8))
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showVal = True
    chart.x_axis.title = "Lĩnh vực"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend = None
    chart.height, chart.width = 8, 16
    data = Reference(ws, min_col=3, max_col=7, min_row=total_row, max_row=total_row)
    categories = Reference(ws, min_col=3, max_col=7, min_row=HEADER_TOP + 1, max_row=HEADER_TOP + 1)
    chart.add_data(data, from_rows=True, titles_from_data=False)
    chart.set_categories(categories)
    ws.add_chart(chart, f"B{total_row + 3}")

    _missing_sheet(wb, summary, where)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _missing_sheet(wb: Workbook, summary: Summary, where: str) -> None:
    ws: WriteOnlyWorksheet = wb.create_sheet(MISSING_SHEET)
    setup_sheet(ws, {1: 6, 2: 42, 3: 16, 4: 42, 5: 10}, header_rows=(4, 4), freeze="A5")
    ws.append([title(ws, f"CÁC ĐƠN VỊ CHƯA ĐĂNG KÝ MÔ HÌNH NĂM {summary.year}")])
    ws.append([title(ws, where, size=12, italic=True)])
    ws.append([])
    merge(ws, ["A1:E1", "A2:E2"])
    ws.append(
        [
            cell(ws, h, bold=True, horizontal="center")
            for h in ("STT", "Đơn vị", "Loại đơn vị", "Trực thuộc", "Chỉ tiêu")
        ]
    )
    parents: list[str] = []  # the name of the last unit seen at each depth
    missing: list[tuple[UnitLine, str]] = []
    for line in summary.units:
        del parents[line.depth :]
        parent = parents[-1] if parents else ""
        parents.append(line.name)
        if line.must_register and not line.registered:
            missing.append((line, parent))
    for number, (line, parent) in enumerate(missing, start=1):
        ws.append(
            [
                cell(ws, number, horizontal="center"),
                cell(ws, line.name),
                cell(ws, UNIT_KINDS.get(line.kind, line.kind)),
                cell(ws, parent),
                cell(ws, line.quota or None, horizontal="center"),
            ]
        )
    if not missing:
        ws.append(
            [
                cell(ws, "Tất cả đơn vị đã đăng ký mô hình.", italic=True, horizontal="center"),
                *(cell(ws) for _ in range(4)),
            ]
        )
        merge(ws, ["A5:E5"])


__all__ = ["build_summary"]
