"""Deadlines belong to a level's subtree: a ward's plan for its units, a cell's own date for
itself, and a deadline reopened for one unit by a leader; reminders follow each unit's date.
Existing databases keep their dates as the top level's. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core import Core
from scheduler.compose import compose
from scheduler.slots import Slot
from storage import deadlines
from storage.db import is_sqlite, make_engine, upgrade
from storage.models import AuditLog, Deadline, ModelYear, OutboxMessage, Unit
from tests.conftest import PG_URL
from tests.helpers import Chat, Clock, World, add_person, new_model
from tests.test_reminder_plan import local, new_planner, writing_first


async def unit(sm: async_sessionmaker[AsyncSession], unit_id: int) -> Unit:
    async with sm() as session:
        found = await session.get(Unit, unit_id)
        assert found is not None
        return found


async def due(sm: async_sessionmaker[AsyncSession], unit_id: int, kind: str) -> deadlines.Due:
    async with sm() as session:
        return await deadlines.due_for(session, await unit(sm, unit_id), 2026, kind)


@pytest.fixture
async def cell_admin(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> Chat:
    async with sessionmaker() as session, session.begin():
        await add_person(
            session, "Đặng Văn Chi", {"terminal": "chi"}, [(world.cell1, "admin")], clock()
        )
    return Chat(Core(sessionmaker, clock=clock), "chi")


async def test_a_cells_admin_sets_its_own_date_not_the_wards(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, cell_admin: Chat
) -> None:
    await cell_admin.send("/hanchot")
    # Only the level this admin holds: the cell, picked for them.
    assert "Đơn vị: Chi bộ Tổ dân phố 1 (chỉ có một đơn vị phù hợp" in cell_admin.text
    await cell_admin.answers("dang ky", "20/04/2026")
    await cell_admin.tap("Lưu")
    assert "Chi bộ Tổ dân phố 1 và các đơn vị trực thuộc: 15/04/2026 → 20/04/2026" in (
        cell_admin.text
    )
    cell = await due(sessionmaker, world.cell1.id, "registration")
    sibling = await due(sessionmaker, world.cell2.id, "registration")
    ward = await due(sessionmaker, world.ward.id, "registration")
    assert (cell.due_on, cell.set_by) == (date(2026, 4, 20), world.cell1.id)
    assert (sibling.due_on, sibling.set_by) == (date(2026, 4, 15), None)
    assert (ward.due_on, ward.set_by) == (date(2026, 4, 15), None)


async def test_a_ward_plan_reaches_its_units_until_a_lower_level_sets_its_own(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    async with sessionmaker() as session, session.begin():
        ward = await session.get(Unit, world.ward.id)
        cell = await session.get(Unit, world.cell1.id)
        assert ward is not None
        assert cell is not None
        await deadlines.set_deadline(
            session, ward, 2026, "unit_report", date(2026, 11, 20), clock()
        )
        await deadlines.set_deadline(
            session, cell, 2026, "unit_report", date(2026, 11, 18), clock()
        )
    assert (await due(sessionmaker, world.cell2.id, "unit_report")).due_on == date(2026, 11, 20)
    assert (await due(sessionmaker, world.cell1.id, "unit_report")).due_on == date(2026, 11, 18)
    assert (await due(sessionmaker, world.other_cell.id, "unit_report")).due_on == date(
        2026, 11, 25
    )
    # A new date of the ward: the cell with its own keeps it, and the admin is told.
    async with sessionmaker() as session, session.begin():
        await add_person(
            session, "Vũ Văn Quản", {"terminal": "qt"}, [(world.ward, "admin")], clock()
        )
    admin = Chat(Core(sessionmaker, clock=clock), "qt")
    await admin.answers("/hanchot", "bao cao", "22/11/2026")
    await admin.tap("Lưu")
    assert "Các đơn vị đã tự đặt hạn riêng giữ hạn của mình: Chi bộ Tổ dân phố 1." in admin.text
    assert (await due(sessionmaker, world.cell1.id, "unit_report")).due_on == date(2026, 11, 18)
    assert (await due(sessionmaker, world.cell2.id, "unit_report")).due_on == date(2026, 11, 22)


async def test_reminders_follow_each_units_date(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    async with sessionmaker() as session, session.begin():
        cell = await session.get(Unit, world.cell1.id)
        assert cell is not None
        await deadlines.set_deadline(
            session, cell, 2026, "registration", date(2026, 4, 10), clock()
        )
    with time_machine.travel(local(2026, 3, 1, 9, 0), tick=False):
        planner = new_planner([], sessionmaker)
        slots = {s.key: s for s in await planner.slots()}
    # The cell's own date gives its own slots, keyed by its level; the default stays for the
    # others (the other cells, the other commune).
    lower = slots[f"2026:registration:0:2026-04-10:u{world.cell1.id}"]
    top = slots["2026:registration:0:2026-04-15"]
    assert (lower.level, lower.top) == (f"u{world.cell1.id}", False)
    assert (top.level, top.top) == ("d", True)
    async with sessionmaker() as session:
        cell_msgs = await compose(session, lower, writing_first())
        top_msgs = await compose(session, top, writing_first())
    # The officers of cell 1 (Lan; Minh, who also has cell 2) are reminded of cell 1 on the
    # cell's date; on the default date Lan gets nothing and Minh only cell 2.
    assert {m.person_id for m in cell_msgs if m.kind == "reminder"} == {
        world.officer.id,
        world.multi.id,
    }
    on_default = {m.person_id: m.text for m in top_msgs if m.kind == "reminder"}
    assert world.officer.id not in on_default
    assert "Chi bộ Tổ dân phố 2" in on_default[world.multi.id]
    assert "Chi bộ Tổ dân phố 1" not in on_default[world.multi.id]
    assert all(":u" in m.key for m in cell_msgs)  # the level is in the outbox keys too


async def test_a_leader_reopens_a_passed_deadline_for_one_unit(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock, core: Core
) -> None:
    record_id = await new_model(sessionmaker, world.cell1, "Mô hình A", clock)
    clock.now = local(2026, 11, 20, 9, 0).astimezone(UTC)  # after 15/11
    lan = Chat(core, "lan")
    await lan.send("/ketqua")
    assert "Đã quá hạn đánh giá mô hình năm 2026 (15/11/2026)" in lan.text
    assert "đề nghị lãnh đạo Đảng bộ phường Minh Khai (Trần Văn Hùng) mở lại hạn" in lan.text
    await lan.send("/lich")
    assert "gõ /ketqua" not in lan.text
    # The leader reopens the evaluation for cell 1 only.
    hung = Chat(core, "hung")
    await hung.send("/giahan")
    assert "Mở lại hạn cho đơn vị nào?" in hung.text
    await hung.send("Chi bộ Tổ dân phố 1")
    await hung.send("danh gia")
    await hung.send("10/11/2026")
    assert "Ngày hạn mới không thể ở trước hôm nay (20/11/2026)." in hung.text
    await hung.send("30/11/2026")
    await hung.tap("Lưu")
    assert hung.text.startswith(
        "Đã mở lại hạn “Đánh giá, đề nghị công nhận mô hình” năm 2026 cho Chi bộ Tổ dân phố 1 "
        "đến hết ngày 30/11/2026."
    )
    assert "Đã báo cho: Nguyễn Thị Lan, Phạm Văn Minh." in hung.text
    async with sessionmaker() as session:
        notices = (await session.scalars(select(OutboxMessage))).all()
        audit = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "extend_deadline"))
        ).all()
    assert {(n.person_id, n.kind) for n in notices} == {
        (world.officer.id, "notice"),
        (world.multi.id, "notice"),
    }
    assert "đến hết ngày 30/11/2026" in notices[0].text
    assert [a.details["until"] for a in audit] == ["2026-11-30"]
    # The officer may now enter the results; the other cell may not.
    await lan.send("/lich")
    assert "được gia hạn đến 30/11/2026" in lan.text
    await lan.send("/ketqua")
    await lan.answers("215 hộ tham gia, 1,2 km đường", "xay dung moi")
    await lan.tap("Lưu")
    assert "Đã lưu kết quả năm 2026" in lan.text
    async with sessionmaker() as session:
        record = await session.get(ModelYear, record_id)
        assert record is not None
        assert record.results == "215 hộ tham gia, 1,2 km đường"
    clock.now = local(2026, 12, 1, 9, 0).astimezone(UTC)  # the extension is over too
    await lan.send("/ketqua")
    assert "Đã quá hạn đánh giá mô hình năm 2026 (30/11/2026)" in lan.text


async def test_only_leaders_reopen_and_only_below_them(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, core: Core
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/giahan")
    assert lan.text.startswith("Lệnh /giahan dành cho lãnh đạo")
    hung = Chat(core, "hung")
    await hung.send("/giahan")
    names = [o.label for o in hung.last.options]
    assert "Chi bộ Tổ dân phố 1" in names
    assert "Chi bộ thôn Đồng Tâm" not in names  # another commune
    await hung.send("Chi bộ thôn Đồng Tâm")
    assert "Chưa nhận ra lựa chọn" in hung.text


async def test_the_proposal_refusal_names_its_own_reason(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock, core: Core
) -> None:
    await new_model(sessionmaker, world.cell1, "Mô hình A", clock, results="120 hộ")
    clock.now = local(2026, 11, 20, 9, 0).astimezone(UTC)
    lan = Chat(core, "lan")
    await lan.send("/dexuat")
    assert lan.text.startswith("Đã quá hạn đề xuất công nhận mô hình năm 2026 (15/11/2026).")
    assert "kết quả và điểm" not in lan.text


@pytest.fixture
async def blank_url(db_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the same kind as ``db_url``."""
    if is_sqlite(db_url):
        yield f"sqlite+aiosqlite:///{tmp_path / 'blank.sqlite3'}"
        return
    name = f"dvk_blank_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.mark.parametrize("roots", [0, 1, 2])
async def test_a_database_from_before_keeps_its_dates_as_the_top_levels(
    blank_url: str, roots: int
) -> None:
    engine = make_engine(blank_url)
    try:
        await upgrade(engine, "0006")
        now = datetime(2026, 3, 1)  # stored as naive UTC
        async with engine.begin() as conn:
            for n in range(roots):
                await conn.execute(
                    text(
                        "INSERT INTO units (id, name, kind, parent_id, path, created_at) "
                        "VALUES (:id, :name, 'phuong', NULL, :path, :at)"
                    ),
                    {"id": n + 1, "name": f"Phường {n + 1}", "path": f"/{n + 1}/", "at": now},
                )
            await conn.execute(
                text("INSERT INTO campaigns (id, year, created_at) VALUES (1, 2026, :at)"),
                {"at": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO deadlines (campaign_id, kind, title, due_on) "
                    "VALUES (1, 'registration', 'Đăng ký mô hình', :d)"
                ),
                {"d": date(2026, 4, 30)},
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(Deadline.unit_id, Deadline.kind, Deadline.due_on).order_by(
                        Deadline.unit_id
                    )
                )
            ).all()
        # Every top level gets the dates; without any unit they were the defaults.
        assert [tuple(r) for r in rows] == [
            (n + 1, "registration", date(2026, 4, 30)) for n in range(roots)
        ]
    finally:
        await engine.dispose()


def test_a_slot_of_a_lower_level_has_its_own_keys() -> None:
    at = local(2026, 4, 10).astimezone(UTC)
    top = Slot(2026, "registration", "Đăng ký mô hình", date(2026, 4, 15), 0, at, True, True)
    lower = Slot(
        2026, "registration", "Đăng ký mô hình", date(2026, 4, 10), 0, at, True, True, "u7", False
    )
    # The top level's keys are those of before; a lower level's carry it.
    assert top.key == "2026:registration:0:2026-04-15"
    assert lower.key == "2026:registration:0:2026-04-10:u7"
