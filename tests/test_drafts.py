"""Report drafts in Word: every figure read back from the .docx equals the database's (counted
here one record at a time) and the workbooks' for the same scope (Phụ lục 1 / 4, Tổng hợp,
Biểu 1); the Party document format; placeholders; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import UTC, date, datetime
from io import BytesIO
from typing import Any

import pytest
from docx import Document as open_docx
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.catalog import FIELD_KEYS
from reports.appendix import build_pl1, build_pl4
from reports.bieu1 import build_bieu1
from reports.draft_files import make_draft
from reports.draft_lists import recognised_models
from reports.drafts import Counts, figures_of, lower_units
from reports.summary import summary_of
from storage.models import DvkModel, ModelIntro, ModelScore, ModelYear, Unit
from tests.conftest import TZ
from tests.draft_data import (
    Data,
    docx_paragraphs,
    docx_tables,
    fill,
    passing_by_python,
    table_titled,
)
from tests.helpers import World

TODAY = date(2026, 11, 20)
DEADLINE = datetime(2026, 4, 16, tzinfo=TZ).astimezone(UTC)
NAMED = ("KT", "VHXH", "QPAN", "XDD")
SHORT = {"KT": "KT", "VHXH": "VHXH", "QPAN": "QPAN", "XDD": "XDĐ&HTCT", "OTHER": "Khác"}


@pytest.fixture
async def data(sessionmaker: async_sessionmaker[AsyncSession], world: World) -> Data:
    return await fill(sessionmaker, world)


async def records_in(
    session: AsyncSession, units: list[Unit], year: int, *, active: bool = True
) -> list[ModelYear]:
    rows = await session.scalars(
        select(ModelYear)
        .join(DvkModel, DvkModel.id == ModelYear.model_id)
        .where(DvkModel.unit_id.in_([u.id for u in units]), ModelYear.year == year)
    )
    return [r for r in rows.all() if not active or r.state == "active"]


async def counted(session: AsyncSession, records: list[ModelYear]) -> Counts:
    """The numbers of :class:`Counts`, one record at a time."""
    c = Counts(models=len(records))
    for r in records:
        c.collective += r.subject == "collective"
        c.individual += r.subject == "individual"
        c.new += r.origin == "new"
        c.kept += r.origin == "kept"
        c.with_results += bool((r.results or "").strip())
        c.proposed += r.review == "proposed"
        c.recognised += r.review == "recognised"
        c.not_recognised += r.review == "not_recognised"
        c.removed += r.review == "removed"
    ids = [r.id for r in records]
    c.passing = await passing_by_python(session, ids)
    scored = await session.scalars(
        select(ModelScore.model_year_id).where(ModelScore.model_year_id.in_(ids)).distinct()
    )
    c.scored = len(scored.all())
    return c


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    wb = load_workbook(BytesIO(content))
    return list(wb.worksheets[0].iter_rows(values_only=True))


def pl4_totals(content: bytes) -> dict[str, int]:
    """The Phụ lục 4 figures: the “Tổng số” row and the footer's lines per field."""
    rows = sheet_rows(content)
    total = next(r for r in rows if r[1] == "Tổng số")
    out = {
        "models": total[2],
        "new": total[7],
        "kept": total[8],
        "collective": total[9],
        "individual": total[10],
    }
    lines = [str(r[1]) for r in rows if r[1] and str(r[1]).startswith("- Lĩnh vực")]
    for key, line in zip(NAMED, lines, strict=False):
        out[key] = int(line.rsplit(":", 1)[1].split()[0])
    out["OTHER"] = sum(int(x.rsplit(":", 1)[1].split()[0]) for x in lines[4:])
    return out


def ints(row: list[str]) -> list[int]:
    return [int(x) for x in row]


# --- the figures ---------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2025, 2026])
async def test_figures_equal_the_database_and_the_workbooks(
    sessionmaker: async_sessionmaker[AsyncSession], data: Data, year: int
) -> None:
    w = data.world
    ward_units = [w.ward, w.cell1, w.cell2, w.women, data.deep]
    async with sessionmaker() as session:
        figures = await figures_of(session, w.ward, year)
        records = await records_in(session, ward_units, year)
        assert figures.total == await counted(session, records)
        for key in FIELD_KEYS:
            mine = [r for r in records if (r.field if r.field in NAMED else "OTHER") == key]
            assert figures.by_field[key] == await counted(session, mine), key
        for unit in ward_units:
            own = await counted(session, await records_in(session, [unit], year))
            assert figures.by_unit.get(unit.id, Counts()) == own, unit.name
        assert w.other_cell.id not in figures.by_unit
        # Phụ lục 4 and Phụ lục 1 of the same scope.
        pl4 = pl4_totals(await build_pl4(session, w.ward, year))
        for name in ("models", "new", "kept", "collective", "individual"):
            assert pl4[name] == getattr(figures.total, name), name
        for key in FIELD_KEYS:
            assert pl4[key] == figures.by_field[key].models, key
        pl1 = sheet_rows(await build_pl1(session, w.ward, year))
        total_row = next(r for r in pl1 if r[1] == "Tổng số")
        assert total_row[2] == figures.total.models
        assert (total_row[7], total_row[8]) == (figures.total.collective, figures.total.individual)
        # Tổng hợp.
        summary = await summary_of(session, w.ward, year, DEADLINE)
        assert summary.by_field == {k: figures.by_field[k].models for k in FIELD_KEYS}
        for name in ("proposed", "recognised", "not_recognised", "removed", "new", "kept"):
            assert getattr(summary, name) == getattr(figures.total, name), name
        # One unit alone.
        alone = await figures_of(session, w.women, year, subtree=False)
        assert alone.total == await counted(session, await records_in(session, [w.women], year))
    # The data set has every kind of record.
    assert figures.total.scored > figures.total.passing > 0
    assert min(figures.total.recognised, figures.total.removed, figures.total.with_results) > 0


async def test_lower_units_roll_up_their_subtrees_and_say_who_reported(
    sessionmaker: async_sessionmaker[AsyncSession], data: Data
) -> None:
    w = data.world
    async with sessionmaker() as session:
        lower = await lower_units(session, w.ward, 2026)
        women_tree = await counted(session, await records_in(session, [w.women, data.deep], 2026))
        cell1 = await counted(session, await records_in(session, [w.cell1], 2026))
    assert [(u.name, u.reported) for u in lower] == [
        ("Chi bộ Tổ dân phố 1", True),
        ("Chi bộ Tổ dân phố 2", False),  # its report of 2025 does not count
        ("Hội LHPN phường", False),  # a consolidated report is not its yearly one
    ]
    assert lower[2].counts == women_tree
    assert lower[0].counts == cell1
    assert sum(lower[2].by_field.values()) == women_tree.models


async def test_recognised_models_one_row_per_model(
    sessionmaker: async_sessionmaker[AsyncSession], data: Data
) -> None:
    w = data.world
    async with sessionmaker() as session:
        rows = await recognised_models(session, w.ward, 2026)
        records = await records_in(session, [w.ward, w.cell1, w.cell2, w.women, data.deep], 2026)
    expected = sorted(r.id for r in records if r.review == "recognised")
    assert sorted(r.record_id for r in rows) == expected
    assert len({r.record_id for r in rows}) == len(rows)
    # The recognising decision, as recorded with /duyet or /quyetdinh.
    first = min(expected)
    async with sessionmaker() as session, session.begin():
        record = await session.get(ModelYear, first)
        assert record is not None
        record.decision_number = "125-QĐ/ĐU"
        record.decision_date = date(2026, 11, 20)
        record.decision_level = "phuong"
    async with sessionmaker() as session:
        rows = await recognised_models(session, w.ward, 2026)
    decisions = {r.record_id: r.decision for r in rows}
    assert decisions[first] == "125-QĐ/ĐU, 20/11/2026, Cấp phường"
    assert all(decisions[i] == "" for i in expected if i != first)


# --- the documents -------------------------------------------------------------------------


def figures_from_docx(content: bytes) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    first = table_titled(content, "Lĩnh vực", "Tổng số")
    second = table_titled(content, "Lĩnh vực", "Có kết quả")
    return (
        {row[0]: ints(row[1:]) for row in first[1:]},
        {row[0]: ints(row[1:]) for row in second[1:]},
    )


def expected_tables(figures: Any) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    first, second = {}, {}
    items = [(SHORT[k], figures.by_field[k]) for k in FIELD_KEYS]
    for label, c in [*items, ("Tổng số", figures.total)]:
        if label == "Khác" and not c.models:
            continue
        first[label] = [c.models, c.collective, c.individual, c.new, c.kept]
        second[label] = [
            c.with_results,
            c.scored,
            c.passing,
            c.proposed,
            c.recognised,
            c.removed,
        ]
    return first, second


async def test_consolidated_draft_figures_read_back(
    sessionmaker: async_sessionmaker[AsyncSession], data: Data
) -> None:
    w = data.world
    async with sessionmaker() as session:
        content = (await make_draft(session, "consolidated", w.ward, 2026, today=TODAY)).content
        figures = await figures_of(session, w.ward, 2026)
        pl4 = pl4_totals(await build_pl4(session, w.ward, 2026))
        summary = await summary_of(session, w.ward, 2026, DEADLINE)
        recognised = await recognised_models(session, w.ward, 2026)
    first, second = figures_from_docx(content)
    assert (first, second) == expected_tables(figures)
    assert first["Tổng số"][0] == pl4["models"] == summary.models
    assert first["Tổng số"][1:] == [
        pl4["collective"],
        pl4["individual"],
        pl4["new"],
        pl4["kept"],
    ]
    assert {k: v[0] for k, v in first.items() if k != "Tổng số"} == {
        SHORT[k]: pl4[k] for k in FIELD_KEYS if k in NAMED or pl4[k]
    }
    assert second["Tổng số"][3:] == [summary.proposed, summary.recognised, summary.removed]
    # Lower units: one row each (their subtrees), the ward's own models, the sum.
    lower = table_titled(content, "STT", "Đơn vị", "Tổng số")
    by_name = {row[1]: ints(row[2:]) for row in lower[1:]}
    assert by_name["Cộng"] == [
        figures.total.models,
        *(figures.by_field[k].models for k in FIELD_KEYS),
    ]
    parts = [v for k, v in by_name.items() if k != "Cộng"]
    assert [sum(col) for col in zip(*parts, strict=True)] == by_name["Cộng"]
    assert by_name["Hội LHPN phường"][0] == sum(
        figures.by_unit.get(u.id, Counts()).models for u in (w.women, data.deep)
    )
    status = table_titled(content, "STT", "Đơn vị", "Tập thể")
    assert [row[-1] for row in status[1:4]] == ["Đã gửi 20/11", "Chưa gửi", "Chưa gửi"]
    text = "\n".join(docx_paragraphs(content))
    assert (
        "Đơn vị trực thuộc chưa gửi báo cáo kết quả năm 2026: 2/3 "
        "(Chi bộ Tổ dân phố 2, Hội LHPN phường)."
    ) in text
    listed = table_titled(content, "STT", "Tên mô hình")
    assert [row[1] for row in listed[1:]] == [r.name for r in recognised]
    assert listed[0][-1] == "Quyết định"
    assert [row[-1] for row in listed[1:]] == [r.decision or "(chưa ghi)" for r in recognised]
    assert f"4/5 đơn vị đã đăng ký {figures.total.models} mô hình" in text or (
        f"đơn vị đã đăng ký {figures.total.models} mô hình" in text
    )
    assert f"{figures.total.passing} mô hình đạt yêu cầu" in text


async def test_yearly_draft_of_one_unit(
    sessionmaker: async_sessionmaker[AsyncSession], data: Data
) -> None:
    w = data.world
    async with sessionmaker() as session:
        content = (
            await make_draft(session, "yearly", w.cell2, 2026, today=TODAY, subtree=False)
        ).content
        figures = await figures_of(session, w.cell2, 2026, subtree=False)
        pl4 = pl4_totals(await build_pl4(session, w.cell2, 2026, subtree=False))
    assert figures_from_docx(content) == expected_tables(figures)
    assert figures_from_docx(content)[0]["Tổng số"][0] == pl4["models"]
    text = "\n".join(docx_paragraphs(content))
    assert "Kết quả của các đơn vị trực thuộc" not in text  # only the consolidated report


async def test_party_document_format(
    sessionmaker: async_sessionmaker[AsyncSession], data: Data
) -> None:
    w = data.world
    async with sessionmaker() as session:
        ward = (await make_draft(session, "consolidated", w.ward, 2026, today=TODAY)).content
        cell = (await make_draft(session, "yearly", w.cell1, 2026, today=TODAY)).content
    doc = open_docx(BytesIO(ward))
    section = doc.sections[0]
    measures = (
        section.page_width,
        section.page_height,
        section.top_margin,
        section.bottom_margin,
        section.left_margin,
        section.right_margin,
    )
    assert [round(m.mm) for m in measures if m is not None] == [210, 297, 20, 20, 30, 15]
    assert doc.styles["Normal"].font.name == "Times New Roman"
    assert doc.styles["Normal"].font.size.pt == 14
    assert "PAGE" in section.header._element.xml
    header = docx_tables(ward)[0][0]
    assert header[0] == "ĐẢNG ỦY PHƯỜNG MINH KHAI\n*\nSố        -BC/ĐU"
    assert header[1] == "ĐẢNG CỘNG SẢN VIỆT NAM\n\nMinh Khai, ngày    tháng    năm 2026"
    party = doc.tables[0].rows[0].cells[1].paragraphs[0].runs[0]
    assert party.bold
    assert party.underline
    date_run = doc.tables[0].rows[0].cells[1].paragraphs[2].runs[0]
    assert date_run.italic
    cell_header = docx_tables(cell)[0][0]
    assert cell_header[0].startswith("ĐẢNG BỘ PHƯỜNG MINH KHAI\nCHI BỘ TỔ DÂN PHỐ 1\n*\nSố")
    assert cell_header[0].endswith("-BC/CB")
    paragraphs = docx_paragraphs(ward)
    assert paragraphs[1:3] == [
        "BÁO CÁO",
        "tổng hợp kết quả thực hiện phong trào thi đua “Dân vận khéo” năm 2026",
    ]
    closing = docx_tables(ward)[-1][0]
    assert closing[0].startswith("Nơi nhận:\n- Ban Tuyên giáo và Dân vận Tỉnh ủy (báo cáo),")
    assert closing[1].startswith("T/M BAN THƯỜNG VỤ\nBÍ THƯ\n")
    assert docx_tables(cell)[-1][0][1].startswith("T/M CHI BỘ\nBÍ THƯ\n")
    assert docx_tables(cell)[-1][0][0] == (
        "Nơi nhận:\n- Ban Xây dựng Đảng phường Minh Khai (báo cáo),\n- Lưu Văn phòng."
    )
    # What the database cannot know: headed placeholders, in italics.
    placeholders = [
        p for p in doc.paragraphs if p.text.startswith("[Đơn vị bổ sung:") and p.runs[0].italic
    ]
    assert len(placeholders) >= 6
    assert any("đề xuất, kiến nghị" in p.text for p in placeholders)


async def test_typical_models_as_prose(
    sessionmaker: async_sessionmaker[AsyncSession], data: Data
) -> None:
    w = data.world
    async with sessionmaker() as session:
        content = (await make_draft(session, "yearly", w.ward, 2026, today=TODAY)).content
        records = await records_in(session, [w.ward, w.cell1, w.cell2, w.women, data.deep], 2026)
        intros = (
            await session.scalars(
                select(ModelIntro).where(ModelIntro.model_year_id.in_([r.id for r in records]))
            )
        ).all()
    text = "\n".join(docx_paragraphs(content))
    part = text.split("II. GIỚI THIỆU CÁC MÔ HÌNH")[1]
    assert intros
    for intro in intros:
        assert f"Cơ sở xây dựng: {intro.basis}. " in part
        assert f"Phương thức triển khai: {intro.method}. " in part
        if intro.scope:
            assert f"Phạm vi tác động, ảnh hưởng: {intro.scope}. " in part
    assert "Các giải pháp nhân rộng:" not in part  # not answered: not written


async def test_review_draft_per_year_and_biểu_1(
    sessionmaker: async_sessionmaker[AsyncSession], data: Data
) -> None:
    w = data.world
    ward_units = [w.ward, w.cell1, w.cell2, w.women, data.deep]
    async with sessionmaker() as session:
        document = await make_draft(session, "review", w.ward, 2026, today=TODAY, first=2024)
        expected_years = {}
        for year in (2024, 2025, 2026):
            records = await records_in(session, ward_units, year)
            by = Counter((r.field if r.field in NAMED else "OTHER", r.subject) for r in records)
            expected_years[year] = by
        bieu1 = []
        for year in (2024, 2025, 2026):
            for row in sheet_rows(await build_bieu1(session, w.ward, year))[5:]:
                if isinstance(row[0], int):
                    bieu1.append((row[1], row[2]))
    assert document.file_name == "Du_thao_Bao_cao_tong_ket_Dang_bo_phuong_Minh_Khai_2024-2026.docx"
    content = document.content
    text = "\n".join(docx_paragraphs(content))
    assert "Phần thứ nhất" in text
    assert "Phần thứ hai" in text
    tables = [t for t in docx_tables(content) if t[0] == ["Lĩnh vực", "Tập thể", "Cá nhân", "Cộng"]]
    assert len(tables) == 3
    for year, table in zip((2024, 2025, 2026), tables, strict=True):
        by = expected_years[year]
        for cells in table[1:-1]:
            key = next(k for k, v in SHORT.items() if v == cells[0])
            assert ints(cells[1:]) == [
                by[(key, "collective")],
                by[(key, "individual")],
                by[(key, "collective")] + by[(key, "individual")],
            ], (year, key)
        assert ints(table[-1][1:])[2] == sum(by.values())
        assert f"Năm {year}" in text
    documents = table_titled(content, "STT", "Số, ngày, tháng, năm ban hành văn bản")
    in_docx = [(r[1], r[2]) for r in documents[1:] if r[0].isdigit()]
    assert sorted(in_docx) == sorted(bieu1)
    assert len(in_docx) == 12


def test_counts_fields_are_the_ones_compared() -> None:
    assert list(asdict(Counts())) == [
        "models",
        "collective",
        "individual",
        "new",
        "kept",
        "with_results",
        "scored",
        "passing",
        "proposed",
        "recognised",
        "not_recognised",
        "removed",
    ]
