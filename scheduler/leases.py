"""This process's hold on outbox rows: claiming them, keeping and handing back the lease,
and writing what became of each.

Claiming. A batch of due rows (``pending`` whose ``not_before`` has come, or ``sending``
whose lease ran out because the process holding it died) is switched to ``sending`` with
``claimed_by`` and ``claimed_until`` (a lease) in one short statement:
``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`` on PostgreSQL, so two processes
never hold the same row, and the same statement on SQLite, where one writer at a time makes
it atomic. While a process holds rows it renews their lease; one that stops hands the rows
it did not send back at once.

Outcomes are written a few milliseconds after the platform's answer, in batches: ``sent``
even if the lease was lost meanwhile (it went out, it must not go again); anything else only
where this process still holds the row. ``unreachable`` also marks the account of that chat
with ``unreachable_at`` and the reason (shown to leaders in their digest).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.messages import split_text
from scheduler.outbox import PENDING, SENDING, SENT, UNREACHABLE
from scheduler.pacing import wait_event
from storage.models import Account, OutboxMessage

log = logging.getLogger(__name__)

OUTBOX = cast(Table, OutboxMessage.__table__)
ACCOUNTS = cast(Table, Account.__table__)


@dataclass
class DeliveryStats:
    claimed: int = 0
    requests: int = 0  # calls to a sender (a split text makes several)
    sent: int = 0
    retry_after: int = 0  # 429s received
    global_pauses: int = 0
    transient: int = 0  # transient errors received
    failed: int = 0
    unreachable: int = 0
    released: int = 0  # handed back unsent on stop
    lease_lost: int = 0


@dataclass
class Row:
    """A claimed outbox row, its text cut to the channel's limit."""

    id: int
    chat_id: str
    attempts: int
    parts: list[str]
    done_parts: int = 0  # parts of a split text already sent
    lease_until: float = 0.0  # event-loop time


@dataclass(frozen=True)
class Outcome:
    row_id: int
    status: str  # SENT, PENDING (back in the queue), FAILED, UNREACHABLE
    at: datetime
    channel: str = ""
    chat_id: str = ""
    attempts: int | None = None
    error: str | None = None
    not_before: datetime | None = None  # PENDING: when it may go again (None: unchanged)


def _due(now: datetime) -> ColumnElement[bool]:
    o = OUTBOX.c
    return or_(
        and_(o.status == PENDING, o.not_before <= now),
        and_(o.status == SENDING, o.claimed_until < now),
    )


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(eq=False)
class Leases:
    """Claims and outcomes of the process named ``name``; a lease lasts ``lease`` seconds.
    ``clock`` gives the time written to the database."""

    sessionmaker: async_sessionmaker[AsyncSession]
    name: str
    lease: float
    clock: Callable[[], datetime]
    stats: DeliveryStats
    # Parts of split texts already sent, by row id, when the rest had to wait.
    progress: dict[int, int] = field(default_factory=dict, init=False)
    _outcomes: list[Outcome] = field(default_factory=list, init=False)
    _writing: list[Outcome] = field(default_factory=list, init=False)
    _ready: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    # Every outcome recorded: the writer ends when it has written them.
    _closing: bool = field(default=False, init=False)

    def start(self) -> None:
        """Before a run: the writer waits for outcomes again."""
        self._closing = False
        self._ready = asyncio.Event()

    @property
    def unwritten(self) -> bool:
        return bool(self._outcomes or self._writing)

    # ----------------------------------------------------------------- claims

    async def claim(self, channel: str, limit: int, text_limit: int | None) -> list[Row]:
        now = self.clock()
        until = now + timedelta(seconds=self.lease)
        o = OUTBOX.c
        ids = select(o.id).where(o.channel == channel, _due(now)).order_by(o.id).limit(limit)
        async with self.sessionmaker() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                ids = ids.with_for_update(skip_locked=True)
            result = await session.execute(
                update(OUTBOX)
                .where(o.id.in_(ids.scalar_subquery()))
                .values(status=SENDING, claimed_by=self.name, claimed_until=until)
                .returning(o.id, o.chat_id, o.text, o.attempts)
            )
            found = result.all()
        lease_until = asyncio.get_running_loop().time() + self.lease
        rows = []
        for row_id, chat_id, text, attempts in sorted(found):
            parts = split_text(text, text_limit) if text_limit else [text]
            done = min(self.progress.get(row_id, 0), len(parts) - 1)
            rows.append(Row(row_id, chat_id, attempts, parts, done, lease_until))
        self.stats.claimed += len(rows)
        return rows

    async def count_due(self, channels: Iterable[str]) -> int:
        o = OUTBOX.c
        query = select(func.count()).where(o.channel.in_(list(channels)), _due(self.clock()))
        async with self.sessionmaker() as session:
            return int(await session.scalar(query) or 0)

    async def renew_loop(self, held: Callable[[], Iterable[Row]]) -> None:
        """Every third of a lease, extend it on the rows ``held`` and those whose outcome is
        not written yet."""
        while True:
            await asyncio.sleep(self.lease / 3)
            ids = {row.id for row in held()}
            ids.update(o.row_id for o in (*self._outcomes, *self._writing))
            if not ids:
                continue
            until = self.clock() + timedelta(seconds=self.lease)
            lease_until = asyncio.get_running_loop().time() + self.lease
            try:
                async with self.sessionmaker() as session, session.begin():
                    o = OUTBOX.c
                    for chunk in _chunks(sorted(ids), 500):
                        await session.execute(
                            update(OUTBOX)
                            .where(o.id.in_(chunk), o.claimed_by == self.name, o.status == SENDING)
                            .values(claimed_until=until)
                        )
            except Exception:
                log.exception("renewing the outbox lease failed")
                continue
            for row in held():
                row.lease_until = lease_until

    # ----------------------------------------------------------------- outcomes

    def record(self, outcome: Outcome) -> None:
        self._outcomes.append(outcome)
        self._ready.set()

    def put_back(
        self,
        row: Row,
        *,
        error: str | None = None,
        attempts: int | None = None,
        not_before: datetime | None = None,
    ) -> None:
        """``row`` goes back to the queue (after ``not_before``), the parts of a split text
        already sent remembered."""
        if row.done_parts:
            self.progress[row.id] = row.done_parts
        now = self.clock()
        self.record(
            Outcome(row.id, PENDING, now, attempts=attempts, error=error, not_before=not_before)
        )

    def release(self, rows: Iterable[Row]) -> None:
        """Hand ``rows`` back unsent, due at once."""
        for row in rows:
            self.stats.released += 1
            self.put_back(row)

    async def write_loop(self) -> None:
        delay = 0.5
        while True:
            if not self._outcomes:
                if self._closing:
                    return
                self._ready.clear()
                await wait_event(self._ready, 1.0)
                continue
            self._writing, self._outcomes = self._outcomes, []
            try:
                await self.write(self._writing)
            except Exception:
                log.exception("recording %d outbox outcomes failed", len(self._writing))
                self._outcomes[:0] = self._writing
                self._writing = []
                if self._closing and delay > 8:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            self._writing = []
            delay = 0.5

    async def close(self, writer: asyncio.Task[None]) -> None:
        """Every outcome is recorded: let ``writer`` (the :meth:`write_loop`) write the rest
        and end."""
        self._closing = True
        self._ready.set()
        await asyncio.wait([writer], timeout=60)
        left = [*self._writing, *self._outcomes]
        if left and writer.done():  # the writer died: one last try here
            try:
                await self.write(left)
                left = []
            except Exception:
                log.exception("recording outbox outcomes failed")
        if left:
            writer.cancel()
            log.error(
                "%d outbox outcomes not recorded: their rows go again after the lease", len(left)
            )

    async def write(self, outcomes: list[Outcome]) -> None:
        o = OUTBOX.c
        sent = [{"oid": x.row_id, "at": x.at} for x in outcomes if x.status == SENT]
        mine = and_(o.id == bindparam("oid"), o.claimed_by == self.name, o.status == SENDING)
        async with self.sessionmaker() as session, session.begin():
            if sent:
                # Even if the lease was lost meanwhile: it went out, it must not go again.
                await session.execute(
                    update(OUTBOX)
                    .where(o.id == bindparam("oid"), or_(o.status == PENDING, o.status == SENDING))
                    .values(status=SENT, sent_at=bindparam("at"), claimed_until=None, error=None),
                    sent,
                )
            for x in outcomes:
                if x.status == SENT:
                    continue
                values: dict[str, Any] = {"status": x.status, "claimed_until": None}
                if x.error is not None:
                    values["error"] = x.error[:2000]
                if x.attempts is not None:
                    values["attempts"] = x.attempts
                if x.status == PENDING:
                    values["claimed_by"] = None
                    if x.not_before is not None:
                        values["not_before"] = x.not_before
                result = await session.execute(
                    update(OUTBOX).where(mine).values(**values), {"oid": x.row_id}
                )
                if result.rowcount == 0:  # type: ignore[attr-defined]
                    self.stats.lease_lost += 1
                    log.warning("outbox row %s was taken by another sender meanwhile", x.row_id)
                if x.status == UNREACHABLE:
                    a = ACCOUNTS.c
                    await session.execute(
                        update(ACCOUNTS)
                        .where(a.channel == x.channel, a.external_id == x.chat_id)
                        .values(unreachable_at=x.at, unreachable_reason=(x.error or "")[:300])
                    )
