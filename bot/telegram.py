"""Telegram channel (aiogram 3): updates in, the core's replies out, the outbox's sender.

The only module that knows about aiogram. Options become inline keyboards whose callback
data is the engine's short ``<version>.<code>`` tag (well under 64 bytes); a stale or forged
button is recognised by the engine, which re-shows the current step.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from aiohttp import web

from bot.channel import Capabilities, Pace, WebhookRoute
from bot.files import FileLinks
from bot.settings import DEFAULT_TELEGRAM_CONCURRENCY, Settings
from domain.messages import PRIVATE_ONLY, Attachment, IncomingMessage, Reply, split_text
from handlers.core import MENU, Core
from scheduler.pacing import Limits
from scheduler.senders import Rejected, RetryAfter, TransientError, Unreachable
from storage.evidence import too_large_text

log = logging.getLogger(__name__)

CHANNEL = "telegram"
TEXT_LIMIT = 4096
WEBHOOK_PATH = "/webhook/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
CAPTION_LIMIT = 1024
MAX_TRIES = 5
T = TypeVar("T")

ALLOWED_UPDATES = ["message", "callback_query"]
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
MAX_SEND_PHOTO = 10 * 1024 * 1024  # larger images go as documents
_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.options and not reply.nav:
        return None
    rows = [[InlineKeyboardButton(text=o.label, callback_data=o.data)] for o in reply.options]
    if reply.nav:
        rows.append([InlineKeyboardButton(text=o.label, callback_data=o.data) for o in reply.nav])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def attachment_of(message: Message) -> Attachment | None:
    if message.photo:
        return Attachment("photo", file_id=message.photo[-1].file_id)
    if message.document:
        return Attachment(
            "document", file_id=message.document.file_id, file_name=message.document.file_name
        )
    if message.sticker:
        return Attachment("sticker", file_id=message.sticker.file_id)
    if message.voice:
        return Attachment("voice", file_id=message.voice.file_id)
    if message.text is None:
        return Attachment("other")
    return None


def file_size_of(message: Message) -> int | None:
    if message.photo:
        return message.photo[-1].file_size
    if message.document:
        return message.document.file_size
    return None


def webhook_route(dispatch: Callable[[dict[str, Any]], None]) -> WebhookRoute:
    """Telegram's webhook, its updates going to ``dispatch``."""

    def handle(update: dict[str, Any]) -> web.Response:
        dispatch(update)
        return web.Response(text="ok")

    return WebhookRoute(CHANNEL, WEBHOOK_PATH, SECRET_HEADER, handle)


class TelegramSender:
    """The outbox's sendMessage through an aiogram ``Bot``, as HTML with the text escaped
    (like the replies: what the text says is shown as written)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, text: str) -> None:
        target: int | str = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id
        try:
            await self.bot.send_message(target, html.escape(text, quote=False), parse_mode="HTML")
        except TelegramRetryAfter as err:
            raise RetryAfter(err.retry_after) from None
        except TelegramForbiddenError as err:  # "bot was blocked by the user", deactivated
            raise Unreachable(err.message) from None
        except TelegramBadRequest as err:
            if "chat not found" in err.message.lower():  # never started the bot, or gone
                raise Unreachable(err.message) from None
            raise Rejected(err.message) from None
        except TelegramEntityTooLarge as err:
            raise Rejected(err.message) from None
        except AiogramError as err:  # network errors, 5xx, undecodable answers, …
            raise TransientError(f"{type(err).__name__}: {err}") from None


class TelegramChannel:
    name: ClassVar[str] = CHANNEL
    label: ClassVar[str] = "Telegram"
    capabilities: ClassVar[Capabilities] = Capabilities(
        buttons=True, documents=True, photos=True, text_limit=TEXT_LIMIT, writes_first=True
    )
    setting_hint: ClassVar[str] = "TELEGRAM_BOT_TOKEN (mã bot từ @BotFather)"

    def __init__(
        self,
        core: Core,
        token: str,
        api_base: str = "https://api.telegram.org",
        incoming_dir: Path | None = None,
        max_file_bytes: int | None = None,
        concurrency: int = DEFAULT_TELEGRAM_CONCURRENCY,
    ) -> None:
        self.core = core
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        # Photos and files are downloaded before the core sees them (evidence is kept as a
        # file under FILES_DIR); the copy here is removed once the message is handled.
        self.incoming_dir = incoming_dir or core.files_dir / "incoming" / "telegram"
        self.max_file_bytes = max_file_bytes or core.files.max_bytes
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
        self.bot = Bot(token, session=session)
        self.polled_at: float | None = None  # time.time() of the last getUpdates answered
        session.middleware(self._note_poll)
        # Set by `dvk run`: waits for a slot of the platform's rate that reminders share.
        self.pace: Pace | None = None
        self.dp = Dispatcher()
        router = Router(name="dvk")
        router.message.register(self.on_message)
        router.callback_query.register(self.on_callback)
        self.dp.include_router(router)
        self._tasks: set[asyncio.Task[Any]] = set()

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return settings.telegram_bot_token is not None

    async def _note_poll(
        self, make_request: NextRequestMiddlewareType[T], bot: Bot, method: TelegramMethod[T]
    ) -> Response[T]:
        result = await make_request(bot, method)
        if isinstance(method, GetUpdates):
            self.polled_at = time.time()
        return result

    @classmethod
    def from_settings(
        cls, settings: Settings, core: Core, files: FileLinks | None = None
    ) -> TelegramChannel:
        token = settings.telegram_bot_token
        if token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        return cls(
            core,
            token.get_secret_value(),
            settings.telegram_api_base,
            concurrency=settings.telegram_concurrency,
        )

    @property
    def webhook(self) -> WebhookRoute:
        return webhook_route(self.dispatch)

    def outbox_sender(self, settings: Settings) -> TelegramSender:
        return TelegramSender(self.bot)

    def outbox_limits(self, settings: Settings) -> Limits:
        return Limits(
            rate_per_second=settings.telegram_rate_per_second,
            chat_interval=settings.telegram_chat_interval,
            text_limit=self.capabilities.text_limit,
        )

    async def setup(self, webhook_url: str | None = None, secret: str | None = None) -> None:
        """The Vietnamese command menu; the webhook set (webhook mode) or deleted (polling)."""
        if webhook_url is None:
            await self._call(lambda: self.bot.delete_webhook(drop_pending_updates=False))
        else:
            await self._call(
                lambda: self.bot.set_webhook(
                    webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
                )
            )
        commands = [BotCommand(command=name, description=desc) for name, desc in MENU]
        await self._call(lambda: self.bot.set_my_commands(commands))

    def dispatch(self, data: dict[str, Any]) -> None:
        """An update from the webhook, handled in the background."""
        try:
            update = Update.model_validate(data, context={"bot": self.bot})
        except ValueError:
            log.warning("a webhook update that is not a Telegram update was ignored")
            return
        task = asyncio.create_task(self._feed(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _feed(self, update: Update) -> None:
        async with self._slots:
            await self.dp.feed_update(self.bot, update)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def run_polling(self, handle_signals: bool = False) -> None:
        await self.setup()
        await self.dp.start_polling(
            self.bot,
            handle_signals=handle_signals,
            allowed_updates=ALLOWED_UPDATES,
            tasks_concurrency_limit=self.concurrency,
        )

    async def stop_polling(self) -> None:
        with contextlib.suppress(RuntimeError):  # not polling (webhook mode)
            await self.dp.stop_polling()

    async def close(self) -> None:
        await self.bot.session.close()

    # --- updates in ------------------------------------------------------------

    async def on_message(self, message: Message, event_update: Update) -> None:
        if message.from_user is None or message.from_user.is_bot:
            return
        if message.chat.type != "private":
            await self.send(message.chat.id, [Reply(PRIVATE_ONLY)])
            return
        attachment = attachment_of(message)
        downloaded = None
        if attachment is not None and attachment.kind in ("photo", "document"):
            size = file_size_of(message)
            if size is not None and size > self.max_file_bytes:
                text = too_large_text(attachment.file_name, size, self.max_file_bytes)
                await self.send(message.chat.id, [Reply(text)])
                return
            downloaded = await self.fetch(attachment)
            if downloaded is not None:
                attachment = replace(attachment, path=str(downloaded))
        incoming = IncomingMessage(
            channel=CHANNEL,
            user_id=str(message.from_user.id),
            chat_id=str(message.chat.id),
            text=message.text if message.text is not None else message.caption,
            attachment=attachment,
            message_id=str(message.message_id),
            update_id=str(event_update.update_id),
            display_name=message.from_user.full_name,
        )
        try:
            await self.send(message.chat.id, await self.core.handle(incoming))
        finally:
            if downloaded is not None:
                downloaded.unlink(missing_ok=True)

    async def fetch(self, attachment: Attachment) -> Path | None:
        """Download a photo or file the person sent (getFile); None if it cannot be had."""
        if not attachment.file_id:
            return None
        suffix = Path(attachment.file_name or "").suffix
        if attachment.kind == "photo":
            suffix = ".jpg"
        elif not _SUFFIX.match(suffix):
            suffix = ""
        self.incoming_dir.mkdir(parents=True, exist_ok=True)
        path = self.incoming_dir / f"{secrets.token_urlsafe(12)}{suffix}"
        file_id = attachment.file_id
        try:
            await self._call(lambda: self.bot.download(file_id, destination=path))
        except Exception as err:  # any failure: the core says the file did not arrive
            log.warning("Telegram file download failed: %s", type(err).__name__)
            path.unlink(missing_ok=True)
            return None
        return path

    async def on_callback(self, query: CallbackQuery, event_update: Update) -> None:
        # Stop the spinner on the button at once, whatever happens next.
        try:
            await self.bot.answer_callback_query(query.id)
        except (TelegramNetworkError, TelegramRetryAfter, TelegramServerError):
            log.warning("could not answer a callback query")
        chat = query.message.chat if query.message is not None else None
        if chat is None or chat.type != "private":
            return
        incoming = IncomingMessage(
            channel=CHANNEL,
            user_id=str(query.from_user.id),
            chat_id=str(chat.id),
            choice=query.data or "",
            message_id=str(query.message.message_id) if query.message else None,
            update_id=str(event_update.update_id),
            display_name=query.from_user.full_name,
        )
        await self.send(chat.id, await self.core.handle(incoming))

    # --- replies out -----------------------------------------------------------

    async def send(self, chat_id: int | str, replies: list[Reply]) -> None:
        for reply in replies:
            try:
                await self.send_one(chat_id, reply)
            except TelegramForbiddenError:
                log.info("chat %s blocked the bot; reply dropped", chat_id)
                return

    async def send_one(self, chat_id: int | str, reply: Reply) -> None:
        markup = keyboard(reply)
        if reply.document is not None:
            document = BufferedInputFile(reply.document.content, filename=reply.document.file_name)
            caption = html.escape(reply.text[:CAPTION_LIMIT], quote=False) or None
            if (
                reply.document.mime_type in PHOTO_TYPES
                and len(reply.document.content) <= MAX_SEND_PHOTO
            ):
                try:
                    await self._call(
                        lambda: self.bot.send_photo(
                            chat_id,
                            document,
                            caption=caption,
                            parse_mode="HTML",
                            reply_markup=markup,
                        )
                    )
                    return
                except TelegramBadRequest:  # e.g. dimensions Telegram refuses for a photo
                    log.info("an image was refused as a photo; sent as a document")
            await self._call(
                lambda: self.bot.send_document(
                    chat_id, document, caption=caption, parse_mode="HTML", reply_markup=markup
                )
            )
            return
        # HTML with every text escaped: what an officer typed ("<", "&") is shown as typed.
        # Split first, then escape: Telegram counts the limit after parsing entities, and an
        # entity is never cut in two.
        parts = [html.escape(p, quote=False) for p in split_text(reply.text, TEXT_LIMIT)]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            await self._call(
                lambda part=part, last=last: self.bot.send_message(  # type: ignore[misc]
                    chat_id, part, parse_mode="HTML", reply_markup=markup if last else None
                )
            )

    async def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        """One Bot API call that waits out 429s and retries network failures with backoff."""
        delay = 0.5
        for attempt in range(1, MAX_TRIES + 1):
            if self.pace is not None:
                await self.pace()  # a slot of the bot's rate, shared with the broadcasts
            try:
                return await make()
            except TelegramRetryAfter as err:
                if attempt == MAX_TRIES:
                    raise
                await asyncio.sleep(err.retry_after)
            except (TelegramNetworkError, TelegramServerError):
                if attempt == MAX_TRIES:
                    raise
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")
