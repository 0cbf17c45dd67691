"""The inbox: updates taken from a platform and not yet handled.

A channel records what it takes (:meth:`Inbox.record`) before the platform learns that it
arrived, and marks each one handled (:meth:`Inbox.done`) afterwards; at start it handles
what an earlier process left (:meth:`Inbox.waiting`). Handling an update twice is harmless:
the core recognises a redelivery by its update id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import InboxUpdate

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

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        channel: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessionmaker = sessionmaker
        self.channel = channel
        self.clock = clock

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
        """The update was handled (or can never be): forget it."""
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                delete(InboxUpdate).where(
                    InboxUpdate.channel == self.channel, InboxUpdate.update_id == update_id
                )
            )
