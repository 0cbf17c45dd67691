"""Biểu chấm điểm workbook, on SQLite and PostgreSQL: one sheet per scored model."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import rubric
from reports.score_sheet import build_score_sheet, sheet_name
from storage.models import ModelScore, ModelYear, Unit
from tests.helpers import World, add_model_year

D = Decimal
YEAR = 2026
LONG_NAME = "Mô hình [thí điểm]: “Dân vận khéo” / nhà văn hóa * kiểu mẫu? \\ số 1"


def full(subject: str) -> dict[int, Decimal]:
    return {c.number: c.maximum for c in rubric.criteria_for(subject)}


# Passing collective, 80 points with halves: every must-max criterion full.
PASSING = full("collective") | {3: D("7.5"), 6: D("2.5"), 10: D(5), 13: D(0), 14: D(0)}
# Failing individual, also 80 points: criteria 9 and 15 short of their maximum.
FAILING = full("individual") | {9: D(8), 15: D(4), 3: D(5), 10: D(5), 6: D(0), 4: D(3)}


async def add_model(
    session: AsyncSession,
    unit: Unit,
    name: str,
    *,
    subject: str = "collective",
    year: int = YEAR,
    state: str = "active",
    points: dict[int, Decimal] | None = None,
    now: datetime,
) -> ModelYear:
    person = "Nguyễn Văn An" if subject == "individual" else None
    record = await add_model_year(
        session, unit, name, now=now, year=year, subject=subject, subject_name=person, state=state
    )
    await add_scores(session, record, points or {}, now)
    return record


async def add_scores(
    session: AsyncSession, record: ModelYear, points: dict[int, Decimal], now: datetime
) -> None:
    for criterion, value in points.items():
        session.add(
            ModelScore(model_year_id=record.id, criterion=criterion, points=value, scored_at=now)
        )
    await session.flush()


async def build(
    sm: async_sessionmaker[AsyncSession], root: Unit, year: int = YEAR, subtree: bool = True
) -> Any:
    async with sm() as session:
        data = await build_score_sheet(session, root, year, subtree)
    assert data.startswith(b"PK")
    return load_workbook(io.BytesIO(data))


def rows(ws: Any) -> list[tuple[Any, ...]]:
    return list(ws.iter_rows(values_only=True))


def texts(ws: Any) -> list[str]:
    return [v for row in rows(ws) for v in row if isinstance(v, str)]


def criterion_rows(ws: Any) -> dict[int, tuple[Any, ...]]:
    """Criterion number → (STT, text, maximum, self-score, council's points, note), from the
    table body."""
    return {r[0]: r for r in rows(ws) if isinstance(r[0], int) and len(r) >= 6}


def row_labelled(ws: Any, label: str) -> tuple[Any, ...]:
    found = [r for r in rows(ws) if len(r) > 1 and r[1] == label]
    assert len(found) == 1, label
    return found[0]


@pytest.fixture
async def scored(sessionmaker: async_sessionmaker[AsyncSession], world: World) -> World:
    now = world.kept.created_at
    async with sessionmaker() as session, session.begin():
        await add_model(session, world.cell1, "Tuyến phố văn minh 2026", points=PASSING, now=now)
        await add_model(
            session,
            world.cell2,
            "Nhà nhà làm kinh tế giỏi",
            subject="individual",
            points=FAILING,
            now=now,
        )
        await add_model(session, world.women, "Chưa chấm điểm", now=now)
        await add_model(session, world.cell1, "Đã rút", state="withdrawn", points=PASSING, now=now)
        await add_model(session, world.cell2, "Năm sau", year=YEAR + 1, points=PASSING, now=now)
        await add_model(session, world.other_cell, "Mô hình xã khác", points=PASSING, now=now)
        await add_model(session, world.ward, "Chấm dở", points={1: D(5), 2: D(10)}, now=now)
        # Last year's record of cell1 (world.kept) scored too: not a 2026 model.
        await add_scores(session, world.kept, PASSING, now)
    return world


async def test_one_sheet_per_scored_active_model_of_the_year(
    sessionmaker: async_sessionmaker[AsyncSession], scored: World
) -> None:
    wb = await build(sessionmaker, scored.ward)
    assert sorted(wb.sheetnames) == sorted(
        ["Tuyến phố văn minh 2026", "Nhà nhà làm kinh tế giỏi", "Chấm dở"]
    )
    everything = " ".join(t for ws in wb.worksheets for t in texts(ws))
    for absent in ("Chưa chấm điểm", "Đã rút", "Năm sau", "Mô hình xã khác", "Tuyến phố văn minh:"):
        assert absent not in everything


async def test_collective_sheet_reproduces_the_form(
    sessionmaker: async_sessionmaker[AsyncSession], scored: World
) -> None:
    wb = await build(sessionmaker, scored.ward)
    ws = wb["Tuyến phố văn minh 2026"]
    all_texts = texts(ws)
    assert rubric.SHEET_TITLE in all_texts
    assert f"Năm {YEAR}" in all_texts
    assert "Tên mô hình: Tuyến phố văn minh 2026" in all_texts
    assert "Đơn vị: Chi bộ Tổ dân phố 1" in all_texts
    assert "Chủ thể thực hiện: Tập thể — Chi bộ Tổ dân phố 1" in all_texts
    header = rows(ws)[7]
    assert header == (
        "STT",
        "Tiêu chí",
        "Điểm tối đa",
        "Điểm tự chấm",
        "Điểm thẩm định",
        "Ghi chú",
    )

    body = criterion_rows(ws)
    assert sorted(body) == list(range(1, 16))
    for c in rubric.criteria_for("collective"):
        _, text, maximum, points, council, note = body[c.number][:6]
        assert council is None
        assert text == c.text
        assert maximum == c.maximum
        assert points == PASSING[c.number]
        assert (note == "Phải đạt điểm tối đa") is c.must_max
    for c in rubric.INDIVIDUAL:
        assert c.text not in all_texts

    part_one = row_labelled(ws, rubric.PART_I_TITLE)
    assert part_one[0] == "I"
    assert part_one[2:4] == (75, 65)  # 2,5 off criterion 3, 2,5 off 6, 5 off 10
    part_two = row_labelled(ws, f"{rubric.PART_II_TITLE}\n{rubric.PART_II_NOTE}")
    assert part_two[0] == "II"
    assert part_two[2:4] == (25, 15)
    assert row_labelled(ws, rubric.PART_II_1_TITLE)[0] == "II.1"
    assert rubric.PART_II_2_TITLE not in all_texts
    assert row_labelled(ws, rubric.TOTAL_LABEL)[2:4] == (100, 80)
    assert sum(PASSING.values()) == D(80)
    assert rubric.RULE_TEXT in all_texts
    assert "Kết quả: Đạt (tổng 80 điểm)." in all_texts
    assert not any(t.startswith("Chưa chấm") for t in all_texts)


async def test_individual_sheet_at_80_points_fails_on_must_max_criteria(
    sessionmaker: async_sessionmaker[AsyncSession], scored: World
) -> None:
    wb = await build(sessionmaker, scored.ward)
    ws = wb["Nhà nhà làm kinh tế giỏi"]
    all_texts = texts(ws)
    assert "Chủ thể thực hiện: Cá nhân — Nguyễn Văn An" in all_texts
    body = criterion_rows(ws)
    for c in rubric.criteria_for("individual"):
        assert body[c.number][1] == c.text
        assert body[c.number][3] == FAILING[c.number]
    for c in rubric.COLLECTIVE:
        assert c.text not in all_texts
    assert row_labelled(ws, rubric.PART_II_2_TITLE)[0] == "II.2"
    assert row_labelled(ws, rubric.TOTAL_LABEL)[3] == 80
    assert body[9][3] == 8
    assert "Kết quả: Không đạt (các tiêu chí 9 và 15 chưa đạt điểm tối đa)." in all_texts


async def test_partly_scored_model_says_what_is_missing(
    sessionmaker: async_sessionmaker[AsyncSession], scored: World
) -> None:
    wb = await build(sessionmaker, scored.ward)
    ws = wb["Chấm dở"]
    all_texts = texts(ws)
    body = criterion_rows(ws)
    assert body[1][3] == 5
    assert body[3][3] is None
    assert body[3][5] == "Chưa chấm"
    assert body[9][5] == "Phải đạt điểm tối đa; chưa chấm"
    assert row_labelled(ws, rubric.PART_I_TITLE)[3] == 15
    assert row_labelled(ws, f"{rubric.PART_II_TITLE}\n{rubric.PART_II_NOTE}")[3] is None
    assert (
        "Kết quả: Không đạt (tổng 15 điểm, dưới 75 điểm; "
        "các tiêu chí 7, 9, 11 và 15 chưa đạt điểm tối đa)." in all_texts
    )
    assert any(t.startswith("Chưa chấm các tiêu chí 3, 4, 5") for t in all_texts)


async def test_subtree_or_the_unit_alone(
    sessionmaker: async_sessionmaker[AsyncSession], scored: World
) -> None:
    wb = await build(sessionmaker, scored.ward, subtree=False)
    assert wb.sheetnames == ["Chấm dở"]
    wb = await build(sessionmaker, scored.cell1)
    assert wb.sheetnames == ["Tuyến phố văn minh 2026"]
    wb = await build(sessionmaker, scored.other_ward)
    assert wb.sheetnames == ["Mô hình xã khác"]
    wb = await build(sessionmaker, scored.ward, year=YEAR + 1)
    assert wb.sheetnames == ["Năm sau"]
    wb = await build(sessionmaker, scored.cell1, year=YEAR - 1)
    assert wb.sheetnames == ["Tuyến phố văn minh"]


async def test_no_scored_model_gives_one_sheet_saying_so(
    sessionmaker: async_sessionmaker[AsyncSession], scored: World
) -> None:
    wb = await build(sessionmaker, scored.women)
    assert wb.sheetnames == ["Biểu chấm điểm"]
    assert (
        f"Chưa có mô hình nào được chấm điểm năm {YEAR} — Hội LHPN phường và các đơn vị trực "
        "thuộc." in texts(wb.active)
    )
    wb = await build(sessionmaker, scored.ward, year=2000, subtree=False)
    assert f"Chưa có mô hình nào được chấm điểm năm 2000 — {scored.ward.name}." in texts(wb.active)


async def test_sheet_names_are_valid_and_unique(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    now = world.kept.created_at
    async with sessionmaker() as session, session.begin():
        for unit in (world.cell1, world.cell2, world.women):
            await add_model(session, unit, LONG_NAME, points=PASSING, now=now)
        await add_model(session, world.cell1, "tuyến phố", points=PASSING, now=now)
        await add_model(session, world.cell2, "TUYẾN PHỐ", points=PASSING, now=now)
    wb = await build(sessionmaker, world.ward)
    names = wb.sheetnames
    assert len(names) == 5
    assert len({n.casefold() for n in names}) == 5
    for name in names:
        assert len(name) <= 31
        assert not set(name) & set("[]:*?/\\")
    long_sheets = [wb[n] for n in names if n.startswith("Mô hình")]
    assert len(long_sheets) == 3
    for ws in long_sheets:
        assert f"Tên mô hình: {LONG_NAME}" in texts(ws)


def test_sheet_name_rules() -> None:
    used: set[str] = set()
    assert sheet_name("A/B: C?", used) == "A B C"
    assert sheet_name("a b c", used) == "a b c (2)"
    assert sheet_name("'quoted'", used) == "quoted"
    assert sheet_name("[]:*", used) == "Mô hình"
    assert sheet_name("History", used) == "History (2)"
    assert sheet_name("x" * 30 + "'y", used) == "x" * 30
    long = "x" * 40
    assert sheet_name(long, used) == "x" * 31
    assert sheet_name(long, used) == "x" * 27 + " (2)"
    assert sheet_name(long, used) == "x" * 27 + " (3)"


async def test_official_look(sessionmaker: async_sessionmaker[AsyncSession], scored: World) -> None:
    wb = await build(sessionmaker, scored.cell1)
    ws = wb.active
    assert ws.page_setup.orientation == "portrait"
    assert ws.page_setup.paperSize in (9, "9")
    assert ws.print_title_rows == "$8:$8"
    assert ws.freeze_panes == "A9"
    text_cell = next(c for row in ws.iter_rows() for c in row if c.value == rubric.COMMON[0].text)
    assert text_cell.font.name == "Times New Roman"
    assert text_cell.alignment.wrap_text
    assert text_cell.border.left.style == "thin"
    assert ws.row_dimensions[text_cell.row].height >= 2 * 16
    assert "A1:F1" in {str(r) for r in ws.merged_cells.ranges}
