"""One scenario, two platforms: the same flows serve Telegram and Zalo alike."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.zalo import ZaloApi, ZaloChannel
from handlers.core import Core
from storage.models import ModelYear
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.helpers import World
from tests.tg_harness import TgUser, running_bot


class Person(Protocol):
    async def say(self, text: str) -> str: ...


class OnTelegram:
    def __init__(self, fake: FakeTelegram, user_id: int) -> None:
        self.user = TgUser(fake, user_id, "Hạnh")

    async def say(self, text: str) -> str:
        got = await self.user.say(text)
        # What the person sees: the text and the labels of the buttons under it.
        return "\n".join("\n".join([m.plain_text, *(label for label, _ in m.buttons)]) for m in got)


class OnZalo:
    def __init__(self, fake: FakeZalo, user_id: str) -> None:
        self.fake = fake
        self.user_id = user_id

    async def say(self, text: str) -> str:
        self.fake.mark(self.user_id)
        self.fake.send_text(self.user_id, text, "Hạnh")
        got = await self.fake.wait_for_messages(self.user_id, 1)
        return "\n".join(m.text for m in got)


@contextlib.asynccontextmanager
async def person_on(channel: str, core: Core, tmp_path: Path) -> AsyncIterator[Person]:
    if channel == "telegram":
        async with FakeTelegram() as tg, running_bot(tg, core):
            yield OnTelegram(tg, 7001)
        return
    async with FakeZalo() as zalo:
        api = ZaloApi(zalo.token, zalo.base_url)
        bot = ZaloChannel(core, api, photo_dir=tmp_path / "photos")
        task = asyncio.create_task(bot.run_polling())
        await zalo.wait_for_call("getUpdates")
        try:
            yield OnZalo(zalo, "7001")
        finally:
            bot.stop()
            await asyncio.wait_for(task, 10)
            await api.close()


# (what the person types, what the assistant must answer)
SCENARIO = (
    ("/start {code}", "Vui lòng cho biết họ và tên đầy đủ"),
    ("Đinh Thị Hạnh", "Chào Đinh Thị Hạnh! Đồng chí đã tham gia Chi bộ Tổ dân phố 2"),
    ("/dangky", "Đăng ký mô hình năm 2026 — Bước 1/7\nTên mô hình là gì?"),
    ("Bếp ăn yêu thương", "Bước 2/7\nMô hình thuộc lĩnh vực nào?"),
    ("van hoa xa hoi", "Bước 3/7"),
    ("quay lai", "Bước 2/7"),
    ("2", "Bước 3/7"),
    ("tap the", "Bước 4/7"),
    ("Chi hội Phụ nữ Tổ 2", "Bước 5/7"),
    ("Tổ dân phố 2", "Bước 6/7"),
    ("hoi lhpn", "Bước 7/7"),
    ("30 suất ăn mỗi tuần", "kiểm tra lại trước khi lưu"),
    ("Sửa: Quy mô", "(Hiện tại: 30 suất ăn mỗi tuần)"),
    ("40 suất ăn mỗi tuần", "7. Quy mô: 40 suất ăn mỗi tuần"),
    ("luu", "Đã lưu mô hình xây dựng mới năm 2026 của Chi bộ Tổ dân phố 2"),
    ("/mohinh", "Bếp ăn yêu thương"),
    ("/huy", "Đã hủy"),
)


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
async def test_the_same_registration_on_each_platform(
    channel: str,
    core: Core,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    async with person_on(channel, core, tmp_path) as person:
        for said, expected in SCENARIO:
            answer = await person.say(said.format(code=world.invites["cell2"]))
            assert expected in answer, f"{said!r} on {channel}:\n{answer}"
    async with sessionmaker() as session:
        saved = (await session.scalars(select(ModelYear).where(ModelYear.year == 2026))).all()
    assert [
        (r.name, r.field, r.subject, r.subject_name, r.place, r.lead_body, r.scale) for r in saved
    ] == [
        (
            "Bếp ăn yêu thương",
            "VHXH",
            "collective",
            "Chi hội Phụ nữ Tổ 2",
            "Tổ dân phố 2",
            "Hội LHPN",
            "40 suất ăn mỗi tuần",
        )
    ]
