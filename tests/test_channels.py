"""The channel protocol: `dvk run`, the web server and the outbox go through the configured
channels without naming any, so a third channel is a class implementing ``Channel`` and
one line in ``bot.runner.CHANNELS``."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot import runner
from bot.app import build_app
from bot.channel import Capabilities, Channel, Pace, WebhookRoute
from bot.files import FileLinks
from bot.settings import Settings
from handlers.core import Core
from scheduler.outbox import Outgoing, enqueue
from scheduler.pacing import Limits
from tests.test_run import free_port

SECRET = "fake-webhook-secret"


class FakeChannel:
    """A channel that records what the bot asks of it."""

    name: ClassVar[str] = "fake"
    label: ClassVar[str] = "Kênh thử"
    capabilities: ClassVar[Capabilities] = Capabilities(
        buttons=False, documents=False, photos=False, text_limit=12, writes_first=True
    )
    setting_hint: ClassVar[str] = "FAKE_TOKEN"
    built: ClassVar[list[FakeChannel]] = []

    def __init__(self, core: Core, files: FileLinks | None) -> None:
        self.core = core
        self.files = files
        self.pace: Pace | None = None
        self.polled_at: float | None = None
        self.updates: list[dict[str, Any]] = []
        self.sent: list[tuple[str, str]] = []
        self.calls: list[tuple[str, ...]] = []

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return True

    @classmethod
    def from_settings(cls, settings: Settings, core: Core, files: FileLinks | None) -> FakeChannel:
        channel = cls(core, files)
        cls.built.append(channel)
        return channel

    @property
    def webhook(self) -> WebhookRoute:
        async def handle(update: dict[str, Any]) -> web.Response:
            self.updates.append(update)
            return web.json_response({"ok": True})

        return WebhookRoute(self.name, "/webhook/fake", "X-Fake-Secret", handle)

    def outbox_sender(self, settings: Settings) -> FakeChannel:
        return self

    async def send(self, chat_id: str, text: str) -> None:
        self.sent.append((chat_id, text))

    def outbox_limits(self, settings: Settings) -> Limits:
        return Limits(rate_per_second=50, chat_interval=0, text_limit=self.capabilities.text_limit)

    async def setup(self, webhook_url: str | None = None, secret: str | None = None) -> None:
        self.calls.append(("setup", str(webhook_url), str(secret)))

    async def run_polling(self) -> None:
        self.calls.append(("run_polling",))

    async def stop_polling(self) -> None:
        self.calls.append(("stop_polling",))

    async def drain(self) -> None:
        self.calls.append(("drain",))

    async def close(self) -> None:
        self.calls.append(("close",))


KINDS: tuple[type[Channel], ...] = (FakeChannel,)  # mypy checks the protocol here


def test_the_message_without_channels_names_every_channel() -> None:
    assert runner.nothing_configured() == (
        "Chưa cấu hình kênh nào. Đặt TELEGRAM_BOT_TOKEN (mã bot từ @BotFather) và/hoặc "
        "ZALO_BOT_TOKEN (mã bot từ Zalo Bot Creator) rồi chạy lại dvk run; "
        "hoặc thử ngay trong terminal: dvk chat\n"
    )
    assert runner.writing_first() == {"telegram": "Telegram", "zalo": "Zalo"}


async def test_a_third_channel_runs_from_one_line(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "CHANNELS", KINDS)
    monkeypatch.setattr(FakeChannel, "built", [])
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        public_base_url="https://dvk.example.vn",
        webhook_secret=SecretStr(SECRET),
        web_host="127.0.0.1",
        web_port=free_port(),
        files_dir=str(tmp_path / "files"),
    )
    app = await build_app(settings, migrate=False)
    out = io.StringIO()
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(app, True, out, stop))
    try:
        for _ in range(200):
            if FakeChannel.built and FakeChannel.built[0].calls:
                break
            await asyncio.sleep(0.02)
        [channel] = FakeChannel.built
        assert channel.calls == [("setup", "https://dvk.example.vn/webhook/fake", SECRET)]
        assert "Trợ lý đang chạy: Kênh thử (webhook)." in out.getvalue()
        assert channel.files is not None
        assert channel.pace is not None
        await channel.pace()  # a slot of the channel's rate, shared with the outbox
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.web_port}") as http:
            health = await http.get("/healthz")
            assert health.status_code == 200
            assert health.json()["status"] == "ok"
            assert health.json()["channels"] == ["fake"]
            assert health.json()["database"]["ok"] is True
            update = {"text": "xin chào"}
            refused = await http.post("/webhook/fake", json=update, headers={"X-Fake-Secret": "x"})
            assert refused.status_code == 403
            ok = await http.post("/webhook/fake", json=update, headers={"X-Fake-Secret": SECRET})
            assert ok.status_code == 200
            assert ok.json() == {"ok": True}
        assert channel.updates == [update]
        # The outbox sends through the channel's sender, split at its text limit.
        async with app.sessionmaker() as session, session.begin():
            message = Outgoing("test:fake:1", "fake", "c-1", "Nhắc việc\nhạn 15/4", "notice")
            await enqueue(session, [message], datetime.now(UTC))
        assert app.core.on_outbox is not None
        app.core.on_outbox()
        for _ in range(200):
            if len(channel.sent) == 2:
                break
            await asyncio.sleep(0.02)
        assert channel.sent == [("c-1", "Nhắc việc"), ("c-1", "hạn 15/4")]
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await app.close()
    assert channel.calls[-3:] == [("stop_polling",), ("drain",), ("close",)]
