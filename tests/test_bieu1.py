"""Biểu 1 (Kế hoạch tổng kết 2021–2025, Điện Biên): documents issued to lead the movement, and
recording one."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.catalog import signer_title
from reports.bieu1 import add_document, build_bieu1, roman
from reports.signing import MAKER, PLACE_DATE
from storage import unit_tree
from storage.models import LeadDocument, Unit
from tests.helpers import Clock, World

YEAR = 2026
TITLE = "VĂN BẢN LÃNH ĐẠO, CHỈ ĐẠO, TRIỂN KHAI PHONG TRÀO THI ĐUA “DÂN VẬN KHÉO” NĂM 2026"
HEADERS = ("STT", "Số, ngày, tháng, năm ban hành văn bản", "Nội dung văn bản")


async def add(
    sm: async_sessionmaker[AsyncSession],
    unit: Unit,
    number: str,
    issued_on: date,
    content: str,
    now: datetime,
    year: int = YEAR,
) -> LeadDocument:
    async with sm() as session, session.begin():
        return await add_document(session, unit, year, number, issued_on, content, None, now)


async def rows_of(
    sm: async_sessionmaker[AsyncSession], root: Unit, subtree: bool = True, year: int = YEAR
) -> list[tuple[object, ...]]:
    async with sm() as session:
        content = await build_bieu1(session, root, year, subtree)
    wb = load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["Biểu 1"]
    rows = list(wb["Biểu 1"].iter_rows(values_only=True))
    # The table, without the signature block that follows it (a blank row, the place-date
    # line, who signs, the hints).
    at = next(i for i, r in enumerate(rows) if PLACE_DATE in r)
    assert rows[at - 1] == (None, None, None)
    assert rows[at] == (None, None, PLACE_DATE)
    assert rows[at + 1][0] == MAKER
    assert rows[at + 1][2] == signer_title(root.kind, root.signer_title)
    return rows[: at - 1]


@pytest.fixture
async def documents(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    now = clock()
    sm = sessionmaker
    # The ward: two documents on the same day (2 before 15), one earlier.
    await add(sm, world.ward, "15-KH/ĐU", date(2026, 2, 12), "Kế hoạch thực hiện phong trào", now)
    await add(sm, world.ward, "2-HD/ĐU", date(2026, 2, 12), "Hướng dẫn đăng ký mô hình", now)
    await add(sm, world.ward, "01-CT/ĐU", date(2026, 1, 5), "Chỉ thị về công tác dân vận", now)
    await add(sm, world.cell2, "03-KH/CB", date(2026, 1, 20), "Kế hoạch của chi bộ", now)
    await add(sm, world.women, "05-KH/HPN", date(2026, 2, 1), "Kế hoạch của Hội", now)
    # Another year, and another commune: never in the ward's Biểu 1 of 2026.
    await add(sm, world.ward, "40-KH/ĐU", date(2025, 12, 1), "Kế hoạch năm trước", now, 2025)
    await add(sm, world.other_ward, "07-KH/ĐU", date(2026, 1, 8), "Xã khác", now)


async def test_bieu1_groups_documents_by_unit_in_tree_order(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, documents: None
) -> None:
    rows = await rows_of(sessionmaker, world.ward)
    assert rows[0][0] == "Biểu 1:"
    assert rows[1][0] == TITLE
    assert rows[2][0] == "Đảng bộ phường Minh Khai và các đơn vị trực thuộc"
    assert rows[4] == HEADERS
    assert rows[5:] == [
        ("I", "Đảng bộ phường Minh Khai", None),
        (1, "01-CT/ĐU, ngày 5/1/2026", "Chỉ thị về công tác dân vận"),
        (2, "2-HD/ĐU, ngày 12/2/2026", "Hướng dẫn đăng ký mô hình"),
        (3, "15-KH/ĐU, ngày 12/2/2026", "Kế hoạch thực hiện phong trào"),
        # cell1 issued nothing: no empty group.
        ("II", "Chi bộ Tổ dân phố 2", None),
        (1, "03-KH/CB, ngày 20/1/2026", "Kế hoạch của chi bộ"),
        ("III", "Hội LHPN phường", None),
        (1, "05-KH/HPN, ngày 1/2/2026", "Kế hoạch của Hội"),
    ]


async def test_bieu1_workbook_look(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, documents: None
) -> None:
    async with sessionmaker() as session:
        content = await build_bieu1(session, world.ward, YEAR)
    ws = load_workbook(io.BytesIO(content))["Biểu 1"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A2:C2", "A3:C3", "B6:C6", "B10:C10", "B12:C12"} <= merged
    assert ws["A2"].font.b is True
    assert ws["A2"].font.name == "Times New Roman"
    assert ws["B6"].font.b is True
    assert ws["B7"].font.b is False
    assert ws["C7"].border.left.style == "thin"
    assert ws.print_title_rows == "$5:$5"
    assert ws.freeze_panes == "A6"


async def test_bieu1_of_one_unit_has_no_groups(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, documents: None
) -> None:
    rows = await rows_of(sessionmaker, world.ward, subtree=False)
    assert rows[2][0] == "Đảng bộ phường Minh Khai"
    assert rows[5:] == [
        (1, "01-CT/ĐU, ngày 5/1/2026", "Chỉ thị về công tác dân vận"),
        (2, "2-HD/ĐU, ngày 12/2/2026", "Hướng dẫn đăng ký mô hình"),
        (3, "15-KH/ĐU, ngày 12/2/2026", "Kế hoạch thực hiện phong trào"),
    ]
    # A leaf's subtree is the leaf alone: no group row either.
    rows = await rows_of(sessionmaker, world.cell2)
    assert rows[5:] == [(1, "03-KH/CB, ngày 20/1/2026", "Kế hoạch của chi bộ")]
    rows = await rows_of(sessionmaker, world.ward, year=2025, subtree=False)
    assert rows[5:] == [(1, "40-KH/ĐU, ngày 1/12/2025", "Kế hoạch năm trước")]


async def test_bieu1_without_documents(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    rows = await rows_of(sessionmaker, world.ward)
    assert rows[4] == HEADERS
    assert rows[5:] == [("Chưa có văn bản nào.", None, None)]


async def test_add_document_stores_clean_values(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    now = clock()
    async with sessionmaker() as session, session.begin():
        document = await add_document(
            session,
            world.ward,
            YEAR,
            "  15-KH/ĐU ",
            date(2026, 3, 2),
            "Kế hoạch   thực hiện\n phong trào ",
            world.leader.id,
            now,
        )
    async with sessionmaker() as session:
        stored = await session.get(LeadDocument, document.id)
    assert stored is not None
    assert (stored.unit_id, stored.year, stored.number) == (world.ward.id, YEAR, "15-KH/ĐU")
    assert stored.content == "Kế hoạch thực hiện\nphong trào"
    assert (stored.issued_on, stored.created_by, stored.created_at) == (
        date(2026, 3, 2),
        world.leader.id,
        now,
    )


@pytest.mark.parametrize(
    ("number", "issued_on", "content", "message"),
    [
        ("   ", date(2026, 3, 1), "Nội dung", "Số hiệu văn bản không được để trống."),
        ("1" * 101, date(2026, 3, 1), "Nội dung", "Số hiệu văn bản dài 101 ký tự, tối đa 100"),
        ("15-KH/ĐU", date(2026, 3, 1), " ", "Trích yếu nội dung không được để trống."),
        ("15-KH/ĐU", date(2026, 3, 1), "x" * 2001, "dài 2001 ký tự, tối đa 2000 ký tự."),
        ("15-KH/ĐU", date(2026, 3, 4), "Nội dung", "Ngày ban hành 04/03/2026 ở sau hôm nay"),
    ],
)
async def test_add_document_validation(
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
    clock: Clock,
    number: str,
    issued_on: date,
    content: str,
    message: str,
) -> None:
    assert clock().date() == date(2026, 3, 2)
    async with sessionmaker() as session, session.begin():
        with pytest.raises(ValueError, match=message):
            await add_document(session, world.ward, YEAR, number, issued_on, content, None, clock())
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(LeadDocument.id))) == 0


async def test_add_document_limits_are_inclusive(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    # 100 characters, 2000 characters, and tomorrow (UTC): Vietnam is 7 hours ahead.
    late_evening = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 3/3 03:00 in Vietnam
    document = await add(
        sessionmaker, world.ward, "9" * 100, date(2026, 3, 3), "x" * 2000, late_evening
    )
    assert len(document.number) == 100


async def test_add_document_refuses_a_number_twice_in_a_year(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    now = clock()
    await add(sessionmaker, world.ward, "15-KH/ĐU", date(2026, 2, 1), "Kế hoạch", now)
    with pytest.raises(ValueError, match="Văn bản số 15-kh/đu đã có trong Biểu 1 năm 2026"):
        await add(sessionmaker, world.ward, "15-kh/đu", date(2026, 2, 2), "Kế hoạch", now)
    # Another unit, or another year, may use the same number.
    await add(sessionmaker, world.cell1, "15-KH/ĐU", date(2026, 2, 1), "Kế hoạch", now)
    await add(sessionmaker, world.ward, "15-KH/ĐU", date(2025, 2, 1), "Kế hoạch", now, 2025)


def test_roman_numerals() -> None:
    assert [roman(n) for n in (1, 2, 3, 4, 9, 14, 40, 90, 2026)] == [
        "I",
        "II",
        "III",
        "IV",
        "IX",
        "XIV",
        "XL",
        "XC",
        "MMXXVI",
    ]


async def test_units_in_scope_follow_tree_order(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    """Groups follow the tree (unit 2's child before unit 10), not the path strings."""
    now = clock()
    async with sessionmaker() as session, session.begin():
        root = await unit_tree.add_unit(session, "Phường Tân Phong", "phuong", None, now)
        units = {1: root}
        for i in range(2, 11):
            units[i] = await unit_tree.add_unit(session, f"Tổ dân phố {i}", "khac", root, now)
        child = await unit_tree.add_unit(session, "Chi hội Tổ dân phố 2", "doan_the", units[2], now)
    assert (units[2].id, units[10].id, child.id) == (2, 10, 11)
    for unit in (units[10], child, units[2]):
        await add(sessionmaker, unit, f"1-KH/{unit.id}", date(2026, 1, 5), unit.name, now)
    rows = await rows_of(sessionmaker, root)
    assert [r[1] for r in rows[5:] if isinstance(r[0], str)] == [
        "Tổ dân phố 2",
        "Chi hội Tổ dân phố 2",
        "Tổ dân phố 10",
    ]
