"""One, then two `dvk run --webhook` processes on one PostgreSQL database, under the same load.

    python -m bench.bench_processes [--updates 200] [--broadcast 100] [--rate 30]

Each phase starts from an empty database with ``--broadcast`` outbox rows (notices to as many
chats) and the processes (tests/bot_processes.py) against the fake Telegram server
(tests/fake_telegram.py); once they answer /healthz, ``--updates`` people write /start at
once, the webhooks spread over the processes as a proxy would. It prints, per phase: updates
per second (from the first post to the last first reply), the p50 and p95 of an update's
latency (its post to its first reply at the server), and the send rate of all processes
together as the server saw it: the average and the most in any one second (which must stay
within ``--rate``, Telegram's 30 by default: the processes share it). A higher ``--rate``
(e.g. 1000) takes the limit out of the way and shows what the second process adds to
handling.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import pg_database
from scheduler.outbox import SENT, Outgoing, enqueue
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import OutboxMessage
from tests.bot_processes import BotProcesses, telegram_update
from tests.fake_telegram import FakeTelegram

FIRST_USER = 70000


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def phase(processes: int, args: argparse.Namespace) -> dict[str, float]:
    async with pg_database(prefix="dvk_bench_proc_") as url:
        engine = make_engine(url)
        await upgrade(engine)
        sm = make_sessionmaker(engine)
        async with sm() as session, session.begin():
            notices = [
                Outgoing(f"notice:{i}", "telegram", str(60000 + i), f"Thông báo {i}", "notice")
                for i in range(args.broadcast)
            ]
            await enqueue(session, notices, datetime.now(UTC))
        try:
            async with FakeTelegram() as tg:
                with tempfile.TemporaryDirectory(prefix="dvk_bench_proc_") as folder:
                    async with BotProcesses(
                        processes,
                        url,
                        tg,
                        Path(folder),
                        TELEGRAM_RATE_PER_SECOND=str(args.rate),
                        TELEGRAM_CONCURRENCY=str(args.concurrency),
                    ) as bots:
                        return await load(bots, tg, sm, args)
        finally:
            await engine.dispose()


async def load(
    bots: BotProcesses,
    tg: FakeTelegram,
    sm: async_sessionmaker[AsyncSession],
    args: argparse.Namespace,
) -> dict[str, float]:
    posted: dict[int, float] = {}
    start = time.monotonic()

    async def post(i: int) -> None:
        user = FIRST_USER + i
        posted[user] = time.monotonic()
        await bots.post(i, telegram_update(1000 + i, user, "/start"))

    await asyncio.gather(*(post(i) for i in range(args.updates)))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        answered = {m.chat_id for m in tg.sent if m.chat_id >= FIRST_USER}
        async with sm() as session:
            waiting = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != SENT)
            )
        if len(answered) == args.updates and not waiting:
            break
        await asyncio.sleep(0.2)
    first_reply: dict[int, float] = {}
    for message in tg.sent:
        if message.chat_id >= FIRST_USER:
            first_reply.setdefault(message.chat_id, message.received_at)
    latencies = [first_reply[user] - posted[user] for user in posted if user in first_reply]
    sends = sorted(m.received_at for m in tg.sent if m.method == "sendMessage")
    span = max(sends[-1] - sends[0], 1e-9) if len(sends) > 1 else 1.0
    return {
        "updates_per_s": len(first_reply) / max(max(first_reply.values()) - start, 1e-9),
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": p(latencies, 0.95) * 1000,
        "sent": len(sends),
        "send_rate": len(sends) / span,
        "peak_1s": float(tg.flood.max_in_window(1.0)),
    }


async def main(args: argparse.Namespace) -> None:
    print(
        f"cores: {os.cpu_count()}; {args.updates} updates at once, {args.broadcast} outbox rows, "
        f"rate {args.rate}/s for all processes, TELEGRAM_CONCURRENCY {args.concurrency}"
    )
    print(
        f"{'processes':>9} {'updates/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'sent':>6} "
        f"{'send/s':>7} {'max in 1 s':>10}"
    )
    for processes in (1, 2):
        r = await phase(processes, args)
        print(
            f"{processes:>9} {r['updates_per_s']:>10.1f} {r['p50_ms']:>8.0f} {r['p95_ms']:>8.0f} "
            f"{r['sent']:>6.0f} {r['send_rate']:>7.1f} {r['peak_1s']:>10.0f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--broadcast", type=int, default=100)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=8)
    asyncio.run(main(parser.parse_args()))
