"""Helpers of the results, scoring and review tests: a model of this year, points that pass."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import rubric
from storage import model_years
from storage.models import AuditLog, ModelYear, Unit
from tests.helpers import add_model_year

YEAR = 2026


async def add_record(
    sm: async_sessionmaker[AsyncSession],
    unit: Unit,
    now: datetime,
    name: str = "Dân vận khéo thu gom rác thải",
    subject: str = "collective",
    *,
    year: int = YEAR,
    results: str | None = None,
    points: dict[int, Decimal] | None = None,
    review: str | None = None,
) -> int:
    """A model of ``unit`` registered for ``year`` (optionally with results and points)."""
    async with sm() as session, session.begin():
        record = await add_model_year(
            session,
            unit,
            name,
            now=now,
            year=year,
            subject=subject,
            subject_name="Chi hội Phụ nữ Tổ dân phố 1",
            results=results,
            review=review,
        )
        if points is not None:
            await model_years.replace_scores(session, record.id, points, None, now)
        return record.id


def full_marks(subject: str = "collective") -> dict[int, Decimal]:
    return {c.number: c.maximum for c in rubric.criteria_for(subject)}


def passing_75() -> dict[int, Decimal]:
    """Exactly 75 with every must-max criterion full: 2, 7, 9, 11, 15 (40) + 1, 3, 4, 5, 6, 8
    (35); criteria 10, 12, 13 and 14 at 0."""
    points = dict.fromkeys(range(1, 16), Decimal(0))
    for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 15):
        points[n] = rubric.criteria_for("collective")[n - 1].maximum
    return points


async def get_record(sm: async_sessionmaker[AsyncSession], record_id: int) -> ModelYear:
    async with sm() as session:
        record = await session.get(ModelYear, record_id)
        assert record is not None
        return record


async def saved_points(sm: async_sessionmaker[AsyncSession], record_id: int) -> dict[int, Decimal]:
    async with sm() as session:
        return (await model_years.scores_of(session, [record_id])).get(record_id, {})


async def audit_actions(
    sm: async_sessionmaker[AsyncSession], record_id: int
) -> list[tuple[str, int | None, dict[str, Any]]]:
    async with sm() as session:
        rows = await session.scalars(
            select(AuditLog)
            .where(AuditLog.entity == "model_year", AuditLog.entity_id == record_id)
            .order_by(AuditLog.id)
        )
        return [(a.action, a.person_id, a.details) for a in rows.all()]
