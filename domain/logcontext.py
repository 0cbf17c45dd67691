"""What the log lines of the work in hand are about: the update and the chat.

Set once where a message comes in (``handlers.core.Core.handle``); every log record written
while that message is handled, in its task, carries it (``bot.app.ContextFilter`` puts it on
the record). An asyncio task copies the context when it is created, so concurrent updates
never mix theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from types import MappingProxyType

FIELDS = ("channel", "chat", "update")
_EMPTY: Mapping[str, str] = MappingProxyType({})
_CONTEXT: ContextVar[Mapping[str, str]] = ContextVar("dvk_log_context", default=_EMPTY)


def bind(**values: str | None) -> None:
    """Add ``values`` (those not None) to the context of the current task."""
    current = dict(_CONTEXT.get())
    current.update({key: value for key, value in values.items() if value is not None})
    _CONTEXT.set(MappingProxyType(current))


def current() -> Mapping[str, str]:
    return _CONTEXT.get()
