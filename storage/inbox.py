"""The inbox: updates taken from a platform and not yet handled.

A channel records what it takes (:meth:`Inbox.record`) before the platform learns that it
arrived, and marks each one handled (:meth:`Inbox.done`) afterwards; at start it handles
what an earlier process left (:meth:`Inbox.waiting`). Handling an update twice is harmless:
the core recognises a redelivery by its update id.
"""

from __future__ import annotations

import asyncio
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
        # Handled updates waiting to be deleted, and the deletion they will be part of.
        self._handled: list[str] = []
        self._batch: asyncio.Future[None] | None = None
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
        """The update was handled (or can never be): forget it. Returns once it is deleted.
        Updates handled while another deletion is written are deleted together, in one
        transaction (one commit for many when they come in bursts)."""
        self._handled.append(update_id)
        if self._batch is None:
            self._batch = asyncio.get_running_loop().create_future()
        batch = self._batch
        async with self._writing:
            if not batch.done():
                ids, self._handled, self._batch = self._handled, [], None
                try:
                    await self._delete(ids)
                except Exception as err:
                    batch.set_exception(err)
                except BaseException:  # cancelled (shutting down): they stay, handled again
                    batch.cancel()
                    raise
                else:
                    batch.set_result(None)
        await batch

    async def _delete(self, update_ids: Sequence[str]) -> None:
        async with self.sessionmaker() as session, session.begin():
            for start in range(0, len(update_ids), 500):
                await session.execute(
                    delete(InboxUpdate).where(
                        InboxUpdate.channel == self.channel,
                        InboxUpdate.update_id.in_(update_ids[start : start + 500]),
                    )
                )
