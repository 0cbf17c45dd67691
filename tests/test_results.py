"""/ketqua: a model's results for Phụ lục 4 and new / kept, until the evaluation deadline."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core import Core
from storage.models import ConversationState
from tests.conftest import TZ
from tests.evaluation_helpers import add_record, audit_actions, get_record
from tests.helpers import Chat, Clock, World

NAME = "Dân vận khéo thu gom rác thải"
ONLY_UNIT = "Đơn vị: Chi bộ Tổ dân phố 1 (chỉ có một đơn vị phù hợp nên trợ lý chọn sẵn)."


def only_model(label: str, unit: str = "Chi bộ Tổ dân phố 1") -> str:
    return f"Mô hình: “{label}” (mô hình duy nhất năm 2026 của {unit} nên trợ lý chọn sẵn)."


AFTER_DEADLINE = datetime(2026, 11, 16, 8, 0, tzinfo=TZ).astimezone(UTC)


async def test_enter_results_with_figures_then_edit_from_the_summary(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    record_id = await add_record(sessionmaker, world.cell1, clock())
    chat = Chat(core, "lan")
    await chat.send("/ketqua")
    # Her only unit and its only model are picked for her, and said; the steps left counted.
    text = chat.last.text
    assert text.startswith(f"{ONLY_UNIT}\n{only_model(f'{NAME} — chưa nhập kết quả')}\n\n")
    assert f"Kết quả “{NAME}” — Bước 1/2\n" in text
    assert "Tóm tắt quy mô, kết quả cụ thể đạt được năm 2026 (Phụ lục 4, cột 7)" in text
    assert "số hộ, số người tham gia, diện tích (ha), số tiền huy động" in text
    assert "(Quy mô đã đăng ký: 120 hộ)" in text
    # No figure at all: asked again, politely, on the same step.
    await chat.send("Đạt kết quả tốt, nhân dân đồng tình")
    assert "Kết quả cần có ít nhất một con số cụ thể" in chat.last.text
    assert "Bước 1/2" in chat.last.text
    await chat.send("bỏ qua")
    assert "Bước này bắt buộc" in chat.last.text
    await chat.send("150 hộ tham gia; thu gom 2,5 tấn rác; huy động 30 triệu đồng")
    assert "Bước 2/2" in chat.last.text
    assert "(Hiện tại: Xây dựng mới)" in chat.last.text
    await chat.send("duy tri")  # typed without diacritics
    summary = chat.last.text
    assert "kiểm tra lại trước khi lưu" in summary
    assert "\n• Mô hình: Dân vận khéo thu gom rác thải\n" in summary
    assert "\n1. Kết quả đạt được: 150 hộ tham gia; thu gom 2,5 tấn rác" in summary
    assert summary.endswith("\n2. Loại: Duy trì từ năm trước")
    await chat.tap("Sửa: Kết quả đạt được")
    await chat.send("160 hộ tham gia; thu gom 3 tấn rác; huy động 30 triệu đồng")
    assert "\n1. Kết quả đạt được: 160 hộ tham gia" in chat.last.text
    await chat.tap("Lưu")
    assert f"✅ Đã lưu kết quả năm 2026 của mô hình “{NAME}” (Chi bộ Tổ dân phố 1)" in (
        chat.last.text
    )
    record = await get_record(sessionmaker, record_id)
    assert record.results == "160 hộ tham gia; thu gom 3 tấn rác; huy động 30 triệu đồng"
    assert record.results_at == clock()
    assert record.origin == "kept"
    [(action, person, details)] = await audit_actions(sessionmaker, record_id)
    assert (action, person) == ("results", world.officer.id)
    assert details["origin"] == ["new", "kept"]
    assert details["results"][0] is None

    # Opened again, it starts from what was saved; nothing changed, nothing written.
    await chat.send("/ketqua")
    assert only_model(f"{NAME} — đã có kết quả") in chat.last.text
    assert "(Hiện tại: 160 hộ tham gia" in chat.last.text
    await chat.tap("Giữ nguyên")
    await chat.tap("Giữ nguyên")
    await chat.tap("Lưu")
    assert "Không có thay đổi nào" in chat.last.text
    assert len(await audit_actions(sessionmaker, record_id)) == 1


async def test_several_units_and_nobody_elses_models(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await add_record(sessionmaker, world.cell2, clock(), "Mô hình tổ 2")
    await add_record(sessionmaker, world.other_cell, clock(), "Mô hình xã khác")
    multi = Chat(core, "minh")
    # Only units with models this year are offered: cell 1 has none, so cell 2 is picked.
    await multi.send("/ketqua")
    assert multi.last.text.startswith("Đơn vị: Chi bộ Tổ dân phố 2 (")
    assert f"\n{only_model('Mô hình tổ 2 — chưa nhập kết quả', 'Chi bộ Tổ dân phố 2')}\n\n" in (
        multi.last.text
    )
    assert "Chi bộ Tổ dân phố 1" not in multi.last.text
    await multi.send("/huy")
    await add_record(sessionmaker, world.cell1, clock(), "Mô hình tổ 1")
    await multi.send("/ketqua")
    assert [o.label for o in multi.last.options] == ["Chi bộ Tổ dân phố 1", "Chi bộ Tổ dân phố 2"]
    await multi.send("chi bo to dan pho 2")
    assert multi.last.text.startswith(
        only_model("Mô hình tổ 2 — chưa nhập kết quả", "Chi bộ Tổ dân phố 2") + "\n\n"
    )
    # The outsider's only unit has one model of its own, never cell 2's.
    outsider = Chat(core, "tuan")
    await outsider.send("/ketqua")
    assert (
        only_model("Mô hình xã khác — chưa nhập kết quả", "Chi bộ thôn Đồng Tâm") in outsider.text
    )
    assert "tổ 2" not in outsider.text


async def test_evaluation_deadline_stops_officers_not_leaders(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    record_id = await add_record(sessionmaker, world.cell1, clock(), results="100 hộ")
    chat = Chat(core, "lan")
    # Opened on 15/11 (the last day), saved on 16/11: refused on saving, nothing written.
    clock.now = datetime(2026, 11, 15, 22, 0, tzinfo=TZ).astimezone(UTC)
    await chat.send("/ketqua")  # the only model: picked for her
    assert "(Hiện tại: 100 hộ)" in chat.last.text
    await chat.send("120 hộ tham gia")
    await chat.tap("Giữ nguyên")
    clock.now = AFTER_DEADLINE
    await chat.tap("Lưu")
    assert "Đã quá hạn đánh giá mô hình năm 2026 (15/11/2026)" in chat.last.text
    assert (await get_record(sessionmaker, record_id)).results == "100 hộ"
    await chat.send("/huy")
    # After the deadline the command itself says so.
    await chat.send("/ketqua")
    assert "Đã quá hạn đánh giá mô hình năm 2026 (15/11/2026)" in chat.last.text
    assert not chat.last.options
    # A leader of the ward still may.
    leader = Chat(core, "hung")
    await leader.send("/ketqua")  # the only unit below him with models, and its only model
    assert leader.last.text.startswith("Đơn vị: Chi bộ Tổ dân phố 1 (")
    assert only_model(f"{NAME} — đã có kết quả") in leader.last.text
    await leader.send("130 hộ tham gia")
    await leader.tap("Giữ nguyên")
    await leader.tap("Lưu")
    assert "✅ Đã lưu kết quả" in leader.last.text
    record = await get_record(sessionmaker, record_id)
    assert (record.results, record.results_at) == ("130 hộ tham gia", AFTER_DEADLINE)
    [(action, person, _)] = await audit_actions(sessionmaker, record_id)
    assert (action, person) == ("results", world.leader.id)


async def test_officer_cannot_change_a_model_under_review(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await add_record(sessionmaker, world.cell1, clock(), results="100 hộ", review="proposed")
    locked = (
        f"Mô hình “{NAME}” đang chờ lãnh đạo duyệt nên cán bộ phụ trách không sửa được kết quả "
        "và điểm nữa. Nếu cần sửa, vui lòng liên hệ lãnh đạo đơn vị."
    )
    chat = Chat(core, "lan")
    # Her only model, picked for her: the command answers at once with the reason.
    await chat.send("/ketqua")
    assert [r.text for r in chat.replies] == [locked]
    await chat.send("/chamdiem")
    assert [r.text for r in chat.replies] == [locked]
    # With another model, picking the locked one ends the flow with the reason: no list is
    # left open to block the next command.
    await add_record(sessionmaker, world.cell1, clock(), "Mô hình khác")
    await chat.send("/ketqua")
    assert "Nhập kết quả mô hình — Bước 1/3" in chat.last.text
    await chat.send("1")
    assert [r.text for r in chat.replies] == [locked]
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationState)) == 0
    await chat.send("/chamdiem")  # no /huy needed
    await chat.send("1")
    assert [r.text for r in chat.replies] == [locked]
