"""The inbox forgets handled updates in batches: ``done`` marks an update handled, and within
``flush_after`` seconds (or at ``flush``, which a channel calls when it stops) every update
marked so far is deleted in one transaction. One left by a failed deletion or a stop in
between is handled again at the next start, and answered once (its update id)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.inbox import Inbox
from tests.helpers import Clock


async def waiting_ids(inbox: Inbox) -> set[str]:
    return {uid for uid, _update in await inbox.waiting()}


async def test_updates_handled_together_are_forgotten_in_one_transaction(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    inbox = Inbox(sessionmaker, "telegram", clock)
    ids = [str(n) for n in range(1, 601)]
    await inbox.record([(uid, {"update_id": int(uid)}) for uid in ids])
    other = Inbox(sessionmaker, "zalo", clock)
    await other.record([("1", {"message": {}})])  # the same id on another channel stays
    transactions: list[str] = []

    def count(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith("DELETE"):
            transactions.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        for uid in ids:
            await inbox.done(uid)
        assert await waiting_ids(inbox) == set(ids)  # not yet: within flush_after
        await inbox.flush()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    # 600 updates: one transaction, its statements 500 ids at most.
    assert len(transactions) == 2
    assert await waiting_ids(inbox) == set()
    assert await waiting_ids(other) == {"1"}


async def test_handled_updates_are_forgotten_soon_without_a_flush(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Inbox, "flush_after", 0.05)
    inbox = Inbox(sessionmaker, "telegram", clock)
    await inbox.record([(str(n), {"update_id": n}) for n in range(1, 4)])
    await inbox.done("1")
    await inbox.done("2")
    for _ in range(100):
        if await waiting_ids(inbox) == {"3"}:
            break
        await asyncio.sleep(0.02)
    assert await waiting_ids(inbox) == {"3"}


async def test_a_failed_deletion_leaves_them_to_be_handled_again(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One warning; the updates stay (the next start handles them, once); the next deletion
    works again."""
    inbox = Inbox(sessionmaker, "telegram", clock)
    await inbox.record([(str(n), {"update_id": n}) for n in range(1, 5)])
    real = inbox._delete

    async def broken(update_ids: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(inbox, "_delete", broken)
    for n in range(1, 4):
        await inbox.done(str(n))
    with caplog.at_level(logging.WARNING, logger="storage.inbox"):
        await inbox.flush()
    assert [r.getMessage() for r in caplog.records] == [
        "3 handled telegram updates stay in the inbox: RuntimeError('database gone')"
    ]
    monkeypatch.setattr(inbox, "_delete", real)
    await inbox.done("4")
    await inbox.flush()
    assert await waiting_ids(inbox) == {"1", "2", "3"}
