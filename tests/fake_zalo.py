"""A fake Zalo Bot API server for end-to-end tests.

The server runs inside the test's event loop on ``127.0.0.1`` (a free port) and speaks the
Zalo Bot API closely enough for the bot's own HTTP client to talk to it::

    async with FakeZalo() as zalo:
        # the bot is configured with ZALO_API_BASE=zalo.base_url and ZALO_BOT_TOKEN=zalo.token
        message_id = zalo.send_text("u1", "/start")
        [reply] = await zalo.wait_for_messages("u1", 1)

Nothing reaches the real Zalo.  What is reproduced, and how:

* Requests go to ``<base_url>/bot<token>/<method>`` as ``POST`` with a JSON object body; an
  empty body means "no parameters".  ``GET`` with query parameters is accepted too (some
  published curl examples use it).  Method names are case-sensitive.
* Envelopes: success ``{"ok": true, "result": ...}`` (``sendChatAction`` answers a bare
  ``{"ok": true}`` like Zalo's documentation shows); errors ``{"ok": false, "error_code": N,
  "description": "..."}``.  The HTTP status of an error is ``N`` itself, except for
  ``getUpdates``' "no update arrived" answer (error 408), which Zalo sends with HTTP 200 --
  so a client must look at ``ok``/``error_code`` and not only at the status.  Wrong token:
  401; unknown method: 404; a body that is not a JSON object: 400.
* ``getUpdates`` long-polls (``timeout`` in seconds, int or string, default 30) and returns
  ONE update as ``result``.  There is no offset: an update is consumed as soon as it is
  returned, so an update handed to a poll whose client went away is lost (as on the real
  server).  :meth:`FakeZalo.redeliver` and :meth:`FakeZalo.queue_raw` simulate duplicates.
  While a webhook is set, ``getUpdates`` answers 409.
* With a webhook set, queued updates are POSTed one at a time, in order, to the webhook URL
  with ``X-Bot-Api-Secret-Token``; each delivery is recorded in :attr:`FakeZalo.deliveries`
  with the HTTP status the bot answered.  A failed delivery is recorded and not retried.
* Every response carries two ``Server`` headers when ``duplicate_server_header`` is true
  (default), as Zalo's edge does.  httpx accepts that.  aiohttp's client fails with
  "Duplicate 'Server' header found" when it parses responses strictly; the aiohttp installed
  here (3.14) does that only in dev/debug mode (``python -X dev``, ``PYTHONASYNCIODEBUG=1``).
* Photos users send are hosted by this server (``/photos/<random>.jpg``, ``image/jpeg``) and
  can be expired (:meth:`FakeZalo.expire_photo` or ``photo_ttl``) to prove the bot downloads
  them at once, like Zalo's short-lived CDN links.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import enum
import json
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from aiohttp import web

from tests.fake_server import FakeServer, JSONDict

EVENT_TEXT: Final = "message.text.received"
EVENT_IMAGE: Final = "message.image.received"
EVENT_STICKER: Final = "message.sticker.received"
EVENT_VOICE: Final = "message.voice.received"
EVENT_UNSUPPORTED: Final = "message.unsupported.received"

SECRET_HEADER: Final = "X-Bot-Api-Secret-Token"
MAX_TEXT: Final = 2000
DEFAULT_POLL_TIMEOUT: Final = 30.0
CHAT_ACTIONS: Final = frozenset({"typing", "upload_photo"})
# Methods that send a message: flood control (enforce_limits, inject_429) applies to them.
SEND_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendSticker"})

_DEFAULT_NAME = "Cán bộ"
_DEFAULT_STICKER = "0e078a2fb66a5f34067b"
_TEXT_LENGTH_ERROR = f"text length must be between 1 and {MAX_TEXT}"
_CAPTION_LENGTH_ERROR = f"caption length must be between 1 and {MAX_TEXT}"
_WEBHOOK_ACTIVE = (
    "Conflict: getUpdates is not available while a webhook is active; "
    "use deleteWebhook to remove the webhook first"
)


class _UseWebhookSecret(enum.Enum):
    """Type of :data:`WEBHOOK_SECRET` (a sentinel distinct from ``None``)."""

    TOKEN = "webhook secret"


# Default of FakeZalo.post_to_webhook(secret=...): send the secret given to setWebhook.
WEBHOOK_SECRET: Final = _UseWebhookSecret.TOKEN


@dataclass
class SentMessage:
    """Something the bot sent (sendMessage, sendPhoto or sendSticker)."""

    message_id: str
    chat_id: str
    method: str
    text: str  # message text, or the photo caption ("" if none)
    date: int  # epoch milliseconds, as returned to the bot
    received_at: float  # time.monotonic() when the server received it
    photo: str | None = None  # sendPhoto: the URL the bot passed
    sticker: str | None = None  # sendSticker: the sticker id
    params: JSONDict = field(default_factory=dict, repr=False)


@dataclass
class WebhookDelivery:
    """One POST to the webhook URL, made by the server or by :meth:`FakeZalo.post_to_webhook`."""

    url: str
    update: JSONDict
    headers: dict[str, str]
    status: int | None  # HTTP status the bot answered; None if the request itself failed
    body: str = ""  # the bot's response body
    error: str | None = None  # the exception, when status is None
    automatic: bool = True  # False for post_to_webhook()


@dataclass
class _Failure:
    error_code: int
    description: str
    body: str | None


@dataclass
class _Photo:
    content: bytes
    expires_at: float | None
    expired: bool = False


class _ApiError(Exception):
    def __init__(self, error_code: int, description: str) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description


_Handler = Callable[[JSONDict], Awaitable[Any]]
_NO_RESULT = object()  # a handler returning this answers {"ok": true} without "result"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _new_id() -> str:
    """A Zalo-style opaque id: 20 lowercase hex digits."""
    return secrets.token_hex(10)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


class FakeZalo(FakeServer[str, str, SentMessage]):
    """Fake Zalo Bot API server; see the module docstring."""

    server_name = "FakeZalo"

    def __init__(
        self,
        token: str = "1459232241454765289:zalo-test-token",  # noqa: S107 - a fake token
        *,
        account_name: str = "bot.DanVanKheo",
        duplicate_server_header: bool = True,
        wrap_webhook: bool = False,
        photo_ttl: float | None = None,
        require_https_webhook: bool = False,
        webhook_timeout: float = 10.0,
    ) -> None:
        super().__init__()
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = prefix if prefix.isdigit() else "1459232241454765289"
        self.account_name = account_name
        # Two Server headers on every response, like Zalo's edge.
        self.duplicate_server_header = duplicate_server_header
        # Webhook body: the bare update (False) or {"ok": true, "result": update} (True).
        self.wrap_webhook = wrap_webhook
        # Seconds after which a photo sent by a user stops being downloadable (None: never).
        self.photo_ttl = photo_ttl
        self.require_https_webhook = require_https_webhook
        self.webhook_timeout = webhook_timeout

        self.delivered: list[JSONDict] = []  # updates handed out (poll or webhook), in order
        self.deliveries: list[WebhookDelivery] = []
        self.photo_requests: list[tuple[str, int]] = []  # (photo URL, HTTP status served)
        self.blocked: set[str] = set()
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_updated_at = _now_ms()

        self._pending: deque[JSONDict] = deque()
        self._updates: dict[str, JSONDict] = {}  # message_id -> update as first queued
        self._failures: dict[str, deque[_Failure]] = {}
        self._photos: dict[str, _Photo] = {}
        self._names: dict[str, str] = {}

        self._delivering = 0  # webhook deliveries in flight
        self._client: httpx.AsyncClient | None = None
        self._deliverer: asyncio.Task[None] | None = None

        self._methods: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
        }

    # ------------------------------------------------------------------ lifecycle

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.on_response_prepare.append(self._set_server_headers)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/photos/{name}", self._handle_photo)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        return app

    async def _on_started(self) -> None:
        """Open the webhook client and start pushing queued updates to a webhook."""
        self._client = httpx.AsyncClient(timeout=self.webhook_timeout, trust_env=False)
        self._deliverer = asyncio.create_task(self._deliver_loop(), name="fake-zalo-webhook")

    async def _on_stopping(self) -> None:
        # Pending long polls were woken and answer 408 (``_closing``).
        deliverer, self._deliverer = self._deliverer, None
        if deliverer is not None:
            deliverer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deliverer
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def api_url(self, method: str) -> str:
        return f"{self.base_url}/bot{self.token}/{method}"

    # ------------------------------------------------------------------ simulating users

    def build_update(
        self,
        event_name: str,
        user_id: str,
        *,
        chat_id: str | None = None,
        chat_type: str = "PRIVATE",
        display_name: str | None = None,
        **fields: Any,
    ) -> JSONDict:
        """An update from ``user_id`` (in ``chat_id``, default the private chat), NOT queued."""
        if display_name is not None:
            self._names[user_id] = display_name
        message: JSONDict = {
            "message_id": _new_id(),
            "date": _now_ms(),
            "chat": {"id": chat_id if chat_id is not None else user_id, "chat_type": chat_type},
            "from": {
                "id": user_id,
                "display_name": self._names.get(user_id, _DEFAULT_NAME),
                "is_bot": False,
            },
            **fields,
        }
        return {"event_name": event_name, "message": message}

    def text_update(self, user_id: str, text: str, display_name: str | None = None) -> JSONDict:
        """A private text update, NOT queued (e.g. for :meth:`post_to_webhook`)."""
        return self.build_update(EVENT_TEXT, user_id, display_name=display_name, text=text)

    def send_text(self, user_id: str, text: str, display_name: str | None = None) -> str:
        """Queue a private text message from ``user_id``; returns its message_id."""
        return self.queue_raw(self.text_update(user_id, text, display_name))

    def send_group_text(
        self, group_id: str, user_id: str, text: str, display_name: str | None = None
    ) -> str:
        """Queue a text message from ``user_id`` in group ``group_id`` (chat_type GROUP)."""
        update = self.build_update(
            EVENT_TEXT,
            user_id,
            chat_id=group_id,
            chat_type="GROUP",
            display_name=display_name,
            text=text,
        )
        return self.queue_raw(update)

    def send_photo(
        self,
        user_id: str,
        content: bytes,
        caption: str | None = None,
        display_name: str | None = None,
    ) -> str:
        """Queue an image message; ``photo_url`` points at this server (see
        :meth:`expire_photo`).  Returns the message_id."""
        fields: JSONDict = {"photo_url": self.add_photo(content)}
        if caption is not None:
            fields["caption"] = caption
        return self.queue_raw(
            self.build_update(EVENT_IMAGE, user_id, display_name=display_name, **fields)
        )

    def send_sticker(
        self,
        user_id: str,
        sticker: str = _DEFAULT_STICKER,
        url: str | None = None,
        display_name: str | None = None,
    ) -> str:
        """Queue a sticker message; returns the message_id."""
        update = self.build_update(
            EVENT_STICKER,
            user_id,
            display_name=display_name,
            sticker=sticker,
            url=url or f"https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid={sticker}",
        )
        return self.queue_raw(update)

    def send_event(self, event_name: str, user_id: str, **fields: Any) -> str:
        """Queue any event (e.g. :data:`EVENT_VOICE`, :data:`EVENT_UNSUPPORTED`) from a
        private chat with extra message ``fields``; returns the message_id."""
        return self.queue_raw(self.build_update(event_name, user_id, **fields))

    def queue_raw(self, update: JSONDict) -> str:
        """Queue any update (deep-copied) for delivery; returns its message_id ("" if none).

        Queuing the same update twice delivers it twice (Zalo has no offset to dedupe by).
        """
        update = copy.deepcopy(update)
        message = update.get("message")
        message_id = str(message.get("message_id", "")) if isinstance(message, dict) else ""
        if message_id:
            self._updates.setdefault(message_id, copy.deepcopy(update))
        self._pending.append(update)
        self._touch()
        return message_id

    def redeliver(self, update: JSONDict | str) -> str:
        """Queue an update again, unchanged: ``update`` is the update dict or the message_id
        of one queued before.  Simulates Zalo delivering a message twice."""
        if isinstance(update, str):
            update = self.update_for(update)
        return self.queue_raw(update)

    def update_for(self, message_id: str) -> JSONDict:
        """The update queued with ``message_id`` (a copy)."""
        try:
            return copy.deepcopy(self._updates[message_id])
        except KeyError:
            raise KeyError(f"no update with message_id {message_id!r}") from None

    def photo_url(self, message_id: str) -> str:
        """The ``photo_url`` of the image message ``message_id``."""
        return str(self._updates[message_id]["message"]["photo_url"])

    def add_photo(self, content: bytes) -> str:
        """Host ``content`` at ``<base_url>/photos/<random>.jpg``; returns the URL."""
        name = f"{secrets.token_hex(12)}.jpg"
        expires_at = None if self.photo_ttl is None else time.monotonic() + self.photo_ttl
        self._photos[name] = _Photo(content, expires_at)
        return f"{self.base_url}/photos/{name}"

    def expire_photo(self, url: str) -> None:
        """From now on ``url`` answers 404, like an expired Zalo CDN link."""
        self._photos[self._photo_name(url)].expired = True

    def photo_downloads(self, url: str) -> int:
        """How many times ``url`` was downloaded successfully."""
        return sum(1 for u, status in self.photo_requests if u == url and status == 200)

    def block(self, user_id: str) -> None:
        """Make sends to chat ``user_id`` fail with 403."""
        self.blocked.add(user_id)

    def unblock(self, user_id: str) -> None:
        self.blocked.discard(user_id)

    # ------------------------------------------------------------------ webhook

    async def post_to_webhook(
        self,
        update: JSONDict,
        secret: str | _UseWebhookSecret | None = WEBHOOK_SECRET,
        headers: Mapping[str, str] | None = None,
        url: str | None = None,
    ) -> int:
        """POST ``update`` to the webhook (``url`` or the one set by setWebhook) and return
        the HTTP status.  ``secret``: :data:`WEBHOOK_SECRET` sends the secret given to
        setWebhook, ``None`` sends no secret header, any string is sent as the secret.
        ``headers`` are added (or override).  The update is not queued; the request is
        recorded in :attr:`deliveries` with ``automatic=False``."""
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook URL: call setWebhook first or pass url=")
        sent_secret = self.webhook_secret if secret is WEBHOOK_SECRET else secret
        assert not isinstance(sent_secret, _UseWebhookSecret)
        delivery = await self._post(target, update, sent_secret, headers, automatic=False)
        if delivery.status is None:
            raise ConnectionError(f"webhook POST to {target} failed: {delivery.error}")
        return delivery.status

    async def wait_for_deliveries(
        self,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the whole wait, not one call
    ) -> list[WebhookDelivery]:
        """Wait until the server made ``count`` automatic webhook deliveries in total (with
        an answer or a failure); return them all."""

        def automatic() -> list[WebhookDelivery]:
            return [d for d in self.deliveries if d.automatic]

        ok = await self._wait_until(lambda: len(automatic()) >= count, timeout)
        found = automatic()
        if not ok:
            raise AssertionError(
                f"expected {count} webhook deliveries within {timeout}s, got {len(found)}: "
                f"{[(d.status, d.error) for d in found]}"
            )
        return found

    # ------------------------------------------------------------------ failure injection

    def enforce_limits(
        self,
        rate: float | None = 10.0,
        chat_interval: float | None = 1.0,
        *,
        window: float = 1.0,
        tolerance: float = 0.02,
    ) -> None:
        """Answer ``{ok: false, error_code: 429}`` (Zalo says no retry_after) to a send beyond
        ``rate`` messages per ``window`` or sooner than ``chat_interval`` after the last
        message to that chat; see ``tests/fake_flood.py``."""
        self.flood.enforce(rate, chat_interval, window=window, tolerance=tolerance)

    def inject_429(self, rate: float, seed: int | None = None) -> None:
        """Answer this fraction of sends, at random, with error 429."""
        self.flood.inject_429(rate, 1, seed)

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str = "Too Many Requests",
        times: int = 1,
        body: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error envelope (HTTP status
        ``error_code``; 200 for 408).  With ``body``, answer that raw text (``text/html``)
        instead of JSON, like a proxy's 502 page."""
        if method not in self._methods:
            raise ValueError(f"unknown Zalo Bot API method {method!r}")
        queue = self._failures.setdefault(method, deque())
        queue.extend(_Failure(error_code, description, body) for _ in range(times))

    # ------------------------------------------------------------------ FakeServer hooks

    def _describe(self, message: SentMessage) -> str:
        return (
            f"{message.message_id} [{message.method}] {message.text!r}"
            + (f" photo={message.photo}" if message.photo else "")
            + (f" sticker={message.sticker}" if message.sticker else "")
        )

    def _busy(self) -> bool:
        return self._delivering > 0

    def _busy_summary(self) -> str:
        return (
            f"{len(self._pending)} queued update(s), {self._inflight} request(s) and "
            f"{self._delivering} webhook delivery(ies) in flight"
        )

    # ------------------------------------------------------------------ internals

    def _take_update(self) -> JSONDict:
        update = self._pending.popleft()
        self.delivered.append(copy.deepcopy(update))
        self._touch()
        return update

    @staticmethod
    def _photo_name(url: str) -> str:
        return url.rstrip("/").rsplit("/", 1)[-1]

    async def _set_server_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        response.headers.popall("Server", None)
        response.headers.add("Server", "nginx")
        if self.duplicate_server_header:
            response.headers.add("Server", "ZaloEdge")

    @staticmethod
    def _error(error_code: int, description: str) -> web.Response:
        body = {"ok": False, "error_code": error_code, "description": description}
        # Zalo answers "no update within the timeout" (408) with HTTP 200.
        status = 200 if error_code == 408 else error_code
        return web.json_response(body, status=status, dumps=_dumps)

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = dict(request.query)
        raw = await request.read() if request.can_read_body else b""
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise _ApiError(400, "Bad Request: body must be a JSON object") from None
            if not isinstance(body, dict):
                raise _ApiError(400, "Bad Request: body must be a JSON object")
            params.update(body)
        return params

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        name = request.match_info["method"]
        handler = self._methods.get(name)
        if handler is None:
            return self._error(404, "Not Found")
        if request.method not in ("POST", "GET"):
            return self._error(405, "Method Not Allowed")
        polling = name == "getUpdates"
        if not polling:
            self._inflight += 1
        try:
            try:
                params = await self._read_params(request)
            except _ApiError as exc:
                return self._error(exc.error_code, exc.description)
            self.calls.append((name, params))
            if polling:  # wakes wait_for_call; a bot just waiting for updates stays idle
                self._notify()
            else:
                self._touch()
            failures = self._failures.get(name)
            if failures:
                failure = failures.popleft()
                if failure.body is not None:
                    return web.Response(
                        text=failure.body, status=failure.error_code, content_type="text/html"
                    )
                return self._error(failure.error_code, failure.description)
            sending = name in SEND_METHODS
            chat = str(params.get("chat_id"))
            if sending and self.flood.check(chat, time.monotonic()) is not None:
                return self._error(429, "Too Many Requests")
            try:
                result = await handler(params)
            except _ApiError as exc:
                if sending:
                    self.flood.refuse(chat, exc.error_code, exc.description, time.monotonic())
                return self._error(exc.error_code, exc.description)
            if sending:
                text = params.get("text", params.get("caption"))
                self.flood.accept(chat, str(text or ""), time.monotonic())
            envelope: JSONDict = {"ok": True}
            if result is not _NO_RESULT:
                envelope["result"] = result
            return web.json_response(envelope, dumps=_dumps)
        finally:
            if not polling:
                self._inflight -= 1
                self._touch()

    async def _handle_photo(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        url = f"{self.base_url}/photos/{name}"
        photo = self._photos.get(name)
        if photo is not None and photo.expires_at is not None:
            photo.expired = photo.expired or time.monotonic() >= photo.expires_at
        if photo is None or photo.expired:
            self.photo_requests.append((url, 404))
            self._touch()
            return web.Response(status=404, text="Not Found")
        self.photo_requests.append((url, 200))
        self._touch()
        return web.Response(body=photo.content, content_type="image/jpeg")

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return self._error(404, "Not Found")

    async def _deliver_loop(self) -> None:
        """Push queued updates to the webhook, one at a time, while a webhook is set."""
        while not self._closing:
            if self.webhook_url and self._pending:
                url, secret = self.webhook_url, self.webhook_secret
                update = self._take_update()
                self._delivering += 1
                try:
                    await self._post(url, update, secret, None, automatic=True)
                finally:
                    self._delivering -= 1
                    self._touch()
            else:
                await self._changed(1.0)

    async def _post(
        self,
        url: str,
        update: JSONDict,
        secret: str | None,
        extra_headers: Mapping[str, str] | None,
        *,
        automatic: bool,
    ) -> WebhookDelivery:
        if self._client is None:
            raise RuntimeError("FakeZalo is not started")
        body = {"ok": True, "result": update} if self.wrap_webhook else update
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        headers.update(extra_headers or {})
        delivery = WebhookDelivery(url, copy.deepcopy(update), headers, None, automatic=automatic)
        try:
            response = await self._client.post(url, content=_dumps(body).encode(), headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        else:
            delivery.status = response.status_code
            delivery.body = response.text
        self.deliveries.append(delivery)
        self._touch()
        return delivery

    # ------------------------------------------------------------------ parameter helpers

    def _chat_id(self, params: JSONDict, *, sending: bool = True) -> str:
        value = params.get("chat_id")
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            raise _ApiError(400, "Bad Request: chat_id is required")
        chat_id = str(value)
        if sending and chat_id in self.blocked:
            raise _ApiError(403, "Forbidden: the user has blocked the bot or left the chat")
        return chat_id

    @staticmethod
    def _poll_timeout(params: JSONDict) -> float:
        value = params.get("timeout")
        if value is None or value == "":
            return DEFAULT_POLL_TIMEOUT
        try:
            return max(float(value), 0.0)
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: timeout must be a number of seconds") from None

    def _store(
        self, method: str, chat_id: str, text: str, params: JSONDict, **extra: Any
    ) -> JSONDict:
        sent = SentMessage(
            message_id=_new_id(),
            chat_id=chat_id,
            method=method,
            text=text,
            date=_now_ms(),
            received_at=time.monotonic(),
            params=copy.deepcopy(params),
            **extra,
        )
        self.sent.append(sent)
        self._messages[sent.message_id] = sent
        self._by_chat.setdefault(chat_id, []).append(sent)
        self._notify()
        return {"message_id": sent.message_id, "date": sent.date}

    # ------------------------------------------------------------------ Bot API methods

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            "id": self.bot_id,
            "account_name": self.account_name,
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    async def _get_updates(self, params: JSONDict) -> JSONDict:
        if self.webhook_url:
            raise _ApiError(409, _WEBHOOK_ACTIVE)
        timeout = self._poll_timeout(params)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._closing:
                raise _ApiError(408, "Request timeout")
            if self.webhook_url:  # set while this poll was waiting
                raise _ApiError(409, _WEBHOOK_ACTIVE)
            if self._pending:
                return self._take_update()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise _ApiError(408, "Request timeout")
            await self._changed(remaining)

    async def _set_webhook(self, params: JSONDict) -> JSONDict:
        url = params.get("url")
        schemes = ("https://",) if self.require_https_webhook else ("https://", "http://")
        if not isinstance(url, str) or not url.startswith(schemes):
            raise _ApiError(400, "Bad Request: url must be a valid HTTPS URL")
        secret = params.get("secret_token")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            raise _ApiError(400, "Bad Request: secret_token must be 8 to 256 characters")
        self.webhook_url = url
        self.webhook_secret = secret
        self.webhook_updated_at = _now_ms()
        self._notify()
        return {"url": url, "updated_at": self.webhook_updated_at}

    async def _delete_webhook(self, params: JSONDict) -> JSONDict:
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_updated_at = _now_ms()
        self._notify()
        return {"url": "", "updated_at": self.webhook_updated_at}

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        return {"url": self.webhook_url, "updated_at": self.webhook_updated_at}

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
            raise _ApiError(400, _TEXT_LENGTH_ERROR)
        return self._store("sendMessage", chat_id, text, params)

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo.startswith(("https://", "http://")):
            raise _ApiError(400, "Bad Request: photo must be a valid URL")
        caption = params.get("caption")
        if caption is None or caption == "":
            caption = ""
        elif not isinstance(caption, str) or len(caption) > MAX_TEXT:
            raise _ApiError(400, _CAPTION_LENGTH_ERROR)
        return self._store("sendPhoto", chat_id, caption, params, photo=photo)

    async def _send_sticker(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        sticker = params.get("sticker")
        if not isinstance(sticker, str) or not sticker:
            raise _ApiError(400, "Bad Request: sticker is required")
        return self._store("sendSticker", chat_id, "", params, sticker=sticker)

    async def _send_chat_action(self, params: JSONDict) -> object:
        self._chat_id(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise _ApiError(400, "Bad Request: action must be one of: typing, upload_photo")
        return _NO_RESULT
