"""Bursts: one chat's backlog never holds up another chat's answer; a chat sending too fast
gets one notice and no more answers for a while; Telegram's 429s are waited out, one
warning per chat, no reply lost."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import build_app
from bot.runner import run
from bot.settings import Settings
from bot.telegram import TelegramChannel
from handlers.core import Core
from handlers.texts import TOO_FAST
from scheduler.floods import Admit, Bursts
from tests.fake_telegram import FakeTelegram
from tests.helpers import Chat, World
from tests.test_run import free_port

STRANGER = 9001
OFFICER = 1001  # Nguyễn Thị Lan
BURST = 40


def test_a_chat_past_its_limit_gets_one_notice_then_nothing_until_the_window_has_room() -> None:
    bursts = Bursts(limit=3, stranger_limit=2, window=10.0)
    got = [bursts.admit("a", t) for t in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)]
    assert got == [Admit.YES] * 3 + [Admit.NOTICE, Admit.DROP, Admit.DROP]
    assert bursts.admit("b", 0.5) is Admit.YES  # another chat: its own count
    assert bursts.admit("a", 9.9) is Admit.DROP
    assert bursts.admit("a", 10.05) is Admit.YES  # the first message left the window
    assert bursts.admit("a", 10.08) is Admit.NOTICE  # full again: a new notice
    assert bursts.admit("a", 10.09) is Admit.DROP
    assert [bursts.admit("s", t, stranger=True) for t in (0.0, 0.1, 0.2)] == [
        Admit.YES,
        Admit.YES,
        Admit.NOTICE,
    ]


async def test_a_stranger_is_limited_sooner_than_an_officer(world: World, core: Core) -> None:
    core.bursts = Bursts(limit=8, stranger_limit=3)
    stranger = Chat(core, "z-77", channel="zalo")
    answers = [await stranger.send(f"xin chào {n}") for n in range(6)]
    # The first message shows who writes; then the stranger's own limit applies.
    assert [len(a) for a in answers] == [1, 1, 1, 1, 0, 0]
    assert answers[3][0].text == TOO_FAST
    assert "mã mời" in answers[0][0].text
    officer = Chat(core, "lan")
    for n in range(8):
        await officer.send("/trogiup")
        assert officer.last.text != TOO_FAST, n
    assert (await officer.send("/trogiup"))[0].text == TOO_FAST
    assert await officer.send("/trogiup") == []


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


async def test_a_strangers_burst_does_not_hold_up_an_officers_answer(
    db_url: str,
    tg: FakeTelegram,
    world: World,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tg.enforce_limits(rate=30, chat_interval=1.0)  # Telegram's: 429 past them
    settings = Settings(
        database_url=db_url,
        telegram_bot_token=SecretStr(tg.token),
        telegram_api_base=tg.base_url,
        web_host="127.0.0.1",
        web_port=free_port(),
        files_dir=str(tmp_path / "files"),
    )
    app = await build_app(settings, migrate=False)
    stop = asyncio.Event()
    task = asyncio.create_task(run(app, False, io.StringIO(), stop))
    caplog.set_level(logging.INFO)
    try:
        await tg.wait_for_call("getUpdates")
        tg.send_text(OFFICER, "/trogiup")  # calm: how long an answer takes
        started = time.monotonic()
        await tg.wait_for_messages(OFFICER, 1, timeout=10)
        calm = time.monotonic() - started
        await asyncio.sleep(1.0)  # the officer's chat interval is over
        tg.mark(OFFICER)
        for n in range(BURST):
            tg.send_text(STRANGER, f"tin nhắn {n}")
        await asyncio.sleep(0.3)  # the burst is being handled
        tg.send_text(OFFICER, "/trogiup")
        started = time.monotonic()
        await tg.wait_for_messages(OFFICER, 1, timeout=30)
        during = time.monotonic() - started
        print(f"officer's answer: {calm:.2f} s calm, {during:.2f} s during a stranger's burst")
        assert during < calm + 1.0, (calm, during)
        # Every message the stranger is answered for arrives: its limit, then one notice.
        limit = settings.stranger_burst
        await tg.wait_for_messages(STRANGER, limit + 1, timeout=30)
        await tg.wait_idle(quiet=1.5)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await app.close()
    texts = [m.plain_text for m in tg.messages_to(STRANGER)]
    assert len(texts) == limit + 1
    assert texts[-1] == TOO_FAST
    assert sum("mã mời" in t for t in texts) == limit
    assert tg.flood.min_chat_gap() >= 1.0 - 0.02  # its pace kept: no reply refused for it
    assert "Traceback" not in caplog.text
    assert "TelegramRetryAfter" not in caplog.text
    slowed = [r for r in caplog.records if "asked to wait" in r.getMessage()]
    assert len({r.getMessage().split("chat ")[1] for r in slowed}) == len(slowed)


async def test_429s_are_waited_out_with_one_warning_per_chat(
    tg: FakeTelegram, core: Core, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    channel = TelegramChannel(core, tg.token, tg.base_url)
    tg.fail_next("sendMessage", times=3, retry_after=1)
    caplog.set_level(logging.INFO)
    try:
        tg.send_text(OFFICER, "/trogiup")
        tg.send_text(OFFICER, "/mohinh")
        polling = asyncio.create_task(channel.run_polling())
        await tg.wait_for_messages(OFFICER, 2, timeout=30)
        await channel.stop_polling()
        await asyncio.wait_for(polling, 10)
        await channel.drain()
    finally:
        await channel.close()
    slowed = [r for r in caplog.records if "asked to wait" in r.getMessage()]
    assert [r.levelname for r in slowed] == ["WARNING"]
    assert "Traceback" not in caplog.text
