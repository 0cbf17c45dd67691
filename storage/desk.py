"""Sign-in to the leaders' web page (/web): one-time links and the sessions they open.

A link holds a random token; only its SHA-256 is stored, with the person it signs in, and it
works once, within :data:`LINK_TTL`. Using it opens a session of :data:`SESSION_TTL` on the
same row; signing out ends it. The web server keeps the session's id in a signed cookie and
asks :func:`session_person` on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DeskLogin, Person

LINK_TTL = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=8)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewLink:
    token: str  # shown once, in the link; never stored
    expires_at: datetime


async def create_link(session: AsyncSession, person: Person, now: datetime) -> NewLink:
    """A fresh one-time sign-in token for ``person``; their earlier unused links stop
    working."""
    await session.execute(
        update(DeskLogin)
        .where(DeskLogin.person_id == person.id, DeskLogin.used_at.is_(None))
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    expires = now + LINK_TTL
    session.add(
        DeskLogin(
            person_id=person.id, token_hash=token_hash(token), created_at=now, expires_at=expires
        )
    )
    await session.flush()
    return NewLink(token, expires)


@dataclass(frozen=True)
class Opened:
    login_id: int
    person_id: int
    expires_at: datetime  # of the session


async def use_link(session: AsyncSession, token: str, now: datetime) -> Opened | None:
    """Open a session with a link's token: None when the token is unknown, used or expired.
    Atomic: of two requests with the same token, one opens the session."""
    digest = token_hash(token)
    row = await session.scalar(select(DeskLogin).where(DeskLogin.token_hash == digest))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    expires = now + SESSION_TTL
    result = await session.execute(
        update(DeskLogin)
        .where(DeskLogin.id == row.id, DeskLogin.used_at.is_(None), DeskLogin.expires_at > now)
        .values(used_at=now, session_expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return Opened(row.id, row.person_id, expires)


async def session_person(session: AsyncSession, login_id: int, now: datetime) -> Person | None:
    """The person of an open session (used, not signed out, not expired), else None."""
    row = await session.get(DeskLogin, login_id)
    if (
        row is None
        or row.used_at is None
        or row.ended_at is not None
        or row.session_expires_at is None
        or row.session_expires_at <= now
    ):
        return None
    return await session.get(Person, row.person_id)


async def end_session(session: AsyncSession, login_id: int, now: datetime) -> None:
    await session.execute(
        update(DeskLogin)
        .where(DeskLogin.id == login_id, DeskLogin.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
