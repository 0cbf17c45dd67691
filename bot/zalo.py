"""Zalo channel (Zalo Bot API over httpx): updates in, the core's replies out, the outbox's
sender.

Zalo has no buttons, keyboards, documents or edits: options are rendered as a numbered list
(the officer answers "2" or types the label), replies longer than 2,000 characters are split
on line boundaries and sent in order, and a file the core sends becomes a signed, expiring
download link on the bot's own web server (`bot/files.py`). Incoming photo URLs expire, so
photos are fetched at once.

httpx, not aiohttp, talks to Zalo: Zalo's edge answers with two ``Server`` headers, which
aiohttp's client rejects.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
from aiohttp import web

from bot.channel import Capabilities, Pace, Stopping, WebhookRoute, record_or_503
from bot.files import FileLinks
from bot.settings import Settings
from domain.messages import (
    PRIVATE_ONLY,
    Attachment,
    Document,
    IncomingMessage,
    Reply,
    render_plain,
    split_text,
)
from handlers.core import Core
from scheduler.pacing import Limits
from scheduler.senders import Rejected, RetryAfter, TransientError, Unreachable
from storage.evidence import too_large_text
from storage.inbox import Inbox

log = logging.getLogger(__name__)

CHANNEL = "zalo"
TEXT_LIMIT = 2000
WEBHOOK_PATH = "/webhook/zalo"
SECRET_HEADER = "X-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_TRIES = 5
# Pictures Zalo shows as photos (sendPhoto by URL); others go as download links.
PHOTO_TYPES = ("image/jpeg", "image/png")
POLL_TIMEOUT = 30
NO_FILE_LINKS = (
    "Tệp “{name}” chưa gửi được qua Zalo vì máy chủ của trợ lý chưa có địa chỉ công khai "
    "(PUBLIC_BASE_URL). Vui lòng báo cán bộ quản trị, hoặc lấy tệp trên Telegram."
)
PHOTO_FAILED = "Trợ lý chưa tải được ảnh này. Vui lòng gửi lại ảnh."


class PhotoTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class ZaloApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class ZaloApi:
    """The Bot API calls, with the ``{ok, result}`` envelope checked on every answer."""

    def __init__(self, token: str, base_url: str, client: httpx.AsyncClient | None = None) -> None:
        self._prefix = f"{base_url.rstrip('/')}/bot{token}"
        self.client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, read=POLL_TIMEOUT + 15)
        )

    async def call(self, method: str, **params: Any) -> Any:
        try:
            response = await self.client.post(f"{self._prefix}/{method}", json=params)
        except httpx.HTTPError as err:
            # The exception text may hold the URL, and the URL holds the token.
            raise ZaloApiError(0, f"network error ({type(err).__name__})") from None
        try:
            body = response.json()
        except ValueError:
            raise ZaloApiError(response.status_code, "not JSON") from None
        if not isinstance(body, dict):
            raise ZaloApiError(response.status_code, "unexpected answer")
        if body.get("ok") is not True:
            code = body.get("error_code") or response.status_code
            raise ZaloApiError(int(code), str(body.get("description") or ""))
        return body.get("result")

    async def get_updates(self, wait: int = POLL_TIMEOUT) -> dict[str, Any] | None:
        """One update, or None when nothing arrived within ``wait`` seconds (error 408)."""
        try:
            result = await self.call("getUpdates", timeout=wait)
        except ZaloApiError as err:
            if err.code == 408:
                return None
            raise
        return unwrap(result)

    async def close(self) -> None:
        await self.client.aclose()


def unwrap(body: Any) -> dict[str, Any] | None:
    """An update as sent by Zalo: bare, or wrapped as ``{ok, result}``."""
    if isinstance(body, dict) and "result" in body and "event_name" not in body:
        body = body["result"]
    if isinstance(body, list):  # some clients see a list of one
        body = body[0] if body else None
    if isinstance(body, dict) and isinstance(body.get("message"), dict):
        return body
    return None


@dataclass(frozen=True)
class Parsed:
    message: IncomingMessage
    private: bool
    photo_url: str | None


def parse_update(update: dict[str, Any]) -> Parsed | None:
    """The core's message for a Zalo update; None for what is not a person's message."""
    event = str(update.get("event_name") or "")
    message = update.get("message") or {}
    sender = message.get("from") or {}
    chat = message.get("chat") or {}
    if sender.get("is_bot") or not sender.get("id") or not chat.get("id"):
        return None
    text = message.get("text")
    photo_url = None
    attachment = None
    if event == "message.image.received" or message.get("photo_url") or message.get("photo"):
        photo_url = message.get("photo_url") or message.get("photo")
        attachment = Attachment("photo", url=photo_url)
        text = message.get("caption") or None
    elif event == "message.sticker.received":
        attachment = Attachment("sticker", file_id=str(message.get("sticker") or ""))
    elif event == "message.voice.received":
        attachment = Attachment("voice", url=message.get("url"))
    elif event != "message.text.received" and text is None:
        attachment = Attachment("other")
    message_id = message.get("message_id")
    incoming = IncomingMessage(
        channel=CHANNEL,
        user_id=str(sender["id"]),
        chat_id=str(chat["id"]),
        text=text if isinstance(text, str) else None,
        attachment=attachment,
        message_id=str(message_id) if message_id is not None else None,
        update_id=str(message_id) if message_id is not None else None,
        display_name=sender.get("display_name"),
    )
    private = str(chat.get("chat_type") or "PRIVATE").upper() == "PRIVATE"
    return Parsed(incoming, private, photo_url if isinstance(photo_url, str) else None)


def webhook_route(dispatch: Callable[[dict[str, Any]], Awaitable[None]]) -> WebhookRoute:
    """Zalo's webhook, its updates (bare or wrapped) going to ``dispatch``: 200 once it has
    recorded the update, 503 when it could not."""

    async def handle(update: dict[str, Any]) -> web.Response:
        await record_or_503(lambda: dispatch(update), "Zalo")
        return web.json_response({"ok": True})

    return WebhookRoute(CHANNEL, WEBHOOK_PATH, SECRET_HEADER, handle)


class ZaloSender:
    """The outbox's sendMessage through :class:`ZaloApi`. Zalo's 429 says no retry_after:
    ``retry_after`` seconds are waited (``ZALO_RETRY_AFTER``)."""

    def __init__(self, api: ZaloApi, retry_after: float = 5.0) -> None:
        self.api = api
        self.retry_after = retry_after

    async def send(self, chat_id: str, text: str) -> None:
        try:
            await self.api.call("sendMessage", chat_id=chat_id, text=text)
        except ZaloApiError as err:
            if err.code == 429:
                raise RetryAfter(self.retry_after) from None
            if err.code == 403:
                raise Unreachable(err.description or "403 Forbidden") from None
            if err.code == 400:
                raise Rejected(str(err)) from None
            raise TransientError(str(err)) from None  # 0: network error; 5xx; anything else


class ZaloChannel:
    name: ClassVar[str] = CHANNEL
    label: ClassVar[str] = "Zalo"
    capabilities: ClassVar[Capabilities] = Capabilities(
        buttons=False, documents=False, photos=False, text_limit=TEXT_LIMIT, writes_first=True
    )
    setting_hint: ClassVar[str] = "ZALO_BOT_TOKEN (mã bot từ Zalo Bot Creator)"

    def __init__(
        self,
        core: Core,
        api: ZaloApi,
        files: FileLinks | None = None,
        photo_dir: Path = Path("dvk-files") / "incoming",
        max_photo_bytes: int = 10 * 1024 * 1024,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.core = core
        self.api = api
        self.files = files
        self.photo_dir = photo_dir
        # Set by `dvk run`: waits for a slot of the platform's rate that reminders share.
        self.pace: Pace | None = None
        self.polled_at: float | None = None  # time.time() of the last getUpdates answered
        self.max_photo_bytes = max_photo_bytes
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = Stopping()
        # Updates are recorded here as soon as they arrive, deleted once handled.
        self.inbox = Inbox(core.sessionmaker, CHANNEL, clock)

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return settings.zalo_bot_token is not None

    @classmethod
    def from_settings(
        cls, settings: Settings, core: Core, files: FileLinks | None = None
    ) -> ZaloChannel:
        token = settings.zalo_bot_token
        if token is None:
            raise ValueError("ZALO_BOT_TOKEN is not set")
        return cls(
            core,
            ZaloApi(token.get_secret_value(), settings.zalo_api_base),
            files,
            photo_dir=Path(settings.files_dir) / "incoming" / CHANNEL,
            max_photo_bytes=int(settings.max_photo_mb * 1024 * 1024),
            clock=core.clock,
        )

    @property
    def webhook(self) -> WebhookRoute:
        return webhook_route(self.dispatch)

    def outbox_sender(self, settings: Settings) -> ZaloSender:
        return ZaloSender(self.api, retry_after=settings.zalo_retry_after)

    def outbox_limits(self, settings: Settings) -> Limits:
        return Limits(
            rate_per_second=settings.zalo_rate_per_second,
            chat_interval=settings.zalo_chat_interval,
            text_limit=self.capabilities.text_limit,
        )

    async def setup(self, webhook_url: str | None = None, secret: str | None = None) -> None:
        """The webhook set (webhook mode) or deleted (polling)."""
        if webhook_url is None:
            await self.api.call("deleteWebhook")
        else:
            await self.api.call("setWebhook", url=webhook_url, secret_token=secret)
        await self.resume()

    async def resume(self) -> None:
        """Handle what an earlier process recorded and did not finish (oldest first)."""
        for update_id, update in await self.inbox.waiting():
            self._start(update_id, update)

    async def close(self) -> None:
        await self.api.close()

    # --- updates in ------------------------------------------------------------

    async def run_polling(self) -> None:
        """Long-poll until ``stop()``; a failing API is retried with a growing pause."""
        await self.setup()
        delay = 1.0
        while not self._stopping.is_set():
            poll = asyncio.ensure_future(self.api.get_updates())
            if not await self._stopping.outwait(poll):
                break
            try:
                update = poll.result()
            except ZaloApiError as err:
                log.warning("Zalo getUpdates failed (%s); retrying in %.0fs", err, delay)
                await self._stopping.pause(delay)
                delay = min(delay * 2, 60.0)
                continue
            self.polled_at = time.time()
            if update is None:
                delay = 1.0
                continue
            try:
                await self.dispatch(update)
            except Exception as err:
                log.warning("a Zalo update could not be recorded: %r", err)
                await self._stopping.pause(delay)
                delay = min(delay * 2, 60.0)
                continue
            delay = 1.0
        await self.drain()

    def stop(self) -> None:
        self._stopping.set()

    async def stop_polling(self) -> None:
        self.stop()

    async def dispatch(self, update: dict[str, Any]) -> None:
        """Record an update in the inbox, then handle it in the background. Zalo counts an
        update delivered once it has answered with it: it is recorded before the next one is
        asked for (or the webhook answered)."""
        found = unwrap(update)
        if found is None:  # not a message: nothing to handle
            return
        message_id = found["message"].get("message_id")
        update_id = str(message_id) if message_id is not None else secrets.token_hex(8)
        await self.inbox.record([(update_id, found)])
        self._start(update_id, found)

    def _start(self, update_id: str, update: dict[str, Any]) -> None:
        task = asyncio.create_task(self._handle_recorded(update_id, update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle_recorded(self, update_id: str, update: dict[str, Any]) -> None:
        await self.handle_update(update)
        await self.inbox.done(update_id)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.inbox.flush()

    async def handle_update(self, update: dict[str, Any]) -> None:
        try:
            parsed = parse_update(update)
            if parsed is None:
                return
            msg = parsed.message
            if not parsed.private:
                await self.send(msg.chat_id, msg.user_id, [Reply(PRIVATE_ONLY)])
                return
            path: Path | None = None
            if parsed.photo_url is not None:
                try:
                    path = await self.fetch_photo(parsed.photo_url)
                except PhotoTooLarge as err:
                    text = too_large_text(None, err.size, self.max_photo_bytes)
                    await self.send(msg.chat_id, msg.user_id, [Reply(text)])
                    return
                if path is None:
                    await self.send(msg.chat_id, msg.user_id, [Reply(PHOTO_FAILED)])
                    return
                attachment = Attachment("photo", url=parsed.photo_url, path=str(path))
                msg = replace(msg, attachment=attachment)
            try:
                replies = await self.core.handle(msg)
            finally:
                if path is not None:  # the core keeps its own copy of what it accepted
                    path.unlink(missing_ok=True)
            await self.send(msg.chat_id, msg.user_id, replies)
        except Exception:
            log.exception("error while handling a Zalo update")

    async def fetch_photo(self, url: str) -> Path | None:
        """Download a photo at once (Zalo's URLs expire); None if it cannot be had;
        :class:`PhotoTooLarge` past ``max_photo_bytes``."""
        try:
            async with self.api.client.stream("GET", url) as response:
                if response.status_code != 200:
                    log.warning("Zalo photo download answered %s", response.status_code)
                    return None
                content = bytearray()
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > self.max_photo_bytes:
                        log.warning("Zalo photo larger than %d bytes refused", self.max_photo_bytes)
                        declared = response.headers.get("content-length", "")
                        size = int(declared) if declared.isdigit() else len(content)
                        raise PhotoTooLarge(size)
        except httpx.HTTPError as err:
            log.warning("Zalo photo download failed: %s", type(err).__name__)
            return None
        self.photo_dir.mkdir(parents=True, exist_ok=True)
        path = self.photo_dir / f"{secrets.token_urlsafe(12)}.jpg"
        path.write_bytes(bytes(content))
        return path

    # --- replies out -----------------------------------------------------------

    async def send(self, chat_id: str, user_id: str, replies: list[Reply]) -> None:
        for reply in replies:
            text = render_plain(reply)
            try:
                if self._as_photo(reply):
                    assert reply.document is not None
                    if await self.send_photo(chat_id, user_id, reply.document, text):
                        continue
                text = self._with_link(reply, user_id, text)
                for part in split_text(text, TEXT_LIMIT):
                    await self.send_text(chat_id, part)
            except ZaloApiError as err:
                if err.code == 403:
                    log.info("Zalo chat %s cannot be reached; reply dropped", chat_id)
                    return
                log.error("Zalo sendMessage failed: %s", err)
                return

    def _as_photo(self, reply: Reply) -> bool:
        return (
            reply.photo
            and self.files is not None
            and reply.document is not None
            and reply.document.mime_type in PHOTO_TYPES
        )

    def _with_link(self, reply: Reply, user_id: str, text: str) -> str:
        """The text with the document's personal download link (or why there is none)."""
        if reply.document is None:
            return text
        if self.files is None:
            return text + "\n\n" + NO_FILE_LINKS.format(name=reply.document.file_name)
        url = self.files.publish(reply.document, CHANNEL, user_id, self.clock())
        hours = round(self.files.ttl.total_seconds() / 3600)
        return text + (
            f"\n\nTải tệp {reply.document.file_name} (hiệu lực {hours} giờ, "
            f"chỉ dành cho đồng chí):\n{url}"
        )

    async def send_photo(self, chat_id: str, user_id: str, document: Document, text: str) -> bool:
        """sendPhoto with the picture's signed link (Zalo fetches it from the bot's web
        server) and the text as its caption, or before it when longer than a caption. False
        when Zalo refuses the photo (400): the caller sends the link instead."""
        assert self.files is not None
        url = self.files.publish(document, CHANNEL, user_id, self.clock())
        caption = text
        if len(text) > TEXT_LIMIT:
            for part in split_text(text, TEXT_LIMIT):
                await self.send_text(chat_id, part)
            caption = ""
        params = {"chat_id": chat_id, "photo": url, **({"caption": caption} if caption else {})}
        try:
            await self._call("sendPhoto", params)
        except ZaloApiError as err:
            if err.code != 400:
                raise
            log.info("Zalo refused a photo (%s); sent as a link", err)
            return False
        return True

    async def send_text(self, chat_id: str, text: str) -> None:
        """sendMessage, waiting out 429 (quota) and retrying network and server errors."""
        await self._call("sendMessage", {"chat_id": chat_id, "text": text})

    async def _call(self, method: str, params: dict[str, Any]) -> None:
        """One sending call of the Bot API, waiting out 429 (quota) and retrying network and
        server errors."""
        delay = 1.0
        for attempt in range(1, MAX_TRIES + 1):
            if self.pace is not None:
                # A slot of the bot's rate, and the chat's interval.
                await self.pace(params.get("chat_id"))
            try:
                await self.api.call(method, **params)
                return
            except ZaloApiError as err:
                retry = err.code in (0, 429) or err.code >= 500
                if not retry or attempt == MAX_TRIES:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
