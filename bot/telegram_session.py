"""The Telegram channel's HTTP session: aiogram's, with the Bot API's answer types kept alive.

aiogram reads every Bot API answer through ``Response[<returned type>]``, a generic pydantic
class that pydantic caches weakly: once nothing else refers to it, a garbage collection drops
it and the next answer of that type builds it again (milliseconds: ``Response[Message]``
carries the whole Message schema) inside a reply. ``PinnedSession`` keeps the classes this bot
meets for the session's life. Measured by ``bench/bench_internals.py``: see the README.

This overrides ``check_response``, an aiogram method that is public but not meant to be
overridden, and relies on how pydantic caches generic classes; so before the channel uses it,
``make_session`` checks both on the installed versions, and falls back to aiogram's own
session (same answers, slower) with one warning when they are not as expected.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from importlib.metadata import version
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import TelegramType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import GetMe, TelegramMethod
from aiogram.methods.base import Response
from aiogram.types import User

log = logging.getLogger(__name__)

# aiogram's hook as PinnedSession overrides and calls it.
CHECK_RESPONSE_PARAMETERS = ("self", "bot", "method", "status_code", "content")
_PROBE_ANSWER = json.dumps({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Bot"}})


class PinnedSession(AiohttpSession):
    """aiogram's session, keeping each ``Response[T]`` it reads answers with."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pinned: dict[Any, type[Response[Any]]] = {}

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._pinned:
            self._pinned[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)

    async def close(self) -> None:
        # aiogram keeps the latest updates (and through them the bot and its session) in a
        # cache of its own: a closed session lets its classes go.
        await super().close()
        self._pinned.clear()

    def pinned(self, returning: Any) -> type[Response[Any]] | None:
        """The class kept for answers of type ``returning``, if one has been read."""
        return self._pinned.get(returning)


def pinning_problem() -> str | None:
    """Why ``PinnedSession`` would not work as intended with the installed aiogram and
    pydantic, or None: aiogram's ``check_response`` takes what the override passes on, names
    the answer type in ``__returning__`` and reads the answer with ``Response[that type]``,
    and pydantic hands out the very class kept while it is alive."""
    parameters = tuple(inspect.signature(AiohttpSession.check_response).parameters)
    if parameters != CHECK_RESPONSE_PARAMETERS:
        return f"AiohttpSession.check_response takes {parameters}, not {CHECK_RESPONSE_PARAMETERS}"
    if getattr(GetMe, "__returning__", None) is not User:
        return "aiogram's methods no longer name their answer type in __returning__"
    session = PinnedSession()
    bot = Bot("1:SELFCHECK", session=session)  # never opened: no request leaves
    try:
        answer = session.check_response(bot, GetMe(), 200, _PROBE_ANSWER)
    except Exception as err:  # whatever a changed aiogram raises is the reason
        return f"reading a getMe answer failed: {type(err).__name__}: {err}"
    kept = session.pinned(User)
    if kept is None or type(answer) is not kept or Response[User] is not kept:
        return (
            "aiogram did not read the answer with the class the session keeps "
            "(pydantic's cache of generic classes works differently)"
        )
    if not isinstance(answer.result, User) or answer.result.id != 1:
        return f"a getMe answer was read as {answer.result!r}"
    return None


@functools.cache
def pinning_works() -> bool:
    """``pinning_problem`` once per process; the warning is logged once."""
    problem = pinning_problem()
    if problem is not None:
        log.warning(
            "Telegram: aiogram's own session is used instead of PinnedSession (same answers, "
            "slower under garbage collection): %s. bot/telegram_session.py is checked with "
            "the versions pinned in pyproject.toml; installed aiogram %s, pydantic %s",
            problem,
            version("aiogram"),
            version("pydantic"),
        )
    return problem is None


def make_session(api: TelegramAPIServer) -> AiohttpSession:
    """The channel's session: a ``PinnedSession`` when the check passes, else aiogram's."""
    return PinnedSession(api=api) if pinning_works() else AiohttpSession(api=api)
