"""Benchmark: N officers register a model at the same time through the real Telegram bot.

What runs where:

* Load generator, in a child process (spawned once, reused for every scenario) so that its
  CPU is not charged to the bot: the fake Telegram Bot API server of
  ``tests/fake_telegram.py`` and N simulated officers.  Each officer, in its own task,
  queues an update, waits for the bot's reply to its chat and answers the next step at once
  (``--think S``: after S seconds ±50%): a closed loop of N concurrent users.
* System under test, in this process: the real bot, ``TelegramChannel(Core(...))`` as
  ``dvk run`` builds it, long-polling the fake server, on a fresh database (an SQLite file,
  and a throw-away PostgreSQL database that is dropped at the end).
* Baseline, in this process too: a bare aiogram 3 echo bot polling the same kind of fake
  server, driven by the same N users sending the same messages.
* Where the time goes, for each run: the core alone (the same messages handed straight to
  ``Core.handle``: flows and database, no Telegram), and the channel alone (the real
  ``TelegramChannel`` whose core replays, from memory, the replies the real core gave: the
  Telegram side without flows or database).  The last section prints each one's CPU per
  update and what the throughput target leaves for the core.

Latency of one update: from queueing it in the fake server to the bot's reply to that chat
arriving at the fake server (timestamped when ``sendMessage`` is stored; both ends on the
load generator's clock).  Every update of the registration flow gets exactly one reply;
extra replies are counted and reported.  CPU seconds of the bot's process (all threads,
aiosqlite's included) and of the load generator are printed beside the figures.

With no think time the load is closed-loop: each officer has one update in flight, so the
mean latency is about N / throughput (Little's law) and mostly measures queueing; use
``--think`` to see the latency of a bot that is not saturated.

Each officer has a Telegram account (external id = its user id), is the officer of a party
cell of its own and has no model from last year, so ``/dangky`` asks 7 steps::

    /dangky, name, "kinh te", "tap the", collective's name, place, "chi bo", scale, "luu"

i.e. 9 updates per officer.  The run checks every reply (steps 1..7, summary, "Đã lưu") and
counts the ModelYear rows saved.  Run from the repository root::

    python -m bench.bench_registration --officers 200 --db both
    python -m bench.bench_registration --quick

PostgreSQL: ``DVK_BENCH_POSTGRES_URL`` (else ``DVK_TEST_POSTGRES_URL``, else the local
server, database ``test``) names a database to connect to for ``CREATE DATABASE``; when it
does not answer, the PostgreSQL part is skipped with the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.bots_under_test import dvk_bot, echo_bot
from bench.common import PG_ADMIN_URL, met, pg_database, sqlite_database
from bench.load_figures import ErrorCounter, Figures
from bench.load_generator import LoadGenerator, Plan
from bot.settings import DEFAULT_TELEGRAM_CONCURRENCY
from domain.messages import IncomingMessage, Reply, render_plain
from handlers.core import Core
from handlers.texts import SORRY
from storage import people, unit_tree
from storage.db import make_engine, make_sessionmaker, open_connections, unreachable, upgrade
from storage.evidence import EvidenceStore
from storage.models import ModelYear

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=TZ).astimezone(UTC)  # before the 15/4 deadline
YEAR = 2026
FIRST_USER_ID = 700_001
STEPS = 7  # one unit, nothing to keep from last year
QUICK_OFFICERS = 20

TARGET_THROUGHPUT_RATIO = 0.5  # bot throughput >= 0.5 x echo
TARGET_P95_MS = 50.0  # at TARGET_OFFICERS officers
TARGET_OFFICERS = 200

log = logging.getLogger("bench")


def officer_script(n: int) -> tuple[str, ...]:
    """What officer number ``n`` types, one message per step (no diacritics, like many do)."""
    return (
        "/dangky",
        f"Mo hinh dan van kheo so {n}",
        "kinh te",
        "tap the",
        f"Chi hoi Phu nu to dan pho {n}",
        f"To dan pho {n}",
        "chi bo",
        f"{40 + n} ho",
        "luu",
    )


# --------------------------------------------------------------------------- databases


async def seed(sm: async_sessionmaker[AsyncSession], user_ids: Sequence[int]) -> None:
    """A ward with one party cell per officer; each officer has a Telegram account."""
    async with sm() as session, session.begin():
        ward = await unit_tree.add_unit(session, "Đảng bộ phường Thử Tải", "phuong", None, NOW)
        for n, user_id in enumerate(user_ids, 1):
            cell = await unit_tree.add_unit(session, f"Chi bộ Tổ dân phố {n}", "chi_bo", ward, NOW)
            person = await people.create_person(
                session, f"Cán bộ số {n}", "telegram", str(user_id), None, NOW
            )
            await people.add_membership(session, person, cell, "officer", NOW)


async def saved_records(sm: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(ModelYear rows of the year, distinct officers who created them)."""
    async with sm() as session:
        rows = await session.scalar(
            select(func.count()).select_from(ModelYear).where(ModelYear.year == YEAR)
        )
        people = await session.scalar(
            select(func.count(func.distinct(ModelYear.created_by))).where(ModelYear.year == YEAR)
        )
    return int(rows or 0), int(people or 0)


# --------------------------------------------------------------------------- figures


def registration_as_expected(replies: Sequence[str]) -> bool:
    """Steps 1..7 in order, then the summary, then the confirmation."""
    if len(replies) != STEPS + 2:
        return False
    steps_ok = all(f"Bước {k}/{STEPS}" in replies[k - 1] for k in range(1, STEPS + 1))
    return (
        steps_ok
        and "kiểm tra lại trước khi lưu" in replies[STEPS]
        and "Đã lưu mô hình" in replies[STEPS + 1]
    )


# --------------------------------------------------------------------------- scenarios


def make_plan(officers: int, reply_within: float, think: float = 0.0) -> Plan:
    scripts = tuple((FIRST_USER_ID + n - 1, officer_script(n)) for n in range(1, officers + 1))
    return Plan(scripts, reply_within, think)


async def run_echo(load: LoadGenerator, plan: Plan, errors: ErrorCounter) -> Figures:
    print("\n== Baseline: bare aiogram 3 echo bot ==", flush=True)
    errors.reset()
    result = await load.run(plan, echo_bot)
    figures = Figures.of("echo", plan, result)
    print("\n".join(figures.lines()))
    echoed = sum(result.replies.get(uid) == list(script) for uid, script in plan.scripts)
    print(
        f"  echoed correctly: {echoed}/{len(plan.scripts)} users; timeouts {result.timeouts}, "
        f"extra replies {result.extra_replies}, errors logged {errors.count}",
        flush=True,
    )
    return figures


@contextlib.asynccontextmanager
async def fresh_core(
    url: str, plan: Plan, *, one_trip_cursors: bool = True
) -> AsyncIterator[tuple[Core, async_sessionmaker[AsyncSession]]]:
    """A core on a freshly migrated database seeded with the plan's officers, its pool
    sized and opened as ``dvk run`` does (``one_trip_cursors``: see ``make_engine``)."""
    engine = make_engine(
        url, concurrency=DEFAULT_TELEGRAM_CONCURRENCY, one_trip_cursors=one_trip_cursors
    )
    try:
        started = time.perf_counter()
        await upgrade(engine)
        sm = make_sessionmaker(engine)
        await seed(sm, [uid for uid, _ in plan.scripts])
        await engine.dispose()  # what migrating and seeding left open: dvk run starts afresh
        await open_connections(engine, DEFAULT_TELEGRAM_CONCURRENCY)
        print(
            f"  fresh database migrated and seeded with {len(plan.scripts)} officers "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        yield Core(sm, clock=lambda: NOW), sm
    finally:
        await engine.dispose()


async def run_dvk(
    load: LoadGenerator, label: str, url: str, plan: Plan, errors: ErrorCounter
) -> Figures:
    print(f"\n== Dân vận khéo bot on {label} ==", flush=True)
    async with fresh_core(url, plan) as (core, sm):
        errors.reset()
        result = await load.run(plan, dvk_bot(core))
        figures = Figures.of(label, plan, result)
        print("\n".join(figures.lines()))
        rows, people = await saved_records(sm)
    expected = sum(registration_as_expected(result.replies.get(uid, [])) for uid, _ in plan.scripts)
    sorry = sum(SORRY in reply for replies in result.replies.values() for reply in replies)
    officers = len(plan.scripts)
    verdict = "OK" if rows == officers == people else "MISMATCH"
    print(
        f"  saved ModelYear rows for {YEAR}: {rows} (expected {officers}), "
        f"created by {people} distinct officers -> {verdict}"
    )
    print(
        f"  flows as expected {expected}/{officers}; 'Xin lỗi' replies {sorry}; "
        f"timeouts {result.timeouts}; extra replies {result.extra_replies}; "
        f"errors logged {errors.count}"
    )
    for first in errors.first:
        print(f"    e.g. {first}")
    return figures


# --------------------------------------------------------------------------- where the time goes

Recorded = dict[str, deque[list[Reply]]]  # per Telegram user id: the core's replies, in order


@dataclass(frozen=True)
class CoreAlone:
    label: str
    messages: int
    elapsed: float
    cpu: float  # CPU seconds of this process (aiosqlite's thread included)
    ok: int  # officers whose replies are the registration as expected

    @property
    def per_message_ms(self) -> float:
        return self.cpu * 1000 / self.messages if self.messages else math.nan


async def run_core_alone(
    label: str, url: str, plan: Plan, *, one_trip_cursors: bool = True
) -> tuple[CoreAlone, Recorded]:
    """The same officers and messages handed straight to ``Core.handle`` (no Telegram, no
    HTTP), all at once and as many at a time as the channel lets through: what the flows
    and the database cost per message."""
    print(f"\n== Core alone on {label}: flows and database, no Telegram ==", flush=True)
    recorded: Recorded = {}
    async with fresh_core(url, plan, one_trip_cursors=one_trip_cursors) as (core, sm):
        slots = asyncio.Semaphore(DEFAULT_TELEGRAM_CONCURRENCY)

        async def officer(user_id: int, script: Sequence[str]) -> None:
            chat = str(user_id)
            replies = recorded.setdefault(chat, deque())
            for n, text in enumerate(script):
                incoming = IncomingMessage(
                    "telegram", chat, chat, text=text, update_id=f"{user_id}.{n}"
                )
                async with slots:
                    replies.append(await core.handle(incoming))

        start, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(officer(uid, script) for uid, script in plan.scripts))
        figures = CoreAlone(
            label,
            plan.updates,
            time.perf_counter() - start,
            time.process_time() - cpu,
            sum(
                registration_as_expected([render_plain(r) for rs in recorded[str(uid)] for r in rs])
                for uid, _ in plan.scripts
            ),
        )
        rows, _people = await saved_records(sm)
    print(
        f"  {figures.messages} messages in {figures.elapsed:.2f} s "
        f"({figures.messages / figures.elapsed:.0f}/s), CPU {figures.per_message_ms:.2f} "
        f"ms/message; flows as expected {figures.ok}/{len(plan.scripts)}, "
        f"ModelYear rows {rows}",
        flush=True,
    )
    return figures, recorded


class ReplayCore:
    """Stands in for the core in the channel-only measurement: answers each officer's
    message with the reply the real core gave to it (recorded by ``run_core_alone``), from
    memory, so that only the Telegram side (aiogram, keyboards, HTTP) is measured."""

    def __init__(self, recorded: Recorded, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.recorded = {chat: deque(replies) for chat, replies in recorded.items()}
        # The channel records each update in the inbox before confirming it: a database.
        self.sessionmaker = sessionmaker
        self.clock = lambda: datetime.now(UTC)
        # What TelegramChannel asks of a core besides handle(): where files would go.
        self.files_dir = Path(tempfile.gettempdir()) / "dvk-bench-files"
        self.files = EvidenceStore(self.files_dir)

    async def handle(self, msg: IncomingMessage) -> list[Reply]:
        return self.recorded[msg.chat_id].popleft()


@contextlib.asynccontextmanager
async def replay_core(recorded: Recorded) -> AsyncIterator[Core]:
    """A :class:`ReplayCore` with a fresh SQLite database for the channel's inbox."""
    async with sqlite_database() as url:
        engine = make_engine(url)
        try:
            await upgrade(engine)
            yield cast(Core, ReplayCore(recorded, make_sessionmaker(engine)))
        finally:
            await engine.dispose()


async def run_channel_only(
    load: LoadGenerator, plan: Plan, recorded: Recorded, errors: ErrorCounter
) -> Figures:
    print("\n== Channel alone: the bot's Telegram side, the core answering from memory ==")
    errors.reset()
    async with replay_core(recorded) as replay:
        result = await load.run(plan, dvk_bot(replay))
    figures = Figures.of("channel", plan, result)
    print("\n".join(figures.lines()))
    expected = sum(registration_as_expected(result.replies.get(uid, [])) for uid, _ in plan.scripts)
    print(f"  replies as recorded: {expected}/{len(plan.scripts)}; errors logged {errors.count}")
    return figures


def decompose(echo: Figures, channel: Figures, cores: Sequence[CoreAlone]) -> None:
    """Where a bot update's CPU goes, and what the throughput target leaves for the core."""
    echo_ms = echo.bot_cpu * 1000 / echo.updates
    channel_ms = channel.bot_cpu * 1000 / channel.updates
    budget = echo_ms / TARGET_THROUGHPUT_RATIO
    print("\n== Where an update's CPU goes (bot process, one core) ==")
    print(f"  echo bot: {echo_ms:.2f} ms/update")
    print(
        f"  channel alone: {channel_ms:.2f} ms/update ({channel_ms / echo_ms:.1f}x echo); "
        f"with a core that cost nothing the bot would reach "
        f"{channel.throughput / echo.throughput:.2f}x echo"
    )
    for core in cores:
        print(f"  core alone on {core.label}: {core.per_message_ms:.2f} ms/message")
    print(
        f"  {TARGET_THROUGHPUT_RATIO}x echo allows {budget:.2f} ms/update in all: "
        f"{budget - channel_ms:.2f} ms for the core after the channel's share"
    )


def compare(bot: Figures, echo: Figures, officers: int) -> None:
    print(f"  targets ({bot.label}):")
    if echo.throughput > 0 and echo.p95 > 0:
        ratio = bot.throughput / echo.throughput
        print(
            f"    throughput bot/echo = {bot.throughput:.0f}/{echo.throughput:.0f} "
            f"= {ratio:.2f}x (target >= {TARGET_THROUGHPUT_RATIO}x): "
            f"{met(ratio >= TARGET_THROUGHPUT_RATIO)}"
        )
        print(f"    p95 bot/echo = {bot.p95:.1f}/{echo.p95:.1f} ms = {bot.p95 / echo.p95:.2f}x")
    note = "" if officers == TARGET_OFFICERS else f" [target is set at {TARGET_OFFICERS} officers]"
    print(
        f"    p95 = {bot.p95:.1f} ms (target < {TARGET_P95_MS:.0f} ms){note}: "
        f"{met(bot.p95 < TARGET_P95_MS)}",
        flush=True,
    )


async def run(officers: int, db: str, reply_within: float, think: float) -> None:
    errors = ErrorCounter()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(errors)
    # The core logs a traceback for every failed message; the counter above reports them.
    logging.getLogger("handlers.core").propagate = False
    logging.getLogger("handlers.core").addHandler(errors)

    plan = make_plan(officers, reply_within, think)
    pace = (
        f"think time {think:g} s (±50%) before each message"
        if think > 0
        else "all officers at once, no think time"
    )
    print(
        f"{officers} officers x {len(officer_script(1))} updates = {plan.updates} updates, "
        f"{pace}; {os.cpu_count()} CPU(s)",
        flush=True,
    )
    load = LoadGenerator()
    cores: list[CoreAlone] = []
    recorded: Recorded | None = None
    try:
        echo = await run_echo(load, plan, errors)
        results: list[Figures] = [echo]
        if db in ("sqlite", "both"):
            async with sqlite_database() as url:
                core, recorded = await run_core_alone("SQLite", url, plan)
                cores.append(core)
            async with sqlite_database() as url:
                figures = await run_dvk(load, "SQLite", url, plan, errors)
            compare(figures, echo, officers)
            results.append(figures)
        if db in ("postgresql", "both"):
            problem = await unreachable(PG_ADMIN_URL)
            if problem is not None:
                print(f"\n== PostgreSQL skipped: not reachable at {PG_ADMIN_URL} ({problem}) ==")
            else:
                async with pg_database(PG_ADMIN_URL) as url:
                    core, replies = await run_core_alone("PostgreSQL", url, plan)
                    cores.append(core)
                    recorded = recorded or replies
                async with pg_database(PG_ADMIN_URL) as url:
                    figures = await run_dvk(load, "PostgreSQL", url, plan, errors)
                compare(figures, echo, officers)
                results.append(figures)
        channel = await run_channel_only(load, plan, recorded, errors) if recorded else None
    finally:
        await load.close()

    print("\n== Summary ==")
    print(
        f"  {'':<12}{'updates/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'vs echo':>9}{'CPU ms/upd':>12}"
    )
    for f in results:
        ratio = f.throughput / echo.throughput if echo.throughput else math.nan
        cpu = f.bot_cpu * 1000 / f.updates if f.updates else math.nan
        print(
            f"  {f.label:<12}{f.throughput:>10.0f}{f.p50:>9.1f}{f.p95:>9.1f}{f.p99:>9.1f}"
            f"{ratio:>8.2f}x{cpu:>12.2f}"
        )
    if channel is not None:
        decompose(echo, channel, cores)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_registration",
        description="N officers register a model at once through the real Telegram bot.",
    )
    parser.add_argument("--officers", type=int, default=TARGET_OFFICERS, help="default 200")
    parser.add_argument(
        "--db", choices=("sqlite", "postgresql", "both"), default="both", help="default both"
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke test: {QUICK_OFFICERS} officers"
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds an officer takes before each message (default 0: answer at once)",
    )
    parser.add_argument(
        "--reply-timeout",
        type=float,
        default=30.0,
        help="seconds an officer waits for one reply before giving up (default 30)",
    )
    args = parser.parse_args(argv)
    officers = QUICK_OFFICERS if args.quick else args.officers
    if officers < 1:
        parser.error("--officers must be at least 1")
    if args.think < 0:
        parser.error("--think must not be negative")
    asyncio.run(run(officers, args.db, args.reply_timeout, args.think))


if __name__ == "__main__":
    main()
