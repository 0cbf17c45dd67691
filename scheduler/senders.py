"""What the outbox asks of a channel: a :class:`Sender`, and the exceptions it raises.

A sender makes one platform call per message and says, by what it raises, what became of
it; pacing, retries and records are the deliverer's (``scheduler/delivery.py``). The
channels' senders live with their channels in ``bot/``.
"""

from __future__ import annotations

from typing import Protocol


class Sender(Protocol):
    """One channel's way out: sends one message of at most the channel's text limit."""

    async def send(self, chat_id: str, text: str) -> None: ...


class DeliveryError(Exception):
    """A message did not go out; the subclass says what to do about it."""


class RetryAfter(DeliveryError):
    """429: try this chat again after ``seconds``; ``whole_bot`` when the platform says the
    limit is the bot's and not the chat's."""

    def __init__(self, seconds: float, whole_bot: bool = False) -> None:
        self.seconds = max(float(seconds), 0.0)
        self.whole_bot = whole_bot
        scope = " (whole bot)" if whole_bot else ""
        super().__init__(f"429: retry after {self.seconds:g} s{scope}")


class Unreachable(DeliveryError):
    """403: the person blocked the bot (or cannot be written to at all)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientError(DeliveryError):
    """Network failure, timeout, server error: may work later."""


class Rejected(DeliveryError):
    """The platform refuses this message itself (bad request): trying again will not help."""


__all__ = ["DeliveryError", "Rejected", "RetryAfter", "Sender", "TransientError", "Unreachable"]
