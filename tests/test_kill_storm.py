"""`dvk run` killed with SIGKILL again and again while officers answer a wizard: no update
is lost (each recorded in the inbox before the platform is told it arrived) and none is
handled twice (the update ids)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import InboxUpdate, ModelYear, ProcessedUpdate
from tests.fake_server import FakeServer
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.helpers import World, add_model_year, add_person
from tests.test_resilience import ANSWERS

ROOT = Path(__file__).resolve().parent.parent
OFFICERS = 10
ROUNDS = 10  # wizards per officer: /dangky, 8 answers, “luu”
KILLS = 10
PACE = 100  # messages the officers send per second, all together


async def add_officers(
    sm: async_sessionmaker[AsyncSession], world: World, channel: str, ids: list[str]
) -> None:
    async with sm() as session, session.begin():
        for n, ext in enumerate(ids):
            await add_person(
                session,
                f"Cán bộ Thử {n}",
                {channel: ext},
                [(world.cell1, "officer")],
                world.officer.created_at,
            )
        # `dvk run` keeps today's date: /dangky registers for this year or, after the
        # evaluation deadline, the next. Either way the cell has a model of the year before
        # to keep, so every wizard asks the same questions.
        this_year = datetime.now(UTC).year
        for year in (this_year - 1, this_year):
            await add_model_year(
                session, world.cell1, f"Mô hình cũ {year}", now=world.officer.created_at, year=year
            )


def wizard(officer: int, round_: int) -> list[str]:
    name = f"Mô hình bão {officer}-{round_}"
    return ["/dangky", ANSWERS[0], name, *ANSWERS[2:], "luu"]


def interleaved(senders: list[str]) -> list[tuple[str, str]]:
    """Every sender's wizards in order, the senders interleaved message by message."""
    scripts = {
        s: [text for r in range(ROUNDS) for text in wizard(i, r)] for i, s in enumerate(senders)
    }
    out: list[tuple[str, str]] = []
    for step in range(max(len(v) for v in scripts.values())):
        out.extend((s, v[step]) for s, v in scripts.items() if step < len(v))
    return out


def run_env(db_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "FILES_DIR": str(tmp_path / "files"),
        "LOG_LEVEL": "ERROR",
        # Replies at the fake's speed: pacing is not what is tested here.
        "TELEGRAM_RATE_PER_SECOND": "10000",
        "TELEGRAM_CHAT_INTERVAL": "0",
        "ZALO_RATE_PER_SECOND": "10000",
        "ZALO_CHAT_INTERVAL": "0",
        "CHAT_BURST": "0",
        **extra,
    }


class Forker:
    """``tests/run_forker.py``: each :meth:`start` is a new `dvk run` process (forked from
    one that imported the bot once)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def open(cls, env: dict[str, str], cwd: Path) -> Forker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.run_forker",
            cwd=cwd,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def ask(self, line: str) -> int:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()
        return int(await asyncio.wait_for(self.process.stdout.readline(), 60))

    async def start(self) -> int:
        return await self.ask("start")

    async def end(self, pid: int, sig: signal.Signals) -> int:
        """Send ``sig`` to the run ``pid``; its exit code once it has ended."""
        os.kill(pid, sig)
        return await asyncio.wait_for(self.ask(f"wait {pid}"), 30)

    async def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        await asyncio.wait_for(self.process.wait(), 30)


async def count(sm: async_sessionmaker[AsyncSession], channel: str) -> tuple[int, int, int]:
    """Updates handled, updates waiting in the inbox, wizards saved."""
    async with sm() as session:
        handled = await session.scalar(
            select(func.count()).where(ProcessedUpdate.channel == channel)
        )
        waiting = await session.scalar(select(func.count()).where(InboxUpdate.channel == channel))
        saved = await session.scalar(
            select(func.count()).where(ModelYear.name.like("Mô hình bão %"))
        )
    return int(handled or 0), int(waiting or 0), int(saved or 0)


async def storm(
    server: FakeServer[Any, Any, Any],
    env: dict[str, str],
    cwd: Path,
    sm: async_sessionmaker[AsyncSession],
    channel: str,
    script: list[tuple[str, str]],
    send: Callable[[str, str], object],
    on_kill: Callable[[], None] = lambda: None,
) -> tuple[int, int, int]:
    """While the officers write (``script``, ``PACE`` messages a second, given to
    ``send``): start, let it take a few updates, SIGKILL; KILLS times; then run until every
    update is handled (or nothing more happens) and stop with SIGTERM. The counts at the
    end."""
    rng = random.Random(20261204)
    forker = await Forker.open(env, cwd)

    async def officers_write() -> None:
        for n, (user, text) in enumerate(script):
            send(user, text)
            if n % 10 == 9:
                await asyncio.sleep(10 / PACE)

    writing = asyncio.create_task(officers_write())
    try:
        for _ in range(KILLS):
            polls = len(server.calls_of("getUpdates"))
            pid = await forker.start()
            try:
                # Its second poll: the first one confirming what it took.
                with contextlib.suppress(AssertionError):
                    await server.wait_for_call("getUpdates", count=polls + 2, timeout=10)
                await asyncio.sleep(rng.uniform(0.0, 0.3))
            finally:
                assert await forker.end(pid, signal.SIGKILL) == -signal.SIGKILL
                on_kill()
        await writing
        polls = len(server.calls_of("getUpdates"))
        pid = await forker.start()
        await server.wait_for_call("getUpdates", count=polls + 1, timeout=30)  # running
        settled = 0  # polls with nothing left to take and nothing handled since the last
        last = -1
        for _ in range(300):
            handled, waiting, _saved = await count(sm, channel)
            if handled >= len(script) and waiting == 0:
                break
            quiet = waiting == 0 and not server.pending_updates and handled == last
            settled = settled + 1 if quiet else 0
            if settled == 5:
                break
            last = handled
            await asyncio.sleep(0.2)
        assert await forker.end(pid, signal.SIGTERM) == 0
    finally:
        writing.cancel()
        await forker.close()
    return await count(sm, channel)


async def test_telegram_updates_survive_a_kill_storm(
    db_url: str,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    ids = [7000 + n for n in range(OFFICERS)]
    await add_officers(sessionmaker, world, "telegram", [str(i) for i in ids])
    script = interleaved([str(i) for i in ids])
    async with FakeTelegram() as tg:
        env = run_env(db_url, tmp_path, TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_BASE=tg.base_url)
        handled, waiting, saved = await storm(
            tg,
            env,
            tmp_path,
            sessionmaker,
            "telegram",
            script,
            lambda user, text: tg.send_text(int(user), text),
        )
        left = tg.pending_updates
    assert len(script) == OFFICERS * ROUNDS * 10
    assert (handled, waiting) == (len(script), 0)
    assert saved == OFFICERS * ROUNDS
    assert left == []


async def test_zalo_loses_at_most_the_update_in_hand_at_each_kill(
    db_url: str,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    """Zalo counts an update delivered once it has answered getUpdates with it: only the
    one update taken and not yet recorded when the process died can be lost."""
    ids = [f"z-{n}" for n in range(4)]
    await add_officers(sessionmaker, world, "zalo", ids)
    script = interleaved(ids)[:200]
    in_hand: set[str] = set()
    async with FakeZalo() as zalo:

        def note_in_hand() -> None:
            if zalo.delivered:
                in_hand.add(str(zalo.delivered[-1]["message"]["message_id"]))

        env = run_env(db_url, tmp_path, ZALO_BOT_TOKEN=zalo.token, ZALO_API_BASE=zalo.base_url)
        await storm(zalo, env, tmp_path, sessionmaker, "zalo", script, zalo.send_text, note_in_hand)
        delivered = list(zalo.delivered)
    async with sessionmaker() as session:
        handled = set(
            (
                await session.scalars(
                    select(ProcessedUpdate.update_id).where(ProcessedUpdate.channel == "zalo")
                )
            ).all()
        )
    sent = {str(u["message"]["message_id"]) for u in delivered}
    assert len(sent) == len(script)
    lost = sent - handled
    assert lost <= in_hand, (len(lost), len(in_hand))
