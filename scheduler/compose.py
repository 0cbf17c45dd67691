"""What a reminder time sends, and to whom, read from the database as it is then.

The obligations (scheduler/obligations.py) say which units still lag, and one message per
person and account is composed, with a unique key for the outbox:

- officers of a lagging unit get what it still owes, the deadline and the command that does
  it; a person who paused reminders (/nhacnho tat) gets only the deadline-day one;
- leaders and admins get, on the deadline day and the day after, the units of their subtree
  that are late, with counts, and the members there the platforms cannot reach (they
  blocked the bot), to phone them.

Messages go to every account of the person on the channels that reach a person on their
own, which the wiring names (Telegram and Zalo: terminal accounts have nobody to deliver to),
with the channels' labels as people read them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import Role
from scheduler import obligations
from scheduler.outbox import Outgoing
from scheduler.slots import Slot
from storage.deadlines import YearPlan, year_plan
from storage.models import Account, Membership, Person, Unit

# The channels that reach a person on their own: name -> label as people read it.
Channels = Mapping[str, str]
LEADING_ROLES = (Role.LEADER.value, Role.ADMIN.value)
DIGEST_UNITS_SHOWN = 30  # late units named in one digest section; the rest are counted
CHUNK = 500  # ids per IN (…) list, under every driver's parameter limit
DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


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


def reminder_text(slot: Slot, lags: Sequence[obligations.Lag], paused: bool) -> str:
    lines = [f"Nhắc hạn “{slot.title}”: hạn {fmt_date(slot.due_on)} ({when_text(slot.offset)})."]
    for lag in lags:
        lines.append(f"{lag.unit_name} còn thiếu:")
        lines += [f"• {owed.line()}" for owed in lag.owed]
    if paused:
        lines.append(
            "Đồng chí đang tạm dừng nhắc trước hạn; tin nhắc vào ngày hạn chót vẫn được gửi. "
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
    slot: Slot,
    sections: Sequence[DigestSection],
    unreachable: Sequence[Unreachable],
    tz: ZoneInfo,
    channels: Channels,
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
            label = channels.get(u.channel, u.channel)
            lines.append(f"• {u.full_name} — {u.unit_name} ({label}, từ {since})")
    if slot.kind == obligations.REGISTRATION:
        lines.append("Xem chi tiết: /tonghop")
    return "\n".join(lines)


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


async def _accounts(
    session: AsyncSession, person_ids: Sequence[int], channels: Channels
) -> dict[int, list[tuple[str, str]]]:
    """(channel, chat id) of every account of the people on ``channels``, oldest first."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for chunk in _chunks(sorted(set(person_ids))):
        rows = await session.execute(
            select(Account.person_id, Account.channel, Account.external_id)
            .where(Account.person_id.in_(chunk), Account.channel.in_(list(channels)))
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
        key = f"{prefix}:{slot.year}:{slot.kind}:{slot.offset}{slot.scope}:p{person_id}:{suffix}"
        kind = "digest" if prefix == "dig" else "reminder"
        messages.append(Outgoing(key, channel, chat_id, text, kind, person_id))
    return messages


async def _reminders(
    session: AsyncSession, slot: Slot, lags: Sequence[obligations.Lag], channels: Channels
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
    accounts = await _accounts(session, recipients, channels)
    messages = []
    for person_id in sorted(recipients):
        person_lags = sorted(owed[person_id], key=lambda lag: lag.unit_path)
        text = reminder_text(slot, person_lags, paused[person_id])
        messages += _outgoing("rem", slot, person_id, accounts.get(person_id, []), text)
    return messages


async def _unreachable(session: AsyncSession, channels: Channels) -> list[Unreachable]:
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
        .where(Account.unreachable_at.is_not(None), Account.channel.in_(list(channels)))
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
    session: AsyncSession,
    slot: Slot,
    lags: Sequence[obligations.Lag],
    tz: ZoneInfo,
    channels: Channels,
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
    unreachable = await _unreachable(session, channels)
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
    accounts = await _accounts(session, list(plans), channels)
    messages = []
    for person_id in sorted(plans):
        sections, away = plans[person_id]
        text = digest_text(slot, sections, away, tz, channels)
        messages += _outgoing("dig", slot, person_id, accounts.get(person_id, []), text)
    return messages


def _governed(plan: YearPlan, lag: obligations.Lag, slot: Slot) -> bool:
    level, due = plan.level(lag.unit_id, lag.unit_path, slot.kind)
    return level == slot.level and due.closes_on == slot.due_on


async def compose(
    session: AsyncSession,
    slot: Slot,
    channels: Channels,
    quotas: Mapping[str, int] | None = None,
    tz: ZoneInfo = DEFAULT_TZ,
    plan: YearPlan | None = None,
) -> list[Outgoing]:
    """The messages of ``slot`` to accounts on ``channels``, computed from the database as
    it is now: for the units whose deadline is the slot's (same plan, same date)."""
    plan = plan or await year_plan(session, slot.year)
    lags = [
        lag
        for lag in await obligations.lagging(session, slot.kind, slot.year, quotas)
        if _governed(plan, lag, slot)
    ]
    messages: list[Outgoing] = []
    if not lags:
        return messages
    if slot.remind:
        messages += await _reminders(session, slot, lags, channels)
    if slot.digest:
        messages += await _digests(session, slot, lags, tz, channels)
    return messages


__all__ = ["compose", "digest_text", "reminder_text"]
