"""Telling one chat's 429 from the whole bot being over its limit.

A platform refuses a send with 429 for one chat that gets too much, or for the bot as a
whole; it does not always say which. Telegram also refuses some sends at random. A 429 is
taken for the whole bot's when the platform says so, or when 429s hit many chats within a
second: ``FLOOD_SHARE`` of what the rate allows in ``FLOOD_WINDOW``, at least
``FLOOD_CHATS`` (scattered refusals stay below that).
"""

from __future__ import annotations

import math
from collections import deque

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
