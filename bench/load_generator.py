"""The load generator of the registration benchmark, in a child process of its own (spawned
once, reused for every scenario) so that its CPU is not charged to the bot: the fake Telegram
Bot API server of ``tests/fake_telegram.py``, timestamping each reply, and N simulated
officers, each in its own task, answering every step of their script."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from tests.fake_telegram import Document, FakeTelegram, JSONDict, SentMessage

TOKEN = "424242:BENCH"
Stop = Callable[[], Awaitable[None]]
StartBot = Callable[[str], Awaitable[Stop]]


@dataclass(frozen=True)
class Plan:
    """What the simulated users do: (telegram user id, messages) each."""

    scripts: tuple[tuple[int, tuple[str, ...]], ...]
    reply_within: float  # seconds an officer waits for one reply before giving up
    think: float = 0.0  # mean seconds an officer takes before each answer (0: none)

    @property
    def updates(self) -> int:
        return sum(len(script) for _, script in self.scripts)


@dataclass
class LoadResult:
    latencies_ms: list[list[float]]  # per user, per update answered (in script order)
    elapsed: float  # first update queued -> last reply arrived
    replies: dict[int, list[str]]  # per user: plain text of the reply to each update
    timeouts: int  # officers that gave up waiting for a reply
    extra_replies: int  # replies beyond one per update
    polls: int  # getUpdates calls the bot made
    delivered: int  # updates getUpdates handed out, redeliveries included
    load_cpu: float  # CPU seconds the load generator used meanwhile
    bot_cpu: float = 0.0  # CPU seconds the bot's process used meanwhile (set by the caller)


class TimedFakeTelegram(FakeTelegram):
    """The fake server, plus the arrival time of every message the bot sends, per chat."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.arrivals: dict[int, list[tuple[float, SentMessage]]] = {}
        self._wakeups: dict[int, asyncio.Event] = {}
        self.polls = 0
        self.delivered = 0

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        updates = await super()._get_updates(params)
        self.polls += 1
        self.delivered += len(updates)
        return updates

    def _store(
        self,
        method: str,
        chat_id: int,
        text: str,
        plain: str,
        params: JSONDict,
        markup: JSONDict | None,
        extra: JSONDict,
        document: Document | None = None,
        photo: Document | None = None,
    ) -> JSONDict:
        result = super()._store(
            method, chat_id, text, plain, params, markup, extra, document=document, photo=photo
        )
        self.arrivals.setdefault(chat_id, []).append((time.perf_counter(), self.sent[-1]))
        wakeup = self._wakeups.get(chat_id)
        if wakeup is not None:
            wakeup.set()
        return result

    async def reply(self, chat_id: int, index: int, within: float) -> tuple[float, SentMessage]:
        """(arrival time, message) of the ``index``-th message sent to ``chat_id``.

        Only the waiting chat is woken (``wait_for_messages`` wakes every waiter on every
        server event, which costs O(users) per request with hundreds of users waiting).
        """
        arrived = self.arrivals.setdefault(chat_id, [])
        wakeup = self._wakeups.setdefault(chat_id, asyncio.Event())
        async with asyncio.timeout(within):
            while len(arrived) <= index:
                wakeup.clear()
                await wakeup.wait()
        return arrived[index]


@dataclass
class _OfficerRun:
    latencies_ms: list[float]
    replies: list[str]
    last_reply: float
    timed_out: bool


async def _officer(
    tg: TimedFakeTelegram, user_id: int, script: Sequence[str], plan: Plan
) -> _OfficerRun:
    run = _OfficerRun([], [], time.perf_counter(), False)
    for index, message in enumerate(script):
        if plan.think > 0:  # the first message too: officers do not all start at once then
            await asyncio.sleep(random.uniform(0.5, 1.5) * plan.think)
        queued = time.perf_counter()
        tg.send_text(user_id, message)
        try:
            arrived, sent = await tg.reply(user_id, index, plan.reply_within)
        except TimeoutError:
            run.timed_out = True
            return run
        run.latencies_ms.append((arrived - queued) * 1000)
        run.replies.append(sent.plain_text)
        run.last_reply = arrived
    return run


async def _generate_load(conn: Connection, plan: Plan) -> None:
    async with TimedFakeTelegram(TOKEN) as tg:
        conn.send(tg.base_url)
        await tg.wait_for_call("getUpdates", timeout=60)  # the bot is set up and polling
        start, cpu = time.perf_counter(), time.process_time()
        runs = await asyncio.gather(
            *(_officer(tg, uid, script, plan) for uid, script in plan.scripts)
        )
        end = max((r.last_reply for r in runs), default=start)
        load_cpu = time.process_time() - cpu
        await asyncio.sleep(0.2)  # let late, unexpected extra replies arrive
        extra = sum(
            max(0, len(tg.arrivals.get(uid, [])) - len(script)) for uid, script in plan.scripts
        )
        conn.send(
            LoadResult(
                latencies_ms=[r.latencies_ms for r in runs],
                elapsed=end - start,
                replies={uid: r.replies for (uid, _), r in zip(plan.scripts, runs, strict=True)},
                timeouts=sum(r.timed_out for r in runs),
                extra_replies=extra,
                polls=tg.polls,
                delivered=tg.delivered,
                load_cpu=load_cpu,
            )
        )
        # Keep serving until the bot has stopped polling, so that it logs no network errors.
        await asyncio.to_thread(conn.recv)


def _load_process(conn: Connection) -> None:
    """Entry point of the load generator's process: one fake server per plan received."""
    try:
        while True:
            plan = conn.recv()
            if not isinstance(plan, Plan):
                return
            try:
                asyncio.run(_generate_load(conn, plan))
            except Exception as err:  # reported to the parent, which raises it
                conn.send(f"load generator failed: {type(err).__name__}: {err}")
                return
    except (EOFError, OSError):
        return  # the parent went away
    finally:
        conn.close()


def _receive(conn: Connection, seconds: float) -> Any:
    if not conn.poll(seconds):
        raise TimeoutError(f"no answer from the load generator within {seconds:.0f} s")
    answer = conn.recv()
    if isinstance(answer, str) and answer.startswith("load generator failed"):
        raise RuntimeError(answer)
    return answer


class LoadGenerator:
    """A child process (spawned once: importing aiogram takes seconds) that runs plans."""

    def __init__(self) -> None:
        mp = multiprocessing.get_context("spawn")
        self._conn, theirs = mp.Pipe()
        self._process = mp.Process(target=_load_process, args=(theirs,), name="bench-load")
        self._process.start()
        theirs.close()

    async def run(self, plan: Plan, start_bot: StartBot) -> LoadResult:
        """Serve a fresh fake server, start the bot against it, run the plan, stop the bot."""
        self._conn.send(plan)
        base_url = await asyncio.to_thread(_receive, self._conn, 120)
        cpu = time.process_time()
        stop = await start_bot(str(base_url))
        try:
            steps = max(len(script) for _, script in plan.scripts)
            budget = steps * (plan.reply_within + 1.5 * plan.think) + 60
            result = await asyncio.to_thread(_receive, self._conn, budget)
            if not isinstance(result, LoadResult):
                raise TypeError(f"unexpected answer from the load generator: {result!r}")
            result.bot_cpu = time.process_time() - cpu
            return result
        finally:
            try:
                await stop()
            finally:
                with contextlib.suppress(OSError):
                    self._conn.send("stopped")

    async def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        await asyncio.to_thread(self._process.join, 10)
        if self._process.is_alive():
            self._process.kill()
            await asyncio.to_thread(self._process.join, 5)
        self._conn.close()
