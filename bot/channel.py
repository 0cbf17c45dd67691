"""What every channel `dvk run` runs provides, so that the runner, the web server and the
outbox's senders go through the configured channels without naming any.

A channel is a class implementing :class:`Channel`: built from the settings when they
configure it, it turns the platform's updates into the core's messages and renders the
core's replies (its own business), and gives the rest of the bot its capabilities, its
webhook route, its outbox sender and limits, its lifecycle and a hook for pacing replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self

from aiohttp import web

from bot.files import FileLinks
from bot.settings import Settings
from handlers.core import Core
from scheduler.pacing import Limits
from scheduler.senders import Sender

log = logging.getLogger(__name__)


class Pace(Protocol):
    """Waits for a slot of the platform's rate, shared with the outbox's broadcasts (and,
    given a chat, for that chat's interval)."""

    def __call__(self, chat_id: str | None = None) -> Awaitable[None]: ...


@dataclass(frozen=True)
class Capabilities:
    buttons: bool  # tappable options; without them options come as a numbered list
    documents: bool  # sends a file as a file; without it, as a download link
    photos: bool  # sends an image as a photo
    text_limit: int | None  # characters in one message; longer texts go as several
    writes_first: bool  # may write to someone who did not just write (reminders, notices)


@dataclass(frozen=True)
class WebhookRoute:
    """Where the platform posts its updates in webhook mode."""

    channel: str
    path: str  # e.g. /webhook/telegram
    secret_header: str  # the header that carries WEBHOOK_SECRET
    # Records the update (then handled in the background) and gives the answer the platform
    # expects: 200 only once recorded, so that a stopped process loses nothing.
    handle: Callable[[dict[str, Any]], Awaitable[web.Response]]


async def record_or_503(dispatch: Callable[[], Awaitable[None]], label: str) -> None:
    """A webhook's update recorded by ``dispatch``; 503 (the platform sends it again) when
    it could not be, with one warning."""
    try:
        await dispatch()
    except Exception as err:
        log.warning("a %s webhook update could not be recorded: %r", label, err)
        raise web.HTTPServiceUnavailable(text="") from None


class Stopping:
    """A channel's "stop polling": set once, and waited for alongside a poll or a pause."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less when stopping comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)

    async def outwait(self, poll: asyncio.Future[Any]) -> bool:
        """Wait for ``poll``; False (``poll`` cancelled) when stopping comes first."""
        stop = asyncio.ensure_future(self._event.wait())
        done, _ = await asyncio.wait({poll, stop}, return_when=asyncio.FIRST_COMPLETED)
        if poll not in done:
            poll.cancel()
            with contextlib.suppress(BaseException):
                await poll
            return False
        stop.cancel()
        return True


class Channel(Protocol):
    name: ClassVar[str]  # as in IncomingMessage.channel and the accounts: "telegram"
    label: ClassVar[str]  # as people read it: "Telegram"
    capabilities: ClassVar[Capabilities]
    # What to set to use the channel, for `dvk run` without any: "TELEGRAM_BOT_TOKEN (…)".
    setting_hint: ClassVar[str]
    # Set by `dvk run`: every reply waits for it before each call to the platform.
    pace: Pace | None
    # time.time() of the last poll the platform answered (None: none yet, or webhook mode).
    polled_at: float | None

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        """Whether ``settings`` enable this channel."""
        ...

    @classmethod
    def from_settings(cls, settings: Settings, core: Core, files: FileLinks | None) -> Self:
        """The channel as ``settings`` configure it (``files``: download links, if any)."""
        ...

    @property
    def webhook(self) -> WebhookRoute: ...

    def outbox_sender(self, settings: Settings) -> Sender:
        """How the outbox sends one message here, on this channel's connection."""
        ...

    def outbox_limits(self, settings: Settings) -> Limits:
        """The pace the outbox keeps here: rate per second, per-chat interval, text limit."""
        ...

    async def setup(self, webhook_url: str | None = None, secret: str | None = None) -> None:
        """Before taking updates: the webhook set at ``webhook_url`` with ``secret``, or,
        without it, deleted (polling)."""
        ...

    async def run_polling(self) -> None:
        """Take updates by long polling until :meth:`stop_polling`."""
        ...

    async def stop_polling(self) -> None: ...

    async def drain(self) -> None:
        """Wait for the updates being handled."""
        ...

    async def close(self) -> None: ...
