"""`dvk run`: every configured channel in one process, by polling or by webhook."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from aiohttp import web

from bot.app import App
from bot.channel import Channel
from bot.desk import Desk
from bot.files import FileLinks
from bot.monitor import Monitor
from bot.senders import make_deliverer
from bot.settings import Settings
from bot.telegram import TelegramChannel
from bot.web import build_web_app
from bot.zalo import ZaloChannel
from handlers.core import Core
from scheduler.delivery import Deliverer
from scheduler.planner import ReminderPlanner
from scheduler.slots import parse_days
from scheduler.turns import SharedTurns
from storage.db import open_connections

log = logging.getLogger(__name__)

# Every channel `dvk run` knows, in the order they start. A new channel: a module in bot/
# implementing bot.channel.Channel, and its class here.
CHANNELS: tuple[type[Channel], ...] = (TelegramChannel, ZaloChannel)


def nothing_configured() -> str:
    *rest, last = [kind.setting_hint for kind in CHANNELS]
    hints = f"{', '.join(rest)} và/hoặc {last}" if rest else last
    return (
        f"Chưa cấu hình kênh nào. Đặt {hints} rồi chạy lại dvk run; "
        "hoặc thử ngay trong terminal: dvk chat\n"
    )


def writing_first() -> dict[str, str]:
    """The channels that reach a person on their own (reminders, digests): name → label."""
    return {kind.name: kind.label for kind in CHANNELS if kind.capabilities.writes_first}


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which."""


@dataclass
class Running:
    channels: list[Channel] = field(default_factory=list)
    files: FileLinks | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    web: web.AppRunner | None = None
    address: str | None = None
    deliverer: Deliverer | None = None
    planner: ReminderPlanner | None = None
    delivery: asyncio.Task[None] | None = None
    monitor: Monitor | None = None


def file_links(settings: Settings) -> FileLinks | None:
    """Download links of the bot's web server, when the internet can reach it."""
    if not settings.public_base_url:
        return None
    return FileLinks(
        Path(settings.files_dir),
        settings.derived_secret("links").encode(),
        settings.public_base_url,
        timedelta(hours=settings.file_link_hours),
    )


def desk_of(settings: Settings, app: App) -> Desk | None:
    """The leaders' web page (/web), when the internet can reach the server."""
    if not settings.public_base_url:
        return None
    secure = settings.public_base_url.startswith("https://")
    return Desk(app.core, settings.derived_secret("links").encode(), secure)


def build_channels(settings: Settings, core: Core, files: FileLinks | None) -> list[Channel]:
    """The configured channels, built once from the settings."""
    return [
        kind.from_settings(settings, core, files) for kind in CHANNELS if kind.configured(settings)
    ]


async def start(app: App, webhook: bool) -> Running:
    """Start the channels (and the web server when webhooks or download links need it)."""
    settings = app.settings
    if not any(kind.configured(settings) for kind in CHANNELS):
        raise ConfigError(nothing_configured())
    if webhook and not settings.public_base_url:
        platforms = "/".join(kind.label for kind in CHANNELS)
        raise ConfigError(
            f"Chế độ webhook cần PUBLIC_BASE_URL: địa chỉ https mà {platforms} gọi tới "
            "máy chủ này (ví dụ https://dvk.example.vn).\n"
        )
    # Before the first update: connections set up now, not while the first officers wait.
    await open_connections(app.engine, settings.telegram_concurrency)
    files = file_links(settings)
    running = Running(build_channels(settings, app.core, files), files)
    try:
        # Before the first update is taken: the hooks the core calls are in place by then.
        await start_reminders(app, running)
        secret = settings.derived_secret("webhook")
        monitor = Monitor(
            app.engine,
            app.sessionmaker,
            running.channels,
            webhook=webhook,
            poll_seconds=settings.health_poll_seconds,
            stats=running.deliverer.stats if running.deliverer is not None else None,
            now=app.core.clock,
        )
        running.monitor = monitor
        app.core.on_handled = monitor.on_handled
        if webhook or running.files is not None:
            routes = [monitor.watch(channel.webhook) for channel in running.channels]
            web_app = build_web_app(
                secret,
                routes,
                running.files,
                clock=app.core.clock,
                desk=desk_of(settings, app),
                monitor=monitor,
            )
            running.web = web.AppRunner(web_app, access_log=None)
            await running.web.setup()
            site = web.TCPSite(running.web, settings.web_host, settings.web_port)
            await site.start()
            running.address = f"{settings.web_host}:{settings.web_port}"
        base = (settings.public_base_url or "").rstrip("/")
        for channel in running.channels:
            if webhook:
                await channel.setup(f"{base}{channel.webhook.path}", secret)
            else:
                task = asyncio.create_task(channel.run_polling(), name=channel.name)
                running.tasks.append(task)
    except BaseException:
        # A port in use, a refused webhook…: stop what did start before saying why.
        await stop(running)
        raise
    return running


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped: %r", task.get_name(), task.exception())


async def start_reminders(app: App, running: Running) -> None:
    """The outbox's senders and the reminder planner: what was left unsent by a previous
    run goes out now, missed reminder times within the grace window are caught up."""
    deliverer = make_deliverer(app.settings, app.sessionmaker, running.channels)
    running.deliverer = deliverer
    # Replies to people take their slots of the same per-platform rate as the broadcasts.
    for channel in running.channels:
        channel.pace = functools.partial(deliverer.reserve, channel.name)
    running.delivery = asyncio.create_task(deliverer.run_forever(), name="delivery")
    running.delivery.add_done_callback(_log_failure)
    settings = app.settings
    planner = ReminderPlanner(
        app.sessionmaker,
        channels=writing_first(),
        timezone=settings.timezone,
        hour=settings.reminder_hour,
        days=parse_days(settings.reminder_days),
        grace_hours=settings.reminder_grace_hours,
        resync_seconds=settings.reminder_resync_seconds,
        quotas=app.core.quotas,
        clock=app.core.clock,
        on_enqueued=deliverer.wake,
    )
    running.planner = planner
    app.core.on_deadlines_changed = planner.resync
    app.core.on_outbox = deliverer.wake
    await planner.start()


async def stop(running: Running) -> None:
    """Stop polling, finish the messages in hand, close every connection."""
    if running.planner is not None:
        await running.planner.stop()
    for channel in running.channels:
        await channel.stop_polling()
    if running.tasks:
        done = await asyncio.wait(running.tasks, timeout=10)
        for task in done[1]:
            task.cancel()
    if running.web is not None:
        await running.web.cleanup()
    if running.deliverer is not None:
        # Sends in flight finish and are recorded; unsent rows go back to the outbox.
        await running.deliverer.stop()
    if running.delivery is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(running.delivery, 10)
    if running.deliverer is not None and isinstance(running.deliverer.turns, SharedTurns):
        await running.deliverer.turns.close()
    for channel in running.channels:
        await channel.drain()
        await channel.close()


def describe(running: Running, webhook: bool) -> str:
    mode = "webhook" if webhook else "polling"
    names = [channel.label for channel in running.channels]
    lines = [f"Trợ lý đang chạy: {', '.join(names)} ({mode})."]
    if running.address:
        lines.append(
            f"Máy chủ web: {running.address} (/healthz, /metrics, webhook, liên kết tải tệp, "
            "trang tổng hợp /desk)."
        )
    if running.files is None:
        for channel in running.channels:
            if not channel.capabilities.documents:  # files go as download links
                lines.append(
                    f"Chưa đặt PUBLIC_BASE_URL: tệp sẽ không gửi được qua {channel.label}."
                )
    lines.append("Dừng bằng Ctrl-C.")
    return "\n".join(lines) + "\n"


async def run(
    app: App, webhook: bool, out: TextIO, stop_event: asyncio.Event | None = None
) -> None:
    """Run until SIGINT/SIGTERM (or ``stop_event``), then stop cleanly."""
    stop_event = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop_event.set)
            installed.append(sig)
    running = await start(app, webhook)
    try:
        out.write(describe(running, webhook))
        out.flush()
        waiter = asyncio.create_task(stop_event.wait())
        await asyncio.wait([waiter, *running.tasks], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        for task in running.tasks:
            if task.done() and task.exception() is not None:
                log.error("a channel stopped: %r", task.exception())
    finally:
        await stop(running)
        for sig in installed:
            loop.remove_signal_handler(sig)
        out.write("Đã dừng trợ lý.\n")
