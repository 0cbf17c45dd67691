"""One sender process for ``tests/test_delivery.py``: delivers the outbox until idle.

    python -m tests.delivery_worker DB_URL --telegram BASE_URL --zalo BASE_URL

It prints ``ready`` once its imports and engine are up, waits for a line on stdin (so
that two workers start delivering together), delivers everything due through its own
engine, and prints its name and figures as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.telegram import TelegramSender
from bot.zalo import ZaloApi, ZaloSender
from scheduler.delivery import Deliverer
from scheduler.pacing import Limits
from scheduler.senders import Sender
from storage.db import make_engine, make_sessionmaker

TELEGRAM_TOKEN = "123456:TEST"
ZALO_TOKEN = "1459232241454765289:zalo-test-token"


async def main(args: argparse.Namespace) -> None:
    engine = make_engine(args.db)
    bot = Bot(
        TELEGRAM_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(args.telegram))
    )
    api = ZaloApi(ZALO_TOKEN, args.zalo)
    senders: dict[str, Sender] = {"telegram": TelegramSender(bot), "zalo": ZaloSender(api, 0.5)}
    limits = Limits(rate_per_second=args.rate, chat_interval=0.05)
    deliverer = Deliverer(
        make_sessionmaker(engine),
        senders,
        {"telegram": limits, "zalo": limits},
        lookahead=args.lookahead,
        backoff=0.05,
        poll_interval=0.2,
    )
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        await asyncio.wait_for(deliverer.run_until_idle(), 120)
        print(json.dumps({"name": deliverer.name, **asdict(deliverer.stats)}), flush=True)
    finally:
        await bot.session.close()
        await api.close()
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--telegram", required=True)
    parser.add_argument("--zalo", required=True)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--lookahead", type=float, default=0.2)
    asyncio.run(main(parser.parse_args()))
