"""What the fake platform servers (``fake_telegram``, ``fake_zalo``) have in common.

:class:`FakeServer` serves an aiohttp application on ``127.0.0.1`` (a free port) inside the
test's event loop and keeps what tests inspect and wait for: the API calls the bot made, the
messages it sent (per chat, with marks to count from), the updates still queued for it and
whether it has gone quiet.  A subclass builds the application (:meth:`FakeServer._build_app`),
records calls and messages into the attributes below and calls :meth:`FakeServer._notify`
(state changed) or :meth:`FakeServer._touch` (state changed by the bot's activity) so that
waiters wake up.

Type parameters: the chat id type, the message id type (Telegram: ``int`` and ``int``;
Zalo: ``str`` and ``str``) and the class of a message the bot sent.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
from collections.abc import Callable, Collection
from typing import Any, ClassVar, Generic, Self, TypeVar

from aiohttp import web

from tests.fake_flood import FloodControl

JSONDict = dict[str, Any]

ChatT = TypeVar("ChatT")
MessageIdT = TypeVar("MessageIdT")
SentT = TypeVar("SentT")


class FakeServer(abc.ABC, Generic[ChatT, MessageIdT, SentT]):
    """Serving, recording and waiting, shared by the fake platform servers."""

    # Names the server in errors ("FakeTelegram is not started").
    server_name: ClassVar[str] = "FakeServer"

    # Updates queued for the bot and not yet taken; each subclass picks the container its
    # getUpdates needs (a list Telegram trims by offset, a deque Zalo pops from).
    _pending: Collection[JSONDict]

    def __init__(self) -> None:
        self.calls: list[tuple[str, JSONDict]] = []
        self.sent: list[SentT] = []
        # Flood control (off until enforce_limits / inject_429); records every send accepted
        # or refused, for counting duplicates and measuring the pace.
        self.flood = FloodControl()

        self._messages: dict[MessageIdT, SentT] = {}
        self._by_chat: dict[ChatT, list[SentT]] = {}
        self._marks: dict[ChatT, int] = {}

        self._event = asyncio.Event()
        self._inflight = 0  # API requests being handled, a waiting getUpdates excepted
        self._last_activity = time.monotonic()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError(f"{self.server_name} already started")
        self._closing = False
        self._event = asyncio.Event()
        runner = web.AppRunner(
            self._build_app(), access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        await self._on_started()
        self._last_activity = time.monotonic()

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing = True  # ends pending long polls at once, so shutdown is immediate
        self._notify()
        await self._on_stopping()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, the root of everything this server answers."""
        if self._port is None:
            raise RuntimeError(f"{self.server_name} is not started")
        return f"http://127.0.0.1:{self._port}"

    @abc.abstractmethod
    def _build_app(self) -> web.Application:
        """The aiohttp application :meth:`start` serves."""

    async def _on_started(self) -> None:
        """Start what the subclass runs besides the app (called once it is served)."""

    async def _on_stopping(self) -> None:
        """Stop what :meth:`_on_started` started (called before the app stops being served)."""

    # ------------------------------------------------------------------ inspection / waiting

    def messages_to(self, chat_id: ChatT) -> list[SentT]:
        return list(self._by_chat.get(chat_id, []))

    def message(self, message_id: MessageIdT) -> SentT:
        return self._messages[message_id]

    def calls_of(self, method: str) -> list[JSONDict]:
        key = self._method_key(method)
        return [params for name, params in self.calls if self._method_key(name) == key]

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates queued and not yet taken by the bot (Telegram: not yet confirmed with a
        getUpdates offset; Zalo: not yet handed out)."""
        return list(self._pending)

    def mark(self, chat_id: ChatT) -> None:
        """Remember the current position: wait_for_messages counts from here."""
        self._marks[chat_id] = len(self._by_chat.get(chat_id, []))

    async def wait_for_messages(
        self,
        chat_id: ChatT,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the whole wait, not one call
    ) -> list[SentT]:
        """Wait until ``count`` messages were sent to ``chat_id`` since the last mark (or the
        start) and return all of them (possibly more than ``count``)."""
        start = self._marks.get(chat_id, 0)

        def enough() -> bool:
            return len(self._by_chat.get(chat_id, [])) - start >= count

        ok = await self._wait_until(enough, timeout)
        got = self.messages_to(chat_id)[start:]
        if not ok:
            seen = "\n".join(f"  {self._describe(m)}" for m in got)
            raise AssertionError(
                f"expected {count} message(s) to chat {chat_id} within {timeout}s, "
                f"got {len(got)}:\n{seen or '  (none)'}"
            )
        return got

    async def wait_for_call(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the whole wait, not one call
    ) -> list[JSONDict]:
        """Wait until ``method`` was called ``count`` times in total; return the params."""
        ok = await self._wait_until(lambda: len(self.calls_of(method)) >= count, timeout)
        found = self.calls_of(method)
        if not ok:
            raise AssertionError(
                f"expected {count} call(s) of {method} within {timeout}s, got {len(found)}: {found}"
            )
        return found

    async def wait_idle(
        self,
        quiet: float = 0.3,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the whole wait, not one call
    ) -> None:
        """Return once every queued update was taken by the bot, no request (other than a
        waiting getUpdates) nor anything else the server does (e.g. a webhook delivery) is
        in flight, and nothing happened for ``quiet`` seconds; AssertionError after
        ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = loop.time()
            wait = deadline - now
            if not self._pending and self._inflight == 0 and not self._busy():
                idle_for = time.monotonic() - self._last_activity
                if idle_for >= quiet:
                    return
                wait = min(wait, quiet - idle_for)
            if now >= deadline:
                raise AssertionError(
                    f"not idle after {timeout}s: {self._busy_summary()}, last calls: "
                    f"{[name for name, _ in self.calls[-5:]]}"
                )
            await self._changed(max(wait, 0.001))

    # ------------------------------------------------------------------ subclass hooks

    @abc.abstractmethod
    def _describe(self, message: SentT) -> str:
        """One line about a sent message, for wait_for_messages' failure."""

    def _method_key(self, method: str) -> str:
        """What calls_of compares method names by (exact names unless overridden)."""
        return method

    def _busy(self) -> bool:
        """Whether the server is busy with something of its own (wait_idle waits for it)."""
        return False

    @abc.abstractmethod
    def _busy_summary(self) -> str:
        """What is still queued or in flight, for wait_idle's failure."""

    # ------------------------------------------------------------------ internals

    def _notify(self) -> None:
        """Wake everything waiting for a state change (:meth:`_changed`)."""
        self._event.set()
        self._event = asyncio.Event()

    def _touch(self) -> None:
        """Record activity (wait_idle's quiet period starts again) and notify."""
        self._last_activity = time.monotonic()
        self._notify()

    async def _changed(self, seconds: float) -> None:
        """Sleep until the next state change (_notify) or for ``seconds``."""
        event = self._event
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that races with the event being set (stop() does both to a task waiting here).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()

    async def _wait_until(self, predicate: Callable[[], bool], seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await self._changed(remaining)
        return True
