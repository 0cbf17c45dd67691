"""The audit log: who did what to which row, and what changed. Callers own the
transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog


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
