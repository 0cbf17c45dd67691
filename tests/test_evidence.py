"""/minhchung: evidence photos and files through the core, and end to end on the fake Telegram
and Zalo servers: stored under FILES_DIR with size and type limits, listed, viewed, removed."""

from __future__ import annotations

import asyncio
import contextlib
import io
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.files import FileLinks
from bot.web import build_web_app
from bot.zalo import ZaloApi, ZaloChannel
from domain.messages import Attachment, Reply
from handlers.core import Core
from storage.evidence import fmt_size
from storage.models import AuditLog, ConversationState, Evidence
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.helpers import Chat, Clock, World, new_model
from tests.tg_harness import TgUser, running_bot

JPEG = b"\xff\xd8\xff\xe0" + b"\x00JFIF photo bytes" * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"png" * 100
PDF = b"%PDF-1.4\n" + b"pdf body " * 50
MAX_MB = 0.5  # 512 KB, so an over-size file stays small in tests
LIMITS = "ảnh JPEG, PNG, WEBP; tệp PDF, Word (DOC, DOCX), Excel (XLS, XLSX); mỗi tệp tối đa 512 KB"


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def core(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, files_dir: Path) -> Core:
    return Core(sessionmaker, clock=clock, files_dir=files_dir, max_evidence_mb=MAX_MB)


@pytest.fixture
async def record_id(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> int:
    return await new_model(sessionmaker, world.cell1, "Tuyến phố văn minh 2026", clock)


def upload(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return str(path)


async def evidence_rows(sm: async_sessionmaker[AsyncSession]) -> list[Evidence]:
    async with sm() as s:
        return list((await s.scalars(select(Evidence).order_by(Evidence.id))).all())


async def audit_actions(sm: async_sessionmaker[AsyncSession]) -> list[tuple[str, Any]]:
    async with sm() as s:
        rows = await s.scalars(
            select(AuditLog).where(AuditLog.entity == "evidence").order_by(AuditLog.id)
        )
        return [(a.action, a.details.get("caption")) for a in rows]


async def flow_state(sm: async_sessionmaker[AsyncSession], chat: str) -> tuple[Any, int] | None:
    async with sm() as s:
        row = await s.get(ConversationState, ("terminal", chat))
        return None if row is None else (row.data, row.version)


# --- through the core ---------------------------------------------------------------------------


async def test_a_photo_with_its_caption_and_a_file_captioned_next(
    core: Core,
    world: World,
    record_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
    files_dir: Path,
    tmp_path: Path,
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/minhchung")
    # One unit, one model: both picked for her, and said; straight to its (empty) list.
    assert lan.last.text.startswith(
        "Đơn vị: Chi bộ Tổ dân phố 1 (chỉ có một đơn vị phù hợp nên trợ lý chọn sẵn).\n"
        "Mô hình: “Tuyến phố văn minh 2026 (0 minh chứng)” (mô hình duy nhất năm 2026 của "
        "Chi bộ Tổ dân phố 1 nên trợ lý chọn sẵn).\n"
        "\n"
        "Minh chứng — Tuyến phố văn minh 2026\n"
        "Mô hình “Tuyến phố văn minh 2026” — Chi bộ Tổ dân phố 1, năm 2026.\n"
        "Chưa có minh chứng nào. Gửi ngay ảnh hoặc tệp để thêm.\n"
        f"(Nhận {LIMITS}.)"
    )
    assert [o.label for o in lan.last.options] == ["➕ Gửi thêm minh chứng", "Xong"]

    # A photo sent at the list, its caption in the same message: saved at once.
    photo = upload(tmp_path, "p1.jpg", JPEG)
    await lan.send("Ra quân dọn vệ sinh tổ 1", attachment=Attachment("photo", path=photo))
    assert lan.replies[0] == Reply(
        f"✅ Đã lưu minh chứng số 1 (ảnh, {fmt_size(len(JPEG))}) cho mô hình "
        "“Tuyến phố văn minh 2026”."
    )
    assert "1. 📷 Ảnh — “Ra quân dọn vệ sinh tổ 1” — 02/03/2026 — 1 KB" in lan.last.text

    # A file after “thêm”, without a caption: the caption is asked next (typed, no diacritics
    # needed for the buttons).
    await lan.send("them")
    assert "Gửi ảnh hoặc tệp minh chứng cho mô hình “Tuyến phố văn minh 2026”" in lan.last.text
    pdf = upload(tmp_path, "bao-cao.pdf", PDF)
    await lan.send(attachment=Attachment("document", path=pdf, file_name="Báo cáo quý I.pdf"))
    assert "Chú thích cho minh chứng này" in lan.last.text
    await lan.send("Báo cáo kết quả quý I")
    assert lan.replies[0].text.startswith("✅ Đã lưu minh chứng số 2 (tệp Báo cáo quý I.pdf,")
    assert "2. 📄 Báo cáo quý I.pdf — “Báo cáo kết quả quý I” — 02/03/2026 — 1 KB" in lan.last.text
    assert [o.label for o in lan.last.options] == [
        "Xem minh chứng 1",
        "Xem minh chứng 2",
        "➕ Gửi thêm minh chứng",
        "Xong",
    ]

    rows = await evidence_rows(sessionmaker)
    assert [(e.kind, e.mime_type, e.size, e.caption, e.file_name) for e in rows] == [
        ("photo", "image/jpeg", len(JPEG), "Ra quân dọn vệ sinh tổ 1", None),
        ("document", "application/pdf", len(PDF), "Báo cáo kết quả quý I", "Báo cáo quý I.pdf"),
    ]
    for e, content, ext in zip(rows, (JPEG, PDF), (".jpg", ".pdf"), strict=True):
        assert e.model_year_id == record_id
        assert e.path.startswith(f"evidence/2026/{record_id}/")
        assert e.path.endswith(ext)
        assert (files_dir / e.path).read_bytes() == content
        assert (e.uploaded_by, e.uploaded_via) == (world.officer.id, "terminal")
    assert list((files_dir / "evidence" / "pending").iterdir()) == []
    assert await audit_actions(sessionmaker) == [
        ("add_evidence", "Ra quân dọn vệ sinh tổ 1"),
        ("add_evidence", "Báo cáo kết quả quý I"),
    ]

    # View one: the file comes back, then what to do with it.
    await lan.send("1")
    view, menu = lan.replies
    assert view.text == "1. 📷 Ảnh — “Ra quân dọn vệ sinh tổ 1” — 02/03/2026 — 1 KB"
    assert view.document is not None
    assert (view.document.content, view.document.mime_type) == (JPEG, "image/jpeg")
    assert view.document.file_name == f"minh_chung_{record_id}_1.jpg"
    assert "Minh chứng số 1 của mô hình “Tuyến phố văn minh 2026” (gửi bởi Nguyễn Thị Lan)." in (
        menu.text
    )
    await lan.tap("Về danh sách minh chứng")
    assert "Minh chứng đã có (2):" in lan.last.text
    await lan.tap("Xong")
    assert lan.last.text == "Xong. Gõ /minhchung để xem hoặc gửi thêm minh chứng."
    assert await flow_state(sessionmaker, "lan") is None


async def test_over_size_and_wrong_type_are_refused_on_the_step(
    core: Core,
    world: World,
    record_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
    files_dir: Path,
    tmp_path: Path,
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/minhchung")
    await lan.send("them")
    before = await flow_state(sessionmaker, "lan")
    big = upload(tmp_path, "big.jpg", JPEG + b"\x00" * 600_000)
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"attachment": Attachment("photo", path=big)},
            "Ảnh này nặng 587 KB, vượt quá giới hạn 512 KB cho mỗi minh chứng nên chưa nhận "
            "được. Vui lòng gửi tệp nhỏ hơn (ảnh JPEG, PNG, WEBP; tệp PDF, Word (DOC, DOCX), "
            "Excel (XLS, XLSX)).",
        ),
        (
            {
                "attachment": Attachment(
                    "document", path=upload(tmp_path, "setup.exe", b"MZ\x90\x00"), file_name="a.exe"
                )
            },
            f"Tệp “a.exe” không thuộc loại được nhận. Minh chứng chỉ nhận {LIMITS}. "
            "Vui lòng gửi lại tệp đúng loại.",
        ),
        (
            # A spreadsheet named .docx is read for what it is; a zip of anything else is not.
            {
                "attachment": Attachment(
                    "document",
                    path=upload(tmp_path, "x.zip", _zip("other/a.txt")),
                    file_name="x.docx",
                )
            },
            "Tệp “x.docx” không thuộc loại được nhận.",
        ),
        (
            {"attachment": Attachment("sticker", file_id="s1")},
            "Nhãn dán, tin nhắn thoại hay loại tin này không dùng làm minh chứng được.",
        ),
        (
            {"attachment": Attachment("photo", file_id="lost")},  # the download failed
            "Trợ lý chưa nhận được ảnh hoặc tệp này. Vui lòng gửi lại",
        ),
        ({"text": "đây là ảnh"}, "Ở bước này cần gửi ảnh hoặc tệp (bấm biểu tượng đính kèm)"),
    ]
    for message, note in cases:
        await lan.send(**message)
        assert lan.last.text.startswith(note), lan.last.text
        assert "Minh chứng — Tuyến phố văn minh 2026\nGửi ảnh hoặc tệp" in (lan.last.text)
        assert await flow_state(sessionmaker, "lan") == before  # nothing moved
    assert await evidence_rows(sessionmaker) == []
    assert not (files_dir / "evidence" / "pending").exists() or not list(
        (files_dir / "evidence" / "pending").iterdir()
    )
    # The officer is still there: a good file goes through.
    xlsx = upload(tmp_path, "t.xlsx", _zip("xl/workbook.xml", "[Content_Types].xml"))
    await lan.send("Bảng kê", attachment=Attachment("document", path=xlsx, file_name="Bảng kê"))
    assert lan.replies[0].text.startswith("✅ Đã lưu minh chứng số 1 (tệp Bảng kê,")
    [row] = await evidence_rows(sessionmaker)
    assert (row.mime_type, row.path.endswith(".xlsx")) == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        True,
    )


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in names:
            zf.writestr(name, "x")
    return buffer.getvalue()


async def test_cancelled_upload_saves_nothing(
    core: Core,
    world: World,
    record_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/minhchung")
    await lan.send("them")
    await lan.send(attachment=Attachment("photo", path=upload(tmp_path, "a.png", PNG)))
    assert "Chú thích cho minh chứng này" in lan.last.text
    await lan.send("hủy")
    assert lan.last.text == "Đã hủy “Minh chứng — Tuyến phố văn minh 2026”. Không có gì được lưu."
    assert await evidence_rows(sessionmaker) == []
    # Cancelled after evidence was saved (the list reopens after each), the saved stays and
    # the officer is told so.
    await lan.send("/minhchung")
    await lan.send(attachment=Attachment("photo", path=upload(tmp_path, "b.png", PNG)))
    await lan.send("bỏ qua")
    assert lan.replies[0].text.startswith("✅ Đã lưu minh chứng số 1 (ảnh,")
    assert "Minh chứng đã có (1):" in lan.last.text
    await lan.send("hủy")
    assert lan.replies == [
        Reply(
            "Đã hủy “Minh chứng — Tuyến phố văn minh 2026”. "
            "1 minh chứng đã gửi trước đó vẫn được lưu."
        )
    ]
    assert len(await evidence_rows(sessionmaker)) == 1


async def test_only_ones_own_evidence_or_a_leader_may_remove_it(
    core: Core,
    world: World,
    record_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    files_dir: Path,
    tmp_path: Path,
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/minhchung")
    await lan.send(
        "Lễ ra quân", attachment=Attachment("photo", path=upload(tmp_path, "1.jpg", JPEG))
    )
    [saved] = await evidence_rows(sessionmaker)

    # Another officer of the same cell (and of a cell without models: not offered) sees it
    # but may not remove it.
    minh = Chat(core, "minh")
    await minh.send("/minhchung")
    assert "Minh chứng đã có (1):" in minh.last.text
    await minh.send("1")
    assert "Chỉ người gửi hoặc lãnh đạo đơn vị mới xóa được minh chứng này." in minh.last.text
    assert [o.label for o in minh.last.options] == ["Về danh sách minh chứng", "Xong"]
    await minh.send("/huy")

    # An outsider has nothing to reach.
    tuan = Chat(core, "tuan")
    await tuan.send("/minhchung")
    assert tuan.last.text == (
        "Chưa có mô hình nào năm 2026 để gửi minh chứng. Gõ /dangky để đăng ký mô hình trước."
    )

    # The ward's leader may remove it: first the unit (those with models), then the model.
    await new_model(sessionmaker, world.women, "Phụ nữ giúp nhau", clock)
    hung = Chat(core, "hung")
    await hung.send("/minhchung")
    assert "Minh chứng cho mô hình của đơn vị nào?" in hung.last.text
    assert [o.label for o in hung.last.options] == ["Chi bộ Tổ dân phố 1", "Hội LHPN phường"]
    await hung.send("chi bo to dan pho 1")
    # The unit's only model is picked for him, and said: straight to its evidence.
    assert hung.last.text.startswith(
        "Mô hình: “Tuyến phố văn minh 2026 (1 minh chứng)” (mô hình duy nhất năm 2026 của "
        "Chi bộ Tổ dân phố 1 nên trợ lý chọn sẵn).\n\n"
    )
    assert "Minh chứng đã có (1):" in hung.last.text
    await hung.send("1")  # its evidence 1
    await hung.tap("Xóa minh chứng này")
    assert "Xóa minh chứng số 1 (📷 Ảnh — “Lễ ra quân” — 02/03/2026 — 1 KB)" in hung.last.text
    await hung.send("co")
    assert hung.replies[0].text == "Đã xóa minh chứng số 1 của mô hình “Tuyến phố văn minh 2026”."
    assert "Chưa có minh chứng nào." in hung.last.text
    assert await evidence_rows(sessionmaker) == []
    assert not (files_dir / saved.path).exists()
    async with sessionmaker() as s:
        removed = await s.scalar(select(AuditLog).where(AuditLog.action == "remove_evidence"))
        assert removed is not None
        assert (removed.person_id, removed.entity_id) == (world.leader.id, saved.id)
        assert removed.details["uploaded_by"] == world.officer.id


async def test_the_officer_removes_their_own_and_the_list_does_not_block_commands(
    core: Core,
    world: World,
    record_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/minhchung")
    await lan.send("Ảnh 1", attachment=Attachment("photo", path=upload(tmp_path, "1.jpg", JPEG)))
    await lan.send("1")
    await lan.tap("Xóa minh chứng này")
    await lan.tap("Không")
    assert lan.replies[0].text == "Đã giữ nguyên minh chứng, không xóa."
    assert len(await evidence_rows(sessionmaker)) == 1
    await lan.send("1")
    await lan.tap("Xóa minh chứng này")
    await lan.tap("Có, xóa")
    assert await evidence_rows(sessionmaker) == []
    # Left at the list: another command just works (nothing half-written is lost) …
    await lan.send("/mohinh")
    assert "Mô hình “Tuyến phố văn minh 2026” — Chi bộ Tổ dân phố 1, năm 2026" in lan.last.text
    assert lan.last.text.endswith("Đồng chí muốn làm gì?")
    await lan.send("/huy")
    # … but not in the middle of an upload.
    await lan.send("/minhchung")
    await lan.send("them")
    await lan.send("/mohinh")
    assert lan.last.text.startswith("Đồng chí đang làm dở “Minh chứng — Tuyến phố văn minh 2026”.")


# --- end to end ---------------------------------------------------------------------------------


async def test_telegram_photo_and_file_end_to_end(
    core: Core,
    world: World,
    record_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
    files_dir: Path,
) -> None:
    async with FakeTelegram() as fake, running_bot(fake, core):
        assert [c["command"] for c in fake.calls_of("setMyCommands")[0]["commands"]][:2] == [
            "dangky",
            "mohinh",
        ]
        lan = TgUser(fake, 1001, "Lan")
        await lan.say("/minhchung")
        assert "Chưa có minh chứng nào" in lan.last.plain_text
        fake.mark(1001)
        fake.send_photo(1001, "photo-1", caption="Họp dân tổ 1", content=JPEG)
        await lan._collect(2)
        assert "✅ Đã lưu minh chứng số 1 (ảnh," in lan.got[0].plain_text

        # Too large for the limit: refused before downloading, limits named.
        fake.mark(1001)
        fake.send_document(1001, "big-1", "So lieu.pdf", content=PDF + b" " * 600_000)
        [refusal] = await fake.wait_for_messages(1001, 1)
        size = fmt_size(len(PDF) + 600_000)
        assert refusal.plain_text.startswith(
            f"Tệp “So lieu.pdf” nặng {size}, vượt quá giới hạn 512 KB cho mỗi minh chứng"
        )
        assert all(c.get("file_id") != "big-1" for c in fake.calls_of("getFile"))

        # A file, its caption typed next.
        await lan.tap("➕ Gửi thêm minh chứng")
        fake.mark(1001)
        fake.send_document(1001, "doc-1", "Kế hoạch.pdf", content=PDF, mime_type="application/pdf")
        await lan._collect(1)
        assert "Chú thích cho minh chứng này" in lan.last.plain_text
        await lan.say("Kế hoạch số 12", expect=2)
        assert "Minh chứng đã có (2):" in lan.last.plain_text

        # Viewing: the photo comes back as a photo, the file as a document.
        await lan.tap("Xem minh chứng 1", expect=2)
        sent_photo = lan.got[0]
        assert sent_photo.method == "sendPhoto"
        assert sent_photo.photo is not None
        assert sent_photo.photo.content == JPEG
        await lan.tap("Về danh sách minh chứng")
        await lan.tap("Xem minh chứng 2", expect=2)
        sent_doc = lan.got[0]
        assert sent_doc.method == "sendDocument"
        assert sent_doc.document is not None
        assert sent_doc.document == ("Kế hoạch.pdf", PDF)
    rows = await evidence_rows(sessionmaker)
    assert [(e.kind, e.caption, e.uploaded_via) for e in rows] == [
        ("photo", "Họp dân tổ 1", "telegram"),
        ("document", "Kế hoạch số 12", "telegram"),
    ]
    # The bot's own copies of incoming files are gone once handled.
    assert list((files_dir / "incoming" / "telegram").iterdir()) == []


@contextlib.asynccontextmanager
async def zalo_running(
    core: Core, tmp_path: Path, max_photo_bytes: int = 10 * 1024 * 1024
) -> AsyncIterator[tuple[FakeZalo, ZaloChannel, FileLinks]]:
    links = FileLinks(tmp_path / "links", b"k" * 32, "http://placeholder", timedelta(hours=24))
    async with FakeZalo() as fake:
        api = ZaloApi(fake.token, fake.base_url)
        channel = ZaloChannel(
            core,
            api,
            links,
            photo_dir=tmp_path / "zalo",
            max_photo_bytes=max_photo_bytes,
            clock=core.clock,
        )
        app = build_web_app("zalo-secret-1234", [channel.webhook], links, clock=core.clock)
        from aiohttp.test_utils import TestServer

        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        links.base_url = str(server.make_url("")).rstrip("/")
        task = asyncio.create_task(channel.run_polling())
        await fake.wait_for_call("getUpdates")
        try:
            yield fake, channel, links
        finally:
            channel.stop()
            await asyncio.wait_for(task, 10)
            await channel.drain()
            await api.close()
            await server.close()


async def test_zalo_photo_end_to_end_and_a_personal_download_link(
    core: Core,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    tmp_path: Path,
) -> None:
    await new_model(sessionmaker, world.cell2, "Đèn đường tự quản", clock)
    async with zalo_running(core, tmp_path) as (fake, _channel, _links):
        user = "8000000001"
        fake.mark(user)
        fake.send_text(user, f"/start {world.invites['cell2']}", "Hoa")
        await fake.wait_for_messages(user, 1)
        fake.mark(user)
        fake.send_text(user, "Đỗ Thị Hoa")
        await fake.wait_for_messages(user, 1)
        fake.mark(user)
        fake.send_text(user, "/minhchung")
        [listing] = await fake.wait_for_messages(user, 1)
        assert "1. ➕ Gửi thêm minh chứng\n2. Xong" in listing.text
        fake.mark(user)
        message_id = fake.send_photo(user, JPEG, caption="Đèn đã lắp ở tổ 2")
        saved, listing = await fake.wait_for_messages(user, 2)
        fake.expire_photo(fake.photo_url(message_id))
        assert saved.text.startswith("✅ Đã lưu minh chứng số 1 (ảnh,")
        assert "1. 📷 Ảnh — “Đèn đã lắp ở tổ 2” — 02/03/2026 — 1 KB" in listing.text
        assert "1. Xem minh chứng 1" in listing.text

        fake.mark(user)
        fake.send_text(user, "1")
        view, _menu = await fake.wait_for_messages(user, 2)
        assert "Tải tệp minh_chung_" in view.text
        assert "(hiệu lực 24 giờ, chỉ dành cho đồng chí)" in (view.text)
        url = view.text.rsplit("\n", 1)[-1]
        async with httpx.AsyncClient() as http:
            got = await http.get(url)
        assert (got.status_code, got.content, got.headers["content-type"]) == (
            200,
            JPEG,
            "image/jpeg",
        )
    [row] = await evidence_rows(sessionmaker)
    assert (row.kind, row.caption, row.uploaded_via, row.size) == (
        "photo",
        "Đèn đã lắp ở tổ 2",
        "zalo",
        len(JPEG),
    )


async def test_zalo_photo_over_the_limit_is_refused_with_the_limit_named(
    core: Core,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    tmp_path: Path,
) -> None:
    await new_model(sessionmaker, world.cell2, "Đèn đường tự quản", clock)
    big = JPEG + b"\0" * 4096
    async with zalo_running(core, tmp_path, max_photo_bytes=2048) as (fake, _channel, _links):
        user = "8000000002"
        fake.send_text(user, f"/start {world.invites['cell2']}", "Hoa")
        await fake.wait_for_messages(user, 1)
        fake.mark(user)
        fake.send_text(user, "Đỗ Thị Hoa")
        await fake.wait_for_messages(user, 1)
        fake.mark(user)
        fake.send_text(user, "/minhchung")
        await fake.wait_for_messages(user, 1)
        fake.mark(user)
        fake.send_photo(user, big, caption="Ảnh quá lớn")
        [refusal] = await fake.wait_for_messages(user, 1)
        assert "vượt quá giới hạn 2 KB" in refusal.text
        assert "Vui lòng gửi tệp nhỏ hơn" in refusal.text
        # The officer is still at the list: a photo within the limit is taken.
        fake.mark(user)
        fake.send_photo(user, JPEG, caption="Ảnh vừa")
        saved, _listing = await fake.wait_for_messages(user, 2)
        assert saved.text.startswith("✅ Đã lưu minh chứng số 1 (ảnh,")
    [row] = await evidence_rows(sessionmaker)
    assert row.caption == "Ảnh vừa"
    # The bot's own downloads are removed once handled; the evidence keeps its copy.
    assert not (tmp_path / "zalo").exists() or list((tmp_path / "zalo").iterdir()) == []
