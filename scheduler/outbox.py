"""The outbox: messages the assistant sends on its own (reminders, digests, notices).

Planning writes rows here (``enqueue``); the deliverer (``scheduler/delivery.py``) claims
and delivers them. The unique ``key`` makes writing idempotent: enqueueing the same reminder
again, from a retry, a restart or a second process, inserts nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage

# Statuses of an outbox row.
PENDING = "pending"  # waiting (possibly until not_before, after a retry)
SENDING = "sending"  # claimed by a sender until claimed_until
SENT = "sent"
FAILED = "failed"  # gave up after the last try; ``error`` says why
UNREACHABLE = "unreachable"  # the platform refused: the person blocked the bot

# Set in ``session.info`` when rows were added, so whoever commits can wake the senders.
WRITTEN = "outbox_written"


@dataclass(frozen=True, slots=True)
class Outgoing:
    key: str  # idempotency key, e.g. "rem:2026:registration:-7:p12:telegram"
    channel: str
    chat_id: str
    text: str
    kind: str = "reminder"  # reminder / digest / notice
    person_id: int | None = None


async def enqueue(session: AsyncSession, messages: Iterable[Outgoing], now: datetime) -> int:
    """Write ``messages`` as pending rows; those whose key exists already are left alone.

    Returns how many rows were new. Runs inside the caller's transaction.
    """
    rows = [
        {
            "key": m.key,
            "channel": m.channel,
            "chat_id": m.chat_id,
            "person_id": m.person_id,
            "kind": m.kind,
            "text": m.text,
            "status": PENDING,
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for m in messages
    ]
    if not rows:
        return 0
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    added = 0
    for start in range(0, len(rows), 500):  # stay under the drivers' parameter limits
        result = await session.execute(
            insert(OutboxMessage)
            .values(rows[start : start + 500])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        added += result.rowcount  # type: ignore[attr-defined]
    if added:
        session.info[WRITTEN] = True
    return added


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits in the outbox: rows by (channel, status), and the oldest due row."""

    counts: dict[tuple[str, str], int]
    pending: int  # rows pending, due or not
    oldest_due: datetime | None  # not_before of the oldest pending row that is due


async def backlog(session: AsyncSession, now: datetime) -> Backlog:
    """The outbox at ``now``, for /healthz and /metrics (two short reads on one index)."""
    rows = await session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count()).group_by(
            OutboxMessage.channel, OutboxMessage.status
        )
    )
    counts = {(str(channel), str(status)): int(n) for channel, status, n in rows.all()}
    oldest = await session.scalar(
        select(func.min(OutboxMessage.not_before)).where(
            OutboxMessage.status == PENDING, OutboxMessage.not_before <= now
        )
    )
    pending = sum(n for (_, status), n in counts.items() if status == PENDING)
    return Backlog(counts, pending, oldest)
