"""Telegram channel (aiogram 3): updates in, the core's replies out, the outbox's sender.

The only module that knows about aiogram. Options become inline keyboards whose callback
data is the engine's short ``<version>.<code>`` tag (well under 64 bytes); a stale or forged
button is recognised by the engine, which re-shows the current step.
"""

from __future__ import annotations

import asyncio
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

from bot.channel import Capabilities, Pace, Stopping, WebhookRoute, record_or_503
from bot.files import FileLinks
from bot.settings import DEFAULT_TELEGRAM_CONCURRENCY, Settings
from bot.telegram_polling import ALLOWED_UPDATES, poll_updates
from domain.keyed_lock import KeyedLock
from domain.messages import PRIVATE_ONLY, Attachment, IncomingMessage, Reply, split_text
from handlers.core import MENU, Core
from scheduler.pacing import Limits
from scheduler.senders import Rejected, RetryAfter, TransientError, Unreachable
from storage.evidence import too_large_text
from storage.inbox import Inbox

log = logging.getLogger(__name__)

CHANNEL = "telegram"
TEXT_LIMIT = 4096
WEBHOOK_PATH = "/webhook/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
CAPTION_LIMIT = 1024
MAX_TRIES = 5
# A 429 is waited out this many times before the reply is given up (Telegram says how long).
RETRY_AFTER_TRIES = 30
T = TypeVar("T")

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


def webhook_route(dispatch: Callable[[dict[str, Any]], Awaitable[None]]) -> WebhookRoute:
    """Telegram's webhook, its updates going to ``dispatch``: 200 once it has recorded the
    update, 503 (Telegram sends it again) when it could not."""

    async def handle(update: dict[str, Any]) -> web.Response:
        await record_or_503(lambda: dispatch(update), "Telegram")
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
        # Replies go out in the background, one chat's in order: an update's slot is free as
        # soon as the core has answered, whatever that chat's pace.
        self._reply_turns = KeyedLock()
        self._slowed: set[str] = set()  # chats whose 429 was logged (until a send succeeds)
        # Updates are recorded here before Telegram is told they arrived, deleted once handled.
        self.inbox = Inbox(core.sessionmaker, CHANNEL, core.clock)
        self._stopping = Stopping()

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
        await self.resume()

    async def resume(self) -> None:
        """Handle what an earlier process recorded and did not finish (oldest first)."""
        for update_id, data in await self.inbox.waiting():
            try:
                update = Update.model_validate(data, context={"bot": self.bot})
            except ValueError:
                await self.inbox.done(update_id)
                continue
            self._start(update)

    async def dispatch(self, data: dict[str, Any]) -> None:
        """An update from the webhook: recorded, then handled in the background."""
        try:
            update = Update.model_validate(data, context={"bot": self.bot})
        except ValueError:
            log.warning("a webhook update that is not a Telegram update was ignored")
            return
        await self.inbox.record([(str(update.update_id), data)])
        self._start(update)

    def _start(self, update: Update) -> None:
        task = asyncio.create_task(self._feed(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _feed(self, update: Update) -> None:
        try:
            async with self._slots:
                await self.dp.feed_update(self.bot, update)
        except Exception:
            log.exception("error while handling a Telegram update")
        await self.inbox.done(str(update.update_id))

    async def drain(self) -> None:
        """Wait for the updates in hand and the replies they give."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.inbox.flush()

    async def run_polling(self) -> None:
        """getUpdates until :meth:`stop_polling` (:func:`poll_updates`: each batch recorded
        in the inbox before the next call confirms it)."""
        self._stopping.clear()
        await self.setup()
        log.info("Telegram: polling (getUpdates)")
        await poll_updates(self.bot, self.inbox, self._start, self._room, self._stopping)

    async def _room(self) -> None:
        """Wait while many updates are in hand (taken, not yet handled)."""
        while len(self._tasks) >= self.concurrency * 4:
            await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)

    async def stop_polling(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        await self.bot.session.close()

    # --- updates in ------------------------------------------------------------

    async def on_message(self, message: Message, event_update: Update) -> None:
        if message.from_user is None or message.from_user.is_bot:
            return
        if message.chat.type != "private":
            self.reply(message.chat.id, [Reply(PRIVATE_ONLY)])
            return
        attachment = attachment_of(message)
        downloaded = None
        if attachment is not None and attachment.kind in ("photo", "document"):
            size = file_size_of(message)
            if size is not None and size > self.max_file_bytes:
                text = too_large_text(attachment.file_name, size, self.max_file_bytes)
                self.reply(message.chat.id, [Reply(text)])
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
            self.reply(message.chat.id, await self.core.handle(incoming))
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
        self.reply(chat.id, await self.core.handle(incoming))

    # --- replies out -----------------------------------------------------------

    def reply(self, chat_id: int | str, replies: list[Reply]) -> None:
        """Send ``replies`` in the background, after what this chat is already due."""
        if not replies:
            return
        task = asyncio.create_task(self._reply_in_turn(str(chat_id), chat_id, replies))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reply_in_turn(self, key: str, chat_id: int | str, replies: list[Reply]) -> None:
        try:
            async with self._reply_turns(key):
                await self.send(chat_id, replies)
        except Exception as err:
            log.warning("a reply to Telegram chat %s was not sent: %r", key, err)

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
                        ),
                        chat_id,
                    )
                    return
                except TelegramBadRequest:  # e.g. dimensions Telegram refuses for a photo
                    log.info("an image was refused as a photo; sent as a document")
            await self._call(
                lambda: self.bot.send_document(
                    chat_id, document, caption=caption, parse_mode="HTML", reply_markup=markup
                ),
                chat_id,
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
                ),
                chat_id,
            )

    async def _call(self, make: Callable[[], Awaitable[T]], chat_id: int | str | None = None) -> T:
        """One Bot API call (to ``chat_id``, keeping its interval) that waits out 429s (one
        warning per chat until a send succeeds) and retries network failures with backoff."""
        chat = None if chat_id is None else str(chat_id)
        delay = 0.5
        failures = refusals = 0
        while True:
            if self.pace is not None:
                await self.pace(chat)  # a slot of the bot's rate, shared with the broadcasts
            try:
                result = await make()
            except TelegramRetryAfter as err:
                refusals += 1
                if refusals == RETRY_AFTER_TRIES:
                    raise
                if (chat or "") not in self._slowed:
                    self._slowed.add(chat or "")
                    log.warning(
                        "Telegram asked to wait %ss before writing to chat %s; its replies wait",
                        err.retry_after,
                        chat or "(none)",
                    )
                await asyncio.sleep(err.retry_after)
                continue
            except (TelegramNetworkError, TelegramServerError):
                failures += 1
                if failures == MAX_TRIES:
                    raise
                await asyncio.sleep(delay)
                delay *= 2
                continue
            self._slowed.discard(chat or "")
            return result
