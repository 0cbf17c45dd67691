"""/tonghop, /xuat and /vanban in chat, `dvk export` and `dvk doc` on the command line."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import run_command
from bot.settings import Settings
from domain.messages import Reply
from handlers.core import Core
from reports.style import XLSX_MIME
from storage.models import DvkModel, ModelYear, Unit
from tests.conftest import TZ
from tests.fake_telegram import FakeTelegram
from tests.helpers import Chat, Clock, World
from tests.tg_harness import TgUser, running_bot


async def add_model(
    sm: async_sessionmaker[AsyncSession],
    unit: Unit,
    name: str,
    field: str = "KT",
    subject: str = "collective",
    created: datetime | None = None,
) -> None:
    when = created or datetime(2026, 3, 1, 9, 0, tzinfo=TZ)
    async with sm() as session, session.begin():
        model = DvkModel(unit_id=unit.id, created_at=when)
        session.add(model)
        await session.flush()
        session.add(
            ModelYear(
                model_id=model.id,
                year=2026,
                origin="new",
                name=name,
                field=field,
                field_other=None,
                subject=subject,
                subject_name="Tổ dân phố",
                place="Tổ dân phố 1",
                lead_body="Chi bộ",
                scale="10 hộ",
                created_at=when,
                updated_at=when,
            )
        )


def sheet_text(content: bytes) -> str:
    wb = load_workbook(io.BytesIO(content))
    values: list[str] = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            values.extend(str(v) for v in row if v is not None)
    return "\n".join(values)


def only_unit(name: str) -> str:
    """What the assistant says when it picks the person's only unit."""
    return f"Đơn vị: {name} (chỉ có một đơn vị phù hợp nên trợ lý chọn sẵn)."


@pytest.fixture
async def models(sessionmaker: async_sessionmaker[AsyncSession], world: World) -> None:
    await add_model(sessionmaker, world.cell1, "Tuyến phố xanh", "VHXH")
    await add_model(sessionmaker, world.cell1, "Tổ hòa giải giỏi", "QPAN", "individual")
    # The women's union registered only after the 15/4 deadline.
    late = datetime(2026, 4, 20, 9, 0, tzinfo=TZ)
    await add_model(sessionmaker, world.women, "Phụ nữ tiết kiệm", "KT", created=late)
    await add_model(sessionmaker, world.other_cell, "Mô hình xã khác", "KT")


async def test_a_leader_gets_the_summary_and_its_workbook(
    core: Core, world: World, models: None, clock: Clock
) -> None:
    clock.advance(days=60)  # May 2026: the registration deadline has passed
    leader = Chat(core, "hung")
    replies = await leader.send("/tonghop")
    assert len(replies) == 3
    text = replies[0].text
    assert "Đảng bộ phường Minh Khai" in text
    assert "3" in text
    assert "Chi bộ Tổ dân phố 2" in text  # no model at all: late
    assert "Mô hình xã khác" not in text
    assert len(text) <= 1000
    assert len(text.splitlines()) <= 20
    # After the registration deadline: the evaluation season's figures, each as x/y.
    assert "Đã nhập kết quả: 0/3 mô hình" in text
    assert "Báo cáo năm đã gửi: 0/" in text
    document = replies[1].document
    assert document is not None
    assert document.mime_type == XLSX_MIME
    assert document.file_name == "Tong_hop_Dang_bo_phuong_Minh_Khai_2026.xlsx"
    content = sheet_text(document.content)
    assert "Chi bộ Tổ dân phố 1" in content
    assert "Chi bộ thôn Đồng Tâm" not in content
    chart = replies[2]
    assert chart.photo
    assert chart.document is not None
    assert chart.document.mime_type == "image/png"
    assert chart.document.file_name == "Bieu_do_Dang_bo_phuong_Minh_Khai_2026.png"
    assert chart.document.content.startswith(b"\x89PNG")
    assert chart.text == "Kết quả mô hình “Dân vận khéo” năm 2026 — Đảng bộ phường Minh Khai."


async def test_only_leaders_get_the_summary(core: Core, world: World, models: None) -> None:
    officer = Chat(core, "lan")
    replies = await officer.send("/tonghop")
    assert [r.document for r in replies] == [None]
    assert replies[0].text.startswith("Lệnh /tonghop dành cho lãnh đạo và quản trị.")


async def test_an_officer_exports_their_own_unit_directly(
    core: Core, world: World, models: None
) -> None:
    officer = Chat(core, "lan")
    # Her only unit is picked for her and said; the file follows at once.
    note, reply = await officer.send("/xuat pl1 2026")
    assert note.text == only_unit("Chi bộ Tổ dân phố 1")
    assert reply.document is not None
    assert reply.document.file_name == "Phu_luc_1_Chi_bo_To_dan_pho_1_2026.xlsx"
    assert reply.text == "Phụ lục 1 — Đăng ký mô hình năm 2026 — Chi bộ Tổ dân phố 1."
    content = sheet_text(reply.document.content)
    assert "Tuyến phố xanh" in content
    assert "Phụ nữ tiết kiệm" not in content  # another unit of the same ward
    assert "Mô hình xã khác" not in content


async def test_export_by_buttons_and_a_leaders_subtree(
    core: Core, world: World, models: None
) -> None:
    leader = Chat(core, "hung")
    await leader.send("/xuat")
    assert "Đồng chí cần biểu nào?" in leader.last.text
    await leader.tap("Phụ lục 1 — Đăng ký mô hình")
    await leader.tap("Năm 2026")
    document = leader.last.document
    assert document is not None
    content = sheet_text(document.content)
    for name in ("Tuyến phố xanh", "Tổ hòa giải giỏi", "Phụ nữ tiết kiệm"):
        assert name in content
    assert "Mô hình xã khác" not in content
    assert "và các đơn vị trực thuộc" in leader.last.text


async def test_nobody_gets_a_workbook_outside_their_reach(
    core: Core, world: World, models: None
) -> None:
    minh = Chat(core, "minh")  # officer of cell1 and cell2
    await minh.send("/xuat pl1")
    assert "Biểu của đơn vị nào?" in minh.last.text
    labels = [o.label for o in minh.last.options]
    assert labels == ["Chi bộ Tổ dân phố 1", "Chi bộ Tổ dân phố 2"]
    await minh.send("Hội LHPN phường")
    assert minh.last.document is None
    assert "Chưa nhận ra lựa chọn" in minh.last.text
    # A forged button (another unit's id) is refused too.
    tag = minh.last.options[0].data.split(".")[0]
    await minh.send(choice=f"{tag}.c7")
    assert minh.last.document is None
    await minh.send("/huy")
    outsider = Chat(core, "tuan")
    note, reply = await outsider.send("/xuat pl1 2026")
    assert note.text == only_unit("Chi bộ thôn Đồng Tâm")
    assert reply.document is not None
    assert "Tuyến phố xanh" not in sheet_text(reply.document.content)
    assert "Mô hình xã khác" in sheet_text(reply.document.content)  # their own cell's model


async def test_bad_export_arguments_are_explained(core: Core, world: World) -> None:
    lan = Chat(core, "lan")
    assert (await lan.send("/xuat pl9")) == [
        Reply(
            "Không có biểu “pl9”. Các biểu: pl1, pl4, score, score_blank, dexuat, congnhan, bieu1, "
            "summary, intro. "
            "Ví dụ: /xuat pl1 2026"
        )
    ]
    [reply] = await lan.send("/xuat pl1 1890")
    assert reply.document is None
    note, reply = await lan.send("/xuat pl4")  # the current year when none is given
    assert note.text == only_unit("Chi bộ Tổ dân phố 1")
    assert reply.document is not None
    assert reply.document.file_name == "Phu_luc_4_Chi_bo_To_dan_pho_1_2026.xlsx"
    await lan.send("/xuat")
    await lan.send("2")
    await lan.send("2999")
    assert "Năm “2999” không hợp lệ" in lan.last.text
    assert lan.last.document is None
    await lan.send("2025")
    assert lan.last.document is not None
    assert lan.last.document.file_name == "Phu_luc_4_Chi_bo_To_dan_pho_1_2025.xlsx"


async def test_a_document_recorded_in_chat_appears_in_bieu1(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    leader = Chat(core, "hung")
    await leader.send("/vanban")
    await leader.send("15-KH/ĐU")
    await leader.send("31/02/2026")
    assert "không đúng" in leader.last.text
    await leader.send("1/3/2026")
    await leader.send("Kế hoạch thực hiện phong trào thi đua “Dân vận khéo” năm 2026")
    assert "\n2. Ngày ban hành: 01/03/2026\n" in leader.last.text
    await leader.send("luu")
    assert leader.last.text.startswith("Đã ghi văn bản 15-KH/ĐU ngày 01/03/2026")
    note, reply = await leader.send("/xuat bieu1 2026")
    assert note.text == only_unit("Đảng bộ phường Minh Khai")
    assert reply.document is not None
    content = sheet_text(reply.document.content)
    assert "15-KH/ĐU" in content
    assert "Kế hoạch thực hiện phong trào thi đua" in content


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


async def test_a_leader_on_telegram_receives_the_document(
    tg: FakeTelegram, core: Core, world: World, models: None
) -> None:
    async with running_bot(tg, core):
        leader = TgUser(tg, 2001, "Hùng")
        got = await leader.say("/tonghop", expect=3)
        assert "Đơn vị đã đăng ký" in got[0].plain_text
        assert got[1].document is not None
        assert got[1].document.filename == "Tong_hop_Dang_bo_phuong_Minh_Khai_2026.xlsx"
        assert sheet_text(got[1].document.content).count("Chi bộ Tổ dân phố") >= 2
        # The chart comes as a photo, its title as the caption.
        assert got[2].method == "sendPhoto"
        assert got[2].photo is not None
        assert got[2].photo.content.startswith(b"\x89PNG")
        assert got[2].plain_text.startswith("Tiến độ đăng ký mô hình “Dân vận khéo” năm 2026")


async def test_dvk_export_and_doc_on_the_command_line(
    db_url: str,
    world: World,
    models: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(database_url=db_url)
    out = io.StringIO()
    code = await run_command(
        [
            "doc",
            "add",
            "--unit",
            "minh khai",
            "--number",
            "07-CT/ĐU",
            "--date",
            "05/01/2026",
            "--content",
            "Chỉ thị về công tác dân vận",
        ],
        settings,
        out,
    )
    assert code == 0
    code = await run_command(
        ["export", "bieu1", "--year", "2026", "--unit", "minh khai", "-o", str(tmp_path)],
        settings,
        out,
    )
    assert code == 0
    written = tmp_path / "Bieu_1_Dang_bo_phuong_Minh_Khai_2026.xlsx"
    assert "07-CT/ĐU" in sheet_text(written.read_bytes())
    code = await run_command(
        ["export", "pl1", "--year", "2026", "--unit", "Chi bộ Tổ dân phố 1", "-o", "pl1.xlsx"],
        settings,
        out,
    )
    assert code == 0
    assert "Tuyến phố xanh" in sheet_text((tmp_path / "pl1.xlsx").read_bytes())
    # Two top-level units (two communes): the unit must be named.
    assert await run_command(["export", "pl1"], settings, out) == 1
    assert "hãy chọn --unit" in capsys.readouterr().err
