"""The inbox forgets handled updates in batches: updates handled while a deletion is being
written are deleted together, and ``done`` returns only once its update is gone."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.inbox import Inbox
from storage.models import InboxUpdate
from tests.helpers import Clock


async def waiting_ids(inbox: Inbox) -> set[str]:
    return {uid for uid, _update in await inbox.waiting()}


async def test_updates_handled_together_are_forgotten_in_one_transaction(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    inbox = Inbox(sessionmaker, "telegram", clock)
    ids = [str(n) for n in range(1, 61)]
    await inbox.record([(uid, {"update_id": int(uid)}) for uid in ids])
    other = Inbox(sessionmaker, "zalo", clock)
    await other.record([("1", {"message": {}})])  # the same id on another channel stays
    deletes: list[str] = []

    def count(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith("DELETE"):
            deletes.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        # Sixty updates handled at once: the first deletion starts alone, the others wait
        # for it and go together.
        await asyncio.gather(*(inbox.done(uid) for uid in ids))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert 1 <= len(deletes) <= 3, deletes
    assert await waiting_ids(inbox) == set()
    assert await waiting_ids(other) == {"1"}


async def test_done_returns_once_its_update_is_gone(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    inbox = Inbox(sessionmaker, "telegram", clock)
    await inbox.record([(str(n), {"update_id": n}) for n in range(1, 4)])
    for n in range(1, 4):
        await inbox.done(str(n))
        async with sessionmaker() as session:
            left = await session.scalar(
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.update_id == str(n))
            )
        assert left == 0


async def test_a_failed_deletion_reaches_every_update_of_its_batch(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each caller is told (it logs that the update stays, to be handled again at the next
    start); the next deletion works again."""
    inbox = Inbox(sessionmaker, "telegram", clock)
    await inbox.record([(str(n), {"update_id": n}) for n in range(1, 5)])
    real = inbox._delete

    async def broken(update_ids: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(inbox, "_delete", broken)
    results = await asyncio.gather(
        *(inbox.done(str(n)) for n in range(1, 4)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results), results
    monkeypatch.setattr(inbox, "_delete", real)
    await inbox.done("4")
    assert await waiting_ids(inbox) == {"1", "2", "3"}
