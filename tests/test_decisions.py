"""The council's assessment (/thamdinh) beside the self-score, the verdict recognition goes by,
the decision recorded at /duyet or later (/quyetdinh), and the lists of proposed and recognised
models (/xuat dexuat, congnhan; dvk export), read back against the database."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import run_command
from bot.settings import Settings
from domain import rubric
from domain.catalog import DecisionLevel, parse_decision_level, signer_title
from handlers.core import Core
from reports.decisions import build_proposed, build_recognised
from reports.score_sheet import build_blank_score_sheet, build_score_sheet
from reports.signing import MAKER
from storage import model_years
from storage.models import ModelYear, Unit
from tests.evaluation_helpers import add_record, audit_actions, full_marks, get_record, passing_75
from tests.helpers import Chat, Clock, World

D = Decimal
NAME = "Dân vận khéo thu gom rác thải"


def test_levels_typed_without_diacritics() -> None:
    assert parse_decision_level("Cấp phường") is DecisionLevel.PHUONG
    assert parse_decision_level("cap huyen") is DecisionLevel.HUYEN
    assert parse_decision_level("  TỈNH ") is DecisionLevel.TINH
    assert parse_decision_level("thi xa") is DecisionLevel.HUYEN
    assert parse_decision_level("Đảng ủy Khối") is DecisionLevel.KHOI
    assert parse_decision_level("cap xa.") is DecisionLevel.XA
    assert parse_decision_level("cấp trung đoàn") is None
    assert parse_decision_level("") is None


def test_the_council_verdict_wins_when_present() -> None:
    own = full_marks()
    short = {**full_marks(), 15: D(4)}
    assert rubric.assessed(own, {}, "collective").by_council is False
    assert rubric.assessed(own, {}, "collective").verdict.passed
    decided = rubric.assessed(own, short, "collective")
    assert decided.by_council
    assert not decided.verdict.passed
    assert decided.source == "điểm thẩm định"
    assert rubric.assessed(short, own, "collective").verdict.passed


def test_signer_title_by_kind_unless_set() -> None:
    assert signer_title("phuong", None) == "T/M ĐẢNG ỦY"
    assert signer_title("phong_ban", "  ") == "TRƯỞNG BAN"
    assert signer_title("phuong", "T/M BAN THƯỜNG VỤ") == "T/M BAN THƯỜNG VỤ"
    assert signer_title("la", None) == "THỦ TRƯỞNG ĐƠN VỊ"


async def test_council_scores_decide_recognition(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    """The officer's 100 points pass; the council gives criterion 15 four: not recognisable.
    The council scores again, full: recognised, the decision recorded later with /quyetdinh."""
    record_id = await add_record(
        sessionmaker,
        world.cell1,
        clock(),
        results="150 hộ",
        points=full_marks(),
        review="proposed",
    )
    officer = Chat(core, "lan")
    await officer.send("/thamdinh")
    assert "Chỉ lãnh đạo hoặc quản trị mới chấm điểm thẩm định" in officer.last.text
    leader = Chat(core, "hung")
    said = "\n".join(r.text for r in await leader.send("/thamdinh"))
    assert "Mô hình chờ duyệt duy nhất:" in said
    assert "chưa thẩm định" in said
    assert "Bước 1/15" in leader.last.text
    council = {**passing_75(), 15: D(4)}
    for n in range(1, 16):
        await leader.send(rubric.format_points(council[n]))
    assert "Kết quả: Không đạt" in leader.last.text
    await leader.tap("Lưu")
    assert "✅ Đã lưu điểm thẩm định" in leader.last.text
    async with sessionmaker() as session:
        saved = (await model_years.scores_of(session, [record_id], council=True))[record_id]
        own = (await model_years.scores_of(session, [record_id]))[record_id]
    assert saved == council
    assert own == full_marks()  # the self-score is untouched

    await leader.send("/duyet")
    assert "• Tổng điểm thẩm định: 74/100 — Không đạt" in leader.last.text
    await leader.tap("Công nhận")
    for _ in range(3):
        await leader.send("bỏ qua")
    await leader.tap("Xác nhận")
    assert "Không công nhận được: điểm thẩm định hiện tại Không đạt" in leader.last.text
    await leader.send("/huy")
    assert (await get_record(sessionmaker, record_id)).review == "proposed"

    # Scored again: opens at the saved points; criterion 15 changed to its maximum.
    said = "\n".join(r.text for r in await leader.send("/thamdinh"))
    assert "đã có điểm thẩm định" in said
    assert "kiểm tra lại trước khi lưu" in leader.last.text
    await leader.tap("Tiêu chí 15")
    await leader.send("5")
    await leader.tap("Lưu")
    assert "Kết quả thẩm định: Đạt (tổng 75 điểm)" in leader.last.text
    await leader.send("/duyet")
    await leader.tap("Công nhận")
    for _ in range(3):
        await leader.send("bỏ qua")
    await leader.tap("Xác nhận")
    assert "— Công nhận." in leader.last.text
    record = await get_record(sessionmaker, record_id)
    assert (record.review, record.decision_number) == ("recognised", None)
    await leader.send("/duyet")
    assert "1 mô hình đã công nhận chưa ghi số quyết định: gõ /quyetdinh" in leader.last.text

    # The decision, later.
    await officer.send("/quyetdinh")
    assert "Chỉ lãnh đạo hoặc quản trị mới ghi được quyết định" in officer.last.text
    said = "\n".join(r.text for r in await leader.send("/quyetdinh"))
    assert "Mô hình đã công nhận duy nhất:" in said
    assert "Số quyết định công nhận?" in leader.last.text
    await leader.send("125-QĐ/ĐU")
    await leader.send("bỏ qua")
    await leader.send("cấp huyện")
    await leader.tap("Lưu")
    assert "✅ Đã ghi quyết định công nhận" in leader.last.text
    assert "số 125-QĐ/ĐU, cấp huyện" in leader.last.text
    record = await get_record(sessionmaker, record_id)
    assert (record.decision_number, record.decision_date, record.decision_level) == (
        "125-QĐ/ĐU",
        None,
        "huyen",
    )
    # Again with the date only: what is skipped stays as recorded.
    await leader.send("/quyetdinh")
    await leader.send("bỏ qua")
    await leader.send("02/03/2026")
    await leader.send("bo qua")
    await leader.tap("Lưu")
    record = await get_record(sessionmaker, record_id)
    assert (record.decision_number, record.decision_date, record.decision_level) == (
        "125-QĐ/ĐU",
        date(2026, 3, 2),
        "huyen",
    )
    actions = [a for a, _, _ in await audit_actions(sessionmaker, record_id)]
    assert actions == ["council_score", "council_score", "review", "decision", "decision"]


def sheet_rows(data: bytes) -> list[tuple[Any, ...]]:
    wb = load_workbook(io.BytesIO(data))
    assert len(wb.worksheets) == 1
    return list(wb.worksheets[0].iter_rows(values_only=True))


def table(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The model rows: numbered in column A, below the header."""
    return [r for r in rows[5:] if isinstance(r[0], int)]


@pytest.fixture
async def decided(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> dict[str, int]:
    ids = {
        "proposed": await add_record(
            sessionmaker, world.cell1, clock(), "Đề xuất A", points=full_marks(), review="proposed"
        ),
        "proposed2": await add_record(
            sessionmaker, world.women, clock(), "Đề xuất B", "individual", review="proposed"
        ),
        "recognised": await add_record(
            sessionmaker,
            world.cell2,
            clock(),
            "Được công nhận C",
            points=full_marks(),
            review="recognised",
        ),
        "other": await add_record(
            sessionmaker, world.other_cell, clock(), "Xã khác", review="recognised"
        ),
        "last_year": await add_record(
            sessionmaker, world.cell1, clock(), "Năm trước", year=2025, review="recognised"
        ),
    }
    async with sessionmaker() as session, session.begin():
        record = await session.get(ModelYear, ids["recognised"])
        assert record is not None
        record.decision_number = "125-QĐ/ĐU"
        record.decision_date = date(2026, 11, 10)
        record.decision_level = "phuong"
        proposed = await session.get(ModelYear, ids["proposed"])
        assert proposed is not None
        # 23:30 UTC on the 11th is the 12th in Việt Nam.
        proposed.proposed_at = datetime(2026, 11, 11, 23, 30, tzinfo=UTC)
        await model_years.replace_scores(
            session, ids["recognised"], passing_75(), None, clock(), council=True
        )
    return ids


async def test_lists_of_proposed_and_recognised_read_back_from_the_database(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, decided: dict[str, int]
) -> None:
    async with sessionmaker() as session:
        proposed = sheet_rows(await build_proposed(session, world.ward, 2026))
        recognised = sheet_rows(await build_recognised(session, world.ward, 2026))
        alone = sheet_rows(await build_recognised(session, world.ward, 2026, subtree=False))
        in_db = (
            await session.scalars(
                select(ModelYear).where(ModelYear.year == 2026, ModelYear.review.is_not(None))
            )
        ).all()
        units = {u.id: u.name for u in (await session.scalars(select(Unit))).all()}
    assert proposed[1][0] == "DANH SÁCH MÔ HÌNH “DÂN VẬN KHÉO” ĐỀ NGHỊ CÔNG NHẬN NĂM 2026"
    assert proposed[4][5:7] == ("Điểm tự chấm", "Điểm thẩm định")
    got = {r[1]: r for r in table(proposed)}
    assert set(got) == {"Đề xuất A", "Đề xuất B"}
    assert got["Đề xuất A"][2:9] == (
        "Chi bộ Tổ dân phố 1",
        "KT",
        "Tập thể",
        100,
        "chưa chấm",
        "Đạt",
        "12/11/2026",
    )
    assert got["Đề xuất B"][4:8] == ("Cá nhân", "chưa chấm", "chưa chấm", "Không đạt")
    rows = table(recognised)
    assert [r[1] for r in rows] == ["Được công nhận C"]
    assert rows[0][2] == "Chi bộ Tổ dân phố 2"
    # Self-score 100, council 75: the verdict by the council's points.
    assert rows[0][5:] == (100, 75, "Đạt", "125-QĐ/ĐU", "10/11/2026", "Cấp phường")
    # Every row matches the database.
    for r in [*table(proposed), *rows]:
        record = next(m for m in in_db if m.name == r[1])
        unit_id = (await repo_unit(sessionmaker, record)).id
        assert r[2] == units[unit_id]
    assert table(alone) == []
    assert "Chưa có mô hình nào được công nhận." in [r[0] for r in alone]
    assert MAKER in [v for r in recognised for v in r]


async def repo_unit(sm: async_sessionmaker[AsyncSession], record: ModelYear) -> Unit:
    async with sm() as session:
        return await model_years.unit_of_record(session, record)


async def test_score_sheet_shows_both_columns_and_the_council_verdict(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, decided: dict[str, int]
) -> None:
    async with sessionmaker() as session:
        data = await build_score_sheet(session, world.ward, 2026)
        blank = await build_blank_score_sheet(session, world.ward, 2026)
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Được công nhận C"]
    rows = list(ws.iter_rows(values_only=True))
    body = {r[0]: r for r in rows[8:] if isinstance(r[0], int)}
    council = passing_75()
    for c in rubric.criteria_for("collective"):
        assert body[c.number][3] == c.maximum
        assert body[c.number][4] == council[c.number]
    total = next(r for r in rows if r[1] == rubric.TOTAL_LABEL)
    assert total[3:5] == (100, 75)
    texts = [v for r in rows for v in r if isinstance(v, str)]
    assert "Kết quả tự chấm: Đạt (tổng 100 điểm)." in texts
    assert "Kết quả thẩm định: Đạt (tổng 75 điểm)." in texts
    assert "Kết quả xét công nhận theo điểm thẩm định." in texts
    assert ws.page_setup.fitToHeight == 1
    assert ws.oddFooter.center.text == "Trang &P/&N"
    # A model without council points: one column filled, the verdict its own.
    other = list(wb["Đề xuất A"].iter_rows(values_only=True))
    assert all(r[4] is None for r in other[8:] if isinstance(r[0], int))
    assert "Kết quả: Đạt (tổng 100 điểm)." in [v for r in other for v in r]

    forms = load_workbook(io.BytesIO(blank))
    assert forms.sheetnames == ["Tập thể", "Cá nhân"]
    for name, subject in (("Tập thể", "collective"), ("Cá nhân", "individual")):
        rows = list(forms[name].iter_rows(values_only=True))
        body = {r[0]: r for r in rows[8:] if isinstance(r[0], int)}
        assert [body[c.number][1] for c in rubric.criteria_for(subject)] == [
            c.text for c in rubric.criteria_for(subject)
        ]
        assert all(r[3] is None and r[4] is None for r in body.values())
        assert "Đơn vị: Đảng bộ phường Minh Khai" in [v for r in rows for v in r]


async def test_xuat_and_dvk_export_the_new_sheets(
    core: Core, world: World, decided: dict[str, int], db_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=db_url)
    leader = Chat(core, "hung")
    for words, name in (
        ("dexuat 2026", "Danh_sach_de_nghi_cong_nhan_Dang_bo_phuong_Minh_Khai_2026.xlsx"),
        ("cong nhan 2026", "Danh_sach_duoc_cong_nhan_Dang_bo_phuong_Minh_Khai_2026.xlsx"),
        ("bieuchamdiem trong", "Bieu_cham_diem_trong_Dang_bo_phuong_Minh_Khai_2026.xlsx"),
    ):
        replies = await leader.send(f"/xuat {words}")
        documents = [r.document for r in replies if r.document is not None]
        assert [d.file_name for d in documents] == [name], words
    out = io.StringIO()
    for kind in ("dexuat", "congnhan", "score_blank"):
        status = await run_command(
            ["export", kind, "--year", "2026", "--unit", "minh khai", "-o", str(tmp_path)],
            settings,
            out,
        )
        assert status == 0, out.getvalue()
    recognised = sheet_rows(
        (tmp_path / "Danh_sach_duoc_cong_nhan_Dang_bo_phuong_Minh_Khai_2026.xlsx").read_bytes()
    )
    assert [r[1] for r in table(recognised)] == ["Được công nhận C"]


async def test_dvk_unit_set_signer_changes_every_sheet(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, db_url: str
) -> None:
    settings = Settings(database_url=db_url)
    out = io.StringIO()
    status = await run_command(
        ["unit", "set-signer", "minh khai", "T/M BAN THƯỜNG VỤ"], settings, out
    )
    assert status == 0, out.getvalue()
    assert "Các biểu của Đảng bộ phường Minh Khai do “T/M BAN THƯỜNG VỤ” ký." in out.getvalue()
    async with sessionmaker() as session:
        ward = await session.get(Unit, world.ward.id)
        assert ward is not None
        assert ward.signer_title == "T/M BAN THƯỜNG VỤ"
        sheets = [
            await build(session, ward, 2026)
            for build in (build_proposed, build_recognised, build_blank_score_sheet)
        ]
    for data in sheets:
        wb = load_workbook(io.BytesIO(data))
        values = [v for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r]
        assert "T/M BAN THƯỜNG VỤ" in values
        assert "T/M ĐẢNG ỦY" not in values
    # Back to the kind's default.
    out = io.StringIO()
    assert await run_command(["unit", "set-signer", "minh khai"], settings, out) == 0
    assert "do “T/M ĐẢNG ỦY” ký (mặc định theo loại đơn vị)." in out.getvalue()
    async with sessionmaker() as session:
        ward = await session.get(Unit, world.ward.id)
        assert ward is not None
        assert ward.signer_title is None
