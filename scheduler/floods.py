"""Telling one chat's 429 from the whole bot being over its limit; one chat's bursts of
incoming messages (:class:`Bursts`).

A platform refuses a send with 429 for one chat that gets too much, or for the bot as a
whole; it does not always say which. Telegram also refuses some sends at random. A 429 is
taken for the whole bot's when the platform says so, or when 429s hit many chats within a
second: ``FLOOD_SHARE`` of what the rate allows in ``FLOOD_WINDOW``, at least
``FLOOD_CHATS`` (scattered refusals stay below that).
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Hashable

FLOOD_CHATS = 3
FLOOD_SHARE = 0.2
FLOOD_WINDOW = 1.0


class Floods:
    """The 429s of one channel within the last ``FLOOD_WINDOW`` seconds."""

    def __init__(self, rate_per_second: float) -> None:
        self.chats = max(FLOOD_CHATS, math.ceil(FLOOD_SHARE * rate_per_second * FLOOD_WINDOW))
        self.recent: deque[tuple[float, str]] = deque()

    def whole_bot(self, now: float, chat: str, said_so: bool = False) -> bool:
        """Count a 429 for ``chat`` at ``now`` (event-loop time); True when the whole bot
        is over its limit (``said_so``: the platform said it)."""
        self.recent.append((now, chat))
        while self.recent and self.recent[0][0] < now - FLOOD_WINDOW:
            self.recent.popleft()
        return said_so or len({c for _, c in self.recent}) >= self.chats


class Admit(enum.Enum):
    YES = "yes"
    NOTICE = "notice"  # the first message over the limit: answered with one notice
    DROP = "drop"  # the rest of the burst: not answered


class Bursts:
    """How many messages each chat sent within the last ``window`` seconds (event-loop or
    monotonic time). A chat may send ``limit`` (``stranger_limit`` when it belongs to no
    one the bot knows) in any window; past that, the first message gets one notice and the
    others are dropped, until the window has room again."""

    def __init__(self, limit: int, stranger_limit: int, window: float = 60.0) -> None:
        if limit < 1 or stranger_limit < 1:
            raise ValueError("limits must be at least 1")
        self.limit = limit
        self.stranger_limit = stranger_limit
        self.window = window
        self.admitted: dict[Hashable, deque[float]] = {}
        self.noticed: set[Hashable] = set()
        self._checks = 0

    def admit(self, chat: Hashable, now: float, stranger: bool = False) -> Admit:
        self._checks += 1
        if self._checks % 1024 == 0:  # forget the chats that went quiet
            self.admitted = {
                c: d for c, d in self.admitted.items() if d and d[-1] > now - self.window
            }
        times = self.admitted.setdefault(chat, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < (self.stranger_limit if stranger else self.limit):
            times.append(now)
            self.noticed.discard(chat)
            return Admit.YES
        if chat in self.noticed:
            return Admit.DROP
        self.noticed.add(chat)
        return Admit.NOTICE
