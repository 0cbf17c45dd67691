"""The real Zalo channel against the fake Zalo Bot API server, by polling and by webhook."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.files import FileLinks
from bot.web import build_web_app
from bot.zalo import TEXT_LIMIT, ZaloApi, ZaloChannel
from domain.messages import Document, Reply
from handlers.core import Core
from storage.models import ModelYear
from tests.fake_zalo import FakeZalo, SentMessage
from tests.helpers import World

SECRET = "zalo-webhook-secret-123"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ZaloUser:
    def __init__(self, fake: FakeZalo, user_id: str, name: str = "Cán bộ Zalo") -> None:
        self.fake = fake
        self.user_id = user_id
        self.name = name
        self.got: list[SentMessage] = []

    async def say(self, text: str, expect: int = 1) -> list[SentMessage]:
        self.fake.mark(self.user_id)
        self.fake.send_text(self.user_id, text, self.name)
        self.got = await self.fake.wait_for_messages(self.user_id, expect)
        return self.got

    @property
    def last(self) -> str:
        assert self.got
        return self.got[-1].text


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as server:
        yield server


@pytest.fixture
def links(tmp_path: Path) -> FileLinks:
    return FileLinks(tmp_path / "files", b"k" * 32, "http://placeholder", timedelta(hours=24))


@pytest.fixture
async def channel(
    fake: FakeZalo, core: Core, links: FileLinks, tmp_path: Path
) -> AsyncIterator[ZaloChannel]:
    api = ZaloApi(fake.token, fake.base_url)
    zalo = ZaloChannel(core, api, links, photo_dir=tmp_path / "photos", clock=core.clock)
    yield zalo
    await zalo.drain()
    await api.close()


@contextlib.asynccontextmanager
async def polling(fake: FakeZalo, channel: ZaloChannel) -> AsyncIterator[None]:
    task = asyncio.create_task(channel.run_polling())
    await fake.wait_for_call("getUpdates")
    try:
        yield
    finally:
        channel.stop()
        await asyncio.wait_for(task, 10)


@contextlib.asynccontextmanager
async def web_server(channel: ZaloChannel, links: FileLinks) -> AsyncIterator[str]:
    app = build_web_app(SECRET, [channel.webhook], links, clock=channel.clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    links.base_url = base
    try:
        yield base
    finally:
        await server.close()


async def saved(sm: async_sessionmaker[AsyncSession]) -> list[ModelYear]:
    async with sm() as session:
        rows = await session.scalars(select(ModelYear).where(ModelYear.year == 2026))
        return list(rows.all())


async def join(user: ZaloUser, world: World, full_name: str) -> None:
    await user.say(f"/start {world.invites['cell2']}")
    assert "họ và tên" in user.last
    await user.say(full_name)
    assert f"Chào {full_name}! Đồng chí đã tham gia Chi bộ Tổ dân phố 2" in user.last


async def test_registration_answered_by_numbers(
    fake: FakeZalo,
    channel: ZaloChannel,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with polling(fake, channel):
        user = ZaloUser(fake, "8000000001")
        await join(user, world, "Đỗ Văn Nam")
        await user.say("/dangky")
        assert "Đăng ký mô hình năm 2026 — Bước 1/7" in user.last
        await user.say("Dân vận khéo trong xây dựng nông thôn mới")
        assert "Bước 2/7" in user.last
        # Options are a numbered list with the hint, never buttons.
        assert "1. Kinh tế (KT)" in user.last
        assert "(Trả lời số 1–5 hoặc gõ tên lựa chọn)" in user.last
        await user.say("1")
        await user.say("2")  # Cá nhân
        assert "Bước 4/7" in user.last
        await user.say("Ông Nguyễn Văn Bình")
        await user.say("Thôn Đồng Tâm")
        await user.say("1")
        await user.say("15 hộ, 2 ha")
        assert "kiểm tra lại trước khi lưu" in user.last
        assert "3. Chủ thể: Cá nhân\n4. Tên tập thể / cá nhân: Ông Nguyễn Văn Bình" in user.last
        # The summary's lines are the numbers to type; saving is a word.
        assert user.last.endswith(
            "7. Quy mô: 15 hộ, 2 ha\n\n(Gõ số 1–7 để sửa mục đó)\nGõ “lưu” · “quay lại” · “hủy”"
        )
        assert "Sửa: Tên mô hình" not in user.last
        await user.say("1")  # edits line 1
        assert "Đăng ký mô hình năm 2026 — Sửa: Tên mô hình\n" in user.last
        assert "(Hiện tại: Dân vận khéo trong xây dựng nông thôn mới)" in user.last
        await user.say("giữ nguyên")
        assert "kiểm tra lại trước khi lưu" in user.last
        await user.say("lưu")
        assert "Đã lưu mô hình xây dựng mới năm 2026 của Chi bộ Tổ dân phố 2" in user.last
    [record] = await saved(sessionmaker)
    assert (record.name, record.field, record.subject) == (
        "Dân vận khéo trong xây dựng nông thôn mới",
        "KT",
        "individual",
    )
    assert all(len(m.text) <= TEXT_LIMIT for m in fake.messages_to("8000000001"))


async def test_registration_by_labels_typed_without_diacritics(
    fake: FakeZalo,
    channel: ZaloChannel,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with polling(fake, channel):
        user = ZaloUser(fake, "8000000002")
        await join(user, world, "Lò Thị Mai")
        await user.say("/dangky")
        for answer in (
            "Phu nu giu gin net dep van hoa",
            "van hoa xa hoi",
            "TAP THE",
            "Chi hoi Phu nu thon",
            "Thon Dong Tam",
            "hoi lhpn",
            "40 hoi vien",
        ):
            await user.say(answer)
            assert "Chưa nhận ra" not in user.last, user.last
        await user.say("luu")
        assert "Đã lưu mô hình" in user.last
    [record] = await saved(sessionmaker)
    assert (record.field, record.subject, record.lead_body) == ("VHXH", "collective", "Hội LHPN")


async def test_a_long_summary_arrives_in_order_in_parts(
    fake: FakeZalo,
    channel: ZaloChannel,
    world: World,
) -> None:
    async with polling(fake, channel):
        user = ZaloUser(fake, "8000000003")
        await join(user, world, "Hà Văn Long")
        await user.say("/dangky")
        # Within each step's limit (names 300, other text 1000), together over 2,000.
        long = {
            "subject": "Tập thể " + "rất dài " * 35,
            "place": "Địa bàn " + "rất dài " * 100,
            "scale": "Quy mô " + "rất dài " * 110,
        }
        for answer in (
            "Mô hình có mô tả dài",
            "kinh te",
            "tap the",
            long["subject"],
            long["place"],
            "Chi bộ",
        ):
            await user.say(answer)
        parts = await user.say(long["scale"], expect=2)
    assert len(parts) >= 2
    assert all(0 < len(p.text) <= TEXT_LIMIT for p in parts)
    whole = "\n".join(p.text for p in parts)
    # Every line arrives whole and in the order of the summary.
    lines = ("1. Tên mô hình", "3. Chủ thể", "4. Tên tập thể / cá nhân", "5. Địa điểm", "7. Quy mô")
    order = [whole.index(f"\n{line}:") for line in lines]
    assert order == sorted(order)
    assert long["scale"].strip() in whole
    # The options are the numbered lines: not listed again.
    assert "Sửa: Quy mô" not in whole
    assert whole.endswith("\n\n(Gõ số 1–7 để sửa mục đó)\nGõ “lưu” · “quay lại” · “hủy”")


async def test_a_photo_is_fetched_at_once_and_the_officer_stays_on_the_step(
    fake: FakeZalo, channel: ZaloChannel, world: World, tmp_path: Path
) -> None:
    async with polling(fake, channel):
        user = ZaloUser(fake, "8000000004")
        await join(user, world, "Vi Văn Sơn")
        await user.say("/dangky")
        fake.mark(user.user_id)
        message_id = fake.send_photo(user.user_id, b"\xff\xd8\xff JPEG bytes")
        [reply] = await fake.wait_for_messages(user.user_id, 1)
        url = fake.photo_url(message_id)
        fake.expire_photo(url)
        assert fake.photo_downloads(url) == 1
        assert "Bước 1/7" in reply.text  # still asking for the model's name
    # Fetched once, handed to the core, then the bot's own copy is removed (a flow that
    # takes photos, /minhchung, keeps its own): nothing piles up in the incoming folder.
    assert list((tmp_path / "photos").iterdir()) == []


async def test_webhook_secret_and_a_duplicated_delivery(
    fake: FakeZalo,
    channel: ZaloChannel,
    links: FileLinks,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with web_server(channel, links) as base:
        api = channel.api
        await api.call("setWebhook", url=f"{base}/webhook/zalo", secret_token=SECRET)
        # getUpdates is refused while the webhook is set: nothing polls.
        user = ZaloUser(fake, "8000000005")
        await join(user, world, "Tòng Thị Hiền")
        assert {d.status for d in fake.deliveries} == {200}

        update = fake.text_update(user.user_id, "/dangky")
        fake.mark(user.user_id)
        assert await fake.post_to_webhook(update, secret=None) == 401
        assert await fake.post_to_webhook(update, secret="wrong-secret") == 403
        await fake.wait_idle()
        await channel.drain()
        assert fake.messages_to(user.user_id)[-1].text.startswith("Chào Tòng Thị Hiền!")

        await user.say("/dangky")
        for answer in ("Mô hình webhook", "1", "1", "Tổ 3", "Tổ 3", "1", "10 hộ"):
            await user.say(answer)
        final = fake.text_update(user.user_id, "luu")
        fake.mark(user.user_id)
        # The same update delivered twice, the second wrapped in {ok, result}.
        assert await fake.post_to_webhook(final) == 200
        assert await fake.post_to_webhook({"ok": True, "result": final}) == 200
        await fake.wait_for_messages(user.user_id, 1)
        await channel.drain()
        await fake.wait_idle()
    saved_now = await saved(sessionmaker)
    assert [r.name for r in saved_now] == ["Mô hình webhook"]
    replies = fake.messages_to(user.user_id)[-2:]
    assert sum("Đã lưu mô hình" in m.text for m in replies) == 1


async def test_a_document_becomes_a_personal_download_link(
    fake: FakeZalo, channel: ZaloChannel, links: FileLinks
) -> None:
    async with web_server(channel, links):
        doc = Document("Phụ lục 1 - năm 2026.xlsx", b"PK workbook", XLSX)
        await channel.send("8000000006", "8000000006", [Reply("Biểu tổng hợp:", document=doc)])
        [message] = fake.messages_to("8000000006")
        assert message.text.startswith("Biểu tổng hợp:\n\nTải tệp Phụ lục 1 - năm 2026.xlsx")
        assert "hiệu lực 24 giờ, chỉ dành cho đồng chí" in message.text
        url = message.text.rsplit("\n", 1)[-1]
        async with httpx.AsyncClient() as http:
            ok = await http.get(url)
            assert ok.status_code == 200
            assert ok.content == b"PK workbook"
            assert ok.headers["content-type"] == XLSX
            tampered = await http.get(url.replace("&s=", "&s=x"))
            assert tampered.status_code == 403
            assert tampered.content == b""


async def test_group_chats_and_blocked_users(fake: FakeZalo, channel: ZaloChannel) -> None:
    async with polling(fake, channel):
        fake.send_group_text("g-1", "8000000007", "/dangky")
        [reply] = await fake.wait_for_messages("g-1", 1)
        assert reply.text == "Vui lòng nhắn riêng cho trợ lý (không dùng trong nhóm)."
        fake.block("8000000008")
        fake.send_text("8000000008", "/dangky")
        await fake.wait_idle()
        assert fake.messages_to("8000000008") == []
        # The channel goes on serving others.
        user = ZaloUser(fake, "8000000009")
        await user.say("/start")
        assert "mã mời" in user.last


async def test_quota_and_server_errors_are_waited_out_and_nothing_is_sent_twice(
    fake: FakeZalo, channel: ZaloChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def quick_sleep(seconds: float) -> None:
        pauses.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr("bot.zalo.asyncio.sleep", quick_sleep)
    fake.fail_next("sendMessage", 429, times=2)
    fake.fail_next("sendMessage", 502, "Bad Gateway", body="<html>502</html>")
    await channel.send("8000000010", "8000000010", [Reply("Một"), Reply("Hai")])
    assert [m.text for m in fake.messages_to("8000000010")] == ["Một", "Hai"]
    assert pauses == [1.0, 2.0, 4.0]
    # A getUpdates failure does not stop polling: it is retried after a pause.
    fake.fail_next("getUpdates", 500, "Internal Server Error")
    monkeypatch.undo()
    async with polling(fake, channel):
        fake.send_text("8000000011", "/start")
        [reply] = await fake.wait_for_messages("8000000011", 1, timeout=10)
        assert "mã mời" in reply.text
