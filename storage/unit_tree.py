"""The unit tree: adding a unit, listing a subtree in tree order, a unit's ancestors.
Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.text import fold
from storage.models import Unit


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


def ancestor_ids(unit: Unit) -> list[int]:
    """Ids on the path from the root down to ``unit``, the unit itself last."""
    return [int(x) for x in unit.path.strip("/").split("/") if x]
