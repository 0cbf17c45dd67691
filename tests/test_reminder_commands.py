"""/lich, /nhacnho, /hanchot, /baocao and `dvk campaign`, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import run_command
from bot.settings import Settings
from conversations.texts.account import NOT_INVITED
from domain.messages import Reply
from handlers.core import Core
from storage import deadlines
from storage.models import AuditLog, ConversationState, Person, Unit, UnitReport
from tests.helpers import Chat, Clock, World, add_person
from tests.test_obligations import add_model, mark


@pytest.fixture
async def admin(sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock) -> Chat:
    async with sessionmaker() as session, session.begin():
        await add_person(
            session, "Vũ Văn Quản", {"terminal": "qt"}, [(world.ward, "admin")], clock()
        )
    return Chat(Core(sessionmaker, clock=clock), "qt")


async def audit_actions(
    sm: async_sessionmaker[AsyncSession],
) -> list[tuple[str, dict[str, object]]]:
    async with sm() as session:
        rows = await session.scalars(select(AuditLog).order_by(AuditLog.id))
        return [(r.action, r.details) for r in rows.all() if r.action != "join"]


async def open_flows(sm: async_sessionmaker[AsyncSession]) -> int:
    async with sm() as session:
        return len((await session.scalars(select(ConversationState))).all())


# --- /lich --------------------------------------------------------------------------------


async def test_lich_shows_the_deadlines_and_what_the_unit_owes(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/lich")
    assert lan.replies == [
        Reply(
            "Các hạn năm 2026 của Chi bộ Tổ dân phố 1:\n"
            "• 15/04/2026 — Đăng ký mô hình (còn 44 ngày)\n"
            "• 15/11/2026 — Đánh giá, đề nghị công nhận mô hình (còn 258 ngày)\n"
            "• 25/11/2026 — Báo cáo kết quả năm của đơn vị (còn 268 ngày)\n"
            "• 05/12/2026 — Báo cáo tổng hợp gửi Tỉnh ủy (còn 278 ngày)\n"
            "(Các ngày mặc định của kế hoạch thi đua; cấp trên có thể đặt ngày khác.)\n"
            "\n"
            "Chi bộ Tổ dân phố 1 còn thiếu:\n"
            "• Đăng ký mô hình (hạn 15/04/2026):\n"
            "  – chưa đăng ký mô hình nào — gõ /dangky\n"
            "• Báo cáo kết quả năm của đơn vị (hạn 25/11/2026):\n"
            "  – chưa đánh dấu đã gửi báo cáo kết quả năm — gõ /baocao\n"
            "\n"
            "Nhắc hạn: đang bật (nhắc trước hạn và vào ngày hạn chót). "
            "Gõ /nhacnho tat để tạm dừng nhắc trước hạn."
        )
    ]
    async with sessionmaker() as session, session.begin():
        await add_model(session, world.cell1, 2026, clock(), results="210 hộ")
        await mark(session, world.cell1, 2026, "unit_report", clock())
    clock.now = clock.now.replace(month=4, day=20)
    await lan.send("/lich")
    assert "• 15/04/2026 — Đăng ký mô hình (đã qua)" in lan.text
    assert (
        "Chi bộ Tổ dân phố 1 còn thiếu:\n"
        "• Đánh giá, đề nghị công nhận mô hình (hạn 15/11/2026):\n"
        "  – 1 mô hình chưa chấm điểm — gõ /chamdiem\n"
    ) in lan.text
    await lan.send("/lich 2025")
    assert lan.last.text.startswith(
        "Các hạn năm 2025 của Chi bộ Tổ dân phố 1:\n• 15/04/2025 — Đăng ký mô hình (đã qua)"
    )
    # Last year's model was registered but never evaluated. Its deadline has passed: the
    # officer is not sent to /ketqua (which would refuse) but told who can reopen it.
    assert "• Đăng ký mô hình (hạn 15/04/2025" not in lan.text
    assert "• Đánh giá, đề nghị công nhận mô hình (hạn 15/11/2025, đã quá hạn):" in lan.text
    assert "gõ /ketqua" not in lan.text
    assert "gõ /chamdiem" not in lan.text
    assert (
        "  – 1 mô hình chưa chấm điểm — đã quá hạn 15/11/2025 — đề nghị lãnh đạo Đảng bộ "
        "phường Minh Khai (Trần Văn Hùng) mở lại (gia hạn) cho đơn vị"
    ) in lan.text
    await lan.send("/lich hôm nay")
    assert lan.last.text == "Năm “hôm nay” không hợp lệ. Vui lòng gõ năm, ví dụ 2026."


async def test_lich_for_several_units_and_for_a_leader(core: Core, world: World) -> None:
    minh = Chat(core, "minh")
    await minh.send("/lich")
    assert "Chi bộ Tổ dân phố 1 còn thiếu:" in minh.text
    assert "Chi bộ Tổ dân phố 2 còn thiếu:" in minh.text
    hung = Chat(core, "hung")
    await hung.send("/lich")
    assert "Đảng bộ phường Minh Khai còn thiếu:" in hung.text
    assert (
        "  – 3 đơn vị trực thuộc chưa gửi báo cáo năm: Chi bộ Tổ dân phố 1, Chi bộ Tổ dân phố 2, "
        "Hội LHPN phường — nhắc các đơn vị gửi"
    ) in hung.text
    stranger = Chat(core, "stranger")
    await stranger.send("/lich")
    assert stranger.replies == [Reply(NOT_INVITED)]


# --- /nhacnho ------------------------------------------------------------------------------


async def test_nhacnho_pauses_and_resumes_early_reminders(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/nhacnho")
    assert lan.last.text.startswith("Nhắc hạn: đang bật")
    await lan.send("/nhacnho tat")
    assert lan.last.text.startswith(
        "Đã tạm dừng nhắc trước hạn. Đồng chí vẫn nhận tin nhắc vào đúng"
    )
    async with sessionmaker() as session:
        person = await session.get(Person, world.officer.id)
        assert person is not None
        assert person.reminders_paused_at is not None
    await lan.send("/nhacnho TẮT")
    assert lan.last.text == (
        "Nhắc hạn: đã tạm dừng nhắc trước hạn từ 02/03/2026; tin nhắc vào ngày hạn chót vẫn "
        "được gửi. Gõ /nhacnho bat để nhận lại."
    )
    await lan.send("/lich")
    assert "Nhắc hạn: đã tạm dừng nhắc trước hạn từ 02/03/2026" in lan.text
    await lan.send("/nhacnho bật")
    assert lan.last.text.startswith("Đã bật lại nhắc hạn")
    await lan.send("/nhacnho mai")
    assert lan.last.text.startswith("Chưa hiểu “mai”. Gõ /nhacnho tat")
    async with sessionmaker() as session:
        person = await session.get(Person, world.officer.id)
        assert person is not None
        assert person.reminders_paused_at is None
    assert [a for a, _ in await audit_actions(sessionmaker)] == [
        "pause_reminders",
        "resume_reminders",
    ]


# --- /hanchot ------------------------------------------------------------------------------


async def test_hanchot_is_for_admins_only(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for user in ("lan", "hung"):
        chat = Chat(core, user)
        await chat.send("/hanchot")
        assert chat.replies == [
            Reply(
                "Lệnh /hanchot dành cho cán bộ quản trị (đổi ngày các hạn của năm). "
                "Gõ /lich để xem các hạn."
            )
        ]
    assert await open_flows(sessionmaker) == 0


async def test_hanchot_changes_a_deadline_and_calls_the_reschedule_hook(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock, admin: Chat
) -> None:
    changed: list[int] = []
    admin.core = Core(sessionmaker, clock=clock, on_deadlines_changed=lambda: changed.append(1))
    await admin.send("/hanchot")
    # The admin's own unit is the level whose dates change: picked for them, and said.
    assert admin.last.text == (
        "Đơn vị: Đảng bộ phường Minh Khai (chỉ có một đơn vị phù hợp nên trợ lý chọn sẵn).\n"
        "\n"
        "Đổi hạn — Bước 1/2\n"
        "Các hạn năm 2026 áp dụng cho Đảng bộ phường Minh Khai. Đồng chí muốn đổi hạn nào?"
    )
    assert [o.label for o in admin.last.options] == [
        "Đăng ký mô hình — 15/04/2026 (mặc định)",
        "Đánh giá, đề nghị công nhận mô hình — 15/11/2026 (mặc định)",
        "Báo cáo kết quả năm của đơn vị — 25/11/2026 (mặc định)",
        "Báo cáo tổng hợp gửi Tỉnh ủy — 05/12/2026 (mặc định)",
    ]
    await admin.send("danh gia")
    prompt = (
        "Ngày hạn mới cho “Đánh giá, đề nghị công nhận mô hình” (hiện tại 15/11/2026)? "
        "Gõ ngày/tháng/năm, ví dụ 15/11/2026."
    )
    assert admin.last.text == f"Đổi hạn — Bước 2/2\n{prompt}"
    for wrong, message in (
        ("mai", "Ngày “mai” chưa đúng dạng. Vui lòng gõ ngày/tháng/năm, ví dụ 30/11/2026."),
        (
            "31/02/2026",
            "Ngày “31/02/2026” không có trên lịch. Vui lòng kiểm tra lại ngày và tháng.",
        ),
        ("01/03/2026", "Ngày hạn mới không thể ở trước hôm nay (02/03/2026)."),
        ("15/11/2026", "Hạn này đã là 15/11/2026 rồi. Vui lòng gõ ngày khác."),
        ("20/11/2028", "Hạn của năm 2026 phải là một ngày trong năm 2026 (hoặc đầu năm 2027)."),
    ):
        await admin.send(wrong)
        assert admin.last.text == f"{message}\n\nĐổi hạn — Bước 2/2\n{prompt}"
    await admin.send("20/11/2026")
    assert admin.last.text == (
        "Đổi hạn — kiểm tra lại trước khi lưu:\n"
        "• Đơn vị: Đảng bộ phường Minh Khai\n"
        "1. Hạn: Đánh giá, đề nghị công nhận mô hình\n"
        "2. Ngày mới: 20/11/2026"
    )
    assert [o.label for o in admin.last.options] == ["Sửa: Hạn", "Sửa: Ngày mới"]
    assert [o.label for o in admin.last.nav] == ["✅ Lưu", "Quay lại", "Hủy"]
    assert changed == []
    await admin.tap("Lưu")
    assert admin.replies == [
        Reply(
            "Đã đổi hạn “Đánh giá, đề nghị công nhận mô hình” năm 2026 của Đảng bộ phường Minh "
            "Khai và các đơn vị trực thuộc: 15/11/2026 → 20/11/2026. Lịch nhắc hạn được tính "
            "lại theo ngày mới. Xem: /lich"
        )
    ]
    assert changed == [1]
    async with sessionmaker() as session:
        ward = await session.get(Unit, world.ward.id)
        assert ward is not None
        deadline = await deadlines.due_for(session, ward, 2026, "evaluation")
        assert (deadline.due_on, deadline.set_by) == (date(2026, 11, 20), world.ward.id)
    assert await audit_actions(sessionmaker) == [
        (
            "set_deadline",
            {"year": 2026, "kind": "evaluation", "from": "2026-11-15", "to": "2026-11-20"},
        )
    ]
    # Cancelling changes nothing and calls nothing.
    await admin.send("/hanchot")
    await admin.send("1")
    await admin.send("hủy")
    assert admin.last.text == "Đã hủy “Đổi hạn”. Không có gì được lưu."
    assert changed == [1]


# --- /baocao -------------------------------------------------------------------------------


async def test_baocao_marks_the_units_yearly_report(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/baocao")
    assert [o.label for o in lan.last.options] == ["Soạn dự thảo báo cáo", "Đánh dấu đã gửi"]
    await lan.send("danh dau")
    # Her only unit and its only report left are picked for her, and said.
    assert lan.last.text == (
        "Đơn vị: Chi bộ Tổ dân phố 1 (chỉ có một đơn vị phù hợp nên trợ lý chọn sẵn).\n"
        "Báo cáo: Báo cáo kết quả năm 2026 (hạn 25/11/2026).\n"
        "\n"
        "Đánh dấu đã gửi báo cáo kết quả năm 2026 — Chi bộ Tổ dân phố 1 — "
        "Xác nhận đơn vị đã gửi báo cáo này?\n"
        "• Đơn vị: Chi bộ Tổ dân phố 1\n"
        "• Báo cáo: Báo cáo kết quả"
    )
    assert [o.label for o in lan.last.options] == []  # nothing to edit: the report was picked
    assert [o.label for o in lan.last.nav] == ["✅ Đã gửi", "Hủy"]
    await lan.send("đã gửi")  # the confirm label, typed
    assert lan.replies == [
        Reply(
            "Đã ghi nhận: Chi bộ Tổ dân phố 1 đã gửi báo cáo kết quả năm 2026 (hạn 25/11/2026). "
            "Trợ lý không nhắc việc này nữa."
        )
    ]
    async with sessionmaker() as session:
        reports = (await session.scalars(select(UnitReport))).all()
    assert [(r.unit_id, r.year, r.kind, r.sent_by) for r in reports] == [
        (world.cell1.id, 2026, "unit_report", world.officer.id)
    ]
    assert await audit_actions(sessionmaker) == [
        ("mark_report", {"unit": world.cell1.id, "year": 2026, "kind": "unit_report"})
    ]
    await lan.send("/baocao")
    await lan.send("2")
    assert lan.replies == [
        Reply(
            "Chi bộ Tổ dân phố 1 đã đánh dấu gửi mọi báo cáo năm 2026: "
            "báo cáo kết quả ngày 02/03/2026."
        )
    ]
    await lan.send("/lich")
    assert "chưa đánh dấu đã gửi báo cáo kết quả năm" not in lan.text


async def test_baocao_of_a_unit_with_lower_units_offers_the_consolidated_report(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    hung = Chat(core, "hung")
    await hung.send("/baocao")
    await hung.tap("Đánh dấu đã gửi")
    assert hung.last.text == (
        "Đơn vị: Đảng bộ phường Minh Khai (chỉ có một đơn vị phù hợp nên trợ lý chọn sẵn).\n"
        "\n"
        "Đánh dấu đã gửi báo cáo năm 2026 — Đảng bộ phường Minh Khai — Bước 1/1\n"
        "Đơn vị đã gửi báo cáo nào?"
    )
    assert [o.label for o in hung.last.options] == [
        "Báo cáo kết quả năm 2026 (hạn 25/11/2026)",
        "Báo cáo tổng hợp năm 2026 (hạn 05/12/2026)",
    ]
    await hung.send("tong hop")
    # Lower units have not reported: asked first, naming them; nothing marked yet.
    missing = (
        "3 đơn vị trực thuộc chưa gửi báo cáo năm: Chi bộ Tổ dân phố 1, "
        "Chi bộ Tổ dân phố 2, Hội LHPN phường"
    )
    assert hung.last.text == (
        "Đánh dấu đã gửi báo cáo tổng hợp năm 2026 — Đảng bộ phường Minh Khai — Bước 1/1 (tiếp)\n"
        f"Lưu ý: {missing}. Đồng chí vẫn đánh dấu Đảng bộ phường Minh Khai đã gửi báo cáo "
        "tổng hợp năm 2026? (Hủy để chờ các đơn vị gửi.)"
    )
    assert [o.label for o in hung.last.options] == ["Vẫn đánh dấu đã gửi"]
    async with sessionmaker() as session:
        assert (await session.scalars(select(UnitReport))).all() == []
    await hung.tap("Vẫn đánh dấu đã gửi")
    assert hung.last.text == (
        "Đánh dấu đã gửi báo cáo tổng hợp năm 2026 — Đảng bộ phường Minh Khai — "
        "Xác nhận đơn vị đã gửi báo cáo này?\n"
        "• Đơn vị: Đảng bộ phường Minh Khai\n"
        "• Báo cáo: Báo cáo tổng hợp\n"
        f"• Lưu ý: {missing}"
    )
    await hung.tap("Đã gửi")
    assert hung.replies == [
        Reply(
            "Đã ghi nhận: Đảng bộ phường Minh Khai đã gửi báo cáo tổng hợp năm 2026 "
            "(hạn 05/12/2026). Trợ lý không nhắc việc này nữa.\n"
            "Lưu ý: 3 đơn vị trực thuộc chưa gửi báo cáo năm: Chi bộ Tổ dân phố 1, "
            "Chi bộ Tổ dân phố 2, Hội LHPN phường."
        )
    ]
    # Only the yearly report is left: picked for him, and said; straight to the confirmation.
    await hung.send("/baocao")
    await hung.tap("Đánh dấu đã gửi")
    assert (
        "\nBáo cáo: Báo cáo kết quả năm 2026 (hạn 25/11/2026).\n\n"
        "Đánh dấu đã gửi báo cáo kết quả năm 2026 — Đảng bộ phường Minh Khai — "
        "Xác nhận đơn vị đã gửi báo cáo này?\n"
    ) in hung.last.text


async def test_baocao_asks_the_unit_when_there_are_several(core: Core, world: World) -> None:
    minh = Chat(core, "minh")
    await minh.send("/baocao")
    await minh.tap("Đánh dấu đã gửi")
    assert [o.label for o in minh.last.options] == ["Chi bộ Tổ dân phố 1", "Chi bộ Tổ dân phố 2"]
    await minh.send("2")
    await minh.tap("Đã gửi")
    assert minh.last.text.startswith("Đã ghi nhận: Chi bộ Tổ dân phố 2 đã gửi báo cáo kết quả")
    outsider = Chat(core, "tuan")
    await outsider.send("/baocao")
    await outsider.tap("Đánh dấu đã gửi")
    assert "Chi bộ thôn Đồng Tâm" in outsider.last.text


# --- dvk campaign --------------------------------------------------------------------------


@pytest.fixture
def settings(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    return Settings(database_url=db_url)


async def dvk(settings: Settings, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await run_command(list(argv), settings, out)
    return code, out.getvalue()


async def test_dvk_campaign_set_with_a_kind_and_a_date_or_aliases(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    capsys: pytest.CaptureFixture[str],
    world: World,
) -> None:
    ward = ("--unit", "Đảng bộ phường Minh Khai")
    # Two wards, two top levels: the command says which one's plan changes.
    code, _ = await dvk(settings, "campaign", "set", "--year", "2027", "dangky", "30/04/2027")
    assert code == 1
    assert "Có nhiều đơn vị cấp cao nhất; hãy chọn --unit." in capsys.readouterr().err
    code, out = await dvk(
        settings, "campaign", "set", *ward, "--year", "2027", "dangky", "30/04/2027"
    )
    assert code == 0
    assert out.splitlines()[1].split()[:6] == [
        "30/04/2027",
        "registration",
        "Đăng",
        "ký",
        "mô",
        "hình",
    ]
    code, out = await dvk(
        settings,
        "campaign",
        "set",
        *ward,
        "--year",
        "2027",
        "tonghop=10/12/2027",
        "danh_gia",
        "20/11/2027",
    )
    assert code == 0
    dates = [line.split()[0] for line in out.splitlines()[1:]]
    assert dates == ["30/04/2027", "20/11/2027", "25/11/2027", "10/12/2027"]
    for argv, message in (
        (["baocao"], "“baocao”: thiếu ngày, ví dụ: dvk campaign set baocao 30/04/2027"),
        (["hanchot", "01/12/2027"], "cần dạng LOẠI=dd/mm/yyyy (hoặc LOẠI dd/mm/yyyy)"),
        (["baocao", "25/11/2029"], "Ngày 25/11/2029 không thuộc năm 2027; hạn của năm khác"),
    ):
        code, _ = await dvk(settings, "campaign", "set", *ward, "--year", "2027", *argv)
        assert code == 1
        assert message in capsys.readouterr().err
    async with sessionmaker() as session:
        rows = (await session.scalars(select(AuditLog).order_by(AuditLog.id))).all()
    assert [(r.action, r.via_channel, r.details["kind"]) for r in rows] == [
        ("set_deadline", "cli", "registration"),
        ("set_deadline", "cli", "consolidated"),
        ("set_deadline", "cli", "evaluation"),
    ]
