"""Realistic data for the reports benchmark: a province's tree of units (communes and wards,
their party cells, mass organisations and party committees) and a year's models spread
unevenly over them, with withdrawn records and last year's, seeded in bulk."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.catalog import Field, Origin, RecordState, Subject
from storage.db import is_sqlite
from storage.models import DvkModel, ModelYear, Unit

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = 2026
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=TZ).astimezone(UTC)  # after the 15/4 deadline
SEED = 20260415


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
