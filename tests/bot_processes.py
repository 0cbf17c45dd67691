"""Real `dvk run --webhook` processes for tests and benchmarks, each on a port of its own,
against a fake Bot API server: as several processes behind one proxy would run.

    async with BotProcesses(2, db_url, tg, tmp_path, TELEGRAM_RATE_PER_SECOND="10") as bots:
        await bots.post(0, telegram_update(1, 7001, "/start"))
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.fake_telegram import FakeTelegram

SECRET = "processes-webhook-secret"
_OWN = (
    "TELEGRAM_",
    "ZALO_",
    "DATABASE_URL",
    "PUBLIC_BASE_URL",
    "WEB_",
    "WEBHOOK_",
    "REMINDER_",
    "REDIS_URL",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def telegram_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    """A private text message as Telegram posts it to a webhook."""
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "Cán bộ"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Cán bộ"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


class BotProcesses:
    """``count`` `dvk run --webhook` processes on one database, started together."""

    def __init__(
        self, count: int, db_url: str, tg: FakeTelegram, folder: Path, **settings: str
    ) -> None:
        self.ports = [free_port() for _ in range(count)]
        self.db_url = db_url
        self.tg = tg
        self.folder = folder
        self.settings = settings
        self.procs: list[asyncio.subprocess.Process] = []
        self.http = httpx.AsyncClient(timeout=10)

    def env(self, port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN)}
        env.update(
            DATABASE_URL=self.db_url,
            TELEGRAM_BOT_TOKEN=self.tg.token,
            TELEGRAM_API_BASE=self.tg.base_url,
            PUBLIC_BASE_URL="https://dvk.example.vn",
            WEB_HOST="127.0.0.1",
            WEB_PORT=str(port),
            WEBHOOK_SECRET=SECRET,
            FILES_DIR=str(self.folder / "files"),
            LOG_LEVEL="WARNING",
        )
        env.update(self.settings)
        return env

    async def __aenter__(self) -> BotProcesses:
        for port in self.ports:
            log = (self.folder / f"bot-{port}.log").open("wb")
            self.procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-c",
                    "from bot.cli import main; main()",
                    "run",
                    "--webhook",
                    env=self.env(port),
                    cwd=self.folder,
                    stdout=log,
                    stderr=log,
                )
            )
            log.close()
        try:
            await asyncio.wait_for(self._ready(), 120)
        except BaseException:
            await self.stop()
            raise
        return self

    async def _ready(self) -> None:
        for port, proc in zip(self.ports, self.procs, strict=True):
            while True:
                if proc.returncode is not None:
                    raise RuntimeError(f"dvk run exited: {self.log(port)}")
                with contextlib.suppress(httpx.HTTPError):
                    health = await self.http.get(f"http://127.0.0.1:{port}/healthz")
                    if health.status_code == 200:
                        break
                await asyncio.sleep(0.2)

    def log(self, port: int) -> str:
        return (self.folder / f"bot-{port}.log").read_text(errors="replace")[-3000:]

    async def post(self, index: int, update: dict[str, Any]) -> None:
        port = self.ports[index % len(self.ports)]
        response = await self.http.post(
            f"http://127.0.0.1:{port}/webhook/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        response.raise_for_status()

    async def metrics(self, index: int) -> str:
        return (await self.http.get(f"http://127.0.0.1:{self.ports[index]}/metrics")).text

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await self.http.aclose()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
