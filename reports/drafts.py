"""The figures of the report drafts (:mod:`reports.draft_doc`), read from the database with
aggregate queries: one GROUP BY over the year's active records of the scope (one row per unit,
with a conditional count per field, subject, origin, results, self-score, pass and review),
rolled up in memory to the scope and to each direct lower unit; never one query per unit.

They are the numbers the workbooks show for the same scope: Phụ lục 1 / Phụ lục 4 (models per
field, collective / individual, new / kept), Tổng hợp (proposed, recognised, removed), the
Biểu chấm điểm (a model passes by :func:`domain.rubric.verdict`) and Biểu 1 (documents).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar import UNIT_REPORT
from domain.catalog import (
    FIELD_KEYS,
    Origin,
    RecordState,
    Review,
    Subject,
)
from reports.aggregates import count_if, field_key, has_results, passing, record_scores, scored
from reports.summary import name_key
from storage.models import (
    DvkModel,
    ModelYear,
    Unit,
    UnitReport,
)

_COLL, _INDIV = Subject.COLLECTIVE.value, Subject.INDIVIDUAL.value


@dataclass
class Counts:
    """Active records of a year: how many, and how many of them are each of these."""

    models: int = 0
    collective: int = 0
    individual: int = 0
    new: int = 0
    kept: int = 0
    with_results: int = 0  # Phụ lục 4 column (7) entered (/ketqua)
    scored: int = 0  # self-scored on the rubric (/chamdiem), at least one criterion
    passing: int = 0  # domain.rubric.verdict passes
    proposed: int = 0  # waiting for a decision
    recognised: int = 0
    not_recognised: int = 0
    removed: int = 0  # thanh loại

    def add(self, other: Counts) -> None:
        # Written out: called for every group of the aggregate (tens of thousands).
        self.models += other.models
        self.collective += other.collective
        self.individual += other.individual
        self.new += other.new
        self.kept += other.kept
        self.with_results += other.with_results
        self.scored += other.scored
        self.passing += other.passing
        self.proposed += other.proposed
        self.recognised += other.recognised
        self.not_recognised += other.not_recognised
        self.removed += other.removed


_COUNT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Counts))


@dataclass
class Figures:
    """The year's numbers of a scope: in all, per field (every key of :data:`FIELD_KEYS`; the
    fields outside the four named ones are ``OTHER``) and per unit of the scope (its own
    models)."""

    year: int
    total: Counts = field(default_factory=Counts)
    by_field: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in FIELD_KEYS})
    by_unit: dict[int, Counts] = field(default_factory=dict)
    by_unit_field: dict[int, dict[str, int]] = field(default_factory=dict)  # models


def in_scope(stmt: Any, root: Unit, subtree: bool) -> Any:
    stmt = stmt.join(DvkModel, DvkModel.id == ModelYear.model_id)
    if subtree:
        return stmt.join(Unit, Unit.id == DvkModel.unit_id).where(
            Unit.path.startswith(root.path, autoescape=True)
        )
    return stmt.where(DvkModel.unit_id == root.id)


def _conditions(scores: Any) -> dict[str, ColumnElement[bool]]:
    """What each count of :class:`Counts` counts, beside the models and their subject."""
    return {
        "new": ModelYear.origin == Origin.NEW.value,
        "kept": ModelYear.origin == Origin.KEPT.value,
        "with_results": has_results(),
        "scored": scored(scores),
        "passing": passing(scores),
        "proposed": ModelYear.review == Review.PROPOSED.value,
        "recognised": ModelYear.review == Review.RECOGNISED.value,
        "not_recognised": ModelYear.review == Review.NOT_RECOGNISED.value,
        "removed": ModelYear.review == Review.REMOVED.value,
    }


async def figures_of(session: AsyncSession, root: Unit, year: int, subtree: bool = True) -> Figures:
    """The numbers of ``year`` for ``root`` (and every unit below it with ``subtree``): one
    GROUP BY unit, field and subject, with a conditional count for each other number."""
    scores = record_scores()
    conditions = _conditions(scores)
    key = field_key()
    stmt = (
        select(
            DvkModel.unit_id,
            key,
            ModelYear.subject,
            func.count(ModelYear.id),
            *(count_if(c) for c in conditions.values()),
        )
        .select_from(ModelYear)
        .outerjoin(scores, scores.c.record == ModelYear.id)
        .where(ModelYear.year == year, ModelYear.state == RecordState.ACTIVE.value)
        .group_by(DvkModel.unit_id, key, ModelYear.subject)
    )
    figures = Figures(year)
    names = list(conditions)
    for unit_id, fld, subject, n, *counted in (
        await session.execute(in_scope(stmt, root, subtree))
    ).all():
        split = Counts(
            models=n,
            collective=n if subject == _COLL else 0,
            individual=n if subject == _INDIV else 0,
            **dict(zip(names, counted, strict=True)),
        )
        figures.by_field[fld].add(split)
        figures.total.add(split)
        figures.by_unit.setdefault(unit_id, Counts()).add(split)
        unit_fields = figures.by_unit_field.setdefault(unit_id, dict.fromkeys(FIELD_KEYS, 0))
        unit_fields[fld] += n
    return figures


async def units_count(session: AsyncSession, root: Unit) -> int:
    """Units in root's subtree, root included."""
    stmt = select(func.count(Unit.id)).where(Unit.path.startswith(root.path, autoescape=True))
    return int(await session.scalar(stmt) or 0)


# --- lower units ---------------------------------------------------------------------------


@dataclass
class LowerUnit:
    """A direct lower unit of the report's unit: its subtree's numbers and its yearly report."""

    unit_id: int
    name: str
    counts: Counts
    by_field: dict[str, int]  # models per field (every key of FIELD_KEYS)
    reported: bool  # marked its yearly report (25/11) as sent (/baocao)
    reported_at: datetime | None = None


async def lower_units(
    session: AsyncSession, root: Unit, year: int, figures: Figures | None = None
) -> list[LowerUnit]:
    """The direct lower units of ``root`` by name, each with the numbers of its subtree
    (rolled up from ``figures`` of root's subtree, read when not given) and whether it has
    marked its yearly report of ``year`` as sent."""
    if figures is None:
        figures = await figures_of(session, root, year, subtree=True)
    rows = await session.execute(
        select(Unit.id, Unit.path).where(
            Unit.path.startswith(root.path, autoescape=True), Unit.id != root.id
        )
    )
    top_of: dict[int, int] = {}
    depth = root.path.count("/") - 1
    for unit_id, path in rows.all():
        top_of[unit_id] = int(path.strip("/").split("/")[depth])
    children = await session.execute(
        select(Unit.id, Unit.name, UnitReport.sent_at)
        .outerjoin(
            UnitReport,
            and_(
                UnitReport.unit_id == Unit.id,
                UnitReport.year == year,
                UnitReport.kind == UNIT_REPORT,
            ),
        )
        .where(Unit.parent_id == root.id)
    )
    lower = {
        unit_id: LowerUnit(
            unit_id, name, Counts(), dict.fromkeys(FIELD_KEYS, 0), sent_at is not None, sent_at
        )
        for unit_id, name, sent_at in children.all()
    }
    for unit_id, counts in figures.by_unit.items():
        top = top_of.get(unit_id)
        if top is not None and top in lower:
            lower[top].counts.add(counts)
            for key, n in figures.by_unit_field[unit_id].items():
                lower[top].by_field[key] += n
    return sorted(lower.values(), key=lambda u: (name_key(u.name), u.unit_id))


# --- years of a period ---------------------------------------------------------------------


@dataclass
class FieldSplit:
    collective: int = 0
    individual: int = 0

    @property
    def total(self) -> int:
        return self.collective + self.individual


async def fields_by_year(
    session: AsyncSession, root: Unit, first: int, last: int, subtree: bool = True
) -> dict[int, dict[str, FieldSplit]]:
    """Active records of each year from ``first`` to ``last`` by field and subject (one GROUP
    BY); every year and field present."""
    key = field_key()
    stmt = (
        select(ModelYear.year, key, ModelYear.subject, func.count(ModelYear.id))
        .select_from(ModelYear)
        .where(
            ModelYear.year >= first,
            ModelYear.year <= last,
            ModelYear.state == RecordState.ACTIVE.value,
        )
        .group_by(ModelYear.year, key, ModelYear.subject)
    )
    out = {y: {k: FieldSplit() for k in FIELD_KEYS} for y in range(first, last + 1)}
    for year, fld, subject, n in (await session.execute(in_scope(stmt, root, subtree))).all():
        split = out[year][fld]
        if subject == _COLL:
            split.collective += n
        else:
            split.individual += n
    return out


async def fields_of_period(
    session: AsyncSession, root: Unit, first: int, last: int, subtree: bool = True
) -> dict[str, FieldSplit]:
    """The models with an active record in the period, each counted once, by the field and
    subject of its latest such record."""
    period = and_(
        ModelYear.year >= first,
        ModelYear.year <= last,
        ModelYear.state == RecordState.ACTIVE.value,
    )
    latest = (
        select(ModelYear.model_id.label("model_id"), func.max(ModelYear.year).label("year"))
        .where(period)
        .group_by(ModelYear.model_id)
        .subquery("latest")
    )
    key = field_key()
    stmt = (
        select(key, ModelYear.subject, func.count(ModelYear.id))
        .select_from(ModelYear)
        .join(
            latest, and_(latest.c.model_id == ModelYear.model_id, latest.c.year == ModelYear.year)
        )
        .group_by(key, ModelYear.subject)
    )
    out = {k: FieldSplit() for k in FIELD_KEYS}
    for fld, subject, n in (await session.execute(in_scope(stmt, root, subtree))).all():
        if subject == _COLL:
            out[fld].collective += n
        else:
            out[fld].individual += n
    return out
