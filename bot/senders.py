"""The outbox's way out: a :class:`~scheduler.delivery.Deliverer` over the configured
channels, each giving its :class:`~scheduler.senders.Sender` and its limits.

A sender makes one platform call per message and turns the platform's answer into the
delivery's exceptions (429 → ``RetryAfter``, 403 → ``Unreachable``, network and server
errors → ``TransientError``, a refused request → ``Rejected``); pacing, retries and records
are the Deliverer's. Wiring, e.g. in ``dvk run``::

    deliverer = make_deliverer(settings, sessionmaker, channels)
    task = asyncio.create_task(deliverer.run_forever())
    ...  # after enqueueing: deliverer.wake()
    await deliverer.stop()  # or: await deliverer.drain(timeout=10)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channel import Channel
from bot.settings import Settings
from scheduler.delivery import Deliverer
from scheduler.pacing import Limits
from scheduler.senders import Sender
from scheduler.turns import PostgresTurns, RedisTurns, SharedTurns
from storage.db import is_sqlite


def build_senders(settings: Settings, channels: Sequence[Channel]) -> dict[str, Sender]:
    """The senders of ``channels`` (the ones ``dvk run`` already made), by channel name."""
    return {channel.name: channel.outbox_sender(settings) for channel in channels}


def channel_limits(settings: Settings, channels: Sequence[Channel]) -> dict[str, Limits]:
    return {channel.name: channel.outbox_limits(settings) for channel in channels}


def shared_turns(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> SharedTurns | None:
    """The sending limits every process keeps together: in Redis with REDIS_URL, else in
    PostgreSQL, where several `dvk run` processes may share the database; SQLite serves one
    process, which keeps its limits alone."""
    if settings.redis_url:
        return RedisTurns(settings.redis_url)
    return None if is_sqlite(settings.database_url) else PostgresTurns(sessionmaker)


def make_deliverer(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    channels: Sequence[Channel],
    *,
    clock: Callable[[], datetime] | None = None,
    **options: Any,
) -> Deliverer:
    """A :class:`Deliverer` for ``channels``, with the limits and attempts of ``settings``;
    ``options`` go to the Deliverer (``lease``, ``poll_interval``, …)."""
    if clock is not None:
        options["clock"] = clock
    options.setdefault("turns", shared_turns(settings, sessionmaker))
    return Deliverer(
        sessionmaker,
        build_senders(settings, channels),
        channel_limits(settings, channels),
        attempts=settings.delivery_attempts,
        **options,
    )
