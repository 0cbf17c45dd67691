"""The bot's one web server (aiohttp): webhooks, download links, health.

- ``POST`` at each channel's webhook path (``/webhook/telegram``, ``/webhook/zalo``): checks
  the channel's secret header, gives the update to the channel;
- ``GET /files/{id}/{name}?o=…&e=…&s=…``: a signed, expiring, personal download link;
- ``GET /healthz``: 200 with the channels that run; with a :class:`~bot.monitor.Monitor`
  (``dvk run``) the database, the outbox and the channels' polls, 503 when one is failing,
  and ``GET /metrics`` (Prometheus).

Secrets are compared in constant time. A missing secret gets 401, a wrong one 403, and the
update is not processed. An update is recorded (the channel's inbox) before the platform gets
its 200, then handled in the background; a redelivered update is recognised by the core and
handled once.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.channel import WebhookRoute
from bot.desk import Desk
from bot.files import FileLinks, LinkRefused, content_disposition
from bot.monitor import Monitor

log = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1024 * 1024


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
    except RecursionError:  # nested deeper than the parser goes
        log.warning("a webhook body nested too deep to read was refused")
        raise web.HTTPBadRequest(text="") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="")
    return body


def webhook_handler(
    route: WebhookRoute, secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def webhook(request: web.Request) -> web.Response:
        secret_ok(request, route.secret_header, secret)
        return await route.handle(await read_json(request))

    return webhook


def build_web_app(
    secret: str,
    webhooks: Sequence[WebhookRoute] = (),
    files: FileLinks | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    desk: Desk | None = None,
    monitor: Monitor | None = None,
) -> web.Application:
    """The server for the channels of ``webhooks`` (their routes) and ``files`` (links)."""
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)

    async def healthz(_request: web.Request) -> web.Response:
        channels = [route.channel for route in webhooks]
        return web.json_response({"status": "ok", "channels": channels})

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

    if monitor is None:
        app.router.add_get("/healthz", healthz)
    else:
        app.router.add_get("/healthz", monitor.healthz)
        app.router.add_get("/metrics", monitor.metrics)
    for route in webhooks:
        app.router.add_post(route.path, webhook_handler(route, secret))
    if files is not None:
        app.router.add_get("/files/{file_id}/{name}", download)
        app.router.add_get("/files/{file_id}", download)
    if desk is not None:  # the leaders' web page (/web), bot/desk.py
        desk.add_routes(app)
    return app
