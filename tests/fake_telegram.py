"""A fake Telegram Bot API server for end-to-end tests.

The server runs inside the test's event loop on ``127.0.0.1`` (a free port) and speaks just
enough of the Bot API for a real :class:`aiogram.Bot` to talk to it::

    async with FakeTelegram() as tg:
        bot = tg.create_bot()  # Bot(tg.token, session=AiohttpSession(api=tg.api_server))
        tg.send_text(111, "/start")
        [reply] = await tg.wait_for_messages(111, 1)

Nothing reaches the real Telegram.  Behaviour mirrors the real server where it matters for
bot code: updates stay queued until confirmed with ``offset``, ``getUpdates`` long-polls,
results are shaped like Telegram's objects (aiogram validates them with pydantic) and the
common ``400 Bad Request`` cases are reproduced (empty/too long text, HTML that Telegram
cannot parse, ``callback_data`` over 64 bytes, "message is not modified", ...).

How aiogram sends requests (``AiohttpSession.build_form_data``): always ``POST``; every
parameter is a form field; strings are sent as-is, everything else (ints, bools, dicts,
lists) JSON-encoded, ``None``/empty-string parameters are omitted.  Without files the body
is ``application/x-www-form-urlencoded``; with an upload it is ``multipart/form-data`` and
the file parameter holds ``attach://<random key>`` pointing at the file part.  A string
field therefore cannot be told apart from a JSON scalar by looking at it, so this server
decodes by parameter name (see ``_STRING_FIELDS``).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, NamedTuple

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from tests.fake_server import FakeServer, JSONDict

# Parameters that are strings in the Bot API: never JSON-decoded ("123" stays "123").
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "url",
        "secret_token",
        "ip_address",
        "language_code",
        "action",
        "file_id",
        "document",
        "photo",
        "thumbnail",
        "certificate",
        "title",
        "description",
        "short_description",
        "name",
        "emoji",
        "query",
    }
)
# Parameters that are JSON-serialized objects (may arrive as strings even in a JSON body).
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)
# Tags Telegram accepts with parse_mode=HTML.
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
# Methods that send a message: flood control (enforce_limits, inject_429) applies to them.
_SEND_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto"})
_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_DEFAULT_NAME = "Cán bộ"


class LocalAiohttpSession(AiohttpSession):
    """AiohttpSession whose close() skips aiogram's 0.25 s grace sleep (meant for SSL
    connections; this server is plain HTTP on localhost)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class Document(NamedTuple):
    """A file attached to a bot message: ``(filename, content)``."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as recorded in :attr:`FakeTelegram.calls`."""

    filename: str
    content: bytes
    content_type: str | None = None


@dataclass
class SentMessage:
    """A message the bot sent.  Edits (``editMessage*``) update it in place."""

    message_id: int
    chat_id: int
    text: str  # message text or caption, as sent (HTML markup included); "" if none
    reply_markup: JSONDict | None = None
    buttons: list[tuple[str, str]] = field(default_factory=list)  # inline (text, callback_data)
    document: Document | None = None
    parse_mode: str | None = None
    method: str = "sendMessage"
    photo: Document | None = None
    deleted: bool = False
    edit_count: int = 0
    raw: JSONDict = field(default_factory=dict, repr=False)  # the Message object returned
    received_at: float = 0.0  # time.monotonic() when the server accepted it

    @property
    def plain_text(self) -> str:
        """Text as the user sees it (HTML tags stripped and entities unescaped)."""
        if (self.parse_mode or "").lower() == "html":
            return _parse_html(self.text)[0]
        return self.text

    @property
    def button_texts(self) -> list[str]:
        """Labels of every button (inline of any kind, or reply keyboard), row by row."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [
            button if isinstance(button, str) else str(button.get("text", ""))
            for row in rows
            for button in row
        ]

    def callback_data(self, button_text: str) -> str:
        """The callback_data of the inline button labelled ``button_text``."""
        for text, data in self.buttons:
            if text == button_text:
                return data
        raise AssertionError(
            f"no button {button_text!r} in message {self.message_id}: {self.buttons}"
        )


@dataclass
class _StoredFile:
    file_id: str
    file_path: str
    content: bytes
    filename: str


@dataclass
class _Failure:
    error_code: int
    description: str
    retry_after: int | None


class _ApiError(Exception):
    def __init__(self, error_code: int, description: str) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description


_Handler = Callable[[JSONDict], Awaitable[Any]]


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.error: str | None = None

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            self._fail(f'Unsupported start tag "{tag}"')
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported start tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            expected = f'"</{self.stack[-1]}>"' if self.stack else "nothing"
            self._fail(f'Unmatched end tag, expected {expected}, found "</{tag}>"')
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def finish(self) -> None:
        self.close()
        if self.stack:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1]}"')


def _parse_html(text: str) -> tuple[str, str | None]:
    """Return (plain text, error or None) for Telegram-flavoured HTML."""
    parser = _TelegramHTML()
    parser.feed(text)
    parser.finish()
    return "".join(parser.parts), parser.error


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _inline_buttons(markup: JSONDict | None) -> list[tuple[str, str]]:
    if not markup:
        return []
    return [
        (str(button.get("text", "")), str(button["callback_data"]))
        for row in markup.get("inline_keyboard") or []
        for button in row
        if isinstance(button, dict) and "callback_data" in button
    ]


def _decode(name: str, value: Any) -> Any:
    """Decode one form/query value the way Telegram would for that parameter."""
    if not isinstance(value, str) or name in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeTelegram(FakeServer[int, int, SentMessage]):
    """Fake Telegram Bot API server; see the module docstring."""

    server_name = "FakeTelegram"

    def __init__(
        self,
        token: str = "123456:TEST",  # noqa: S107
        *,
        bot_first_name: str = "Dân vận khéo",
        bot_username: str = "dvk_test_bot",
    ) -> None:
        super().__init__()
        self.token = token
        bot_id = token.split(":", 1)[0]
        self.bot_id = int(bot_id) if bot_id.isdigit() else 123456
        self.bot_first_name = bot_first_name
        self.bot_username = bot_username
        # Real Telegram answers "message is not modified" for no-op edits; set False to relax.
        self.strict_edits = True
        # Validate parse_mode=HTML text like Telegram ("can't parse entities").
        self.validate_html = True

        self.callback_answers: dict[str, JSONDict] = {}
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.webhook_url = ""
        self.blocked: set[int] = set()

        self._pending: list[JSONDict] = []
        self._files: dict[str, _StoredFile] = {}
        self._paths: dict[str, _StoredFile] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._user_names: dict[int, str] = {}
        self._callback_ids: set[str] = set()

        self._next_update_id = 1
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

        self._poll_generation = 0

        handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "getFile": self._get_file,
        }
        # Bot API method names are case-insensitive.
        self._methods = {name.lower(): (name, fn) for name, fn in handlers.items()}

    # ------------------------------------------------------------------ lifecycle

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        return app

    @property
    def api_server(self) -> TelegramAPIServer:
        return TelegramAPIServer.from_base(self.base_url)

    def create_session(self) -> LocalAiohttpSession:
        return LocalAiohttpSession(api=self.api_server)

    def create_bot(self, default: DefaultBotProperties | None = None) -> Bot:
        """A real aiogram Bot talking to this server (close ``bot.session`` when done)."""
        return Bot(self.token, session=self.create_session(), default=default)

    # ------------------------------------------------------------------ simulating users

    def send_text(self, user_id: int, text: str, first_name: str = _DEFAULT_NAME) -> int:
        """Queue a private text message from ``user_id``; returns the update_id."""
        message = self._user_message(user_id, first_name, text=text)
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return self.queue_raw({"message": message})

    def press_button(
        self, user_id: int, message_id: int, callback_data: str, first_name: str | None = None
    ) -> int:
        """Queue a callback_query for the bot message ``message_id``; returns the update_id."""
        stored = self._messages.get(message_id)
        if stored is not None:
            message = copy.deepcopy(stored.raw)
        else:
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self._chat(user_id),
            }
        chat_id = int(message["chat"]["id"])
        query = {
            "id": f"{self.bot_id}{next(self._query_ids):08d}",
            "from": self._user(user_id, first_name),
            "message": message,
            "chat_instance": str(abs(chat_id) * 7 + 1),
            "data": callback_data,
        }
        return self.queue_raw({"callback_query": query})

    def send_photo(
        self,
        user_id: int,
        file_id: str,
        caption: str | None = None,
        first_name: str | None = None,
        content: bytes | None = None,
    ) -> int:
        """Queue a photo message; the largest size has ``file_id``.  ``content`` registers it
        for getFile/download."""
        if content is not None:
            self.add_file(file_id, content, f"photos/{file_id}.jpg")
        size = len(content) if content is not None else 1024
        photo = [
            {
                "file_id": f"{file_id}_s",
                "file_unique_id": f"u{file_id}_s",
                "width": 90,
                "height": 67,
                "file_size": max(size // 10, 1),
            },
            {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "width": 1280,
                "height": 960,
                "file_size": size,
            },
        ]
        extra: JSONDict = {"photo": photo}
        if caption is not None:
            extra["caption"] = caption
        return self.queue_raw({"message": self._user_message(user_id, first_name, **extra)})

    def send_document(
        self,
        user_id: int,
        file_id: str,
        file_name: str,
        content: bytes | None = None,
        caption: str | None = None,
        first_name: str | None = None,
        mime_type: str = "application/octet-stream",
    ) -> int:
        """Queue a document message (e.g. an uploaded spreadsheet)."""
        if content is not None:
            self.add_file(file_id, content, f"documents/{file_name}", filename=file_name)
        document: JSONDict = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content) if content is not None else 0,
        }
        extra: JSONDict = {"document": document}
        if caption is not None:
            extra["caption"] = caption
        return self.queue_raw({"message": self._user_message(user_id, first_name, **extra)})

    def send_sticker(
        self,
        user_id: int,
        file_id: str = "CAACAgIAAxkBAAEStickerTest",
        emoji: str = "👍",
        first_name: str | None = None,
    ) -> int:
        """Queue a sticker message."""
        sticker = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self.queue_raw({"message": self._user_message(user_id, first_name, sticker=sticker)})

    def queue_raw(self, update: JSONDict) -> int:
        """Queue any update (deep-copied); assigns update_id if missing and returns it.

        Queuing the same dict twice without an update_id gives two updates with identical
        content; with an explicit update_id both copies are delivered as long as the bot has
        not confirmed that id yet.
        """
        update = copy.deepcopy(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        update_id = int(update["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._callback_ids.add(str(query["id"]))
        self._pending.append(update)
        self._notify()
        return update_id

    def block(self, user_id: int) -> None:
        """Make sends to ``user_id`` fail with 403 "bot was blocked by the user"."""
        self.blocked.add(user_id)

    def add_file(
        self,
        file_id: str,
        content: bytes,
        file_path: str | None = None,
        filename: str | None = None,
    ) -> None:
        """Register a file for getFile and ``/file/bot<token>/<file_path>`` downloads."""
        path = file_path or f"documents/{file_id}"
        stored = _StoredFile(file_id, path, content, filename or path.rsplit("/", 1)[-1])
        self._files[file_id] = stored
        self._paths[path] = stored

    # ------------------------------------------------------------------ failure injection

    def enforce_limits(
        self,
        rate: float | None = 30.0,
        chat_interval: float | None = 1.0,
        *,
        window: float = 1.0,
        tolerance: float = 0.02,
    ) -> None:
        """Answer 429 with ``parameters.retry_after`` (as short as needed, whole seconds) to
        a send beyond ``rate`` messages per ``window`` or sooner than ``chat_interval`` after
        the last message to that chat; see ``tests/fake_flood.py``."""
        self.flood.enforce(rate, chat_interval, window=window, tolerance=tolerance)

    def inject_429(self, rate: float, retry_after: int = 1, seed: int | None = None) -> None:
        """Answer this fraction of sends, at random, with 429 ``retry_after``."""
        self.flood.inject_429(rate, retry_after, seed)

    def fail_next(
        self,
        method: str,
        times: int = 1,
        error_code: int = 429,
        retry_after: int | None = 1,
        description: str = "Too Many Requests: retry after 1",
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error."""
        if method.lower() not in self._methods:
            raise ValueError(f"unknown Bot API method {method!r}")
        name = self._methods[method.lower()][0]
        queue = self._failures.setdefault(name, deque())
        queue.extend(_Failure(error_code, description, retry_after) for _ in range(times))

    # ------------------------------------------------------------------ FakeServer hooks

    def _describe(self, message: SentMessage) -> str:
        return f"#{message.message_id} [{message.method}] {message.text!r} {message.buttons}"

    def _method_key(self, method: str) -> str:
        return method.lower()  # Bot API method names are case-insensitive

    def _busy_summary(self) -> str:
        return f"{len(self._pending)} unconfirmed update(s), {self._inflight} request(s) in flight"

    # ------------------------------------------------------------------ internals

    def _user(self, user_id: int, first_name: str | None = None) -> JSONDict:
        if first_name is not None:
            self._user_names[user_id] = first_name
        name = self._user_names.get(user_id, _DEFAULT_NAME)
        return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "vi"}

    def _chat(self, chat_id: int) -> JSONDict:
        if chat_id > 0:
            name = self._user_names.get(chat_id, _DEFAULT_NAME)
            return {"id": chat_id, "type": "private", "first_name": name}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": "Nhóm thử nghiệm"}

    def _bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _user_message(self, user_id: int, first_name: str | None, **extra: Any) -> JSONDict:
        user = self._user(user_id, first_name)
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(user_id),
            "from": user,
            **extra,
        }

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = {name: _decode(name, value) for name, value in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise _ApiError(400, "Bad Request: invalid JSON body")
                for name, value in body.items():
                    if name in _JSON_FIELDS and isinstance(value, str):
                        value = _decode(name, value)
                    params[name] = value
            else:
                form = await request.post()
                for name, value in form.items():
                    if isinstance(value, web.FileField):
                        with value.file:
                            content = value.file.read()
                        files[name] = UploadedFile(value.filename, content, value.content_type)
                    elif isinstance(value, (bytes, bytearray)):
                        params[name] = _decode(name, bytes(value).decode())
                    else:
                        params[name] = _decode(name, value)
        used: set[str] = set()
        for name, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                key = value.removeprefix("attach://")
                if key in files:
                    params[name] = files[key]
                    used.add(key)
        for key, uploaded in files.items():
            if key not in used:
                params.setdefault(key, uploaded)
        return params

    @staticmethod
    def _error(error_code: int, description: str, retry_after: int | None = None) -> web.Response:
        body: JSONDict = {"ok": False, "error_code": error_code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=error_code, dumps=_dumps)

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        found = self._methods.get(request.match_info["method"].lower())
        if found is None:
            return self._error(404, "Not Found")
        name, handler = found
        polling = name == "getUpdates"
        if not polling:
            self._inflight += 1
        try:
            try:
                params = await self._read_params(request)
            except _ApiError as exc:
                return self._error(exc.error_code, exc.description)
            self.calls.append((name, params))
            if not polling:
                self._touch()
            failures = self._failures.get(name)
            if failures:
                failure = failures.popleft()
                return self._error(failure.error_code, failure.description, failure.retry_after)
            sending = name in _SEND_METHODS
            chat = str(params.get("chat_id"))
            if sending:
                refusal = self.flood.check(chat, time.monotonic())
                if refusal is not None:
                    retry_after = refusal[1]
                    description = f"Too Many Requests: retry after {retry_after}"
                    return self._error(429, description, retry_after)
            try:
                result = await handler(params)
            except _ApiError as exc:
                if sending:
                    self.flood.refuse(chat, exc.error_code, exc.description, time.monotonic())
                return self._error(exc.error_code, exc.description)
            if sending:
                text = params.get("text", params.get("caption"))
                self.flood.accept(chat, str(text or ""), time.monotonic())
            return web.json_response({"ok": True, "result": result}, dumps=_dumps)
        finally:
            if not polling:
                self._inflight -= 1
                self._touch()

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        stored = self._paths.get(request.match_info["file_path"])
        if stored is None:
            return self._error(404, "Not Found")
        return web.Response(body=stored.content, content_type="application/octet-stream")

    # ------------------------------------------------------------------ parameter helpers

    @staticmethod
    def _int(params: JSONDict, name: str) -> int:
        value = params.get(name)
        if value is None or value == "":
            raise _ApiError(400, f"Bad Request: {name} is empty")
        try:
            return int(value)
        except (TypeError, ValueError):
            if name == "chat_id":
                raise _ApiError(400, "Bad Request: chat not found") from None
            raise _ApiError(400, f"Bad Request: invalid {name}") from None

    def _chat_id(self, params: JSONDict, *, sending: bool = True) -> int:
        chat_id = self._int(params, "chat_id")
        if sending and chat_id in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _markup(self, params: JSONDict) -> JSONDict | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for _text, data in _inline_buttons(markup):
            if not 1 <= len(data.encode()) <= 64:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _checked_text(self, text: str, parse_mode: str | None, limit: int, what: str) -> str:
        """Validate text like Telegram; returns the plain text (entities stripped)."""
        plain = text
        if (parse_mode or "").lower() == "html":
            plain, error = _parse_html(text)
            if error and self.validate_html:
                raise _ApiError(400, f"Bad Request: can't parse entities: {error}")
        if _utf16_len(plain) > limit:
            raise _ApiError(400, f"Bad Request: message {what} is too long")
        return plain

    def _store(
        self,
        method: str,
        chat_id: int,
        text: str,
        plain: str,
        params: JSONDict,
        markup: JSONDict | None,
        extra: JSONDict,
        document: Document | None = None,
        photo: Document | None = None,
    ) -> JSONDict:
        message_id = next(self._message_ids)
        raw: JSONDict = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._bot_user(),
            **extra,
        }
        if plain:
            raw["caption" if method != "sendMessage" else "text"] = plain
        if markup is not None and "inline_keyboard" in markup:
            raw["reply_markup"] = markup  # Telegram only echoes inline keyboards
        parse_mode = params.get("parse_mode")
        sent = SentMessage(
            message_id=message_id,
            chat_id=chat_id,
            text=text,
            reply_markup=markup,
            buttons=_inline_buttons(markup),
            document=document,
            parse_mode=str(parse_mode) if parse_mode is not None else None,
            method=method,
            photo=photo,
            raw=raw,
            received_at=time.monotonic(),
        )
        self.sent.append(sent)
        self._messages[message_id] = sent
        self._by_chat.setdefault(chat_id, []).append(sent)
        self._notify()
        return copy.deepcopy(raw)

    def _upload(self, params: JSONDict, name: str, default_ext: str) -> tuple[_StoredFile, bool]:
        """Resolve an uploaded file / file_id / URL parameter into a stored file."""
        value = params.get(name)
        if isinstance(value, UploadedFile):
            number = next(self._file_ids)
            file_id = f"BQACAgIAAxkBAAI{number:06d}"
            filename = value.filename or f"file_{number}.{default_ext}"
            ext = filename.rsplit(".", 1)[-1] if "." in filename else default_ext
            self.add_file(file_id, value.content, f"{name}s/file_{number}.{ext}", filename)
            return self._files[file_id], True
        if isinstance(value, str) and value:
            if value in self._files:
                return self._files[value], False
            filename = value.rsplit("/", 1)[-1] or f"file.{default_ext}"
            return _StoredFile(value, "", b"", filename), False
        raise _ApiError(400, f"Bad Request: there is no {name} in the request")

    def _find_message(self, params: JSONDict, what: str) -> SentMessage:
        chat_id = self._chat_id(params, sending=False)
        message_id = self._int(params, "message_id")
        sent = self._messages.get(message_id)
        if sent is None or sent.chat_id != chat_id or sent.deleted:
            raise _ApiError(400, f"Bad Request: message to {what} not found")
        return sent

    def _apply_edit(
        self,
        sent: SentMessage,
        text: str | None,
        plain: str | None,
        parse_mode: str | None,
        markup: JSONDict | None,
    ) -> JSONDict:
        new_text = sent.text if text is None else text
        if self.strict_edits and new_text == sent.text and markup == sent.reply_markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        if text is not None and plain is not None:
            sent.text = text
            sent.parse_mode = parse_mode
            key = "text" if sent.method == "sendMessage" else "caption"
            if plain:
                sent.raw[key] = plain
            else:
                sent.raw.pop(key, None)
        sent.reply_markup = markup
        sent.buttons = _inline_buttons(markup)
        if markup is not None and "inline_keyboard" in markup:
            sent.raw["reply_markup"] = markup
        else:
            sent.raw.pop("reply_markup", None)
        sent.raw["edit_date"] = int(time.time())
        sent.edit_count += 1
        self._notify()
        return copy.deepcopy(sent.raw)

    # ------------------------------------------------------------------ Bot API methods

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is "
                "active; use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if offset:
            before = len(self._pending)
            if offset > 0:
                self._pending = [u for u in self._pending if int(u["update_id"]) >= offset]
            else:
                self._pending = self._pending[offset:]
            if len(self._pending) != before:
                self._touch()
        # A newer getUpdates terminates an older one still waiting (e.g. abandoned by a
        # cancelled client), like Telegram does.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._closing or generation != self._poll_generation:
                return []
            if self._pending:
                return copy.deepcopy(self._pending[:limit])
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await self._changed(remaining)

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
            self._touch()
        return True

    async def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise _ApiError(400, "Bad Request: bad webhook: url is empty")
        self.webhook_url = url
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, "Bad Request: commands is invalid")
        for command in commands:
            if not _COMMAND_RE.match(str(command.get("command", ""))):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        plain = self._checked_text(text, params.get("parse_mode"), _MAX_TEXT, "text")
        markup = self._markup(params)
        return self._store("sendMessage", chat_id, text, plain, params, markup, {})

    async def _send_document(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        caption = str(params.get("caption") or "")
        plain = self._checked_text(caption, params.get("parse_mode"), _MAX_CAPTION, "caption")
        markup = self._markup(params)
        stored, _ = self._upload(params, "document", "bin")
        extra = {
            "document": {
                "file_id": stored.file_id,
                "file_unique_id": f"u{stored.file_id}",
                "file_name": stored.filename,
                "file_size": len(stored.content),
            }
        }
        document = Document(stored.filename, stored.content)
        return self._store(
            "sendDocument", chat_id, caption, plain, params, markup, extra, document=document
        )

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        caption = str(params.get("caption") or "")
        plain = self._checked_text(caption, params.get("parse_mode"), _MAX_CAPTION, "caption")
        markup = self._markup(params)
        stored, _ = self._upload(params, "photo", "jpg")
        size = len(stored.content)
        extra = {
            "photo": [
                {
                    "file_id": f"{stored.file_id}_s",
                    "file_unique_id": f"u{stored.file_id}_s",
                    "width": 90,
                    "height": 90,
                    "file_size": max(size // 10, 1),
                },
                {
                    "file_id": stored.file_id,
                    "file_unique_id": f"u{stored.file_id}",
                    "width": 800,
                    "height": 800,
                    "file_size": size,
                },
            ]
        }
        photo = Document(stored.filename, stored.content)
        return self._store("sendPhoto", chat_id, caption, plain, params, markup, extra, photo=photo)

    async def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        sent = self._find_message(params, "edit")
        if sent.method != "sendMessage":
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode")
        plain = self._checked_text(text, parse_mode, _MAX_TEXT, "text")
        # Like Telegram: editing the text without reply_markup removes the inline keyboard.
        return self._apply_edit(sent, text, plain, parse_mode, self._markup(params))

    async def _edit_message_caption(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        sent = self._find_message(params, "edit")
        if sent.method == "sendMessage":
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = str(params.get("caption") or "")
        parse_mode = params.get("parse_mode")
        plain = self._checked_text(caption, parse_mode, _MAX_CAPTION, "caption")
        return self._apply_edit(sent, caption, plain, parse_mode, self._markup(params))

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        sent = self._find_message(params, "edit")
        return self._apply_edit(sent, None, None, sent.parse_mode, self._markup(params))

    async def _delete_message(self, params: JSONDict) -> bool:
        sent = self._find_message(params, "delete")
        sent.deleted = True
        self._notify()
        return True

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_ids or query_id in self.callback_answers:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_answers[query_id] = params
        return True

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self._chat_id(params)
        if not params.get("action"):
            raise _ApiError(400, "Bad Request: action is empty")
        return True

    async def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": f"u{stored.file_id}",
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
