"""The `dvk` command line on SQLite and PostgreSQL: units, invites, campaigns, demo, chat."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import run_command
from bot.settings import Settings
from handlers.core import Core
from storage import unit_tree
from storage.db import alembic_config
from storage.models import Membership, ModelYear, Unit
from tests.helpers import Chat


@pytest.fixture
def settings(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)  # `dvk chat` writes its log file in the current directory
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return Settings(database_url=db_url, telegram_bot_username="dvk_thu_bot")


async def dvk(settings: Settings, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await run_command(list(argv), settings, out)
    return code, out.getvalue()


async def unit_names(sm: async_sessionmaker[AsyncSession]) -> list[tuple[int, str]]:
    async with sm() as session:
        return [(u.depth, u.name) for u in await unit_tree.list_units(session)]


async def test_db_current_names_the_schema(settings: Settings) -> None:
    head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
    assert head is not None
    assert await dvk(settings, "db", "upgrade") == (0, f"Phiên bản lược đồ: {head}\n")
    assert await dvk(settings, "db", "current") == (0, f"Phiên bản lược đồ: {head}\n")


async def test_unit_add_and_list(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = await dvk(settings, "unit", "add", "Đảng bộ phường  Minh Khai", "--kind", "phuong")
    assert code == 0
    assert out == "Đã thêm đơn vị 1: Đảng bộ phường Minh Khai\n"
    # The parent by name typed without diacritics, or by id.
    await dvk(
        settings,
        "unit",
        "add",
        "Chi bộ Tổ dân phố 1",
        "--kind",
        "chi_bo",
        "--parent",
        "dang bo phuong minh khai",
    )
    await dvk(settings, "unit", "add", "Chi bộ Tổ dân phố 2", "--kind", "chi_bo", "--parent", "1")
    await dvk(settings, "unit", "add", "Chi bộ Tổ dân phố 2", "--kind", "chi_bo", "--parent", "2")
    code, out = await dvk(settings, "unit", "list")
    assert out.splitlines() == [
        "    1  Đảng bộ phường Minh Khai [phuong]",
        "      2  Chi bộ Tổ dân phố 1 [chi_bo]",
        "        4  Chi bộ Tổ dân phố 2 [chi_bo]",
        "      3  Chi bộ Tổ dân phố 2 [chi_bo]",
    ]
    # An ambiguous or unknown parent is refused with a clear message and nothing is added.
    code, _ = await dvk(settings, "unit", "add", "Tổ 9", "--parent", "Chi bộ Tổ dân phố 2")
    assert code == 1
    assert capsys.readouterr().err == (
        "Lỗi: Có 2 đơn vị khớp “Chi bộ Tổ dân phố 2”: Đảng bộ phường Minh Khai / Chi bộ Tổ dân "
        "phố 1 / Chi bộ Tổ dân phố 2 (mã 4); Đảng bộ phường Minh Khai / Chi bộ Tổ dân phố 2 (mã "
        "3); hãy ghi đường dẫn đầy đủ (Cấp trên / Tên) hoặc mã số.\n"
    )
    # The full path tells them apart.
    code, out = await dvk(
        settings, "unit", "add", "Tổ 9", "--parent", "Minh Khai / Chi bộ Tổ dân phố 2"
    )
    assert (code, out) == (0, "Đã thêm đơn vị 5: Tổ 9\n")
    code, _ = await dvk(settings, "unit", "add", "Tổ 9", "--parent", "Phường Không Có")
    assert code == 1
    assert "Không tìm thấy đơn vị “Phường Không Có”" in capsys.readouterr().err
    code, _ = await dvk(settings, "unit", "add", "Tổ 9", "--parent", "77")
    assert code == 1
    assert "Không có đơn vị mã 77" in capsys.readouterr().err
    assert len(await unit_names(sessionmaker)) == 5


async def test_unit_import_csv_and_xlsx_in_any_order_and_twice(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    csv_file = tmp_path / "don_vi.csv"
    csv_file.write_text(
        "Tên;Loại;Cấp trên\n"
        "Chi bộ thôn Đồng Tâm;chi_bo;Đảng ủy xã Tân Lập\n"
        "Đảng ủy xã Tân Lập;xa;Huyện ủy Lạc Sơn\n"
        "\n"
        "Huyện ủy Lạc Sơn;huyen;\n",
        encoding="utf-8-sig",
    )
    assert await dvk(settings, "unit", "import", str(csv_file)) == (
        0,
        "Đã nhập 3 đơn vị mới (0 đã có sẵn).\n",
    )
    assert await dvk(settings, "unit", "import", str(csv_file)) == (
        0,
        "Đã nhập 0 đơn vị mới (3 đã có sẵn).\n",
    )
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["Tên đơn vị", "Loại", "Trực thuộc"])
    sheet.append(["Hội Nông dân xã", "doan_the", "Đảng ủy xã Tân Lập"])
    sheet.append(["Chi bộ thôn Đồng Tâm", "chi_bo", "Đảng ủy xã Tân Lập"])
    xlsx_file = tmp_path / "don_vi.xlsx"
    wb.save(xlsx_file)
    assert await dvk(settings, "unit", "import", str(xlsx_file)) == (
        0,
        "Đã nhập 1 đơn vị mới (1 đã có sẵn).\n",
    )
    assert await unit_names(sessionmaker) == [
        (0, "Huyện ủy Lạc Sơn"),
        (1, "Đảng ủy xã Tân Lập"),
        (2, "Chi bộ thôn Đồng Tâm"),
        (2, "Hội Nông dân xã"),
    ]
    # A parent that exists nowhere: that row is reported, the others are imported.
    bad = tmp_path / "sai.csv"
    bad.write_text("Tên,Cấp trên\nTổ 1,Xã Không Có\nTổ 2,\n", encoding="utf-8")
    code, out = await dvk(settings, "unit", "import", str(bad))
    assert code == 1
    assert out == (
        "Đã nhập 1 đơn vị mới (0 đã có sẵn).\nKhông nhập được 1 dòng:\n"
        "- Dòng 2 (“Tổ 1”): cấp trên: không tìm thấy đơn vị “Xã Không Có”.\n"
    )
    missing = await dvk(settings, "unit", "import", str(tmp_path / "khong_co.csv"))
    assert missing[0] == 1
    assert "Không thấy tệp" in capsys.readouterr().err
    assert len(await unit_names(sessionmaker)) == 5


async def test_invite_create_gives_a_code_that_joins(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    capsys: pytest.CaptureFixture[str],
) -> None:
    await dvk(settings, "unit", "add", "Đảng bộ phường Minh Khai", "--kind", "phuong")
    code, out = await dvk(
        settings, "invite", "create", "--unit", "minh khai", "--role", "leader", "--uses", "2"
    )
    assert code == 0
    match = re.search(r"Mã mời: (\w+)\n", out)
    assert match is not None
    invite = match.group(1)
    assert "Đơn vị: Đảng bộ phường Minh Khai — vai trò: lãnh đạo" in out
    assert "Dùng được 2 lần" in out
    assert f"/start {invite}" in out
    assert f"https://t.me/dvk_thu_bot?start={invite}" in out
    bad = await dvk(settings, "invite", "create", "--unit", "1", "--role", "officer", "--uses", "0")
    assert bad[0] == 1
    assert "--uses và --days phải từ 1 trở lên" in capsys.readouterr().err

    # The code works in the chat (the invite is real, in the database).
    core = Core(sessionmaker)  # the real clock, as the command line used
    chat = Chat(core, "moi", channel="telegram")
    await chat.send(f"/start {invite}")
    assert "họ và tên" in chat.last.text.lower()
    await chat.send("Đỗ Thị Mai")
    assert "Đảng bộ phường Minh Khai" in chat.last.text
    async with sessionmaker() as session:
        roles = (await session.scalars(select(Membership.role))).all()
    assert list(roles) == ["leader"]


async def test_campaign_show_and_set(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = await dvk(settings, "campaign", "show", "--year", "2027")
    assert code == 0
    assert out.splitlines()[0] == "Các hạn năm 2027 (mặc định, chưa có đơn vị nào):"
    dates = [line.split()[0] for line in out.splitlines()[1:]]
    assert dates == ["15/04/2027", "15/11/2027", "25/11/2027", "05/12/2027"]
    code, _ = await dvk(settings, "campaign", "set", "--year", "2027", "registration=30/04/2027")
    assert code == 1
    assert "Chưa có đơn vị nào để đặt hạn" in capsys.readouterr().err
    code, _ = await dvk(settings, "unit", "add", "Đảng bộ phường Minh Khai", "--kind", "phuong")
    assert code == 0
    code, out = await dvk(
        settings,
        "campaign",
        "set",
        "--year",
        "2027",
        "registration=30/04/2027",
        "consolidated=10/12/2027",
    )
    assert code == 0
    assert out.splitlines()[0] == (
        "Các hạn năm 2027 của Đảng bộ phường Minh Khai (và các đơn vị trực thuộc chưa đặt riêng):"
    )
    dates = [line.split()[0] for line in out.splitlines()[1:]]
    assert dates == ["30/04/2027", "15/11/2027", "25/11/2027", "10/12/2027"]
    assert "(theo kế hoạch của Đảng bộ phường Minh Khai)" in out.splitlines()[1]
    assert "(mặc định)" in out.splitlines()[2]
    for wrong, message in (
        ("hanchot=01/01/2027", "cần dạng LOẠI=dd/mm/yyyy"),
        ("registration=31/02/2027", "không đúng dạng dd/mm/yyyy"),
    ):
        code, _ = await dvk(settings, "campaign", "set", "--year", "2027", wrong)
        assert code == 1
        assert message in capsys.readouterr().err
    _, out = await dvk(settings, "campaign", "show", "--year", "2027")
    assert "30/04/2027" in out
    assert "10/12/2027" in out


async def test_demo_then_chat_in_the_terminal(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out = await dvk(settings, "demo")
    assert code == 0
    assert re.match(r"Đã tạo dữ liệu mẫu tính đến ngày \d\d/\d\d/\d{4}: 9 đơn vị, \d+ mô hình", out)
    invites = re.findall(r"^  ([A-Z0-9]{8})  \(", out, flags=re.MULTILINE)
    assert len(invites) == 3
    assert await dvk(settings, "demo") == (0, "Dữ liệu mẫu đã có sẵn. Thử ngay: dvk chat\n")

    answers = "\n".join(
        [
            "/dangky",
            "1",  # Xây dựng mới (the women's union kept a model last year)
            "Phụ nữ giữ gìn nếp nhà",
            "2",  # Văn hóa - Xã hội
            "tap the",
            "Chi hội Phụ nữ Tổ dân phố 2",
            "Tổ dân phố 2",
            "hoi lhpn",
            "60 hội viên",
            "luu",
            "/thoat",
        ]
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(answers + "\n"))
    code, out = await dvk(settings, "chat")
    assert code == 0
    assert "với tư cách “canbo”" in out
    assert "Đã lưu mô hình xây dựng mới năm" in out
    assert "Traceback" not in out
    assert Path("dvk-chat.log").exists()  # noqa: ASYNC240
    async with sessionmaker() as session:
        saved = await session.scalar(
            select(func.count(ModelYear.id)).where(ModelYear.name == "Phụ nữ giữ gìn nếp nhà")
        )
        units = await session.scalar(select(func.count(Unit.id)))
    assert (saved, units) == (1, 9)


async def test_run_without_a_channel_says_what_to_set(settings: Settings) -> None:
    out = io.StringIO()
    with pytest.raises(SystemExit) as stop:
        await run_command(["run"], settings, out)
    assert stop.value.code == 2
    assert "TELEGRAM_BOT_TOKEN" in out.getvalue()
    assert "dvk chat" in out.getvalue()
