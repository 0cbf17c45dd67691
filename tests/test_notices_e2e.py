"""`dvk run` end to end with the outbox: a review decision reaches the officer on Telegram
and on Zalo, and a reminder time missed while the bot was down is caught up at start."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_app
from bot.runner import run
from scheduler.outbox import Outgoing, enqueue
from storage.models import Account, AuditLog, ModelYear, OutboxMessage, ReminderRun
from tests.conftest import TZ
from tests.evaluation_helpers import add_record, passing_75
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.helpers import Clock, World
from tests.test_run import settings_for
from tests.test_zalo_e2e import ZaloUser
from tests.tg_harness import TgUser

NAME = "Dân vận khéo thu gom rác thải"
ZALO_LAN = "z-lan-0001"


@pytest.fixture
async def servers() -> AsyncIterator[tuple[FakeTelegram, FakeZalo]]:
    async with FakeTelegram() as tg, FakeZalo() as zalo:
        yield tg, zalo


async def link_zalo(sm: async_sessionmaker[AsyncSession], world: World, clock: Clock) -> None:
    async with sm() as session, session.begin():
        session.add(
            Account(
                person_id=world.officer.id,
                channel="zalo",
                external_id=ZALO_LAN,
                display_name="Lan",
                created_at=clock(),
            )
        )


async def test_review_round_trip_notices_arrive_on_telegram_and_zalo(
    db_url: str,
    servers: tuple[FakeTelegram, FakeZalo],
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    tmp_path: Path,
) -> None:
    tg, zalo = servers
    record_id = await add_record(
        sessionmaker, world.cell1, clock(), results="150 hộ tham gia", points=passing_75()
    )
    await link_zalo(sessionmaker, world, clock)
    app = await build_app(settings_for(db_url, tg, zalo, tmp_path), clock=clock, migrate=False)
    stop = asyncio.Event()
    task = asyncio.create_task(run(app, False, io.StringIO(), stop))
    try:
        await tg.wait_for_call("getUpdates")
        await zalo.wait_for_call("getUpdates")
        lan, leader, lan_zalo = TgUser(tg, 1001), TgUser(tg, 2001), ZaloUser(zalo, ZALO_LAN)
        # 1. The officer proposes on Telegram (the unit's only model: picked for her).
        await lan.say("/dexuat")
        assert f"Mô hình: “{NAME} — chưa đề xuất công nhận” (mô hình duy nhất" in lan.text
        assert "Tổng điểm: 75/100" in lan.text
        assert lan.last.button_texts[:2] == ["Có, gửi đề xuất", "Không"]
        await lan.say("co")
        assert f"Đã đề xuất công nhận mô hình “{NAME}”" in lan.text

        # 2. The leader rejects it with a reason; the notice reaches Lan on both platforms
        # (and her colleague on Telegram), without the leader waiting for it.
        tg.mark(1001)
        tg.mark(1002)
        zalo.mark(ZALO_LAN)
        await leader.say("/duyet")
        assert f"Mô hình chờ duyệt duy nhất: {NAME} — " in leader.text
        await leader.say("khong cong nhan")
        await leader.say("Chưa có minh chứng số hộ tham gia")
        await leader.say("xac nhan")
        assert "Đã ghi quyết định" in leader.text
        [on_tg] = await tg.wait_for_messages(1001, 1)
        [on_zalo] = await zalo.wait_for_messages(ZALO_LAN, 1)
        [colleague] = await tg.wait_for_messages(1002, 1)
        for notice in (on_tg.plain_text, on_zalo.text, colleague.plain_text):
            assert "chưa được công nhận. Lý do: Chưa có minh chứng số hộ tham gia" in notice

        # 3. She fixes the results on Zalo and proposes again there.
        await lan_zalo.say("/ketqua")
        assert f"Mô hình: “{NAME} — đã có kết quả” (mô hình duy nhất" in lan_zalo.last
        assert "Bước 1/2" in lan_zalo.last
        assert "(Hiện tại: 150 hộ tham gia)" in lan_zalo.last
        await lan_zalo.say("thêm ảnh")  # no figure: asked again
        assert "ít nhất một con số" in lan_zalo.last
        await lan_zalo.say("150 hộ tham gia, 2 tấn rác thu gom mỗi tháng")
        await lan_zalo.say("xay dung moi")
        assert "kiểm tra lại trước khi lưu" in lan_zalo.last
        await lan_zalo.say("luu")
        assert "Đã lưu" in lan_zalo.last
        await lan_zalo.say("/dexuat")
        assert "Gửi đề xuất công nhận mô hình này lên lãnh đạo?" in lan_zalo.last
        await lan_zalo.say("co")
        assert "Đã đề xuất công nhận" in lan_zalo.last

        # 4. The leader recognises it; the notice arrives on both platforms again (and to her
        # colleague: every notice is awaited before the runner stops, so none is in flight).
        tg.mark(1001)
        tg.mark(1002)
        zalo.mark(ZALO_LAN)
        await leader.say("/duyet")
        assert f"Mô hình chờ duyệt duy nhất: {NAME} — " in leader.text
        await leader.say("cong nhan")
        # The decision: its number typed, its date and level left for later.
        await leader.say("125-QĐ/ĐU")
        await leader.say("bo qua")
        await leader.say("bo qua")
        await leader.say("xac nhan")
        assert "Đã ghi quyết định" in leader.text
        [on_tg] = await tg.wait_for_messages(1001, 1)
        [on_zalo] = await zalo.wait_for_messages(ZALO_LAN, 1)
        [colleague] = await tg.wait_for_messages(1002, 1)
        for notice in (on_tg.plain_text, on_zalo.text, colleague.plain_text):
            assert "được công nhận" in notice
            assert "chưa được công nhận" not in notice
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await app.close()

    async with sessionmaker() as session:
        record = await session.get(ModelYear, record_id)
        assert record is not None
        assert record.review == "recognised"
        assert record.results == "150 hộ tham gia, 2 tấn rác thu gom mỗi tháng"
        statuses = (await session.scalars(select(OutboxMessage.status))).all()
        assert len(statuses) >= 5
        assert set(statuses) == {"sent"}
        entries = (
            await session.scalars(
                select(AuditLog).where(AuditLog.entity_id == record_id).order_by(AuditLog.id)
            )
        ).all()
    officer_id, leader_id = world.officer.id, world.leader.id
    reason = "Chưa có minh chứng số hộ tham gia"
    # Every step, in order, with who, on which platform, and why.
    assert [
        (e.entity, e.action, e.person_id, e.via_channel, e.details.get("decision")) for e in entries
    ] == [
        ("model_year", "propose", officer_id, "telegram", None),
        ("model_year", "review", leader_id, "telegram", "not_recognised"),
        ("model_year", "results", officer_id, "zalo", None),
        ("model_year", "propose", officer_id, "zalo", None),
        ("model_year", "review", leader_id, "telegram", "recognised"),
    ]
    assert entries[1].details["reason"] == reason


async def test_a_reminder_missed_while_down_is_sent_at_start_and_leftovers_too(
    db_url: str,
    servers: tuple[FakeTelegram, FakeZalo],
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    """The bot starts at 09:00 on 15/4, an hour after the deadline-day reminder time: the
    officers of units without a model get it now; a message left unsent in the outbox by
    the previous run goes out too; the reminders a week and days before are skipped."""
    tg, zalo = servers
    clock = Clock(datetime(2026, 4, 15, 9, 0, tzinfo=TZ).astimezone(UTC))
    await link_zalo(sessionmaker, world, clock)
    async with sessionmaker() as session, session.begin():
        session.add(
            OutboxMessage(
                key="notice:left-over",
                channel="zalo",
                chat_id=ZALO_LAN,
                person_id=world.officer.id,
                kind="notice",
                text="Tin nhắn còn lại từ lần chạy trước",
                status="sending",
                attempts=1,
                not_before=clock(),
                claimed_by="dead-process",
                claimed_until=datetime(2026, 4, 15, 1, 0, tzinfo=UTC),
                created_at=clock(),
            )
        )
    app = await build_app(settings_for(db_url, tg, zalo, tmp_path), clock=clock, migrate=False)
    stop = asyncio.Event()
    task = asyncio.create_task(run(app, False, io.StringIO(), stop))
    try:
        [reminder] = await tg.wait_for_messages(1001, 1)
        got = await zalo.wait_for_messages(ZALO_LAN, 2)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await app.close()
    assert "15/04/2026" in reminder.plain_text
    assert "/dangky" in reminder.plain_text
    texts = sorted(m.text for m in got)
    assert texts[1] == "Tin nhắn còn lại từ lần chạy trước"
    assert "15/04/2026" in texts[0]
    async with sessionmaker() as session:
        runs = {
            r.key.rsplit(":", 1)[0]: r.status
            for r in (
                await session.scalars(
                    select(ReminderRun).where(ReminderRun.deadline_kind == "registration")
                )
            ).all()
            if r.year == 2026
        }
    assert runs == {
        "2026:registration:-7": "skipped",
        "2026:registration:-3": "skipped",
        "2026:registration:-1": "skipped",
        "2026:registration:0": "done",
    }


async def test_replies_share_the_rate_with_a_broadcast(
    db_url: str,
    servers: tuple[FakeTelegram, FakeZalo],
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    tmp_path: Path,
) -> None:
    """While 40 reminders go out at the bot's whole rate, an officer's messages are answered
    and the platform never sees more than the rate in a second: replies take their slots."""
    tg, zalo = servers
    rate = 10
    tg.enforce_limits(rate, None)
    async with sessionmaker() as session, session.begin():
        await enqueue(
            session,
            [
                Outgoing(f"test:{n}", "telegram", str(900_000 + n), f"Nhắc hạn số {n}")
                for n in range(40)
            ],
            clock(),
        )
    settings = settings_for(db_url, tg, zalo, tmp_path)
    settings.telegram_rate_per_second = rate
    app = await build_app(settings, clock=clock, migrate=False)
    stop = asyncio.Event()
    task = asyncio.create_task(run(app, False, io.StringIO(), stop))
    try:
        await tg.wait_for_call("getUpdates")
        lan = TgUser(tg, 1001)
        for _ in range(5):
            await lan.say("/trogiup")
        for n in range(40):
            await tg.wait_for_messages(900_000 + n, 1)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await app.close()
    assert tg.flood.refused() == []
    reminders = sorted(a.chat_id for a in tg.flood.accepted if a.chat_id != "1001")
    assert reminders == sorted(str(900_000 + n) for n in range(40))  # each once
    assert len([a for a in tg.flood.accepted if a.chat_id == "1001"]) == 5
