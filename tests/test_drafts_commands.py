"""/baocao's drafts and its confirmation before marking a consolidated report sent, and
`dvk report`, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import run_command
from bot.settings import Settings
from domain.calendar import CONSOLIDATED, UNIT_REPORT
from handlers.core import Core
from reports.docx_style import DOCX_MIME
from reports.drafts import figures_of
from storage.models import UnitReport
from tests.conftest import TZ
from tests.draft_data import Data, docx_paragraphs, fill, table_titled
from tests.helpers import Chat, Clock, World
from tests.test_drafts import expected_tables, figures_from_docx


@pytest.fixture
async def data(sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock) -> Data:
    clock.now = datetime(2026, 11, 21, 9, 0, tzinfo=TZ).astimezone(UTC)
    return await fill(sessionmaker, world)


async def marked(sm: async_sessionmaker[AsyncSession]) -> list[tuple[int, str]]:
    async with sm() as session:
        rows = (await session.scalars(select(UnitReport).where(UnitReport.year == 2026))).all()
    return sorted((r.unit_id, r.kind) for r in rows)


# --- drafts in chat ------------------------------------------------------------------------


async def test_an_officer_gets_the_yearly_draft_of_the_unit(
    core: Core, data: Data, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/baocao")
    await lan.send("soan du thao")  # typed without diacritics
    reply = lan.last
    assert reply.text.startswith(
        "Dự thảo báo cáo kết quả năm 2026 — Chi bộ Tổ dân phố 1, số liệu đến ngày 21/11/2026."
    )
    assert reply.document is not None
    assert reply.document.mime_type == DOCX_MIME
    assert reply.document.file_name == "Du_thao_Bao_cao_ket_qua_Chi_bo_To_dan_pho_1_2026.docx"
    async with sessionmaker() as session:
        figures = await figures_of(session, data.world.cell1, 2026, subtree=False)
    assert figures_from_docx(reply.document.content) == expected_tables(figures)
    # Drafting marks nothing: the reports of the data set only.
    assert await marked(sessionmaker) == [
        (data.world.cell1.id, UNIT_REPORT),
        (data.world.women.id, CONSOLIDATED),
    ]


async def test_a_leader_chooses_the_consolidated_draft_of_the_subtree(
    core: Core, data: Data, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    hung = Chat(core, "hung")
    await hung.send("/baocao")
    await hung.tap("Soạn dự thảo báo cáo")
    assert [o.label for o in hung.last.options] == [
        "Báo cáo kết quả năm 2026 (hạn 25/11/2026)",
        "Báo cáo tổng hợp năm 2026 (hạn 05/12/2026)",
    ]
    await hung.send("tong hop")
    document = hung.last.document
    assert document is not None
    assert document.file_name == "Du_thao_Bao_cao_tong_hop_Dang_bo_phuong_Minh_Khai_2026.docx"
    async with sessionmaker() as session:
        figures = await figures_of(session, data.world.ward, 2026)
    assert figures_from_docx(document.content) == expected_tables(figures)
    lower = table_titled(document.content, "STT", "Đơn vị", "Tổng số")
    assert [row[1] for row in lower[1:]] == [
        "Chi bộ Tổ dân phố 1",
        "Chi bộ Tổ dân phố 2",
        "Hội LHPN phường",
        "Đảng bộ phường Minh Khai (trực tiếp)",
        "Cộng",
    ]
    # The yearly draft of a leader covers the subtree too.
    await hung.send("/baocao")
    await hung.send("1")
    await hung.send("1")
    assert "Đảng bộ phường Minh Khai và các đơn vị trực thuộc" in hung.last.text
    yearly = hung.last.document
    assert yearly is not None
    assert figures_from_docx(yearly.content) == expected_tables(figures)
    assert "Kết quả của các đơn vị trực thuộc" not in "\n".join(docx_paragraphs(yearly.content))


async def test_nobody_drafts_for_a_unit_outside_their_own(core: Core, data: Data) -> None:
    tuan = Chat(core, "tuan")
    await tuan.send("/baocao")
    await tuan.tap("Soạn dự thảo báo cáo")
    document = tuan.last.document
    assert document is not None
    assert "Chi_bo_thon_Dong_Tam" in document.file_name
    minh = Chat(core, "minh")  # officer of two cells: asked which; no consolidated report
    await minh.send("/baocao")
    await minh.tap("Soạn dự thảo báo cáo")
    assert [o.label for o in minh.last.options] == ["Chi bộ Tổ dân phố 1", "Chi bộ Tổ dân phố 2"]
    await minh.send("2")
    assert minh.last.document is not None
    assert "Chi_bo_To_dan_pho_2" in minh.last.document.file_name


# --- marking the consolidated report -------------------------------------------------------


async def test_consolidated_with_every_lower_unit_reported_asks_nothing_more(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    async with sessionmaker() as session, session.begin():
        for unit in (world.cell1, world.cell2, world.women):
            session.add(UnitReport(unit_id=unit.id, year=2026, kind=UNIT_REPORT, sent_at=clock()))
    hung = Chat(core, "hung")
    await hung.send("/baocao")
    await hung.tap("Đánh dấu đã gửi")
    await hung.send("tong hop")
    assert "Xác nhận đơn vị đã gửi báo cáo này?" in hung.last.text
    assert "chưa gửi" not in hung.last.text
    await hung.tap("Đã gửi")
    assert hung.last.text.startswith("Đã ghi nhận: Đảng bộ phường Minh Khai đã gửi báo cáo tổng")
    assert "Lưu ý" not in hung.last.text


async def test_consolidated_cancelled_at_the_warning_marks_nothing(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    hung = Chat(core, "hung")
    await hung.send("/baocao")
    await hung.tap("Đánh dấu đã gửi")
    await hung.send("tong hop")
    assert "Lưu ý: 3 đơn vị trực thuộc chưa gửi báo cáo năm" in hung.last.text
    await hung.tap("Hủy")
    assert await marked(sessionmaker) == []


# --- dvk report ----------------------------------------------------------------------------


@pytest.fixture
def settings(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return Settings(database_url=db_url)


async def dvk(settings: Settings, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return await run_command(list(argv), settings, out), out.getvalue()


async def test_dvk_report_writes_each_draft(
    settings: Settings,
    data: Data,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = await dvk(
        settings, "report", "consolidated", "--unit", "minh khai", "--year", "2026", "-o", "."
    )
    assert code == 0, capsys.readouterr().err
    name = "Du_thao_Bao_cao_tong_hop_Dang_bo_phuong_Minh_Khai_2026.docx"
    assert out.startswith(
        f"Đã ghi dự thảo báo cáo tổng hợp năm 2026 — Đảng bộ phường Minh Khai: {name} ("
    )
    async with sessionmaker() as session:
        figures = await figures_of(session, data.world.ward, 2026)
        cell = await figures_of(session, data.world.cell2, 2025, subtree=False)
    assert figures_from_docx((tmp_path / name).read_bytes()) == expected_tables(figures)

    code, out = await dvk(
        settings,
        "report",
        "yearly",
        "--unit",
        "Minh Khai / Chi bộ Tổ dân phố 2",
        "--year",
        "2025",
        "--unit-only",
        "-o",
        "cell.docx",
    )
    assert code == 0
    assert figures_from_docx((tmp_path / "cell.docx").read_bytes()) == expected_tables(cell)

    code, out = await dvk(
        settings, "report", "review", "--unit", "1", "--from", "2024", "--to", "2026"
    )
    assert code == 0
    assert "giai đoạn 2024 - 2026" in out
    assert (tmp_path / "Du_thao_Bao_cao_tong_ket_Dang_bo_phuong_Minh_Khai_2024-2026.docx").exists()


async def test_dvk_report_refusals(
    settings: Settings, data: Data, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = await dvk(settings, "report", "consolidated", "--unit", "Chi hội Phụ nữ tổ 1")
    assert code == 1
    assert capsys.readouterr().err == (
        "Lỗi: Chi hội Phụ nữ tổ 1 không có đơn vị trực thuộc nên không có báo cáo tổng hợp; "
        "dùng: dvk report yearly\n"
    )
    code, _ = await dvk(settings, "report", "yearly", "--unit", "Chi bộ", "--from", "2021")
    assert code == 1
    assert "--from và --to chỉ dùng cho báo cáo tổng kết" in capsys.readouterr().err
    code, _ = await dvk(
        settings, "report", "review", "--unit", "1", "--from", "2027", "--to", "2026"
    )
    assert code == 1
    assert "Năm bắt đầu 2027 ở sau năm kết thúc 2026." in capsys.readouterr().err
    code, _ = await dvk(settings, "report", "yearly", "--unit", "Tổ dân phố")
    assert code == 1
    assert "Chi bộ Tổ dân phố 1" in capsys.readouterr().err  # ambiguous: the candidates
