"""The pace of one channel: its rate for all chats together and its spacing per chat.

At most ``rate_per_second`` sends in any window of one second, evenly spaced (a sender that
woke late may catch up half an interval, never more than the window allows), and at least
``chat_interval`` between two sends to one chat. A send takes a *slot*; a message sent
elsewhere (a reply to someone who wrote) takes one with :meth:`Pace.reserve`, so broadcasts
and conversations stay together within the platform's limit. Times are the event loop's.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
from collections import deque
from dataclasses import dataclass

# A sender that woke late may send this fraction of an interval early to catch up.
CATCH_UP = 0.5


@dataclass(frozen=True)
class Limits:
    """A channel's sending limits (the defaults are Telegram's)."""

    rate_per_second: float = 30.0  # messages per second, all chats together
    chat_interval: float = 1.0  # seconds between two messages to one chat
    text_limit: int | None = None  # longer texts are sent as several messages, in order
    max_in_flight: int = 32  # requests awaiting the platform's answer at once
    # Time kept in hand on both limits: a request sent on the dot arrives a few milliseconds
    # early or late, and the platform counts arrivals (2% of 1 s is 20 ms).
    headroom: float = 0.02

    def __post_init__(self) -> None:
        if self.rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        if self.chat_interval < 0:
            raise ValueError("chat_interval must not be negative")
        if self.max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if not 0 <= self.headroom < 1:
            raise ValueError("headroom must be a fraction")


class Pace:
    """The slots of one channel's rate and the next time each chat may be written to.

    ``chats_kept``: past chats remembered before those whose interval is over are forgotten.
    """

    def __init__(self, limits: Limits, chats_kept: int = 1024) -> None:
        rate = limits.rate_per_second
        stretch = 1.0 + limits.headroom
        self.per_window = max(1, math.floor(rate * max(1.0, 1.0 / rate) + 1e-9))
        self.window = max(1.0, 1.0 / rate) * stretch
        self.interval = self.window / self.per_window
        self.chat_interval = limits.chat_interval * stretch
        self.chats_kept = chats_kept
        self.chat_next: dict[str, float] = {}  # chat -> earliest next send
        self.recent: deque[float] = deque(maxlen=self.per_window)  # last sends' times
        self.next_slot = 0.0
        self.paused_until = 0.0
        self._takes = itertools.count()

    def slot(self) -> float:
        """The earliest time the channel's rate allows the next send."""
        start = max(self.next_slot, self.paused_until)
        if len(self.recent) >= self.per_window:
            start = max(start, self.recent[0] + self.window)
        return start

    def chat_free_at(self, chat: str) -> float:
        """The earliest time ``chat`` may be written to again."""
        return self.chat_next.get(chat, 0.0)

    def take(self, now: float, chat: str | None = None) -> None:
        """Take the slot due at ``now`` (and ``chat``'s turn, when given)."""
        if len(self.chat_next) > self.chats_kept and next(self._takes) % 256 == 0:
            self.chat_next = {c: t for c, t in self.chat_next.items() if t > now}
        self.recent.append(now)
        self.next_slot = max(self.next_slot + self.interval, now + self.interval * CATCH_UP)
        if chat is not None:
            self.chat_next[chat] = now + self.chat_interval

    async def reserve(self, chat: str | None = None) -> None:
        """Wait for, and take, the next slot (and ``chat``'s turn, when given)."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            start = self.slot()
            if chat is not None:
                start = max(start, self.chat_free_at(chat))
            if start <= now:
                break
            await asyncio.sleep(start - now)
        self.take(now, chat)

    def hold_chat(self, chat: str, until: float) -> None:
        """Nothing more to ``chat`` before ``until`` (a 429 for that chat)."""
        self.chat_next[chat] = max(self.chat_free_at(chat), until)

    def pause(self, until: float) -> bool:
        """Nothing more to anyone before ``until``; True when that extends the pause."""
        extended = until > self.paused_until
        self.paused_until = max(self.paused_until, until)
        return extended


async def wait_event(event: asyncio.Event, seconds: float | None) -> None:
    """Until ``event`` is set or ``seconds`` have passed (None: no limit)."""
    if seconds is None:
        await event.wait()
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(seconds, 0.0)):
            await event.wait()
