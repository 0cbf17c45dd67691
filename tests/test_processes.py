"""Two `dvk run --webhook` processes on one PostgreSQL database, as behind one proxy: the
platform's rate kept by both together, every update and every reminder handled once."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import run_command
from bot.settings import Settings
from scheduler.outbox import SENT, Outgoing, enqueue
from storage.models import OutboxMessage, ProcessedUpdate, ReminderRun
from tests.bot_processes import BotProcesses, telegram_update
from tests.fake_telegram import FakeTelegram
from tests.helpers import build_world

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
RATE = 6  # messages per second for the whole bot, both processes together
# Outbox rows to as many chats: more than one process claims at once (5 s of sending), so
# both send them, at the same time.
BROADCAST = 40
PEOPLE = 16  # strangers writing /start, half to each process
TWICE = 6  # of their updates, delivered to both processes


async def outbox(sm: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sm() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def settled(sm: async_sessionmaker[AsyncSession], tg: FakeTelegram) -> None:
    """Until every update is recorded, every outbox row sent and the server quiet."""
    while True:
        async with sm() as session:
            handled = await session.scalar(select(func.count()).select_from(ProcessedUpdate))
        rows = await outbox(sm)
        if handled == PEOPLE and all(row.status == SENT for row in rows):
            break
        await asyncio.sleep(0.3)
    await tg.wait_idle(quiet=1.5, timeout=60)


async def test_two_processes_keep_one_rate_and_handle_everything_once(
    db_url: str, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("several bot processes share a PostgreSQL database; SQLite serves one")
    now = datetime.now(UTC)
    local = now.astimezone(TZ)
    world = await build_world(sessionmaker, now)
    # A reminder due now: the registration deadline tomorrow, reminded 1 day before at this
    # hour. Both processes catch it up on start; it must be written (and sent) once.
    tomorrow = (local + timedelta(days=1)).date()
    code = await run_command(
        [
            "campaign",
            "set",
            "--year",
            str(tomorrow.year),
            "--unit",
            str(world.ward.id),
            f"registration={tomorrow:%d/%m/%Y}",
        ],
        Settings(database_url=db_url),
        io.StringIO(),
    )
    assert code == 0
    async with sessionmaker() as session, session.begin():
        notices = [
            Outgoing(f"notice:{i}", "telegram", str(60000 + i), f"Thông báo số {i}", "notice")
            for i in range(BROADCAST)
        ]
        await enqueue(session, notices, now)

    async with FakeTelegram() as tg:
        settings = {
            "TELEGRAM_RATE_PER_SECOND": str(RATE),
            "REMINDER_HOUR": str(local.hour),
            "REMINDER_DAYS": "1",
            "REMINDER_GRACE_HOURS": "2",
        }
        async with BotProcesses(2, db_url, tg, tmp_path, **settings) as bots:
            posts = []
            for i in range(PEOPLE):
                update = telegram_update(900 + i, 70000 + i, "/start")
                posts.append(bots.post(i, update))
                if i < TWICE:  # Telegram retried it, and the proxy sent it to the other one
                    posts.append(bots.post(i + 1, update))
            await asyncio.gather(*posts)
            await asyncio.wait_for(settled(sessionmaker, tg), 120)
            metrics = [await bots.metrics(0), await bots.metrics(1)]

    sent = [m for m in tg.sent if m.method == "sendMessage"]
    # The platform's limit held for both processes together (as the platform counts
    # arrivals: jitter may shift one across a second, as in tests/test_delivery.py).
    assert tg.flood.max_in_window(1.0) <= RATE + 1
    rows = await outbox(sessionmaker)
    reminders = [row for row in rows if row.kind == "reminder"]
    assert reminders, "no reminder was due: the test would prove nothing about them"
    # Each outbox row went out exactly once: notices, and reminders written once by two planners.
    per_chat = Counter(m.chat_id for m in sent)
    expected = Counter(int(row.chat_id) for row in rows)
    assert {chat: per_chat[chat] for chat in expected} == expected
    async with sessionmaker() as session:
        runs = (await session.scalars(select(ReminderRun))).all()
    # Each reminder time done once (today's, of each deadline; older ones skipped), with the
    # messages written once: the notices aside, the outbox holds just those.
    done = [run for run in runs if run.status == "done"]
    assert done
    assert sum(run.messages for run in done) == len([r for r in rows if r.kind != "notice"])
    # Every update answered once, whichever process got it and however often.
    replies = [per_chat[70000 + i] for i in range(PEOPLE)]
    assert replies[0] >= 1
    assert replies == [replies[0]] * PEOPLE
    # Both processes took part: updates, and outbox rows.
    for text in metrics:
        handled = next(
            line for line in text.splitlines() if line.startswith("dvk_updates_handled_total{")
        )
        assert float(handled.rsplit(" ", 1)[1]) >= PEOPLE / 2
    assert len({row.claimed_by for row in rows}) == 2
