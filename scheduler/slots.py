"""When deadline reminders go out: the *slots* of each deadline.

Every deadline gives slots: the reminder hour (REMINDER_HOUR, local time) on each of the
REMINDER_DAYS before it (0 = the deadline day), plus the deadline day and the day after for
the leaders' digest. A slot's offset is its day relative to the deadline: -7, -3, -1, 0, and
1 for the day after. A deadline belongs to a level (the top level's plan, a lower level's own
plan, or one unit's extension): each level's date gives its own slots, for its units only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DIGEST_OFFSETS = (0, 1)  # the deadline day and the day after
_DAYS_ITEM = re.compile(r"^\d{1,3}$")


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
    # The plan the date comes from (storage.deadlines.YearPlan.level): "d" the default,
    # "u<id>" a level's plan, "x<id>" one unit's extension.
    level: str = "d"
    top: bool = True  # the default or a top level's plan: keys as they always were

    @property
    def scope(self) -> str:
        """What keys add for a lower level's plan or an extension (nothing for the top)."""
        return "" if self.top else f":{self.level}"

    @property
    def key(self) -> str:
        # The date is part of the key: a deadline moved to another day gives new slots (a
        # time skipped under the old date does not block the new one). The outbox keys have
        # no date, so a person already reminded at this offset is not reminded again.
        return f"{self.year}:{self.kind}:{self.offset}:{self.due_on.isoformat()}{self.scope}"


@dataclass(frozen=True)
class Dated:
    """One date of one deadline, as one level's plan sets it."""

    year: int
    kind: str
    title: str
    due_on: date
    level: str = "d"
    top: bool = True


def plan_slots(
    deadlines: Iterable[Dated],
    days: Sequence[int],
    hour: int,
    tz: ZoneInfo,
) -> list[Slot]:
    """The slots of ``deadlines``, in time order."""
    remind = {-d for d in days}
    slots = []
    for dated in deadlines:
        year, kind, title, due_on = dated.year, dated.kind, dated.title, dated.due_on
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
                    level=dated.level,
                    top=dated.top,
                )
            )
    slots.sort(key=lambda s: (s.at, s.year, s.kind, s.level))
    return slots
