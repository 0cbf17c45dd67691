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
from bot.files import FileLinks
from bot.senders import make_deliverer
from bot.telegram import TelegramChannel
from bot.web import build_web_app
from bot.zalo import ZaloApi, ZaloChannel
from scheduler.delivery import Deliverer
from scheduler.planner import ReminderPlanner
from scheduler.slots import parse_days
from storage.db import open_connections

log = logging.getLogger(__name__)

NOTHING_CONFIGURED = (
    "Chưa cấu hình kênh nào. Đặt TELEGRAM_BOT_TOKEN (mã bot từ @BotFather) và/hoặc "
    "ZALO_BOT_TOKEN (mã bot từ Zalo Bot Creator) rồi chạy lại dvk run; "
    "hoặc thử ngay trong terminal: dvk chat\n"
)


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which."""


@dataclass
class Channels:
    telegram: TelegramChannel | None = None
    zalo: ZaloChannel | None = None
    files: FileLinks | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    web: web.AppRunner | None = None
    address: str | None = None
    deliverer: Deliverer | None = None
    planner: ReminderPlanner | None = None
    delivery: asyncio.Task[None] | None = None


def build_channels(app: App) -> Channels:
    settings = app.settings
    files = None
    if settings.public_base_url:
        files = FileLinks(
            Path(settings.files_dir),
            settings.derived_secret("links").encode(),
            settings.public_base_url,
            timedelta(hours=settings.file_link_hours),
        )
    channels = Channels(files=files)
    if settings.telegram_bot_token is not None:
        channels.telegram = TelegramChannel(
            app.core,
            settings.telegram_bot_token.get_secret_value(),
            settings.telegram_api_base,
            concurrency=settings.telegram_concurrency,
        )
    if settings.zalo_bot_token is not None:
        api = ZaloApi(settings.zalo_bot_token.get_secret_value(), settings.zalo_api_base)
        channels.zalo = ZaloChannel(
            app.core,
            api,
            files,
            photo_dir=Path(settings.files_dir) / "incoming" / "zalo",
            max_photo_bytes=int(settings.max_photo_mb * 1024 * 1024),
            clock=app.core.clock,
        )
    return channels


async def start(app: App, webhook: bool) -> Channels:
    """Start the channels (and the web server when webhooks or download links need it)."""
    settings = app.settings
    if settings.telegram_bot_token is None and settings.zalo_bot_token is None:
        raise ConfigError(NOTHING_CONFIGURED)
    if webhook and not settings.public_base_url:
        raise ConfigError(
            "Chế độ webhook cần PUBLIC_BASE_URL: địa chỉ https mà Telegram/Zalo gọi tới "
            "máy chủ này (ví dụ https://dvk.example.vn).\n"
        )
    # Before the first update: connections set up now, not while the first officers wait.
    await open_connections(app.engine, settings.telegram_concurrency)
    channels = build_channels(app)
    try:
        # Before the first update is taken: the hooks the core calls are in place by then.
        await start_reminders(app, channels)
        secret = settings.derived_secret("webhook")
        if webhook or channels.files is not None:
            web_app = build_web_app(
                secret, channels.telegram, channels.zalo, channels.files, clock=app.core.clock
            )
            channels.web = web.AppRunner(web_app, access_log=None)
            await channels.web.setup()
            site = web.TCPSite(channels.web, settings.web_host, settings.web_port)
            await site.start()
            channels.address = f"{settings.web_host}:{settings.web_port}"
        base = (settings.public_base_url or "").rstrip("/")
        if channels.telegram is not None:
            if webhook:
                await channels.telegram.setup(f"{base}/webhook/telegram", secret)
            else:
                telegram = channels.telegram
                channels.tasks.append(
                    asyncio.create_task(telegram.run_polling(handle_signals=False), name="telegram")
                )
        if channels.zalo is not None:
            if webhook:
                await channels.zalo.api.call(
                    "setWebhook", url=f"{base}/webhook/zalo", secret_token=secret
                )
            else:
                channels.tasks.append(asyncio.create_task(channels.zalo.run_polling(), name="zalo"))
    except BaseException:
        # A port in use, a refused webhook…: stop what did start before saying why.
        await stop(channels)
        raise
    return channels


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped: %r", task.get_name(), task.exception())


async def start_reminders(app: App, channels: Channels) -> None:
    """The outbox's senders and the reminder planner: what was left unsent by a previous
    run goes out now, missed reminder times within the grace window are caught up."""
    deliverer = make_deliverer(
        app.settings,
        app.sessionmaker,
        telegram_bot=channels.telegram.bot if channels.telegram is not None else None,
        zalo_api=channels.zalo.api if channels.zalo is not None else None,
    )
    channels.deliverer = deliverer
    # Replies to people take their slots of the same per-platform rate as the broadcasts.
    if channels.telegram is not None:
        channels.telegram.pace = functools.partial(deliverer.reserve, "telegram")
    if channels.zalo is not None:
        channels.zalo.pace = functools.partial(deliverer.reserve, "zalo")
    channels.delivery = asyncio.create_task(deliverer.run_forever(), name="delivery")
    channels.delivery.add_done_callback(_log_failure)
    settings = app.settings
    planner = ReminderPlanner(
        app.sessionmaker,
        timezone=settings.timezone,
        hour=settings.reminder_hour,
        days=parse_days(settings.reminder_days),
        grace_hours=settings.reminder_grace_hours,
        resync_seconds=settings.reminder_resync_seconds,
        quotas=app.core.quotas,
        clock=app.core.clock,
        on_enqueued=deliverer.wake,
    )
    channels.planner = planner
    app.core.on_deadlines_changed = planner.resync
    app.core.on_outbox = deliverer.wake
    await planner.start()


async def stop(channels: Channels) -> None:
    """Stop polling, finish the messages in hand, close every connection."""
    if channels.planner is not None:
        await channels.planner.stop()
    if channels.telegram is not None:
        with contextlib.suppress(RuntimeError):  # not polling (webhook mode)
            await channels.telegram.dp.stop_polling()
    if channels.zalo is not None:
        channels.zalo.stop()
    if channels.tasks:
        done = await asyncio.wait(channels.tasks, timeout=10)
        for task in done[1]:
            task.cancel()
    if channels.web is not None:
        await channels.web.cleanup()
    if channels.deliverer is not None:
        # Sends in flight finish and are recorded; unsent rows go back to the outbox.
        await channels.deliverer.stop()
    if channels.delivery is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(channels.delivery, 10)
    if channels.telegram is not None:
        await channels.telegram.drain()
        await channels.telegram.close()
    if channels.zalo is not None:
        await channels.zalo.drain()
        await channels.zalo.api.close()


def describe(channels: Channels, webhook: bool) -> str:
    mode = "webhook" if webhook else "polling"
    names = [n for n, c in (("Telegram", channels.telegram), ("Zalo", channels.zalo)) if c]
    lines = [f"Trợ lý đang chạy: {', '.join(names)} ({mode})."]
    if channels.address:
        lines.append(f"Máy chủ web: {channels.address} (/healthz, webhook, liên kết tải tệp).")
    if channels.zalo is not None and channels.files is None:
        lines.append("Chưa đặt PUBLIC_BASE_URL: tệp sẽ không gửi được qua Zalo.")
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
    channels = await start(app, webhook)
    try:
        out.write(describe(channels, webhook))
        out.flush()
        waiter = asyncio.create_task(stop_event.wait())
        await asyncio.wait([waiter, *channels.tasks], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        for task in channels.tasks:
            if task.done() and task.exception() is not None:
                log.error("a channel stopped: %r", task.exception())
    finally:
        await stop(channels)
        for sig in installed:
            loop.remove_signal_handler(sig)
        out.write("Đã dừng trợ lý.\n")
