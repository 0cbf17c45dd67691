"""What `dvk run` tells its watchers: /healthz, /metrics, and log lines with their context."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import configure_handler
from bot.monitor import Monitor
from bot.settings import Settings
from bot.telegram import webhook_route as telegram_webhook
from bot.web import build_web_app
from domain.messages import IncomingMessage, Reply
from handlers.core import Core
from scheduler.leases import DeliveryStats
from scheduler.outbox import Outgoing, enqueue
from storage.db import make_engine, make_sessionmaker
from tests.fake_telegram import FakeTelegram
from tests.helpers import Clock, World
from tests.tg_harness import running_bot

SECRET = "webhook-secret-value"
TOKEN = "123456:AAE-the-real-token"


class Wall:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Polling:
    """A channel as the monitor sees it: its name and its last poll."""

    capabilities: ClassVar[Any] = None

    def __init__(self, name: str, polled_at: float | None) -> None:
        self.name = name
        self.polled_at = polled_at


def monitor_for(
    engine: AsyncEngine,
    sm: async_sessionmaker[AsyncSession],
    channels: list[Polling],
    clock: Clock,
    wall: Wall,
    *,
    webhook: bool = False,
    stats: DeliveryStats | None = None,
) -> Monitor:
    return Monitor(
        engine,
        sm,
        channels,  # type: ignore[arg-type]
        webhook=webhook,
        poll_seconds=120,
        stats=stats,
        wall=wall,
        now=clock,
    )


@pytest.fixture
def wall() -> Wall:
    return Wall()


async def serve(monitor: Monitor) -> AsyncIterator[TestClient[Any, Any]]:
    updates: list[dict[str, Any]] = []

    async def record(update: dict[str, Any]) -> None:
        updates.append(update)

    route = monitor.watch(telegram_webhook(record))
    app = build_web_app(SECRET, [route], monitor=monitor)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_health_reports_database_outbox_and_polls(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    wall: Wall,
) -> None:
    async with sessionmaker() as session, session.begin():
        old = [Outgoing("k1", "telegram", "1", "a"), Outgoing("k2", "zalo", "2", "b")]
        await enqueue(session, old, clock() - timedelta(seconds=30))
        await enqueue(session, [Outgoing("k3", "telegram", "3", "c")], clock())
        later = [Outgoing("k4", "telegram", "4", "d")]
        await enqueue(session, later, clock() + timedelta(hours=1))  # not due yet
    telegram, zalo = Polling("telegram", wall.now - 5), Polling("zalo", None)
    monitor = monitor_for(engine, sessionmaker, [telegram, zalo], clock, wall)
    async for http in serve(monitor):
        response = await http.get("/healthz")
        assert response.status == 200
        body = await response.json()
        assert body["status"] == "ok"
        assert body["problems"] == []
        assert body["channels"] == ["telegram", "zalo"]
        assert body["database"]["ok"] is True
        assert body["outbox"] == {"pending": 4, "oldest_due_seconds": 30.0}
        assert body["updates"]["telegram"] == {
            "mode": "polling",
            "last_poll_seconds_ago": 5.0,
            "last_webhook_seconds_ago": None,
            "ok": True,
        }
        # Zalo has not polled yet, but the process started just now: not failing yet.
        assert body["updates"]["zalo"]["ok"] is True

        # 121 s without a poll answered: both fail, each named.
        wall.now += 121
        telegram.polled_at = wall.now - 119  # Telegram answered 119 s ago: still fine
        response = await http.get("/healthz")
        assert response.status == 503
        body = await response.json()
        assert body["status"] == "failing"
        assert body["problems"] == ["zalo: no poll answered for 121 s"]
        telegram.polled_at = wall.now - 121
        body = await (await http.get("/healthz")).json()
        assert body["problems"] == [
            "telegram: no poll answered for 121 s",
            "zalo: no poll answered for 121 s",
        ]


async def test_in_webhook_mode_quiet_is_fine_and_calls_are_noted(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    wall: Wall,
) -> None:
    monitor = monitor_for(
        engine, sessionmaker, [Polling("telegram", None)], clock, wall, webhook=True
    )
    async for http in serve(monitor):
        wall.now += 3600
        response = await http.get("/healthz")
        assert response.status == 200
        body = await response.json()
        assert body["outbox"] == {"pending": 0, "oldest_due_seconds": None}
        assert body["updates"]["telegram"]["last_webhook_seconds_ago"] is None
        refused = await http.post("/webhook/telegram", json={"update_id": 1})
        assert refused.status == 401  # not counted: the secret is checked first
        assert monitor.webhook_at == {}
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert (await http.post("/webhook/telegram", json={"update_id": 1}, headers=headers)).ok
        wall.now += 7
        body = await (await http.get("/healthz")).json()
        assert body["updates"]["telegram"]["last_webhook_seconds_ago"] == 7.0
        metrics = await (await http.get("/metrics")).text()
        assert (
            f'dvk_last_webhook_timestamp_seconds{{channel="telegram"}} {wall.now - 7!r}' in metrics
        )


async def test_a_database_that_does_not_answer_fails_health(
    clock: Clock, wall: Wall, tmp_path: Any
) -> None:
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    try:
        monitor = monitor_for(
            engine, make_sessionmaker(engine), [Polling("telegram", wall.now)], clock, wall
        )
        async for http in serve(monitor):
            response = await http.get("/healthz")
            assert response.status == 503
            body = await response.json()
            assert body["database"]["ok"] is False
            assert body["problems"][0].startswith("database: ")
            assert body["outbox"] is None
            metrics = await (await http.get("/metrics")).text()
            assert "\ndvk_database_up 0\n" in metrics
            assert "dvk_outbox_rows" not in metrics
    finally:
        await engine.dispose()


async def test_metrics_count_updates_replies_outbox_and_errors(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    wall: Wall,
) -> None:
    async with sessionmaker() as session, session.begin():
        rows = [Outgoing("k1", "telegram", "1", "a"), Outgoing("k2", "telegram", "2", "b")]
        await enqueue(session, rows, clock() - timedelta(seconds=12))
    stats = DeliveryStats(sent=5, retry_after=3, transient=2, failed=1, unreachable=4)
    monitor = monitor_for(
        engine, sessionmaker, [Polling("telegram", wall.now)], clock, wall, stats=stats
    )
    msg = IncomingMessage(channel="telegram", user_id="1", chat_id="1", text="/start")
    monitor.on_handled(msg, [Reply("a"), Reply("b")], 0.03, False)
    monitor.on_handled(msg, [Reply("xin lỗi")], 0.7, True)
    monitor.on_handled(msg, [], 12.0, False)
    async for http in serve(monitor):
        response = await http.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        text = await response.text()
    lines = set(text.splitlines())
    for expected in [
        "dvk_up 1",
        "dvk_database_up 1",
        'dvk_updates_handled_total{channel="telegram"} 3',
        'dvk_update_failures_total{channel="telegram"} 1',
        'dvk_replies_total{channel="telegram"} 3',
        'dvk_update_handling_seconds_bucket{channel="telegram",le="0.025"} 0',
        'dvk_update_handling_seconds_bucket{channel="telegram",le="0.05"} 1',
        'dvk_update_handling_seconds_bucket{channel="telegram",le="1.0"} 2',
        'dvk_update_handling_seconds_bucket{channel="telegram",le="10.0"} 2',
        'dvk_update_handling_seconds_bucket{channel="telegram",le="+Inf"} 3',
        'dvk_update_handling_seconds_count{channel="telegram"} 3',
        'dvk_update_handling_seconds_sum{channel="telegram"} 12.73',
        'dvk_outbox_rows{channel="telegram",status="pending"} 2',
        "dvk_outbox_oldest_due_seconds 12.0",
        "dvk_outbox_sent_total 5",
        'dvk_outbox_send_errors_total{kind="transient"} 2',
        'dvk_outbox_send_errors_total{kind="failed"} 1',
        'dvk_outbox_send_errors_total{kind="unreachable"} 4',
        "dvk_outbox_retry_after_total 3",
        f'dvk_last_poll_timestamp_seconds{{channel="telegram"}} {wall.now!r}',
        "# TYPE dvk_update_handling_seconds histogram",
        "# TYPE dvk_outbox_rows gauge",
        "# TYPE dvk_updates_handled_total counter",
    ]:
        assert expected in lines, expected
    # Every sample line is "name{labels} number" (what Prometheus parses).
    sample = re.compile(
        r'^[a-z_]+(\{([a-z_]+="[^"]*",?)+\})? -?[0-9.e+]+$|^[a-z_]+\{.*le="\+Inf"\} \d+$'
    )
    for line in text.splitlines():
        assert line.startswith("# ") or sample.match(line), line


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_log_lines_carry_the_update_and_chat_and_never_the_token(
    core: Core, world: World
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    configure_handler(handler, Settings(telegram_bot_token=SecretStr(TOKEN), log_format="json"))
    logger = logging.getLogger("handlers.core")
    logger.addHandler(handler)
    original = core._handle

    async def logging_handle(session: AsyncSession, msg: IncomingMessage) -> list[Reply]:
        logging.getLogger("handlers.core").warning("inside, calling bot%s/getMe", TOKEN)
        return await original(session, msg)

    core._handle = logging_handle  # type: ignore[method-assign]
    handled: list[tuple[str, int, bool]] = []
    core.on_handled = lambda msg, replies, _s, failed: handled.append(
        (msg.update_id or "", len(replies), failed)
    )
    try:
        msg = IncomingMessage(
            channel="telegram", user_id="1001", chat_id="1001", text="/trogiup", update_id="77"
        )
        replies = await core.handle(msg)
        try:
            raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")
        except RuntimeError:
            logger.exception("outside any update")
    finally:
        logger.removeHandler(handler)
    assert handled == [("77", len(replies), False)]
    first, second = json_lines(stream)
    assert first["level"] == "WARNING"
    assert first["logger"] == "handlers.core"
    assert first["message"] == "inside, calling bot***/getMe"
    assert (first["channel"], first["chat"], first["update"]) == ("telegram", "1001", "77")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", first["time"])
    assert second["message"] == "outside any update"
    assert "***" in second["exc"]
    assert TOKEN not in stream.getvalue()


async def test_text_log_lines_name_the_context(core: Core, world: World) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s%(context)s: %(message)s"))
    configure_handler(handler, Settings(telegram_bot_token=SecretStr(TOKEN)))
    logger = logging.getLogger("test.context")
    logger.addHandler(handler)
    try:
        logger.warning("before")
        original = core._handle

        async def logging_handle(session: AsyncSession, msg: IncomingMessage) -> list[Reply]:
            logger.warning("inside")
            return await original(session, msg)

        core._handle = logging_handle  # type: ignore[method-assign]
        msg = IncomingMessage(channel="zalo", user_id="z", chat_id="z-9", text="hi", update_id="u1")
        await core.handle(msg)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == [
        "WARNING test.context: before",
        "WARNING test.context [zalo chat=z-9 update=u1]: inside",
    ]


async def test_a_polling_telegram_channel_notes_each_poll_answered(
    core: Core, world: World
) -> None:
    async with FakeTelegram() as tg, running_bot(tg, core) as bot:
        assert bot.channel.polled_at is None  # asked, not answered yet (a long poll)
        before = time.time()
        tg.send_text(1001, "/trogiup")
        await tg.wait_for_messages(1001, 1)
        polled = bot.channel.polled_at
        assert polled is not None
        assert before <= polled <= time.time()
