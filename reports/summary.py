"""The leader's summary of a year: who registered, how many models per field and subject,
who is late or below the quota. As data (:func:`summary_of`), as a text that fits one phone
screen (:func:`summary_text`) and as the workbook "Tổng hợp" (:func:`build_summary`).

Counts come from one aggregate query (GROUP BY unit, field, subject, origin, recognition
review, with the first creation time per group), never from loading every model row.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.catalog import FIELD_ORDER, FIELD_SHORT, UNIT_KINDS
from conversations.text import fold
from reports.style import cell, merge, setup_sheet, title
from storage.models import (
    DvkModel,
    Field,
    ModelYear,
    Origin,
    RecordState,
    Review,
    Subject,
    Unit,
)

# Models expected of a unit per year by its kind (seed 002): a party cell at least 1, a
# grassroots party committee at least 2, each mass organisation at least 5. 0 = no quota.
DEFAULT_QUOTAS: dict[str, int] = dict.fromkeys(UNIT_KINDS, 0) | {
    "chi_bo": 1,
    "dang_uy": 2,
    "doan_the": 5,
}
DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FIELD_KEYS: tuple[str, ...] = tuple(f.value for f in FIELD_ORDER)
NAME_SHOWN_MAX = 60  # characters of one unit name in the phone text
_QUOTA_ITEM = re.compile(r"^([a-z_]+)\s*=\s*(-?\d+)$")
_DIGITS = re.compile(r"(\d+)")


def parse_quotas(text: str) -> dict[str, int]:
    """The quotas of a setting such as ``"chi_bo=1,dang_uy=2,doan_the=5"`` (``,`` or ``;``
    between items, spaces allowed). Only the kinds named are returned; merge them over
    :data:`DEFAULT_QUOTAS` to keep the defaults of the others. An empty text gives ``{}``.

    Raises ValueError naming the bad item: no ``=``, an unknown unit kind, a count that is
    not a whole number from 0 to 1000, or a kind given twice."""
    quotas: dict[str, int] = {}
    for raw in re.split(r"[,;]", text):
        item = raw.strip()
        if not item:
            continue
        match = _QUOTA_ITEM.match(item)
        if match is None:
            raise ValueError(
                f"Chỉ tiêu “{item}” không đúng dạng loại_đơn_vị=số, ví dụ chi_bo=1,doan_the=5."
            )
        kind, number = match.group(1), int(match.group(2))
        if kind not in UNIT_KINDS:
            known = ", ".join(UNIT_KINDS)
            raise ValueError(f"Loại đơn vị “{kind}” không có. Các loại: {known}.")
        if not 0 <= number <= 1000:
            raise ValueError(f"Chỉ tiêu của {kind} phải từ 0 đến 1000, không phải {number}.")
        if kind in quotas:
            raise ValueError(f"Chỉ tiêu của {kind} được ghi hai lần.")
        quotas[kind] = number
    return quotas


@dataclass
class UnitLine:
    """One unit's numbers in the year."""

    unit_id: int
    name: str
    kind: str
    depth: int  # below the root of the summary (the root is 0)
    models: int
    by_field: dict[str, int]  # Field value → count, every field present
    collective: int
    individual: int
    new: int
    kept: int
    quota: int  # 0 = no quota for this kind
    quota_met: bool
    registered: bool  # at least one active model in the year
    on_time: bool  # registered, and its first model created before the deadline
    first_at: datetime | None = None  # creation of its first active model of the year
    # Recognition (/dexuat, /duyet): models waiting for a decision, and each decision.
    proposed: int = 0
    recognised: int = 0
    not_recognised: int = 0
    removed: int = 0


@dataclass
class Summary:
    root_name: str
    year: int
    units: list[UnitLine]  # tree order: parents before children, siblings by name
    units_total: int
    units_registered: int
    by_field: dict[str, int]
    collective: int
    individual: int
    new: int
    kept: int
    late: list[str]  # no model, or first model after the deadline; by name
    under_quota: list[str]  # by name
    deadline: datetime | None = None
    proposed: int = 0  # waiting for a leader's decision
    recognised: int = 0
    not_recognised: int = 0
    removed: int = 0  # thanh loại

    @property
    def models(self) -> int:
        return sum(self.by_field.values())


# --- tree order ------------------------------------------------------------------------


def name_key(name: str) -> tuple[str | int, ...]:
    """Sort key of a name: no diacritics, case-insensitive, numbers by value (“Tổ 2” before
    “Tổ 10”)."""
    parts = _DIGITS.split(fold(name))
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def tree_order(units: Sequence[Unit]) -> list[tuple[Unit, int]]:
    """Units depth first (each parent before its children, siblings by :func:`name_key`),
    with their depth below the top of the given set (units whose parent is not in the set
    are tops, depth 0). Built from ``parent_id``, not from path strings ("/1/10/" sorts
    before "/1/2/")."""
    by_id = {u.id: u for u in units}
    children: dict[int, list[Unit]] = defaultdict(list)
    tops: list[Unit] = []
    for unit in units:
        if unit.parent_id is not None and unit.parent_id in by_id:
            children[unit.parent_id].append(unit)
        else:
            tops.append(unit)

    def key(u: Unit) -> tuple[tuple[str | int, ...], int]:
        return name_key(u.name), u.id

    ordered: list[tuple[Unit, int]] = []
    stack = [(u, 0) for u in sorted(tops, key=key, reverse=True)]
    while stack:
        unit, depth = stack.pop()
        ordered.append((unit, depth))
        stack.extend((c, depth + 1) for c in sorted(children[unit.id], key=key, reverse=True))
    return ordered


async def units_in_scope(
    session: AsyncSession, root: Unit, subtree: bool = True
) -> list[tuple[Unit, int]]:
    """The root and, with ``subtree``, every unit below it, in :func:`tree_order`."""
    if not subtree:
        return [(root, 0)]
    rows = await session.scalars(
        select(Unit).where(Unit.path.startswith(root.path, autoescape=True))
    )
    return tree_order(list(rows.all()))


# --- the numbers -----------------------------------------------------------------------


# UnitLine / Summary attribute → Review value.
_REVIEW_KEYS: tuple[tuple[str, str], ...] = (
    ("proposed", Review.PROPOSED.value),
    ("recognised", Review.RECOGNISED.value),
    ("not_recognised", Review.NOT_RECOGNISED.value),
    ("removed", Review.REMOVED.value),
)


def _field_key(value: str) -> str:
    return value if value in FIELD_KEYS else Field.OTHER.value


async def summary_of(
    session: AsyncSession,
    root: Unit,
    year: int,
    deadline: datetime,
    quotas: Mapping[str, int] | None = None,
    subtree: bool = True,
) -> Summary:
    """The year's numbers of ``root`` (and of every unit below it with ``subtree``), from the
    active records of ``year``. ``deadline`` is the aware end of the registration day (the
    first instant after it): a unit is on time when its first active record of the year was
    created before it. ``quotas`` by unit kind, :data:`DEFAULT_QUOTAS` when None; a kind
    missing from it has no quota."""
    if deadline.tzinfo is None:
        raise ValueError("deadline must be timezone-aware")
    quotas = DEFAULT_QUOTAS if quotas is None else quotas
    scope = await units_in_scope(session, root, subtree)

    query = (
        select(
            DvkModel.unit_id,
            ModelYear.field,
            ModelYear.subject,
            ModelYear.origin,
            ModelYear.review,
            func.count(ModelYear.id),
            func.min(ModelYear.created_at),
        )
        .select_from(ModelYear)
        .join(DvkModel, DvkModel.id == ModelYear.model_id)
        .where(ModelYear.year == year, ModelYear.state == RecordState.ACTIVE.value)
        .group_by(
            DvkModel.unit_id,
            ModelYear.field,
            ModelYear.subject,
            ModelYear.origin,
            ModelYear.review,
        )
    )
    if subtree:
        query = query.join(Unit, Unit.id == DvkModel.unit_id).where(
            Unit.path.startswith(root.path, autoescape=True)
        )
    else:
        query = query.where(DvkModel.unit_id == root.id)

    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    first: dict[int, datetime] = {}
    for unit_id, field_value, subject, origin, review, count, earliest in (
        await session.execute(query)
    ).all():
        n = int(count)
        bucket = counts[unit_id]
        bucket["models"] += n
        bucket[_field_key(field_value)] += n
        bucket[subject] += n
        bucket[origin] += n
        if review is not None:
            bucket[f"review:{review}"] += n
        if earliest is not None and (unit_id not in first or earliest < first[unit_id]):
            first[unit_id] = earliest

    lines: list[UnitLine] = []
    for unit, depth in scope:
        bucket = counts.get(unit.id, {})
        models = bucket.get("models", 0)
        quota = int(quotas.get(unit.kind, 0))
        first_at = first.get(unit.id)
        lines.append(
            UnitLine(
                unit_id=unit.id,
                name=unit.name,
                kind=unit.kind,
                depth=depth,
                models=models,
                by_field={f: bucket.get(f, 0) for f in FIELD_KEYS},
                collective=bucket.get(Subject.COLLECTIVE.value, 0),
                individual=bucket.get(Subject.INDIVIDUAL.value, 0),
                new=bucket.get(Origin.NEW.value, 0),
                kept=bucket.get(Origin.KEPT.value, 0),
                quota=quota,
                quota_met=models >= quota,
                registered=models > 0,
                on_time=models > 0 and first_at is not None and first_at < deadline,
                first_at=first_at,
                **{key: bucket.get(f"review:{value}", 0) for key, value in _REVIEW_KEYS},
            )
        )

    def by_name(selected: list[UnitLine]) -> list[str]:
        return [u.name for u in sorted(selected, key=lambda u: (name_key(u.name), u.unit_id))]

    return Summary(
        root_name=root.name,
        year=year,
        units=lines,
        units_total=len(lines),
        units_registered=sum(1 for u in lines if u.registered),
        by_field={f: sum(u.by_field[f] for u in lines) for f in FIELD_KEYS},
        collective=sum(u.collective for u in lines),
        individual=sum(u.individual for u in lines),
        new=sum(u.new for u in lines),
        kept=sum(u.kept for u in lines),
        late=by_name([u for u in lines if not u.on_time]),
        under_quota=by_name([u for u in lines if not u.quota_met]),
        deadline=deadline,
        **{key: sum(getattr(u, key) for u in lines) for key, _ in _REVIEW_KEYS},
    )


# --- the phone text --------------------------------------------------------------------


def _short(name: str, limit: int = NAME_SHOWN_MAX) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def _names(names: Sequence[str], shown: int) -> str:
    shown = max(shown, 0)
    head = ", ".join(_short(n) for n in names[:shown])
    rest = len(names) - min(shown, len(names))
    if not head:
        return f"{rest} đơn vị"
    return f"{head} và {rest} đơn vị khác" if rest else head


def summary_text(summary: Summary, names_shown: int = 3) -> str:
    """The summary in at most 12 short lines (under 900 characters: long names are cut)."""
    lines = [
        f"Tổng hợp năm {summary.year} — {_short(summary.root_name, 80)}",
        f"Đơn vị đã đăng ký: {summary.units_registered}/{summary.units_total}",
        f"Tổng số mô hình: {summary.models}",
        *(f"• {FIELD_SHORT[Field(f)]}: {summary.by_field.get(f, 0)}" for f in FIELD_KEYS),
        f"Tập thể: {summary.collective} · Cá nhân: {summary.individual}",
        f"Xây dựng mới: {summary.new} · Duy trì: {summary.kept}",
    ]
    if summary.proposed or summary.recognised or summary.not_recognised or summary.removed:
        lines.append(
            f"Công nhận: chờ duyệt {summary.proposed} · đã công nhận {summary.recognised} · "
            f"không công nhận {summary.not_recognised} · thanh loại {summary.removed}"
        )
    if summary.late:
        late = _names(summary.late, names_shown)
        lines.append(f"Chưa đăng ký hoặc đăng ký muộn ({len(summary.late)}): {late}")
    else:
        lines.append("Tất cả đơn vị đã đăng ký đúng hạn.")
    if summary.under_quota:
        under = _names(summary.under_quota, names_shown)
        lines.append(f"Chưa đạt chỉ tiêu ({len(summary.under_quota)}): {under}")
    else:
        lines.append("Tất cả đơn vị đạt chỉ tiêu.")
    return "\n".join(lines)


# --- the workbook ----------------------------------------------------------------------

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
        {1: 6, 2: 42, **dict.fromkeys(range(3, 14), 9), 14: 10, 15: 13, 16: 9, 17: 9, 18: 11},
        header_rows=(HEADER_TOP, HEADER_TOP + 1),
        freeze=f"C{HEADER_TOP + 2}",
    )
    where = f"{root.name} và các đơn vị trực thuộc" if subtree else root.name
    ws.append([title(ws, f"TỔNG HỢP MÔ HÌNH “DÂN VẬN KHÉO” NĂM {year}")])
    ws.append([title(ws, where, size=12, italic=True)])
    ws.append(
        [
            title(
                ws,
                f"Hạn đăng ký mô hình: ngày {_local_day(deadline, tz)}. Đơn vị đã đăng ký: "
                f"{summary.units_registered}/{summary.units_total}.",
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
                *(_num(ws, getattr(line, key)) for key, _ in _REVIEW_KEYS),
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
            *(_num(ws, getattr(summary, key), bold=True) for key, _ in _REVIEW_KEYS),
        ]
    )
    total_row = row + 1

    chart = BarChart()
    chart.type = "col"
    chart.title = f"Số mô hình theo lĩnh vực năm {year}"
    chart.y_axis.title = "Số mô hình"
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
        if not line.registered:
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


__all__ = [
    "DEFAULT_QUOTAS",
    "Summary",
    "UnitLine",
    "build_summary",
    "name_key",
    "parse_quotas",
    "summary_of",
    "summary_text",
    "tree_order",
    "units_in_scope",
]
