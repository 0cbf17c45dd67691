"""/gioithieu: the introduction of a typical model (Hướng dẫn giới thiệu mô hình, Quảng Ngãi) saved,
reopened from the saved answers and edited; the introductions as a workbook (/xuat intro, dvk export
intro)."""

from __future__ import annotations

import io
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import run_command
from bot.settings import Settings
from domain.messages import Attachment
from handlers.core import Core
from reports.signing import FOOTER_TEXT, MAKER, MAKER_HINT, PLACE_DATE, SIGNER_HINT
from storage.models import AuditLog, ModelIntro
from tests.helpers import Chat, Clock, World, new_model

ONLY_ONE = (
    "Đơn vị: Chi bộ Tổ dân phố 1 (chỉ có một đơn vị phù hợp nên trợ lý chọn sẵn).\n"
    "Mô hình: “Nuôi ong lấy mật” (mô hình duy nhất năm 2026 của Chi bộ Tổ dân phố 1 nên "
    "trợ lý chọn sẵn)."
)
SUMMARY_OPTIONS = [
    "Sửa: Cơ sở xây dựng",
    "Sửa: Phạm vi tác động, ảnh hưởng",
    "Sửa: Phương thức triển khai",
    "Sửa: Hiệu quả trong quá trình thực hiện",
    "Sửa: Các giải pháp nhân rộng",
]


@pytest.fixture
async def record_id(
    world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> int:
    return await new_model(sessionmaker, world.cell1, "Nuôi ong lấy mật", clock)


async def intro_of(sm: async_sessionmaker[AsyncSession], record_id: int) -> ModelIntro | None:
    async with sm() as s:
        return await s.get(ModelIntro, record_id)


async def test_introduction_saved_then_reopened_from_the_saved_answers(
    core: Core,
    world: World,
    record_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/gioithieu")
    # Her only unit and its only model are picked for her, and said.
    assert lan.replies[0].text == ONLY_ONE
    assert lan.last.text.startswith(
        "Giới thiệu mô hình — Nuôi ong lấy mật — Bước 1/5\n"
        "Cơ sở xây dựng mô hình: mô hình ra đời từ chủ trương, nhu cầu thực tế nào"
    )
    # Required parts cannot be skipped; an answer that is not text keeps the step.
    await lan.send("bo qua")
    assert lan.last.text.startswith("Bước này bắt buộc, không bỏ qua được.")
    await lan.send(attachment=Attachment("photo", file_id="p"))
    assert "Bước 1/5" in lan.last.text
    await lan.send("Nghị quyết của Đảng ủy phường về giảm nghèo bền vững")
    assert "Bước 2/5\nPhạm vi tác động, ảnh hưởng" in lan.last.text
    await lan.send("bỏ qua")  # optional
    await lan.send("Chi bộ vận động, Hội Nông dân hướng dẫn kỹ thuật")
    await lan.send("15 hộ thoát nghèo, thu 300 triệu đồng mỗi năm")
    await lan.send("bo qua")
    assert lan.last.text == (
        "Giới thiệu mô hình — Nuôi ong lấy mật — kiểm tra lại trước khi lưu:\n"
        "1. Cơ sở xây dựng: Nghị quyết của Đảng ủy phường về giảm nghèo bền vững\n"
        "2. Phạm vi tác động, ảnh hưởng: (bỏ trống)\n"
        "3. Phương thức triển khai: Chi bộ vận động, Hội Nông dân hướng dẫn kỹ thuật\n"
        "4. Hiệu quả trong quá trình thực hiện: 15 hộ thoát nghèo, thu 300 triệu đồng mỗi năm\n"
        "5. Các giải pháp nhân rộng: (bỏ trống)"
    )
    assert [o.label for o in lan.last.options] == SUMMARY_OPTIONS
    assert [o.label for o in lan.last.nav] == ["✅ Lưu", "Quay lại", "Hủy"]
    await lan.tap("Lưu")
    assert lan.last.text == (
        "✅ Đã lưu phần giới thiệu mô hình “Nuôi ong lấy mật”.\n"
        "Lấy bản giới thiệu các mô hình để đưa vào báo cáo: /xuat intro 2026"
    )
    intro = await intro_of(sessionmaker, record_id)
    assert intro is not None
    assert (intro.basis, intro.scope, intro.replication) == (
        "Nghị quyết của Đảng ủy phường về giảm nghèo bền vững",
        None,
        None,
    )
    assert (intro.updated_by, intro.updated_at) == (world.officer.id, clock())

    # Reopened: the summary with the saved answers; one part edited.
    clock.advance(days=1)
    await lan.send("/gioithieu")
    assert [r.text for r in lan.replies[:2]] == [
        ONLY_ONE,
        "Mô hình “Nuôi ong lấy mật” đã có phần giới thiệu; sửa mục nào cũng được.",
    ]
    assert "\n1. Cơ sở xây dựng: Nghị quyết của Đảng ủy phường" in lan.last.text
    await lan.tap("Sửa: Các giải pháp nhân rộng")
    await lan.send("Nhân rộng ra các tổ dân phố 3, 4, 5")
    assert "\n5. Các giải pháp nhân rộng: Nhân rộng ra các tổ dân phố 3, 4, 5" in lan.last.text
    await lan.send("luu")
    intro = await intro_of(sessionmaker, record_id)
    assert intro is not None
    assert intro.replication == "Nhân rộng ra các tổ dân phố 3, 4, 5"
    assert intro.basis == "Nghị quyết của Đảng ủy phường về giảm nghèo bền vững"
    async with sessionmaker() as s:
        audits = (await s.scalars(select(AuditLog).where(AuditLog.action == "save_intro"))).all()
    assert [a.details for a in audits][1] == {
        "replication": [None, "Nhân rộng ra các tổ dân phố 3, 4, 5"]
    }

    # Saved again without a change: nothing written.
    await lan.send("/gioithieu")
    await lan.send("1")  # edits line 1, it does not save
    assert lan.last.text.startswith("Giới thiệu mô hình — Nuôi ong lấy mật — Sửa: Cơ sở xây dựng\n")
    await lan.send("giữ nguyên")
    await lan.send("lưu")
    assert lan.last.text == "Không có thay đổi nào. Phần giới thiệu giữ nguyên như cũ."


async def test_a_leader_picks_the_unit_and_the_model_and_outsiders_reach_none(
    core: Core,
    world: World,
    record_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> None:
    other = await new_model(sessionmaker, world.women, "Phụ nữ giúp nhau", clock)
    await new_model(sessionmaker, world.other_cell, "Ngoài phường", clock)
    hung = Chat(core, "hung")
    await hung.send("/gioithieu")
    assert "Giới thiệu mô hình của đơn vị nào?" in hung.last.text
    assert [o.label for o in hung.last.options] == ["Chi bộ Tổ dân phố 1", "Hội LHPN phường"]
    await hung.send("hoi lhpn")
    # The unit's only model is picked for him, and said.
    assert hung.replies[0].text == (
        "Mô hình: “Phụ nữ giúp nhau” (mô hình duy nhất năm 2026 của Hội LHPN phường nên "
        "trợ lý chọn sẵn)."
    )
    assert "Giới thiệu mô hình — Phụ nữ giúp nhau — Bước 1/5" in hung.last.text
    for answer in ("Cơ sở", "bỏ qua", "Cách làm", "Hiệu quả", "bỏ qua", "Lưu"):
        await hung.send(answer)
    assert (await intro_of(sessionmaker, other)) is not None
    assert (await intro_of(sessionmaker, record_id)) is None

    tuan = Chat(core, "tuan")
    await tuan.send("/gioithieu")
    assert "Giới thiệu mô hình — Ngoài phường — Bước 1/5" in tuan.last.text


async def test_introductions_workbook_in_chat_and_on_the_command_line(
    core: Core,
    world: World,
    record_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await new_model(sessionmaker, world.cell1, "Không giới thiệu", clock)
    lan = Chat(core, "lan")
    await lan.send("/gioithieu")
    await lan.send("1")  # of the two models
    for answer in (
        "Nghị quyết của Đảng ủy",
        "Tổ dân phố 1, 120 hộ",
        "Vận động từng hộ",
        "15 hộ thoát nghèo",
        "Nhân rộng ra toàn phường",
        "Lưu",
    ):
        await lan.send(answer)
    await lan.send("/xuat intro")
    note, reply = lan.replies  # her only unit, picked for her and said, then the file
    assert note.text == ONLY_ONE.split("\n")[0]
    assert reply.text == "Giới thiệu mô hình điển hình năm 2026 — Chi bộ Tổ dân phố 1."
    assert reply.document is not None
    assert reply.document.file_name == "Gioi_thieu_mo_hinh_Chi_bo_To_dan_pho_1_2026.xlsx"
    values = [
        [v for v in row if v is not None]
        for row in load_workbook(BytesIO(reply.document.content)).active.iter_rows(values_only=True)
    ]
    rows = [r for r in values if r]
    assert rows[:2] == [
        ["CHI BỘ TỔ DÂN PHỐ 1"],
        ["GIỚI THIỆU MÔ HÌNH, ĐIỂN HÌNH “DÂN VẬN KHÉO” TIÊU BIỂU NĂM 2026"],
    ]
    assert rows[2:] == [
        [1, "Tên mô hình: Nuôi ong lấy mật"],
        ["Đơn vị", "Chi bộ Tổ dân phố 1"],
        ["Lĩnh vực", "Kinh tế (KT)"],
        ["Chủ thể", "Tập thể: Chi bộ Tổ dân phố 1"],
        ["Địa điểm", "Tổ dân phố 1"],
        ["Minh chứng", "Chưa có"],
        ["1. Cơ sở xây dựng", "Nghị quyết của Đảng ủy"],
        ["2. Phạm vi tác động, ảnh hưởng", "Tổ dân phố 1, 120 hộ"],
        ["3. Phương thức triển khai", "Vận động từng hộ"],
        ["4. Hiệu quả trong quá trình thực hiện", "15 hộ thoát nghèo"],
        ["5. Các giải pháp nhân rộng", "Nhân rộng ra toàn phường"],
        # Ready to sign: the place-date line, who signs on each side (a party cell's
        # secretary), page numbers in the footer.
        [PLACE_DATE],
        [MAKER, "T/M CHI BỘ"],
        [MAKER_HINT, SIGNER_HINT],
    ]
    sheet = load_workbook(BytesIO(reply.document.content)).active
    assert sheet.oddFooter.center.text == FOOTER_TEXT

    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    code = await run_command(
        ["export", "intro", "--year", "2026", "--unit", "Minh Khai", "-o", str(tmp_path)],
        Settings(database_url=db_url),
        out,
    )
    assert code == 0
    target = tmp_path / "Gioi_thieu_mo_hinh_Dang_bo_phuong_Minh_Khai_2026.xlsx"
    assert out.getvalue().startswith("Đã ghi Giới thiệu mô hình điển hình năm 2026")
    ws = load_workbook(target).active
    texts = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "Tên mô hình: Nuôi ong lấy mật" in texts
    assert "Tên mô hình: Không giới thiệu" not in texts
