"""Recognition: /dexuat and /duyet, notifications through the outbox, the audit trail, the
leader's subtree, and removed models left out of next year's "kept"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core import Core
from storage import model_years
from storage.models import DvkModel, ModelYear, OutboxMessage
from tests.evaluation_helpers import (
    add_record,
    audit_actions,
    full_marks,
    get_record,
    passing_75,
)
from tests.helpers import Chat, Clock, World, add_person

NAME = "Dân vận khéo thu gom rác thải"
CELL1 = "Chi bộ Tổ dân phố 1"


async def outbox(sm: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sm() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(rows.all())


def only_model(label: str) -> str:
    """What the assistant says when the unit's only model (its choice ``label``) is picked."""
    return f"Mô hình: “{label}” (mô hình duy nhất năm 2026 của {CELL1} nên trợ lý chọn sẵn)."


async def propose(chat: Chat, label: str) -> None:
    """/dexuat for the unit's only model, shown as ``label``, confirmed."""
    await chat.send("/dexuat")
    assert f"\n{only_model(label)}\n\n" in chat.last.text, chat.last.text
    assert "Gửi đề xuất công nhận mô hình này lên lãnh đạo?" in chat.last.text
    await chat.tap("Có, gửi đề xuất")


async def test_review_round_trip_with_notices_and_audit(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    record_id = await add_record(
        sessionmaker, world.cell1, clock(), results="150 hộ tham gia", points=passing_75()
    )
    officer = Chat(core, "lan")
    leader = Chat(core, "hung")

    # 1. The officer proposes (the unit's only model: picked for her).
    await officer.send("/dexuat")
    text = officer.last.text
    assert f"\n{only_model(f'{NAME} — chưa đề xuất công nhận')}\n\n" in text
    assert "• Kết quả đạt được: 150 hộ tham gia" in text
    assert "• Tổng điểm: 75/100 — Đạt (tổng 75 điểm)" in text
    await officer.tap("Có, gửi đề xuất")
    assert f"✅ Đã đề xuất công nhận mô hình “{NAME}”" in officer.last.text
    record = await get_record(sessionmaker, record_id)
    assert (record.review, record.proposed_by, record.proposed_at) == (
        "proposed",
        world.officer.id,
        clock(),
    )

    # 2. The leader rejects it with a reason.
    clock.advance(days=1)
    await leader.send("/duyet")
    # The only model waiting: picked for him, and said.
    text = leader.last.text
    assert text.startswith(f"Mô hình chờ duyệt duy nhất: {NAME} — {CELL1}.\n\n")
    assert "• Tổng điểm: 75/100 — Đạt (tổng 75 điểm)" in text
    assert "• Điểm từng tiêu chí: 1: 5 · 2: 10 · 3: 10" in text
    assert "đề xuất công nhận bởi Nguyễn Thị Lan ngày 02/03/2026" in text
    assert "Quyết định của đồng chí?" in text
    await leader.send("khong cong nhan")
    assert "Lý do không công nhận?" in leader.last.text
    await leader.send("bỏ qua")
    assert "Bước này bắt buộc" in leader.last.text
    await leader.send("Chưa có minh chứng số hộ tham gia")
    assert f"\n• Mô hình: {NAME} — {CELL1}\n" in leader.last.text
    assert "\n1. Quyết định: Không công nhận\n" in leader.last.text
    assert "\n2. Lý do: Chưa có minh chứng số hộ tham gia" in leader.last.text
    await leader.tap("Xác nhận")
    assert "✅ Đã ghi quyết định" in leader.last.text
    assert "Đã gửi thông báo cho: Nguyễn Thị Lan, Phạm Văn Minh." in leader.last.text
    record = await get_record(sessionmaker, record_id)
    assert (record.review, record.review_reason, record.reviewed_by, record.reviewed_at) == (
        "not_recognised",
        "Chưa có minh chứng số hộ tham gia",
        world.leader.id,
        clock(),
    )
    # The proposer and the unit's other officer, on Telegram; a terminal gets nothing.
    notices = await outbox(sessionmaker)
    assert [(n.channel, n.chat_id, n.person_id, n.kind) for n in notices] == [
        ("telegram", "1001", world.officer.id, "notice"),
        ("telegram", "1002", world.multi.id, "notice"),
    ]
    assert "chưa được công nhận. Lý do: Chưa có minh chứng số hộ tham gia" in notices[0].text
    assert "Người duyệt: Trần Văn Hùng, ngày 03/03/2026." in notices[0].text
    assert "/dexuat" in notices[0].text

    # 3. The officer fixes the results and proposes again.
    await officer.send("/ketqua")
    assert f"\n{only_model(f'{NAME} — đã có kết quả')}\n\n" in officer.last.text
    await officer.send("150 hộ tham gia, có danh sách ký nhận của 150 hộ")
    await officer.tap("Giữ nguyên")
    await officer.tap("Lưu")
    assert "✅ Đã lưu kết quả" in officer.last.text
    await propose(officer, f"{NAME} — không được công nhận")
    record = await get_record(sessionmaker, record_id)
    assert (record.review, record.review_reason, record.reviewed_by) == ("proposed", None, None)

    # 4. The leader recognises it.
    await leader.send("/duyet")
    assert leader.last.text.startswith(f"Mô hình chờ duyệt duy nhất: {NAME} — {CELL1}.\n\n")
    await leader.tap("Công nhận")
    assert "Lý do" not in leader.last.text
    # The decision: its number, date (not after today) and level, typed without diacritics.
    assert "Số quyết định công nhận?" in leader.last.text
    await leader.send("125-QĐ/ĐU")
    assert "Ngày ký quyết định?" in leader.last.text
    await leader.send("31/12/2026")
    assert "không thể ở sau hôm nay" in leader.last.text
    await leader.send("3/3/2026")
    assert "Cấp ra quyết định công nhận?" in leader.last.text
    await leader.send("cap tinh xa")
    assert "Không rõ cấp “cap tinh xa”" in leader.last.text
    await leader.send("cap phuong")
    assert "Số quyết định: 125-QĐ/ĐU" in leader.last.text
    assert "Ngày quyết định: 03/03/2026" in leader.last.text
    assert "Cấp công nhận: Cấp phường" in leader.last.text
    await leader.tap("Xác nhận")
    assert "— Công nhận." in leader.last.text
    assert "Quyết định công nhận: số 125-QĐ/ĐU ngày 03/03/2026, cấp phường." in leader.last.text
    record = await get_record(sessionmaker, record_id)
    assert (record.review, record.review_reason) == ("recognised", None)
    assert (record.decision_number, record.decision_date, record.decision_level) == (
        "125-QĐ/ĐU",
        date(2026, 3, 3),
        "phuong",
    )
    notices = await outbox(sessionmaker)
    assert len(notices) == 4
    assert (
        "đã được công nhận là mô hình “Dân vận khéo” (quyết định số 125-QĐ/ĐU ngày "
        "03/03/2026, cấp phường)." in notices[-1].text
    )
    assert len({n.key for n in notices}) == 4

    # Every step is in the audit log, with who and why.
    actions = await audit_actions(sessionmaker, record_id)
    assert [(a, p) for a, p, _ in actions] == [
        ("propose", world.officer.id),
        ("review", world.leader.id),
        ("results", world.officer.id),
        ("propose", world.officer.id),
        ("review", world.leader.id),
    ]
    assert actions[1][2]["decision"] == "not_recognised"
    assert actions[1][2]["reason"] == "Chưa có minh chứng số hộ tham gia"
    assert actions[3][2]["previous"] == "not_recognised"
    assert actions[4][2] == {
        "decision": "recognised",
        "reason": None,
        "unit": world.cell1.id,
        "proposed_by": world.officer.id,
        "decision_number": "125-QĐ/ĐU",
        "decision_date": "2026-03-03",
        "decision_level": "phuong",
    }

    # Decided: not proposed again (its only model: the command answers at once), and nothing
    # is left to review.
    await officer.send("/dexuat")
    assert [r.text for r in officer.replies] == [
        f"Mô hình “{NAME}” đã được công nhận, không cần đề xuất lại."
    ]
    await leader.send("/duyet")
    assert "Hiện không có mô hình nào đang chờ duyệt" in leader.last.text


async def test_proposal_needs_results_and_a_passing_score(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    now = clock()
    await add_record(sessionmaker, world.cell1, now, "A chưa có kết quả", points=full_marks())
    await add_record(sessionmaker, world.cell1, now, "B chưa chấm", results="10 hộ")
    failing = {**full_marks(), 9: Decimal(9), 10: Decimal(6)}
    await add_record(sessionmaker, world.cell1, now, "C chưa đạt", results="10 hộ", points=failing)
    await add_record(
        sessionmaker, world.cell1, now, "D đã đề xuất", results="10 hộ", review="proposed"
    )
    chat = Chat(core, "lan")
    await chat.send("/dexuat")
    for label, why in (
        ("A chưa có kết quả", "chưa có kết quả đạt được (Phụ lục 4). Gõ /ketqua"),
        ("B chưa chấm", "chưa được chấm điểm. Gõ /chamdiem"),
        (
            "C chưa đạt",
            "chưa đủ điều kiện đề xuất công nhận: Không đạt (tiêu chí 9 chưa đạt điểm tối đa).",
        ),
        ("D đã đề xuất", "đã được đề xuất và đang chờ lãnh đạo duyệt"),
    ):
        await chat.send(label)  # typed: the beginning of a label is enough
        assert why in chat.last.text
        assert "Đề xuất công nhận — Bước 1/2" in chat.last.text  # still on the list
    async with sessionmaker() as session:
        reviews = (await session.scalars(select(ModelYear.review).order_by(ModelYear.id))).all()
    assert list(reviews) == [None, None, None, None, "proposed"]  # the first is last year's


async def test_a_leader_of_another_subtree_can_neither_list_nor_decide(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    async with sessionmaker() as session, session.begin():
        await add_person(
            session,
            "Đỗ Văn Bình",
            {"terminal": "binh", "telegram": "4001"},
            [(world.other_ward, "leader")],
            clock(),
        )
    ours = await add_record(
        sessionmaker, world.cell1, clock(), results="10 hộ", points=full_marks(), review="proposed"
    )
    theirs = await add_record(
        sessionmaker,
        world.other_cell,
        clock(),
        "Mô hình thôn Đồng Tâm",
        results="10 hộ",
        points=full_marks(),
        review="proposed",
    )
    other = Chat(core, "binh")
    await other.send("/duyet")
    # Only the model of his subtree waits for him: picked for him, and said.
    assert other.last.text.startswith(
        "Mô hình chờ duyệt duy nhất: Mô hình thôn Đồng Tâm — Chi bộ thôn Đồng Tâm.\n\n"
    )
    assert NAME not in other.last.text
    await other.tap("Công nhận")
    for _ in range(3):  # the decision's number, date and level: recorded later
        await other.send("bỏ qua")
    assert "kiểm tra lại trước khi xác nhận" in other.last.text
    # Meanwhile the model moves to a unit outside this leader's subtree: checked on saving.
    async with sessionmaker() as session, session.begin():
        model_id = (await get_record(sessionmaker, theirs)).model_id
        await session.execute(
            update(DvkModel).where(DvkModel.id == model_id).values(unit_id=world.cell1.id)
        )
    await other.tap("Xác nhận")
    assert "Đồng chí không có quyền duyệt mô hình của đơn vị này." in other.last.text
    assert (await get_record(sessionmaker, theirs)).review == "proposed"
    assert await audit_actions(sessionmaker, theirs) == []
    assert await outbox(sessionmaker) == []
    await other.send("/duyet")
    assert "Hiện không có mô hình nào đang chờ duyệt" in other.last.text
    # The ward's leader sees both now, and an officer may not review at all.
    leader = Chat(core, "hung")
    await leader.send("/duyet")
    assert "Mô hình đang chờ duyệt (2)" in leader.last.text
    officer = Chat(core, "lan")
    await officer.send("/duyet")
    assert "Chỉ lãnh đạo hoặc quản trị mới duyệt" in officer.last.text
    assert (await get_record(sessionmaker, ours)).review == "proposed"


async def test_recognition_refused_when_the_score_no_longer_passes(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    failing = {**full_marks(), 15: Decimal(4)}
    record_id = await add_record(
        sessionmaker, world.cell1, clock(), results="10 hộ", points=failing, review="proposed"
    )
    leader = Chat(core, "hung")
    await leader.send("/duyet")
    assert leader.last.text.startswith(f"Mô hình chờ duyệt duy nhất: {NAME} — {CELL1}.\n\n")
    await leader.tap("Công nhận")
    for _ in range(3):
        await leader.send("bỏ qua")
    await leader.tap("Xác nhận")
    assert "Không công nhận được: điểm tự chấm hiện tại Không đạt (tiêu chí 15" in leader.last.text
    await leader.tap("Sửa: Quyết định")
    await leader.send("thanh loai")
    await leader.send("Mô hình không còn hoạt động")
    await leader.tap("Xác nhận")
    record = await get_record(sessionmaker, record_id)
    assert (record.review, record.review_reason) == ("removed", "Mô hình không còn hoạt động")


async def test_removed_models_are_not_offered_as_kept_next_year(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    # Last year's model of cell 1, proposed late last year.
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(ModelYear)
            .where(ModelYear.id == world.kept.id)
            .values(review="proposed", results="210 hộ")
        )
    leader = Chat(core, "hung")
    await leader.send("/duyet")
    assert leader.last.text.startswith(
        "Mô hình chờ duyệt duy nhất: Tuyến phố văn minh — Chi bộ Tổ dân phố 1, năm 2025.\n\n"
    )
    await leader.send("3")
    assert "Lý do thanh loại mô hình?" in leader.last.text
    await leader.send("Không duy trì được hoạt động")
    await leader.tap("Xác nhận")
    assert "— Thanh loại (đưa ra khỏi danh sách)." in leader.last.text
    # Nobody proposed it through the bot: the unit's officers are told.
    notices = await outbox(sessionmaker)
    assert [n.person_id for n in notices] == [world.officer.id, world.multi.id]
    notice = notices[0]
    assert "đã bị thanh loại (đưa ra khỏi danh sách). Lý do: Không duy trì" in notice.text
    assert "không được đưa vào danh sách duy trì năm sau" in notice.text

    officer = Chat(core, "lan")
    await officer.send("/dangky")
    assert "Bước 1/7" in officer.last.text  # "new or kept" is not even asked
    assert "Tuyến phố văn minh" not in officer.last.text
    async with sessionmaker() as session:
        assert await model_years.keepable_records(session, world.cell1.id, 2026) == []


async def test_models_not_recognised_are_still_offered_as_kept(
    world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for review, offered in (
        ("not_recognised", True),
        ("recognised", True),
        ("proposed", True),
        ("removed", False),
        (None, True),
    ):
        async with sessionmaker() as session, session.begin():
            await session.execute(
                update(ModelYear).where(ModelYear.id == world.kept.id).values(review=review)
            )
        async with sessionmaker() as session:
            kept = await model_years.keepable_records(session, world.cell1.id, 2026)
        assert ([r.id for r in kept] == [world.kept.id]) == offered, review


async def test_the_officers_model_view_shows_results_points_and_review(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await add_record(
        sessionmaker, world.cell1, clock(), results="150 hộ tham gia", points=passing_75()
    )
    officer = Chat(core, "lan")
    await propose(officer, f"{NAME} — chưa đề xuất công nhận")
    await officer.send("/mohinh")  # the only model: picked for her
    text = officer.last.text
    assert "• Kết quả đạt được: 150 hộ tham gia" in text
    assert "• Tổng điểm: 75/100 — Đạt (tổng 75 điểm)" in text
    assert "• Tình trạng: đề xuất công nhận bởi Nguyễn Thị Lan ngày " in text
    assert text.endswith("Đồng chí muốn làm gì?")
