"""One channel's lane: the outbox rows this process holds for it, which chat goes next, and
what each send's answer means.

A claimer keeps a few seconds of sending in hand (``lookahead``); a dispatcher sends, within
the channel's :class:`~scheduler.pacing.Pace`, for the chat that may go first, so a chat that
has to wait holds up nobody; at most one send is in flight per chat and ``max_in_flight``
for the channel.

Answers. Sent: ``sent`` (a split text's next part first goes out, after ``chat_interval``).
:class:`~scheduler.senders.RetryAfter` (429): that chat pauses for the time asked and its rows
go back to ``pending`` with ``not_before`` then, the other chats keep going; the whole channel
pauses only when the 429 is the whole bot's (``scheduler/floods.py``). A network or server
error (:class:`~scheduler.senders.TransientError`, or anything unexpected): back to
``pending`` after an exponential backoff, ``failed`` with the error after the last attempt.
:class:`~scheduler.senders.Unreachable` (403): ``unreachable``, with every row of that chat.
:class:`~scheduler.senders.Rejected`: ``failed`` at once.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from scheduler.floods import Floods
from scheduler.leases import DeliveryStats, Leases, Outcome, Row
from scheduler.outbox import FAILED, SENT, UNREACHABLE
from scheduler.pacing import Limits, Pace, wait_event
from scheduler.senders import Rejected, RetryAfter, Sender, TransientError, Unreachable
from scheduler.turns import Turns, chat_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retries:
    """Tries for a network or server error before ``failed``; the first retry waits
    ``backoff`` seconds, each next one twice as long, at most ``max_backoff``."""

    attempts: int = 5
    backoff: float = 2.0
    max_backoff: float = 300.0

    def delay(self, attempts: int) -> float:
        return min(self.backoff * 2 ** (attempts - 1), self.max_backoff)


def _text(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class Lane:
    """The rows of one channel held by this process, and the pace they go out at."""

    def __init__(
        self,
        channel: str,
        sender: Sender,
        limits: Limits,
        leases: Leases,
        retries: Retries,
        *,
        lookahead: float,
        poll_interval: float,
        turns: Turns | None = None,
    ) -> None:
        self.channel = channel
        self.turns = turns  # limits shared with other processes, taken before each send
        self.sender = sender
        self.limits = limits
        self.leases = leases
        self.stats: DeliveryStats = leases.stats
        self.retries = retries
        self.poll_interval = poll_interval
        self.lease_margin = leases.lease / 6
        # Rows enough for ``lookahead`` seconds of sending, counted in chats with rows
        # waiting (one chat's many rows go out at one per chat_interval however many).
        self.target = max(8, math.ceil(limits.rate_per_second * lookahead))
        self.pace = Pace(limits, chats_kept=4 * self.target)
        self.floods = Floods(limits.rate_per_second)

        self.queues: dict[str, deque[Row]] = {}  # claimed rows waiting, per chat, in order
        self.held: dict[int, Row] = {}  # every row held: waiting or in flight
        # Chats with rows waiting: those that must wait for their chat_interval (or a 429)
        # by time, (may go at, seq, chat); those that may go now by the rows they still
        # have, most first, (-rows, since, seq, chat): a chat's later rows must wait
        # chat_interval each, so starting its chain early keeps it from making a tail at the
        # end of a broadcast. Among equals, first come first served.
        self.later: list[tuple[float, int, str]] = []
        self.ready: list[tuple[int, float, int, str]] = []
        self.scheduled: set[str] = set()  # chats in either
        self.busy: set[str] = set()  # chats with a request in flight
        self.inflight: set[asyncio.Task[None]] = set()
        self.changed = asyncio.Event()  # wakes the dispatcher
        self.want_rows = asyncio.Event()  # wakes the claimer
        self.exhausted = False  # the last claim found fewer rows than asked
        self.draining = False  # no more claims
        self.stopping = False  # no more sends
        self.timers = 0  # retries scheduled in this process, not yet due
        self._seq = itertools.count()

    # ----------------------------------------------------------------- bookkeeping

    @property
    def idle(self) -> bool:
        return self.exhausted and not self.held and not self.inflight and self.timers == 0

    def wake(self) -> None:
        """Look for due rows now."""
        self.exhausted = False
        self.want_rows.set()

    def stop_claiming(self) -> None:
        self.draining = True
        self.want_rows.set()

    def stop_sending(self) -> None:
        self.draining = self.stopping = True
        self.changed.set()
        self.want_rows.set()

    def add(self, rows: Iterable[Row]) -> int:
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
        at = max(now, self.pace.chat_free_at(chat))
        heapq.heappush(self.later, (at, next(self._seq), chat))
        self.scheduled.add(chat)

    def _promote(self, now: float) -> None:
        while self.later and self.later[0][0] <= now:
            at, seq, chat = heapq.heappop(self.later)
            waiting = len(self.queues.get(chat, ()))
            heapq.heappush(self.ready, (-waiting, at, seq, chat))

    async def reserve(self, chat: str | None) -> None:
        await self.pace.reserve(chat)
        if self.turns is not None:
            await self.turns.wait(self.channel, self.pace.interval)
        self.changed.set()

    def _retry_later(self, seconds: float) -> None:
        """Claim again once rows put back for ``seconds`` are due."""
        self.timers += 1
        loop = asyncio.get_running_loop()

        def due() -> None:
            self.timers -= 1
            self.wake()

        loop.call_later(seconds + 0.01, due)

    def _release_chat(self, chat: str) -> list[Row]:
        rows = list(self.queues.pop(chat, ()))
        for row in rows:
            self.held.pop(row.id, None)
        return rows

    def take_waiting(self) -> list[Row]:
        """Every row waiting (not in flight), removed from the lane."""
        rows = [row for queue in self.queues.values() for row in queue]
        self.queues.clear()
        self.later.clear()
        self.ready.clear()
        self.scheduled.clear()
        for row in rows:
            self.held.pop(row.id, None)
        return rows

    # ----------------------------------------------------------------- claiming

    async def claim_loop(self) -> None:
        delay = 1.0
        while not self.draining:
            self.want_rows.clear()
            room = self.target - len(self.queues)
            if room >= self.target // 2 or (room > 0 and not self.queues):
                try:
                    rows = await self.leases.claim(self.channel, room, self.limits.text_limit)
                except Exception:
                    log.exception(
                        "claiming %s outbox rows failed; retrying in %.0f s", self.channel, delay
                    )
                    await wait_event(self.want_rows, delay)
                    delay = min(delay * 2, 30.0)
                    continue
                delay = 1.0
                self.exhausted = len(rows) < room
                if self.draining:  # stopped while claiming: hand them back
                    self.leases.release(rows)
                    break
                self.add(rows)
                if rows and not self.exhausted:
                    continue
            await wait_event(self.want_rows, self.poll_interval)

    # ----------------------------------------------------------------- sending

    async def dispatch_loop(self) -> None:
        loop = asyncio.get_running_loop()
        pace = self.pace
        while not self.stopping:
            self.changed.clear()
            now = loop.time()
            self._promote(now)
            if not self.ready:
                await wait_event(self.changed, self.later[0][0] - now if self.later else None)
                continue
            start = pace.slot()
            if start > now:
                await wait_event(self.changed, start - now)
                continue
            if len(self.inflight) >= self.limits.max_in_flight:
                await self.changed.wait()
                continue
            chat = heapq.heappop(self.ready)[3]
            self.scheduled.discard(chat)
            if pace.chat_free_at(chat) > now:  # paused since it was scheduled
                self._schedule(chat, now)
                continue
            queue = self.queues.get(chat)
            if not queue:
                continue
            row = queue.popleft()
            if not queue:
                del self.queues[chat]
            if row.lease_until - now < self.lease_margin:
                # The lease could not be renewed: another process may claim the row soon,
                # so sending it now could send it twice. It goes out after the lease.
                self.held.pop(row.id, None)
                self.stats.lease_lost += 1
                log.warning("outbox row %s not sent: its lease could not be renewed", row.id)
                self._schedule(chat, now)
                continue
            pace.take(now, chat)
            self.busy.add(chat)
            task = asyncio.create_task(self._send(row), name=f"deliver-{row.id}")
            self.inflight.add(task)
            task.add_done_callback(self._sent)
            if len(self.queues) < self.target // 2 and not self.exhausted:
                self.want_rows.set()

    def _sent(self, task: asyncio.Task[None]) -> None:
        self.inflight.discard(task)
        self.changed.set()

    async def _send(self, row: Row) -> None:
        leases = self.leases
        chat = row.chat_id
        loop = asyncio.get_running_loop()
        try:
            if self.turns is not None:  # the chat's turn, then the platform's, of all processes
                if self.pace.chat_interval > 0:
                    await self.turns.wait(chat_key(self.channel, chat), self.pace.chat_interval)
                await self.turns.wait(self.channel, self.pace.interval)
            self.stats.requests += 1
            await self.sender.send(chat, row.parts[row.done_parts])
        except RetryAfter as err:
            self._on_retry_after(row, err, loop.time())
        except Unreachable as err:
            reason = err.reason or "unreachable"
            log.info("%s chat %s is unreachable: %s", self.channel, chat, reason)
            for each in [row, *self._release_chat(chat)]:  # the same answer for the rest
                self.held.pop(each.id, None)
                self.stats.unreachable += 1
                leases.record(
                    Outcome(each.id, UNREACHABLE, leases.clock(), self.channel, chat, error=reason)
                )
        except Rejected as err:
            self.held.pop(row.id, None)
            self.stats.failed += 1
            log.warning("%s refused outbox row %s: %s", self.channel, row.id, err)
            leases.record(Outcome(row.id, FAILED, leases.clock(), error=_text(err)))
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
                leases.progress.pop(row.id, None)
                self.stats.sent += 1
                leases.record(Outcome(row.id, SENT, leases.clock()))
        finally:
            self.busy.discard(chat)
            self._schedule(chat, loop.time())

    def _on_retry_after(self, row: Row, err: RetryAfter, now: float) -> None:
        self.stats.retry_after += 1
        chat = row.chat_id
        until = now + err.seconds
        self.pace.hold_chat(chat, until)
        if self.floods.whole_bot(now, chat, err.whole_bot) and self.pace.pause(until):
            self.stats.global_pauses += 1
            log.warning("%s: the bot is over its limit; pausing %.1f s", self.channel, err.seconds)
        # This chat's rows go back to the queue, in order, due when the pause ends; another
        # process may take them then. Parts of a split text already sent are remembered.
        not_before = self.leases.clock() + timedelta(seconds=err.seconds)
        for each in [row, *self._release_chat(chat)]:
            self.held.pop(each.id, None)
            self.leases.put_back(each, error=_text(err), not_before=not_before)
        self._retry_later(err.seconds)

    def _on_transient(self, row: Row, err: Exception) -> None:
        leases = self.leases
        self.stats.transient += 1
        self.held.pop(row.id, None)
        attempts = row.attempts + 1
        error = _text(err)
        if not isinstance(err, TransientError):
            log.warning("unexpected error sending outbox row %s", row.id, exc_info=err)
        if attempts >= self.retries.attempts:
            self.stats.failed += 1
            leases.progress.pop(row.id, None)
            log.warning(
                "%s outbox row %s failed after %d attempts: %s",
                self.channel,
                row.id,
                attempts,
                error,
            )
            leases.record(Outcome(row.id, FAILED, leases.clock(), attempts=attempts, error=error))
            return
        delay = self.retries.delay(attempts)
        not_before = leases.clock() + timedelta(seconds=delay)
        leases.put_back(row, error=error, attempts=attempts, not_before=not_before)
        self._retry_later(delay)
