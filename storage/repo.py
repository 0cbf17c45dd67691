"""Queries and writes used by the commands. Callers own the transaction."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, delete, event, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from domain.catalog import RecordState, Review, Role
from domain.text import fold, match_names
from storage.models import (
    Account,
    AuditLog,
    ConversationState,
    CouncilScore,
    DvkModel,
    Invite,
    LinkCode,
    Membership,
    ModelScore,
    ModelYear,
    Person,
    Unit,
)

ROLE_RANK = {Role.OFFICER.value: 1, Role.LEADER.value: 2, Role.ADMIN.value: 3}

# Default deadlines of a year (DOMAIN.md): kind, title, day, month.

# Readable codes: no 0/O, 1/I/L that people misread on a small screen.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


# --- units -------------------------------------------------------------------


async def add_unit(
    session: AsyncSession, name: str, kind: str, parent: Unit | None, now: datetime
) -> Unit:
    unit = Unit(name=name, kind=kind, parent_id=parent.id if parent else None, created_at=now)
    session.add(unit)
    await session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    await session.flush()
    return unit


async def list_units(session: AsyncSession, root: Unit | None = None) -> list[Unit]:
    query = select(Unit)
    if root is not None:
        query = query.where(Unit.path.startswith(root.path, autoescape=True))
    units = list((await session.scalars(query)).all())
    return sort_tree(units)


def sort_tree(units: Sequence[Unit]) -> list[Unit]:
    """Depth-first order, siblings by name (Vietnamese-insensitive)."""
    by_id = {u.id: u for u in units}

    def key(u: Unit) -> tuple[str, ...]:
        ids = [int(x) for x in u.path.strip("/").split("/") if x]
        return tuple(fold(by_id[i].name) + f"#{i:09d}" if i in by_id else f"#{i:09d}" for i in ids)

    return sorted(units, key=key)


async def find_units_by_name(
    session: AsyncSession, name: str, partial: bool = False, within: Unit | None = None
) -> list[Unit]:
    """The units ``name`` names (``domain.text.match_names``: the exact name wins, a name
    typed without diacritics counts when nothing is exact; with ``partial``, a part of a
    name), in ``within``'s subtree if given. Several units back are an ambiguity."""
    units = await list_units(session, within)
    return list(match_names(name, units, _unit_name, partial=partial).found)


def _unit_name(unit: Unit) -> str:
    return unit.name


def ancestor_ids(unit: Unit) -> list[int]:
    """Ids on the path from the root down to ``unit``, the unit itself last."""
    return [int(x) for x in unit.path.strip("/").split("/") if x]


# --- people and access -------------------------------------------------------


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


async def unit_labels(session: AsyncSession, units: Sequence[Unit]) -> dict[int, str]:
    """How to name each unit in a list a person picks from: its name, and for names that
    appear twice (a cell of the same name in two wards) its parent's name as well."""
    counts = Counter(fold(u.name) for u in units)
    twins = {u.id: u.parent_id for u in units if counts[fold(u.name)] > 1 and u.parent_id}
    parents: dict[int, str] = {}
    if twins:
        rows = await session.execute(
            select(Unit.id, Unit.name).where(Unit.id.in_(set(twins.values())))
        )
        parents = dict(rows.tuples().all())
    return {u.id: f"{u.name} — {parents[twins[u.id]]}" if u.id in twins else u.name for u in units}


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


# --- invites -----------------------------------------------------------------


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


# --- campaigns ---------------------------------------------------------------


# --- models ------------------------------------------------------------------


async def records_of_unit(
    session: AsyncSession, unit_id: int, year: int, *, active_only: bool = True
) -> list[ModelYear]:
    query = (
        select(ModelYear)
        .join(DvkModel, DvkModel.id == ModelYear.model_id)
        .where(DvkModel.unit_id == unit_id, ModelYear.year == year)
        .order_by(ModelYear.id)
    )
    if active_only:
        query = query.where(ModelYear.state == RecordState.ACTIVE.value)
    return list((await session.scalars(query)).all())


async def keepable_records(session: AsyncSession, unit_id: int, year: int) -> list[ModelYear]:
    """Last year's active models of the unit not yet registered again this year (one
    withdrawn this year may be kept again); models removed from the list (thanh loại) last
    year are not offered."""
    taken = select(ModelYear.model_id).where(
        ModelYear.year == year, ModelYear.state == RecordState.ACTIVE.value
    )
    query = (
        select(ModelYear)
        .join(DvkModel, DvkModel.id == ModelYear.model_id)
        .where(
            DvkModel.unit_id == unit_id,
            ModelYear.year == year - 1,
            ModelYear.state == RecordState.ACTIVE.value,
            or_(ModelYear.review.is_(None), ModelYear.review != Review.REMOVED.value),
            ModelYear.model_id.not_in(taken),
        )
        .order_by(ModelYear.id)
    )
    return list((await session.scalars(query)).all())


async def lock_record_of_year(session: AsyncSession, model_id: int, year: int) -> ModelYear | None:
    """The model's record of ``year`` (any state), read afresh and locked until the
    transaction ends, like ``lock_record``; None when the model has none that year."""
    return await session.scalar(
        select(ModelYear)
        .where(ModelYear.model_id == model_id, ModelYear.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def unit_of_record(session: AsyncSession, record: ModelYear) -> Unit:
    unit = await session.scalar(
        select(Unit)
        .join(DvkModel, DvkModel.unit_id == Unit.id)
        .where(DvkModel.id == record.model_id)
    )
    assert unit is not None
    return unit


async def count_records(session: AsyncSession, year: int | None = None) -> int:
    query = select(func.count(ModelYear.id))
    if year is not None:
        query = query.where(ModelYear.year == year)
    return int(await session.scalar(query) or 0)


async def audit(
    session: AsyncSession,
    person_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    details: dict[str, Any],
    now: datetime,
    channel: str | None = None,
) -> None:
    session.add(
        AuditLog(
            person_id=person_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            details=details,
            at=now,
            via_channel=channel,
        )
    )


def changed_fields(
    before: dict[str, Any], after: dict[str, Any], keys: Iterable[str]
) -> dict[str, Any]:
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


# --- results, scores and recognition (/ketqua, /chamdiem, /dexuat, /duyet) ----------


async def lock_record(session: AsyncSession, record_id: int) -> ModelYear | None:
    """The record read afresh and locked until the transaction ends (FOR UPDATE on
    PostgreSQL; SQLite writes one transaction at a time), so that two decisions, or a
    decision and a new proposal, cannot cross."""
    return await session.scalar(
        select(ModelYear)
        .where(ModelYear.id == record_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def scores_of(
    session: AsyncSession, record_ids: Iterable[int], council: bool = False
) -> dict[int, dict[int, Decimal]]:
    """Saved points per record: record id → criterion → points (records without any are
    absent); the self-score, or with ``council`` the council's assessment."""
    ids = list(record_ids)
    if not ids:
        return {}
    table = CouncilScore if council else ModelScore
    rows = await session.execute(
        select(table.model_year_id, table.criterion, table.points).where(
            table.model_year_id.in_(ids)
        )
    )
    scores: dict[int, dict[int, Decimal]] = {}
    for record_id, criterion, points in rows.all():
        scores.setdefault(record_id, {})[criterion] = Decimal(points)
    return scores


async def replace_scores(
    session: AsyncSession,
    record_id: int,
    points: Mapping[int, Decimal],
    person_id: int | None,
    now: datetime,
    council: bool = False,
) -> None:
    """The record's points become exactly ``points`` (earlier ones are deleted): the
    officer's self-score, or with ``council`` the council's assessment."""
    table = CouncilScore if council else ModelScore
    await session.execute(
        delete(table)
        .where(table.model_year_id == record_id)
        .execution_options(synchronize_session=False)
    )
    session.add_all(
        table(
            model_year_id=record_id,
            criterion=criterion,
            points=value,
            scored_by=person_id,
            scored_at=now,
        )
        for criterion, value in sorted(points.items())
    )
    await session.flush()


async def proposed_records(
    session: AsyncSession, paths: Sequence[str], review: str = Review.PROPOSED.value
) -> list[tuple[ModelYear, Unit]]:
    """Active records proposed for recognition (or, with ``review``, at that stage: e.g.
    recognised) in the subtrees at ``paths`` (a leader's), oldest proposal first."""
    if not paths:
        return []
    rows = await session.execute(
        select(ModelYear, Unit)
        .join(DvkModel, DvkModel.id == ModelYear.model_id)
        .join(Unit, Unit.id == DvkModel.unit_id)
        .where(
            ModelYear.review == review,
            ModelYear.state == RecordState.ACTIVE.value,
            or_(*(Unit.path.startswith(p, autoescape=True) for p in paths)),
        )
        .order_by(ModelYear.proposed_at, ModelYear.id)
    )
    return [(record, unit) for record, unit in rows.all()]


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
