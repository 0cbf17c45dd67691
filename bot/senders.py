"""The outbox's way out on each platform: a :class:`scheduler.delivery.Sender` per channel.

A sender makes one platform call per message and turns the platform's answer into the
delivery's exceptions (429 → ``RetryAfter``, 403 → ``Unreachable``, network and server
errors → ``TransientError``, a refused request → ``Rejected``); pacing, retries and records
are the :class:`~scheduler.delivery.Deliverer`'s. Wiring, e.g. in ``dvk run``::

    deliverer = make_deliverer(settings, sessionmaker, telegram_bot=channel.bot, zalo_api=api)
    task = asyncio.create_task(deliverer.run_forever())
    ...  # after enqueueing: deliverer.wake()
    await deliverer.stop()  # or: await deliverer.drain(timeout=10)
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    AiogramError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import telegram as telegram_channel
from bot import zalo as zalo_channel
from bot.settings import Settings
from bot.zalo import ZaloApi, ZaloApiError
from scheduler.delivery import Deliverer
from scheduler.pacing import Limits
from scheduler.senders import Rejected, RetryAfter, Sender, TransientError, Unreachable

TELEGRAM = telegram_channel.CHANNEL
ZALO = zalo_channel.CHANNEL


class TelegramSender:
    """sendMessage through an aiogram ``Bot``, as HTML with the text escaped (like
    ``bot/telegram.py``: what the text says is shown as written)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, text: str) -> None:
        target: int | str = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id
        try:
            await self.bot.send_message(target, html.escape(text, quote=False), parse_mode="HTML")
        except TelegramRetryAfter as err:
            raise RetryAfter(err.retry_after) from None
        except TelegramForbiddenError as err:  # "bot was blocked by the user", deactivated
            raise Unreachable(err.message) from None
        except TelegramBadRequest as err:
            if "chat not found" in err.message.lower():  # never started the bot, or gone
                raise Unreachable(err.message) from None
            raise Rejected(err.message) from None
        except TelegramEntityTooLarge as err:
            raise Rejected(err.message) from None
        except AiogramError as err:  # network errors, 5xx, undecodable answers, …
            raise TransientError(f"{type(err).__name__}: {err}") from None


class ZaloSender:
    """sendMessage through :class:`bot.zalo.ZaloApi`. Zalo's 429 says no retry_after:
    ``retry_after`` seconds are waited (``ZALO_RETRY_AFTER``)."""

    def __init__(self, api: ZaloApi, retry_after: float = 5.0) -> None:
        self.api = api
        self.retry_after = retry_after

    async def send(self, chat_id: str, text: str) -> None:
        try:
            await self.api.call("sendMessage", chat_id=chat_id, text=text)
        except ZaloApiError as err:
            if err.code == 429:
                raise RetryAfter(self.retry_after) from None
            if err.code == 403:
                raise Unreachable(err.description or "403 Forbidden") from None
            if err.code == 400:
                raise Rejected(str(err)) from None
            raise TransientError(str(err)) from None  # 0: network error; 5xx; anything else


def build_senders(
    settings: Settings, *, telegram_bot: Bot | None = None, zalo_api: ZaloApi | None = None
) -> dict[str, Sender]:
    """The senders of the channels given (the objects ``dvk run`` already made)."""
    senders: dict[str, Sender] = {}
    if telegram_bot is not None:
        senders[TELEGRAM] = TelegramSender(telegram_bot)
    if zalo_api is not None:
        senders[ZALO] = ZaloSender(zalo_api, retry_after=settings.zalo_retry_after)
    return senders


def channel_limits(settings: Settings) -> dict[str, Limits]:
    return {
        TELEGRAM: Limits(
            rate_per_second=settings.telegram_rate_per_second,
            chat_interval=settings.telegram_chat_interval,
            text_limit=telegram_channel.TEXT_LIMIT,
        ),
        ZALO: Limits(
            rate_per_second=settings.zalo_rate_per_second,
            chat_interval=settings.zalo_chat_interval,
            text_limit=zalo_channel.TEXT_LIMIT,
        ),
    }


def make_deliverer(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    telegram_bot: Bot | None = None,
    zalo_api: ZaloApi | None = None,
    clock: Callable[[], datetime] | None = None,
    **options: Any,
) -> Deliverer:
    """A :class:`Deliverer` for the channels given, with the limits and attempts of
    ``settings``; ``options`` go to the Deliverer (``lease``, ``poll_interval``, …)."""
    senders = build_senders(settings, telegram_bot=telegram_bot, zalo_api=zalo_api)
    if clock is not None:
        options["clock"] = clock
    return Deliverer(
        sessionmaker,
        senders,
        channel_limits(settings),
        attempts=settings.delivery_attempts,
        **options,
    )
