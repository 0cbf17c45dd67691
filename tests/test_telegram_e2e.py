"""End to end: the real aiogram bot against a fake Telegram Bot API server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram import TelegramChannel
from handlers.core import Core
from handlers.help import MENU
from storage.models import Membership, ModelYear, Person
from tests.fake_telegram import FakeTelegram
from tests.helpers import Clock, InFlight, World
from tests.tg_harness import RunningBot, TgUser, running_bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram, core: Core, world: World) -> AsyncIterator[RunningBot]:
    async with running_bot(fake, core) as running:
        yield running


async def saved(sm: async_sessionmaker[AsyncSession]) -> list[ModelYear]:
    async with sm() as session:
        return list((await session.scalars(select(ModelYear).where(ModelYear.year == 2026))).all())


async def test_invited_officer_joins_and_registers_by_buttons(
    fake: FakeTelegram,
    bot: RunningBot,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    commands = fake.calls_of("setMyCommands")
    menu = [c["command"] for c in commands[0]["commands"]]
    assert menu == [name for name, _ in MENU]
    assert menu[:5] == ["dangky", "mohinh", "tonghop", "xuat", "vanban"]
    assert {"lich", "baocao", "nhacnho", "hanchot"} <= set(menu)
    assert menu[-3:] == ["lienket", "huy", "trogiup"]
    user = TgUser(fake, 5001, "Hoa")
    await user.say(f"/start {world.invites['cell2']}")
    assert "họ và tên" in user.last.plain_text
    await user.say("Đỗ Thị Hoa")
    assert "Chào Đỗ Thị Hoa! Đồng chí đã tham gia Chi bộ Tổ dân phố 2" in user.last.plain_text

    await user.say("/dangky")
    assert "Bước 1/7" in user.last.plain_text  # one unit, nothing to keep: 7 steps
    await user.say("Nuôi ong lấy mật <giảm nghèo>")
    for data in (d for m in user.got for _, d in m.buttons):
        assert len(data.encode()) <= 64
    await user.tap("Kinh tế (KT)")
    await user.tap("Cá nhân")
    assert "Họ và tên cá nhân" in user.last.plain_text
    await user.say("Bà Nguyễn Thị Mận")
    await user.say("Tổ dân phố 2")
    await user.tap("Hội Nông dân")
    await user.say("15 hộ, 120 đàn ong")
    assert "kiểm tra lại trước khi lưu" in user.last.plain_text
    assert "Nuôi ong lấy mật <giảm nghèo>" in user.last.plain_text  # escaped, shown as typed
    assert "Nuôi ong lấy mật &lt;giảm nghèo&gt;" in user.last.text
    assert user.last.parse_mode == "HTML"
    await user.tap("Lưu")
    assert "✅ Đã lưu mô hình xây dựng mới năm 2026 của Chi bộ Tổ dân phố 2" in user.last.plain_text

    records = await saved(sessionmaker)
    assert [(r.name, r.field, r.subject, r.lead_body) for r in records] == [
        ("Nuôi ong lấy mật <giảm nghèo>", "KT", "individual", "Hội Nông dân")
    ]
    async with sessionmaker() as session:
        person = await session.scalar(select(Person).where(Person.full_name == "Đỗ Thị Hoa"))
        assert person is not None
        roles = (
            await session.scalars(select(Membership.role).where(Membership.person_id == person.id))
        ).all()
    assert roles == ["officer"]


async def test_officer_registers_by_typed_answers_without_diacritics(
    fake: FakeTelegram, bot: RunningBot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = TgUser(fake, 1001)
    await user.say("/dangky")
    for answer in (
        "xay dung moi",
        "Tu quan duong lang",
        "quoc phong an ninh",
        "TAP THE",
        "To tu quan so 1",
        "To dan pho 1",
        "  chi   bo ",
        "2 km duong",
    ):
        await user.say(answer)
    assert "Quốc phòng - An ninh (QPAN)" in user.last.plain_text
    await user.say("luu")
    assert "Đã lưu" in user.last.plain_text
    records = await saved(sessionmaker)
    assert [(r.name, r.field, r.subject, r.lead_body) for r in records] == [
        ("Tu quan duong lang", "QPAN", "collective", "Chi bộ")
    ]


async def test_edit_a_field_from_the_summary(
    fake: FakeTelegram, bot: RunningBot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = TgUser(fake, 1001)
    await user.say("/dangky")
    await user.tap("Xây dựng mới")
    for answer in ("Tên cũ", "1", "1", "Chi bộ 1", "Tổ 1", "1", "10 hộ"):
        await user.say(answer)
    await user.tap("Sửa: Tên mô hình")
    assert "(Hiện tại: Tên cũ)" in user.last.plain_text
    await user.say("Tên mới")
    assert "kiểm tra lại trước khi lưu" in user.last.plain_text
    assert "\n1. Tên mô hình: Tên mới\n" in user.last.plain_text
    await user.tap("Sửa: Lĩnh vực")
    await user.tap("Lĩnh vực khác")
    assert "Lĩnh vực khác là gì?" in user.last.plain_text
    await user.say("Xây dựng đô thị văn minh")
    assert "\n3. Tên lĩnh vực khác: Xây dựng đô thị văn minh\n" in user.last.plain_text
    await user.tap("Lưu")
    records = await saved(sessionmaker)
    assert [(r.name, r.field, r.field_other) for r in records] == [
        ("Tên mới", "OTHER", "Xây dựng đô thị văn minh")
    ]


async def test_restart_mid_flow_resumes_where_the_officer_stopped(
    fake: FakeTelegram,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> None:
    user = TgUser(fake, 1001)
    async with running_bot(fake, Core(sessionmaker, clock=clock)):
        await user.say("/dangky")
        await user.say("1")
        await user.say("Mô hình trước khi khởi động lại")
        await user.tap("Văn hóa - Xã hội (VHXH)")
        assert "Bước 4/8" in user.last.plain_text
        stale = user.last
    # The process stops; a new one starts on the same database.
    async with running_bot(fake, Core(sessionmaker, clock=clock)):
        await user.tap("Tập thể", message=stale)
        assert "Bước 5/8" in user.last.plain_text
        for answer in ("Chi bộ Tổ dân phố 1", "Tổ dân phố 1", "Chi bộ", "50 hộ"):
            await user.say(answer)
        assert "\n1. Tên mô hình: Mô hình trước khi khởi động lại\n" in user.last.plain_text
        await user.tap("Lưu")
    records = await saved(sessionmaker)
    assert [(r.name, r.field, r.subject) for r in records] == [
        ("Mô hình trước khi khởi động lại", "VHXH", "collective")
    ]


async def test_forged_and_stale_buttons_and_outsiders_get_nothing(
    fake: FakeTelegram, bot: RunningBot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = TgUser(fake, 1001)
    await user.say("/dangky")
    first = user.last
    await user.tap("Xây dựng mới")
    # An old button and a forged one: the current step is shown again, nothing changes.
    await user.tap("Duy trì từ năm trước", message=first)
    assert "không còn hiệu lực" in user.last.plain_text
    assert "Tên mô hình là gì?" in user.last.plain_text
    await user.press(user.last.message_id, "999.c0")
    assert "không còn hiệu lực" in user.last.plain_text
    await user.press(user.last.message_id, "x" * 64)
    assert "Tên mô hình là gì?" in user.last.plain_text

    stranger = TgUser(fake, 9999, "Người lạ")
    for text in ("/dangky", "/mohinh", "xin chào", "/start SAIMA123"):
        await stranger.say(text)
        assert "Chi bộ" not in stranger.last.plain_text
        assert not stranger.last.buttons
    # A button press in the stranger's own chat (copied callback data) gets the invite text.
    await stranger.press(987654, first.buttons[0][1])
    assert "mã mời" in stranger.last.plain_text
    assert await saved(sessionmaker) == []


async def test_redelivered_update_is_handled_once(
    fake: FakeTelegram, bot: RunningBot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = TgUser(fake, 1001)
    await user.say("/dangky")
    await user.tap("Xây dựng mới")
    # The same update delivered twice (as after a crash before the offset was confirmed):
    # both copies are queued before the bot's next poll, so they arrive in one batch.
    fake.mark(1001)
    update_id = fake.send_text(1001, "Mô hình gửi hai lần")
    fake.queue_raw({"update_id": update_id, "message": fake.pending_updates[-1]["message"]})
    await fake.wait_for_messages(1001, 1)  # the answer to the first copy…
    await fake.wait_idle(quiet=0.5)  # …and time for a second answer, which must not come
    replies = [m for m in fake.messages_to(1001) if "Bước 3/8" in m.plain_text]
    assert len(replies) == 1


async def test_a_burst_of_updates_is_handled_a_few_at_a_time(
    fake: FakeTelegram, core: Core, world: World
) -> None:
    counter = InFlight(core)
    async with running_bot(fake, core, concurrency=3):
        users = [5001 + n for n in range(12)]  # people without an invite: one answer each
        for user_id in users:
            fake.send_text(user_id, "/start")
        for user_id in users:
            [reply] = await fake.wait_for_messages(user_id, 1)
            assert "mã mời" in reply.plain_text
    # Never more than the limit at once, and the limit was reached: not one at a time.
    assert counter.done == 12
    assert counter.peak == 3


async def test_webhook_updates_wait_for_a_free_slot(
    fake: FakeTelegram, core: Core, world: World
) -> None:
    counter = InFlight(core)
    channel = TelegramChannel(core, fake.token, fake.base_url, concurrency=2)
    try:
        for n in range(6):
            await channel.dispatch(
                {
                    "update_id": 900 + n,
                    "message": {
                        "message_id": 900 + n,
                        "date": 1_767_225_600,
                        "chat": {"id": 6001 + n, "type": "private", "first_name": "Lan"},
                        "from": {"id": 6001 + n, "is_bot": False, "first_name": "Lan"},
                        "text": "/start",
                    },
                }
            )
        await channel.drain()
    finally:
        await channel.close()
    assert (counter.done, counter.peak) == (6, 2)
    assert all(fake.messages_to(6001 + n) for n in range(6))
