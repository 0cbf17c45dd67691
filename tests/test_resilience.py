"""Failures inside the core: never a stack trace, never half a record, always a way out."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from handlers.core import Core
from handlers.texts import SORRY
from storage import audit_log
from storage.models import ConversationState, ModelYear, ProcessedUpdate
from tests.helpers import Chat, Clock, World

ANSWERS = (
    "xay dung moi",
    "Mô hình sân chơi cho trẻ em",
    "van hoa xa hoi",
    "tap the",
    "Chi đoàn Tổ dân phố 1",
    "Tổ dân phố 1",
    "doan thanh nien",
    "1 sân chơi, 80 trẻ em",
)


async def count_records(sm: async_sessionmaker[AsyncSession]) -> int:
    async with sm() as session:
        stmt = select(func.count(ModelYear.id)).where(ModelYear.year == 2026)
        return int(await session.scalar(stmt) or 0)


async def test_a_failure_while_saving_writes_nothing_and_keeps_the_answers(
    core: Core,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chat = Chat(core, "lan")
    await chat.send("/dangky")
    await chat.answers(*ANSWERS)
    assert "kiểm tra lại trước khi lưu" in chat.last.text

    async def broken_audit(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    # The record is written first, then the audit row fails: the whole message rolls back.
    monkeypatch.setattr(audit_log, "audit", broken_audit)
    await chat.send("luu")
    assert chat.last.text == SORRY
    assert "Traceback" not in chat.text
    assert "disk full" in caplog.text
    assert await count_records(sessionmaker) == 0

    monkeypatch.undo()
    await chat.send("luu")  # still on the summary, every answer kept
    assert "Đã lưu mô hình xây dựng mới năm 2026" in chat.last.text
    assert await count_records(sessionmaker) == 1


async def test_a_broken_saved_state_can_always_be_cancelled(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    chat = Chat(core, "lan")
    await chat.send("/dangky")
    await chat.send("xay dung moi")
    # A state of this version the code cannot read any more (as after a bad deployment).
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(ConversationState)
            .where(ConversationState.chat_id == "lan")
            .values(data={"v": 2, "unexpected": True})
        )
    await chat.send("Tên mô hình")
    assert chat.last.text == SORRY
    assert "/huy" in SORRY
    await chat.send("/huy")
    assert chat.last.text.startswith("Đã hủy thao tác đang làm dở.")
    async with sessionmaker() as session:
        left = await session.scalar(select(func.count()).select_from(ConversationState))
    assert left == 0
    await chat.send("/dangky")
    assert "Bước 1/8" in chat.last.text
    assert await count_records(sessionmaker) == 0

    # A state written by an older version (no "v": 2) is closed on the next message, with a
    # note; the message is then taken as outside a flow.
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(ConversationState)
            .where(ConversationState.chat_id == "lan")
            .values(data={"unexpected": True})
        )
    await chat.send("Tên mô hình")
    assert [r.text for r in chat.replies] == [
        "Thao tác đang làm dở “Đăng ký mô hình” được tạo từ phiên bản trước của trợ lý nên đã "
        "được hủy; những gì đã lưu trước đó vẫn còn. Vui lòng bắt đầu lại.",
        # Taken as plain words: close to the name of /mohinh, so a guess to confirm.
        "Có phải đồng chí muốn /mohinh (xem, sửa hoặc rút mô hình đã đăng ký)? "
        "Gõ /mohinh để bắt đầu.",
    ]
    async with sessionmaker() as session:
        left = await session.scalar(select(func.count()).select_from(ConversationState))
    assert left == 0


async def test_old_update_ids_are_forgotten_recent_ones_kept(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    chat = Chat(core, "1001", channel="telegram")
    await chat.send("/trogiup", update_id="1")
    assert await chat.send("/trogiup", update_id="1") == []  # redelivered: answered once
    clock.advance(days=2)
    await chat.send("/trogiup", update_id="2")
    clock.advance(days=1, hours=12)
    await chat.send("/trogiup", update_id="3")
    async with sessionmaker() as session:
        kept = sorted((await session.scalars(select(ProcessedUpdate.update_id))).all())
    assert kept == ["2", "3"]


async def test_a_dropped_database_connection_is_retried_on_a_fresh_one(
    core: Core, world: World, engine: AsyncEngine, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: the server drops the pooled connection")
    chat = Chat(core, "lan")
    await chat.send("/dangky")  # the pool now holds a live connection
    admin = create_async_engine(db_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        killed = await conn.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await admin.dispose()
    assert killed
    await chat.send("xay dung moi")
    assert "Bước 2/8" in chat.last.text
