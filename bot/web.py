"""The bot's one web server (aiohttp): webhooks, download links, health.

- ``POST /webhook/telegram``: checks ``X-Telegram-Bot-Api-Secret-Token``;
- ``POST /webhook/zalo``: checks ``X-Bot-Api-Secret-Token``; the body bare or wrapped;
- ``GET /files/{id}/{name}?o=…&e=…&s=…``: a signed, expiring, personal download link;
- ``GET /healthz``: 200 with the channels that run.

Secrets are compared in constant time. A missing secret gets 401, a wrong one 403, and the
update is not processed. Updates are handled in the background, so the platform gets its
200 at once; a redelivered update is recognised by the core and handled once.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web

from bot.files import FileLinks, LinkRefused, content_disposition

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ZALO_SECRET_HEADER = "X-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_UPDATE_BYTES = 1024 * 1024


class UpdateSink(Protocol):
    def dispatch(self, update: dict[str, Any]) -> None: ...


def secret_ok(request: web.Request, header: str, secret: str) -> None:
    """Raise 401 for a missing secret, 403 for a wrong one."""
    given = request.headers.get(header)
    if not given:
        raise web.HTTPUnauthorized(text="")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise web.HTTPForbidden(text="")


async def read_json(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_UPDATE_BYTES, actual_size=request.content_length
        )
    try:
        body = json.loads(await request.read())
    except ValueError:
        raise web.HTTPBadRequest(text="") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="")
    return body


def build_web_app(
    secret: str,
    telegram: UpdateSink | None = None,
    zalo: UpdateSink | None = None,
    files: FileLinks | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> web.Application:
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)

    async def healthz(_request: web.Request) -> web.Response:
        channels = [n for n, c in (("telegram", telegram), ("zalo", zalo)) if c is not None]
        return web.json_response({"status": "ok", "channels": channels})

    async def telegram_webhook(request: web.Request) -> web.Response:
        secret_ok(request, TELEGRAM_SECRET_HEADER, secret)
        assert telegram is not None
        telegram.dispatch(await read_json(request))
        return web.Response(text="ok")

    async def zalo_webhook(request: web.Request) -> web.Response:
        secret_ok(request, ZALO_SECRET_HEADER, secret)
        assert zalo is not None
        zalo.dispatch(await read_json(request))
        return web.json_response({"ok": True})

    async def download(request: web.Request) -> web.StreamResponse:
        assert files is not None
        query = request.rel_url.query
        try:
            stored = files.open(
                request.match_info["file_id"],
                query.get("o", ""),
                query.get("e", ""),
                query.get("s", ""),
                clock(),
            )
        except LinkRefused as refused:
            status = web.HTTPForbidden if refused.status == 403 else web.HTTPNotFound
            raise status(text="") from None
        return web.FileResponse(
            stored.path,
            headers={
                "Content-Type": stored.mime_type,
                "Content-Disposition": content_disposition(stored.file_name),
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    app.router.add_get("/healthz", healthz)
    if telegram is not None:
        app.router.add_post("/webhook/telegram", telegram_webhook)
    if zalo is not None:
        app.router.add_post("/webhook/zalo", zalo_webhook)
    if files is not None:
        app.router.add_get("/files/{file_id}/{name}", download)
        app.router.add_get("/files/{file_id}", download)
    return app
