"""Delivering the outbox: per-channel senders kept within the platforms' limits.

Planning writes rows to the ``outbox`` table (``scheduler/outbox.py``); a :class:`Deliverer`
claims the rows that are due, sends each through its channel's :class:`Sender` and records
what became of it. Platforms stay in ``bot/`` (``bot/senders.py``): a sender only turns the
platform's answers into the exceptions below.

Claiming. A batch of due rows (``pending`` whose ``not_before`` has come, or ``sending``
whose lease ran out because the process holding it died) is switched to ``sending`` with
``claimed_by`` and ``claimed_until`` (a lease) in one short statement:
``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`` on PostgreSQL, so two processes
never hold the same row, and the same statement on SQLite, where one writer at a time makes
it atomic. While a deliverer holds rows it renews their lease; a deliverer that stops hands
the rows it did not send back at once.

Pace. Each channel has its own lane: at most ``rate_per_second`` sends in any window of one
second (evenly spaced, and a dispatcher that woke late may catch up half an interval, never
more than the window allows), at least ``chat_interval`` between two sends to one chat and
one send in flight per chat, at most ``max_in_flight`` requests in flight. The dispatcher
always sends for the chat that may go first, so a chat that has to wait holds up nobody.

Outcomes. Sent: ``sent`` with ``sent_at``. :class:`RetryAfter` (429): that chat pauses for the
time asked and its rows go back to ``pending`` with ``not_before`` then (other chats keep
going); the whole channel pauses only when the platform says the limit is the bot's, or when
several chats get a 429 within a second (which is how a bot-wide flood shows). A network or
server error (:class:`TransientError`, or anything unexpected): back to ``pending`` after an
exponential backoff, ``failed`` with the error after the last attempt. :class:`Unreachable`
(403, the person blocked the bot): ``unreachable``, and the account of that chat gets
``unreachable_at`` and the reason (shown to leaders in their digest). :class:`Rejected`
(the platform refuses the message itself): ``failed`` at once.

Delivery is at least once: a process killed between a platform's answer and the write that
records it sends that message again after the lease; outcomes are written a few
milliseconds after the answer, in batches, so that window is small.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import os
import secrets
import socket
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.messages import split_text
from scheduler.outbox import FAILED, PENDING, SENDING, SENT, UNREACHABLE
from storage.models import Account, OutboxMessage

log = logging.getLogger(__name__)

OUTBOX = cast(Table, OutboxMessage.__table__)
ACCOUNTS = cast(Table, Account.__table__)

# 429s on this many different chats within FLOOD_WINDOW seconds (FLOOD_SHARE of what the
# rate allows in that time, at least FLOOD_CHATS) are taken for a limit of the whole bot
# (the platform does not say which), and pause the channel.
FLOOD_CHATS = 3
FLOOD_SHARE = 0.2
FLOOD_WINDOW = 1.0
# A dispatcher that woke late may send this fraction of an interval early to catch up.
CATCH_UP = 0.5


# --------------------------------------------------------------------------- what senders raise


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


class Sender(Protocol):
    """One channel's way out: sends one message of at most the channel's text limit."""

    async def send(self, chat_id: str, text: str) -> None: ...


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


@dataclass
class DeliveryStats:
    claimed: int = 0
    requests: int = 0  # calls to a sender (a split text makes several)
    sent: int = 0
    retry_after: int = 0  # 429s received
    global_pauses: int = 0
    transient: int = 0  # transient errors received
    failed: int = 0
    unreachable: int = 0
    released: int = 0  # handed back unsent on stop
    lease_lost: int = 0


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _default_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


async def _wait(event: asyncio.Event, seconds: float | None) -> None:
    """Until ``event`` is set or ``seconds`` have passed (None: no limit)."""
    if seconds is None:
        await event.wait()
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(seconds, 0.0)):
            await event.wait()


# --------------------------------------------------------------------------- rows and outcomes


@dataclass
class _Row:
    id: int
    chat_id: str
    attempts: int
    parts: list[str]
    done_parts: int = 0  # parts of a split text already sent
    lease_until: float = 0.0  # event-loop time


@dataclass(frozen=True)
class _Outcome:
    row_id: int
    status: str  # SENT, PENDING (back in the queue), FAILED, UNREACHABLE
    at: datetime
    channel: str = ""
    chat_id: str = ""
    attempts: int | None = None
    error: str | None = None
    not_before: datetime | None = None  # PENDING: when it may go again (None: unchanged)


# --------------------------------------------------------------------------- one channel


class _Lane:
    """The rows of one channel held by this process, and the pace they go out at."""

    def __init__(self, owner: Deliverer, channel: str, sender: Sender, limits: Limits) -> None:
        self.owner = owner
        self.channel = channel
        self.sender = sender
        self.limits = limits
        rate = limits.rate_per_second
        stretch = 1.0 + limits.headroom
        self.per_window = max(1, math.floor(rate * max(1.0, 1.0 / rate) + 1e-9))
        self.window = max(1.0, 1.0 / rate) * stretch
        self.interval = self.window / self.per_window
        self.chat_interval = limits.chat_interval * stretch
        # Scattered 429s (Telegram refuses some sends at random) stay below this.
        self.flood_chats = max(FLOOD_CHATS, math.ceil(FLOOD_SHARE * rate * FLOOD_WINDOW))
        # Rows enough for ``lookahead`` seconds of sending, counted in chats with rows
        # waiting (one chat's many rows go out at one per chat_interval however many).
        self.target = max(8, math.ceil(rate * owner.lookahead))

        self.queues: dict[str, deque[_Row]] = {}  # claimed rows waiting, per chat, in order
        self.held: dict[int, _Row] = {}  # every row held: waiting or in flight
        # Chats with rows waiting: those that must wait for their chat_interval (or a 429)
        # by time, (may go at, seq, chat); those that may go now by the rows they still
        # have, most first, (-rows, since, seq, chat): a chat's later rows must wait
        # chat_interval each, so starting its chain early keeps it from making a tail at the
        # end of a broadcast. Among equals, first come first served.
        self.later: list[tuple[float, int, str]] = []
        self.ready: list[tuple[int, float, int, str]] = []
        self.scheduled: set[str] = set()  # chats in either
        self.busy: set[str] = set()  # chats with a request in flight
        self.chat_next: dict[str, float] = {}  # chat -> earliest next send
        self.recent: deque[float] = deque(maxlen=self.per_window)  # last sends' times
        self.next_slot = 0.0
        self.paused_until = 0.0
        self.floods: deque[tuple[float, str]] = deque()
        self.inflight: set[asyncio.Task[None]] = set()
        self.changed = asyncio.Event()  # wakes the dispatcher
        self.want_rows = asyncio.Event()  # wakes the claimer
        self.exhausted = False  # the last claim found fewer rows than asked
        self.timers = 0  # retries scheduled in this process, not yet due
        self._seq = itertools.count()

    # ----------------------------------------------------------------- bookkeeping

    @property
    def idle(self) -> bool:
        return self.exhausted and not self.held and not self.inflight and self.timers == 0

    def add(self, rows: Iterable[_Row]) -> int:
        loop_now = asyncio.get_running_loop().time()
        added = 0
        for row in rows:
            if row.id in self.held:  # our own row, found again after a late renewal
                self.held[row.id].lease_until = row.lease_until
                continue
            self.held[row.id] = row
            self.queues.setdefault(row.chat_id, deque()).append(row)
            self._schedule(row.chat_id, loop_now)
            added += 1
        if added:
            self.changed.set()
        return added

    def _schedule(self, chat: str, now: float) -> None:
        if chat in self.scheduled or chat in self.busy or not self.queues.get(chat):
            return
        at = max(now, self.chat_next.get(chat, 0.0))
        heapq.heappush(self.later, (at, next(self._seq), chat))
        self.scheduled.add(chat)

    def _promote(self, now: float) -> None:
        while self.later and self.later[0][0] <= now:
            at, seq, chat = heapq.heappop(self.later)
            waiting = len(self.queues.get(chat, ()))
            heapq.heappush(self.ready, (-waiting, at, seq, chat))

    def _slot(self) -> float:
        """The earliest time the channel's rate allows the next send."""
        start = max(self.next_slot, self.paused_until)
        if len(self.recent) >= self.per_window:
            start = max(start, self.recent[0] + self.window)
        return start

    def _take_slot(self, now: float) -> None:
        if len(self.chat_next) > 4 * self.target and next(self._seq) % 256 == 0:
            self.chat_next = {c: t for c, t in self.chat_next.items() if t > now}
        self.recent.append(now)
        self.next_slot = max(self.next_slot + self.interval, now + self.interval * CATCH_UP)

    async def reserve(self, chat: str | None) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            start = self._slot()
            if chat is not None:
                start = max(start, self.chat_next.get(chat, 0.0))
            if start <= now:
                break
            await asyncio.sleep(start - now)
        self._take_slot(now)
        if chat is not None:
            self.chat_next[chat] = now + self.chat_interval
        self.changed.set()

    def _retry_later(self, seconds: float) -> None:
        """Claim again once rows put back for ``seconds`` are due."""
        self.timers += 1
        loop = asyncio.get_running_loop()

        def due() -> None:
            self.timers -= 1
            self.exhausted = False
            self.want_rows.set()

        loop.call_later(seconds + 0.01, due)

    def _release_chat(self, chat: str) -> list[_Row]:
        rows = list(self.queues.pop(chat, ()))
        for row in rows:
            self.held.pop(row.id, None)
        return rows

    # ----------------------------------------------------------------- claiming

    async def claim_loop(self) -> None:
        owner = self.owner
        delay = 1.0
        while not owner._draining:
            self.want_rows.clear()
            room = self.target - len(self.queues)
            if room >= self.target // 2 or (room > 0 and not self.queues):
                try:
                    rows = await owner._claim(self.channel, room)
                except Exception:
                    log.exception(
                        "claiming %s outbox rows failed; retrying in %.0f s", self.channel, delay
                    )
                    await _wait(self.want_rows, delay)
                    delay = min(delay * 2, 30.0)
                    continue
                delay = 1.0
                self.exhausted = len(rows) < room
                if owner._draining:  # stopped while claiming: hand them back
                    owner._release(self.channel, rows)
                    break
                self.add(rows)
                if rows and not self.exhausted:
                    continue
            await _wait(self.want_rows, owner.poll_interval)

    # ----------------------------------------------------------------- sending

    async def dispatch_loop(self) -> None:
        owner = self.owner
        loop = asyncio.get_running_loop()
        while not owner._stopping:
            self.changed.clear()
            now = loop.time()
            self._promote(now)
            if not self.ready:
                await _wait(self.changed, self.later[0][0] - now if self.later else None)
                continue
            start = self._slot()
            if start > now:
                await _wait(self.changed, start - now)
                continue
            if len(self.inflight) >= self.limits.max_in_flight:
                await self.changed.wait()
                continue
            chat = heapq.heappop(self.ready)[3]
            self.scheduled.discard(chat)
            if self.chat_next.get(chat, 0.0) > now:  # paused since it was scheduled
                self._schedule(chat, now)
                continue
            queue = self.queues.get(chat)
            if not queue:
                continue
            row = queue.popleft()
            if not queue:
                del self.queues[chat]
            if row.lease_until - now < owner.lease_margin:
                # The lease could not be renewed: another process may claim the row soon,
                # so sending it now could send it twice. It goes out after the lease.
                self.held.pop(row.id, None)
                owner.stats.lease_lost += 1
                log.warning("outbox row %s not sent: its lease could not be renewed", row.id)
                self._schedule(chat, now)
                continue
            self._take_slot(now)
            self.chat_next[chat] = now + self.chat_interval
            self.busy.add(chat)
            task = asyncio.create_task(self._send(row), name=f"deliver-{row.id}")
            self.inflight.add(task)
            task.add_done_callback(self._sent)
            if len(self.queues) < self.target // 2 and not self.exhausted:
                self.want_rows.set()

    def _sent(self, task: asyncio.Task[None]) -> None:
        self.inflight.discard(task)
        self.changed.set()

    async def _send(self, row: _Row) -> None:
        owner = self.owner
        chat = row.chat_id
        loop = asyncio.get_running_loop()
        try:
            owner.stats.requests += 1
            await self.sender.send(chat, row.parts[row.done_parts])
        except RetryAfter as err:
            self._on_retry_after(row, err, loop.time())
        except Unreachable as err:
            reason = err.reason or "unreachable"
            log.info("%s chat %s is unreachable: %s", self.channel, chat, reason)
            for each in [row, *self._release_chat(chat)]:  # the same answer for the rest
                self.held.pop(each.id, None)
                owner.stats.unreachable += 1
                owner._record(
                    _Outcome(each.id, UNREACHABLE, owner.clock(), self.channel, chat, error=reason)
                )
        except Rejected as err:
            self.held.pop(row.id, None)
            owner.stats.failed += 1
            log.warning("%s refused outbox row %s: %s", self.channel, row.id, err)
            owner._record(_Outcome(row.id, FAILED, owner.clock(), error=_text(err)))
        except asyncio.CancelledError:
            # Whether it went out is unknown: the row stays claimed until its lease runs out.
            self.held.pop(row.id, None)
            raise
        except Exception as err:
            self._on_transient(row, err)
        else:
            row.done_parts += 1
            if row.done_parts < len(row.parts):  # the next part, after chat_interval
                self.queues.setdefault(chat, deque()).appendleft(row)
            else:
                self.held.pop(row.id, None)
                owner.progress.pop(row.id, None)
                owner.stats.sent += 1
                owner._record(_Outcome(row.id, SENT, owner.clock()))
        finally:
            self.busy.discard(chat)
            self._schedule(chat, loop.time())

    def _on_retry_after(self, row: _Row, err: RetryAfter, now: float) -> None:
        owner = self.owner
        owner.stats.retry_after += 1
        chat = row.chat_id
        until = now + err.seconds
        self.chat_next[chat] = max(self.chat_next.get(chat, 0.0), until)
        self.floods.append((now, chat))
        while self.floods and self.floods[0][0] < now - FLOOD_WINDOW:
            self.floods.popleft()
        if err.whole_bot or len({c for _, c in self.floods}) >= self.flood_chats:
            if until > self.paused_until:
                owner.stats.global_pauses += 1
                log.warning(
                    "%s: the bot is over its limit; pausing %.1f s", self.channel, err.seconds
                )
            self.paused_until = max(self.paused_until, until)
        # This chat's rows go back to the queue, in order, due when the pause ends; another
        # process may take them then. Parts of a split text already sent are remembered.
        not_before = owner.clock() + timedelta(seconds=err.seconds)
        for each in [row, *self._release_chat(chat)]:
            self.held.pop(each.id, None)
            if each.done_parts:
                owner.progress[each.id] = each.done_parts
            owner._record(
                _Outcome(each.id, PENDING, owner.clock(), error=_text(err), not_before=not_before)
            )
        self._retry_later(err.seconds)

    def _on_transient(self, row: _Row, err: Exception) -> None:
        owner = self.owner
        owner.stats.transient += 1
        self.held.pop(row.id, None)
        if row.done_parts:
            owner.progress[row.id] = row.done_parts
        attempts = row.attempts + 1
        error = _text(err)
        if not isinstance(err, TransientError):
            log.warning("unexpected error sending outbox row %s", row.id, exc_info=err)
        if attempts >= owner.attempts:
            owner.stats.failed += 1
            owner.progress.pop(row.id, None)
            log.warning(
                "%s outbox row %s failed after %d attempts: %s",
                self.channel,
                row.id,
                attempts,
                error,
            )
            owner._record(_Outcome(row.id, FAILED, owner.clock(), attempts=attempts, error=error))
            return
        delay = min(owner.backoff * 2 ** (attempts - 1), owner.max_backoff)
        owner._record(
            _Outcome(
                row.id,
                PENDING,
                owner.clock(),
                attempts=attempts,
                error=error,
                not_before=owner.clock() + timedelta(seconds=delay),
            )
        )
        self._retry_later(delay)

    def take_waiting(self) -> list[_Row]:
        """Every row waiting (not in flight), removed from the lane."""
        rows = [row for queue in self.queues.values() for row in queue]
        self.queues.clear()
        self.later.clear()
        self.ready.clear()
        self.scheduled.clear()
        for row in rows:
            self.held.pop(row.id, None)
        return rows


def _text(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


# --------------------------------------------------------------------------- the deliverer


class Deliverer:
    """Delivers the outbox through ``senders`` (channel name -> :class:`Sender`).

    ``limits`` per channel (missing: Telegram's). ``attempts``: tries for a network or
    server error before ``failed``; the first retry waits ``backoff`` seconds, each next one
    twice as long, at most ``max_backoff``. ``lease``: seconds a claimed row stays reserved to
    this process (renewed while it holds the row; a dead process's rows are taken again
    after it). ``poll_interval``: how often to look for due rows without :meth:`wake`.
    ``lookahead``: seconds of sending claimed at a time. ``clock`` gives the time written
    to the database (``not_before``, ``sent_at``, leases); pacing uses the event loop's clock.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        limits: Mapping[str, Limits] | None = None,
        *,
        attempts: int = 5,
        backoff: float = 2.0,
        max_backoff: float = 300.0,
        lease: float = 60.0,
        poll_interval: float = 5.0,
        lookahead: float = 5.0,
        clock: Callable[[], datetime] = _utcnow,
        name: str | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if lease <= 0 or poll_interval <= 0 or lookahead <= 0:
            raise ValueError("lease, poll_interval and lookahead must be positive")
        self.sessionmaker = sessionmaker
        self.senders = dict(senders)
        self.limits = {channel: (limits or {}).get(channel, Limits()) for channel in senders}
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.lease = lease
        self.lease_margin = lease / 6
        self.poll_interval = poll_interval
        self.lookahead = lookahead
        self.clock = clock
        self.name = (name or _default_name())[:100]
        self.stats = DeliveryStats()
        # Parts of split texts already sent, by row id, when the rest had to wait.
        self.progress: dict[int, int] = {}

        self._lanes: dict[str, _Lane] = {}
        self._outcomes: list[_Outcome] = []
        self._writing: list[_Outcome] = []
        self._outcome_ready = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False
        self._draining = False  # no more claims
        self._stopping = False  # no more sends
        self._closing = False  # every outcome recorded: the writer ends when it has written them

    # ----------------------------------------------------------------- public API

    def wake(self) -> None:
        """New rows were enqueued: look for them now rather than at the next poll."""
        for lane in self._lanes.values():
            lane.exhausted = False
            lane.want_rows.set()

    async def reserve(self, channel: str, chat_id: str | None = None) -> None:
        """Wait for, and take, a slot of ``channel``'s rate for a message sent elsewhere (a
        reply to someone who wrote): broadcasts then leave it free, and a reply goes before
        the broadcast's next message. With ``chat_id``, that chat's interval is kept too.
        Returns at once when the deliverer is not running or has no such channel."""
        lane = self._lanes.get(channel)
        if lane is None or not self._running:
            return
        await lane.reserve(chat_id)

    async def run_forever(self) -> None:
        """Deliver until :meth:`stop` or :meth:`drain` (or cancellation, which also shuts
        down gracefully: what is in flight is recorded, what is waiting handed back)."""
        await self._run(until_idle=False)

    async def run_until_idle(self) -> None:
        """Deliver everything due, including the retries it schedules, then stop."""
        await self._run(until_idle=True)

    async def stop(self) -> None:
        """Send nothing more; record what is in flight; hand back what waits; return once
        :meth:`run_forever` has finished."""
        self._stop_requested.set()
        if self._running:
            await self._finished.wait()

    async def drain(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Claim nothing more, send what is already claimed (within the limits, for at most
        ``timeout`` seconds), then :meth:`stop`."""
        self._draining = True
        for lane in self._lanes.values():
            lane.want_rows.set()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._running and any(lane.held for lane in self._lanes.values()):
            if deadline is not None and loop.time() >= deadline:
                break
            await asyncio.sleep(0.05)
        await self.stop()

    # ----------------------------------------------------------------- running

    async def _run(self, until_idle: bool) -> None:
        if self._running:
            raise RuntimeError("this Deliverer is already running")
        self._running = True
        self._draining = self._stopping = self._closing = False
        self._finished = asyncio.Event()
        self._outcome_ready = asyncio.Event()
        self._lanes = {
            channel: _Lane(self, channel, sender, self.limits[channel])
            for channel, sender in self.senders.items()
        }
        workers: list[asyncio.Task[None]] = []
        for lane in self._lanes.values():
            workers.append(asyncio.create_task(lane.claim_loop(), name=f"claim-{lane.channel}"))
            workers.append(
                asyncio.create_task(lane.dispatch_loop(), name=f"dispatch-{lane.channel}")
            )
        writer = asyncio.create_task(self._write_loop(), name="outbox-writer")
        renewer = asyncio.create_task(self._renew_loop(), name="outbox-lease")
        watcher = (
            asyncio.create_task(self._watch_idle(), name="outbox-idle") if until_idle else None
        )
        stop = asyncio.create_task(self._stop_requested.wait())
        watched: set[asyncio.Task[Any]] = {stop, writer, renewer, *workers}
        crash: BaseException | None = None
        cancelled = False
        try:
            while not stop.done() and crash is None:
                done, watched = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
                # A claimer ends when draining; any task ending with an error is a bug:
                # shut down and let the caller see it rather than stall in silence.
                crash = next(
                    (t.exception() for t in done if not t.cancelled() and t.exception()), None
                )
        except asyncio.CancelledError:
            cancelled = True
        finally:
            stop.cancel()
            if crash is not None:
                log.error("outbox delivery stopped by an error", exc_info=crash)
            await self._shutdown(workers, writer, renewer, watcher)
        if cancelled:
            raise asyncio.CancelledError
        if crash is not None:
            raise crash

    async def _watch_idle(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            if (
                all(lane.idle for lane in self._lanes.values())
                and not self._outcomes
                and not self._writing
            ):
                # A retry may have been claimed for before its outcome was written: look.
                try:
                    due = await self._count_due()
                except Exception:
                    log.exception("counting due outbox rows failed")
                    continue
                if due == 0:
                    self._stop_requested.set()
                    return
                self.wake()

    async def _shutdown(
        self,
        workers: list[asyncio.Task[None]],
        writer: asyncio.Task[None],
        renewer: asyncio.Task[None],
        watcher: asyncio.Task[None] | None,
    ) -> None:
        self._draining = self._stopping = True
        for lane in self._lanes.values():
            lane.changed.set()
            lane.want_rows.set()
        if watcher is not None:
            watcher.cancel()
        # Claimers finish the claim they are in (a cancelled claim could strand rows until
        # their lease ends); dispatchers stop at once.
        _, pending = await asyncio.wait(workers, timeout=30) if workers else (set(), set())
        for task in pending:
            task.cancel()
        inflight = [task for lane in self._lanes.values() for task in lane.inflight]
        if inflight:
            _, late = await asyncio.wait(inflight, timeout=30)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=5)
        for lane in self._lanes.values():
            self._release(lane.channel, lane.take_waiting())
        renewer.cancel()
        await asyncio.wait([renewer], timeout=5)
        self._closing = True
        self._outcome_ready.set()
        await asyncio.wait([writer], timeout=60)
        left = [*self._writing, *self._outcomes]
        if left and writer.done():  # the writer died: one last try here
            try:
                await self._write(left)
                left = []
            except Exception:
                log.exception("recording outbox outcomes failed")
        if left:
            writer.cancel()
            log.error(
                "%d outbox outcomes not recorded: their rows go again after the lease", len(left)
            )
        self._running = False
        self._stop_requested = asyncio.Event()  # for a next run
        self._finished.set()

    def _release(self, channel: str, rows: Iterable[_Row]) -> None:
        now = self.clock()
        for row in rows:
            self.stats.released += 1
            if row.done_parts:
                self.progress[row.id] = row.done_parts
            self._record(_Outcome(row.id, PENDING, now))

    # ----------------------------------------------------------------- database

    async def _claim(self, channel: str, limit: int) -> list[_Row]:
        now = self.clock()
        until = now + timedelta(seconds=self.lease)
        o = OUTBOX.c
        due = or_(
            and_(o.status == PENDING, o.not_before <= now),
            and_(o.status == SENDING, o.claimed_until < now),
        )
        ids = select(o.id).where(o.channel == channel, due).order_by(o.id).limit(limit)
        async with self.sessionmaker() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                ids = ids.with_for_update(skip_locked=True)
            result = await session.execute(
                update(OUTBOX)
                .where(o.id.in_(ids.scalar_subquery()))
                .values(status=SENDING, claimed_by=self.name, claimed_until=until)
                .returning(o.id, o.chat_id, o.text, o.attempts)
            )
            found = result.all()
        lease_until = asyncio.get_running_loop().time() + self.lease
        text_limit = self.limits[channel].text_limit
        rows = []
        for row_id, chat_id, text, attempts in sorted(found):
            parts = split_text(text, text_limit) if text_limit else [text]
            done = min(self.progress.get(row_id, 0), len(parts) - 1)
            rows.append(_Row(row_id, chat_id, attempts, parts, done, lease_until))
        self.stats.claimed += len(rows)
        return rows

    async def _count_due(self) -> int:
        now = self.clock()
        o = OUTBOX.c
        due = or_(
            and_(o.status == PENDING, o.not_before <= now),
            and_(o.status == SENDING, o.claimed_until < now),
        )
        query = select(func.count()).where(o.channel.in_(list(self.senders)), due)
        async with self.sessionmaker() as session:
            return int(await session.scalar(query) or 0)

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            ids = {row_id for lane in self._lanes.values() for row_id in lane.held}
            ids.update(o.row_id for o in (*self._outcomes, *self._writing))
            if not ids:
                continue
            until = self.clock() + timedelta(seconds=self.lease)
            lease_until = asyncio.get_running_loop().time() + self.lease
            try:
                async with self.sessionmaker() as session, session.begin():
                    o = OUTBOX.c
                    for chunk in _chunks(sorted(ids), 500):
                        await session.execute(
                            update(OUTBOX)
                            .where(o.id.in_(chunk), o.claimed_by == self.name, o.status == SENDING)
                            .values(claimed_until=until)
                        )
            except Exception:
                log.exception("renewing the outbox lease failed")
                continue
            for lane in self._lanes.values():
                for row in lane.held.values():
                    row.lease_until = lease_until

    def _record(self, outcome: _Outcome) -> None:
        self._outcomes.append(outcome)
        self._outcome_ready.set()

    async def _write_loop(self) -> None:
        delay = 0.5
        while True:
            if not self._outcomes:
                if self._closing:
                    return
                self._outcome_ready.clear()
                await _wait(self._outcome_ready, 1.0)
                continue
            self._writing, self._outcomes = self._outcomes, []
            try:
                await self._write(self._writing)
            except Exception:
                log.exception("recording %d outbox outcomes failed", len(self._writing))
                self._outcomes[:0] = self._writing
                self._writing = []
                if self._closing and delay > 8:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            self._writing = []
            delay = 0.5

    async def _write(self, outcomes: list[_Outcome]) -> None:
        o = OUTBOX.c
        sent = [{"oid": x.row_id, "at": x.at} for x in outcomes if x.status == SENT]
        mine = and_(o.id == bindparam("oid"), o.claimed_by == self.name, o.status == SENDING)
        async with self.sessionmaker() as session, session.begin():
            if sent:
                # Even if the lease was lost meanwhile: it went out, it must not go again.
                await session.execute(
                    update(OUTBOX)
                    .where(o.id == bindparam("oid"), or_(o.status == PENDING, o.status == SENDING))
                    .values(status=SENT, sent_at=bindparam("at"), claimed_until=None, error=None),
                    sent,
                )
            for x in outcomes:
                if x.status == SENT:
                    continue
                values: dict[str, Any] = {"status": x.status, "claimed_until": None}
                if x.error is not None:
                    values["error"] = x.error[:2000]
                if x.attempts is not None:
                    values["attempts"] = x.attempts
                if x.status == PENDING:
                    values["claimed_by"] = None
                    if x.not_before is not None:
                        values["not_before"] = x.not_before
                result = await session.execute(
                    update(OUTBOX).where(mine).values(**values), {"oid": x.row_id}
                )
                if result.rowcount == 0:  # type: ignore[attr-defined]
                    self.stats.lease_lost += 1
                    log.warning("outbox row %s was taken by another sender meanwhile", x.row_id)
                if x.status == UNREACHABLE:
                    a = ACCOUNTS.c
                    await session.execute(
                        update(ACCOUNTS)
                        .where(a.channel == x.channel, a.external_id == x.chat_id)
                        .values(unreachable_at=x.at, unreachable_reason=(x.error or "")[:300])
                    )


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = [
    "Deliverer",
    "DeliveryError",
    "DeliveryStats",
    "Limits",
    "Rejected",
    "RetryAfter",
    "Sender",
    "TransientError",
    "Unreachable",
]
