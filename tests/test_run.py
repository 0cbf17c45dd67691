"""`dvk run`: Telegram and Zalo in one process, polling or webhook, clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.pool import QueuePool

from bot.app import build_app
from bot.runner import run
from bot.settings import Settings
from bot.telegram import SECRET_HEADER as TELEGRAM_SECRET_HEADER
from bot.telegram import TelegramChannel
from bot.web import build_web_app
from handlers.core import Core
from storage.db import is_sqlite
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.helpers import World

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as server:
        yield server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_for(db_url: str, tg: FakeTelegram, zalo: FakeZalo, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        telegram_bot_token=SecretStr(tg.token),
        telegram_api_base=tg.base_url,
        zalo_bot_token=SecretStr(zalo.token),
        zalo_api_base=zalo.base_url,
        web_host="127.0.0.1",
        web_port=free_port(),
        files_dir=str(tmp_path / "files"),
    )


def telegram_update(update_id: int, user_id: int, text: str) -> dict[str, object]:
    person = {"id": user_id, "is_bot": False, "first_name": "Lan"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Lan"},
            "from": person,
            "text": text,
        },
    }


async def test_both_channels_poll_in_one_process_and_stop(
    db_url: str, tg: FakeTelegram, zalo: FakeZalo, world: World, tmp_path: Path
) -> None:
    app = await build_app(settings_for(db_url, tg, zalo, tmp_path), migrate=False)
    out = io.StringIO()
    stop = asyncio.Event()
    task = asyncio.create_task(run(app, False, out, stop))
    try:
        await tg.wait_for_call("getUpdates")
        await zalo.wait_for_call("getUpdates")
        assert "Trợ lý đang chạy: Telegram, Zalo (polling)." in out.getvalue()
        assert tg.calls_of("deleteWebhook")
        assert zalo.calls_of("deleteWebhook")
        # The pool's connections were opened before the first update (SQLite keeps one).
        pool = app.engine.pool
        assert isinstance(pool, QueuePool)
        opened = pool.checkedin() + pool.checkedout()
        assert opened >= (1 if is_sqlite(db_url) else app.settings.telegram_concurrency)
        tg.send_text(1001, "/trogiup")  # the officer's Telegram account
        zalo.send_text("z-1", "/trogiup")  # a stranger on Zalo
        [tg_reply] = await tg.wait_for_messages(1001, 1)
        [zalo_reply] = await zalo.wait_for_messages("z-1", 1)
        assert tg_reply.plain_text.startswith("Chào Nguyễn Thị Lan. Đồng chí là:")
        assert "mã mời" in zalo_reply.text
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await app.close()
    assert out.getvalue().endswith("Đã dừng trợ lý.\n")


async def test_webhook_mode_sets_both_webhooks_and_serves(
    db_url: str, tg: FakeTelegram, zalo: FakeZalo, world: World, tmp_path: Path
) -> None:
    settings = settings_for(db_url, tg, zalo, tmp_path)
    settings.public_base_url = "https://dvk.example.vn"
    secret = settings.derived_secret("webhook")
    app = await build_app(settings, migrate=False)
    stop = asyncio.Event()
    out = io.StringIO()
    task = asyncio.create_task(run(app, True, out, stop))
    local = f"http://127.0.0.1:{settings.web_port}"
    try:
        await tg.wait_for_call("setWebhook")
        await zalo.wait_for_call("setWebhook")
        assert tg.webhook_url == "https://dvk.example.vn/webhook/telegram"
        assert tg.calls_of("setWebhook")[0]["secret_token"] == secret
        assert zalo.webhook_url == "https://dvk.example.vn/webhook/zalo"
        assert zalo.webhook_secret == secret
        assert not tg.calls_of("getUpdates")
        assert not zalo.calls_of("getUpdates")
        async with httpx.AsyncClient(base_url=local) as http:
            health = await http.get("/healthz")
            assert health.status_code == 200
            assert health.json()["status"] == "ok"
            assert health.json()["channels"] == ["telegram", "zalo"]
            assert health.json()["database"]["ok"] is True
            # What Zalo would post, as it would post it.
            update = zalo.text_update("z-2", "/start")
            posted = await http.post(
                "/webhook/zalo", json=update, headers={"X-Bot-Api-Secret-Token": secret}
            )
            assert posted.status_code == 200
            [reply] = await zalo.wait_for_messages("z-2", 1)
            assert "mã mời" in reply.text
            refused = await http.post(
                "/webhook/zalo", json=update, headers={"X-Bot-Api-Secret-Token": "x" * 20}
            )
            assert refused.status_code == 403
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await app.close()


async def test_telegram_webhook_checks_the_secret_and_handles_a_duplicate_once(
    tg: FakeTelegram, core: Core, world: World
) -> None:
    channel = TelegramChannel(core, tg.token, tg.base_url)
    app = build_web_app("tg-secret-value", [channel.webhook])
    port = free_port()
    from aiohttp import web

    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            update = telegram_update(500, 1001, "/trogiup")
            missing = await http.post("/webhook/telegram", json=update)
            wrong = await http.post(
                "/webhook/telegram", json=update, headers={TELEGRAM_SECRET_HEADER: "nope"}
            )
            assert (missing.status_code, wrong.status_code) == (401, 403)
            await asyncio.sleep(0.2)
            assert tg.messages_to(1001) == []
            for _ in range(2):  # delivered twice
                ok = await http.post(
                    "/webhook/telegram",
                    json=update,
                    headers={TELEGRAM_SECRET_HEADER: "tg-secret-value"},
                )
                assert ok.status_code == 200
            await tg.wait_for_messages(1001, 1)
            await channel.drain()
            await tg.wait_idle(quiet=0.3)
            assert len(tg.messages_to(1001)) == 1
            assert tg.messages_to(1001)[0].plain_text.startswith("Chào Nguyễn Thị Lan.")
    finally:
        await runner.cleanup()
        await channel.close()


async def test_dvk_run_stops_cleanly_on_sigterm_and_never_logs_tokens(
    tg: FakeTelegram, zalo: FakeZalo, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'dvk.sqlite3'}",
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE": tg.base_url,
        "ZALO_BOT_TOKEN": zalo.token,
        "ZALO_API_BASE": zalo.base_url,
        "PUBLIC_BASE_URL": "https://dvk.example.vn",
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(free_port()),
        "FILES_DIR": str(tmp_path / "files"),
        "LOG_LEVEL": "DEBUG",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        first = await asyncio.wait_for(process.stdout.readline(), 30)
        assert first.decode().startswith("Trợ lý đang chạy: Telegram, Zalo (polling).")
        await tg.wait_for_call("getUpdates", timeout=10)
        await zalo.wait_for_call("getUpdates", timeout=10)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().endswith("Đã dừng trợ lý.\n")
    logs = first.decode() + stdout.decode() + stderr.decode()
    assert "getUpdates" in logs or "Polling" in logs or "Start polling" in logs
    for token in (tg.token, zalo.token):
        assert token not in logs
        assert token.split(":", 1)[-1] not in logs
