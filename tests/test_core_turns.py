"""On SQLite the core handles one message at a time, in arrival order; on PostgreSQL
several at once (each chat's messages still in order)."""

from __future__ import annotations

import asyncio

from domain.messages import IncomingMessage
from handlers.core import Core
from storage.db import is_sqlite
from tests.helpers import InFlight, World


async def test_messages_take_turns_on_sqlite_only(core: Core, world: World, db_url: str) -> None:
    # Inside the turn: the transaction of each message, slowed down so that the others
    # would start meanwhile if nothing held them.
    turns = InFlight(core, "_handle_with_retry", delay=0.01)
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
