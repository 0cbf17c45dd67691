"""People, their platform accounts and memberships, and what each person may reach
(``Access``); who leads or serves a unit. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, event, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from domain.catalog import RecordState, Role
from storage.models import (
    Account,
    ConversationState,
    DvkModel,
    Membership,
    ModelYear,
    Person,
    Unit,
)
from storage.unit_tree import ancestor_ids, sort_tree

ROLE_RANK = {Role.OFFICER.value: 1, Role.LEADER.value: 2, Role.ADMIN.value: 3}


async def person_for_account(
    session: AsyncSession, channel: str, external_id: str
) -> Person | None:
    row = (
        await session.execute(
            select(Person, Account.id, Account.unreachable_at)
            .join(Account, Account.person_id == Person.id)
            .where(Account.channel == channel, Account.external_id == external_id)
        )
    ).first()
    if row is None:
        return None
    person, account_id, unreachable_at = row
    await _reached(session, account_id, unreachable_at)
    return person


# Every message needs both the person behind the account and the chat's open flow: one
# statement reads them. Built once; the values are bound at each execution.
_ONE_ROW = select(literal(1).label("one")).subquery()
_PERSON_AND_STATE = (
    select(Person, Account.id, Account.unreachable_at, ConversationState)
    .select_from(_ONE_ROW)
    .outerjoin(
        Account,
        and_(Account.channel == bindparam("channel"), Account.external_id == bindparam("user")),
    )
    .outerjoin(Person, Person.id == Account.person_id)
    .outerjoin(
        ConversationState,
        and_(
            ConversationState.channel == bindparam("channel"),
            ConversationState.chat_id == bindparam("chat"),
        ),
    )
    .execution_options(populate_existing=True)
)


async def person_and_state(
    session: AsyncSession, channel: str, external_id: str, chat_id: str
) -> tuple[Person | None, ConversationState | None]:
    """The person behind an account (None: not invited) and the chat's open flow (None:
    no flow open), read together."""
    person, account_id, unreachable_at, state = (
        await session.execute(
            _PERSON_AND_STATE, {"channel": channel, "user": external_id, "chat": chat_id}
        )
    ).one()
    if person is not None:
        await _reached(session, account_id, unreachable_at)
    return person, state


async def _reached(session: AsyncSession, account_id: int, unreachable_at: datetime | None) -> None:
    if unreachable_at is not None:
        # A message from the account again: the person unblocked the bot.
        await session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(unreachable_at=None, unreachable_reason=None)
        )


async def create_person(
    session: AsyncSession,
    full_name: str,
    channel: str,
    external_id: str,
    display_name: str | None,
    now: datetime,
) -> Person:
    person = Person(full_name=full_name, created_at=now)
    session.add(person)
    await session.flush()
    session.add(
        Account(
            person_id=person.id,
            channel=channel,
            external_id=external_id,
            display_name=display_name,
            created_at=now,
        )
    )
    await session.flush()
    return person


async def memberships(session: AsyncSession, person: Person) -> list[tuple[Membership, Unit]]:
    rows = await session.execute(
        select(Membership, Unit)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(Membership.person_id == person.id)
    )
    return [(m, u) for m, u in rows.all()]


async def role_held(session: AsyncSession, person: Person, unit_id: int) -> str | None:
    """The role ``person`` holds directly on the unit, if any."""
    return await session.scalar(
        select(Membership.role).where(
            Membership.person_id == person.id, Membership.unit_id == unit_id
        )
    )


async def add_membership(
    session: AsyncSession, person: Person, unit: Unit, role: str, now: datetime
) -> Membership:
    """Join a unit, or raise the role held there; never lowers it."""
    existing = await session.scalar(
        select(Membership).where(Membership.person_id == person.id, Membership.unit_id == unit.id)
    )
    if existing is None:
        existing = Membership(person_id=person.id, unit_id=unit.id, role=role, created_at=now)
        session.add(existing)
    elif ROLE_RANK[role] > ROLE_RANK[existing.role]:
        existing.role = role
    await session.flush()
    session.info.get(_ACCESS, {}).pop(person.id, None)
    return existing


@dataclass(frozen=True)
class Access:
    """What one person may reach: units they belong to, and subtrees they lead."""

    direct: dict[int, str]  # unit id -> role held on that unit
    led_paths: tuple[str, ...]  # paths of units held as leader or admin

    @property
    def is_known(self) -> bool:
        return bool(self.direct)

    def role_on(self, unit: Unit) -> str | None:
        """The strongest role that applies to ``unit``: held on it or on an ancestor above it."""
        best: str | None = self.direct.get(unit.id)
        for uid in ancestor_ids(unit):
            role = self.direct.get(uid)
            if (
                role
                and ROLE_RANK[role] >= ROLE_RANK[Role.LEADER]
                and (best is None or ROLE_RANK[role] > ROLE_RANK[best])
            ):
                best = role
        return best

    def can_use(self, unit: Unit) -> bool:
        return self.role_on(unit) is not None

    def can_manage(self, unit: Unit) -> bool:
        role = self.role_on(unit)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[Role.LEADER]

    @property
    def top_role(self) -> str | None:
        return max(self.direct.values(), key=lambda r: ROLE_RANK[r], default=None)


# What a person may reach is asked several times while one message is handled (the list of
# units, then the unit picked): it is read once per transaction and kept in the session.
_ACCESS = "dvk.access"


@event.listens_for(Session, "after_transaction_end")
def _forget_access(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_ACCESS, None)


async def access_of(session: AsyncSession, person: Person | None) -> Access:
    if person is None:
        return Access({}, ())
    known: dict[int, Access] = session.info.setdefault(_ACCESS, {})
    access = known.get(person.id)
    if access is None:
        pairs = await memberships(session, person)
        direct = {u.id: m.role for m, u in pairs}
        led = tuple(u.path for m, u in pairs if ROLE_RANK[m.role] >= ROLE_RANK[Role.LEADER])
        access = known[person.id] = Access(direct, led)
    return access


async def usable_units(session: AsyncSession, access: Access) -> list[Unit]:
    """Every unit the person may act for: their own units and all units below those they lead."""
    if not access.direct:
        return []
    conditions: list[Any] = [Unit.id.in_(list(access.direct))]
    conditions += [Unit.path.startswith(p, autoescape=True) for p in access.led_paths]
    units = (await session.scalars(select(Unit).where(or_(*conditions)))).all()
    return sort_tree(list(units))


async def units_with_models(session: AsyncSession, access: Access, year: int) -> list[Unit]:
    """The units ``access`` may act for that have active models in ``year``, in tree order."""
    units = await usable_units(session, access)
    if not units:
        return []
    having = set(
        (
            await session.scalars(
                select(DvkModel.unit_id)
                .join(ModelYear, ModelYear.model_id == DvkModel.id)
                .where(
                    ModelYear.year == year,
                    ModelYear.state == RecordState.ACTIVE.value,
                    DvkModel.unit_id.in_([u.id for u in units]),
                )
                .distinct()
            )
        ).all()
    )
    return [u for u in units if u.id in having]


async def officers_of_unit(session: AsyncSession, unit_id: int) -> list[int]:
    """Ids of the people who hold the officer role on the unit itself."""
    rows = await session.scalars(
        select(Membership.person_id)
        .where(Membership.unit_id == unit_id, Membership.role == Role.OFFICER.value)
        .order_by(Membership.person_id)
    )
    return list(rows.all())


async def leaders_over(session: AsyncSession, unit: Unit) -> list[tuple[str, str]]:
    """(full name, unit name) of the leaders and admins of ``unit`` and of every unit above
    it, the nearest level first: who can act where an officer no longer can."""
    ids = ancestor_ids(unit)
    rows = await session.execute(
        select(Person.full_name, Unit.name, Unit.path)
        .join(Membership, Membership.person_id == Person.id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            Membership.unit_id.in_(ids),
            Membership.role.in_([Role.LEADER.value, Role.ADMIN.value]),
        )
    )
    found = sorted(rows.all(), key=lambda r: (-len(r.path), r.full_name))
    return [(name, unit_name) for name, unit_name, _path in found]


async def accounts_of(session: AsyncSession, person_ids: Iterable[int]) -> list[Account]:
    ids = sorted(set(person_ids))
    if not ids:
        return []
    rows = await session.scalars(
        select(Account).where(Account.person_id.in_(ids)).order_by(Account.person_id, Account.id)
    )
    return list(rows.all())
