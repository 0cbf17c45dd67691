"""The reminder planner: APScheduler jobs that write reminders and digests to the outbox.

At each slot of a deadline (``scheduler/slots.py``), in one transaction: the slot is claimed
in ``reminder_runs`` (INSERT … ON CONFLICT DO NOTHING on its key, so a second planner or a
second run writes nothing), its messages are composed (``scheduler/compose.py``) and go to
the outbox with a unique key. Delivery is scheduler/delivery.py's business.

:class:`ReminderPlanner` keeps an APScheduler job per future slot, sends the slots it
missed while down within REMINDER_GRACE_HOURS, records older ones as skipped with the
reason, and re-reads the deadlines every REMINDER_RESYNC_SECONDS (or at once through
:meth:`ReminderPlanner.resync`), so a changed deadline moves its jobs without a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.compose import CHUNK, Channels, compose
from scheduler.outbox import enqueue
from scheduler.slots import Dated, Slot, plan_slots
from storage import deadlines
from storage.models import ReminderRun

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

DONE = "done"
SKIPPED = "skipped"
JOB_PREFIX = "reminder:"
RESYNC_JOB = "reminders:resync"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _job_id(slot: Slot) -> str:
    return JOB_PREFIX + slot.key


async def _insert_run(
    session: AsyncSession, slot: Slot, status: str, reason: str | None, now: datetime
) -> bool:
    """Claim ``slot`` in ``reminder_runs``; False when it was already there (another run or
    another planner took it: it waits on the row until that transaction ends)."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    result = await session.execute(
        insert(ReminderRun)
        .values(
            key=slot.key,
            year=slot.year,
            deadline_kind=slot.kind,
            planned_for=slot.at,
            status=status,
            reason=reason,
            messages=0,
            at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


class _Moved(Exception):
    """The slot's deadline is no longer on the slot's date."""


class ReminderPlanner:
    """Turns the campaigns' deadlines into APScheduler jobs that write reminders to the outbox.

    ``channels``: the channels that reach a person on their own, name → label as people
    read it (the wiring knows them; the scheduler names no platform). ``clock`` gives the
    current time (aware); it must agree with the wall clock APScheduler runs on (tests travel
    in time with time-machine). ``on_enqueued`` is called, without arguments, after a slot
    wrote new outbox rows, so delivery can wake up.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        channels: Channels,
        timezone: str = "Asia/Ho_Chi_Minh",
        hour: int = 8,
        days: Sequence[int] = (7, 3, 1, 0),
        grace_hours: float = 12.0,
        resync_seconds: float = 60.0,
        quotas: Mapping[str, int] | None = None,
        clock: Clock = utcnow,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        if not 0 <= hour <= 23:
            raise ValueError("REMINDER_HOUR phải từ 0 đến 23.")
        self.sessionmaker = sessionmaker
        self.channels = dict(channels)
        self.tz = ZoneInfo(timezone)
        self.hour = hour
        self.days = tuple(sorted(set(days), reverse=True))
        self.grace = timedelta(hours=grace_hours)
        self.resync_seconds = resync_seconds
        self.quotas = quotas
        self.clock = clock
        self.on_enqueued = on_enqueued
        self.scheduler = AsyncIOScheduler(timezone=self.tz)
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._known: set[str] = set()  # slot keys seen by the last sync
        self._started = False

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the scheduler, catch up what was missed while down, schedule the rest."""
        if self._started:
            return
        self.scheduler.start()
        self._started = True
        await self.sync()
        self.scheduler.add_job(
            self.sync,
            IntervalTrigger(seconds=self.resync_seconds, timezone=self.tz),
            id=RESYNC_JOB,
            name="re-read the campaigns' deadlines",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,  # late is better than never
        )

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._started = False
        self._known = set()  # a later start() catches up as after a downtime

    def resync(self) -> None:
        """Re-read the campaigns soon (a deadline changed in this process): safe to call from
        any code running on the event loop, e.g. Core's ``on_deadlines_changed`` hook."""
        task = asyncio.get_running_loop().create_task(self.sync())
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("re-reading the deadlines failed", exc_info=task.exception())

    async def idle(self) -> None:
        """Wait for the re-reads asked by :meth:`resync` to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def jobs(self) -> dict[str, datetime]:
        """Scheduled slot keys and when they run (what APScheduler holds)."""
        return {
            job.id.removeprefix(JOB_PREFIX): job.next_run_time
            for job in self.scheduler.get_jobs()
            if job.id.startswith(JOB_PREFIX)
        }

    # --- planning ----------------------------------------------------------------------

    async def slots(self) -> list[Slot]:
        """Every slot of this year, and of last year and next year where a level set their
        dates: one set per date a deadline falls on for some unit (the top level's, a lower
        level's own plan, an extension)."""
        dated: list[Dated] = []
        async with self.sessionmaker() as session:
            year = self.clock().astimezone(self.tz).year
            units = await deadlines.unit_paths(session)
            for y in (year - 1, year, year + 1):
                plan = await deadlines.year_plan(session, y)
                if y != year and not plan.set_dates and not plan.extensions:
                    continue
                dated += [
                    Dated(y, lv.kind, lv.title, lv.due_on, lv.level, lv.top)
                    for lv in deadlines.levels(plan, units).values()
                ]
        return plan_slots(dated, self.days, self.hour, self.tz)

    async def sync(self) -> None:
        """Re-read the deadlines: run the slots due within the grace window, record older
        unrun ones as skipped, and make the jobs match the future slots."""
        async with self._lock:
            first = not self._known
            slots = await self.slots()
            now = self.clock()
            keys = [s.key for s in slots]
            async with self.sessionmaker() as session:
                done: set[str] = set()
                for start in range(0, len(keys), CHUNK):
                    found = await session.scalars(
                        select(ReminderRun.key).where(
                            ReminderRun.key.in_(keys[start : start + CHUNK])
                        )
                    )
                    done.update(found.all())
            due, late, future = [], [], {}
            for slot in slots:
                if slot.key in done:
                    continue
                if slot.at > now:
                    future[slot.key] = slot
                elif now - slot.at <= self.grace:
                    due.append(slot)
                else:
                    late.append(slot)
            if late:
                await self._skip(late, now, first)
            for slot in due:
                await self._run(slot)
            self._schedule(future)
            self._known = set(keys)

    def _reason(self, slot: Slot, first: bool) -> str:
        local = slot.at.astimezone(self.tz)
        shown = local.strftime("%H:%M %d/%m/%Y")
        iso = local.strftime("%Y-%m-%d %H:%M %z")
        hours = f"{self.grace.total_seconds() / 3600:g}"
        window = f"đã quá {hours} giờ cho phép gửi bù"
        grace = f"past the {hours} h grace window"
        if first:
            return (
                f"Không gửi: lúc {shown} trợ lý không chạy, {window}. / "
                f"Not sent: the bot was not running at {iso}, {grace}."
            )
        if slot.key not in self._known:
            return (
                f"Không gửi: hạn được đổi sau giờ nhắc {shown}, {window}. / "
                f"Not sent: the deadline was changed after {iso}, {grace}."
            )
        return (
            f"Không gửi: giờ nhắc {shown} bị lỡ (trợ lý bị treo hoặc quá tải), {window}. / "
            f"Not sent: the job planned for {iso} did not run, {grace}."
        )

    async def _skip(self, slots: Sequence[Slot], now: datetime, first: bool) -> None:
        async with self.sessionmaker() as session, session.begin():
            for slot in slots:
                reason = self._reason(slot, first)
                if await _insert_run(session, slot, SKIPPED, reason, now):
                    log.warning("reminder %s skipped: %s", slot.key, reason)

    def _schedule(self, future: Mapping[str, Slot]) -> None:
        wanted = {_job_id(slot) for slot in future.values()}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                job.remove()
        grace = max(1, int(self.grace.total_seconds()))
        for slot in future.values():
            if self.scheduler.get_job(_job_id(slot)) is not None:
                continue  # same key, same date and hour: the job is right as it is
            self.scheduler.add_job(
                self._fire,
                DateTrigger(run_date=slot.at, timezone=self.tz),
                args=[slot],
                id=_job_id(slot),
                name=f"reminders {slot.key}",
                misfire_grace_time=grace,
                coalesce=True,
                max_instances=1,
            )

    async def _fire(self, slot: Slot) -> None:
        async with self._lock:
            written = await self._run(slot)
        if written is None:  # the deadline moved since the job was planned
            self.resync()

    async def run_slot(self, slot: Slot) -> int | None:
        """Write ``slot``'s messages now (if nobody did yet). Returns the outbox rows
        written, or None when the slot no longer matches its deadline (it moved)."""
        async with self._lock:
            return await self._run(slot)

    async def _run(self, slot: Slot) -> int | None:
        try:
            async with self.sessionmaker() as session, session.begin():
                now = self.clock()
                # Claim first: the write waits for a planner holding the same slot, and on
                # SQLite takes the write lock before anything is read.
                if not await _insert_run(session, slot, DONE, None, now):
                    return 0
                plan = await deadlines.year_plan(session, slot.year)
                dates = deadlines.levels(plan, await deadlines.unit_paths(session))
                if (slot.kind, slot.level, slot.due_on) not in dates:
                    raise _Moved
                messages = await compose(session, slot, self.channels, self.quotas, self.tz, plan)
                written = await enqueue(session, messages, now)
                await session.execute(
                    update(ReminderRun).where(ReminderRun.key == slot.key).values(messages=written)
                )
        except _Moved:
            return None  # rolled back: the claim is undone
        log.info("reminders %s: %d message(s) to the outbox", slot.key, written)
        if written and self.on_enqueued is not None:
            try:
                self.on_enqueued()
            except Exception:
                log.exception("on_enqueued failed")
        return written


__all__ = ["RESYNC_JOB", "ReminderPlanner"]
