"""Benchmark: a reminder broadcast to N recipients through the fake Telegram server.

What runs where:

* The fake Telegram Bot API server (``tests/fake_telegram.py``) in a child process, so that
  its CPU and its event loop are not the sender's: it enforces Telegram's published limits
  (``--rate`` messages per second in total, one message per ``--chat-interval`` seconds per
  chat; a send beyond them gets 429 with ``retry_after``, as short as needed), answers a
  fraction ``--inject`` of sends with 429 ``retry_after`` ``--retry-after`` at random
  whatever the pace, and records the arrival of every message it accepts.
* Ours, in this process: the outbox written with ``scheduler.outbox.enqueue`` (one reminder
  per recipient, and a digest right after it for a fraction ``--second`` of them, as a
  planner writing per person does), then a :class:`scheduler.delivery.Deliverer` with the
  real ``bot.telegram.TelegramSender`` (aiogram) at 30/s and 1 s per chat, until nothing is
  left.
* Baseline, in this process too, against a fresh server with the same settings and the same
  injected 429s: python-telegram-bot's ``ExtBot`` with ``telegram.ext.AIORateLimiter`` (30
  per second overall, ``max_retries`` 5) sending the same messages in the same order, 64 at
  a time.

Figures, from the server's clock: messages per second from the first message accepted to
the last, and as a ratio of the limit; duplicates (a message accepted twice) and losses (a
message never accepted); the most messages accepted in any one second (strictly, where the
server forgives 20 ms of arrival jitter) and the shortest gap between two messages to one
chat; the 429s by cause (injected, over the rate, over the per-chat interval). Targets:
ratio >= 0.95, no duplicate, none lost, faster than the baseline. Run from the repository
root::

    python -m bench.bench_reminders                  # 10,000 recipients: ~6 min per side
    python -m bench.bench_reminders --quick          # 600 recipients
    python -m bench.bench_reminders --recipients 3000 --second 0 --db postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import logging
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection

from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import func, select

from bench.common import database, met
from bot.telegram import TelegramSender
from scheduler.delivery import Deliverer
from scheduler.outbox import Outgoing, enqueue
from scheduler.pacing import Limits
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import OutboxMessage
from tests.fake_flood import Accepted, FloodControl, Rejection
from tests.fake_telegram import FakeTelegram, LocalAiohttpSession

TOKEN = "424242:BENCH"
FIRST_CHAT = 800_001
RECIPIENTS = 10_000
QUICK_RECIPIENTS = 600
PTB_RETRIES = 5
PTB_CONCURRENCY = 64
TARGET_RATIO = 0.95

log = logging.getLogger("bench")


@dataclass(frozen=True)
class ServerOptions:
    rate: float
    chat_interval: float
    inject: float
    retry_after: int
    seed: int


@dataclass
class ServerReport:
    accepted: list[Accepted]
    rejections: list[Rejection]
    requests: int  # sendMessage calls received


# --------------------------------------------------------------------------- the fake server


async def _serve(conn: Connection, options: ServerOptions) -> None:
    async with FakeTelegram(TOKEN) as tg:
        tg.validate_html = True
        tg.enforce_limits(options.rate, options.chat_interval)
        tg.inject_429(options.inject, options.retry_after, seed=options.seed)
        conn.send(tg.base_url)
        await asyncio.to_thread(conn.recv)  # "report"
        conn.send(
            ServerReport(
                accepted=list(tg.flood.accepted),
                rejections=list(tg.flood.rejections),
                requests=len(tg.calls_of("sendMessage")),
            )
        )


def _server_process(conn: Connection, options: ServerOptions) -> None:
    try:
        asyncio.run(_serve(conn, options))
    except (EOFError, OSError, KeyboardInterrupt):
        return
    finally:
        conn.close()


class Server:
    """The fake server in a child process (spawned: its own interpreter and event loop)."""

    def __init__(self, options: ServerOptions) -> None:
        mp = multiprocessing.get_context("spawn")
        self._conn, theirs = mp.Pipe()
        self._process = mp.Process(
            target=_server_process, args=(theirs, options), name="bench-telegram"
        )
        self._process.start()
        theirs.close()
        self.base_url = ""

    async def start(self) -> str:
        if not await asyncio.to_thread(self._conn.poll, 120):
            raise TimeoutError("the fake server did not start within 120 s")
        self.base_url = str(self._conn.recv())
        return self.base_url

    async def report(self) -> ServerReport:
        self._conn.send("report")
        if not await asyncio.to_thread(self._conn.poll, 120):
            raise TimeoutError("the fake server did not report within 120 s")
        report = self._conn.recv()
        assert isinstance(report, ServerReport)
        return report

    async def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.close()
        await asyncio.to_thread(self._process.join, 10)
        if self._process.is_alive():
            self._process.kill()
            await asyncio.to_thread(self._process.join, 5)


@contextlib.asynccontextmanager
async def server(options: ServerOptions) -> AsyncIterator[Server]:
    s = Server(options)
    try:
        await s.start()
        yield s
    finally:
        await s.close()


# --------------------------------------------------------------------------- the messages


def to_chat(kind: str, chat: str, text: str) -> Outgoing:
    """A Telegram message of ``kind`` (rem, dig) to ``chat``, keyed by both."""
    return Outgoing(key=f"bench:{kind}:{chat}", channel="telegram", chat_id=chat, text=text)


def messages(recipients: int, second: float) -> list[Outgoing]:
    """A reminder for each recipient and, for every 1/second-th one, a digest right after."""
    every = round(1 / second) if second > 0 else 0
    out: list[Outgoing] = []
    for n in range(recipients):
        chat = str(FIRST_CHAT + n)
        text = f"Nhắc việc: hạn đăng ký mô hình “Dân vận khéo” là 15/04/2026 ({chat})."
        out.append(to_chat("rem", chat, text))
        if every and n % every == 0:
            out.append(to_chat("dig", chat, f"Tổng hợp: 3 đơn vị chưa đăng ký mô hình ({chat})."))
    return out


# --------------------------------------------------------------------------- the two sides


@dataclass
class Side:
    label: str
    wall: float  # seconds from the first send to the end, on this process's clock
    report: ServerReport
    errors: Counter[str] = field(default_factory=Counter)  # sends given up, by error
    note: str = ""


async def run_ours(
    options: ServerOptions, outgoing: Sequence[Outgoing], db: str, progress: float
) -> Side:
    async with database(db) as url, server(options) as fake:
        engine = make_engine(url)
        try:
            await upgrade(engine)
            sm = make_sessionmaker(engine)
            async with sm() as session, session.begin():
                await enqueue(session, outgoing, datetime.now(UTC))
            session_ = LocalAiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
            bot = Bot(TOKEN, session=session_)
            limits = Limits(options.rate, options.chat_interval, text_limit=4096)
            deliverer = Deliverer(sm, {"telegram": TelegramSender(bot)}, {"telegram": limits})
            started = time.perf_counter()
            ticker = asyncio.create_task(_progress(deliverer, len(outgoing), progress))
            try:
                await deliverer.run_until_idle()
            finally:
                ticker.cancel()
                await bot.session.close()
            wall = time.perf_counter() - started
            async with sm() as session:
                counts = dict(
                    (
                        await session.execute(
                            select(OutboxMessage.status, func.count()).group_by(
                                OutboxMessage.status
                            )
                        )
                    ).all()
                )
        finally:
            await engine.dispose()
        report = await fake.report()
    s = deliverer.stats
    note = (
        f"outbox {counts}; claimed {s.claimed}, 429s {s.retry_after}, "
        f"global pauses {s.global_pauses}"
    )
    return Side("dvk Deliverer", wall, report, note=note)


async def _progress(deliverer: Deliverer, total: int, every: float) -> None:
    started = time.perf_counter()
    while True:
        await asyncio.sleep(every)
        elapsed = time.perf_counter() - started
        print(f"    … {deliverer.stats.sent}/{total} sent in {elapsed:.0f} s", flush=True)


async def run_ptb(options: ServerOptions, outgoing: Sequence[Outgoing], progress: float) -> Side:
    from telegram.error import TelegramError
    from telegram.ext import AIORateLimiter, ExtBot
    from telegram.request import HTTPXRequest

    errors: Counter[str] = Counter()
    done = 0
    async with server(options) as fake:
        request = HTTPXRequest(
            connection_pool_size=PTB_CONCURRENCY,
            pool_timeout=30.0,
            httpx_kwargs={"trust_env": False},
        )
        limiter = AIORateLimiter(
            overall_max_rate=options.rate, overall_time_period=1, max_retries=PTB_RETRIES
        )
        bot = ExtBot(TOKEN, base_url=f"{fake.base_url}/bot", request=request, rate_limiter=limiter)
        gate = asyncio.Semaphore(PTB_CONCURRENCY)

        async def one(message: Outgoing) -> None:
            nonlocal done
            async with gate:
                try:
                    await bot.send_message(
                        int(message.chat_id),
                        html.escape(message.text, quote=False),
                        parse_mode="HTML",
                    )
                    done += 1
                except TelegramError as err:
                    errors[f"{type(err).__name__}: {err}"[:80]] += 1

        async def ticker() -> None:
            started = time.perf_counter()
            while True:
                await asyncio.sleep(progress)
                elapsed = time.perf_counter() - started
                print(f"    … {done}/{len(outgoing)} sent in {elapsed:.0f} s", flush=True)

        async with bot:
            started = time.perf_counter()
            tick = asyncio.create_task(ticker())
            try:
                await asyncio.gather(*(one(m) for m in outgoing))
            finally:
                tick.cancel()
            wall = time.perf_counter() - started
        report = await fake.report()
    note = (
        f"AIORateLimiter({options.rate:g}/s, max_retries={PTB_RETRIES}), "
        f"{PTB_CONCURRENCY} at a time"
    )
    return Side("PTB AIORateLimiter", wall, report, errors, note)


# --------------------------------------------------------------------------- figures


@dataclass
class Figures:
    label: str
    messages: int
    delivered: int
    duplicates: int
    lost: int
    span: float
    rate: float
    ratio: float
    wall: float
    max_1s: int
    min_gap: float
    refused: Counter[str]
    requests: int
    errors: Counter[str]
    note: str

    @classmethod
    def of(cls, side: Side, outgoing: Sequence[Outgoing], limit: float) -> Figures:
        flood = FloodControl()
        flood.accepted = side.report.accepted
        flood.rejections = side.report.rejections
        expected = Counter((m.chat_id, m.text) for m in outgoing)
        got = Counter((a.chat_id, a.text) for a in side.report.accepted)
        duplicates = sum(n - 1 for n in got.values() if n > 1) + sum(
            n for key, n in got.items() if key not in expected
        )
        lost = sum(1 for key in expected if got[key] == 0)
        times = [a.at for a in side.report.accepted]
        span = max(times) - min(times) if len(times) > 1 else 0.0
        rate = (len(times) - 1) / span if span > 0 else 0.0
        refused = Counter(
            r.reason if r.error_code == 429 else str(r.error_code) for r in flood.rejections
        )
        return cls(
            label=side.label,
            messages=len(outgoing),
            delivered=len(got),
            duplicates=duplicates,
            lost=lost,
            span=span,
            rate=rate,
            ratio=rate / limit,
            wall=side.wall,
            max_1s=flood.max_in_window(1.0),
            min_gap=flood.min_chat_gap(),
            refused=refused,
            requests=side.report.requests,
            errors=side.errors,
            note=side.note,
        )

    def lines(self) -> list[str]:
        refused = ", ".join(f"{k} {v}" for k, v in sorted(self.refused.items())) or "none"
        out = [
            f"== {self.label} ==",
            f"  {self.note}",
            f"  messages {self.messages}: delivered {self.delivered}, duplicates "
            f"{self.duplicates}, lost {self.lost}; requests {self.requests}",
            f"  first→last accepted {self.span:.1f} s: {self.rate:.2f} msg/s = "
            f"{self.ratio:.3f} of the limit (wall {self.wall:.1f} s)",
            f"  most in any 1 s: {self.max_1s}; shortest gap in one chat: {self.min_gap:.3f} s",
            f"  429s: {refused}",
        ]
        if self.errors:
            out.append(f"  sends given up: {dict(self.errors.most_common(5))}")
        return out


async def run(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # A 429 is an expected answer here: PTB logs each one it waits out.
    logging.getLogger("telegram.ext").setLevel(logging.ERROR)
    for module in ("scheduler.delivery", "scheduler.lanes", "scheduler.leases"):
        logging.getLogger(module).setLevel(logging.ERROR)
    recipients = QUICK_RECIPIENTS if args.quick else args.recipients
    outgoing = messages(recipients, args.second)
    options = ServerOptions(
        args.rate, args.chat_interval, args.inject, args.retry_after, seed=args.seed
    )
    print(
        f"{recipients} recipients, {len(outgoing)} messages; server limits {args.rate:g}/s, "
        f"{args.chat_interval:g} s per chat, {args.inject:.1%} of sends refused with 429 "
        f"retry_after {args.retry_after} at random; database {args.db}; "
        f"{os.cpu_count()} CPU(s)",
        flush=True,
    )
    progress = max(10.0, len(outgoing) / args.rate / 6)
    results: list[Figures] = []
    print("\n-- ours: outbox + Deliverer --", flush=True)
    ours = Figures.of(await run_ours(options, outgoing, args.db, progress), outgoing, args.rate)
    print("\n".join(ours.lines()), flush=True)
    results.append(ours)
    baseline: Figures | None = None
    if not args.no_baseline:
        print("\n-- baseline: python-telegram-bot AIORateLimiter --", flush=True)
        side = await run_ptb(options, outgoing, progress)
        baseline = Figures.of(side, outgoing, args.rate)
        print("\n".join(baseline.lines()), flush=True)
        results.append(baseline)

    print("\n== Summary ==")
    print(
        f"  {'':<20}{'msg/s':>8}{'x limit':>9}{'dup':>6}{'lost':>6}{'max/1s':>8}"
        f"{'429 rate/chat':>15}{'wall s':>9}"
    )
    for f in results:
        over = f"{f.refused.get('rate', 0)}/{f.refused.get('chat', 0)}"
        print(
            f"  {f.label:<20}{f.rate:>8.2f}{f.ratio:>9.3f}{f.duplicates:>6}{f.lost:>6}"
            f"{f.max_1s:>8}{over:>15}{f.wall:>9.1f}"
        )
    print("  targets (ours):")
    print(f"    >= {TARGET_RATIO} of the limit: {ours.ratio:.3f} {met(ours.ratio >= TARGET_RATIO)}")
    print(f"    0 duplicates: {ours.duplicates} {met(ours.duplicates == 0)}")
    print(f"    0 lost: {ours.lost} {met(ours.lost == 0)}")
    if baseline is not None:
        faster = ours.wall < baseline.wall
        print(
            f"    faster than AIORateLimiter: {ours.wall:.1f} s vs {baseline.wall:.1f} s "
            f"({baseline.wall / ours.wall:.2f}x) {met(faster)}",
            flush=True,
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_reminders",
        description="A reminder broadcast through the fake Telegram server enforcing its limits.",
    )
    parser.add_argument("--recipients", type=int, default=RECIPIENTS, help="default 10000")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RECIPIENTS} recipients")
    parser.add_argument("--rate", type=float, default=30.0, help="messages/s (default 30)")
    parser.add_argument(
        "--chat-interval", type=float, default=1.0, help="seconds per chat (default 1)"
    )
    parser.add_argument(
        "--inject", type=float, default=0.01, help="fraction of sends refused (default 0.01)"
    )
    parser.add_argument(
        "--retry-after", type=int, default=1, help="retry_after of those 429s (default 1)"
    )
    parser.add_argument(
        "--second",
        type=float,
        default=0.05,
        help="fraction of recipients who also get a digest right after (default 0.05)",
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=2026, help="of the injected 429s")
    parser.add_argument("--no-baseline", action="store_true", help="skip the PTB baseline")
    args = parser.parse_args(argv)
    if args.recipients < 1:
        parser.error("--recipients must be at least 1")
    if not 0 <= args.second <= 1 or not 0 <= args.inject < 1:
        parser.error("--second and --inject are fractions")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
