"""bot.telegram_session: the answer types kept from the garbage collector; and aiogram's own
session, with a warning, when aiogram or pydantic are not as PinnedSession expects."""

from __future__ import annotations

import gc
import json
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import GetMe
from aiogram.methods.base import Response
from aiogram.types import User
from pydantic._internal import _generics

from bot.telegram_session import PinnedSession, make_session, pinning_problem, pinning_works
from handlers.core import Core
from tests.fake_telegram import FakeTelegram
from tests.helpers import World, warnings_of
from tests.tg_harness import TgUser, running_bot

API = TelegramAPIServer.from_base("http://127.0.0.1:9")


@pytest.fixture
def checked_afresh() -> Iterator[None]:
    """The check is made once per process: forget its verdict before and after the test."""
    pinning_works.cache_clear()
    yield
    pinning_works.cache_clear()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def test_answer_types_are_kept_from_the_garbage_collector() -> None:
    """aiogram reads each answer through ``Response[T]``; a collected class is rebuilt on the
    next answer (milliseconds inside a reply), so the channel's session keeps them."""
    session = PinnedSession()
    bot = Bot("42:TEST", session=session)
    answer = json.dumps({"ok": True, "result": {"id": 42, "is_bot": True, "first_name": "Bot"}})
    me = session.check_response(bot, GetMe(), 200, answer)
    assert me.result is not None
    assert me.result.id == 42
    kept = weakref.ref(type(me))  # the class aiogram built to read the answer: Response[User]
    del me
    gc.collect()
    assert kept() is not None
    assert Response[User] is kept()


def test_the_check_passes_on_the_installed_versions(
    checked_afresh: None, caplog: pytest.LogCaptureFixture
) -> None:
    assert pinning_problem() is None
    assert type(make_session(API)) is PinnedSession
    assert warnings_of(caplog, "bot.telegram_session") == []


def new_check_response_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiogram's ``check_response`` takes one more parameter."""
    stock = BaseSession.check_response

    def check_response(
        self: Any, bot: Any, method: Any, status_code: int, content: str, strict: bool = True
    ) -> Any:
        return stock(self, bot, method, status_code, content)

    monkeypatch.setattr(BaseSession, "check_response", check_response)


def generic_classes_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    """pydantic no longer hands out the class it built for ``Response[T]`` before."""
    for name in ("get_cached_generic_type_early", "get_cached_generic_type_late"):
        monkeypatch.setattr(_generics, name, lambda *args, **kwargs: None)


CHANGES: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], str]] = {
    "signature": (new_check_response_parameter, "check_response takes"),
    "pydantic cache": (generic_classes_not_cached, "pydantic's cache of generic classes"),
}


@pytest.mark.parametrize("change", list(CHANGES))
async def test_changed_internals_fall_back_to_aiograms_session(
    change: str,
    checked_afresh: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fake: FakeTelegram,
    core: Core,
    world: World,
) -> None:
    make_change, reason = CHANGES[change]
    make_change(monkeypatch)
    assert type(make_session(API)) is AiohttpSession
    async with running_bot(fake, core) as bot:
        assert type(bot.channel.bot.session) is AiohttpSession
        user = TgUser(fake, 5001, "Hoa")
        await user.say(f"/start {world.invites['cell2']}")
        assert "họ và tên" in user.last.plain_text
        await user.say("Đỗ Thị Hoa")
        assert "Chào Đỗ Thị Hoa!" in user.last.plain_text
    warnings = warnings_of(caplog, "bot.telegram_session")
    assert len(warnings) == 1  # two sessions made, one check and one warning
    assert "aiogram's own session is used instead of PinnedSession" in warnings[0]
    assert reason in warnings[0]
