"""On SQLite the core handles one message at a time, in arrival order; on PostgreSQL
several at once (each chat's messages still in order)."""

from __future__ import annotations

import asyncio

from handlers.core import Core
from handlers.messages import IncomingMessage, Reply
from storage.db import is_sqlite
from tests.helpers import World


class Transactions:
    """Wraps the core's per-message transaction to record overlap and order."""

    def __init__(self, core: Core) -> None:
        self.real = core._handle_with_retry
        self.now = 0
        self.peak = 0
        self.started: list[str] = []
        core._handle_with_retry = self.run  # type: ignore[method-assign]

    async def run(self, msg: IncomingMessage) -> list[Reply]:
        self.now += 1
        self.peak = max(self.peak, self.now)
        self.started.append(msg.chat_id)
        try:
            await asyncio.sleep(0.01)  # a slow statement: the others would start meanwhile
            return await self.real(msg)
        finally:
            self.now -= 1


async def test_messages_take_turns_on_sqlite_only(core: Core, world: World, db_url: str) -> None:
    turns = Transactions(core)
    chats = [f"stranger-{n}" for n in range(6)]
    replies = await asyncio.gather(
        *(
            core.handle(IncomingMessage("terminal", chat, chat, text="/trogiup", update_id=chat))
            for chat in chats
        )
    )
    assert all(len(r) == 1 for r in replies)  # everyone answered
    if is_sqlite(db_url):
        assert turns.peak == 1
        assert turns.started == chats  # in arrival order
    else:
        assert turns.peak == len(chats)
