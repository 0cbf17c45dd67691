"""Delivering the outbox: per-channel senders kept within the platforms' limits.

Planning writes rows to the ``outbox`` table (``scheduler/outbox.py``); a :class:`Deliverer`
claims the rows that are due, sends each through its channel's
:class:`~scheduler.senders.Sender` and records what became of it. Platforms stay in ``bot/``:
a sender only turns the platform's answers into the exceptions of ``scheduler/senders.py``.

The Deliverer ties together, for each channel, a lane (``scheduler/lanes.py``: the rows held,
which chat goes next, what an answer means), kept to the channel's pace
(``scheduler/pacing.py``) and to 429s (``scheduler/floods.py``), and for the process its
leases on the rows and the writing of outcomes (``scheduler/leases.py``).

Delivery is at least once: a process killed between a platform's answer and the write that
records it sends that message again after the lease; outcomes are written a few
milliseconds after the answer, in batches, so that window is small.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.lanes import Lane, Retries
from scheduler.leases import DeliveryStats, Leases, Row
from scheduler.pacing import Limits
from scheduler.senders import Sender
from scheduler.turns import Turns

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _default_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class Deliverer:
    """Delivers the outbox through ``senders`` (channel name -> :class:`Sender`).

    ``limits`` per channel (missing: Telegram's). ``attempts``: tries for a network or
    server error before ``failed``; the first retry waits ``backoff`` seconds, each next one
    twice as long, at most ``max_backoff``. ``lease``: seconds a claimed row stays reserved to
    this process (renewed while it holds the row; a dead process's rows are taken again
    after it). ``poll_interval``: how often to look for due rows without :meth:`wake`.
    ``lookahead``: seconds of sending claimed at a time. ``turns``: the rate and chat spacing
    shared with other processes (each send, and each :meth:`reserve`, also takes a turn).
    ``clock`` gives the time written to the database (``not_before``, ``sent_at``, leases);
    pacing uses the event loop's clock.
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
        turns: Turns | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if lease <= 0 or poll_interval <= 0 or lookahead <= 0:
            raise ValueError("lease, poll_interval and lookahead must be positive")
        self.senders = dict(senders)
        self.limits = {channel: (limits or {}).get(channel, Limits()) for channel in senders}
        self.retries = Retries(attempts, backoff, max_backoff)
        self.poll_interval = poll_interval
        self.lookahead = lookahead
        self.name = (name or _default_name())[:100]
        self.stats = DeliveryStats()
        # Limits shared with the other processes on the database (scheduler/turns.py).
        self.turns = turns
        self.leases = Leases(sessionmaker, self.name, lease, clock, self.stats)

        self._lanes: dict[str, Lane] = {}
        self._stop_requested = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False

    # ----------------------------------------------------------------- public API

    def wake(self) -> None:
        """New rows were enqueued: look for them now rather than at the next poll."""
        for lane in self._lanes.values():
            lane.wake()

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
        for lane in self._lanes.values():
            lane.stop_claiming()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._running and any(lane.held for lane in self._lanes.values()):
            if deadline is not None and loop.time() >= deadline:
                break
            await asyncio.sleep(0.05)
        await self.stop()

    # ----------------------------------------------------------------- running

    def _held(self) -> Iterator[Row]:
        for lane in self._lanes.values():
            yield from lane.held.values()

    async def _run(self, until_idle: bool) -> None:
        if self._running:
            raise RuntimeError("this Deliverer is already running")
        self._running = True
        self._finished = asyncio.Event()
        self.leases.start()
        self._lanes = {
            channel: Lane(
                channel,
                sender,
                self.limits[channel],
                self.leases,
                self.retries,
                lookahead=self.lookahead,
                poll_interval=self.poll_interval,
                turns=self.turns,
            )
            for channel, sender in self.senders.items()
        }
        workers: list[asyncio.Task[None]] = []
        for lane in self._lanes.values():
            workers.append(asyncio.create_task(lane.claim_loop(), name=f"claim-{lane.channel}"))
            workers.append(
                asyncio.create_task(lane.dispatch_loop(), name=f"dispatch-{lane.channel}")
            )
        writer = asyncio.create_task(self.leases.write_loop(), name="outbox-writer")
        renewer = asyncio.create_task(self.leases.renew_loop(self._held), name="outbox-lease")
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
            if all(lane.idle for lane in self._lanes.values()) and not self.leases.unwritten:
                # A retry may have been claimed for before its outcome was written: look.
                try:
                    due = await self.leases.count_due(self.senders)
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
        for lane in self._lanes.values():
            lane.stop_sending()
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
            self.leases.release(lane.take_waiting())
        renewer.cancel()
        await asyncio.wait([renewer], timeout=5)
        await self.leases.close(writer)
        self._running = False
        self._stop_requested = asyncio.Event()  # for a next run
        self._finished.set()


__all__ = ["Deliverer"]
