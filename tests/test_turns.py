"""Sending turns shared by processes (scheduler/turns.py), in PostgreSQL and in Redis."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from scheduler.turns import PostgresTurns, RedisTurns, SharedTurns
from storage.db import make_engine, make_sessionmaker

REDIS_URL = "redis://127.0.0.1:6379/0"


async def redis_problem() -> str | None:
    turns = RedisTurns(REDIS_URL)
    try:
        await turns.client.ping()
        return None
    except Exception as err:
        return f"Redis not reachable at {REDIS_URL}: {type(err).__name__}"
    finally:
        await turns.close()


@pytest.fixture(params=["postgresql", "redis"])
async def make_turns(
    request: pytest.FixtureRequest, db_url: str
) -> AsyncIterator[Callable[[], SharedTurns]]:
    """Makes turn keepers as separate processes would have: each its own connections."""
    if db_url.startswith("sqlite"):
        pytest.skip("turns are shared through PostgreSQL or Redis; SQLite serves one process")
    if request.param == "redis":
        problem = await redis_problem()
        if problem is not None:
            pytest.skip(problem)
    prefix = f"dvk:test:{uuid.uuid4().hex[:8]}:"
    engines: list[AsyncEngine] = []
    made: list[SharedTurns] = []

    def make() -> SharedTurns:
        if request.param == "redis":
            made.append(RedisTurns(REDIS_URL, prefix=prefix))
        else:
            engines.append(make_engine(db_url))
            made.append(PostgresTurns(make_sessionmaker(engines[-1])))
        return made[-1]

    yield make
    for turns in made:
        await turns.close()
    for engine in engines:
        await engine.dispose()


async def test_turns_of_two_processes_are_spaced_by_the_interval(
    make_turns: Callable[[], SharedTurns], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = make_turns(), make_turns()
    interval, each = 0.08, 8
    # A turn is granted at one instant of the store's clock, somewhere between the moment its
    # process asked and the moment the answer came back (a commit under load can take tens of
    # ms): what is watched is that span, so the check holds however slow the answers are.
    spans: list[tuple[float, float]] = []

    def watch(turns: SharedTurns) -> None:
        take = turns.take

        async def timed(key: str, interval: float) -> float | None:
            asked = time.monotonic()
            delay = await take(key, interval)
            if delay is None:
                spans.append((asked, time.monotonic()))
            return delay

        monkeypatch.setattr(turns, "take", timed)

    watch(one)
    watch(two)

    async def send(turns: SharedTurns) -> None:
        for _ in range(each):
            await turns.wait("telegram", interval)

    started = time.monotonic()
    await asyncio.gather(send(one), send(two), send(one))  # two tasks of one process, too
    assert len(spans) == 3 * each
    assert one.taken + two.taken == 3 * each
    spans.sort(key=lambda span: span[1])
    # Two turns granted at g1 < g2 with g2 - g1 >= interval: the later one's answer came at
    # least an interval after the earlier one was asked for. Both orders are tried, so a pair
    # whose answers came back in the other order is judged rightly too. Without shared turns
    # the two processes are granted at the same moment and both differences are a few ms.
    slack = 0.002  # the two clocks' resolution and rounding
    for (asked1, answered1), (asked2, answered2) in itertools.pairwise(spans):
        assert max(answered2 - asked1, answered1 - asked2) >= interval - slack
    assert spans[-1][1] - started >= (3 * each - 1) * interval - slack


async def test_keys_do_not_wait_for_each_other(make_turns: Callable[[], SharedTurns]) -> None:
    turns = make_turns()
    started = time.monotonic()
    await asyncio.gather(*(turns.wait(f"telegram:{chat}", 5.0) for chat in range(20)))
    assert time.monotonic() - started < 2.0
    # The same chat again: its turn is 5 s away.
    assert await turns.take("telegram:3", 5.0) == pytest.approx(5.0, abs=1.0)


async def test_without_the_store_a_process_keeps_its_own_pace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    broken = [PostgresTurns(make_sessionmaker(engine)), RedisTurns("redis://127.0.0.1:9/0")]
    try:
        with caplog.at_level(logging.WARNING, logger="scheduler.turns"):
            for turns in broken:
                started = time.monotonic()
                for _ in range(3):
                    await turns.wait("telegram", 10.0)
                assert time.monotonic() - started < 5.0
    finally:
        for turns in broken:
            await turns.close()
        await engine.dispose()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2  # once a minute for each, not at every message
    assert all(w.startswith("shared sending limits unavailable") for w in warnings)
