"""Planning deadline reminders: what is sent to whom, and when.

Every deadline of a campaign gives *slots*: the reminder hour (REMINDER_HOUR, local time)
on each of the REMINDER_DAYS before it (0 = the deadline day), plus the deadline day and
the day after for the leaders' digest. A slot's offset is its day relative to the deadline:
-7, -3, -1, 0, and 1 for the day after.

At a slot, in one transaction: the slot is claimed in ``reminder_runs`` (INSERT … ON
CONFLICT DO NOTHING on its key, so a second planner or a second run writes nothing), the
obligations (scheduler/obligations.py) say which units still lag, and one message per person
and account goes to the outbox with a unique key:

- officers of a lagging unit get what it still owes, the deadline and the command that does
  it; a person who paused reminders (/nhacnho tat) gets only the deadline-day one;
- leaders and admins get, on the deadline day and the day after, the units of their subtree
  that are late, with counts, and the members there the platforms cannot reach (they
  blocked the bot), to phone them.

Messages go to every Telegram and Zalo account of the person (terminal accounts have nobody
to deliver to). Delivery is scheduler/delivery.py's business.

:class:`ReminderPlanner` keeps an APScheduler job per future slot, sends the slots it
missed while down within REMINDER_GRACE_HOURS, records older ones as skipped with the
reason, and re-reads the campaigns every REMINDER_RESYNC_SECONDS (or at once through
:meth:`ReminderPlanner.resync`), so a changed deadline moves its jobs without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.catalog import Role
from scheduler import obligations
from scheduler.outbox import Outgoing, enqueue
from storage import repo
from storage.models import Account, Campaign, Deadline, Membership, Person, ReminderRun, Unit

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

CHANNELS = ("telegram", "zalo")  # where a message can reach a person on its own
CHANNEL_LABELS = {"telegram": "Telegram", "zalo": "Zalo"}
LEADING_ROLES = (Role.LEADER.value, Role.ADMIN.value)
DIGEST_OFFSETS = (0, 1)  # the deadline day and the day after
DONE = "done"
SKIPPED = "skipped"
JOB_PREFIX = "reminder:"
RESYNC_JOB = "reminders:resync"
DIGEST_UNITS_SHOWN = 30  # late units named in one digest section; the rest are counted
CHUNK = 500  # ids per IN (…) list, under every driver's parameter limit
DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_DAYS_ITEM = re.compile(r"^\d{1,3}$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_days(text: str) -> tuple[int, ...]:
    """REMINDER_DAYS such as ``"7,3,1,0"``: days before a deadline, 0 the day itself.
    Returned distinct and furthest first. Raises ValueError naming the bad item."""
    days: set[int] = set()
    for raw in re.split(r"[,;\s]+", text.strip()):
        if not raw:
            continue
        if not _DAYS_ITEM.match(raw) or int(raw) > 366:
            raise ValueError(
                f"REMINDER_DAYS: “{raw}” không phải số ngày từ 0 đến 366 (ví dụ 7,3,1,0)."
            )
        days.add(int(raw))
    return tuple(sorted(days, reverse=True))


def fmt_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def when_text(offset: int) -> str:
    """Where a slot's day stands against the deadline, in words."""
    if offset < -1:
        return f"còn {-offset} ngày"
    if offset == -1:
        return "ngày mai là hạn chót"
    if offset == 0:
        return "hôm nay là hạn chót"
    return f"đã quá hạn {offset} ngày"


# --- slots -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One reminder time of one deadline."""

    year: int
    kind: str
    title: str
    due_on: date
    offset: int  # days from the deadline: -7 … 0 (the day), 1 (the day after)
    at: datetime  # aware
    remind: bool  # officers of lagging units are reminded
    digest: bool  # leaders get the digest

    @property
    def key(self) -> str:
        # The date is part of the key: a deadline moved to another day gives new slots (a
        # time skipped under the old date does not block the new one). The outbox keys have
        # no date, so a person already reminded at this offset is not reminded again.
        return f"{self.year}:{self.kind}:{self.offset}:{self.due_on.isoformat()}"

    @property
    def job_id(self) -> str:
        return JOB_PREFIX + self.key


def plan_slots(
    deadlines: Iterable[tuple[int, str, str, date]],
    days: Sequence[int],
    hour: int,
    tz: ZoneInfo,
) -> list[Slot]:
    """The slots of ``deadlines`` (year, kind, title, due date), in time order."""
    remind = {-d for d in days}
    slots = []
    for year, kind, title, due_on in deadlines:
        for offset in sorted(remind | set(DIGEST_OFFSETS)):
            day = due_on + timedelta(days=offset)
            at = datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)
            slots.append(
                Slot(
                    year=year,
                    kind=kind,
                    title=title,
                    due_on=due_on,
                    offset=offset,
                    at=at,
                    remind=offset in remind,
                    digest=offset in DIGEST_OFFSETS,
                )
            )
    slots.sort(key=lambda s: (s.at, s.year, s.kind))
    return slots


# --- what a slot sends ---------------------------------------------------------------------


def reminder_text(slot: Slot, lags: Sequence[obligations.Lag], paused: bool) -> str:
    lines = [f"Nhắc hạn “{slot.title}”: hạn {fmt_date(slot.due_on)} ({when_text(slot.offset)})."]
    for lag in lags:
        lines.append(f"{lag.unit_name} còn thiếu:")
        lines += [f"• {owed.line()}" for owed in lag.owed]
    if paused:
        lines.append(
            "Bạn đang tạm dừng nhắc trước hạn; tin nhắc vào ngày hạn chót vẫn được gửi. "
            "Gõ /nhacnho bat để nhận lại."
        )
    else:
        lines.append("Gõ /lich để xem các hạn trong năm; /nhacnho tat để tạm dừng nhắc trước hạn.")
    return "\n".join(lines)


@dataclass(frozen=True)
class Unreachable:
    person_id: int
    full_name: str
    channel: str
    since: datetime
    unit_name: str
    unit_path: str


@dataclass(frozen=True)
class DigestSection:
    root_name: str
    units: int  # units in the subtree, the root included
    late: Sequence[obligations.Lag]


def digest_text(
    slot: Slot, sections: Sequence[DigestSection], unreachable: Sequence[Unreachable], tz: ZoneInfo
) -> str:
    lines = [f"Tổng hợp hạn “{slot.title}” — {fmt_date(slot.due_on)} ({when_text(slot.offset)})."]
    for section in sections:
        if not section.late:
            lines.append(f"{section.root_name}: cả {section.units} đơn vị đã xong.")
            continue
        lines.append(f"{section.root_name}: {len(section.late)}/{section.units} đơn vị chưa xong:")
        for lag in section.late[:DIGEST_UNITS_SHOWN]:
            lines.append(f"• {lag.unit_name}: " + "; ".join(o.text for o in lag.owed))
        more = len(section.late) - DIGEST_UNITS_SHOWN
        if more > 0:
            lines.append(f"… và {more} đơn vị khác.")
    if unreachable:
        lines.append("Chưa nhắn được qua trợ lý (đã chặn bot), nên gọi điện trực tiếp:")
        for u in unreachable:
            since = fmt_date(u.since.astimezone(tz).date())
            label = CHANNEL_LABELS.get(u.channel, u.channel)
            lines.append(f"• {u.full_name} — {u.unit_name} ({label}, từ {since})")
    if slot.kind == obligations.REGISTRATION:
        lines.append("Xem chi tiết: /tonghop")
    return "\n".join(lines)


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


async def _accounts(
    session: AsyncSession, person_ids: Sequence[int]
) -> dict[int, list[tuple[str, str]]]:
    """(channel, chat id) of every Telegram and Zalo account of the people, oldest first."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for chunk in _chunks(sorted(set(person_ids))):
        rows = await session.execute(
            select(Account.person_id, Account.channel, Account.external_id)
            .where(Account.person_id.in_(chunk), Account.channel.in_(CHANNELS))
            .order_by(Account.person_id, Account.id)
        )
        for person_id, channel, external_id in rows.all():
            found[person_id].append((channel, external_id))
    return found


def _outgoing(
    prefix: str, slot: Slot, person_id: int, accounts: Sequence[tuple[str, str]], text: str
) -> list[Outgoing]:
    messages = []
    seen: set[str] = set()
    for channel, chat_id in accounts:
        # Normally one account per channel; a second one on the same channel gets its own key.
        suffix = channel if channel not in seen else f"{channel}:{chat_id}"
        seen.add(channel)
        key = f"{prefix}:{slot.year}:{slot.kind}:{slot.offset}:p{person_id}:{suffix}"
        kind = "digest" if prefix == "dig" else "reminder"
        messages.append(Outgoing(key, channel, chat_id, text, kind, person_id))
    return messages


async def _reminders(
    session: AsyncSession, slot: Slot, lags: Sequence[obligations.Lag]
) -> list[Outgoing]:
    by_unit = {lag.unit_id: lag for lag in lags}
    owed: dict[int, list[obligations.Lag]] = defaultdict(list)
    paused: dict[int, bool] = {}
    for chunk in _chunks(list(by_unit)):
        rows = await session.execute(
            select(Membership.person_id, Membership.unit_id, Person.reminders_paused_at)
            .join(Person, Person.id == Membership.person_id)
            .where(Membership.unit_id.in_(chunk), Membership.role == Role.OFFICER.value)
        )
        for person_id, unit_id, paused_at in rows.all():
            owed[person_id].append(by_unit[unit_id])
            paused[person_id] = paused_at is not None
    recipients = [p for p in owed if slot.offset == 0 or not paused[p]]
    accounts = await _accounts(session, recipients)
    messages = []
    for person_id in sorted(recipients):
        person_lags = sorted(owed[person_id], key=lambda lag: lag.unit_path)
        text = reminder_text(slot, person_lags, paused[person_id])
        messages += _outgoing("rem", slot, person_id, accounts.get(person_id, []), text)
    return messages


async def _unreachable(session: AsyncSession) -> list[Unreachable]:
    rows = await session.execute(
        select(
            Person.id,
            Person.full_name,
            Account.channel,
            Account.unreachable_at,
            Unit.name,
            Unit.path,
        )
        .join(Account, Account.person_id == Person.id)
        .join(Membership, Membership.person_id == Person.id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(Account.unreachable_at.is_not(None), Account.channel.in_(CHANNELS))
        .order_by(Unit.path, Person.full_name, Account.channel)
    )
    return [
        Unreachable(person_id, full_name, channel, since, unit_name, unit_path)
        for person_id, full_name, channel, since, unit_name, unit_path in rows.all()
        if since is not None
    ]


def _top_roots(units: Sequence[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    """The units not below another of the same list (a leader of a ward and of one of its
    cells gets one section, the ward's)."""
    paths = [path for _, _, path in units]
    tops = [
        u for u in units if not any(other != u[2] and u[2].startswith(other) for other in paths)
    ]
    return sorted({u[0]: u for u in tops}.values(), key=lambda u: u[2])


async def _digests(
    session: AsyncSession, slot: Slot, lags: Sequence[obligations.Lag], tz: ZoneInfo
) -> list[Outgoing]:
    rows = await session.execute(
        select(Membership.person_id, Unit.id, Unit.name, Unit.path)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(Membership.role.in_(LEADING_ROLES))
    )
    led: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for person_id, unit_id, name, path in rows.all():
        led[person_id].append((unit_id, name, path))
    if not led:
        return []
    unreachable = await _unreachable(session)
    sizes: dict[str, int] = {}
    plans: dict[int, tuple[list[DigestSection], list[Unreachable]]] = {}
    for person_id, units in led.items():
        sections = []
        away: list[Unreachable] = []
        for _unit_id, name, path in _top_roots(units):
            late = [lag for lag in lags if lag.within(path)]
            if path not in sizes:
                sizes[path] = int(
                    await session.scalar(
                        select(func.count(Unit.id)).where(
                            Unit.path.startswith(path, autoescape=True)
                        )
                    )
                    or 0
                )
            sections.append(DigestSection(name, sizes[path], late))
            for u in unreachable:
                if (
                    u.unit_path.startswith(path)
                    and u.person_id != person_id
                    and all((a.person_id, a.channel) != (u.person_id, u.channel) for a in away)
                ):
                    away.append(u)
        if any(s.late for s in sections) or away:
            plans[person_id] = (sections, away)
    accounts = await _accounts(session, list(plans))
    messages = []
    for person_id in sorted(plans):
        sections, away = plans[person_id]
        text = digest_text(slot, sections, away, tz)
        messages += _outgoing("dig", slot, person_id, accounts.get(person_id, []), text)
    return messages


async def compose(
    session: AsyncSession,
    slot: Slot,
    quotas: Mapping[str, int] | None = None,
    tz: ZoneInfo = DEFAULT_TZ,
) -> list[Outgoing]:
    """The messages of ``slot``, computed from the database as it is now."""
    lags = await obligations.lagging(session, slot.kind, slot.year, quotas)
    messages: list[Outgoing] = []
    if not lags:
        return messages
    if slot.remind:
        messages += await _reminders(session, slot, lags)
    if slot.digest:
        messages += await _digests(session, slot, lags, tz)
    return messages


# --- the planner ---------------------------------------------------------------------------


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

    ``clock`` gives the current time (aware); it must agree with the wall clock APScheduler
    runs on (tests travel in time with time-machine). ``on_enqueued`` is called, without
    arguments, after a slot wrote new outbox rows, so delivery can wake up.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
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
        """Every slot of the campaigns of last year, this year and next year (this year's
        campaign is created with the default deadlines if missing)."""
        deadlines: list[tuple[int, str, str, date]] = []
        for attempt in range(3):
            try:
                async with self.sessionmaker() as session, session.begin():
                    year = self.clock().astimezone(self.tz).year
                    await repo.ensure_campaign(session, year, self.clock())
                    rows = await session.execute(
                        select(Campaign.year, Deadline.kind, Deadline.title, Deadline.due_on)
                        .join(Deadline, Deadline.campaign_id == Campaign.id)
                        .where(Campaign.year.between(year - 1, year + 1))
                    )
                    deadlines = [(y, kind, title, due) for y, kind, title, due in rows.all()]
                break
            except (IntegrityError, OperationalError):
                # Another planner created this year's campaign at the same moment: read it.
                if attempt == 2:
                    raise
                await asyncio.sleep(0.05)
        return plan_slots(deadlines, self.days, self.hour, self.tz)

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
        wanted = {slot.job_id for slot in future.values()}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                job.remove()
        grace = max(1, int(self.grace.total_seconds()))
        for slot in future.values():
            if self.scheduler.get_job(slot.job_id) is not None:
                continue  # same key, same date and hour: the job is right as it is
            self.scheduler.add_job(
                self._fire,
                DateTrigger(run_date=slot.at, timezone=self.tz),
                args=[slot],
                id=slot.job_id,
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
                due_on = await session.scalar(
                    select(Deadline.due_on)
                    .join(Campaign, Campaign.id == Deadline.campaign_id)
                    .where(Campaign.year == slot.year, Deadline.kind == slot.kind)
                )
                if due_on != slot.due_on:
                    raise _Moved
                messages = await compose(session, slot, self.quotas, self.tz)
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


__all__ = [
    "ReminderPlanner",
    "Slot",
    "compose",
    "digest_text",
    "parse_days",
    "plan_slots",
    "reminder_text",
]
