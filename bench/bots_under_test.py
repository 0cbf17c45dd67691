"""The bots the load generator drives: the real bot (``TelegramChannel(Core(...))`` as
``dvk run`` builds it, long-polling the fake server) and the baseline, a bare aiogram 3 echo
bot; each start returns what stops it."""

from __future__ import annotations

import asyncio
import contextlib

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bench.load_generator import TOKEN, StartBot, Stop
from bot.telegram import TelegramChannel
from handlers.core import Core


async def _stop_polling(dp: Dispatcher, task: asyncio.Task[None]) -> None:
    with contextlib.suppress(RuntimeError):  # polling never started (the task failed)
        await dp.stop_polling()
    await asyncio.wait_for(task, 10)


def dvk_bot(core: Core, *, session: type[AiohttpSession] | None = None) -> StartBot:
    """The real bot, as ``dvk run`` runs it; ``session``: another class of HTTP session for
    its aiogram bot (what bench/bench_internals.py compares the channel's with)."""

    async def start(base_url: str) -> Stop:
        channel = TelegramChannel(core, TOKEN, base_url)
        if session is not None:
            channel.bot.session = session(api=channel.bot.session.api)
        task = asyncio.create_task(channel.run_polling())

        async def stop() -> None:
            try:
                await channel.stop_polling()
                await asyncio.wait_for(task, 10)
            finally:
                await channel.close()

        return stop

    return start


async def _echo(message: Message) -> None:
    await message.answer(message.text or "?")


async def echo_bot(base_url: str) -> Stop:
    """The baseline: a bare aiogram 3 bot that answers every message with its text."""
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))
    dp = Dispatcher()
    dp.message.register(_echo)
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False))

    async def stop() -> None:
        try:
            await _stop_polling(dp, task)
        finally:
            await bot.session.close()

    return stop
