"""Benchmark: does an override of a library's internals still earn its place?

* ``OneTripCursor`` (``storage/sqlite_driver.py``) runs each SQLite statement in one trip
  to aiosqlite's thread instead of SQLAlchemy's three or four. Measured twice: CPU per
  statement of a plain loop (a SELECT, an UPDATE and an INSERT per transaction, the commit
  included), and CPU per message of the core alone on SQLite (the registration flow of
  ``bench/bench_registration.py`` handed straight to ``Core.handle``: flows and database).
* ``PinnedSession`` kept the ``Response[T]`` classes aiogram reads the Bot API's answers
  with, which pydantic caches weakly (a garbage collection drops one, and the next answer of
  that type builds it again, milliseconds inside a reply). It was removed from the channel
  on these figures (README, Benchmarks) and lives on here to measure again, e.g. after an
  upgrade of aiogram or pydantic. Measured as CPU per update of the Telegram channel alone
  (the real ``TelegramChannel`` polling the fake server in a child process, its core
  replaying the replies the real core gave) and, with ``--whole``, of the whole bot on
  SQLite; ``--think S``: officers take S seconds ±50% before each answer, as people do.
  Beside it, how many ``Response[T]`` classes were built, the CPU time spent in
  ``Response[T]`` (what the override saves, more precisely than the difference of two noisy
  totals), and the garbage collections by generation and their time.

Each measurement runs with the override and with the library's stock path in this same
process, alternating (override first in odd rounds, stock first in even ones) after one
warm-up run of each that is not counted; a full collection precedes every run so each
starts from the same heap. It prints every run, the median of each path and the ratio
stock / override (above 1: the override saves that much), and what it saves as a share
of the stock path. Run from the repository root::

    python -m bench.bench_internals
    python -m bench.bench_internals --only telegram --whole --think 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import TelegramType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response
from sqlalchemy import text

from bench.bench_registration import (
    QUICK_OFFICERS,
    TARGET_OFFICERS,
    Recorded,
    fresh_core,
    make_plan,
    registration_as_expected,
    replay_core,
    run_core_alone,
)
from bench.bots_under_test import dvk_bot
from bench.common import sqlite_database
from bench.load_figures import Figures
from bench.load_generator import LoadGenerator, Plan
from handlers.core import Core
from storage.db import make_engine
from storage.sqlite_driver import OneTripConnection

HACK, STOCK = "override", "stock"
STATEMENT_TRANSACTIONS = 3000  # x 3 statements per run


@dataclass
class Run:
    path: str  # HACK or STOCK
    per_unit_ms: float  # CPU per statement, message or update
    note: str = ""
    in_response_ms: float | None = None  # of which in Response[T], per update


@dataclass
class Comparison:
    title: str
    unit: str
    runs: list[Run] = field(default_factory=list)

    def median(self, path: str) -> float:
        return statistics.median(r.per_unit_ms for r in self.runs if r.path == path)

    def summary(self) -> str:
        hack, stock = self.median(HACK), self.median(STOCK)
        rounds = sum(r.path == HACK for r in self.runs)
        line = (
            f"  {self.title}: CPU per {self.unit}, median of {rounds} runs each: "
            f"{HACK} {hack:.3f} ms, {STOCK} {stock:.3f} ms; {STOCK}/{HACK} = "
            f"{stock / hack:.2f}x, the override saves {(stock - hack) / stock:.0%} of the "
            f"stock path"
        )
        timed = [r for r in self.runs if r.in_response_ms is not None]
        if not timed:
            return line
        spent = {
            path: statistics.median(r.in_response_ms or 0.0 for r in timed if r.path == path)
            for path in (HACK, STOCK)
        }
        saved = spent[STOCK] - spent[HACK]
        return line + (
            f"\n    of which in Response[T] (medians): {HACK} {spent[HACK]:.3f} ms, {STOCK} "
            f"{spent[STOCK]:.3f} ms: the override saves {saved:.3f} ms per {self.unit}, "
            f"{saved / stock:.0%} of the stock path"
        )


def orders(rounds: int) -> Iterator[tuple[int, str]]:
    """(round, path) in the order they run: warm-up round 0, then alternating."""
    yield from ((0, HACK), (0, STOCK))
    for n in range(1, rounds + 1):
        first, second = (HACK, STOCK) if n % 2 else (STOCK, HACK)
        yield from ((n, first), (n, second))


async def compare(
    comparison: Comparison, rounds: int, measure: Callable[[str], Awaitable[Run]]
) -> Comparison:
    print(f"\n== {comparison.title} ==", flush=True)
    for n, path in orders(rounds):
        gc.collect()
        run = await measure(path)
        label = "warm-up" if n == 0 else f"round {n}"
        print(
            f"  {label:<8} {path:<9} {run.per_unit_ms:.3f} ms/{comparison.unit}  {run.note}",
            flush=True,
        )
        if n:
            comparison.runs.append(run)
    print(comparison.summary(), flush=True)
    return comparison


# --------------------------------------------------------------------------- OneTripCursor


async def statements_run(path: str) -> Run:
    """CPU per statement of a plain loop on a fresh SQLite file."""
    async with sqlite_database("dvk_bench_internals_") as url:
        engine = make_engine(url, one_trip_cursors=path == HACK)
        try:
            async with engine.begin() as conn:
                raw = await conn.get_raw_connection()
                if isinstance(raw.dbapi_connection, OneTripConnection) != (path == HACK):
                    raise RuntimeError(f"{path} run on a {type(raw.dbapi_connection).__name__}")
                await conn.execute(
                    text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER)")
                )
                await conn.execute(text("INSERT INTO t (id, name, n) VALUES (0, 'first', 0)"))
            cpu = time.process_time()
            for n in range(1, STATEMENT_TRANSACTIONS + 1):
                async with engine.begin() as conn:
                    row = (
                        await conn.execute(text("SELECT n FROM t WHERE id = :id"), {"id": n - 1})
                    ).one()
                    await conn.execute(
                        text("UPDATE t SET n = :n WHERE id = :id"), {"n": row.n + 1, "id": n - 1}
                    )
                    await conn.execute(
                        text("INSERT INTO t (id, name, n) VALUES (:id, :name, 0)"),
                        {"id": n, "name": f"row {n}"},
                    )
            cpu = time.process_time() - cpu
        finally:
            await engine.dispose()
    return Run(path, cpu * 1000 / (3 * STATEMENT_TRANSACTIONS))


def core_alone_run(plan: Plan, recorded: list[Recorded]) -> Callable[[str], Awaitable[Run]]:
    async def measure(path: str) -> Run:
        async with sqlite_database("dvk_bench_internals_") as url:
            figures, replies = await run_core_alone(
                f"SQLite, {path}", url, plan, one_trip_cursors=path == HACK
            )
        recorded[:] = [replies]
        return Run(path, figures.per_message_ms, f"as expected {figures.ok}/{len(plan.scripts)}")

    return measure


# --------------------------------------------------------------------------- PinnedSession


class PinnedSession(AiohttpSession):
    """aiogram's session, keeping each ``Response[T]`` it reads answers with."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pinned: dict[Any, Any] = {}

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._pinned:
            self._pinned[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)

    async def close(self) -> None:
        # aiogram keeps the latest updates, and through them the bot and its session, in a
        # cache of its own: the stock run after this one must not find the classes kept.
        await super().close()
        self._pinned.clear()


class Collections:
    """Garbage collections by generation and their time; the ``Response[T]`` classes built
    (pydantic calls ``__pydantic_init_subclass__`` for each new parametrised class) and the
    CPU time spent in ``Response[T]`` (builds, and the cache's hits: microseconds)."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = 0.0
        self.built = 0
        self.in_response = 0.0
        self._started = 0.0

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            self.count[info["generation"]] += 1
        else:
            self.seconds += time.perf_counter() - self._started

    def _on_build(self, **_kwargs: Any) -> None:
        self.built += 1

    @contextmanager
    def watching(self) -> Iterator[Collections]:
        hook = cast(Any, Response)
        parametrise = hook.__class_getitem__

        def timed(_cls: type, params: Any) -> Any:
            # CPU time of this thread: not what aiosqlite's thread runs meanwhile.
            started = time.thread_time()
            try:
                return parametrise(params)
            finally:
                self.in_response += time.thread_time() - started

        gc.callbacks.append(self._on_gc)
        hook.__pydantic_init_subclass__ = self._on_build
        hook.__class_getitem__ = classmethod(timed)
        try:
            yield self
        finally:
            gc.callbacks.remove(self._on_gc)
            del hook.__pydantic_init_subclass__, hook.__class_getitem__

    def note(self, updates: int) -> str:
        per_thousand = "/".join(f"{c * 1000 / updates:.0f}" for c in self.count)
        return (
            f"Response[T] built {self.built}, in Response[T] "
            f"{self.in_response * 1000 / updates:.3f} ms/update; collections per 1,000 "
            f"updates (gen 0/1/2) {per_thousand}, GC {self.seconds * 1000 / updates:.3f} "
            "ms/update"
        )


def bot_run(
    load: LoadGenerator, plan: Plan, make_core: Callable[[], AbstractAsyncContextManager[Core]]
) -> Callable[[str], Awaitable[Run]]:
    async def measure(path: str) -> Run:
        async with make_core() as core:
            gc.collect()  # what seeding the database left
            session = PinnedSession if path == HACK else None
            with Collections().watching() as seen:
                result = await load.run(plan, dvk_bot(core, session=session))
        figures = Figures.of(path, plan, result)
        ok = sum(registration_as_expected(result.replies.get(uid, [])) for uid, _ in plan.scripts)
        return Run(
            path,
            figures.bot_cpu * 1000 / figures.updates,
            f"{figures.throughput:.0f} updates/s, as expected {ok}/{len(plan.scripts)}; "
            + seen.note(figures.updates),
            seen.in_response * 1000 / figures.updates,
        )

    return measure


@contextlib.asynccontextmanager
async def replaying(recorded: Recorded) -> AsyncIterator[Core]:
    """The core answering from memory: only the Telegram side is measured."""
    async with replay_core(recorded) as core:
        yield core


@contextlib.asynccontextmanager
async def on_sqlite(plan: Plan) -> AsyncIterator[Core]:
    """The real core on a fresh SQLite database seeded with the plan's officers."""
    async with sqlite_database("dvk_bench_internals_") as url, fresh_core(url, plan) as (core, _):
        yield core


# --------------------------------------------------------------------------- main


async def run(officers: int, rounds: int, only: str | None, whole: bool, think: float) -> None:
    plan = make_plan(officers, reply_within=30.0)
    print(
        f"{rounds} alternating rounds after a warm-up; {officers} officers x 9 messages = "
        f"{plan.updates} per core or channel run; {os.cpu_count()} CPU(s)",
        flush=True,
    )
    results: list[Comparison] = []
    recorded: list[Recorded] = []
    core_alone = core_alone_run(plan, recorded)
    if only in (None, "sqlite"):
        results.append(
            await compare(
                Comparison("OneTripCursor, plain statements", "statement"), rounds, statements_run
            )
        )
        results.append(
            await compare(
                Comparison("OneTripCursor, core alone on SQLite", "message"), rounds, core_alone
            )
        )
    if only in (None, "telegram"):
        if not recorded:
            await core_alone(HACK)
        load = LoadGenerator()
        try:
            replay = recorded[0]
            paced = make_plan(officers, reply_within=30.0, think=think)
            pace = f"think time {think:g} s" if think else "no think time"
            results.append(
                await compare(
                    Comparison(f"PinnedSession, channel alone, {pace}", "update"),
                    rounds,
                    bot_run(load, paced, lambda: replaying(replay)),
                )
            )
            if whole:
                results.append(
                    await compare(
                        Comparison(f"PinnedSession, whole bot on SQLite, {pace}", "update"),
                        rounds,
                        bot_run(load, paced, lambda: on_sqlite(paced)),
                    )
                )
        finally:
            await load.close()
    print("\n== Summary ==")
    for comparison in results:
        print(comparison.summary())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_internals",
        description="Each override of library internals against the library's stock path.",
    )
    parser.add_argument("--officers", type=int, default=TARGET_OFFICERS, help="default 200")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--only", choices=("sqlite", "telegram"), help="one override only")
    parser.add_argument(
        "--whole", action="store_true", help="PinnedSession also in the whole bot on SQLite"
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="PinnedSession: mean seconds an officer takes before each message (default 0)",
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_OFFICERS} officers, 1 round")
    args = parser.parse_args(argv)
    officers, rounds = (QUICK_OFFICERS, 1) if args.quick else (args.officers, args.rounds)
    if officers < 1 or rounds < 1 or args.think < 0:
        parser.error("--officers and --rounds must be at least 1, --think not negative")
    asyncio.run(run(officers, rounds, args.only, args.whole, args.think))


if __name__ == "__main__":
    main()
