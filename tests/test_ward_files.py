"""A district office's imports with the files its wards really send (tests/data): a unit list
with twin names and parents typed every way, a ward's Phụ lục 1 and then its Phụ lục 4 with
a misspelt unit line, double marks, no marks and a changed subject. Through the `dvk`
command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from storage import unit_tree
from storage.models import AuditLog, DvkModel, ModelYear, Unit
from tests.test_cli import dvk

DATA = Path(__file__).parent / "data"
HUONG_TRA = "Thị xã Hương Trà"
HO = f"{HUONG_TRA} / Đảng bộ phường Hương Hồ"
VAN = f"{HUONG_TRA} / Đảng bộ phường Hương Văn"
VAN2 = f"{HUONG_TRA} / Đảng bộ phường Hương Vân"


@pytest.fixture
def settings(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    return Settings(database_url=db_url)


async def district(sm: async_sessionmaker[AsyncSession]) -> None:
    """The units of tests/data/don_vi_huong_tra.xlsx that it places, added one by one: the
    tests of the appendices do not depend on the unit import."""
    now = datetime(2026, 3, 2, tzinfo=UTC)
    async with sm() as s, s.begin():
        top = await unit_tree.add_unit(s, HUONG_TRA, "huyen", None, now)
        wards = {}
        for name in ("Đảng bộ phường Hương Văn", "Đảng bộ phường Hương Vân"):
            wards[name] = await unit_tree.add_unit(s, name, "phuong", top, now)
        ho = await unit_tree.add_unit(s, "Đảng bộ phường Hương Hồ", "phuong", top, now)
        cells = {}
        for ward in (*wards.values(), ho):
            cells[ward.name] = await unit_tree.add_unit(
                s, "Chi bộ Tổ dân phố 1", "chi_bo", ward, now
            )
        for name in ("Chi bộ Tổ dân phố 2", "Chi bộ Tổ dân phố 3"):
            await unit_tree.add_unit(s, name, "chi_bo", ho, now)
        parent = cells[ho.name]
        await unit_tree.add_unit(s, "Chi hội Phụ nữ Tổ dân phố 1", "doan_the", parent, now)
        await unit_tree.add_unit(s, "Hội LHPN phường", "doan_the", ho, now)
        van = wards["Đảng bộ phường Hương Văn"]
        await unit_tree.add_unit(s, "Hội Cựu chiến binh phường", "doan_the", van, now)


def path_name(unit: Unit, by_id: dict[int, Unit]) -> str:
    return " / ".join(by_id[i].name for i in unit_tree.ancestor_ids(unit))


async def tree(sm: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    """(path, kind) of every unit, in tree order."""
    async with sm() as s:
        units = await unit_tree.list_units(s)
    by_id = {u.id: u for u in units}
    return [(path_name(u, by_id), u.kind) for u in units]


async def ids(sm: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Unit ids by path (PostgreSQL spends ids in a rolled-back dry run: never assume them)."""
    async with sm() as s:
        units = await unit_tree.list_units(s)
    by_id = {u.id: u for u in units}
    return {path_name(u, by_id): u.id for u in units}


async def models(sm: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, str, str, str]]:
    """(unit path, name, subject, subject name, origin) of every active model of 2026."""
    async with sm() as s:
        by_id = {u.id: u for u in await unit_tree.list_units(s)}
        rows = await s.execute(
            select(DvkModel.unit_id, ModelYear)
            .join(ModelYear, ModelYear.model_id == DvkModel.id)
            .where(ModelYear.year == 2026, ModelYear.state == "active")
        )
        return sorted(
            (path_name(by_id[u], by_id), r.name, r.subject, r.subject_name, r.origin)
            for u, r in rows.all()
        )


async def record(sm: async_sessionmaker[AsyncSession], name: str) -> ModelYear:
    async with sm() as s:
        found = await s.scalar(select(ModelYear).where(ModelYear.name == name))
    assert found is not None, name
    return found


def lines(out: str, *rows: int) -> dict[int, str]:
    """The report's table lines of the given rows."""
    found = {}
    for line in out.splitlines():
        head = line[:5].strip()
        if head.isdigit() and int(head) in rows:
            found[int(head)] = line
    return found


# --- the unit list ------------------------------------------------------------------------------


async def test_a_district_unit_list_imports_every_row_it_can_place(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = str(DATA / "don_vi_huong_tra.xlsx")
    code, out = await dvk(settings, "unit", "import", file)
    assert code == 1  # some rows could not be placed; the others are in
    unit_id = await ids(sessionmaker)

    def listed(*paths: str) -> str:
        return "; ".join(f"{p} (mã {unit_id[p]})" for p in paths)

    cells = [f"{ward} / Chi bộ Tổ dân phố 1" for ward in (HO, VAN, VAN2)]
    assert out.splitlines() == [
        "Đã nhập 12 đơn vị mới (0 đã có sẵn).",
        "Không nhập được 4 dòng:",
        "- Dòng 13 (“Tổ tự quản số 1”): cấp trên: có 3 đơn vị khớp “Chi bộ Tổ dân phố 1”: "
        f"{listed(*cells)}; hãy ghi đường dẫn đầy đủ (Cấp trên / Tên) hoặc mã số.",
        "- Dòng 14 (“Chi bộ Tổ dân phố 4”): cấp trên: không tìm thấy đơn vị “Đảng bộ phường "
        f"Hương Hô”; gần giống: {listed(HO, VAN, VAN2)}.",
        "- Dòng 15 (“”): thiếu tên đơn vị (cột “Tên”).",
        "- Dòng 16 (“Đoàn Thanh niên phường”): cấp trên: có 2 đơn vị khớp “dang bo phuong "
        f"huong van”: {listed(VAN, VAN2)}; hãy ghi đường dẫn đầy đủ (Cấp trên / Tên) hoặc mã số.",
    ]
    assert await tree(sessionmaker) == [
        (HUONG_TRA, "huyen"),
        (HO, "phuong"),
        (f"{HO} / Chi bộ Tổ dân phố 1", "chi_bo"),
        (f"{HO} / Chi bộ Tổ dân phố 1 / Chi hội Phụ nữ Tổ dân phố 1", "doan_the"),
        (f"{HO} / Chi bộ Tổ dân phố 2", "chi_bo"),
        (f"{HO} / Chi bộ Tổ dân phố 3", "chi_bo"),
        (f"{HO} / Hội LHPN phường", "doan_the"),
        (VAN, "phuong"),
        (f"{VAN} / Chi bộ Tổ dân phố 1", "chi_bo"),
        (f"{VAN} / Hội Cựu chiến binh phường", "doan_the"),
        (VAN2, "phuong"),
        (f"{VAN2} / Chi bộ Tổ dân phố 1", "chi_bo"),
    ]
    # The file fixed by full paths and imported again: only the missing rows are added.
    code, out = await dvk(settings, "unit", "import", file)
    assert out.startswith("Đã nhập 0 đơn vị mới (12 đã có sẵn).")
    assert capsys.readouterr().err == ""


async def test_a_dry_run_of_the_unit_list_writes_nothing(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    file = str(DATA / "don_vi_huong_tra.xlsx")
    code, out = await dvk(settings, "unit", "import", file, "--dry-run")
    assert code == 1
    assert out.startswith(
        "Chạy thử: sẽ nhập 12 đơn vị mới (0 đã có sẵn); chưa ghi gì vào cơ sở dữ liệu.\n"
        "Không nhập được 4 dòng:\n- Dòng 13 "
    )
    assert await tree(sessionmaker) == []


async def test_unit_import_takes_parents_by_id_and_path_and_reports_circles(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await dvk(settings, "unit", "import", str(DATA / "don_vi_huong_tra.xlsx"))
    cell = (await ids(sessionmaker))[f"{HO} / Chi bộ Tổ dân phố 1"]
    table = tmp_path / "them.csv"
    table.write_text(
        "Tên;Loại;Cấp trên\n"
        "Tổ tự quản số 1;khac;Đảng bộ phường Hương Vân / Chi bộ Tổ dân phố 1\n"
        f"Tổ tự quản số 2;khac;{cell}\n"
        "Tổ tự quản số 3;khac;999\n"
        "Tổ A;khac;Tổ B\n"
        "Tổ B;khac;Tổ A\n"
        "Tổ C;khac;Tổ A\n",
        encoding="utf-8",
    )
    code, out = await dvk(settings, "unit", "import", str(table))
    assert code == 1
    assert out.splitlines() == [
        "Đã nhập 2 đơn vị mới (0 đã có sẵn).",
        "Không nhập được 4 dòng:",
        "- Dòng 4 (“Tổ tự quản số 3”): cấp trên: không có đơn vị mã 999.",
        "- Dòng 5 (“Tổ A”): cấp trên “Tổ B” là đơn vị ở dòng 6, mà dòng đó lại nhận dòng này "
        "làm cấp trên (vòng lặp).",
        "- Dòng 6 (“Tổ B”): cấp trên “Tổ A” là đơn vị ở dòng 5, mà dòng đó lại nhận dòng này "
        "làm cấp trên (vòng lặp).",
        "- Dòng 7 (“Tổ C”): cấp trên “Tổ A” là đơn vị ở dòng 5, chưa nhập được.",
    ]
    # An id in a workbook, as Excel keeps numbers (12.0).
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["Tên", "Loại", "Cấp trên"])
    sheet.append(["Tổ tự quản số 4", "khac", float(cell)])
    wb.save(tmp_path / "them.xlsx")
    assert (await dvk(settings, "unit", "import", str(tmp_path / "them.xlsx")))[0] == 0
    paths = [p for p, _ in await tree(sessionmaker)]
    assert f"{VAN2} / Chi bộ Tổ dân phố 1 / Tổ tự quản số 1" in paths
    assert f"{HO} / Chi bộ Tổ dân phố 1 / Tổ tự quản số 2" in paths
    assert f"{HO} / Chi bộ Tổ dân phố 1 / Tổ tự quản số 4" in paths


async def test_units_one_diacritic_apart_are_two_units_on_the_command_line(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    capsys: pytest.CaptureFixture[str],
) -> None:
    await district(sessionmaker)
    unit_id = await ids(sessionmaker)
    code, out = await dvk(
        settings, "invite", "create", "--unit", "Đảng bộ phường Hương Văn", "--role", "leader"
    )
    assert code == 0
    assert "Đơn vị: Đảng bộ phường Hương Văn — vai trò" in out
    code, out = await dvk(
        settings, "invite", "create", "--unit", "dang bo phuong huong van", "--role", "leader"
    )
    assert code == 1
    assert capsys.readouterr().err == (
        f"Lỗi: Có 2 đơn vị khớp “dang bo phuong huong van”: {VAN} (mã {unit_id[VAN]}); "
        f"{VAN2} (mã {unit_id[VAN2]}); hãy ghi đường dẫn đầy đủ (Cấp trên / Tên) hoặc mã số.\n"
    )
    for ref, unit in (
        ("Hương Vân / Chi bộ Tổ dân phố 1", "Chi bộ Tổ dân phố 1"),
        ("huong ho", "Đảng bộ phường Hương Hồ"),  # a part only one unit has
        ("ĐẢNG BỘ PHƯỜNG HƯƠNG VÂN", "Đảng bộ phường Hương Vân"),
    ):
        code, out = await dvk(settings, "invite", "create", "--unit", ref, "--role", "officer")
        assert (code, f"Đơn vị: {unit} —" in out) == (0, True), ref
    code, out = await dvk(
        settings, "unit", "add", "Tổ tự quản\nsố 9", "--parent", "Hương Hồ / Chi bộ Tổ dân phố 1"
    )
    assert out == f"Đã thêm đơn vị {max(unit_id.values()) + 1}: Tổ tự quản số 9\n"


# --- Phụ lục 1 and 4 of one ward ---------------------------------------------------------------


async def test_a_wards_phu_luc_1_is_scoped_by_its_header(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await district(sessionmaker)
    code, out = await dvk(settings, "import", "models", str(DATA / "phu_luc_1_huong_ho.xlsx"))
    assert code == 0, out
    assert out.startswith(
        "Phụ lục 1 năm 2026 — Đảng bộ phường Hương Hồ (phu_luc_1_huong_ho.xlsx; phạm vi: đầu "
        "biểu ghi “ĐẢNG ỦY PHƯỜNG HƯƠNG HỒ”): 5 mô hình đọc được.\n"
        "Thêm mới: 5; cập nhật: 0; đã có, giữ nguyên: 0; không nhập hoặc giữ như đã lưu: 0 dòng."
    )
    assert lines(out, 11)[11].endswith(f"Đơn vị: {HO} / Chi bộ Tổ dân phố 1")
    assert await models(sessionmaker) == [
        (
            f"{HO} / Chi bộ Tổ dân phố 1",
            "Tuyến phố văn minh",
            "collective",
            "Chi bộ Tổ dân phố 1",
            "kept",
        ),
        (
            f"{HO} / Chi bộ Tổ dân phố 2",
            "Nuôi ong lấy mật",
            "individual",
            "Bà Nguyễn Thị Mận",
            "new",
        ),
        (
            f"{HO} / Chi bộ Tổ dân phố 2",
            "Vườn rau sạch an toàn",
            "collective",
            "Chi bộ Tổ dân phố 2",
            "new",
        ),
        (
            f"{HO} / Chi bộ Tổ dân phố 3",
            "Camera an ninh tổ dân phố",
            "collective",
            "Chi bộ Tổ dân phố 3",
            "new",
        ),
        (
            f"{HO} / Hội LHPN phường",
            "Phụ nữ giúp nhau thoát nghèo",
            "collective",
            "Hội LHPN phường",
            "new",
        ),
    ]
    # The other ward, one diacritic from a third, its header in the old tone placement.
    code, out = await dvk(settings, "import", "models", str(DATA / "phu_luc_1_huong_van.xlsx"))
    assert code == 0, out
    assert "phạm vi: đầu biểu ghi “ĐẢNG UỶ PHƯỜNG HƯƠNG VĂN”): 2 mô hình đọc được." in out
    assert "cùng tên" not in out
    placed = {name: unit for unit, name, *_ in await models(sessionmaker)}
    assert placed["Ngõ xóm bình yên"] == f"{VAN} / Chi bộ Tổ dân phố 1"
    assert placed["Cựu chiến binh giúp nhau làm kinh tế"] == f"{VAN} / Hội Cựu chiến binh phường"


async def test_phu_luc_4_over_the_wards_phu_luc_1_changes_nothing_silently(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await district(sessionmaker)
    await dvk(settings, "import", "models", str(DATA / "phu_luc_1_huong_ho.xlsx"))
    before = await models(sessionmaker)
    code, out = await dvk(settings, "import", "models", str(DATA / "phu_luc_4_huong_ho.xlsx"))
    assert code == 0, out
    # Only the new model is added; the model of one person is still hers; nothing goes to
    # the unit of a misspelt line, nor from a row marked twice or not at all.
    after = await models(sessionmaker)
    assert [m for m in after if m not in before] == [
        (
            f"{HO} / Hội LHPN phường",
            "Câu lạc bộ dưỡng sinh",
            "collective",
            "Hội LHPN phường",
            "new",
        )
    ]
    bees = await record(sessionmaker, "Nuôi ong lấy mật")
    assert (bees.subject, bees.subject_name, bees.results) == (
        "individual",
        "Bà Nguyễn Thị Mận",
        None,
    )
    assert (await record(sessionmaker, "Camera an ninh tổ dân phố")).results is None
    assert (await record(sessionmaker, "Vườn rau sạch an toàn")).results is None
    street = await record(sessionmaker, "Tuyến phố văn minh")
    assert street.results == "210 hộ ký cam kết;\n5 tuyến phố sáng - xanh - sạch"
    # Every row in the report: what was read, what was done or why not.
    table = lines(out, *range(9, 20))
    expected: dict[int, tuple[str, str]] = {
        9: ("Đơn vị “Chi bộ Tổ dân phố 1”", f"Đơn vị: {HO} / Chi bộ Tổ dân phố 1"),
        10: ("Mô hình “Tuyến phố văn minh”", "Cập nhật: kết quả"),
        11: ("Đơn vị “Chi bộ Tổ dân phố 2”", f"Đơn vị: {HO} / Chi bộ Tổ dân phố 2"),
        12: (
            "Mô hình “Nuôi ong lấy mật (Bà Nguyễn Thị Mận)”",
            "Khác với dữ liệu đã lưu: mô hình “Nuôi ong lấy mật” đã có; chủ thể: đã lưu "
            "“Cá nhân (Bà Nguyễn Thị Mận)”, biểu ghi “Tập thể”; giữ như đã lưu — gợi ý: lấy "
            "theo biểu",
        ),
        13: (
            "Mô hình “Vườn rau sạch an toàn”",
            "Không nhập: đánh dấu cả “Tập thể” và “Cá nhân”: một mô hình chỉ là một trong hai",
        ),
        14: (
            "Đơn vị “Chi bộ Tổ dân phô 3”",
            "Không nhập: không tìm thấy đơn vị “Chi bộ Tổ dân phô 3” trong "
            f"{HO} và các đơn vị trực thuộc; tên gần giống: {HO} / Chi bộ Tổ dân phố 3; {HO} / "
            f"Chi bộ Tổ dân phố 1; {HO} / Chi bộ Tổ dân phố 2; các mô hình bên dưới chưa được "
            f"nhập — gợi ý: coi là {HO} / Chi bộ Tổ dân phố 3",
        ),
        15: (
            "Mô hình “Camera an ninh tổ dân phố”",
            "Không nhập: thuộc đơn vị “Chi bộ Tổ dân phô 3” ở dòng 14, chưa xác định được",
        ),
        16: (
            "Mô hình “Loa truyền thanh cơ sở”",
            "Không nhập: thuộc đơn vị “Chi bộ Tổ dân phô 3” ở dòng 14, chưa xác định được",
        ),
        17: ("Đơn vị “Hội LHPN phường”", f"Đơn vị: {HO} / Hội LHPN phường"),
        18: (
            "Mô hình “Phụ nữ giúp nhau thoát nghèo”",
            "Không nhập: chưa đánh dấu “Tập thể” hay “Cá nhân”",
        ),
        19: ("Mô hình “Câu lạc bộ dưỡng sinh”", "Thêm mới"),
    }
    for row, (read, result) in expected.items():
        assert table[row].split(None, 1)[1].startswith(read), table[row]
        assert table[row].endswith(result), table[row]


async def test_the_report_as_a_workbook_and_suggestions_accepted(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await district(sessionmaker)
    await dvk(settings, "import", "models", str(DATA / "phu_luc_1_huong_ho.xlsx"))
    before = await models(sessionmaker)
    pl4 = str(DATA / "phu_luc_4_huong_ho.xlsx")
    report = tmp_path / "ket_qua.xlsx"
    code, out = await dvk(settings, "import", "models", pl4, "--report", str(report))
    assert out.endswith(f"Đã ghi bảng kết quả nhập: {report}\n")
    ws = load_workbook(report, read_only=True).active
    cells: list[tuple[Any, ...]] = [tuple(r) for r in ws.iter_rows(values_only=True)]
    heading = next(i for i, r in enumerate(cells) if r and r[0] == "Dòng")
    assert cells[0][0] == "KẾT QUẢ NHẬP PHỤ LỤC 4 NĂM 2026"
    assert cells[1][0].startswith("Phụ lục 4 năm 2026 — Đảng bộ phường Hương Hồ")
    assert cells[heading] == ("Dòng", "Đọc được", "Kết quả", "Gợi ý")
    by_row = {r[0]: r for r in cells[heading + 1 :]}
    assert sorted(by_row) == list(range(9, 20))
    assert by_row[14][3] == f"coi là {HO} / Chi bộ Tổ dân phố 3"
    assert by_row[13][2].startswith("Không nhập: đánh dấu cả “Tập thể” và “Cá nhân”")
    assert by_row[19][1:3] == ("Mô hình “Câu lạc bộ dưỡng sinh”", "Thêm mới")

    # The unit line's suggestion accepted, for that row only: its models are placed there.
    code, out = await dvk(settings, "import", "models", pl4, "--accept", "14")
    table = lines(out, 12, 14, 15, 16)
    assert table[14].endswith(f"Đơn vị: {HO} / Chi bộ Tổ dân phố 3 (theo gợi ý, --accept)")
    assert table[15].endswith("Cập nhật: kết quả")
    assert table[16].endswith("Thêm mới")
    assert "Khác với dữ liệu đã lưu" in table[12]
    assert "Đã áp dụng 1 gợi ý (--accept)." in out
    camera = await record(sessionmaker, "Camera an ninh tổ dân phố")
    assert camera.results == "8 camera, 0 vụ trộm"
    placed = {name: unit for unit, name, *_ in await models(sessionmaker)}
    assert placed["Loa truyền thanh cơ sở"] == f"{HO} / Chi bộ Tổ dân phố 3"
    assert (await record(sessionmaker, "Nuôi ong lấy mật")).subject == "individual"

    # Everything the report suggests, explicitly: the person's model becomes collective.
    code, out = await dvk(settings, "import", "models", pl4, "--accept")
    assert lines(out, 12)[12].endswith("Cập nhật: chủ thể, kết quả (theo gợi ý, --accept)")
    bees = await record(sessionmaker, "Nuôi ong lấy mật")
    assert (bees.subject, bees.subject_name) == ("collective", "Chi bộ Tổ dân phố 2")
    async with sessionmaker() as s:
        audit = await s.scalar(
            select(AuditLog).where(AuditLog.entity_id == bees.id, AuditLog.action == "import_edit")
        )
    assert audit is not None
    assert audit.details["accepted"] is True
    assert audit.details["changes"]["subject"] == ["individual", "collective"]

    # Run again: nothing more is added or changed.
    code, out = await dvk(settings, "import", "models", pl4, "--accept")
    assert "Thêm mới: 0; cập nhật: 0;" in out
    assert len(await models(sessionmaker)) == len(before) + 2
    code, _ = await dvk(settings, "import", "models", pl4, "--accept", "mười bốn")
    assert code == 1


async def test_twins_without_a_header_are_listed_by_path(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """A district imports a sheet that names no ward: a unit line three wards have is not
    guessed, and the candidates are named by their paths."""
    await district(sessionmaker)
    content = (DATA / "phu_luc_1_huong_ho.xlsx").read_bytes()
    wb = load_workbook(io.BytesIO(content))
    ws = wb.active
    assert ws is not None
    ws["A1"] = ws["A2"] = None  # the party header left out
    path = tmp_path / "khong_tieu_de.xlsx"
    wb.save(path)
    code, out = await dvk(settings, "import", "models", str(path), "--unit", HUONG_TRA)
    assert code == 0
    row = lines(out, 11)[11]
    assert (
        f"Không nhập: có 3 đơn vị tên này: {HO} / Chi bộ Tổ dân phố 1; {VAN} / Chi bộ Tổ dân "
        f"phố 1; {VAN2} / Chi bộ Tổ dân phố 1; các mô hình bên dưới chưa được nhập"
    ) in row
    # The wards' own lines above would have told them apart.
    async with sessionmaker() as s:
        assert await s.scalar(select(Unit).where(Unit.name == "Chi bộ Tổ dân phố 3")) is not None
    placed = {name: unit for unit, name, *_ in await models(sessionmaker)}
    assert "Tuyến phố văn minh" not in placed
    assert placed["Camera an ninh tổ dân phố"] == f"{HO} / Chi bộ Tổ dân phố 3"
