"""Registration through the core, as an officer would type it (terminal channel)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core import Core
from storage.models import AuditLog, ModelYear
from tests.helpers import Chat, World


async def records(sm: async_sessionmaker[AsyncSession], year: int = 2026) -> list[ModelYear]:
    async with sm() as session:
        rows = await session.scalars(select(ModelYear).where(ModelYear.year == year))
        return list(rows.all())


async def test_register_by_typed_answers_without_diacritics(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    chat = Chat(core, "lan")
    await chat.send("/dangky")
    assert "Bước 1/8" in chat.last.text  # origin offered: cell1 has a model from 2025
    await chat.send("xay dung moi")
    assert "Bước 2/8" in chat.last.text  # "kept from" is no longer asked
    await chat.answers(
        "  Mô hình   Dân vận khéo  thu gom rác ",
        "VAN HOA XA HOI",
        "tap the",
        "Chi đoàn Tổ dân phố 1",
        "Tổ dân phố 1",
        "doan thanh nien",
        "30 đoàn viên, 2 tấn rác",
    )
    assert "kiểm tra lại trước khi lưu" in chat.last.text
    assert "\n2. Lĩnh vực: Văn hóa - Xã hội (VHXH)\n" in chat.last.text
    assert "\n6. Chủ trì: Đoàn Thanh niên\n" in chat.last.text
    await chat.send("luu")
    assert "Đã lưu mô hình xây dựng mới năm 2026 của Chi bộ Tổ dân phố 1" in chat.last.text
    saved = await records(sessionmaker)
    assert len(saved) == 1
    record = saved[0]
    assert record.name == "Mô hình Dân vận khéo thu gom rác"
    assert (record.field, record.subject, record.origin) == ("VHXH", "collective", "new")
    assert record.lead_body == "Đoàn Thanh niên"
    async with sessionmaker() as session:
        audits = await session.scalar(select(func.count(AuditLog.id)))
    assert audits == 1


async def test_keep_last_years_model_starts_from_its_answers(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    chat = Chat(core, "lan")
    await chat.send("/dangky")
    await chat.tap("Duy trì từ năm trước")
    await chat.tap("Tuyến phố văn minh")
    assert "(Hiện tại: Tuyến phố văn minh)" in chat.last.text
    for _ in range(6):
        await chat.tap("Giữ nguyên")
    await chat.send("250 hộ")  # the scale changed this year
    assert chat.last.text.endswith("\n7. Quy mô: 250 hộ")
    assert "\n• Duy trì từ: Tuyến phố văn minh\n" in chat.last.text
    await chat.tap("Lưu")
    saved = await records(sessionmaker)
    assert [(r.name, r.origin, r.model_id, r.scale) for r in saved] == [
        ("Tuyến phố văn minh", "kept", world.kept.model_id, "250 hộ")
    ]
    # Once kept, last year's model is no longer offered.
    await chat.send("/dangky")
    assert "Bước 1/7" in chat.last.text
