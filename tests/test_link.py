"""/lienket: one person, accounts on Telegram and Zalo, the same units and roles."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.texts.account import LINK_PROBLEMS, NOT_INVITED
from domain.messages import Reply
from handlers.core import Core
from storage.models import Account, AuditLog
from tests.helpers import Chat, Clock, World


async def link_code(chat: Chat) -> str:
    await chat.send("/lienket")
    match = re.search(r"Mã liên kết của đồng chí: (\w+)\n", chat.last.text)
    assert match is not None, chat.last.text
    return match.group(1)


async def accounts_of(sm: async_sessionmaker[AsyncSession], person_id: int) -> set[tuple[str, str]]:
    async with sm() as session:
        rows = await session.execute(
            select(Account.channel, Account.external_id).where(Account.person_id == person_id)
        )
        return {(c, e) for c, e in rows.all()}


async def test_a_telegram_officer_links_a_zalo_account(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    telegram = Chat(core, "1001", channel="telegram")
    code = await link_code(telegram)
    assert "Mở trợ lý trên Zalo hoặc dòng lệnh và gõ: /lienket " + code in telegram.last.text
    assert "một lần trong 15 phút" in telegram.last.text

    zalo = Chat(core, "z-77", channel="zalo")
    await zalo.send("/dangky")
    assert zalo.replies == [Reply(NOT_INVITED)]
    await zalo.send(f"/lienket {code.lower()}")
    assert zalo.last.text.startswith(
        "Đã liên kết tài khoản Zalo này với Nguyễn Thị Lan. Các đơn vị và vai trò của đồng chí "
        "dùng được ở đây."
    )
    assert await accounts_of(sessionmaker, world.officer.id) == {
        ("terminal", "lan"),
        ("telegram", "1001"),
        ("zalo", "z-77"),
    }
    # The same person, the same unit: registration starts on Zalo without an invite.
    await zalo.send("/trogiup")
    assert "• cán bộ phụ trách — Chi bộ Tổ dân phố 1" in zalo.last.text
    await zalo.send("/dangky")
    assert "Đăng ký mô hình năm 2026 — Bước 1/8" in zalo.last.text
    async with sessionmaker() as session:
        logged = (await session.scalars(select(AuditLog).where(AuditLog.action == "link"))).all()
    assert [(a.person_id, a.details, a.via_channel) for a in logged] == [
        (world.officer.id, {"channel": "zalo"}, "zalo")
    ]


async def test_link_codes_are_one_time_short_lived_and_personal(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    telegram = Chat(core, "1001", channel="telegram")
    first = await link_code(telegram)
    second = await link_code(telegram)
    assert first != second
    zalo = Chat(core, "z-1", channel="zalo")
    # Asking again replaces the earlier code.
    await zalo.send(f"/lienket {first}")
    assert zalo.replies == [Reply(LINK_PROBLEMS["used_up"])]
    await zalo.send("/lienket SAIMA999")
    assert zalo.replies == [Reply(LINK_PROBLEMS["unknown"])]
    clock.advance(minutes=16)
    await zalo.send(f"/lienket {second}")
    assert zalo.replies == [Reply(LINK_PROBLEMS["expired"])]

    third = await link_code(telegram)
    await zalo.send(f"/lienket {third}")
    assert zalo.last.text.startswith("Đã liên kết tài khoản Zalo")
    # Used once: nobody else can use it, and the same account linking again is told so.
    other = Chat(core, "z-2", channel="zalo")
    await other.send(f"/lienket {third}")
    assert other.replies == [Reply(LINK_PROBLEMS["used_up"])]
    again = await link_code(telegram)
    await zalo.send(f"/lienket {again}")
    assert zalo.last.text.startswith("Tài khoản này đã được liên kết với đồng chí.")
    assert ("zalo", "z-2") not in await accounts_of(sessionmaker, world.officer.id)


async def test_an_account_of_someone_else_is_never_taken_over(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # The leader's Telegram account asks for a code; the officer's Telegram account tries it.
    leader = Chat(core, "2001", channel="telegram")
    code = await link_code(leader)
    officer = Chat(core, "1001", channel="telegram")
    await officer.send(f"/lienket {code}")
    assert officer.replies == [Reply(LINK_PROBLEMS["taken"])]
    assert await accounts_of(sessionmaker, world.officer.id) == {
        ("terminal", "lan"),
        ("telegram", "1001"),
    }
    # The code was not spent by the refusal.
    zalo = Chat(core, "z-9", channel="zalo")
    await zalo.send(f"/lienket {code}")
    assert zalo.last.text.startswith("Đã liên kết tài khoản Zalo này với Trần Văn Hùng.")


async def test_a_stranger_asking_for_a_link_code_gets_the_invite_text(
    core: Core, world: World
) -> None:
    stranger = Chat(core, "z-404", channel="zalo")
    await stranger.send("/lienket")
    assert stranger.replies == [Reply(NOT_INVITED)]
    assert "/lienket MÃ" in NOT_INVITED
