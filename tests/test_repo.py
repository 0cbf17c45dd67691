"""Storage: the unit tree, who reaches what, invites, campaigns, migrations, logging."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import TokenFilter
from domain.messages import split_text
from handlers.core import Core
from storage import deadlines, invites, people, unit_tree
from storage.db import alembic_config, current_revision
from storage.models import Account, Base, Invite, Membership, Unit
from storage.units import find_units_by_name
from tests.helpers import Chat, Clock, World


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    """The schema built by the migrations is exactly the one the models describe."""

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    assert await current_revision(engine) == script.get_current_head()


async def test_unit_tree_of_any_depth_and_its_order(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    now = clock()
    async with sessionmaker() as session, session.begin():
        province = await unit_tree.add_unit(session, "Tỉnh ủy Hòa Bình", "tinh", None, now)
        district = await unit_tree.add_unit(session, "Huyện ủy Lạc Sơn", "huyen", province, now)
        commune = await unit_tree.add_unit(session, "Đảng ủy xã Ân Nghĩa", "xa", district, now)
        hamlet = await unit_tree.add_unit(session, "Chi bộ xóm Bái", "chi_bo", commune, now)
        other = await unit_tree.add_unit(session, "Huyện ủy Cao Phong", "huyen", province, now)
    assert hamlet.path == f"/{province.id}/{district.id}/{commune.id}/{hamlet.id}/"
    assert unit_tree.ancestor_ids(hamlet) == [province.id, district.id, commune.id, hamlet.id]
    async with sessionmaker() as session:
        names = [(u.depth, u.name) for u in await unit_tree.list_units(session)]
        below_district = [u.name for u in await unit_tree.list_units(session, district)]
        found = await find_units_by_name(session, "  chi bo XOM bai ")
    assert names == [
        (0, "Tỉnh ủy Hòa Bình"),
        (1, "Huyện ủy Cao Phong"),
        (1, "Huyện ủy Lạc Sơn"),
        (2, "Đảng ủy xã Ân Nghĩa"),
        (3, "Chi bộ xóm Bái"),
    ]
    assert below_district == ["Huyện ủy Lạc Sơn", "Đảng ủy xã Ân Nghĩa", "Chi bộ xóm Bái"]
    assert [u.id for u in found] == [hamlet.id]
    assert other.path == f"/{province.id}/{other.id}/"


async def test_access_follows_the_tree(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with sessionmaker() as session:
        leader = await people.access_of(session, world.leader)
        officer = await people.access_of(session, world.officer)
        outsider = await people.access_of(session, world.outsider)
        stranger = await people.access_of(session, None)
        leader_units = {u.name for u in await people.usable_units(session, leader)}
        officer_units = {u.name for u in await people.usable_units(session, officer)}
    # The ward leader reaches the ward and everything below it, nothing of the other ward.
    assert leader_units == {
        "Đảng bộ phường Minh Khai",
        "Chi bộ Tổ dân phố 1",
        "Chi bộ Tổ dân phố 2",
        "Hội LHPN phường",
    }
    assert leader.can_manage(world.cell1)
    assert leader.role_on(world.cell2) == "leader"
    assert not leader.can_use(world.other_cell)
    assert not leader.can_use(world.other_ward)
    # An officer reaches their own unit only, and manages nothing.
    assert officer_units == {"Chi bộ Tổ dân phố 1"}
    assert officer.role_on(world.cell1) == "officer"
    assert not officer.can_manage(world.cell1)
    assert not officer.can_use(world.cell2)
    assert not officer.can_use(world.ward)
    assert outsider.can_use(world.other_cell)
    assert not outsider.can_use(world.cell1)
    assert not stranger.is_known
    assert stranger.top_role is None


async def test_one_person_with_accounts_on_two_channels(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    async with sessionmaker() as session:
        by_terminal = await people.person_for_account(session, "terminal", "lan")
        by_telegram = await people.person_for_account(session, "telegram", "1001")
        nobody = await people.person_for_account(session, "telegram", "lan")
    assert by_terminal is not None
    assert by_telegram is not None
    assert by_terminal.id == by_telegram.id == world.officer.id
    assert nobody is None
    # The same platform account cannot belong to two people.
    with pytest.raises(IntegrityError):
        async with sessionmaker() as session, session.begin():
            session.add(
                Account(
                    person_id=world.leader.id,
                    channel="telegram",
                    external_id="1001",
                    created_at=clock(),
                )
            )


async def test_invite_problems_are_told_apart(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    now = clock()
    async with sessionmaker() as session, session.begin():
        once = await invites.create_invite(session, world.cell1, "officer", 1, 7, now)
        short = await invites.create_invite(session, world.cell1, "officer", 5, 1, now)
    async with sessionmaker() as session, session.begin():
        # Codes are read case-insensitively and with stray spaces or dashes.
        taken = await invites.consume_invite(
            session, f" {once.code.lower()[:4]}-{once.code[4:]} ", now
        )
        assert taken.uses_left == 0
    reasons = []
    for code, when in (
        (once.code, now),
        (short.code, now + timedelta(days=1, seconds=1)),
        ("KHONGCO1", now),
    ):
        async with sessionmaker() as session:
            with pytest.raises(invites.InviteProblem) as problem:
                await invites.check_invite(session, code, when)
            reasons.append(problem.value.reason)
    assert reasons == ["used_up", "expired", "unknown"]


async def test_two_people_racing_for_the_last_use_of_an_invite(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    now = clock()
    async with sessionmaker() as session, session.begin():
        invite = await invites.create_invite(session, world.cell2, "officer", 1, 7, now)
    winners: list[bool] = []

    async def join() -> None:
        async with sessionmaker() as session, session.begin():
            try:
                await invites.consume_invite(session, invite.code, now)
            except invites.InviteProblem:
                winners.append(False)
            else:
                winners.append(True)

    await asyncio.gather(*(join() for _ in range(5)))
    assert sorted(winners) == [False, False, False, False, True]
    async with sessionmaker() as session:
        left = await session.scalar(select(Invite.uses_left).where(Invite.id == invite.id))
    assert left == 0


async def test_membership_is_unique_per_unit_and_role(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    async with sessionmaker() as session, session.begin():
        await people.add_membership(session, world.officer, world.cell1, "officer", clock())
        await people.add_membership(session, world.officer, world.cell2, "officer", clock())
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Membership.unit_id).where(Membership.person_id == world.officer.id)
        )
        units = sorted(rows.all())
    assert units == sorted([world.cell1.id, world.cell2.id])


async def test_deadlines_default_and_set_by_a_level(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, world: World
) -> None:
    now = clock()
    async with sessionmaker() as session, session.begin():
        ward = await session.get(Unit, world.ward.id)
        assert ward is not None
        defaults = {d.kind: d.due_on for d in await deadlines.dues_for(session, ward, 2026)}
        await deadlines.set_deadline(session, ward, 2026, "registration", date(2026, 4, 30), now)
    assert defaults == {
        "registration": date(2026, 4, 15),
        "evaluation": date(2026, 11, 15),
        "unit_report": date(2026, 11, 25),
        "consolidated": date(2026, 12, 5),
    }
    async with sessionmaker() as session:
        cell = await session.get(Unit, world.cell1.id)
        other = await session.get(Unit, world.other_cell.id)
        assert cell is not None
        assert other is not None
        due = await deadlines.due_for(session, cell, 2026, "registration")
        elsewhere = await deadlines.due_for(session, other, 2026, "registration")
        consolidated = await deadlines.due_for(session, cell, 2026, "consolidated")
    # The ward's plan applies below it, not in another ward; the other dates stay the defaults.
    assert (due.due_on, due.set_by) == (date(2026, 4, 30), world.ward.id)
    assert (elsewhere.due_on, elsewhere.set_by) == (date(2026, 4, 15), None)
    assert consolidated.due_on == date(2026, 12, 5)


def test_tokens_are_masked_in_every_log_line(caplog: pytest.LogCaptureFixture) -> None:
    token = "123456:AAEsecretPART"
    logger = logging.getLogger("test.token")
    handler = logging.StreamHandler()
    token_filter = TokenFilter([token])
    caplog.handler.addFilter(token_filter)
    handler.addFilter(token_filter)
    with caplog.at_level(logging.INFO, "test.token"):
        logger.info("POST https://api.telegram.org/bot%s/getUpdates failed", token)
        logger.info("nothing secret here: %d", 5)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "POST https://api.telegram.org/bot***/getUpdates failed",
        "nothing secret here: 5",
    ]


def test_split_text_keeps_lines_whole_and_order() -> None:
    lines = [f"Dòng {i}: " + "chữ " * (i % 7) for i in range(200)]
    text = "\n".join(lines)
    parts = split_text(text, 300)
    assert all(0 < len(p) <= 300 for p in parts)
    assert "\n".join(parts) == text
    # A single line longer than the limit is cut, nothing is lost.
    long = "x" * 950
    cut = split_text(long, 400)
    assert [len(p) for p in cut] == [400, 400, 150]
    assert "".join(cut) == long
    assert split_text("ngắn", 10) == ["ngắn"]


async def test_a_message_from_an_unreachable_account_marks_it_reachable_again(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    async with sessionmaker() as session, session.begin():
        account = await session.scalar(
            select(Account).where(Account.channel == "telegram", Account.external_id == "1001")
        )
        assert account is not None
        account.unreachable_at = clock()
        account.unreachable_reason = "Forbidden: bot was blocked by the user"
    await Chat(core, "1001", channel="telegram").send("/trogiup")
    async with sessionmaker() as session:
        account = await session.scalar(
            select(Account).where(Account.channel == "telegram", Account.external_id == "1001")
        )
        assert account is not None
        assert (account.unreachable_at, account.unreachable_reason) == (None, None)
