"""Telegram's long polling, at least once: getUpdates in a loop, each batch recorded in the
channel's inbox before the next call confirms it (its offset), so that an update Telegram
counts as delivered is never one the bot has not recorded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.types import Update

from bot.channel import Stopping
from storage.inbox import Inbox

log = logging.getLogger(__name__)

POLL_TIMEOUT = 30  # seconds a getUpdates waits for an update
ALLOWED_UPDATES = ["message", "callback_query"]


async def poll_updates(
    bot: Bot,
    inbox: Inbox,
    start: Callable[[Update], None],
    room: Callable[[], Awaitable[None]],
    stopping: Stopping,
) -> None:
    """getUpdates until ``stopping``: each batch recorded in ``inbox``, then each update
    handed to ``start``; ``room`` is awaited before every call (while many are in hand).
    A failing call or record is retried with a growing pause, the batch not confirmed."""
    offset: int | None = None
    delay = 1.0
    while not stopping.is_set():
        await room()
        poll = asyncio.ensure_future(
            bot.get_updates(offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES)
        )
        if not await stopping.outwait(poll):
            break
        try:
            updates = poll.result()
            await inbox.record(
                [
                    (str(u.update_id), u.model_dump(mode="json", by_alias=True, exclude_none=True))
                    for u in updates
                ]
            )
        except TelegramUnauthorizedError:
            raise
        except Exception as err:  # not confirmed: Telegram gives them again
            log.warning("Telegram getUpdates failed (%r); retrying in %.0fs", err, delay)
            await stopping.pause(delay)
            delay = min(delay * 2, 60.0)
            continue
        delay = 1.0
        if updates:
            offset = updates[-1].update_id + 1
        for update in updates:
            start(update)
