"""Planning reminders (scheduler/planner.py) on SQLite and PostgreSQL, travelling in time.

APScheduler runs for real: the tests move the wall clock (time-machine, not ticking) and
wake the scheduler up, which fires the jobs that are due exactly as it would in production.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import run_command
from bot.runner import writing_first
from bot.settings import Settings
from handlers.core import Core
from scheduler.planner import RESYNC_JOB, ReminderPlanner
from scheduler.slots import Dated, parse_days, plan_slots
from storage.db import make_engine, make_sessionmaker
from storage.models import Account, OutboxMessage, Person, ReminderRun
from tests.helpers import Chat, World, add_person
from tests.test_obligations import add_model, mark

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(year: int, month: int, day: int, hour: int = 8, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def travel() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(local(2026, 1, 1, 0, 0), tick=False) as traveller:
        yield traveller


class Fired:
    """Counts the jobs APScheduler ran (or skipped), and keeps their errors."""

    def __init__(self, planner: ReminderPlanner) -> None:
        self.planner = planner
        self.events = 0
        self.errors: list[BaseException] = []
        planner.scheduler.add_listener(
            self._listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
        )

    def _listen(self, event: JobExecutionEvent) -> None:
        self.events += 1
        if event.exception is not None:
            self.errors.append(event.exception)

    async def due(self) -> int:
        """Wake the scheduler at the current (travelled) time; wait for the jobs it runs."""
        now = datetime.now(UTC)
        due = [
            job
            for job in self.planner.scheduler.get_jobs()
            if job.next_run_time is not None and job.next_run_time <= now
        ]
        if not due:
            return 0
        expected = self.events + len(due)
        self.planner.scheduler.wakeup()
        for _ in range(1000):
            await asyncio.sleep(0.005)
            if self.events >= expected:
                break
        assert self.events >= expected, "APScheduler did not run the due jobs"
        assert not self.errors, self.errors
        return len(due)


@pytest.fixture
async def planners(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[list[ReminderPlanner]]:
    made: list[ReminderPlanner] = []
    yield made
    for planner in made:
        await planner.stop()


def new_planner(
    planners: list[ReminderPlanner], sm: async_sessionmaker[AsyncSession], **kwargs: object
) -> ReminderPlanner:
    planner = ReminderPlanner(sm, channels=writing_first(), **kwargs)  # type: ignore[arg-type]
    planners.append(planner)
    return planner


async def outbox(sm: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sm() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(rows.all())


async def runs(sm: async_sessionmaker[AsyncSession]) -> dict[str, ReminderRun]:
    async with sm() as session:
        return {r.key: r for r in (await session.scalars(select(ReminderRun))).all()}


# --- slots -----------------------------------------------------------------------------


def test_slots_of_a_deadline() -> None:
    assert parse_days("7,3,1,0") == (7, 3, 1, 0)
    assert parse_days(" 0; 1 3 7,7") == (7, 3, 1, 0)
    with pytest.raises(ValueError, match="REMINDER_DAYS"):
        parse_days("7,-1")
    slots = plan_slots(
        [Dated(2026, "registration", "Đăng ký", date(2026, 4, 15))], (7, 3, 1, 0), 8, TZ
    )
    assert [(s.offset, s.at, s.remind, s.digest) for s in slots] == [
        (-7, local(2026, 4, 8), True, False),
        (-3, local(2026, 4, 12), True, False),
        (-1, local(2026, 4, 14), True, False),
        (0, local(2026, 4, 15), True, True),
        (1, local(2026, 4, 16), False, True),
    ]
    assert slots[0].key == "2026:registration:-7:2026-04-15"
    assert slots[0].at.utcoffset() == timedelta(0)  # kept in UTC: 01:00 UTC is 08:00 +07


# --- a whole year ------------------------------------------------------------------------

LAN, MINH, HUNG, TUAN, HOA, MAI = (
    "Nguyễn Thị Lan",
    "Phạm Văn Minh",
    "Trần Văn Hùng",
    "Lê Văn Tuấn",
    "Hoàng Thị Hoa",
    "Đỗ Thị Mai",
)
TG, ZL = "telegram", "zalo"


def rem(*who: tuple[str, str]) -> set[tuple[str, str, str]]:
    return {("rem", name, channel) for name, channel in who}


DIGEST = {("dig", HUNG, TG), ("dig", HUNG, ZL)}
YEAR_EXPECTED: dict[str, set[tuple[str, str, str]]] = {
    # Registration, 15/04: cell 1 (until it registers on 13/04), the women's union (no
    # model); cell 2 and the other commune's cell are done; the ward itself owes none.
    "08/04": rem((LAN, TG), (LAN, ZL), (HOA, ZL)),
    "12/04": rem((LAN, TG), (LAN, ZL), (HOA, ZL)),
    "14/04": rem((HOA, ZL)),
    "15/04": rem((HOA, ZL)) | DIGEST,
    "16/04": DIGEST,
    # Evaluation, 15/11: cell 1's model has neither results nor a score.
    "08/11": rem((LAN, TG), (LAN, ZL)),
    "12/11": rem((LAN, TG), (LAN, ZL)),
    "14/11": rem((LAN, TG), (LAN, ZL)),
    "15/11": rem((LAN, TG), (LAN, ZL), (MINH, TG)) | DIGEST,  # Minh paused: the day only
    "16/11": DIGEST,
    # Unit report, 25/11: cell 1 marks it with /baocao on 20/11.
    "18/11": rem((LAN, TG), (LAN, ZL), (HOA, ZL), (MAI, TG)),
    "22/11": rem((HOA, ZL), (MAI, TG)),
    "24/11": rem((HOA, ZL), (MAI, TG)),
    "25/11": rem((HOA, ZL), (MAI, TG), (MINH, TG)) | DIGEST,
    "26/11": DIGEST,
    # Consolidated, 05/12: the ward waits for cell 2 and the women's union, and for itself.
    "28/11": rem((MAI, TG)),
    "02/12": rem((MAI, TG)),
    "04/12": rem((MAI, TG)),
    "05/12": rem((MAI, TG)) | DIGEST,
    "06/12": DIGEST,
}


async def setup_year(sm: async_sessionmaker[AsyncSession], world: World, now: datetime) -> None:
    async with sm() as session, session.begin():
        session.add(
            Account(person_id=world.officer.id, channel=ZL, external_id="z1001", created_at=now)
        )
        session.add(
            Account(person_id=world.leader.id, channel=ZL, external_id="z2001", created_at=now)
        )
        await add_person(session, HOA, {ZL: "z4001"}, [(world.women, "officer")], now)
        await add_person(session, MAI, {TG: "5001"}, [(world.ward, "officer")], now)
        await session.execute(
            update(Person).where(Person.id == world.multi.id).values(reminders_paused_at=now)
        )
        await add_model(session, world.cell2, 2026, now, results="120 hộ", scored=True)
        await add_model(session, world.other_cell, 2026, now, results="40 hộ", scored=True)
        await mark(session, world.other_cell, 2026, "unit_report", now)


async def test_a_whole_year_of_reminders(
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
    travel: time_machine.Traveller,
    planners: list[ReminderPlanner],
) -> None:
    await setup_year(sessionmaker, world, local(2025, 12, 31, 12))
    planner = new_planner(planners, sessionmaker, resync_seconds=30 * 86400)
    fired = Fired(planner)
    core = Core(sessionmaker)
    await planner.start()
    assert len(planner.jobs()) == 20  # 4 deadlines x (7, 3, 1 days before, the day, the day after)
    day = date(2026, 1, 1)
    while day.year == 2026:
        travel.move_to(local(day.year, day.month, day.day))
        await fired.due()
        if day == date(2026, 4, 13):
            async with sessionmaker() as session, session.begin():
                await add_model(session, world.cell1, 2026, datetime.now(UTC))
        if day == date(2026, 4, 14):
            async with sessionmaker() as session, session.begin():
                await session.execute(
                    update(Account)
                    .where(Account.external_id == "z4001")
                    .values(unreachable_at=datetime.now(UTC), unreachable_reason="403 blocked")
                )
        if day == date(2026, 11, 20):
            lan = Chat(core, "lan")
            await lan.send("/baocao")
            await lan.tap("Đánh dấu đã gửi")
            assert "Xác nhận đơn vị đã gửi báo cáo này?" in lan.last.text
            await lan.tap("Đã gửi")
            assert "Đã ghi nhận: Chi bộ Tổ dân phố 1 đã gửi báo cáo kết quả năm 2026" in lan.text
        day += timedelta(days=1)
    assert planner.jobs() == {}  # every slot of the year ran

    async with sessionmaker() as session:
        names = dict((await session.execute(select(Person.id, Person.full_name))).all())
    rows = await outbox(sessionmaker)
    got: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for row in rows:
        when = row.created_at.astimezone(TZ)
        assert when.hour == 8  # written by the 08:00 jobs
        assert row.person_id is not None
        got[when.strftime("%d/%m")].add((row.key[:3], names[row.person_id], row.channel))
        assert row.status == "pending"
        assert row.kind == ("digest" if row.key.startswith("dig:") else "reminder")
    assert dict(got) == YEAR_EXPECTED
    assert len(rows) == sum(len(v) for v in YEAR_EXPECTED.values())  # nobody twice a day
    assert TUAN not in {names[r.person_id] for r in rows if r.person_id}  # his unit is done
    minh = [r for r in rows if r.person_id == world.multi.id]
    assert minh
    assert all(":0:" in r.key for r in minh)  # paused: the deadline day only

    def text(day_month: str, person: str, channel: str, prefix: str = "rem") -> str:
        for row in rows:
            if (
                row.created_at.astimezone(TZ).strftime("%d/%m") == day_month
                and row.person_id is not None
                and names[row.person_id] == person
                and row.channel == channel
                and row.key.startswith(prefix)
            ):
                return row.text
        raise AssertionError((day_month, person, channel))

    assert (
        text("08/04", LAN, TG)
        == text("08/04", LAN, ZL)
        == (
            "Nhắc hạn “Đăng ký mô hình”: hạn 15/04/2026 (còn 7 ngày).\n"
            "Chi bộ Tổ dân phố 1 còn thiếu:\n"
            "• chưa đăng ký mô hình nào — gõ /dangky\n"
            "Gõ /lich để xem các hạn trong năm; /nhacnho tat để tạm dừng nhắc trước hạn."
        )
    )
    assert text("15/11", MINH, TG) == (
        "Nhắc hạn “Đánh giá, đề nghị công nhận mô hình”: hạn 15/11/2026 (hôm nay là hạn chót).\n"
        "Chi bộ Tổ dân phố 1 còn thiếu:\n"
        "• 1 mô hình chưa nhập kết quả — gõ /ketqua\n"
        "• 1 mô hình chưa chấm điểm — gõ /chamdiem\n"
        "Đồng chí đang tạm dừng nhắc trước hạn; tin nhắc vào ngày hạn chót vẫn được gửi. "
        "Gõ /nhacnho bat để nhận lại."
    )
    assert text("15/04", HUNG, ZL, "dig") == (
        "Tổng hợp hạn “Đăng ký mô hình” — 15/04/2026 (hôm nay là hạn chót).\n"
        "Đảng bộ phường Minh Khai: 1/4 đơn vị chưa xong:\n"
        "• Hội LHPN phường: chưa đăng ký mô hình nào\n"
        "Chưa nhắn được qua trợ lý (đã chặn bot), nên gọi điện trực tiếp:\n"
        "• Hoàng Thị Hoa — Hội LHPN phường (Zalo, từ 14/04/2026)\n"
        "Xem chi tiết: /tonghop"
    )
    assert "(đã quá hạn 1 ngày)" in text("16/04", HUNG, TG, "dig")
    assert text("05/12", HUNG, TG, "dig").startswith(
        "Tổng hợp hạn “Báo cáo tổng hợp gửi Tỉnh ủy” — 05/12/2026 (hôm nay là hạn chót).\n"
        "Đảng bộ phường Minh Khai: 1/4 đơn vị chưa xong:\n"
        "• Đảng bộ phường Minh Khai: 2 đơn vị trực thuộc chưa gửi báo cáo năm: "
        "Chi bộ Tổ dân phố 2, Hội LHPN phường; chưa đánh dấu đã gửi báo cáo tổng hợp"
    )
    recorded = await runs(sessionmaker)
    assert len(recorded) == 20
    assert {r.status for r in recorded.values()} == {"done"}
    assert sum(r.messages for r in recorded.values()) == len(rows)
    assert recorded["2026:registration:-7:2026-04-15"].messages == 3


# --- catching up after a downtime -----------------------------------------------------------


async def test_a_time_missed_within_the_grace_window_is_sent_late(
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
    travel: time_machine.Traveller,
    planners: list[ReminderPlanner],
) -> None:
    woken: list[int] = []
    travel.move_to(local(2026, 4, 8, 19, 30))  # 11 h 30 after the 08:00 reminder
    planner = new_planner(planners, sessionmaker, on_enqueued=lambda: woken.append(1))
    await planner.start()
    recorded = await runs(sessionmaker)
    assert list(recorded) == ["2026:registration:-7:2026-04-15"]
    assert recorded["2026:registration:-7:2026-04-15"].status == "done"
    rows = await outbox(sessionmaker)
    # Lan (cell 1), Minh (cells 1 and 2), Tuấn (the other commune's cell): Telegram only,
    # their terminal accounts get nothing.
    assert sorted(r.key for r in rows) == sorted(
        f"rem:2026:registration:-7:p{p.id}:telegram"
        for p in (world.officer, world.multi, world.outsider)
    )
    assert all(r.created_at == local(2026, 4, 8, 19, 30) for r in rows)
    assert woken == [1]
    assert planner.jobs()["2026:registration:-3:2026-04-15"] == local(2026, 4, 12)
    multi = next(r for r in rows if r.person_id == world.multi.id)
    assert "Chi bộ Tổ dân phố 1 còn thiếu" in multi.text
    assert "Chi bộ Tổ dân phố 2 còn thiếu" in multi.text


async def test_times_missed_longer_than_the_grace_window_are_skipped_with_the_reason(
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
    travel: time_machine.Traveller,
    planners: list[ReminderPlanner],
) -> None:
    travel.move_to(local(2026, 4, 12, 10, 0))  # down since before 08/04
    planner = new_planner(planners, sessionmaker)
    await planner.start()
    recorded = await runs(sessionmaker)
    skipped = recorded["2026:registration:-7:2026-04-15"]
    assert skipped.status == "skipped"
    assert skipped.messages == 0
    assert skipped.reason == (
        "Không gửi: lúc 08:00 08/04/2026 trợ lý không chạy, đã quá 12 giờ cho phép gửi bù. / "
        "Not sent: the bot was not running at 2026-04-08 08:00 +0700, past the 12 h grace window."
    )
    assert recorded["2026:registration:-3:2026-04-15"].status == "done"  # 2 h late: sent
    assert {r.key.split(":")[3] for r in await outbox(sessionmaker)} == {"-3"}
    count = len(await outbox(sessionmaker))
    # Restarting changes nothing: both times are recorded.
    await planner.stop()
    again = new_planner(planners, sessionmaker)
    await again.start()
    assert len(await outbox(sessionmaker)) == count
    assert len(await runs(sessionmaker)) == 2
    assert "2026:registration:-1:2026-04-15" in again.jobs()


async def test_a_slot_run_twice_or_by_two_planners_writes_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    db_url: str,
    world: World,
    travel: time_machine.Traveller,
    planners: list[ReminderPlanner],
) -> None:
    travel.move_to(local(2026, 4, 8, 8, 0))
    other_engine = make_engine(db_url)
    try:
        first = new_planner(planners, sessionmaker)
        second = new_planner(planners, make_sessionmaker(other_engine))
        await asyncio.gather(first.start(), second.start())
        rows = await outbox(sessionmaker)
        assert len(rows) == 3
        assert len({r.key for r in rows}) == 3
        assert len(await runs(sessionmaker)) == 1
        slot = next(s for s in await first.slots() if s.key == "2026:registration:-7:2026-04-15")
        assert await first.run_slot(slot) == 0
        assert await second.run_slot(slot) == 0
        await first.sync()
        await second.sync()
        assert len(await outbox(sessionmaker)) == 3
        async with sessionmaker() as session:
            count = await session.scalar(select(func.count(ReminderRun.id)))
        assert count == 1
        # Both planners hold the same future jobs; whichever fires first writes.
        assert first.jobs() == second.jobs()
        travel.move_to(local(2026, 4, 12, 8, 0))
        one, two = Fired(first), Fired(second)
        await asyncio.gather(one.due(), two.due())
        keys = [r.key for r in await outbox(sessionmaker)]
        assert len(keys) == len(set(keys)) == 6
    finally:
        for planner in planners:
            await planner.stop()
        await other_engine.dispose()


# --- changing a deadline moves the jobs -----------------------------------------------------


async def test_hanchot_in_chat_moves_the_jobs_at_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
    travel: time_machine.Traveller,
    planners: list[ReminderPlanner],
) -> None:
    async with sessionmaker() as session, session.begin():
        await add_person(
            session, "Vũ Văn Quản", {"terminal": "qt"}, [(world.ward, "admin")], datetime.now(UTC)
        )
    travel.move_to(local(2026, 3, 2, 9, 0))
    planner = new_planner(planners, sessionmaker)
    await planner.start()
    old = "2026:registration:-7:2026-04-15"
    assert planner.jobs()[old] == local(2026, 4, 8)
    core = Core(sessionmaker, on_deadlines_changed=planner.resync)
    admin = Chat(core, "qt")
    await admin.send("/hanchot")
    await admin.send("dang ky")
    await admin.send("30/04/2026")
    await admin.tap("Lưu")
    assert "15/04/2026 → 30/04/2026" in admin.text
    await planner.idle()
    jobs = planner.jobs()
    assert jobs["2026:registration:-7:2026-04-30"] == local(2026, 4, 23)
    assert jobs["2026:registration:1:2026-04-30"] == local(2026, 5, 1)
    job = planner.scheduler.get_job("reminder:2026:registration:0:2026-04-30")
    assert job is not None
    assert job.next_run_time == local(2026, 4, 30)
    # The other commune did not move: its units keep the default date and its jobs.
    assert jobs[old] == local(2026, 4, 8)
    assert len(jobs) == 25
    # Once no unit keeps the old date, its jobs go.
    other = Chat(Core(sessionmaker, on_deadlines_changed=planner.resync), "qt2")
    async with sessionmaker() as session, session.begin():
        await add_person(
            session,
            "Lò Văn Xã",
            {"terminal": "qt2"},
            [(world.other_ward, "admin")],
            datetime.now(UTC),
        )
    await other.answers("/hanchot", "dang ky", "30/04/2026")
    await other.tap("Lưu")
    await planner.idle()
    jobs = planner.jobs()
    assert old not in jobs
    assert len(jobs) == 20


async def test_dvk_campaign_set_moves_the_jobs_at_the_next_resync(
    sessionmaker: async_sessionmaker[AsyncSession],
    db_url: str,
    world: World,
    travel: time_machine.Traveller,
    planners: list[ReminderPlanner],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env for the command line's settings
    travel.move_to(local(2026, 11, 1, 9, 0))
    planner = new_planner(planners, sessionmaker, resync_seconds=60)
    fired = Fired(planner)
    await planner.start()
    resync = planner.scheduler.get_job(RESYNC_JOB)
    assert resync is not None
    assert resync.trigger.interval == timedelta(seconds=60)
    assert planner.jobs()["2026:consolidated:-7:2026-12-05"] == local(2026, 11, 28)
    code = await run_command(
        ["campaign", "set", "--unit", "Đảng bộ phường Minh Khai", "tonghop", "10/12/2026"],
        Settings(database_url=db_url),
    )
    assert code == 0
    assert "2026:consolidated:-7:2026-12-10" not in planner.jobs()  # not yet
    travel.move_to(local(2026, 11, 1, 9, 1))
    assert await fired.due() == 1  # the periodic re-read
    jobs = planner.jobs()
    # The other commune keeps the default date: its jobs stay.
    assert jobs["2026:consolidated:-7:2026-12-05"] == local(2026, 11, 28)
    assert jobs["2026:consolidated:-7:2026-12-10"] == local(2026, 12, 3)
    assert jobs["2026:consolidated:1:2026-12-10"] == local(2026, 12, 11)
