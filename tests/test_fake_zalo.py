"""Self-test of the fake Zalo Bot API server, driven by a plain httpx client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.fake_zalo import (
    EVENT_IMAGE,
    EVENT_STICKER,
    EVENT_TEXT,
    EVENT_UNSUPPORTED,
    SECRET_HEADER,
    FakeZalo,
)

USER = "e4ea2cd5189df1c3a88c"
SECRET = "s3cret-webhook-token"
JPEG = b"\xff\xd8\xff\xe0fake-jpeg-bytes\xff\xd9"

JSONDict = dict[str, Any]


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as fake:
        yield fake


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        yield http


async def call(
    client: httpx.AsyncClient, zalo: FakeZalo, method: str, **params: Any
) -> tuple[int, JSONDict]:
    """POST ``params`` as JSON to ``method``; returns (HTTP status, JSON body)."""
    response = await client.post(zalo.api_url(method), json=params)
    body = response.json()
    assert isinstance(body, dict)
    return response.status_code, body


@dataclass
class Receiver:
    """A stand-in for the bot's webhook endpoint: checks the secret like the bot must."""

    secret: str = SECRET
    requests: list[tuple[dict[str, str], JSONDict]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.json()))
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return web.Response(status=401)
        if given != self.secret:
            return web.Response(status=403)
        return web.json_response({"ok": True})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/zalo/webhook", found.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/zalo/webhook"
    yield found
    await runner.cleanup()


# ---------------------------------------------------------------------- envelopes


async def test_get_me_and_the_duplicate_server_header(
    zalo: FakeZalo, client: httpx.AsyncClient
) -> None:
    assert zalo.base_url.startswith("http://127.0.0.1:")
    assert zalo.api_url("getMe") == f"{zalo.base_url}/bot{zalo.token}/getMe"
    response = await client.post(zalo.api_url("getMe"))  # no body at all
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "result": {
            "id": "1459232241454765289",
            "account_name": "bot.DanVanKheo",
            "account_type": "BASIC",
            "can_join_groups": False,
        },
    }
    assert response.headers.get_list("server") == ["nginx", "ZaloEdge"]
    assert zalo.calls == [("getMe", {})]


async def test_a_single_server_header_when_asked(client: httpx.AsyncClient) -> None:
    async with FakeZalo(duplicate_server_header=False) as zalo:
        response = await client.post(zalo.api_url("getMe"), json={})
        assert response.headers.get_list("server") == ["nginx"]


async def test_wrong_token_unknown_method_and_bad_body(
    zalo: FakeZalo, client: httpx.AsyncClient
) -> None:
    response = await client.post(f"{zalo.base_url}/botnot-the-token/getMe", json={})
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert len(response.headers.get_list("server")) == 2  # errors carry it too

    status, body = await call(client, zalo, "sendMesage", chat_id=USER, text="x")
    assert (status, body["ok"], body["error_code"]) == (404, False, 404)

    response = await client.post(zalo.api_url("sendMessage"), content=b"[1, 2]")
    assert response.status_code == 400
    assert response.json()["error_code"] == 400

    response = await client.get(f"{zalo.base_url}/elsewhere")
    assert response.status_code == 404
    assert response.json()["ok"] is False
    assert zalo.sent == []


# ---------------------------------------------------------------------- getUpdates


async def test_an_empty_poll_answers_408_with_http_200(
    zalo: FakeZalo, client: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    status, body = await call(client, zalo, "getUpdates", timeout="1")  # a string, as documented
    elapsed = time.monotonic() - started
    assert status == 200
    assert body == {"ok": False, "error_code": 408, "description": "Request timeout"}
    assert 0.9 <= elapsed < 3


async def test_one_update_per_poll_each_consumed_once(
    zalo: FakeZalo, client: httpx.AsyncClient
) -> None:
    first = zalo.send_text(USER, "Xin chào", display_name="Nguyễn Văn A")
    second = zalo.send_text(USER, "/dangky")
    assert isinstance(first, str)
    assert first != second

    status, body = await call(client, zalo, "getUpdates", timeout=1)
    assert status == 200
    assert body["ok"] is True
    update = body["result"]
    assert update["event_name"] == EVENT_TEXT
    message = update["message"]
    assert message["message_id"] == first
    assert message["text"] == "Xin chào"
    assert message["chat"] == {"id": USER, "chat_type": "PRIVATE"}
    assert message["from"] == {"id": USER, "display_name": "Nguyễn Văn A", "is_bot": False}
    assert isinstance(message["date"], int)
    assert abs(message["date"] - time.time() * 1000) < 60_000  # epoch milliseconds

    _, body = await call(client, zalo, "getUpdates", timeout=1)
    assert body["result"]["message"]["message_id"] == second
    assert body["result"]["message"]["from"]["display_name"] == "Nguyễn Văn A"  # remembered

    _, body = await call(client, zalo, "getUpdates", timeout=0)
    assert body["error_code"] == 408
    assert zalo.pending_updates == []
    assert [u["message"]["message_id"] for u in zalo.delivered] == [first, second]


async def test_a_waiting_poll_returns_as_soon_as_an_update_arrives(
    zalo: FakeZalo, client: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(call(client, zalo, "getUpdates", timeout=5))
    await zalo.wait_for_call("getUpdates")
    message_id = zalo.send_text(USER, "muộn một chút")
    _, body = await poll
    assert time.monotonic() - started < 1
    assert body["result"]["message"]["message_id"] == message_id


async def test_an_abandoned_poll_does_not_swallow_the_next_update(
    zalo: FakeZalo, client: httpx.AsyncClient
) -> None:
    poll = asyncio.create_task(call(client, zalo, "getUpdates", timeout=5))
    await zalo.wait_for_call("getUpdates")
    poll.cancel()  # the client goes away; the server drops that poll
    with pytest.raises(asyncio.CancelledError):
        await poll
    await asyncio.sleep(0.1)
    message_id = zalo.send_text(USER, "sau khi khởi động lại")
    _, body = await call(client, zalo, "getUpdates", timeout=1)
    assert body["result"]["message"]["message_id"] == message_id


async def test_stopping_ends_a_waiting_poll_at_once(client: httpx.AsyncClient) -> None:
    async with FakeZalo() as zalo:
        poll = asyncio.create_task(call(client, zalo, "getUpdates", timeout=30))
        await zalo.wait_for_call("getUpdates")
        started = time.monotonic()
    status, body = await poll
    assert time.monotonic() - started < 2
    assert (status, body["error_code"]) == (200, 408)


async def test_redeliver_and_queue_raw_make_duplicates(
    zalo: FakeZalo, client: httpx.AsyncClient
) -> None:
    message_id = zalo.send_text(USER, "một lần thôi")
    _, first = await call(client, zalo, "getUpdates", timeout=1)
    assert zalo.redeliver(message_id) == message_id
    _, again = await call(client, zalo, "getUpdates", timeout=1)
    assert again["result"] == first["result"]

    zalo.queue_raw(first["result"])
    zalo.redeliver(first["result"])
    for _ in range(2):
        _, body = await call(client, zalo, "getUpdates", timeout=1)
        assert body["result"] == first["result"]


async def test_group_sticker_and_other_events(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    zalo.send_group_text("grp-1", USER, "chào cả nhóm")
    zalo.send_sticker(USER)
    zalo.send_event(EVENT_UNSUPPORTED, USER)

    _, body = await call(client, zalo, "getUpdates", timeout=1)
    message = body["result"]["message"]
    assert message["chat"] == {"id": "grp-1", "chat_type": "GROUP"}
    assert message["from"]["id"] == USER

    _, body = await call(client, zalo, "getUpdates", timeout=1)
    assert body["result"]["event_name"] == EVENT_STICKER
    assert isinstance(body["result"]["message"]["sticker"], str)
    assert body["result"]["message"]["url"].startswith("https://")

    _, body = await call(client, zalo, "getUpdates", timeout=1)
    assert body["result"]["event_name"] == EVENT_UNSUPPORTED
    assert "text" not in body["result"]["message"]


# ---------------------------------------------------------------------- sending


async def test_send_message_text_length_limits(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    for text in ("", "x" * 2001):
        status, body = await call(client, zalo, "sendMessage", chat_id=USER, text=text)
        assert status == 400
        assert body == {
            "ok": False,
            "error_code": 400,
            "description": "text length must be between 1 and 2000",
        }
    status, body = await call(client, zalo, "sendMessage", text="không có người nhận")
    assert (status, body["error_code"]) == (400, 400)
    assert zalo.sent == []

    status, body = await call(client, zalo, "sendMessage", chat_id=USER, text="ở" * 2000)
    assert status == 200
    assert body["ok"] is True
    result = body["result"]
    assert isinstance(result["message_id"], str)
    assert isinstance(result["date"], int)
    [sent] = zalo.messages_to(USER)
    assert (sent.message_id, sent.date, sent.text) == (
        result["message_id"],
        result["date"],
        "ở" * 2000,
    )
    assert sent.method == "sendMessage"
    assert zalo.message(sent.message_id) is sent


async def test_photo_sticker_and_chat_action(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    status, body = await call(client, zalo, "sendChatAction", chat_id=USER, action="typing")
    assert (status, body) == (200, {"ok": True})
    status, body = await call(client, zalo, "sendChatAction", chat_id=USER, action="dancing")
    assert (status, body["error_code"]) == (400, 400)

    status, body = await call(client, zalo, "sendPhoto", chat_id=USER, photo="not a url")
    assert status == 400
    status, body = await call(
        client, zalo, "sendPhoto", chat_id=USER, photo="https://example.org/a.jpg", caption="Ảnh"
    )
    assert status == 200
    assert isinstance(body["result"]["message_id"], str)
    status, body = await call(client, zalo, "sendSticker", chat_id=USER, sticker="abc123")
    assert status == 200

    photo, sticker = zalo.messages_to(USER)
    assert (photo.method, photo.photo, photo.text) == (
        "sendPhoto",
        "https://example.org/a.jpg",
        "Ảnh",
    )
    assert (sticker.method, sticker.sticker) == ("sendSticker", "abc123")
    assert zalo.calls_of("sendChatAction") == [
        {"chat_id": USER, "action": "typing"},
        {"chat_id": USER, "action": "dancing"},
    ]


async def test_mark_and_wait_for_messages(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    await call(client, zalo, "sendMessage", chat_id=USER, text="cũ")
    zalo.mark(USER)

    async def later() -> None:
        await asyncio.sleep(0.05)
        await call(client, zalo, "sendMessage", chat_id=USER, text="một")
        await call(client, zalo, "sendMessage", chat_id=USER, text="hai")

    task = asyncio.create_task(later())
    got = await zalo.wait_for_messages(USER, 2)
    await task
    assert [m.text for m in got] == ["một", "hai"]
    assert got[0].received_at <= got[1].received_at

    zalo.mark(USER)
    with pytest.raises(AssertionError, match=r"expected 1 message\(s\).*got 0"):
        await zalo.wait_for_messages(USER, 1, timeout=0.1)
    await call(client, zalo, "sendMessage", chat_id=USER, text="ba")
    with pytest.raises(AssertionError, match="'ba'"):
        await zalo.wait_for_messages(USER, 2, timeout=0.1)


# ---------------------------------------------------------------------- webhook


async def test_set_webhook_validates_the_secret(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    for secret in ("short", "x" * 257, None):
        status, body = await call(
            client, zalo, "setWebhook", url="https://example.org/hook", secret_token=secret
        )
        assert (status, body["ok"], body["error_code"]) == (400, False, 400)
    status, body = await call(client, zalo, "setWebhook", url="ftp://x", secret_token=SECRET)
    assert status == 400

    _, body = await call(client, zalo, "getWebhookInfo")
    assert body["result"]["url"] == ""
    status, body = await call(
        client, zalo, "setWebhook", url="https://example.org/hook", secret_token=SECRET
    )
    assert status == 200
    assert body["result"]["url"] == "https://example.org/hook"
    assert isinstance(body["result"]["updated_at"], int)
    _, info = await call(client, zalo, "getWebhookInfo")
    assert info["result"] == body["result"]


async def test_webhook_delivery_and_get_updates_refused(
    zalo: FakeZalo, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    status, _ = await call(client, zalo, "setWebhook", url=receiver.url, secret_token=SECRET)
    assert status == 200

    status, body = await call(client, zalo, "getUpdates", timeout=1)
    assert (status, body["ok"], body["error_code"]) == (409, False, 409)
    assert "webhook" in body["description"]

    message_id = zalo.send_text(USER, "qua webhook")
    [delivery] = await zalo.wait_for_deliveries(1)
    assert delivery.status == 200
    assert delivery.automatic
    [(headers, payload)] = receiver.requests
    assert headers[SECRET_HEADER] == SECRET
    assert payload == zalo.update_for(message_id)  # the bare update
    assert payload["event_name"] == EVENT_TEXT
    assert zalo.pending_updates == []

    # Tests can post with a wrong or missing secret and see what the bot answered.
    update = zalo.text_update(USER, "giả mạo")
    assert await zalo.post_to_webhook(update, secret="wrong-secret") == 403
    assert await zalo.post_to_webhook(update, secret=None) == 401
    assert await zalo.post_to_webhook(update) == 200
    assert [d.status for d in zalo.deliveries] == [200, 403, 401, 200]
    assert SECRET_HEADER not in receiver.requests[2][0]
    await zalo.wait_idle(quiet=0.05)

    # After deleteWebhook, polling works again and updates stop going to the webhook.
    _, body = await call(client, zalo, "deleteWebhook")
    assert body["result"]["url"] == ""
    zalo.send_text(USER, "qua polling")
    _, body = await call(client, zalo, "getUpdates", timeout=1)
    assert body["result"]["message"]["text"] == "qua polling"
    assert len(receiver.requests) == 4


async def test_wrapped_webhook_body_and_a_failing_receiver(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    async with FakeZalo(wrap_webhook=True) as zalo:
        await call(client, zalo, "setWebhook", url=receiver.url, secret_token="another-secret")
        message_id = zalo.send_text(USER, "bọc lại")
        [delivery] = await zalo.wait_for_deliveries(1)
        assert delivery.status == 403  # the receiver expects a different secret
        assert receiver.requests[0][1] == {"ok": True, "result": zalo.update_for(message_id)}

        # A delivery that cannot connect is recorded, not retried.
        await call(client, zalo, "setWebhook", url="http://127.0.0.1:9/none", secret_token=SECRET)
        zalo.send_text(USER, "không ai nghe")
        deliveries = await zalo.wait_for_deliveries(2)
        assert deliveries[1].status is None
        assert deliveries[1].error
        await zalo.wait_idle(quiet=0.05)


# ---------------------------------------------------------------------- photos


async def test_photo_is_served_until_it_expires(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    message_id = zalo.send_photo(USER, JPEG, caption="Ảnh mô hình")
    _, body = await call(client, zalo, "getUpdates", timeout=1)
    message = body["result"]["message"]
    assert body["result"]["event_name"] == EVENT_IMAGE
    assert message["caption"] == "Ảnh mô hình"
    url = message["photo_url"]
    assert url == zalo.photo_url(message_id)
    assert url.startswith(f"{zalo.base_url}/photos/")
    assert url.endswith(".jpg")

    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == JPEG
    assert zalo.photo_downloads(url) == 1

    zalo.expire_photo(url)
    response = await client.get(url)
    assert response.status_code == 404
    assert zalo.photo_downloads(url) == 1
    assert zalo.photo_requests == [(url, 200), (url, 404)]


async def test_photo_ttl(client: httpx.AsyncClient) -> None:
    async with FakeZalo(photo_ttl=0.2) as zalo:
        url = zalo.photo_url(zalo.send_photo(USER, JPEG))
        assert (await client.get(url)).status_code == 200
        await asyncio.sleep(0.3)
        assert (await client.get(url)).status_code == 404


# ---------------------------------------------------------------------- failure injection


async def test_injected_429_then_success(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    zalo.fail_next("sendMessage", times=2)
    for _ in range(2):
        status, body = await call(client, zalo, "sendMessage", chat_id=USER, text="thử")
        assert status == 429
        assert body == {"ok": False, "error_code": 429, "description": "Too Many Requests"}
    status, _ = await call(client, zalo, "sendMessage", chat_id=USER, text="thử")
    assert status == 200
    assert [m.text for m in zalo.messages_to(USER)] == ["thử"]
    assert len(zalo.calls_of("sendMessage")) == 3

    with pytest.raises(ValueError, match="unknown"):
        zalo.fail_next("sendMesage")


async def test_injected_5xx_and_proxy_page(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    zalo.fail_next("getUpdates", error_code=500, description="Internal Server Error")
    zalo.fail_next("getUpdates", error_code=502, body="<html>502 Bad Gateway</html>")
    status, body = await call(client, zalo, "getUpdates", timeout=1)
    assert (status, body["error_code"]) == (500, 500)
    response = await client.post(zalo.api_url("getUpdates"), json={"timeout": 1})
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "Bad Gateway" in response.text


async def test_blocked_user(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    zalo.block(USER)
    status, body = await call(client, zalo, "sendMessage", chat_id=USER, text="còn đó không?")
    assert (status, body["ok"], body["error_code"]) == (403, False, 403)
    status, _ = await call(client, zalo, "sendChatAction", chat_id=USER, action="typing")
    assert status == 403
    status, _ = await call(client, zalo, "sendMessage", chat_id="someone-else", text="chào")
    assert status == 200
    assert zalo.messages_to(USER) == []


async def test_wait_idle_and_wait_for_call(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    zalo.send_text(USER, "chưa ai nhận")
    with pytest.raises(AssertionError, match="1 queued update"):
        await zalo.wait_idle(quiet=0.05, timeout=0.2)
    with pytest.raises(AssertionError, match="expected 1 call"):
        await zalo.wait_for_call("getUpdates", timeout=0.1)

    await call(client, zalo, "getUpdates", timeout=1)
    [params] = await zalo.wait_for_call("getUpdates")
    assert params == {"timeout": 1}
    await zalo.wait_idle(quiet=0.05)
