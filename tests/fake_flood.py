"""Flood control for the fake platform servers (``fake_telegram``, ``fake_zalo``).

Off by default. :meth:`FloodControl.enforce` makes a server refuse a send with 429 when it
would exceed ``rate`` accepted messages within one ``window`` (all chats together), or come
sooner than ``chat_interval`` after the last message accepted for the same chat: Telegram's
published limits are 30 messages per second and one per second per chat. ``tolerance``
seconds are forgiven on both counts: the clock here is the arrival of the request, and on
a busy machine requests sent evenly arrive a few milliseconds early or late (Telegram
counts no finer). :meth:`FloodControl.inject_429` refuses a fraction of sends at random,
whatever the pace, as Telegram sometimes does.

Every send accepted and every one refused is recorded, so tests and benchmarks can measure
the pace the server saw (:meth:`max_in_window`, :meth:`min_chat_gap`) and count duplicates.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Rejection:
    """A send the server refused."""

    chat_id: str
    error_code: int
    reason: str  # "injected", "rate" (all chats), "chat" (one chat), or the error's text
    retry_after: int | None
    at: float  # time.monotonic() on the server


@dataclass(frozen=True)
class Accepted:
    chat_id: str
    text: str
    at: float  # time.monotonic() on the server


class FloodControl:
    def __init__(self) -> None:
        self.rate: float | None = None
        self.chat_interval: float | None = None
        self.window = 1.0
        self.tolerance = 0.0
        self.inject_rate = 0.0
        self.inject_retry_after = 1
        self.accepted: list[Accepted] = []
        self.rejections: list[Rejection] = []
        self._rng = random.Random()
        self._recent: deque[float] = deque()
        self._last: dict[str, float] = {}

    def enforce(
        self,
        rate: float | None = 30.0,
        chat_interval: float | None = 1.0,
        *,
        window: float = 1.0,
        tolerance: float = 0.02,
    ) -> None:
        """Refuse sends beyond ``rate`` per ``window`` or ``chat_interval`` per chat (None:
        that limit is off)."""
        self.rate = rate
        self.chat_interval = chat_interval
        self.window = window
        self.tolerance = tolerance

    def inject_429(self, rate: float, retry_after: int = 1, seed: int | None = None) -> None:
        """Refuse this fraction of sends with 429 ``retry_after``, at random."""
        self.inject_rate = rate
        self.inject_retry_after = retry_after
        self._rng = random.Random(seed)

    def check(self, chat_id: str, now: float) -> tuple[str, int] | None:
        """None when a send to ``chat_id`` may go now; else (reason, retry_after), recorded."""
        refusal = self._refusal(chat_id, now)
        if refusal is not None:
            reason, retry_after = refusal
            self.rejections.append(Rejection(chat_id, 429, reason, retry_after, now))
        return refusal

    def _refusal(self, chat_id: str, now: float) -> tuple[str, int] | None:
        if self.inject_rate and self._rng.random() < self.inject_rate:
            return "injected", self.inject_retry_after
        if self.rate is not None:
            span = self.window - self.tolerance
            while self._recent and self._recent[0] <= now - span:
                self._recent.popleft()
            if len(self._recent) >= self.rate:
                wait = self._recent[0] + span - now
                return "rate", max(1, math.ceil(wait))
        if self.chat_interval is not None:
            last = self._last.get(chat_id)
            gap = self.chat_interval - self.tolerance
            if last is not None and now - last < gap:
                return "chat", max(1, math.ceil(last + gap - now))
        return None

    def accept(self, chat_id: str, text: str, now: float) -> None:
        self.accepted.append(Accepted(chat_id, text, now))
        self._recent.append(now)
        self._last[chat_id] = now

    def refuse(self, chat_id: str, error_code: int, reason: str, now: float) -> None:
        self.rejections.append(Rejection(chat_id, error_code, reason, None, now))

    # ------------------------------------------------------------------ measuring

    def refused(self, reason: str | None = None) -> list[Rejection]:
        return [r for r in self.rejections if reason is None or r.reason == reason]

    def duplicates(self) -> int:
        """Messages accepted beyond the first with the same chat and text."""
        seen: set[tuple[str, str]] = set()
        extra = 0
        for a in self.accepted:
            key = (a.chat_id, a.text)
            if key in seen:
                extra += 1
            seen.add(key)
        return extra

    def max_in_window(self, window: float = 1.0) -> int:
        """Most messages accepted within any ``window`` seconds (strictly, no tolerance)."""
        times = sorted(a.at for a in self.accepted)
        best = 0
        start = 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    def min_chat_gap(self) -> float:
        """Shortest time between two messages accepted for one chat (inf: none twice)."""
        last: dict[str, float] = {}
        gap = math.inf
        for a in sorted(self.accepted, key=lambda a: a.at):
            if a.chat_id in last:
                gap = min(gap, a.at - last[a.chat_id])
            last[a.chat_id] = a.at
        return gap

    def rate_achieved(self) -> float:
        """Messages per second from the first accepted to the last."""
        if len(self.accepted) < 2:
            return 0.0
        times = [a.at for a in self.accepted]
        span = max(times) - min(times)
        return (len(times) - 1) / span if span > 0 else math.inf
