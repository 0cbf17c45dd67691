"""Benchmark: Phụ lục 1 (and 4) and Tổng hợp for 100,000 models in 5,000 units, beside naive
openpyxl.

What is measured, on a fresh database seeded in bulk (Core ``insert`` executemany):

* a tree of M units: a province, about M/100 communes and wards below it, and below each of
  them its party cells (``chi_bo``), mass organisations (``doan_the``) and a few party
  committees (``dang_uy``);
* N active ``ModelYear`` records of one year spread unevenly over the units (some units have
  none, some registered after the deadline), every field and some "other" fields, both
  subjects, new and kept; beside them withdrawn records of the year and records of the year
  before (the kept models' last year, and models not kept), which the reports must leave out.

Each build runs in a fresh child process (multiprocessing "spawn"), so that its wall time and
its peak memory (the child's peak resident set, ``VmHWM``: the interpreter, the imports and
the build; see :func:`peak_rss_mb` for why not ``ru_maxrss``) are its own; ``--tracemalloc``
runs each build once more with tracemalloc on for its Python heap peak (several times
slower, so not the default):

(a) ``reports.appendix.build_pl1`` for the province (XlsxWriter ``constant_memory``, rows
    streamed from SQL; openpyxl's write-only mode took 14.5 s here before, see README.md);
(b) ``reports.appendix.build_pl4`` for the province, the same way (for reference: the issue
    sets its targets on Phụ lục 1);
(c) ``reports.summary_sheet.build_summary`` for the province (the "Tổng hợp" workbook, openpyxl
    write-only with its chart);
(d) the naive baseline: the same Phụ lục 1 rows, fetched the same way, written by openpyxl in
    normal mode cell by cell (``ws.cell(row, col, value)``, font, border and alignment set on
    every cell, merged header), saved to bytes.

(e) the ``/tonghop`` text, in a fresh child process too: ``registration_deadline`` +
    ``summary_of`` + ``summary_text`` in a fresh session each time, after a warm-up, median
    of 5 runs.

The outputs are checked: the Phụ lục 1 workbooks (ours and naive) and Phụ lục 4 are read
back with openpyxl's read-only mode and their model rows counted; the Tổng hợp total
(workbook and text) must equal the number of active models of the year.

Targets (from the issue): PL1 and Tổng hợp each ≤ 10 s and ≤ 250 MB peak, PL1 ≥ 3x faster
than the naive build, the ``/tonghop`` text ≤ 300 ms.  A missed target is printed as
"NOT met"; the script does not fail for it.  Run from the repository root::

    python -m bench.bench_reports                   # 100,000 models, 5,000 units, SQLite
    python -m bench.bench_reports --db both
    python -m bench.bench_reports --quick           # 5,000 models, 250 units
    python -m bench.bench_reports --models 20000 --units 1000 --tracemalloc

PostgreSQL: ``DVK_BENCH_POSTGRES_URL`` (else ``DVK_TEST_POSTGRES_URL``, else the local
server, database ``test``) names a database to connect to for ``CREATE DATABASE``; a
throw-away database ``dvk_bench_reports_<hex>`` is created and dropped.  When the server does
not answer, the PostgreSQL part is skipped with the reason.  PostgreSQL gets ``ANALYZE``
after the bulk load (autovacuum would do it within a minute); SQLite gets none, as in use.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import multiprocessing
import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.common import PG_ADMIN_URL, pg_database, sqlite_database
from domain.catalog import Field, Origin, RecordState, Subject
from reports.exports import Scope, registration_deadline
from storage.db import is_sqlite, make_engine, make_sessionmaker, unreachable, upgrade
from storage.models import DvkModel, ModelYear, Unit

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = 2026
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=TZ).astimezone(UTC)  # after the 15/4 deadline
SEED = 20260415

DEFAULT_MODELS, DEFAULT_UNITS = 100_000, 5_000
QUICK_MODELS, QUICK_UNITS = 5_000, 250

TARGET_SECONDS = 10.0  # PL1 and Tổng hợp each
TARGET_PEAK_MB = 250.0  # peak RSS of the process that builds one workbook
TARGET_SPEEDUP = 3.0  # naive PL1 time / our PL1 time
TARGET_TEXT_MS = 300.0  # /tonghop text
TEXT_RUNS = 5
CHILD_TIMEOUT = 600.0  # seconds one build may take before the child is killed

# --------------------------------------------------------------------------- realistic data

SURNAMES = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
    "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trịnh", "Mai", "Lương",
)  # fmt: skip
MIDDLES = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Xuân", "Thu", "Kim")
GIVEN = (
    "An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Hương",
    "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phương", "Quân", "Sơn", "Tâm",
    "Thảo", "Thắng", "Trang", "Tuấn", "Vân", "Yến", "Khánh", "Lộc",
)  # fmt: skip
PLACE_FIRST = (
    "Tân", "Hòa", "Phú", "An", "Đông", "Tây", "Nam", "Bắc", "Quang", "Thanh", "Hưng",
    "Vĩnh", "Minh", "Bình", "Long", "Yên", "Gia", "Đức",
)  # fmt: skip
PLACE_SECOND = (
    "Tiến", "Bình", "Lợi", "Khánh", "Hưng", "Thịnh", "Phong", "Thành", "Xuân", "Lộc",
    "Sơn", "Hải", "Phúc", "Trung", "Mỹ", "Hòa",
)  # fmt: skip
CROPS = ("lúa hữu cơ", "bưởi da xanh", "chè an toàn", "rau VietGAP", "cam sành", "nấm rơm")
ANIMALS = ("bò sinh sản", "gà thả vườn", "cá lồng", "lợn an toàn sinh học", "ong lấy mật")
MODEL_NAMES: dict[str, tuple[str, ...]] = {
    Field.KT.value: (
        "Trồng {crop} liên kết tiêu thụ",
        "Tổ hợp tác chăn nuôi {animal}",
        "Cánh đồng mẫu lớn sản xuất {crop}",
        "Hỗ trợ hội viên vay vốn nuôi {animal} thoát nghèo",
        "Sản phẩm OCOP {crop}",
    ),
    Field.VHXH.value: (
        "Tuyến đường hoa, cây xanh tự quản",
        "Quỹ khuyến học dòng họ {surname}",
        "Câu lạc bộ dân ca, dân vũ",
        "Nhà văn hóa sáng - xanh - sạch - đẹp",
        "Phân loại rác thải tại nguồn",
        "Bữa cơm nghĩa tình cho người cao tuổi neo đơn",
    ),
    Field.QPAN.value: (
        "Tổ an ninh tự quản",
        "Camera an ninh giám sát khu dân cư",
        "Dòng họ {surname} không có người vi phạm pháp luật",
        "Tổ hòa giải ở cơ sở giỏi",
        "Phòng cháy chữa cháy liên gia",
    ),
    Field.XDD.value: (
        "Chi bộ bốn tốt",
        "Đảng viên gương mẫu nơi cư trú",
        "Dân hỏi - cán bộ trả lời",
        "Sinh hoạt chi bộ chuyên đề hằng quý",
        "Mỗi đảng viên giúp đỡ một hộ khó khăn",
    ),
    Field.OTHER.value: (
        "Chợ 4.0 thanh toán không dùng tiền mặt",
        "Khu dân cư kiểu mẫu",
        "Hướng dẫn người dân sử dụng dịch vụ công trực tuyến",
        "Mái ấm công đoàn",
    ),
}
OTHER_FIELDS = ("Xây dựng nông thôn mới", "Xây dựng đô thị văn minh", "Chuyển đổi số", None)
LEAD_BODIES = (
    "Chi bộ", "Đảng ủy", "UBND", "MTTQ", "Hội Nông dân", "Hội LHPN", "Đoàn Thanh niên",
    "Hội Cựu chiến binh", "Công đoàn",
)  # fmt: skip
FIELDS = (Field.KT.value, Field.VHXH.value, Field.QPAN.value, Field.XDD.value, Field.OTHER.value)
FIELD_WEIGHTS = (35, 30, 12, 15, 8)
KEPT_SHARE = 0.35  # of this year's models, kept from last year (they also get a last-year row)
INDIVIDUAL_SHARE = 0.25
RESULTS_SHARE = 0.3  # records with results written already
WITHDRAWN_SHARE = 0.02  # extra withdrawn records of the year, per active one
LAST_YEAR_ONLY_SHARE = 0.10  # extra models of last year only, not kept
EMPTY_UNIT_SHARE = 0.08  # cells and organisations with no model this year
LATE_UNIT_SHARE = 0.05  # units whose first model came after the deadline


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLES)} {rng.choice(GIVEN)}"


def commune_names(count: int) -> list[str]:
    names = [f"{a} {b}" for a in PLACE_FIRST for b in PLACE_SECOND if a != b]
    out = names[:count]
    n = 2
    while len(out) < count:  # more communes than names: "Tân Tiến 2", …
        out += [f"{name} {n}" for name in names[: count - len(out)]]
        n += 1
    return out


def sub_units(commune_kind: str, commune: str, count: int) -> list[tuple[str, str, str]]:
    """(name, kind, place) of the cells and organisations of one commune or ward."""
    hamlet = "Thôn" if commune_kind == "xa" else "Tổ dân phố"
    level = "xã" if commune_kind == "xa" else "phường"
    out: list[tuple[str, str, str]] = [
        (f"Đảng ủy Quân sự {level} {commune}", "dang_uy", f"{level.title()} {commune}"),
        (f"Đảng ủy Công ty cổ phần {commune}", "dang_uy", f"{level.title()} {commune}"),
    ]
    k = 0
    while len(out) < count:
        k += 1
        place = f"{hamlet} {k}, {level} {commune}"
        lower = hamlet.lower()
        out += [
            (f"Chi bộ {lower} {k}", "chi_bo", place),
            (f"Chi hội Phụ nữ {lower} {k}", "doan_the", place),
            (f"Chi hội Nông dân {lower} {k}", "doan_the", place),
            (f"Chi đoàn {lower} {k}", "doan_the", place),
            (f"Chi hội Cựu chiến binh {lower} {k}", "doan_the", place),
        ]
    return out[:count]


@dataclass
class SeedUnit:
    id: int
    name: str
    kind: str
    parent_id: int | None
    path: str
    place: str


def make_tree(units: int) -> list[SeedUnit]:
    """A province, ~units/100 communes and wards, and their cells and organisations."""
    root = SeedUnit(1, "Đảng bộ tỉnh Hòa Bình Xanh", "tinh", None, "/1/", "Tỉnh Hòa Bình Xanh")
    tree = [root]
    communes = max(1, round(units / 100)) if units > 1 else 0
    communes = min(communes, units - 1)
    below = units - 1 - communes
    next_id = 2
    for index, name in enumerate(commune_names(communes)):
        kind = "phuong" if index % 3 == 0 else "xa"
        level = "xã" if kind == "xa" else "phường"
        commune = SeedUnit(
            next_id, f"Đảng bộ {level} {name}", kind, 1, f"/1/{next_id}/", f"{level.title()} {name}"
        )
        tree.append(commune)
        next_id += 1
        share = below // communes + (1 if index < below % communes else 0)
        for sub_name, sub_kind, place in sub_units(kind, name, share):
            path = f"{commune.path}{next_id}/"
            tree.append(SeedUnit(next_id, sub_name, sub_kind, commune.id, path, place))
            next_id += 1
    return tree


def _at(rng: random.Random, first: date, last: date) -> datetime:
    day = first + timedelta(days=rng.randrange((last - first).days + 1))
    local = datetime(day.year, day.month, day.day, rng.randrange(7, 22), rng.randrange(60), 0)
    return local.replace(tzinfo=TZ).astimezone(UTC)


def model_year_row(
    rng: random.Random,
    *,
    id_: int,
    model_id: int,
    year: int,
    unit: SeedUnit,
    origin: str,
    state: str,
    created_at: datetime,
) -> dict[str, Any]:
    fld = rng.choices(FIELDS, FIELD_WEIGHTS)[0]
    template = rng.choice(MODEL_NAMES[fld])
    name = template.format(
        crop=rng.choice(CROPS), animal=rng.choice(ANIMALS), surname=rng.choice(SURNAMES)
    )
    hamlet = unit.place.split(",")[0]
    individual = rng.random() < INDIVIDUAL_SHARE
    households = rng.randrange(12, 400)
    return {
        "id": id_,
        "model_id": model_id,
        "year": year,
        "origin": origin,
        "name": f"{name} {hamlet.lower()}" if rng.random() < 0.6 else name,
        "field": fld,
        "field_other": rng.choice(OTHER_FIELDS) if fld == Field.OTHER.value else None,
        "subject": Subject.INDIVIDUAL.value if individual else Subject.COLLECTIVE.value,
        "subject_name": person_name(rng) if individual else unit.name,
        "place": unit.place,
        "lead_body": rng.choice(LEAD_BODIES),
        "scale": f"{households} hộ tham gia, {rng.randrange(1, 30)} buổi ra quân, "
        f"kinh phí xã hội hóa {rng.randrange(5, 500)} triệu đồng",
        "results": (
            f"Đã thu hút {households + rng.randrange(50)} hộ; {rng.randrange(60, 100)}% hộ "
            "thực hiện tốt, được UBND khen thưởng"
            if rng.random() < RESULTS_SHARE
            else None
        ),
        "state": state,
        "created_by": None,
        "created_at": created_at,
        "updated_at": created_at,
    }


@dataclass
class SeedData:
    units: list[dict[str, Any]]
    models: list[dict[str, Any]]
    model_years: list[dict[str, Any]]
    active: int  # active records of YEAR (the whole tree is in scope)
    withdrawn: int
    last_year: int


def make_data(models: int, units: int) -> SeedData:
    rng = random.Random(SEED)
    tree = make_tree(units)
    created = datetime(YEAR - 1, 12, 1, tzinfo=UTC)
    unit_rows = [
        {
            "id": u.id,
            "name": u.name,
            "kind": u.kind,
            "parent_id": u.parent_id,
            "path": u.path,
            "created_at": created,
        }
        for u in tree
    ]
    # Uneven spread: most models in cells and organisations, a few at commune and province
    # level; some units have none.
    weights = []
    for u in tree:
        if u.kind in ("tinh", "xa", "phuong"):
            weights.append(2.0)
        elif rng.random() < EMPTY_UNIT_SHARE:
            weights.append(0.0)
        else:
            weights.append(rng.expovariate(1.0) + 0.2)
    late = {u.id for u in tree if rng.random() < LATE_UNIT_SHARE}
    deadline = date(YEAR, 4, 15)
    owners = rng.choices(tree, weights, k=models)

    model_rows: list[dict[str, Any]] = []
    year_rows: list[dict[str, Any]] = []

    def add(unit: SeedUnit, origin: str, state: str, year: int) -> int:
        model_id = len(model_rows) + 1
        if year == YEAR:
            if unit.id in late:
                at = _at(rng, deadline + timedelta(days=1), date(YEAR, 5, 31))
            else:
                at = _at(rng, date(YEAR, 1, 5), date(YEAR, 5, 20))
        else:
            at = _at(rng, date(year, 1, 5), date(year, 5, 31))
        model_rows.append({"id": model_id, "unit_id": unit.id, "created_at": at})
        year_rows.append(
            model_year_row(
                rng,
                id_=len(year_rows) + 1,
                model_id=model_id,
                year=year,
                unit=unit,
                origin=origin,
                state=state,
                created_at=at,
            )
        )
        return model_id

    for unit in owners:
        kept = rng.random() < KEPT_SHARE
        model_id = add(unit, Origin.KEPT.value if kept else Origin.NEW.value, "active", YEAR)
        if kept:  # last year's record of the same model
            at = _at(rng, date(YEAR - 1, 1, 5), date(YEAR - 1, 4, 10))
            row = model_year_row(
                rng,
                id_=len(year_rows) + 1,
                model_id=model_id,
                year=YEAR - 1,
                unit=unit,
                origin=Origin.NEW.value,
                state="active",
                created_at=at,
            )
            year_rows.append(row)
    withdrawn = round(models * WITHDRAWN_SHARE)
    for unit in rng.choices(tree, weights, k=withdrawn):
        add(unit, Origin.NEW.value, RecordState.WITHDRAWN.value, YEAR)
    for unit in rng.choices(tree, k=round(models * LAST_YEAR_ONLY_SHARE)):
        add(unit, Origin.NEW.value, "active", YEAR - 1)
    last_year = sum(1 for r in year_rows if r["year"] == YEAR - 1)
    return SeedData(unit_rows, model_rows, year_rows, models, withdrawn, last_year)


async def _insert(engine: AsyncEngine, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    chunk = 5_000
    async with engine.begin() as conn:
        for start in range(0, len(rows), chunk):
            await conn.execute(insert(table), list(rows[start : start + chunk]))


async def seed(engine: AsyncEngine, data: SeedData) -> None:
    """Bulk inserts (Core executemany), then the campaign with its default deadlines."""
    await _insert(engine, Unit.__table__, data.units)
    await _insert(engine, DvkModel.__table__, data.models)
    await _insert(engine, ModelYear.__table__, data.model_years)
    async with engine.begin() as conn:
        if not is_sqlite(str(engine.url)):  # explicit ids: move the sequences past them
            for table in ("units", "models", "model_years"):  # constant names, no input
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    if is_sqlite(str(engine.url)):
        async with engine.connect() as conn:
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    else:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))


# --------------------------------------------------------------------------- naive baseline


async def naive_pl1(session: AsyncSession, root: Unit, year: int, subtree: bool = True) -> bytes:
    """Phụ lục 1 as a first version would write it: openpyxl's normal mode, one
    ``ws.cell(row, col, value)`` per cell with its font, border and alignment, merged header.
    The rows come from the same query, streamed the same way, as ``build_pl1``."""
    from reports import appendix as ap
    from reports import appendix_form as ap_form
    from reports import appendix_rows as ap_rows

    totals = await ap_rows.read_totals(session, root, year, subtree)
    wb = Workbook()
    ws = wb.active
    ws.title = ap_form.PL1_LABEL
    for index, width in enumerate(ap_form.PL1_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    plain, bold = Font(name="Times New Roman", size=12), Font(name="Times New Roman", bold=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ncols = len(ap_form.PL1_WIDTHS)

    def put(row: int, col: int, value: Any, *, strong: bool = False, mid: bool = False) -> None:
        c = ws.cell(row=row, column=col, value=value)
        c.font = bold if strong else plain
        c.border = border
        c.alignment = center if mid else left

    def full_row(row: int, values: Sequence[Any], strong: bool = False) -> None:
        for col in range(1, ncols + 1):
            value = values[col - 1] if col <= len(values) else None
            put(row, col, value, strong=strong, mid=col != 2)

    ws.cell(row=1, column=1, value=root.name.upper()).font = bold
    ws.cell(row=1, column=ncols - 1, value=ap_form.PL1_LABEL).font = bold
    ws.merge_cells("A1:D1")
    ws.cell(row=3, column=1, value=ap_form.PL1_TITLE.format(year=year)).font = bold
    ws.merge_cells(f"A3:{get_column_letter(ncols)}3")
    column = 1
    subs = iter(ap_form.PL1_SUB)
    for number, (label, span) in enumerate(ap_form.PL1_HEAD, 1):
        first, end = get_column_letter(column), get_column_letter(column + span - 1)
        put(5, column, label, strong=True, mid=True)
        put(7, column, f"({number})", mid=True)
        if span == 1:
            put(6, column, None)
            ws.merge_cells(f"{first}5:{first}6")
        else:
            for k in range(span):
                put(5, column + k, label if k == 0 else None, strong=True, mid=True)
                put(6, column + k, next(subs), strong=True, mid=True)
                put(7, column + k, f"({number})" if k == 0 else None, mid=True)
            ws.merge_cells(f"{first}5:{end}5")
            ws.merge_cells(f"{first}7:{end}7")
        column += span
    coll, indiv = Subject.COLLECTIVE.value, Subject.INDIVIDUAL.value

    def counts(stt: str | None, label: str, kept: bool | None) -> list[Any]:
        return [
            stt,
            label,
            totals.count(kept=kept),
            None,
            None,
            None,
            None,
            totals.count(kept=kept, subject=coll),
            totals.count(kept=kept, subject=indiv),
        ]

    row = 8
    full_row(row, counts(None, ap_form.TOTAL, None), strong=True)
    sections = (
        ("I", ap_form.PL1_SECTION_KEPT.format(last_year=year - 1), True),
        ("II", ap_form.PL1_SECTION_NEW.format(year=year), False),
    )
    opened, unit_id, unit_no, model_no = 0, None, 0, 0
    result = await session.stream(ap_rows.rows_query(root, year, subtree, kept_first=True))
    async for partition in result.partitions(ap._PARTITION):
        for r in partition:
            section = 0 if r.origin == Origin.KEPT.value else 1
            while opened <= section:
                row += 1
                full_row(row, counts(*sections[opened]), strong=True)
                opened, unit_id, unit_no = opened + 1, None, 0
            if r.unit_id != unit_id:
                unit_id, unit_no, model_no = r.unit_id, unit_no + 1, 0
                row += 1
                full_row(row, [unit_no, r.unit_name], strong=True)
            model_no += 1
            row += 1
            individual = r.subject == indiv
            full_row(
                row,
                [
                    ap_form.DASH,
                    ap_rows.shown_name(r.name, r.subject, r.subject_name),
                    model_no,
                    r.place,
                    r.lead_body,
                    ap_rows.field_text(r.field, r.field_other),
                    r.scale,
                    None if individual else ap_form.MARK,
                    ap_form.MARK if individual else None,
                ],
            )
            ws.cell(row=row, column=4).alignment = left
            ws.cell(row=row, column=5).alignment = left
            ws.cell(row=row, column=6).alignment = left
            ws.cell(row=row, column=7).alignment = left
    while opened < len(sections):
        row += 1
        full_row(row, counts(*sections[opened]), strong=True)
        opened += 1
    row += 2
    lines = [ap_form.TOTAL_BY_FIELD]
    lines += [t.format(n=totals.by_field[f]) for f, t in ap_form.FIELD_TOTAL_LINES.items()]
    lines += [
        ap_form.OTHER_FIELD_LINE.format(label=label, n=n)
        for label, n in totals.by_other_field.items()
    ]
    lines += [ap_form.TOTAL_BY_SUBJECT]
    lines += [t.format(n=totals.count(subject=s)) for s, t in ap_form.SUBJECT_TOTAL_LINES.items()]
    lines += [ap_form.NOTES_LABEL, *ap_form.PL1_NOTES]
    for line in lines:
        ws.cell(row=row, column=2, value=line).font = plain
        ws.merge_cells(f"B{row}:{get_column_letter(ncols)}{row}")
        row += 1
    ws.freeze_panes = "A8"
    ws.print_title_rows = "5:7"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- one build per child


@dataclass(frozen=True)
class Job:
    kind: str  # "pl1" | "pl4" | "summary" | "naive" | "text"
    url: str
    root_id: int
    year: int
    deadline: datetime
    trace: bool = False  # tracemalloc on (slower): Python heap peak


@dataclass
class Measured:
    kind: str
    seconds: float
    cpu: float
    rss_before_mb: float  # peak RSS before the build: interpreter, imports, connection
    rss_peak_mb: float
    traced_peak_mb: float | None
    content: bytes  # the workbook ("text": none)
    text_ms: tuple[float, ...] = ()  # "text": the warm-up, then TEXT_RUNS runs
    text: str = ""
    text_total: int = -1  # "text": Summary.models


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux: ``VmHWM`` of /proc/self/status, the high-water mark of this process image.
    ``ru_maxrss`` is not used there: the kernel carries the parent's peak into a child across
    fork and exec, so a child spawned by a parent that holds the seed data would report the
    parent's peak.  Elsewhere: ``ru_maxrss`` (KiB on Linux and BSD, bytes on macOS)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


async def tonghop_text(
    sm: async_sessionmaker[AsyncSession], root_id: int
) -> tuple[tuple[float, ...], str, int]:
    """/tonghop's text as the handler makes it, in a fresh session each time: milliseconds
    of the warm-up then of TEXT_RUNS runs, the text, the summary's total."""
    from reports.summary import summary_of
    from reports.summary_text import summary_text

    times: list[float] = []
    last, total = "", -1
    for _ in range(TEXT_RUNS + 1):
        started = time.perf_counter()
        async with sm() as session:
            root = await session.get(Unit, root_id)
            assert root is not None
            scope = Scope(root, True, YEAR, TZ, NOW)
            deadline = await registration_deadline(session, scope)
            summary = await summary_of(session, root, YEAR, deadline, scope.quotas)
            last, total = summary_text(summary), summary.models
        times.append((time.perf_counter() - started) * 1000)
    return tuple(times), last, total


async def _build(job: Job) -> Measured:
    from reports.appendix import build_pl1, build_pl4
    from reports.summary_sheet import build_summary

    engine = make_engine(job.url)
    try:
        if job.kind == "text":
            before = peak_rss_mb()
            times, text_, total = await tonghop_text(make_sessionmaker(engine), job.root_id)
            return Measured(
                kind=job.kind,
                seconds=statistics.median(times[1:]) / 1000,
                cpu=0.0,
                rss_before_mb=before,
                rss_peak_mb=peak_rss_mb(),
                traced_peak_mb=None,
                content=b"",
                text_ms=times,
                text=text_,
                text_total=total,
            )
        async with make_sessionmaker(engine)() as session:
            root = await session.get(Unit, job.root_id)
            assert root is not None
            before = peak_rss_mb()
            if job.trace:
                tracemalloc.start()
            started, cpu = time.perf_counter(), time.process_time()
            if job.kind == "pl1":
                content = await build_pl1(session, root, job.year, True)
            elif job.kind == "pl4":
                content = await build_pl4(session, root, job.year, True)
            elif job.kind == "summary":
                content = await build_summary(session, root, job.year, job.deadline)
            else:
                content = await naive_pl1(session, root, job.year, True)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            traced = None
            if job.trace:
                traced = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
            peak = peak_rss_mb()
    finally:
        await engine.dispose()
    return Measured(job.kind, seconds, cpu, before, peak, traced, content)


def _child(job: Job, conn: Any) -> None:
    try:
        conn.send(asyncio.run(_build(job)))
    except BaseException as err:  # reported to the parent
        conn.send(f"{type(err).__name__}: {err}")
    finally:
        conn.close()


def run_child(job: Job) -> Measured:
    """One build in a fresh spawned interpreter; its figures (and the workbook) come back."""
    mp = multiprocessing.get_context("spawn")
    ours, theirs = mp.Pipe(duplex=False)
    process = mp.Process(target=_child, args=(job, theirs), name=f"bench-{job.kind}")
    process.start()
    theirs.close()
    try:
        if not ours.poll(CHILD_TIMEOUT):
            raise TimeoutError(f"{job.kind}: no answer within {CHILD_TIMEOUT:.0f} s")
        answer = ours.recv()
    finally:
        process.join(30)
        if process.is_alive():
            process.kill()
            process.join(5)
        ours.close()
    if isinstance(answer, str):
        raise RuntimeError(f"{job.kind} failed in the child: {answer}")
    assert isinstance(answer, Measured)
    return answer


# --------------------------------------------------------------------------- checks


def pl1_model_rows(content: bytes) -> tuple[int, Any]:
    """(model rows, the "Tổng số" count) of a Phụ lục 1 (or 4: same columns (1)–(3))
    workbook read back read-only."""
    from reports import appendix_form as ap_form

    wb = load_workbook(io.BytesIO(content), read_only=True)
    try:
        ws = wb.worksheets[0]
        models, total = 0, None
        for values in ws.iter_rows(min_row=ap_form.ROW_TOTAL, max_col=3, values_only=True):
            if values[0] == ap_form.DASH and isinstance(values[2], int):
                models += 1
            elif values[1] == ap_form.TOTAL and total is None:
                total = values[2]
        return models, total
    finally:
        wb.close()


def summary_total(content: bytes) -> Any:
    """Column L ("Tổng số mô hình") of the "Tổng cộng" row of the Tổng hợp workbook."""
    wb = load_workbook(io.BytesIO(content), read_only=True)
    try:
        for values in wb.worksheets[0].iter_rows(values_only=True):
            if len(values) > 11 and values[1] == "Tổng cộng":
                return values[11]
        return None
    finally:
        wb.close()


async def active_in_scope(session: AsyncSession, root: Unit, year: int) -> int:
    count = await session.scalar(
        select(func.count(ModelYear.id))
        .join(DvkModel, DvkModel.id == ModelYear.model_id)
        .join(Unit, Unit.id == DvkModel.unit_id)
        .where(
            ModelYear.year == year,
            ModelYear.state == RecordState.ACTIVE.value,
            Unit.path.startswith(root.path, autoescape=True),
        )
    )
    return int(count or 0)


# --------------------------------------------------------------------------- figures


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


async def bench_database(label: str, url: str, models: int, units: int, trace: bool) -> None:
    print(f"\n== {label} ==", flush=True)
    started = time.perf_counter()
    data = make_data(models, units)
    made = time.perf_counter() - started
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        await upgrade(engine)
        await seed(engine, data)
        print(
            f"  seeded {len(data.units)} units, {data.active} active models of {YEAR}, "
            f"{data.withdrawn} withdrawn, {data.last_year} records of {YEAR - 1} "
            f"(data made in {made:.1f} s, migrated and inserted in "
            f"{time.perf_counter() - started:.1f} s)",
            flush=True,
        )
        del data
        async with make_sessionmaker(engine)() as session:
            root = await session.get(Unit, 1)
            assert root is not None
            expected = await active_in_scope(session, root, YEAR)
            deadline = await registration_deadline(session, Scope(root, True, YEAR, TZ, NOW))
        print(f"  root: {root.name}; active models of {YEAR} in scope: {expected}", flush=True)

        results: dict[str, Measured] = {}
        labels = {
            "pl1": "(a) Phụ lục 1, build_pl1 (XlsxWriter constant_memory)",
            "pl4": "(b) Phụ lục 4, build_pl4 (XlsxWriter constant_memory)",
            "summary": "(c) Tổng hợp, build_summary (openpyxl write-only)",
            "naive": "(d) Phụ lục 1, naive openpyxl (normal mode, cell by cell)",
        }
        for kind in ("pl1", "pl4", "summary", "naive"):
            m = run_child(Job(kind, url, root.id, YEAR, deadline))
            results[kind] = m
            print(
                f"  {labels[kind]}:\n"
                f"    wall {m.seconds:.2f} s (CPU {m.cpu:.2f} s), peak RSS {mb(m.rss_peak_mb)} "
                f"(before the build {mb(m.rss_before_mb)}), "
                f"{len(m.content) / 2**20:.1f} MB of xlsx",
                flush=True,
            )
            if trace:
                t = run_child(Job(kind, url, root.id, YEAR, deadline, trace=True))
                print(
                    f"    with tracemalloc: Python heap peak {mb(t.traced_peak_mb)} "
                    f"(wall {t.seconds:.2f} s, peak RSS {mb(t.rss_peak_mb)})",
                    flush=True,
                )

        measured = run_child(Job("text", url, root.id, YEAR, deadline))
        text_, text_total = measured.text, measured.text_total
        warm, runs = measured.text_ms[0], measured.text_ms[1:]
        median = statistics.median(runs)
        print(
            f"  (e) /tonghop text (registration_deadline + summary_of + summary_text):\n"
            f"    median {median:.0f} ms of {TEXT_RUNS} in a fresh child process "
            f"(min {min(runs):.0f}, max {max(runs):.0f}; warm-up {warm:.0f} ms), "
            f"{len(text_)} characters, {text_.count(chr(10)) + 1} lines\n"
            f"    (the /tonghop reply also carries the Tổng hợp workbook: add (c) for it)",
            flush=True,
        )
    finally:
        await engine.dispose()

    print("  checks:")
    ours, naive = results["pl1"], results["naive"]
    for name, m in (("build_pl1", ours), ("build_pl4", results["pl4"]), ("naive", naive)):
        rows, total = pl1_model_rows(m.content)
        ok = rows == expected == total
        print(
            f"    {name}: {rows} model rows read back, 'Tổng số' {total}, expected {expected} "
            f"-> {'OK' if ok else 'MISMATCH'}"
        )
    wb_total = summary_total(results["summary"].content)
    ok = wb_total == expected == text_total
    print(
        f"    Tổng hợp: workbook total {wb_total}, /tonghop total {text_total}, expected "
        f"{expected} -> {'OK' if ok else 'MISMATCH'}"
    )

    summary = results["summary"]
    speedup = naive.seconds / ours.seconds if ours.seconds > 0 else float("inf")
    note = (
        ""
        if (models, units) == (DEFAULT_MODELS, DEFAULT_UNITS)
        else f" [targets are set at {DEFAULT_MODELS} models in {DEFAULT_UNITS} units]"
    )
    print(f"  targets{note}:")
    targets = (
        ("Phụ lục 1", ours),
        ("Phụ lục 4 (reference)", results["pl4"]),
        ("Tổng hợp", summary),
    )
    for name, m in targets:
        print(
            f"    {name}: {m.seconds:.2f} s (<= {TARGET_SECONDS:.0f} s): "
            f"{met(m.seconds <= TARGET_SECONDS)}; peak {mb(m.rss_peak_mb)} "
            f"(<= {TARGET_PEAK_MB:.0f} MB): {met(m.rss_peak_mb <= TARGET_PEAK_MB)}"
        )
    print(
        f"    Phụ lục 1 naive/ours = {naive.seconds:.2f}/{ours.seconds:.2f} s = {speedup:.1f}x "
        f"(>= {TARGET_SPEEDUP:.0f}x): {met(speedup >= TARGET_SPEEDUP)}; "
        f"peak naive/ours = {mb(naive.rss_peak_mb)}/{mb(ours.rss_peak_mb)}"
    )
    print(
        f"    /tonghop text: {median:.0f} ms (<= {TARGET_TEXT_MS:.0f} ms): "
        f"{met(median <= TARGET_TEXT_MS)}"
    )
    print(f"  load average at the end: {load_average()}", flush=True)


# --------------------------------------------------------------------------- databases


def load_average() -> str:
    """The 1-minute load average: other work on the machine slows every figure."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


async def run(models: int, units: int, db: str, trace: bool) -> None:
    print(
        f"{models} active models of {YEAR} in {units} units; each build in a fresh child "
        f"process; {os.cpu_count()} CPU(s), load average {load_average()}",
        flush=True,
    )
    if db in ("sqlite", "both"):
        async with sqlite_database("dvk_bench_reports_") as url:
            await bench_database("SQLite", url, models, units, trace)
    if db in ("postgresql", "both"):
        problem = await unreachable(PG_ADMIN_URL)
        if problem is not None:
            print(f"\n== PostgreSQL skipped: not reachable at {PG_ADMIN_URL} ({problem}) ==")
        else:
            async with pg_database(PG_ADMIN_URL, "dvk_bench_reports_") as url:
                await bench_database("PostgreSQL", url, models, units, trace)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_reports",
        description="Phụ lục 1 and Tổng hợp for many models, beside naive openpyxl.",
    )
    parser.add_argument("--models", type=int, default=DEFAULT_MODELS, help="default 100000")
    parser.add_argument("--units", type=int, default=DEFAULT_UNITS, help="default 5000")
    parser.add_argument(
        "--db", choices=("sqlite", "postgresql", "both"), default="sqlite", help="default sqlite"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK_MODELS} models in {QUICK_UNITS} units",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also run each build again with tracemalloc on, for its Python heap peak (slower)",
    )
    args = parser.parse_args(argv)
    models, units = (QUICK_MODELS, QUICK_UNITS) if args.quick else (args.models, args.units)
    if models < 1 or units < 2:
        parser.error("--models must be at least 1 and --units at least 2")
    asyncio.run(run(models, units, args.db, args.tracemalloc))


if __name__ == "__main__":
    main()
