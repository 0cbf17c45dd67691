"""The leader's summary: numbers from SQL aggregates, tree order, the phone text, the workbook."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.calendar import UNIT_REPORT
from domain.catalog import DEFAULT_QUOTAS, parse_quotas
from domain.rubric import criteria_for
from reports.exports import Scope, make_export
from reports.signing import FOOTER_TEXT, MAKER, PLACE_DATE
from reports.summary import Summary, UnitLine, summary_of, tree_order
from reports.summary_sheet import write_summary
from reports.summary_text import summary_text
from storage import unit_tree
from storage.models import DvkModel, ModelScore, ModelYear, Unit, UnitReport
from tests.conftest import TZ
from tests.helpers import Clock

YEAR = 2026
# The registration day is 15/4; its end (the first instant of 16/4 in Vietnam) as UTC.
DEADLINE = datetime(2026, 4, 16, 0, 0, tzinfo=TZ).astimezone(UTC)
ROOT = "Đảng bộ phường Minh Khai"


def at(month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0) -> datetime:
    return datetime(YEAR, month, day, hour, minute, second, tzinfo=TZ).astimezone(UTC)


async def add_model(
    session: AsyncSession,
    unit: Unit,
    created: datetime,
    field: str = "KT",
    subject: str = "collective",
    origin: str = "new",
    *,
    year: int = YEAR,
    state: str = "active",
    field_other: str | None = None,
) -> None:
    model = DvkModel(unit_id=unit.id, created_at=created)
    session.add(model)
    await session.flush()
    session.add(
        ModelYear(
            model_id=model.id,
            year=year,
            origin=origin,
            name=f"Mô hình {model.id}",
            field=field,
            field_other=field_other,
            subject=subject,
            subject_name="Tổ dân phố",
            place="Tổ dân phố",
            lead_body="Chi bộ",
            scale="10 hộ",
            state=state,
            created_at=created,
            updated_at=created,
        )
    )


@dataclass
class Tree:
    root: Unit
    units: dict[int, Unit]


@pytest.fixture
async def tree(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> Tree:
    """A ward whose units are numbered 1–11 in creation order, so that "/1/10/" (unit 10)
    sorts before "/1/2/" (unit 2) as a string, and unit 11 is a child of unit 2.

    Late: 9 and 6 and 8 (no model), 10 (first model at the deadline's first instant),
    5 (after it). Under quota: 3 (1 of 2), 6 (0 of 1), 8 (0 of 5), 4 (3 of 5)."""
    now = clock()
    async with sessionmaker() as session, session.begin():
        add = unit_tree.add_unit
        u: dict[int, Unit] = {}
        u[1] = await add(session, ROOT, "phuong", None, now)
        u[2] = await add(session, "Chi bộ Tổ dân phố 2", "chi_bo", u[1], now)
        u[3] = await add(session, "Đảng ủy Khối cơ quan", "dang_uy", u[1], now)
        u[4] = await add(session, "Hội LHPN phường", "doan_the", u[1], now)
        u[5] = await add(session, "Đoàn Thanh niên phường", "doan_the", u[1], now)
        u[6] = await add(session, "Chi bộ Cơ quan UBND", "chi_bo", u[3], now)
        u[7] = await add(session, "Chi bộ Trường Tiểu học", "chi_bo", u[3], now)
        u[8] = await add(session, "Hội Cựu chiến binh phường", "doan_the", u[1], now)
        u[9] = await add(session, "Ban Chỉ huy Quân sự phường", "phong_ban", u[1], now)
        u[10] = await add(session, "Chi bộ Tổ dân phố 10", "chi_bo", u[1], now)
        u[11] = await add(session, "Tổ hòa giải Tổ dân phố 2", "khac", u[2], now)
        other = await add(session, "Đảng bộ xã Tân Lập", "xa", None, now)
        other_cell = await add(session, "Chi bộ thôn Đồng Tâm", "chi_bo", other, now)
        assert [unit.id for unit in u.values()] == list(range(1, 12))

        await add_model(session, u[1], at(3, 10))
        await add_model(session, u[2], at(3, 5), "VHXH", origin="kept")
        await add_model(session, u[2], at(4, 20), "QPAN", "individual")
        # 23:59:59 on 15/4 in Vietnam: on time.
        await add_model(
            session, u[11], at(4, 15, 23, 59, 59), "OTHER", "individual", field_other="NTM"
        )
        await add_model(session, u[11], at(3, 1), "KT", state="withdrawn")  # not counted
        await add_model(session, u[11], at(3, 1), "KT", year=YEAR - 1)  # another year
        await add_model(session, u[10], at(4, 16, 0, 0, 0))  # the deadline's first instant
        await add_model(session, u[3], at(3, 20), "XDD")
        await add_model(session, u[7], at(4, 1), "VHXH", "individual", "kept")
        for field, subject, origin in (
            ("KT", "collective", "new"),
            ("KT", "collective", "kept"),
            ("VHXH", "collective", "new"),
            ("QPAN", "individual", "new"),
            ("XDD", "collective", "kept"),
        ):
            await add_model(session, u[5], at(5, 2), field, subject, origin)
        for field in ("VHXH", "VHXH", "KT"):
            await add_model(session, u[4], at(4, 1), field)
        await add_model(session, other_cell, at(3, 1))  # outside the ward
    return Tree(u[1], u)


# The quotas of the Kế hoạch năm 2024 (Yên Bái), as a QUOTAS setting gives them: a party
# cell 1, a grassroots party committee 2, each mass organisation 5, other kinds none.
YEN_BAI = {**dict.fromkeys(DEFAULT_QUOTAS, 0), **parse_quotas("chi_bo=1,dang_uy=2,doan_the=5")}


async def summary(
    sessionmaker: async_sessionmaker[AsyncSession],
    root: Unit,
    quotas: dict[str, int] | None = YEN_BAI,
    subtree: bool = True,
) -> Summary:
    async with sessionmaker() as session:
        return await summary_of(session, root, YEAR, DEADLINE, quotas, subtree)


async def workbook_of(
    sessionmaker: async_sessionmaker[AsyncSession], root: Unit, subtree: bool = True
) -> bytes:
    async with sessionmaker() as session:
        summary = await summary_of(session, root, YEAR, DEADLINE, YEN_BAI, subtree)
    return write_summary(summary, root, subtree)


# --- quotas ----------------------------------------------------------------------------


def test_default_quotas_follow_the_ward_plan() -> None:
    # Kế hoạch của Đảng ủy phường (2025): every unit of a ward builds a model a year; the
    # ward, commune or province itself leads and has none.
    assert {k for k, v in DEFAULT_QUOTAS.items() if v == 0} == {"tinh", "xa", "phuong"}
    assert {v for v in DEFAULT_QUOTAS.values() if v} == {1}


def test_parse_quotas() -> None:
    assert parse_quotas("chi_bo=1,doan_the=5") == {"chi_bo": 1, "doan_the": 5}
    assert parse_quotas(" chi_bo = 2 ; dang_uy=3, ") == {"chi_bo": 2, "dang_uy": 3}
    assert parse_quotas("") == {}
    assert parse_quotas("phong_ban=0") == {"phong_ban": 0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("chi_bo", "không đúng dạng loại_đơn_vị=số"),
        ("chi_bo=một", "không đúng dạng"),
        ("chi_bo=1.5", "không đúng dạng"),
        ("huyen=2", "Loại đơn vị “huyen” không có. Các loại: tinh, xa, phuong"),
        ("chi_bo=-1", "phải từ 0 đến 1000"),
        ("chi_bo=1,chi_bo=2", "được ghi hai lần"),
    ],
)
def test_parse_quotas_rejects_bad_settings(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_quotas(text)


# --- tree order --------------------------------------------------------------------------


def test_tree_order_uses_parents_not_path_strings() -> None:
    def unit(id_: int, name: str, parent: int | None) -> Unit:
        path = "/1/" if parent is None else ("/1/" if parent == 1 else "/1/2/") + f"{id_}/"
        return Unit(id=id_, name=name, kind="chi_bo", parent_id=parent, path=path)

    units = [
        unit(10, "Tổ 10", 1),
        unit(11, "Tổ 2 — con", 2),
        unit(1, "Phường", None),
        unit(2, "Tổ 2", 1),
        unit(3, "tổ 1", 1),  # case and numbers: 1 < 2 < 10
    ]
    assert sorted(u.path for u in units)[1] == "/1/10/"  # what a path sort would do
    assert [(u.id, d) for u, d in tree_order(units)] == [(1, 0), (3, 1), (2, 1), (11, 2), (10, 1)]


async def test_units_in_tree_order_with_depths(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    result = await summary(sessionmaker, tree.root)
    assert [(u.unit_id, u.depth) for u in result.units] == [
        (1, 0),
        (9, 1),  # Ban Chỉ huy Quân sự phường
        (2, 1),  # Chi bộ Tổ dân phố 2 …
        (11, 2),  # … and its child, before unit 10
        (10, 1),  # Chi bộ Tổ dân phố 10
        (3, 1),  # Đảng ủy Khối cơ quan
        (6, 2),
        (7, 2),
        (5, 1),  # Đoàn Thanh niên phường
        (8, 1),  # Hội Cựu chiến binh phường
        (4, 1),  # Hội LHPN phường
    ]
    below = await summary(sessionmaker, tree.units[3])
    assert [(u.unit_id, u.depth) for u in below.units] == [(3, 0), (6, 1), (7, 1)]


# --- numbers -----------------------------------------------------------------------------


async def test_summary_numbers(sessionmaker: async_sessionmaker[AsyncSession], tree: Tree) -> None:
    result = await summary(sessionmaker, tree.root)
    assert result.root_name == ROOT
    assert result.year == YEAR
    assert result.units_total == 11
    assert result.units_registered == 8
    assert result.by_field == {"KT": 5, "VHXH": 5, "QPAN": 2, "XDD": 2, "OTHER": 1}
    assert result.models == 15
    assert (result.collective, result.individual) == (11, 4)
    assert (result.new, result.kept) == (11, 4)
    # Ban Chỉ huy Quân sự phường (a department: no quota) owes no model, so is never late.
    assert result.late == [
        "Chi bộ Cơ quan UBND",
        "Chi bộ Tổ dân phố 10",
        "Đoàn Thanh niên phường",
        "Hội Cựu chiến binh phường",
    ]
    assert result.not_registered == ["Chi bộ Cơ quan UBND", "Hội Cựu chiến binh phường"]
    assert result.registered_late == ["Chi bộ Tổ dân phố 10", "Đoàn Thanh niên phường"]
    assert len(result.must_register) == 8
    assert result.under_quota == [
        "Chi bộ Cơ quan UBND",
        "Đảng ủy Khối cơ quan",
        "Hội Cựu chiến binh phường",
        "Hội LHPN phường",
    ]
    lines = {u.unit_id: u for u in result.units}
    assert lines[5] == UnitLine(
        unit_id=5,
        name="Đoàn Thanh niên phường",
        kind="doan_the",
        depth=1,
        models=5,
        by_field={"KT": 2, "VHXH": 1, "QPAN": 1, "XDD": 1, "OTHER": 0},
        collective=4,
        individual=1,
        new=3,
        kept=2,
        quota=5,
        quota_met=True,
        registered=True,
        on_time=False,
        first_at=at(5, 2),
    )
    assert lines[2].first_at == at(3, 5)  # the earliest of its groups
    assert (lines[2].models, lines[2].on_time, lines[2].quota_met) == (2, True, True)
    assert (lines[11].models, lines[11].on_time, lines[11].quota) == (1, True, 0)
    assert (lines[10].registered, lines[10].on_time) == (True, False)
    assert (lines[6].registered, lines[6].on_time, lines[6].quota_met) == (False, False, False)
    assert (lines[4].models, lines[4].quota, lines[4].quota_met) == (3, 5, False)
    assert (lines[1].quota, lines[1].quota_met) == (0, True)


async def test_quotas_can_be_changed(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    result = await summary(sessionmaker, tree.root, {**YEN_BAI, **parse_quotas("doan_the=3")})
    assert result.under_quota == [
        "Chi bộ Cơ quan UBND",
        "Đảng ủy Khối cơ quan",
        "Hội Cựu chiến binh phường",
    ]
    # A kind missing from the mapping has no quota.
    result = await summary(sessionmaker, tree.root, {"phong_ban": 1})
    assert result.under_quota == ["Ban Chỉ huy Quân sự phường"]


async def test_one_unit_without_its_subtree(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    result = await summary(sessionmaker, tree.units[2], subtree=False)
    assert [u.unit_id for u in result.units] == [2]
    assert result.by_field == {"KT": 0, "VHXH": 1, "QPAN": 1, "XDD": 0, "OTHER": 0}
    assert (result.late, result.under_quota) == ([], [])


async def test_counts_come_from_a_constant_number_of_queries(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await summary(sessionmaker, tree.root)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2  # the units, and one GROUP BY for every count
    assert any("GROUP BY" in s and "min(" in s.lower() for s in selects)


async def test_one_aggregate_row_per_unit_and_units_as_plain_columns(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    """For speed at scale: the counts are grouped by unit alone (conditional counts, not a
    row per unit × field × subject × origin × review), the units are read as the few
    columns needed, not as ORM objects, and the subtree's path prefix and the year are
    written into the SQL, not bound (PostgreSQL's generic plan for a bound prefix is 4×
    slower)."""
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(" ".join(str(args[2]).split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await summary(sessionmaker, tree.root)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    units, counts = statements
    assert counts.split("GROUP BY ")[-1].strip().startswith("models.unit_id")
    assert "units.created_at" not in units
    assert "units.path" not in units.split(" FROM ")[0]
    assert "units.path LIKE '//1//%' ESCAPE '/'" in units
    assert "units.path LIKE '//1//%' ESCAPE '/'" in counts
    assert f"model_years.year = {YEAR} " in counts


async def test_unknown_field_counts_as_other_and_unknown_review_as_none(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    """A stored field outside the known ones is "Khác" (the column totals still add up to
    the models); a review value outside the known ones is counted in no review column."""
    async with sessionmaker() as session, session.begin():
        await add_model(session, tree.units[9], at(3, 3), "NTM")
        await add_model(session, tree.units[9], at(3, 4), "OTHER", "individual", "kept")
        record = (
            await session.scalars(
                select(ModelYear)
                .join(DvkModel, DvkModel.id == ModelYear.model_id)
                .where(DvkModel.unit_id == tree.units[9].id)
                .order_by(ModelYear.id)
            )
        ).first()
        assert record is not None
        record.review = "draft"
    result = await summary(sessionmaker, tree.root)
    line = {u.unit_id: u for u in result.units}[9]
    assert line.by_field == {"KT": 0, "VHXH": 0, "QPAN": 0, "XDD": 0, "OTHER": 2}
    assert (line.models, line.collective, line.individual, line.new, line.kept) == (2, 1, 1, 1, 1)
    assert (line.proposed, line.recognised, line.not_recognised, line.removed) == (0, 0, 0, 0)
    assert (line.registered, line.on_time, line.first_at) == (True, True, at(3, 3))
    assert result.by_field["OTHER"] == 3
    assert result.models == 17
    assert "Ban Chỉ huy Quân sự phường" not in result.late


async def test_naive_deadline_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    async with sessionmaker() as session:
        with pytest.raises(ValueError, match="timezone-aware"):
            await summary_of(session, tree.root, YEAR, datetime(2026, 4, 16), None)


# --- the phone text ----------------------------------------------------------------------


async def test_summary_text_exact(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    result = await summary(sessionmaker, tree.root)
    text = summary_text(result)
    assert text.splitlines() == [
        "Tổng hợp năm 2026 — Đảng bộ phường Minh Khai",
        "Đơn vị đã đăng ký: 6/8",
        "Tổng số mô hình: 15",
        "• KT: 5",
        "• VHXH: 5",
        "• QPAN: 2",
        "• XDĐ&HTCT: 2",
        "• Khác: 1",
        "Tập thể: 11 · Cá nhân: 4",
        "Xây dựng mới: 11 · Duy trì: 4",
        # 6 registered + 2 not registered = the 8 units with a quota; 2 of the 6 were late.
        "Chưa đăng ký (2): Chi bộ Cơ quan UBND, Hội Cựu chiến binh phường",
        "Đăng ký muộn (2): Chi bộ Tổ dân phố 10, Đoàn Thanh niên phường",
        "Chưa đạt chỉ tiêu (4): Chi bộ Cơ quan UBND, Đảng ủy Khối cơ quan, "
        "Hội Cựu chiến binh phường và 1 đơn vị khác",
    ]
    assert len(text) <= 900
    lines = summary_text(result, names_shown=1).splitlines()
    assert lines[-3] == "Chưa đăng ký (2): Chi bộ Cơ quan UBND và 1 đơn vị khác"
    assert lines[-1] == "Chưa đạt chỉ tiêu (4): Chi bộ Cơ quan UBND và 3 đơn vị khác"
    lines = summary_text(result, names_shown=5).splitlines()
    assert lines[-3] == "Chưa đăng ký (2): Chi bộ Cơ quan UBND, Hội Cựu chiến binh phường"
    assert "đơn vị khác" not in lines[-2]
    assert summary_text(result, names_shown=0).splitlines()[-1] == "Chưa đạt chỉ tiêu (4): 4 đơn vị"


async def test_summary_text_when_nothing_is_late(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    result = await summary(sessionmaker, tree.units[2], subtree=False)
    assert summary_text(result).splitlines()[1:3] == [
        "Đơn vị đã đăng ký: 1/1",
        "Tổng số mô hình: 2",
    ]
    assert summary_text(result).splitlines()[-2:] == [
        "Tất cả đơn vị đã đăng ký đúng hạn.",
        "Tất cả đơn vị đạt chỉ tiêu.",
    ]


def test_summary_text_fits_a_phone_screen_with_long_names() -> None:
    names = [f"Chi bộ {'rất dài ' * 40}{i}" for i in range(40)]
    result = Summary(
        root_name="Đảng bộ " + "phường rất dài " * 20,
        year=YEAR,
        units=[],
        units_total=40,
        units_registered=0,
        by_field={"KT": 0, "VHXH": 0, "QPAN": 0, "XDD": 0, "OTHER": 0},
        collective=0,
        individual=0,
        new=0,
        kept=0,
        late=names,
        under_quota=names,
    )
    text = summary_text(result)
    assert len(text) <= 900
    assert len(text.splitlines()) <= 15
    assert "… và 37 đơn vị khác" in text


# --- the workbook ------------------------------------------------------------------------

HEADER_1 = (
    "STT",
    "Đơn vị",
    "Số mô hình theo lĩnh vực",
    None,
    None,
    None,
    None,
    "Chủ thể",
    None,
    "XD mới / Duy trì",
    None,
    "Tổng số mô hình",
    "Chỉ tiêu",
    "Đạt chỉ tiêu",
    "Đăng ký đúng hạn",
    "Đề nghị công nhận",
    None,
    None,
    None,
)
HEADER_2 = (
    None,
    None,
    "KT",
    "VHXH",
    "QPAN",
    "XDĐ&HTCT",
    "Khác",
    "Tập thể",
    "Cá nhân",
    "XD mới",
    "Duy trì",
    None,
    None,
    None,
    None,
    "Chờ duyệt",
    "Công nhận",
    "Không công nhận",
    "Thanh loại",
)


async def test_workbook_rows_indent_and_totals(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    content = await workbook_of(sessionmaker, tree.root)
    wb = load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["Tổng hợp", "Chưa đăng ký"]
    ws = wb["Tổng hợp"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "TỔNG HỢP MÔ HÌNH “DÂN VẬN KHÉO” NĂM 2026"
    assert rows[1][0] == "Đảng bộ phường Minh Khai và các đơn vị trực thuộc"
    # The 8 units with a quota, 6 of them registered: as /tonghop says it.
    assert rows[2][0] == "Hạn đăng ký mô hình: ngày 15/4/2026. Đơn vị đã đăng ký: 6/8."
    assert rows[4] == HEADER_1
    assert rows[5] == HEADER_2
    body = rows[6:17]
    assert [r[1] for r in body] == [
        ROOT,
        "Ban Chỉ huy Quân sự phường",
        "Chi bộ Tổ dân phố 2",
        "Tổ hòa giải Tổ dân phố 2",
        "Chi bộ Tổ dân phố 10",
        "Đảng ủy Khối cơ quan",
        "Chi bộ Cơ quan UBND",
        "Chi bộ Trường Tiểu học",
        "Đoàn Thanh niên phường",
        "Hội Cựu chiến binh phường",
        "Hội LHPN phường",
    ]
    assert [r[0] for r in body] == list(range(1, 12))
    assert [ws.cell(row=r, column=2).alignment.indent for r in range(7, 18)] == [
        0,
        2,
        2,
        4,
        2,
        2,
        4,
        4,
        2,
        2,
        2,
    ]
    assert ws["B7"].font.b is True
    assert ws["B8"].font.b is False
    assert all(r[15:] == (0, 0, 0, 0) for r in body)  # nothing proposed yet
    by_name = {r[1]: r[2:15] for r in body}
    #                                     KT VH QP XD Kh TT CN Mới DT Tổng Chỉ tiêu Đạt Hạn
    assert by_name[ROOT] == (1, 0, 0, 0, 0, 1, 0, 1, 0, 1, None, "—", "có")
    assert by_name["Ban Chỉ huy Quân sự phường"] == (
        *(0,) * 9,
        0,
        None,
        "—",
        "chưa đăng ký",
    )
    assert by_name["Chi bộ Tổ dân phố 2"] == (0, 1, 1, 0, 0, 1, 1, 1, 1, 2, 1, "có", "có")
    assert by_name["Tổ hòa giải Tổ dân phố 2"] == (0, 0, 0, 0, 1, 0, 1, 1, 0, 1, None, "—", "có")
    assert by_name["Chi bộ Tổ dân phố 10"] == (1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, "có", "không")
    assert by_name["Đảng ủy Khối cơ quan"] == (0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 2, "không", "có")
    assert by_name["Chi bộ Cơ quan UBND"] == (*(0,) * 10, 1, "không", "chưa đăng ký")
    assert by_name["Đoàn Thanh niên phường"] == (2, 1, 1, 1, 0, 4, 1, 3, 2, 5, 5, "có", "không")
    assert by_name["Hội LHPN phường"] == (1, 2, 0, 0, 0, 3, 0, 3, 0, 3, 5, "không", "có")
    totals = rows[17]
    # Quotas 1+2+5+5+1+1+5+1 = 21; 4 of the 8 units with a quota meet it; 6 of 11 on time.
    assert totals[1:15] == ("Tổng cộng", 5, 5, 2, 2, 1, 11, 4, 11, 4, 15, 21, "4/8", "6/11")
    assert totals[15:] == (0, 0, 0, 0)
    assert ws.freeze_panes == "C7"
    assert ws.print_title_rows == "$5:$6"
    assert ws.oddFooter.center.text == "Trang &P/&N"  # page numbers, as the official sheets
    assert ws["A1"].font.name == "Times New Roman"
    assert {"C5:G5", "P5:S5", "A1:S1"} <= {str(r) for r in ws.merged_cells.ranges}


async def test_workbook_lists_units_without_models(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    content = await workbook_of(sessionmaker, tree.root)
    ws = load_workbook(io.BytesIO(content))["Chưa đăng ký"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "CÁC ĐƠN VỊ CHƯA ĐĂNG KÝ MÔ HÌNH NĂM 2026"
    assert rows[3] == ("STT", "Đơn vị", "Loại đơn vị", "Trực thuộc", "Chỉ tiêu")
    # Only units that owe models (Ban Chỉ huy Quân sự phường, a department, has no quota).
    assert rows[4:6] == [
        (1, "Chi bộ Cơ quan UBND", "Chi bộ", "Đảng ủy Khối cơ quan", 1),
        (2, "Hội Cựu chiến binh phường", "Đoàn thể", ROOT, 5),
    ]
    # Then the signature block: the place-date line and who signs (the ward's committee).
    assert signature_of(rows[6:]) == [PLACE_DATE, MAKER, "T/M ĐẢNG ỦY"]
    # Every unit registered: the sheet says so.
    content = await workbook_of(sessionmaker, tree.units[2], subtree=False)
    wb = load_workbook(io.BytesIO(content))
    assert wb["Tổng hợp"]["A2"].value == "Chi bộ Tổ dân phố 2"
    rows = list(wb["Chưa đăng ký"].iter_rows(values_only=True))
    assert rows[4][0] == "Tất cả đơn vị đã đăng ký mô hình."


def signature_of(rows: list[tuple[object, ...]]) -> list[str]:
    """The texts of the rows under a table: the place-date line, then the signers' titles."""
    texts = [v for r in rows for v in r if isinstance(v, str)]
    return texts[:3]


async def test_workbook_has_a_bar_chart_of_fields(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    content = await workbook_of(sessionmaker, tree.root)
    names = zipfile.ZipFile(io.BytesIO(content)).namelist()
    assert "xl/charts/chart1.xml" in names
    chart_xml = zipfile.ZipFile(io.BytesIO(content)).read("xl/charts/chart1.xml").decode()
    assert "<barChart>" in chart_xml
    # Its data are the cells of the totals row (row 18, columns C–G) and the field headers.
    assert "'Tổng hợp'!$C$18:$G$18" in chart_xml
    assert "'Tổng hợp'!$C$6:$G$6" in chart_xml
    ws = load_workbook(io.BytesIO(content))["Tổng hợp"]
    [chart] = ws._charts  # openpyxl 3.1 reads charts back
    assert type(chart).__name__ == "BarChart"
    assert chart.type == "col"
    # Whole numbers on the axis and above each bar (the count alone), titled with the year
    # and the unit, every text in Times New Roman as the table.
    assert chart.y_axis.number_format.formatCode == "0"
    assert chart.y_axis.majorUnit == 1
    labels = chart.dataLabels
    assert labels.showVal
    assert not labels.showSerName
    assert not labels.showCatName
    assert f"Số mô hình theo lĩnh vực năm 2026 — {ROOT}" in chart_xml
    assert "Times New Roman" in chart_xml
    assert chart_xml.count('typeface="Times New Roman"') >= 6  # title, 2 axes + titles, labels
    assert 'typeface="Calibri"' not in chart_xml


async def test_workbook_header_words_fit_their_columns(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    ws = load_workbook(io.BytesIO(await workbook_of(sessionmaker, tree.root)))["Tổng hợp"]
    labels = {c.column_letter: c.value for c in ws[6] if isinstance(c.value, str)}
    assert labels["F"] == "XDĐ&HTCT"
    for column, label in labels.items():
        # Header cells wrap at spaces; the longest word must fit (bold is wider: +2).
        longest = max(len(word) for word in label.split())
        assert ws.column_dimensions[column].width >= longest + 2, (column, label)


# --- recognition ---------------------------------------------------------------------------


async def test_recognition_counts_in_numbers_text_and_workbook(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    """Each review state counted per unit and in total; the phone text gains one line."""
    async with sessionmaker() as session, session.begin():
        records = (
            await session.scalars(
                select(ModelYear)
                .join(DvkModel, DvkModel.id == ModelYear.model_id)
                .where(DvkModel.unit_id == tree.units[5].id, ModelYear.year == YEAR)
                .order_by(ModelYear.id)
            )
        ).all()
        for record, review in zip(
            records,
            ("proposed", "recognised", "recognised", "not_recognised", "removed"),
            strict=True,
        ):
            record.review = review
        lhpn = (
            await session.scalars(
                select(ModelYear)
                .join(DvkModel, DvkModel.id == ModelYear.model_id)
                .where(DvkModel.unit_id == tree.units[4].id)
            )
        ).first()
        assert lhpn is not None
        lhpn.review = "proposed"
    result = await summary(sessionmaker, tree.root)
    assert (result.proposed, result.recognised, result.not_recognised, result.removed) == (
        2,
        2,
        1,
        1,
    )
    lines = {u.unit_id: u for u in result.units}
    assert (lines[5].proposed, lines[5].recognised, lines[5].removed) == (1, 2, 1)
    assert (lines[4].proposed, lines[4].recognised) == (1, 0)
    assert result.models == 15  # the counts by field are unchanged
    text = summary_text(result).splitlines()
    assert text[10] == (
        "Công nhận: chờ duyệt 2 · đã công nhận 2 · không công nhận 1 · thanh loại 1"
    )
    ws = load_workbook(io.BytesIO(await workbook_of(sessionmaker, tree.root)))["Tổng hợp"]
    rows = list(ws.iter_rows(values_only=True))
    by_name = {r[1]: r[15:] for r in rows[6:17]}
    assert by_name["Đoàn Thanh niên phường"] == (1, 2, 1, 1)
    assert by_name["Hội LHPN phường"] == (1, 0, 0, 0)
    assert rows[17][15:] == (2, 2, 1, 1)


# --- the evaluation season -----------------------------------------------------------------


async def test_workbook_in_the_evaluation_season_has_its_columns_and_a_signature(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    """From the registration deadline on, four more columns: models with results, self-scored,
    passing, and the yearly report sent; per unit and in total, as /tonghop counts them."""
    async with sessionmaker() as session, session.begin():
        records = {
            unit: (
                await session.scalars(
                    select(ModelYear)
                    .join(DvkModel, DvkModel.id == ModelYear.model_id)
                    .where(DvkModel.unit_id == tree.units[unit].id, ModelYear.year == YEAR)
                    .order_by(ModelYear.id)
                )
            ).all()
            for unit in (2, 5)
        }
        for record in records[5]:
            record.results = "Kết quả\nnhiều dòng"
        records[2][0].results = "Có kết quả"
        records[2][1].results = "   "  # blank: no results
        full, low = records[5][0], records[5][1]
        for c in criteria_for(full.subject):
            session.add(
                ModelScore(
                    model_year_id=full.id, criterion=c.number, points=c.maximum, scored_at=at(11, 1)
                )
            )
        session.add(ModelScore(model_year_id=low.id, criterion=1, points=1, scored_at=at(11, 1)))
        for unit in (2, 5):
            session.add(
                UnitReport(
                    unit_id=tree.units[unit].id, year=YEAR, kind=UNIT_REPORT, sent_at=at(11, 20)
                )
            )
    async with sessionmaker() as session:
        figures = await summary_of(session, tree.root, YEAR, DEADLINE, YEN_BAI)
    content = write_summary(figures, tree.root, evaluation=True)
    result = await summary(sessionmaker, tree.root)
    ws = load_workbook(io.BytesIO(content))["Tổng hợp"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[4][:19] == HEADER_1
    assert rows[4][19:] == ("Đánh giá cuối năm", None, None, None)
    assert rows[5][:19] == HEADER_2
    assert rows[5][19:] == ("Có kết quả", "Đã tự chấm điểm", "Đạt yêu cầu", "Báo cáo năm")
    assert "T5:W5" in {str(r) for r in ws.merged_cells.ranges}
    season = {r[1]: r[19:] for r in rows[6:17]}
    assert season[ROOT] == (0, 0, 0, "—")  # the ward receives the reports
    assert season["Đoàn Thanh niên phường"] == (5, 2, 1, "đã gửi")
    assert season["Chi bộ Tổ dân phố 2"] == (1, 0, 0, "đã gửi")
    assert season["Hội LHPN phường"] == (0, 0, 0, "chưa gửi")
    # The columns before are the registration season's, unchanged.
    assert rows[17][1:15] == ("Tổng cộng", 5, 5, 2, 2, 1, 11, 4, 11, 4, 15, 21, "4/8", "6/11")
    # Totals are the sums of the rows, and /tonghop's figures.
    assert rows[17][19:] == (6, 2, 1, "2/10")
    for i, key in enumerate(("results", "scored", "passing")):
        assert rows[17][19 + i] == sum(r[19 + i] for r in rows[6:17]) == getattr(result, key)
    assert (result.reports_sent, result.reports_due) == (2, 10)
    assert ws.print_title_rows == "$5:$6"
    assert ws.oddFooter.center.text == FOOTER_TEXT
    # Under the totals a row holds the chart, then the signature block.
    assert rows[18] == (None,) * len(rows[18])
    assert ws.row_dimensions[19].height >= 227
    assert signature_of(rows[19:]) == [PLACE_DATE, MAKER, "T/M ĐẢNG ỦY"]
    # Before the registration deadline the sheet has the registration season's 19 columns.
    plain = load_workbook(io.BytesIO(await workbook_of(sessionmaker, tree.root)))["Tổng hợp"]
    assert plain.max_column == 19


@pytest.mark.parametrize(
    ("now", "evaluation"),
    [
        (datetime(2026, 4, 15, 23, 59, tzinfo=TZ), False),
        (datetime(2026, 4, 16, 0, 0, tzinfo=TZ), True),
        (datetime(2026, 12, 4, 9, 0, tzinfo=TZ), True),
    ],
)
async def test_the_exported_workbook_follows_the_season(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree, now: datetime, evaluation: bool
) -> None:
    """/xuat summary and dvk export: both sides of the registration deadline (15/4)."""
    scope = Scope(root=tree.root, subtree=True, year=YEAR, tz=TZ, now=now.astimezone(UTC))
    async with sessionmaker() as session:
        document = await make_export(session, "summary", scope)
    ws = load_workbook(io.BytesIO(document.content))["Tổng hợp"]
    assert (ws.max_column == 23) is evaluation
    assert ("Báo cáo năm" in [c.value for c in ws[6]]) is evaluation
