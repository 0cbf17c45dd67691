"""Which date applies to a unit: the deadlines a level set for its own subtree (the province's
plan, a ward's plan with its 25/11 and 5/12), the nearest level above a unit winning, else the
default of ``domain/calendar.py``; and a deadline reopened for one unit by a leader.

One year's plan is a handful of rows (one per level that set dates), read once and resolved
for any number of units in memory: :class:`YearPlan`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar import DEADLINE_KINDS, EVALUATION, TITLES, default_date
from storage.models import Campaign, Deadline, DeadlineExtension, Unit


@dataclass(frozen=True)
class Due:
    """A deadline as it applies to one unit."""

    kind: str
    title: str
    due_on: date
    set_by: int | None  # the unit whose plan set it; None: the default date
    extended_to: date | None = None  # reopened for this unit until then

    @property
    def closes_on(self) -> date:
        """The last day the unit may still do what is due."""
        if self.extended_to is not None and self.extended_to > self.due_on:
            return self.extended_to
        return self.due_on


def _path_ids(path: str) -> list[int]:
    return [int(x) for x in path.strip("/").split("/") if x]


DEFAULT_LEVEL = "d"  # no level set the date: the default of the calendar


@dataclass(frozen=True)
class YearPlan:
    """The dates set for one year by every level, and the extensions granted."""

    year: int
    set_dates: dict[tuple[int, str], Deadline]  # (unit id, kind) -> the row that level set
    extensions: dict[tuple[int, str], date]  # (unit id, kind) -> reopened until

    def due(self, unit: Unit, kind: str) -> Due:
        return self.due_at(unit.id, unit.path, kind)

    def due_at(self, unit_id: int, path: str, kind: str) -> Due:
        """The deadline of the unit ``unit_id`` whose tree path is ``path``."""
        extended = self.extensions.get((unit_id, kind))
        for uid in reversed(_path_ids(path)):  # the unit itself, then up the tree
            row = self.set_dates.get((uid, kind))
            if row is not None:
                return Due(kind, row.title, row.due_on, uid, extended)
        return self.default(kind, extended)

    def level(self, unit_id: int, path: str, kind: str) -> tuple[str, Due]:
        """Which plan governs the unit's date: "u<id>" of the level that set it, "x<id>" of
        an extension for the unit itself, or the default; with the deadline."""
        due = self.due_at(unit_id, path, kind)
        if due.closes_on != due.due_on:
            return f"x{unit_id}", due
        if due.set_by is None:
            return DEFAULT_LEVEL, due
        return f"u{due.set_by}", due

    def default(self, kind: str, extended: date | None = None) -> Due:
        return Due(kind, TITLES[kind], default_date(kind, self.year), None, extended)

    def defaults(self) -> list[Due]:
        """The year's deadlines where no level set a date, in date order."""
        return sorted((self.default(k) for k in DEADLINE_KINDS), key=lambda d: d.due_on)

    def dues(self, unit: Unit) -> list[Due]:
        """Every deadline of the year for ``unit``, in date order."""
        return sorted((self.due(unit, k) for k in DEADLINE_KINDS), key=lambda d: d.due_on)

    def levels(self) -> set[int]:
        """The units that set at least one date of the year."""
        return {uid for uid, _kind in self.set_dates}


async def ensure_campaign(session: AsyncSession, year: int, now: datetime) -> Campaign:
    campaign = await session.scalar(select(Campaign).where(Campaign.year == year))
    if campaign is None:
        campaign = Campaign(year=year, created_at=now)
        session.add(campaign)
        await session.flush()
    return campaign


async def year_plan(session: AsyncSession, year: int) -> YearPlan:
    rows = await session.scalars(
        select(Deadline)
        .join(Campaign, Campaign.id == Deadline.campaign_id)
        .where(Campaign.year == year)
    )
    extensions = await session.execute(
        select(DeadlineExtension.unit_id, DeadlineExtension.kind, DeadlineExtension.until).where(
            DeadlineExtension.year == year
        )
    )
    return YearPlan(
        year,
        {(r.unit_id, r.kind): r for r in rows.all()},
        {(uid, kind): until for uid, kind, until in extensions.all()},
    )


async def due_for(session: AsyncSession, unit: Unit, year: int, kind: str) -> Due:
    return (await year_plan(session, year)).due(unit, kind)


async def dues_for(session: AsyncSession, unit: Unit, year: int) -> list[Due]:
    return (await year_plan(session, year)).dues(unit)


async def set_deadline(
    session: AsyncSession, unit: Unit, year: int, kind: str, due_on: date, now: datetime
) -> Due:
    """``unit``'s plan sets ``kind`` to ``due_on`` for itself and every unit below it that
    has not set its own."""
    campaign = await ensure_campaign(session, year, now)
    row = await session.scalar(
        select(Deadline).where(
            Deadline.campaign_id == campaign.id, Deadline.unit_id == unit.id, Deadline.kind == kind
        )
    )
    if row is None:
        row = Deadline(
            campaign_id=campaign.id, unit_id=unit.id, kind=kind, title=TITLES[kind], due_on=due_on
        )
        session.add(row)
    else:
        row.due_on = due_on
    await session.flush()
    return Due(kind, row.title, due_on, unit.id)


async def extend(
    session: AsyncSession,
    unit: Unit,
    year: int,
    kind: str,
    until: date,
    granted_by: int | None,
    now: datetime,
) -> DeadlineExtension:
    """Reopen ``kind`` for ``unit`` alone until ``until`` (replacing an earlier extension)."""
    row = await session.scalar(
        select(DeadlineExtension).where(
            DeadlineExtension.unit_id == unit.id,
            DeadlineExtension.year == year,
            DeadlineExtension.kind == kind,
        )
    )
    if row is None:
        row = DeadlineExtension(unit_id=unit.id, year=year, kind=kind, until=until, granted_at=now)
        session.add(row)
    row.until = until
    row.granted_by = granted_by
    row.granted_at = now
    await session.flush()
    return row


def registers_next_year(plan: YearPlan, unit: Unit, today: date) -> bool:
    """From the evaluation deadline of ``plan``'s year that applies to ``unit`` on (the day
    itself included), models are registered for the next year by default."""
    return today >= plan.due(unit, EVALUATION).due_on


def closed_for(plan: YearPlan, units: Iterable[Unit], kind: str, today: date) -> list[Unit]:
    """The units among ``units`` whose ``kind`` deadline (with any extension) has passed."""
    return [u for u in units if plan.due(u, kind).closes_on < today]


async def top_units(session: AsyncSession) -> list[Unit]:
    """The units without a parent: the top levels, whose plans everything below inherits."""
    rows = await session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    return list(rows.all())


@dataclass(frozen=True)
class Level:
    """One date of one deadline and the plan it comes from (see :meth:`YearPlan.level`)."""

    kind: str
    level: str
    due_on: date  # the last day, an extension included
    title: str
    top: bool  # the default or a top level's plan


async def unit_paths(session: AsyncSession) -> list[tuple[int, str]]:
    """(id, path) of every unit: what resolving the deadlines of all units needs."""
    return [(uid, path) for uid, path in (await session.execute(select(Unit.id, Unit.path))).all()]


def levels(plan: YearPlan, units: Iterable[tuple[int, str]]) -> dict[tuple[str, str, date], Level]:
    """The distinct dates the year's deadlines fall on for ``units``, by (kind, level, date)."""
    found: dict[tuple[str, str, date], Level] = {}
    for unit_id, path in units:
        tops = _path_ids(path)[:1]
        for kind in DEADLINE_KINDS:
            level, due = plan.level(unit_id, path, kind)
            key = (kind, level, due.closes_on)
            if key not in found:
                title = due.title if due.closes_on == due.due_on else f"{due.title} (gia hạn)"
                top = level == DEFAULT_LEVEL or level == f"u{tops[0]}" if tops else True
                found[key] = Level(kind, level, due.closes_on, title, top)
    return found
