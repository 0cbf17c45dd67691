"""How a message is taken in: once (a platform's redelivery is recognised by its update id), in
its chat's order, in one database transaction — either everything the message caused is
written, or nothing is — and tried again when the database dropped the connection or another
process answered for the same chat first."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from conversations.engine import StaleState
from domain.keyed_lock import KeyedLock
from domain.messages import IncomingMessage, Reply
from storage.models import ConversationState, ProcessedUpdate

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Handler = Callable[[AsyncSession, IncomingMessage], Awaitable[list[Reply]]]

KEEP_UPDATE_IDS = timedelta(days=3)  # how long a processed update id is remembered
PRUNE_EVERY = timedelta(hours=1)
ATTEMPTS = 3
# Remember an update id, once: built for each dialect at import, values bound per message.
_FIRST_DELIVERY = {
    name: insert(ProcessedUpdate)
    .values(
        channel=bindparam("channel"), update_id=bindparam("update"), processed_at=bindparam("at")
    )
    .on_conflict_do_nothing(index_elements=["channel", "update_id"])
    for name, insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


class Failed(Exception):
    """The message could not be handled; the person is told so (their earlier answers kept)."""


def is_sqlite(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    engine = sessionmaker.kw.get("bind")
    return isinstance(engine, AsyncEngine) and engine.dialect.name == "sqlite"


class Intake:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        # One message at a time per chat, in arrival order; entries live while in use.
        self._chat_turns = KeyedLock()
        # SQLite writes one transaction at a time (and the pool keeps one connection):
        # messages wait for their turn here, in arrival order, rather than each opening a
        # session and waiting in the pool's queue.
        self._database_turn: contextlib.AbstractAsyncContextManager[object] = (
            asyncio.Lock() if is_sqlite(sessionmaker) else contextlib.nullcontext()
        )
        self._pruned_at: datetime | None = None

    @contextlib.asynccontextmanager
    async def turn(self, msg: IncomingMessage) -> AsyncIterator[None]:
        """The chat's turn, then the database's."""
        async with self._chat_turns((msg.channel, msg.chat_id)), self._database_turn:
            yield

    async def in_transaction(
        self,
        msg: IncomingMessage,
        handle: Handler,
        after_commit: Callable[[AsyncSession], None],
    ) -> list[Reply]:
        """``handle`` in one transaction, once per update; [] for a redelivery. Raises
        :class:`Failed` when it cannot be handled."""
        for _attempt in range(ATTEMPTS):
            try:
                async with self.sessionmaker() as session:
                    async with session.begin():
                        if msg.update_id is not None and not await self._first_delivery(
                            session, msg
                        ):
                            return []
                        replies = await handle(session, msg)
                    after_commit(session)
                    return replies
            except StaleState:
                # Another process answered for this chat in between: read the new state again.
                continue
            except IntegrityError as err:
                if msg.update_id is not None and await self._seen(msg):
                    return []
                log.exception("integrity error while handling a message")
                raise Failed from err
            except DBAPIError as err:
                if err.connection_invalidated:
                    # The database dropped the connection (restart, idle timeout): the pool
                    # has discarded it and the whole message is tried again on a fresh one.
                    log.warning("database connection lost; retrying the message")
                    continue
                log.exception("database error while handling a message")
                raise Failed from err
        raise Failed

    async def drop_flow(self, msg: IncomingMessage) -> bool:
        """Last resort when an open flow cannot be handled at all: let the person out of it."""
        try:
            async with self.sessionmaker() as session, session.begin():
                result = await session.execute(
                    delete(ConversationState).where(
                        ConversationState.channel == msg.channel,
                        ConversationState.chat_id == msg.chat_id,
                    )
                )
                return bool(result.rowcount)  # type: ignore[attr-defined]
        except Exception:
            log.exception("could not drop the conversation state")
            return False

    async def _first_delivery(self, session: AsyncSession, msg: IncomingMessage) -> bool:
        assert msg.update_id is not None
        now = self.clock()
        # One statement: INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike); a
        # concurrent delivery of the same update waits on the row and then inserts nothing.
        conn = await session.connection()  # Core: with values given, the ORM would bulk-insert
        result = await conn.execute(
            _FIRST_DELIVERY[conn.dialect.name],
            {"channel": msg.channel, "update": msg.update_id, "at": now},
        )
        if result.rowcount != 1:
            return False
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            # Platforms redeliver within a day at most: older ids need not be kept forever.
            self._pruned_at = now
            await session.execute(
                delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < now - KEEP_UPDATE_IDS)
            )
        return True

    async def _seen(self, msg: IncomingMessage) -> bool:
        async with self.sessionmaker() as session:
            row = await session.get(ProcessedUpdate, (msg.channel, str(msg.update_id)))
            return row is not None
