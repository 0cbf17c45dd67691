"""What the `dvk` commands share: the error they print without a traceback, and how they name
a unit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Unit
from storage.units import lookup_unit


class CliError(Exception):
    """A mistake in the command's arguments or data; printed without a traceback."""


async def resolve_unit(session: AsyncSession, ref: str) -> Unit:
    """A unit by id, by path (“Thị xã Hương Trà / Đảng bộ phường Hương Văn”) or by name,
    whole or a part only one unit has (storage.units); none or several is an error that
    names the candidates by their paths."""
    found = await lookup_unit(session, ref, partial=True)
    if found.unit is not None:
        return found.unit
    problem = found.problem() or ""
    tail = "" if found.found else " Xem danh sách: dvk unit list"
    raise CliError(f"{problem[:1].upper()}{problem[1:]}.{tail}")


async def default_root(session: AsyncSession) -> Unit:
    tops = list((await session.scalars(select(Unit).where(Unit.parent_id.is_(None)))).all())
    if len(tops) != 1:
        raise CliError("Có nhiều (hoặc không có) đơn vị cấp cao nhất; hãy chọn --unit.")
    return tops[0]
