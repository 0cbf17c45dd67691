"""The inbox: updates taken from a platform and not yet handled.

A channel records what it takes (:meth:`Inbox.record`) before the platform learns that it
arrived, and marks each one handled (:meth:`Inbox.done`) afterwards; at start it handles
what an earlier process left (:meth:`Inbox.waiting`). Handling an update twice is harmless:
the core recognises a redelivery by its update id.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import InboxUpdate

log = logging.getLogger(__name__)

_RECORD = {
    name: insert(InboxUpdate).on_conflict_do_nothing(index_elements=["channel", "update_id"])
    for name, insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


def encode(update: dict[str, Any]) -> str:
    """JSON text with everything outside ASCII escaped: a NUL or a lone surrogate the
    platform let through is stored as its escape, which every database takes."""
    return json.dumps(update, ensure_ascii=True, separators=(",", ":"))


class Inbox:
    """One channel's inbox."""

    flush_after = 1.0  # seconds: how long a handled update may wait to be deleted

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        channel: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessionmaker = sessionmaker
        self.channel = channel
        self.clock = clock
        # Handled updates waiting to be deleted, and the task that will delete them.
        self._handled: list[str] = []
        self._flushing: asyncio.Task[None] | None = None
        self._writing = asyncio.Lock()

    async def record(self, updates: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Write ``(update id, update)`` pairs in one transaction (one already there is kept)."""
        if not updates:
            return
        now = self.clock()
        rows = [
            {"channel": self.channel, "update_id": uid, "payload": encode(u), "received_at": now}
            for uid, u in updates
        ]
        async with self.sessionmaker() as session, session.begin():
            conn = await session.connection()
            await conn.execute(_RECORD[conn.dialect.name], rows)

    async def waiting(self) -> list[tuple[str, dict[str, Any]]]:
        """What is recorded and not yet handled, oldest first."""
        stmt = (
            select(InboxUpdate.update_id, InboxUpdate.payload)
            .where(InboxUpdate.channel == self.channel)
            .order_by(
                InboxUpdate.received_at,
                func.length(InboxUpdate.update_id),
                InboxUpdate.update_id,
            )
        )
        async with self.sessionmaker() as session:
            rows = (await session.execute(stmt)).all()
        return [(uid, json.loads(payload)) for uid, payload in rows]

    async def done(self, update_id: str) -> None:
        """The update was handled (or can never be): it is forgotten within
        :attr:`flush_after` seconds, together with the others handled meanwhile (one commit
        instead of one per update). Until then, or if the process stops first, it is still
        in the inbox and would be handled again at the next start: the core answers a
        handled update once (its update id), so that costs nothing but the look-up."""
        self._handled.append(update_id)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.flush_after)
        await self.flush()

    async def flush(self) -> None:
        """Forget now the updates marked handled (a channel calls it when it stops)."""
        async with self._writing:
            ids, self._handled = self._handled, []
            if not ids:
                return
            try:
                await self._delete(ids)
            except Exception as err:  # they stay: handled again, once, at the next start
                log.warning(
                    "%d handled %s updates stay in the inbox: %r", len(ids), self.channel, err
                )

    async def _delete(self, update_ids: Sequence[str]) -> None:
        async with self.sessionmaker() as session, session.begin():
            for start in range(0, len(update_ids), 500):
                await session.execute(
                    delete(InboxUpdate).where(
                        InboxUpdate.channel == self.channel,
                        InboxUpdate.update_id.in_(update_ids[start : start + 500]),
                    )
                )
