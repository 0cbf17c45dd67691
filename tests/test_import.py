"""`dvk import models`: Phụ lục 1 and Phụ lục 4 read back into the database.

Our own export round-trips to the same model rows; an import run twice adds nothing; a
hand-made workbook in the template's layout is read, and the rows it cannot place (a misspelt unit,
a model without a name) are reported with their row numbers."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import run_command
from bot.settings import Settings
from reports.appendix import build_pl1, build_pl4
from reports.importer import WorkbookError, import_models, parse_field, split_person
from storage import unit_tree
from storage.models import AuditLog, DvkModel, ModelYear, Unit
from tests.data.make_workbooks import PL1_HEAD as HEAD
from tests.helpers import World, add_model_year

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
YEAR = 2026
Row = tuple[Any, ...]


async def add(
    s: AsyncSession, unit: Unit, name: str, field: str, *, scale: str = "20 hộ", **values: Any
) -> ModelYear:
    """A model of ``unit`` for 2026 unless ``year`` (20 hộ unless given); other columns as
    :func:`tests.helpers.add_model_year` takes them."""
    return await add_model_year(s, unit, name, now=NOW, field=field, scale=scale, **values)


@pytest.fixture
async def ward(sessionmaker: async_sessionmaker[AsyncSession]) -> Unit:
    """A ward with three levels of units and models of every kind the appendix shows."""
    async with sessionmaker() as s, s.begin():
        ward = await unit_tree.add_unit(s, "Đảng bộ phường Minh Khai", "phuong", None, NOW)
        cell = await unit_tree.add_unit(s, "Chi bộ Tổ dân phố 1", "chi_bo", ward, NOW)
        women = await unit_tree.add_unit(s, "Chi hội Phụ nữ tổ 1", "doan_the", cell, NOW)
        front = await unit_tree.add_unit(s, "Ban Công tác Mặt trận", "doan_the", ward, NOW)
        other = await unit_tree.add_unit(s, "Đảng bộ xã Tân Lập", "xa", None, NOW)
        await unit_tree.add_unit(s, "Chi bộ thôn Đồng Tâm", "chi_bo", other, NOW)
        old = await add(
            s, cell, "Tuyến phố văn minh", "OTHER", field_other="Đô thị văn minh", year=YEAR - 1
        )
        await add(
            s,
            cell,
            "Tuyến phố văn minh",
            "OTHER",
            field_other="Đô thị văn minh",
            origin="kept",
            model_id=old.model_id,
            scale="210 hộ",
            results="Không rác",
        )
        await add(
            s,
            cell,
            "Nuôi ong lấy mật",
            "KT",
            subject="individual",
            subject_name="Bà Nguyễn Thị Mận",
            lead_body="Hội Nông dân",
            scale="15 hộ",
            place="Tổ dân phố 2",
        )
        await add(
            s,
            ward,
            "Dân vận khéo trong cải cách hành chính",
            "XDD",
            place="Bộ phận một cửa",
            lead_body="UBND",
            scale="1.200 hồ sơ",
        )
        await add(
            s,
            women,
            "Phụ nữ giúp nhau thoát nghèo",
            "VHXH",
            lead_body="Hội LHPN",
            scale="30 hội viên\n45 triệu đồng",
        )
        await add(s, women, "Tổ tự quản", "QPAN", origin="kept", scale="12 hộ")
        await add(s, front, "Mô hình lĩnh vực khác chưa đặt tên", "OTHER", scale="5 tổ")
        await add(s, front, "Mô hình đã rút", "KT", state="withdrawn")
        return ward


async def snapshot(sm: async_sessionmaker[AsyncSession], year: int = YEAR) -> list[Row]:
    async with sm() as s:
        rows = await s.execute(
            select(DvkModel.unit_id, ModelYear)
            .join(ModelYear, ModelYear.model_id == DvkModel.id)
            .where(ModelYear.year == year, ModelYear.state == "active")
        )
        return sorted(
            (
                unit_id,
                r.origin,
                r.name,
                r.field,
                r.field_other,
                r.subject,
                r.subject_name,
                r.place,
                r.lead_body,
                r.scale,
            )
            for unit_id, r in rows.all()
        )


async def forget_year(sm: async_sessionmaker[AsyncSession], year: int = YEAR) -> None:
    """Empty the year (the units and last year stay): as a database that has never seen it."""
    async with sm() as s, s.begin():
        await s.execute(delete(ModelYear).where(ModelYear.year == year))
        lone = select(ModelYear.model_id)
        await s.execute(delete(DvkModel).where(DvkModel.id.not_in(lone)))


async def run_import(
    sm: async_sessionmaker[AsyncSession], content: bytes, root_id: int, year: int | None = YEAR
) -> Any:
    async with sm() as s, s.begin():
        root = await s.get(Unit, root_id)
        assert root is not None
        return await import_models(s, content, year, root, NOW, file_name="bieu.xlsx")


def cells(content: bytes) -> list[Row]:
    ws = load_workbook(BytesIO(content), read_only=True).active
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


async def export(sm: async_sessionmaker[AsyncSession], root_id: int, kind: str = "pl1") -> bytes:
    async with sm() as s:
        root = await s.get(Unit, root_id)
        assert root is not None
        build = build_pl1 if kind == "pl1" else build_pl4
        return await build(s, root, YEAR)


# --- round trips -----------------------------------------------------------------------------


async def test_phu_luc_1_export_round_trips_and_twice_adds_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], ward: Unit
) -> None:
    before = await snapshot(sessionmaker)
    assert len(before) == 6
    content = await export(sessionmaker, ward.id)

    await forget_year(sessionmaker)
    assert await snapshot(sessionmaker) == []
    report = await run_import(sessionmaker, content, ward.id)
    assert report.problems == []
    assert report.notes == []
    assert (report.kind, report.created, report.updated, report.unchanged) == ("pl1", 6, 0, 0)
    assert await snapshot(sessionmaker) == before
    # Kept from last year: the same model as last year's record.
    async with sessionmaker() as s:
        kept = (
            await s.scalars(select(ModelYear).where(ModelYear.name == "Tuyến phố văn minh"))
        ).all()
        assert sorted(r.year for r in kept) == [YEAR - 1, YEAR]
        assert len({r.model_id for r in kept}) == 1
    # The same workbook comes out again.
    assert cells(await export(sessionmaker, ward.id)) == cells(content)

    again = await run_import(sessionmaker, content, ward.id)
    assert (again.created, again.updated, again.unchanged, again.problems) == (0, 0, 6, [])
    assert await snapshot(sessionmaker) == before
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(DvkModel)) == 6
        actions = (await s.scalars(select(AuditLog.action))).all()
        assert actions.count("import") == 6


async def test_import_updates_a_changed_row_in_place(
    sessionmaker: async_sessionmaker[AsyncSession], ward: Unit
) -> None:
    content = await export(sessionmaker, ward.id)
    async with sessionmaker() as s, s.begin():
        record = await s.scalar(select(ModelYear).where(ModelYear.name == "Tổ tự quản"))
        assert record is not None
        record.scale = "Đã sửa trong cơ sở dữ liệu"
    report = await run_import(sessionmaker, content, ward.id)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 5)
    async with sessionmaker() as s:
        record = await s.scalar(select(ModelYear).where(ModelYear.name == "Tổ tự quản"))
        assert record is not None
        assert record.scale == "12 hộ"
        audit = await s.scalar(select(AuditLog).where(AuditLog.action == "import_edit"))
        assert audit is not None
        assert audit.details["changes"] == {"scale": ["Đã sửa trong cơ sở dữ liệu", "12 hộ"]}


async def test_phu_luc_4_export_round_trips_with_results_and_marks(
    sessionmaker: async_sessionmaker[AsyncSession], ward: Unit
) -> None:
    def summary(rows: list[Row]) -> list[Row]:
        return sorted(r[:9] for r in rows)

    async def results() -> dict[str, str | None]:
        # Phụ lục 4 column (7) holds the results, "(chưa báo cáo)" where none were entered:
        # those come back without results.
        async with sessionmaker() as s:
            rows = await s.scalars(select(ModelYear).where(ModelYear.year == YEAR))
            return {r.name: r.results for r in rows if r.state == "active"}

    before, shown = await snapshot(sessionmaker), await results()
    content = await export(sessionmaker, ward.id, "pl4")
    await forget_year(sessionmaker)
    report = await run_import(sessionmaker, content, ward.id)
    assert (report.kind, report.created, report.problems) == ("pl4", 6, [])
    assert summary(await snapshot(sessionmaker)) == summary(before)
    assert await results() == shown
    assert cells(await export(sessionmaker, ward.id, "pl4")) == cells(content)
    again = await run_import(sessionmaker, content, ward.id)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)


# --- a workbook as units fill the seed's form ---------------------------------------------------


def seed_workbook(rows: list[list[Any]], title_year: str = "2026") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(
        ["TÊN ĐƠN VỊ: ĐẢNG BỘ PHƯỜNG MINH KHAI", None, None, None, None, None, None, "Phụ lục 1"]
    )
    ws.append([])
    ws.append([f"BIỂU TỔNG HỢP ĐĂNG KÝ XÂY DỰNG MỚI MÔ HÌNH “DÂN VẬN KHÉO” NĂM {title_year}"])
    ws.append([])
    ws.append(HEAD)
    ws.append([None] * 7 + ["Tập thể", "Cá nhân"])
    ws.append([f"({n})" for n in range(1, 9)])
    ws.append([" ", "Tổng số"])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


SEED_ROWS: list[list[Any]] = [
    ["I", "Mô hình tiếp tục duy trì từ năm 2025"],  # row 9
    [1, "Chi bo To dan pho 1"],  # 10: typed without diacritics
    [" -", "Tuyến phố văn minh", 1, "Tổ dân phố 1", "Chi bộ", "VHXH", "210 hộ", "x"],  # 11
    ["II", "Mô hình đăng ký mới năm 2026…"],  # 12
    [None, "1. Hội LHPN phường"],  # 13: “1. Unit name”
    [
        "-",
        "Nuôi gà thả vườn (Nguyễn Thị Bé)",
        1,
        "Tổ 3",
        "Hội LHPN",
        "Kinh tế",
        "50 hộ",
        None,
        "X",
    ],  # 14
    [
        "-",
        "Câu lạc bộ dân vũ",
        2,
        "Nhà văn hóa",
        "Hội LHPN",
        "Xây dựng nông thôn mới",
        "40 hội viên",
        "x",
    ],  # 15
    [2, "Chi bộ Tổ dânphố 2"],  # 16: misspelt
    ["-", "Tủ sách cộng đồng", 1, "Tổ 2", "Chi bộ", "VHXH", "500 đầu sách", "x"],  # 17
    ["-", "Đường hoa", 2, "Tổ 2", "Chi bộ", "VHXH", "1 km", "x"],  # 18
    [3, "Chi bộ thôn Đồng Tâm"],  # 19: another ward's cell
    ["-", "Ngoài phường", 1, "Thôn", "Chi bộ", "KT", "3 hộ", "x"],  # 20
    [4, "Chi bộ Tổ dân phố 2"],  # 21
    ["-", None, None, "Tổ 4", "Chi bộ", "KT", "10 hộ", "x"],  # 22: no name
    ["-", "Mô hình không ghi lĩnh vực", 1, "Tổ 4", "Chi bộ", None, "10 hộ", "x"],  # 23
    ["-", "Mô hình….", None],  # 24: the form's placeholder
    [],
    ["*", "Tổng số mô hình theo lĩnh vực:"],  # 26: the table ends
    [None, "- Lĩnh vực phát triển kinh tế: 1 mô hình"],
]


async def test_a_hand_made_workbook_reports_what_it_cannot_place(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    content = seed_workbook(SEED_ROWS)
    report = await run_import(sessionmaker, content, world.ward.id, year=None)
    assert report.year == 2026  # from the title
    assert [text for _row, text in sorted(report.problems)] == [
        "Dòng 16: không tìm thấy đơn vị “Chi bộ Tổ dânphố 2” trong Đảng bộ phường Minh Khai "
        "và các đơn vị trực thuộc; tên gần giống: Đảng bộ phường Minh Khai / Chi bộ Tổ dân phố 2; "
        "Đảng bộ phường Minh Khai / Chi bộ Tổ dân phố 1; các mô hình bên dưới chưa được nhập",
        "Dòng 17: thuộc đơn vị “Chi bộ Tổ dânphố 2” ở dòng 16, chưa xác định được",
        "Dòng 18: thuộc đơn vị “Chi bộ Tổ dânphố 2” ở dòng 16, chưa xác định được",
        "Dòng 19: không tìm thấy đơn vị “Chi bộ thôn Đồng Tâm” trong Đảng bộ phường Minh Khai "
        "và các đơn vị trực thuộc; có đơn vị tên này ở ngoài: Đảng bộ xã Tân Lập / Chi bộ thôn "
        "Đồng Tâm; các mô hình bên dưới chưa được nhập",
        "Dòng 20: thuộc đơn vị “Chi bộ thôn Đồng Tâm” ở dòng 19, chưa xác định được",
        "Dòng 22: thiếu tên mô hình (cột 2)",
        "Dòng 23: thiếu lĩnh vực (cột 6)",
    ]
    assert report.created == 3
    text = report.text()
    assert text.startswith(
        "Phụ lục 1 năm 2026 — Đảng bộ phường Minh Khai (bieu.xlsx; phạm vi: đơn vị đã chọn): "
        "3 mô hình đọc được.\n"
        "Thêm mới: 3; cập nhật: 0; đã có, giữ nguyên: 0; không nhập hoặc giữ như đã lưu: 7 dòng."
    )
    # The table: every row read, what became of it.
    assert " 10  Đơn vị “Chi bo To dan pho 1”" in text
    assert "Đơn vị: Đảng bộ phường Minh Khai / Chi bộ Tổ dân phố 1 (gõ không dấu)" in text
    assert "Thêm mới" in text.split("\n   11 ")[1].split("\n")[0]
    async with sessionmaker() as s:
        rows = (
            await s.execute(
                select(DvkModel.unit_id, ModelYear)
                .join(ModelYear, ModelYear.model_id == DvkModel.id)
                .where(ModelYear.year == 2026)
                .order_by(ModelYear.id)
            )
        ).all()
    got = [
        (u, r.origin, r.name, r.field, r.field_other, r.subject, r.subject_name, r.scale)
        for u, r in rows
    ]
    assert got == [
        (
            world.cell1.id,
            "kept",
            "Tuyến phố văn minh",
            "VHXH",
            None,
            "collective",
            "Chi bộ Tổ dân phố 1",
            "210 hộ",
        ),
        (
            world.women.id,
            "new",
            "Nuôi gà thả vườn",
            "KT",
            None,
            "individual",
            "Nguyễn Thị Bé",
            "50 hộ",
        ),
        (
            world.women.id,
            "new",
            "Câu lạc bộ dân vũ",
            "OTHER",
            "Xây dựng nông thôn mới",
            "collective",
            "Hội LHPN phường",
            "40 hội viên",
        ),
    ]
    assert rows[0][1].model_id == world.kept.model_id  # last year's model, kept

    # Fixed and imported again: only what was missing is added.
    fixed = [list(r) for r in SEED_ROWS]
    fixed[7][1] = "Chi bộ Tổ dân phố 2"
    fixed[14][5] = "Kinh tế"
    report = await run_import(sessionmaker, seed_workbook(fixed), world.ward.id)
    assert (report.created, report.unchanged) == (3, 3)
    assert [row for row, _ in report.problems] == [19, 20, 22]


async def test_cli_import_models(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(database_url=db_url)
    path = tmp_path / "Phu_luc_1.xlsx"
    path.write_bytes(seed_workbook(SEED_ROWS, title_year="2025"))

    async def dvk(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        return await run_command(list(argv), settings, out), out.getvalue()

    code, out = await dvk(
        "import", "models", str(path), "--year", "2026", "--unit", "minh khai", "--dry-run"
    )
    assert code == 0
    assert "Thêm mới: 3;" in out
    assert "(Chạy thử: chưa ghi gì vào cơ sở dữ liệu.)" in out
    assert "Lưu ý: tiêu đề biểu ghi năm 2025; dữ liệu được nhập vào năm 2026." in out
    async with sessionmaker() as s:
        assert (
            await s.scalar(
                select(func.count()).select_from(ModelYear).where(ModelYear.year == 2026)
            )
            == 0
        )
    code, out = await dvk("import", "models", str(path), "--year", "2026", "--unit", "minh khai")
    assert code == 0
    assert "   16  Đơn vị “Chi bộ Tổ dânphố 2”" in out
    assert "Không nhập: không tìm thấy đơn vị “Chi bộ Tổ dânphố 2”" in out
    async with sessionmaker() as s:
        assert (
            await s.scalar(
                select(func.count()).select_from(ModelYear).where(ModelYear.year == 2026)
            )
            == 3
        )
    (tmp_path / "note.xlsx").write_bytes(b"not a workbook")
    code, _ = await dvk("import", "models", str(tmp_path / "note.xlsx"), "--unit", "1")
    assert code == 1


def test_fields_and_people_are_read_as_written() -> None:
    assert parse_field("Kinh tế (KT)") == ("KT", None)
    assert parse_field("kinh te") == ("KT", None)
    assert parse_field("VHXH") == ("VHXH", None)
    assert parse_field("Quốc phòng - An ninh") == ("QPAN", None)
    assert parse_field("XDĐ&HTCT") == ("XDD", None)
    assert parse_field("Xây dựng Đảng và hệ thống chính trị (XDĐ&HTCT)") == ("XDD", None)
    assert parse_field("Lĩnh vực khác") == ("OTHER", None)
    assert parse_field("Đô thị văn minh") == ("OTHER", "Đô thị văn minh")
    assert parse_field("  ") is None
    assert split_person("Nuôi ong (Bà Mận)") == ("Nuôi ong", "Bà Mận")
    assert split_person("Nuôi ong") == ("Nuôi ong", None)
    assert split_person("(Bà Mận)") == ("(Bà Mận)", None)


async def test_a_workbook_that_is_no_appendix_is_refused(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    wb = Workbook()
    wb.active.append(["Tên", "Loại"])
    buffer = io.BytesIO()
    wb.save(buffer)
    with pytest.raises(WorkbookError, match="Không tìm thấy bảng của Phụ lục 1 hoặc Phụ lục 4"):
        await run_import(sessionmaker, buffer.getvalue(), world.ward.id)


async def test_a_name_one_diacritic_off_or_a_changed_field_is_reported_not_applied(
    sessionmaker: async_sessionmaker[AsyncSession], ward: Unit
) -> None:
    rows: list[list[Any]] = [
        ["I", "Mô hình tiếp tục duy trì từ năm 2025"],  # 9
        [1, "Chi bộ Tổ dân phố 1"],  # 10
        ["-", "Tuyến phô văn minh", 1, "Tổ 1", "Chi bộ", "Đô thị văn minh", "250 hộ", "x"],  # 11
        ["II", "Mô hình đăng ký mới năm 2026"],  # 12
        [1, "Chi bộ Tổ dân phố 1"],  # 13
        [
            "-",
            "Nuôi ong lấy mật (Bà Nguyễn Thị Mận)",
            1,
            "Tổ dân phố 2",
            "Hội Nông dân",
            "VHXH",
            "15 hộ",
            None,
            "x",
        ],  # 14
    ]
    content = seed_workbook(rows)
    before = await snapshot(sessionmaker)
    report = await run_import(sessionmaker, content, ward.id)
    assert report.problems == [
        (
            11,
            "Dòng 11: tên chỉ khác dấu với mô hình đã có “Tuyến phố văn minh”; chưa nhập (nếu "
            "là một mô hình mới, hãy đặt tên khác hẳn)",
        ),
        (
            14,
            "Dòng 14: mô hình “Nuôi ong lấy mật” đã có; lĩnh vực: đã lưu “Kinh tế (KT)”, biểu "
            "ghi “Văn hóa - Xã hội (VHXH)”; giữ như đã lưu",
        ),
    ]
    assert [e.suggestion for e in report.entries if not e.done] == [
        "coi là mô hình “Tuyến phố văn minh”",
        "lấy theo biểu",
    ]
    assert await snapshot(sessionmaker) == before
    # Accepted for row 11 only: that row is the stored model, updated from the sheet.
    async with sessionmaker() as s, s.begin():
        root = await s.get(Unit, ward.id)
        assert root is not None
        report = await import_models(s, content, YEAR, root, NOW, accept={11})
    assert [row for row, _ in report.problems] == [14]
    async with sessionmaker() as s:
        street = await s.scalar(
            select(ModelYear).where(ModelYear.year == YEAR, ModelYear.scale == "250 hộ")
        )
        bees = await s.scalar(select(ModelYear).where(ModelYear.name == "Nuôi ong lấy mật"))
    assert street is not None
    assert bees is not None
    assert (street.name, street.place, bees.field) == ("Tuyến phố văn minh", "Tổ 1", "KT")
