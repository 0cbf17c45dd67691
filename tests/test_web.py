"""The bot's web server: download links, webhook secrets, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.files import FileLinks, ascii_name
from bot.telegram import SECRET_HEADER as TELEGRAM_SECRET_HEADER
from bot.telegram import webhook_route as telegram_webhook
from bot.web import build_web_app
from bot.zalo import SECRET_HEADER as ZALO_SECRET_HEADER
from bot.zalo import webhook_route as zalo_webhook
from domain.messages import Document
from tests.helpers import Clock

SECRET = "s3cret-Webhook_value"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Sink:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    async def dispatch(self, update: dict[str, Any]) -> None:
        self.updates.append(update)


@pytest.fixture
def now() -> Clock:
    return Clock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))


@pytest.fixture
def links(tmp_path: Path) -> FileLinks:
    return FileLinks(tmp_path, b"link-signing-key", "https://dvk.example.vn/", timedelta(hours=24))


@pytest.fixture
async def client(
    links: FileLinks, now: Clock
) -> AsyncIterator[tuple[TestClient[Any, Any], Sink, Sink]]:
    telegram, zalo = Sink(), Sink()
    routes = [telegram_webhook(telegram.dispatch), zalo_webhook(zalo.dispatch)]
    app = build_web_app(SECRET, routes, links, clock=now)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client, telegram, zalo


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_download_link_serves_the_file_to_its_owner(
    client: tuple[TestClient[Any, Any], Sink, Sink], links: FileLinks, now: Clock
) -> None:
    http, _, _ = client
    doc = Document("Phụ lục 1 - Đảng bộ phường Minh Khai 2026.xlsx", b"PK\x03\x04 data", XLSX)
    url = links.publish(doc, "zalo", "z-1", now())
    assert url.startswith("https://dvk.example.vn/files/")
    assert "/Phu_luc_1_-_Dang_bo_phuong_Minh_Khai_2026.xlsx?" in url
    response = await http.get(path_of(url))
    assert response.status == 200
    assert await response.read() == b"PK\x03\x04 data"
    assert response.headers["Content-Type"] == XLSX
    disposition = response.headers["Content-Disposition"]
    assert 'filename="Phu_luc_1_-_Dang_bo_phuong_Minh_Khai_2026.xlsx"' in disposition
    assert "filename*=UTF-8''Ph%E1%BB%A5%20l%E1%BB%A5c%201" in disposition
    assert response.headers["Cache-Control"] == "private, no-store"
    # Still valid just before it expires, refused after.
    now.advance(hours=23, minutes=59)
    assert (await http.get(path_of(url))).status == 200
    now.advance(minutes=2)
    expired = await http.get(path_of(url))
    assert expired.status == 403
    assert await expired.read() == b""


async def test_altered_or_foreign_links_reveal_nothing(
    client: tuple[TestClient[Any, Any], Sink, Sink], links: FileLinks, now: Clock
) -> None:
    http, _, _ = client
    mine = links.publish(Document("a.xlsx", b"mine", XLSX), "zalo", "z-1", now())
    theirs = links.publish(Document("b.xlsx", b"theirs", XLSX), "zalo", "z-2", now())
    parts = urlsplit(mine)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    file_id = parts.path.split("/")[2]
    other_id = urlsplit(theirs).path.split("/")[2]

    async def status(path: str, **changes: str) -> tuple[int, bytes]:
        response = await http.get(f"{path}?{urlencode({**query, **changes})}")
        return response.status, await response.read()

    later = str(int(query["e"]) + 3600)
    # Two characters of the signature changed (to something else than they were).
    altered = query["s"][:-2] + ("BB" if query["s"].endswith("AA") else "AA")
    assert await status(parts.path, s=altered) == (403, b"")
    assert await status(parts.path, e=later) == (403, b"")
    assert await status(parts.path, o="emFsbzp6LTI") == (403, b"")  # "zalo:z-2"
    assert await status(parts.path, s="") == (403, b"")
    # A correctly signed link of one person naming another person's file: not found.
    forged = links._sign(other_id, "zalo:z-1", int(query["e"]))
    assert await status(f"/files/{other_id}/b.xlsx", s=forged) == (404, b"")
    assert (await http.get("/files/../../etc/passwd")).status == 404
    assert await status(f"/files/{file_id[:-1]}Z/a.xlsx") == (403, b"")
    assert (await http.get(parts.path)).status == 403  # no query at all


async def test_expired_files_are_removed_from_disk(
    links: FileLinks, now: Clock, tmp_path: Path
) -> None:
    links.publish(Document("old.xlsx", b"1" * 10, XLSX), "zalo", "z-1", now())
    now.advance(hours=25)
    links.publish(Document("new.xlsx", b"2" * 10, XLSX), "zalo", "z-1", now())
    stored = sorted(p.suffix for p in (tmp_path / "links").iterdir())
    assert stored == [".bin", ".json"]
    assert links.prune(now()) == 0


@pytest.mark.parametrize(
    ("path", "header"),
    [("/webhook/zalo", ZALO_SECRET_HEADER), ("/webhook/telegram", TELEGRAM_SECRET_HEADER)],
)
async def test_webhooks_check_their_secret(
    client: tuple[TestClient[Any, Any], Sink, Sink], path: str, header: str
) -> None:
    http, telegram, zalo = client
    sink = zalo if "zalo" in path else telegram
    update = {"event_name": "message.text.received", "message": {"text": "xin chào"}}
    assert (await http.post(path, json=update)).status == 401
    assert (await http.post(path, json=update, headers={header: "wrong"})).status == 403
    other = ZALO_SECRET_HEADER if header == TELEGRAM_SECRET_HEADER else TELEGRAM_SECRET_HEADER
    assert (await http.post(path, json=update, headers={other: SECRET})).status == 401
    assert sink.updates == []
    ok = await http.post(path, json=update, headers={header: SECRET})
    assert ok.status == 200
    assert sink.updates == [update]
    bad = await http.post(path, data=b"not json", headers={header: SECRET})
    assert bad.status == 400
    assert len(sink.updates) == 1


async def test_health(client: tuple[TestClient[Any, Any], Sink, Sink]) -> None:
    http, _, _ = client
    response = await http.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "channels": ["telegram", "zalo"]}


def test_ascii_file_names() -> None:
    assert (
        ascii_name("Biểu chấm điểm - Đoàn Thanh niên.xlsx")
        == "Bieu_cham_diem_-_Doan_Thanh_nien.xlsx"
    )
    assert ascii_name("///") == "tep"
