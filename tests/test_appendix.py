"""Phụ lục 1 and Phụ lục 4 (Kế hoạch năm 2024, Yên Bái): every value of a known dataset read
back from the bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reports import appendix
from reports.appendix import appendix_file_name, build_pl1, build_pl4
from reports.signing import MAKER, MAKER_HINT, PLACE_DATE, SIGNER_HINT
from storage import unit_tree
from storage.models import DvkModel, ModelYear, Unit
from tests.helpers import add_model_year, assert_libreoffice_opens, need_libreoffice

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
YEAR = 2026

KT = "Kinh tế (KT)"
VHXH = "Văn hóa - Xã hội (VHXH)"
QPAN = "Quốc phòng - An ninh (QPAN)"
XDD = "Xây dựng Đảng và hệ thống chính trị (XDĐ&HTCT)"

PL1_NOTES = [
    "(2): Chi bộ, phòng, ban, đơn vị, đoàn thể / Tên mô hình (xếp tuần tự theo từng lĩnh vực "
    "sau: KT; VHXH, QPAN, XDĐ&HTCT, …)",
    "(3): Số lượng (1,2,3…)",
    "(4): Địa điểm triển khai (phòng, ban, cơ quan, đơn vị, thôn, bản, tổ dân phố, xã, phường, "
    "huyện)",
    "(5): Chủ trì (Chi bộ; UBND, HND, HPN…)",
    "(6): Lĩnh vực (Kinh tế; Văn hóa xã hội; Quốc phòng an ninh; Xây dựng Đảng và hệ thống "
    "chính trị; Xây dựng NTM; Xây dựng Đô thị văn minh...)",
    "(7): Quy mô thực hiện (số lượng, diện tích, số hộ...)",
    "(8): Chủ thể thực hiện (đánh dấu X vào cột tập thể hoặc cá nhân)",
]
PL4_NOTES = [
    PL1_NOTES[0],
    "(3): Số lượng (1,2,3…)",
    "(4): Địa điểm triển khai (cơ quan, đơn vị, thôn, bản, tổ dân phố, xã, phường, huyện)",
    "(5): Chủ trì (Chi bộ; UBND, HND, HPN…)",
    PL1_NOTES[4],
    "(7): Tóm tắt quy mô, kết quả đạt được",
    "(8): Xây dựng mới/duy trì: Đánh dấu X vào cột (danh sách sắp xếp loạt mô hình xây dựng mới "
    "lên trên loạt mô hình đang duy trì)",
    "(9): Chủ thể thực hiện (Đánh dấu X vào cột tập thể hoặc cá nhân)",
]


@dataclass
class Tree:
    ward: Unit  # id 1, the root; has models of its own
    cell: Unit  # id 2, child of the ward
    outside: Unit  # id 3, another ward
    outside_cell: Unit  # id 4, in the other ward: has a 2026 model
    women: Unit  # id 5, child of cell (one level deeper)
    youth: Unit  # id 6, child of the ward, only a withdrawn model
    front: Unit  # id 10, child of the ward: "/1/10/" sorts before "/1/2/" as text


async def add_model(
    session: AsyncSession, unit: Unit, name: str, *, field: str, scale: str = "", **values: Any
) -> ModelYear:
    """A model of ``unit`` for 2026 unless ``year`` (no scale unless given); other columns as
    :func:`tests.helpers.add_model_year` takes them."""
    return await add_model_year(session, unit, name, now=NOW, field=field, scale=scale, **values)


@pytest.fixture
async def tree(sessionmaker: async_sessionmaker[AsyncSession]) -> Tree:
    async with sessionmaker() as s, s.begin():
        ward = await unit_tree.add_unit(s, "Đảng bộ phường Minh Khai", "phuong", None, NOW)
        cell = await unit_tree.add_unit(s, "Chi bộ Tổ dân phố 1", "chi_bo", ward, NOW)
        outside = await unit_tree.add_unit(s, "Đảng bộ xã Tân Lập", "xa", None, NOW)
        outside_cell = await unit_tree.add_unit(s, "Chi bộ thôn Đồng Tâm", "chi_bo", outside, NOW)
        women = await unit_tree.add_unit(s, "Chi hội Phụ nữ tổ 1", "doan_the", cell, NOW)
        youth = await unit_tree.add_unit(s, "Chi đoàn phường", "doan_the", ward, NOW)
        for n in (7, 8, 9):
            await unit_tree.add_unit(s, f"Chi bộ thôn {n}", "chi_bo", outside, NOW)
        # Named so that neither name order nor text order of paths gives the tree order.
        front = await unit_tree.add_unit(s, "Ban Công tác Mặt trận", "doan_the", ward, NOW)
        assert (ward.id, cell.id, women.id, front.id) == (1, 2, 5, 10)
        assert front.path == "/1/10/"

        # Inserted out of order: the order on the sheet is the database's ORDER BY.
        await add_model(
            s,
            front,
            "Tổ tự quản an ninh",
            field="QPAN",
            place="Tổ dân phố 5",
            lead_body="MTTQ",
            scale="30 hộ",
            results="Không có vụ trộm cắp",
        )
        await add_model(
            s,
            front,
            "Tủ sách cộng đồng",
            field="VHXH",
            origin="kept",
            place="Nhà văn hóa tổ 5",
            lead_body="MTTQ",
            scale="500 đầu sách",
            results="1.200 lượt mượn",
        )
        await add_model(
            s,
            cell,
            "Tuyến phố văn minh",
            field="OTHER",
            origin="kept",
            field_other="Xây dựng đô thị văn minh",
            scale="210 hộ",
            results="Không còn rác thải trên vỉa hè",
        )
        await add_model(
            s,
            cell,
            "Ngày thứ Bảy vì dân",
            field="XDD",
            origin="kept",
            lead_body="Đảng ủy",
            scale="2 buổi/tháng",
            results="24 buổi, 96 lượt người dân được hướng dẫn",
        )
        await add_model(
            s, cell, "Vườn rau sạch", field="KT", scale="1,5 ha", results="Thu 120 triệu đồng"
        )
        await add_model(
            s,
            cell,
            "Câu lạc bộ dưỡng sinh",
            field="VHXH",
            subject="individual",
            subject_name="Nguyễn Thị Lan",
            scale="40 hội viên",
            results="   ",
        )
        await add_model(
            s, cell, "Bếp ăn 0 đồng", field="KT", scale="50 suất/tuần", results="2.600 suất ăn"
        )
        await add_model(
            s,
            women,
            "Gương người tốt việc tốt",
            field="OTHER",
            subject="individual",
            subject_name="Trần Thị Hoa",
            lead_body="Hội LHPN",
            scale="Giúp 5 hộ nghèo",
            results="3 hộ thoát nghèo",
        )
        await add_model(
            s,
            ward,
            "Camera an ninh khu dân cư",
            field="QPAN",
            origin="kept",
            place="Tổ dân phố 3",
            lead_body="Công an phường",
            scale="20 camera",
        )
        await add_model(
            s,
            ward,
            "Chợ 4.0 không dùng tiền mặt",
            field="KT",
            place="Chợ Minh Khai",
            lead_body="UBND",
            scale="12 tiểu thương",
            results="45 tiểu thương thanh toán qua mã QR",
        )
        # Not on the 2026 sheets of the ward: withdrawn, another year, another ward.
        await add_model(s, youth, "Mô hình đã rút", field="KT", state="withdrawn")
        await add_model(s, cell, "Mô hình năm 2025", field="VHXH", year=2025, scale="10 hộ")
        await add_model(s, outside_cell, "Mô hình xã Tân Lập", field="KT")
    return Tree(ward, cell, outside, outside_cell, women, youth, front)


def rows(data: bytes, sheet: str) -> list[tuple[Any, ...]]:
    wb = load_workbook(BytesIO(data))
    assert wb.sheetnames == [sheet]
    return list(wb[sheet].iter_rows(values_only=True))


def row(width: int, *values: Any) -> tuple[Any, ...]:
    return (*values, *([None] * (width - len(values))))


def signature(width: int, signer: str = "T/M ĐẢNG ỦY") -> list[tuple[Any, ...]]:
    """The signature block: the left part is columns (1)–(4), the right one the rest."""
    return [
        row(width),
        row(width, *[None] * 4, PLACE_DATE),
        row(width, MAKER, None, None, None, signer),
        row(width, MAKER_HINT, None, None, None, SIGNER_HINT),
    ]


def footer(
    width: int, fields: list[int], others: list[tuple[str, int]], subjects: tuple[int, int]
) -> list[tuple[Any, ...]]:
    kt, vhxh, qpan, xdd = fields
    return [
        row(width),
        row(width, "*", "Tổng số mô hình theo lĩnh vực:"),
        row(width, None, f"- Lĩnh vực phát triển kinh tế: {kt} mô hình"),
        row(width, None, f"- Lĩnh vực văn hoá - xã hội: {vhxh} mô hình"),
        row(width, None, f"- Lĩnh vực Quốc phòng - an ninh: {qpan} mô hình"),
        row(width, None, f"- Lĩnh vực xây dựng hệ thống chính trị: {xdd} mô hình"),
        *(row(width, None, f"- Lĩnh vực {label}: {n} mô hình") for label, n in others),
        row(width, "*", "Tổng số tập thể, cá nhân xây dựng mô hình"),
        row(width, None, f"- Tập thể: {subjects[0]} mô hình"),
        row(width, None, f"- Cá nhân: {subjects[1]} mô hình"),
        row(width),
        row(width, "Ghi chú:"),
    ]


PL1_HEAD = [
    row(9, "ĐẢNG BỘ PHƯỜNG MINH KHAI", *[None] * 6, "Phụ lục 1"),
    row(9),
    row(9, "BIỂU TỔNG HỢP ĐĂNG KÝ XÂY DỰNG MỚI MÔ HÌNH “DÂN VẬN KHÉO” NĂM 2026"),
    row(9),
    row(
        9,
        "STT",
        "Xã, phường, thị trấn, cơ quan đơn vị/\nTên mô hình",
        "Số lượng",
        "Địa điểm xây dựng, triển khai",
        "Chủ trì",
        "Lĩnh vực",
        "Quy mô thực hiện",
        "Chủ thể",
    ),
    row(9, *[None] * 7, "Tập thể", "Cá nhân"),
    row(9, "(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)"),
]


async def test_pl1_every_value_of_a_known_dataset(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    async with sessionmaker() as session:
        data = await build_pl1(session, tree.ward, YEAR)
    got = rows(data, "Phụ lục 1")

    def model(
        n: int, name: str, place: str, lead: str, field: str, scale: str, ind: bool = False
    ) -> tuple[Any, ...]:
        marks = (None, "x") if ind else ("x", None)
        return row(9, "-", name, n, place, lead, field, scale, *marks)

    assert got[:7] == PL1_HEAD
    assert got[7:] == [
        row(9, None, "Tổng số", 10, None, None, None, None, 8, 2),
        row(9, "I", "Mô hình tiếp tục duy trì từ năm 2025", 4, None, None, None, None, 4, 0),
        row(9, 1, "Đảng bộ phường Minh Khai", 1),
        model(1, "Camera an ninh khu dân cư", "Tổ dân phố 3", "Công an phường", QPAN, "20 camera"),
        row(9, 2, "Chi bộ Tổ dân phố 1", 2),
        model(1, "Ngày thứ Bảy vì dân", "Tổ dân phố 1", "Đảng ủy", XDD, "2 buổi/tháng"),
        model(
            2, "Tuyến phố văn minh", "Tổ dân phố 1", "Chi bộ", "Xây dựng đô thị văn minh", "210 hộ"
        ),
        row(9, 3, "Ban Công tác Mặt trận", 1),
        model(1, "Tủ sách cộng đồng", "Nhà văn hóa tổ 5", "MTTQ", VHXH, "500 đầu sách"),
        row(9, "II", "Mô hình đăng ký mới năm 2026", 6, None, None, None, None, 4, 2),
        row(9, 1, "Đảng bộ phường Minh Khai", 1),
        model(1, "Chợ 4.0 không dùng tiền mặt", "Chợ Minh Khai", "UBND", KT, "12 tiểu thương"),
        row(9, 2, "Chi bộ Tổ dân phố 1", 3),
        model(1, "Bếp ăn 0 đồng", "Tổ dân phố 1", "Chi bộ", KT, "50 suất/tuần"),
        model(2, "Vườn rau sạch", "Tổ dân phố 1", "Chi bộ", KT, "1,5 ha"),
        model(
            3,
            "Câu lạc bộ dưỡng sinh (Nguyễn Thị Lan)",
            "Tổ dân phố 1",
            "Chi bộ",
            VHXH,
            "40 hội viên",
            True,
        ),
        row(9, 3, "Chi hội Phụ nữ tổ 1", 1),
        model(
            1,
            "Gương người tốt việc tốt (Trần Thị Hoa)",
            "Tổ dân phố 1",
            "Hội LHPN",
            "Lĩnh vực khác",
            "Giúp 5 hộ nghèo",
            True,
        ),
        row(9, 4, "Ban Công tác Mặt trận", 1),
        model(1, "Tổ tự quản an ninh", "Tổ dân phố 5", "MTTQ", QPAN, "30 hộ"),
        *footer(9, [3, 2, 2, 1], [("Xây dựng đô thị văn minh", 1), ("khác", 1)], (8, 2)),
        *(row(9, None, note) for note in PL1_NOTES),
        *signature(9),
    ]


async def test_pl4_every_value_of_a_known_dataset(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    async with sessionmaker() as session:
        data = await build_pl4(session, tree.ward, YEAR)
    got = rows(data, "Phụ lục 4")

    def model(
        n: int, name: str, place: str, lead: str, field: str, summary: str, *marks: str | None
    ) -> tuple[Any, ...]:
        return row(11, "-", name, n, place, lead, field, summary, *marks)

    new, kept, coll, ind = ("x", None), (None, "x"), ("x", None), (None, "x")
    assert got[:7] == [
        row(11, "ĐẢNG BỘ PHƯỜNG MINH KHAI", *[None] * 8, "Phụ lục 4"),
        row(11),
        row(
            11,
            "BIỂU TỔNG HỢP BÁO CÁO KẾT QUẢ XÂY DỰNG, DUY TRÌ MÔ HÌNH “DÂN VẬN KHÉO” NĂM 2026",
        ),
        row(11),
        row(
            11,
            "STT",
            "Xã, phường, thị trấn, cơ quan đơn vị/\nTên mô hình",
            "Số lượng",
            "Địa điểm xây dựng, triển khai",
            "Chủ trì",
            "Lĩnh vực",
            "Tóm tắt quy mô, kết quả cụ thể đạt được",
            "Trong đó",
            None,
            "Chủ thể",
        ),
        row(11, *[None] * 7, "XD mới", "Duy trì", "Tập thể", "Cá nhân"),
        row(11, "(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)", None, "(9)"),
    ]
    assert got[7:] == [
        row(11, None, "Tổng số", 10, None, None, None, None, 6, 4, 8, 2),
        row(11, 1, "Đảng bộ phường Minh Khai", 2),
        model(
            1,
            "Chợ 4.0 không dùng tiền mặt",
            "Chợ Minh Khai",
            "UBND",
            KT,
            "45 tiểu thương thanh toán qua mã QR",
            *new,
            *coll,
        ),
        # No results reported: said so, not the registration's scale.
        model(
            2,
            "Camera an ninh khu dân cư",
            "Tổ dân phố 3",
            "Công an phường",
            QPAN,
            "(chưa báo cáo)",
            *kept,
            *coll,
        ),
        row(11, 2, "Chi bộ Tổ dân phố 1", 5),
        model(1, "Bếp ăn 0 đồng", "Tổ dân phố 1", "Chi bộ", KT, "2.600 suất ăn", *new, *coll),
        model(2, "Vườn rau sạch", "Tổ dân phố 1", "Chi bộ", KT, "Thu 120 triệu đồng", *new, *coll),
        model(
            3,
            "Câu lạc bộ dưỡng sinh (Nguyễn Thị Lan)",
            "Tổ dân phố 1",
            "Chi bộ",
            VHXH,
            "(chưa báo cáo)",
            *new,
            *ind,
        ),
        model(
            4,
            "Ngày thứ Bảy vì dân",
            "Tổ dân phố 1",
            "Đảng ủy",
            XDD,
            "24 buổi, 96 lượt người dân được hướng dẫn",
            *kept,
            *coll,
        ),
        model(
            5,
            "Tuyến phố văn minh",
            "Tổ dân phố 1",
            "Chi bộ",
            "Xây dựng đô thị văn minh",
            "Không còn rác thải trên vỉa hè",
            *kept,
            *coll,
        ),
        row(11, 3, "Chi hội Phụ nữ tổ 1", 1),
        model(
            1,
            "Gương người tốt việc tốt (Trần Thị Hoa)",
            "Tổ dân phố 1",
            "Hội LHPN",
            "Lĩnh vực khác",
            "3 hộ thoát nghèo",
            *new,
            *ind,
        ),
        row(11, 4, "Ban Công tác Mặt trận", 2),
        model(
            1,
            "Tổ tự quản an ninh",
            "Tổ dân phố 5",
            "MTTQ",
            QPAN,
            "Không có vụ trộm cắp",
            *new,
            *coll,
        ),
        model(
            2,
            "Tủ sách cộng đồng",
            "Nhà văn hóa tổ 5",
            "MTTQ",
            VHXH,
            "1.200 lượt mượn",
            *kept,
            *coll,
        ),
        *footer(11, [3, 2, 2, 1], [("Xây dựng đô thị văn minh", 1), ("khác", 1)], (8, 2)),
        *(row(11, None, note) for note in PL4_NOTES),
        *signature(11),
    ]


def unit_rows(data: bytes, sheet: str) -> list[tuple[int, str]]:
    """(number, unit name) of every unit sub-header row."""
    return [(r[0], r[1]) for r in rows(data, sheet)[8:] if isinstance(r[0], int)]


def model_names(data: bytes, sheet: str) -> list[str]:
    return [r[1] for r in rows(data, sheet) if r[0] == "-"]


async def test_units_in_tree_order_not_text_order_of_paths(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    """Units 2 and 10: "/1/10/" sorts before "/1/2/" as text and "Ban …" before "Chi bộ …" by
    name, yet unit 2 and its child 5 come first."""
    async with sessionmaker() as session:
        pl4 = await build_pl4(session, tree.ward, YEAR)
    assert unit_rows(pl4, "Phụ lục 4") == [
        (1, "Đảng bộ phường Minh Khai"),
        (2, "Chi bộ Tổ dân phố 1"),
        (3, "Chi hội Phụ nữ tổ 1"),
        (4, "Ban Công tác Mặt trận"),
    ]


async def test_official_look(sessionmaker: async_sessionmaker[AsyncSession], tree: Tree) -> None:
    async with sessionmaker() as session:
        pl1 = await build_pl1(session, tree.ward, YEAR)
        pl4 = await build_pl4(session, tree.ward, YEAR)
    ws1 = load_workbook(BytesIO(pl1))["Phụ lục 1"]
    ws4 = load_workbook(BytesIO(pl4))["Phụ lục 4"]
    merged1 = {str(r) for r in ws1.merged_cells.ranges}
    merged4 = {str(r) for r in ws4.merged_cells.ranges}
    header1 = {"A1:D1", "H1:I1", "A3:I3", "H5:I5", "H7:I7"}
    header1 |= {f"{c}5:{c}6" for c in "ABCDEFG"}
    header4 = {"A1:D1", "J1:K1", "A3:K3", "H5:I5", "J5:K5", "H7:I7", "J7:K7"}
    header4 |= {f"{c}5:{c}6" for c in "ABCDEFG"}
    assert header1 <= merged1
    assert header4 <= merged4
    # Below the table (rows 8–27): each totals line and note spans the table, "Ghi chú:" the
    # whole width; no data row is merged.
    # Then the signature block: its left part columns A–D, its right part E–I.
    assert merged1 - header1 == (
        {f"B{r}:I{r}" for r in range(29, 39)}
        | {"A40:I40"}
        | {f"B{r}:I{r}" for r in range(41, 48)}
        | {"E49:I49", "A50:D50", "E50:I50", "A51:D51", "E51:I51"}
    )
    for ws in (ws1, ws4):
        assert ws.oddFooter.center.text == "Trang &P/&N"
    for ws, unit_row in ((ws1, 10), (ws4, 9)):
        assert ws.freeze_panes == "A8"
        assert ws.print_title_rows == "$5:$7"
        assert ws.page_setup.orientation == "landscape"
        assert ws.column_dimensions["B"].width >= 40
        assert ws.column_dimensions["G"].width >= 40
        stt, title, model = ws["A5"], ws["A3"], ws["B11"]
        assert title.font.bold
        assert title.font.name == "Times New Roman"
        assert stt.font.bold
        assert stt.border.left.style == "thin"
        assert model.alignment.wrap_text
        assert model.border.bottom.style == "thin"
        assert not model.font.bold
        assert model.font.name == "Times New Roman"
        assert ws["I11"].border.right.style == "thin"  # an empty cell of the table has borders
        assert ws[f"B{unit_row}"].font.bold  # unit sub-header
        assert ws["B8"].value == "Tổng số"
        assert ws["B8"].font.bold
    # A row whose text wraps is given its height (LibreOffice does not grow rows by itself);
    # a one-line row keeps the default.
    pl4_rows = rows(pl4, "Phụ lục 4")
    long_row = next(i for i, r in enumerate(pl4_rows, 1) if r[1] == "Ngày thứ Bảy vì dân")
    short_row = next(i for i, r in enumerate(pl4_rows, 1) if r[1] == "Chi bộ Tổ dân phố 1")
    assert ws4.row_dimensions[long_row].height >= 2 * 15
    assert ws4.row_dimensions[short_row].height is None


async def test_print_setup(sessionmaker: async_sessionmaker[AsyncSession], tree: Tree) -> None:
    """Header rows (5)–(7) repeated on every printed page, A4 landscape one page wide, the
    header frozen above the "Tổng số" row, and the margins of the official look."""
    async with sessionmaker() as session:
        pl1 = await build_pl1(session, tree.ward, YEAR)
        pl4 = await build_pl4(session, tree.ward, YEAR)
    for data, sheet in ((pl1, "Phụ lục 1"), (pl4, "Phụ lục 4")):
        ws = load_workbook(BytesIO(data))[sheet]
        assert ws.print_title_rows == "$5:$7"
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.paperSize == 9  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        # One page wide (1, the format's default when left out), as many pages high as needed.
        assert ws.page_setup.fitToWidth in (None, 1)
        assert int(ws.page_setup.fitToHeight) == 0
        assert ws.freeze_panes == "A8"
        assert ws.print_options.horizontalCentered
        assert (ws.page_margins.left, ws.page_margins.top) == (0.5, 0.6)
        # Heights written as the rows are streamed: title, the two header rows.
        heights = [ws.row_dimensions[r].height for r in (3, 5, 6, 7)]
        assert heights == [36, 36, 30, None]


async def test_text_is_written_as_text(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    """What officers type is never taken for a formula, a link or markup: it reads back as the
    same text, in the table's font."""
    names = ["=1+2", "http://example.com/mo-hinh", "<r>Mô hình</r>", "  Tổ 3, ấp <Mới> & co  "]
    async with sessionmaker() as s, s.begin():
        for name in names:
            await add_model(s, tree.youth, name, field="KT", results="=SUM(A1:A2)")
    async with sessionmaker() as session:
        data = await build_pl4(session, tree.youth, YEAR)
    ws = load_workbook(BytesIO(data))["Phụ lục 4"]
    got = {c.value: c for c in ws["B"] if isinstance(c.value, str) and c.row > 9}
    for name in names:
        assert got[name].data_type == "s"
        assert got[name].font.name == "Times New Roman"
        assert ws.cell(got[name].row, 7).value == "=SUM(A1:A2)"
        assert ws.cell(got[name].row, 7).data_type == "s"
        assert got[name].hyperlink is None


async def test_subtree_or_the_unit_alone(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    async with sessionmaker() as session:
        below = await build_pl4(session, tree.cell, YEAR)
        alone = await build_pl4(session, tree.cell, YEAR, subtree=False)
        alone1 = await build_pl1(session, tree.cell, YEAR, subtree=False)
    assert rows(below, "Phụ lục 4")[0][0] == "CHI BỘ TỔ DÂN PHỐ 1"
    assert unit_rows(below, "Phụ lục 4") == [(1, "Chi bộ Tổ dân phố 1"), (2, "Chi hội Phụ nữ tổ 1")]
    assert rows(below, "Phụ lục 4")[7] == row(11, None, "Tổng số", 6, *[None] * 4, 4, 2, 4, 2)
    assert unit_rows(alone, "Phụ lục 4") == [(1, "Chi bộ Tổ dân phố 1")]
    assert model_names(alone, "Phụ lục 4") == [
        "Bếp ăn 0 đồng",
        "Vườn rau sạch",
        "Câu lạc bộ dưỡng sinh (Nguyễn Thị Lan)",
        "Ngày thứ Bảy vì dân",
        "Tuyến phố văn minh",
    ]
    got = rows(alone1, "Phụ lục 1")
    assert got[7] == row(9, None, "Tổng số", 5, *[None] * 4, 4, 1)
    assert got[8] == row(9, "I", "Mô hình tiếp tục duy trì từ năm 2025", 2, *[None] * 4, 2, 0)
    assert got[12] == row(9, "II", "Mô hình đăng ký mới năm 2026", 3, *[None] * 4, 2, 1)
    texts = [r[1] for r in got]
    assert "- Lĩnh vực phát triển kinh tế: 2 mô hình" in texts
    assert "- Lĩnh vực Xây dựng đô thị văn minh: 1 mô hình" in texts
    assert "- Lĩnh vực khác: 1 mô hình" not in texts  # that one is in the child unit
    assert "- Cá nhân: 1 mô hình" in texts


async def test_only_the_years_active_records_of_the_subtree(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    async with sessionmaker() as session:
        this_year = [
            await build_pl1(session, tree.ward, YEAR),
            await build_pl4(session, tree.ward, YEAR),
        ]
        last_year = await build_pl1(session, tree.ward, 2025)
        other_ward = await build_pl4(session, tree.outside, YEAR)
    for data, sheet in zip(this_year, ["Phụ lục 1", "Phụ lục 4"], strict=True):
        names = model_names(data, sheet)
        assert len(names) == 10
        assert "Mô hình đã rút" not in names  # withdrawn
        assert "Mô hình năm 2025" not in names  # another year
        assert "Mô hình xã Tân Lập" not in names  # outside the subtree
        assert (1, "Chi đoàn phường") not in unit_rows(data, sheet)  # only a withdrawn model
    got = rows(last_year, "Phụ lục 1")
    assert got[2][0] == "BIỂU TỔNG HỢP ĐĂNG KÝ XÂY DỰNG MỚI MÔ HÌNH “DÂN VẬN KHÉO” NĂM 2025"
    assert got[7:12] == [
        row(9, None, "Tổng số", 1, *[None] * 4, 1, 0),
        row(9, "I", "Mô hình tiếp tục duy trì từ năm 2024", 0, *[None] * 4, 0, 0),
        row(9, "II", "Mô hình đăng ký mới năm 2025", 1, *[None] * 4, 1, 0),
        row(9, 1, "Chi bộ Tổ dân phố 1", 1),
        row(9, "-", "Mô hình năm 2025", 1, "Tổ dân phố 1", "Chi bộ", VHXH, "10 hộ", "x"),
    ]
    assert model_names(other_ward, "Phụ lục 4") == ["Mô hình xã Tân Lập"]


async def test_a_unit_without_models(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    async with sessionmaker() as session:
        pl1 = await build_pl1(session, tree.youth, YEAR)
        pl4 = await build_pl4(session, tree.youth, YEAR)
    assert rows(pl1, "Phụ lục 1")[7:] == [
        row(9, None, "Tổng số", 0, *[None] * 4, 0, 0),
        row(9, "I", "Mô hình tiếp tục duy trì từ năm 2025", 0, *[None] * 4, 0, 0),
        row(9, "II", "Mô hình đăng ký mới năm 2026", 0, *[None] * 4, 0, 0),
        *footer(9, [0, 0, 0, 0], [], (0, 0)),
        *(row(9, None, note) for note in PL1_NOTES),
        *signature(9, "T/M BAN THƯỜNG VỤ"),
    ]
    assert rows(pl4, "Phụ lục 4")[7:] == [
        row(11, None, "Tổng số", 0, *[None] * 4, 0, 0, 0, 0),
        *footer(11, [0, 0, 0, 0], [], (0, 0)),
        *(row(11, None, note) for note in PL4_NOTES),
        *signature(11, "T/M BAN THƯỜNG VỤ"),
    ]


async def test_many_models_are_read_in_several_partitions(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    """More rows than one fetch: numbering goes on across partitions, nothing lost or repeated."""
    count = 3 * appendix._PARTITION + 7
    async with sessionmaker() as s, s.begin():
        for i in range(count):
            await add_model(s, tree.youth, f"Mô hình {i:04d}", field="KT", scale="1 hộ")
    async with sessionmaker() as session:
        data = await build_pl4(session, tree.youth, YEAR)
    got = rows(data, "Phụ lục 4")
    models = [r for r in got if r[0] == "-"]
    assert [r[1] for r in models] == [f"Mô hình {i:04d}" for i in range(count)]
    assert [r[2] for r in models] == list(range(1, count + 1))
    assert got[7][2] == count
    assert f"- Lĩnh vực phát triển kinh tế: {count} mô hình" in [r[1] for r in got]


def test_file_name() -> None:
    unit = Unit(name="Đảng bộ phường Minh Khai")
    assert appendix_file_name(1, unit, 2026) == "Phu_luc_1_Dang_bo_phuong_Minh_Khai_2026.xlsx"
    assert appendix_file_name(4, unit, 2026) == "Phu_luc_4_Dang_bo_phuong_Minh_Khai_2026.xlsx"


async def test_libreoffice_opens_both(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree, tmp_path: Path
) -> None:
    need_libreoffice()
    async with sessionmaker() as session:
        files = {
            "pl1.xlsx": await build_pl1(session, tree.ward, YEAR),
            "pl4.xlsx": await build_pl4(session, tree.ward, YEAR),
        }
    await assert_libreoffice_opens(tmp_path, files)


async def test_column_3_totals_are_sums_of_the_unit_rows(
    sessionmaker: async_sessionmaker[AsyncSession], tree: Tree
) -> None:
    """Column (3) "Số lượng": a unit's row holds how many models it has (its models are
    numbered 1, 2, 3… under it, the last number the same), a section's row (Phụ lục 1: I, II)
    the sum of its units' rows, "Tổng số" the sum of all units' rows, as many as the active
    models of the year in the database."""
    async with sessionmaker() as session:
        pl1 = rows(await build_pl1(session, tree.ward, YEAR), "Phụ lục 1")
        pl4 = rows(await build_pl4(session, tree.ward, YEAR), "Phụ lục 4")
        in_db = await session.scalar(
            select(func.count(ModelYear.id))
            .join(DvkModel, DvkModel.id == ModelYear.model_id)
            .join(Unit, Unit.id == DvkModel.unit_id)
            .where(
                ModelYear.year == YEAR,
                ModelYear.state == "active",
                Unit.path.startswith(tree.ward.path),
            )
        )

    def blocks(table: list[tuple[Any, ...]]) -> dict[Any, list[tuple[Any, list[int]]]]:
        """Section label → [(unit row's count, numbers of its models)]."""
        found: dict[Any, list[tuple[Any, list[int]]]] = {}
        section: Any = None
        for r in table:
            if r[0] in ("I", "II"):
                section = r[0]
                found.setdefault(section, [])
            elif isinstance(r[0], int):
                found.setdefault(section, []).append((r[2], []))
            elif r[0] == "-":
                found[section][-1][1].append(r[2])
        return found

    for table in (pl1, pl4):
        body = [r for r in table[8:] if r[0] != "*"]
        total = table[7]
        assert total[1] == "Tổng số"
        units = [u for group in blocks(body).values() for u in group]
        for count, numbers in units:
            assert numbers == list(range(1, count + 1))
        assert total[2] == sum(count for count, _ in units) == in_db
    sections = blocks([r for r in pl1[8:] if r[0] != "*"])
    by_label = {r[0]: r[2] for r in pl1 if r[0] in ("I", "II")}
    for label in ("I", "II"):
        assert by_label[label] == sum(count for count, _ in sections[label])
    assert pl1[7][2] == by_label["I"] + by_label["II"]
