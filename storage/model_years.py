"""A model's yearly records: which a unit has or may keep, locking one for a decision,
self-scores and the council's points, proposals for recognition. Callers own the
transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import RecordState, Review
from storage.models import CouncilScore, DvkModel, ModelScore, ModelYear, Unit

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def in_scope(stmt: _Query, root: Unit, year: int, subtree: bool = True) -> _Query:
    """``stmt`` (selecting from :class:`ModelYear`) narrowed to the active records of ``year``
    of ``root``, and of every unit below it with ``subtree``; their model and unit joined, so
    that ``stmt`` may name and order by the unit's columns."""
    stmt = (
        stmt.join(DvkModel, DvkModel.id == ModelYear.model_id)
        .join(Unit, Unit.id == DvkModel.unit_id)
        .where(ModelYear.year == year, ModelYear.state == RecordState.ACTIVE.value)
    )
    if subtree:
        return stmt.where(Unit.path.startswith(root.path, autoescape=True))
    return stmt.where(Unit.id == root.id)


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
