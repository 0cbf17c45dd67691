"""Invite codes (joining a unit with a role) and one-time link codes (a second platform
account for the same person, /lienket). Callers own the transaction."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, Invite, LinkCode, Person, Unit
from storage.people import person_for_account

# Readable codes: no 0/O, 1/I/L that people misread on a small screen.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_code(length: int = 8) -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


async def create_invite(
    session: AsyncSession, unit: Unit, role: str, uses: int, days: int, now: datetime
) -> Invite:
    invite = Invite(
        code=new_code(),
        unit_id=unit.id,
        role=role,
        uses_left=uses,
        expires_at=now + timedelta(days=days),
        created_at=now,
    )
    session.add(invite)
    await session.flush()
    return invite


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


class InviteProblem(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # unknown | expired | used_up | taken (link codes)


async def check_invite(session: AsyncSession, code: str, now: datetime) -> Invite:
    invite = await session.scalar(select(Invite).where(Invite.code == normalise_code(code)))
    if invite is None:
        raise InviteProblem("unknown")
    if invite.expires_at <= now:
        raise InviteProblem("expired")
    if invite.uses_left <= 0:
        raise InviteProblem("used_up")
    return invite


async def consume_invite(session: AsyncSession, code: str, now: datetime) -> Invite:
    """Take one use of a valid invite; two people racing for the last use cannot both win."""
    invite = await check_invite(session, code, now)
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.uses_left > 0, Invite.expires_at > now)
        .values(uses_left=Invite.uses_left - 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InviteProblem("used_up")
    await session.refresh(invite)
    return invite


# --- linking a second platform account (/lienket) ----------------------------

LINK_CODE_TTL = timedelta(minutes=15)


async def create_link_code(session: AsyncSession, person: Person, now: datetime) -> LinkCode:
    """A fresh one-time code; the person's earlier unused codes stop working."""
    await session.execute(
        update(LinkCode)
        .where(LinkCode.person_id == person.id, LinkCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    link = LinkCode(
        code=new_code(8), person_id=person.id, expires_at=now + LINK_CODE_TTL, created_at=now
    )
    session.add(link)
    await session.flush()
    return link


async def use_link_code(
    session: AsyncSession, code: str, channel: str, external_id: str, now: datetime
) -> Person:
    """Attach the account (channel, external_id) to the person who asked for ``code``.

    Raises InviteProblem("unknown" | "expired" | "used_up" | "taken")."""
    link = await session.get(LinkCode, normalise_code(code))
    if link is None:
        raise InviteProblem("unknown")
    if link.used_at is not None:
        raise InviteProblem("used_up")
    if link.expires_at <= now:
        raise InviteProblem("expired")
    owner = await person_for_account(session, channel, external_id)
    if owner is not None and owner.id != link.person_id:
        raise InviteProblem("taken")
    result = await session.execute(
        update(LinkCode)
        .where(LinkCode.code == link.code, LinkCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InviteProblem("used_up")
    person = await session.get(Person, link.person_id)
    assert person is not None
    if owner is None:
        session.add(
            Account(person_id=person.id, channel=channel, external_id=external_id, created_at=now)
        )
        await session.flush()
    return person
