"""Run the real aiogram bot (TelegramChannel) against the fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bot.settings import DEFAULT_TELEGRAM_CONCURRENCY
from bot.telegram import TelegramChannel
from handlers.core import Core
from tests.fake_telegram import FakeTelegram, SentMessage


class RunningBot:
    def __init__(
        self, fake: FakeTelegram, core: Core, concurrency: int = DEFAULT_TELEGRAM_CONCURRENCY
    ) -> None:
        self.fake = fake
        self.channel = TelegramChannel(core, fake.token, fake.base_url, concurrency=concurrency)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.channel.run_polling())
        await self.fake.wait_for_call("getUpdates")

    async def stop(self) -> None:
        assert self.task is not None
        await self.channel.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 5)
        await self.channel.close()


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeTelegram, core: Core, concurrency: int = DEFAULT_TELEGRAM_CONCURRENCY
) -> AsyncIterator[RunningBot]:
    bot = RunningBot(fake, core, concurrency)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


class TgUser:
    """A person on the fake Telegram: types text or taps buttons of the bot's last message."""

    def __init__(self, fake: FakeTelegram, user_id: int, first_name: str = "Cán bộ") -> None:
        self.fake = fake
        self.user_id = user_id
        self.first_name = first_name
        self.got: list[SentMessage] = []

    @property
    def last(self) -> SentMessage:
        assert self.got, "no message from the bot yet"
        return self.got[-1]

    async def say(self, text: str, expect: int = 1) -> list[SentMessage]:
        self.fake.mark(self.user_id)
        self.fake.send_text(self.user_id, text, self.first_name)
        return await self._collect(expect)

    async def tap(
        self, label: str, expect: int = 1, message: SentMessage | None = None
    ) -> list[SentMessage]:
        target = message or self.last
        for text, data in target.buttons:
            if text == label or text.endswith(label):
                return await self.press(target.message_id, data, expect)
        raise AssertionError(f"no button {label!r} in {target.buttons}")

    async def press(self, message_id: int, data: str, expect: int = 1) -> list[SentMessage]:
        self.fake.mark(self.user_id)
        self.fake.press_button(self.user_id, message_id, data, self.first_name)
        return await self._collect(expect)

    async def _collect(self, expect: int) -> list[SentMessage]:
        self.got = await self.fake.wait_for_messages(self.user_id, expect)
        return self.got

    @property
    def text(self) -> str:
        return "\n".join(m.plain_text for m in self.got)
