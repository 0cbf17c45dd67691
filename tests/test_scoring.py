"""/chamdiem: the rubric of Kế hoạch năm 2024 (Yên Bái) criterion by criterion, the verdict rule at
its edges, invalid points, halves, Back/Cancel, saving and re-scoring."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.engine import InputError
from conversations.scoring import parse_points
from domain import rubric
from handlers.core import Core
from tests.conftest import TZ
from tests.evaluation_helpers import (
    add_record,
    audit_actions,
    full_marks,
    passing_75,
    saved_points,
)
from tests.helpers import Chat, Clock, World


def typed(value: Decimal) -> str:
    """Points as an officer types them: "7" or "7,5"."""
    return rubric.format_points(value)


NAME = "Dân vận khéo thu gom rác thải"
ONLY_UNIT = "Đơn vị: Chi bộ Tổ dân phố 1 (chỉ có một đơn vị phù hợp nên trợ lý chọn sẵn)."


def only_model(label: str) -> str:
    return (
        f"Mô hình: “{label}” (mô hình duy nhất năm 2026 của Chi bộ Tổ dân phố 1 nên trợ lý "
        "chọn sẵn)."
    )


async def open_scoring(chat: Chat, name: str = NAME) -> None:
    """/chamdiem, then the model ``name`` not scored yet: tapped in the list, or picked for
    the person (and said) when it is the unit's only model."""
    await chat.send("/chamdiem")
    label = f"{name} — chưa chấm"
    if any(o.label == label for o in chat.last.options):
        await chat.tap(label)
    else:
        assert only_model(label) in chat.text, chat.text
    assert f"Chấm điểm “{name}” — Bước 1/15\n" in chat.last.text, chat.last.text


async def score_all(chat: Chat, points: dict[int, Decimal]) -> None:
    for n in range(1, 16):
        await chat.send(typed(points[n]))


async def test_each_criterion_shows_wording_maximum_and_progress(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await add_record(sessionmaker, world.cell1, clock())
    chat = Chat(core, "lan")
    await chat.send("/chamdiem")
    # Her only unit and its only model are picked for her, and said.
    assert chat.replies[0].text == f"{ONLY_UNIT}\n{only_model(f'{NAME} — chưa chấm')}"
    for c in rubric.criteria_for("collective"):
        text = chat.last.text
        assert f"Chấm điểm “Dân vận khéo thu gom rác thải” — Bước {c.number}/15" in text
        assert c.text in text
        assert f"Điểm tối đa: {typed(c.maximum)}." in text
        assert ("Tiêu chí bắt buộc" in text) == (c.number in rubric.MUST_MAX)
        await chat.send(typed(c.maximum))
    assert "kiểm tra lại trước khi lưu" in chat.last.text
    assert "Tổng cộng: 100/100 điểm\nKết quả: Đạt (tổng 100 điểm)" in chat.last.text


async def test_collective_and_individual_get_their_own_part_two(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await add_record(sessionmaker, world.cell1, clock(), "Tập thể", "collective")
    await add_record(sessionmaker, world.cell1, clock(), "Cá nhân", "individual")
    for name, part, criteria, other in (
        (
            "Tập thể",
            "Phần II.1. Đối với mô hình do tập thể thực hiện",
            rubric.COLLECTIVE,
            rubric.INDIVIDUAL,
        ),
        (
            "Cá nhân",
            "Phần II.2. Đối với mô hình do cá nhân thực hiện",
            rubric.INDIVIDUAL,
            rubric.COLLECTIVE,
        ),
    ):
        chat = Chat(core, "lan")
        await open_scoring(chat, name)
        assert "Phần I. Các tiêu chí chung" in chat.last.text
        for _ in range(10):
            await chat.send("5")
        for c, wrong in zip(criteria, other, strict=True):
            assert f"Tiêu chí {c.number} — {part}" in chat.last.text
            assert c.text in chat.last.text
            assert wrong.text not in chat.last.text
            await chat.send("5")
        await chat.send("/huy")


@pytest.mark.parametrize(
    ("points", "verdict"),
    [
        (passing_75(), "Đạt (tổng 75 điểm)"),
        # 95 points, but criterion 9 has 9 of its 10.
        (
            {**full_marks(), 9: Decimal(9), 10: Decimal(6)},
            "Không đạt (tiêu chí 9 chưa đạt điểm tối đa)",
        ),
        # 74,5: half a point short, every must-max criterion full.
        (
            {**passing_75(), 8: Decimal("4.5")},
            "Không đạt (tổng 74,5 điểm, dưới 75 điểm)",
        ),
        # Full marks but 2, 7 and 15 short: all three named.
        (
            {**full_marks(), 2: Decimal(9), 7: Decimal("9.5"), 15: Decimal(4)},
            "Không đạt (các tiêu chí 2, 7 và 15 chưa đạt điểm tối đa)",
        ),
    ],
)
async def test_verdict_rule_at_its_edges(
    core: Core,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    points: dict[int, Decimal],
    verdict: str,
) -> None:
    record_id = await add_record(sessionmaker, world.cell1, clock())
    chat = Chat(core, "lan")
    await open_scoring(chat)
    await score_all(chat, points)
    total = sum(points.values(), Decimal(0))
    assert chat.last.text.endswith(f"\n\nTổng cộng: {typed(total)}/100 điểm\nKết quả: {verdict}")
    await chat.tap("Lưu")
    assert f"tổng {typed(total)}/100 điểm" in chat.last.text
    assert f"Kết quả: {verdict}." in chat.last.text
    passed = verdict.startswith("Đạt")
    assert ("/dexuat" in chat.last.text) == passed
    assert await saved_points(sessionmaker, record_id) == points


async def test_invalid_points_keep_the_officer_on_the_criterion(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await add_record(sessionmaker, world.cell1, clock())
    chat = Chat(core, "lan")
    await open_scoring(chat)
    await chat.send("5")
    assert "Bước 2/15" in chat.last.text  # criterion 2, maximum 10
    for bad, why in (
        ("-1", "Điểm tiêu chí 2 không được âm."),
        ("11", "Tiêu chí 2 tối đa 10 điểm; không thể chấm 11."),
        ("10,5", "Tiêu chí 2 tối đa 10 điểm; không thể chấm 10,5."),
        ("mười", "“mười” không phải là điểm."),
        ("7,3", "Điểm chấm theo bậc 0,5"),
        ("1e1", "“1e1” không phải là điểm."),
    ):
        await chat.send(bad)
        text = chat.last.text
        assert why in text, (bad, text)
        assert "Vui lòng nhập điểm từ 0 đến 10 (được lẻ 0,5" in text
        assert "Bước 2/15" in text
        assert "Tổng điểm đã chấm: 5 điểm (1/15 tiêu chí)." in text
    await chat.send("7,5")
    assert "Bước 3/15" in chat.last.text
    assert "Tổng điểm đã chấm: 12,5 điểm (2/15 tiêu chí)." in chat.last.text
    await chat.send("7.5 điểm")  # a dot and the word "điểm" are fine too
    assert "Tổng điểm đã chấm: 20 điểm (3/15 tiêu chí)." in chat.last.text


def test_parse_points_accepts_halves_either_way() -> None:
    c = rubric.criteria_for("collective")[1]  # criterion 2, maximum 10
    assert parse_points(c, "7,5") == Decimal("7.5")
    assert parse_points(c, "7.5") == Decimal("7.5")
    assert parse_points(c, " 10 ") == Decimal(10)
    assert parse_points(c, "0") == Decimal(0)
    assert parse_points(c, "8 diem") == Decimal(8)
    for bad in ("-0,5", "10.5", "abc", "", "7,25", "½"):
        with pytest.raises(InputError, match="từ 0 đến 10"):
            parse_points(c, bad)


async def test_back_and_cancel(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    record_id = await add_record(sessionmaker, world.cell1, clock())
    chat = Chat(core, "lan")
    await open_scoring(chat)
    await chat.answers("5", "10", "8")
    assert "Bước 4/15" in chat.last.text
    await chat.send("quay lại")
    assert "Bước 3/15" in chat.last.text
    assert "(Hiện tại: 8/10)" in chat.last.text
    await chat.send("9,5")
    assert "Tổng điểm đã chấm: 24,5 điểm (3/15 tiêu chí)." in chat.last.text
    await chat.tap("Hủy")
    assert "Đã hủy “Chấm điểm “Dân vận khéo thu gom rác thải”" in chat.last.text
    assert await saved_points(sessionmaker, record_id) == {}
    assert await audit_actions(sessionmaker, record_id) == []


async def test_rescoring_starts_from_saved_points_and_replaces_them(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    failing = {**full_marks(), 9: Decimal(9), 10: Decimal(6)}
    record_id = await add_record(sessionmaker, world.cell1, clock())
    chat = Chat(core, "lan")
    await open_scoring(chat)
    await score_all(chat, failing)
    await chat.tap("Lưu")
    assert await saved_points(sessionmaker, record_id) == failing

    await chat.send("/chamdiem")
    assert only_model(f"{NAME} — đã chấm 95 điểm, chưa đạt") in chat.replies[0].text
    assert "đã được chấm điểm. Dưới đây là điểm đã lưu" in chat.replies[1].text
    summary = chat.last.text
    assert summary.endswith(
        "\n15. Tiêu chí 15: 5/5\n\nTổng cộng: 95/100 điểm\n"
        "Kết quả: Không đạt (tiêu chí 9 chưa đạt điểm tối đa)"
    )
    assert "\n9. Tiêu chí 9: 9/10 — chưa đạt điểm tối đa (bắt buộc)\n" in summary
    assert "\n10. Tiêu chí 10: 6/10\n" in summary
    await chat.tap("Sửa: Tiêu chí 9")
    assert chat.last.text.startswith(f"Chấm điểm “{NAME}” — Sửa: Tiêu chí 9\n")
    assert "(Hiện tại: 9/10 — chưa đạt điểm tối đa (bắt buộc))" in chat.last.text
    await chat.send("10")
    assert "Kết quả: Đạt (tổng 96 điểm)" in chat.last.text
    await chat.tap("Lưu")
    assert "tổng 96/100 điểm" in chat.last.text
    points = await saved_points(sessionmaker, record_id)
    assert points == {**failing, 9: Decimal(10)}
    actions = await audit_actions(sessionmaker, record_id)
    assert [a for a, _, _ in actions] == ["score", "score"]
    assert actions[-1][1] == world.officer.id
    assert actions[-1][2]["total"] == "96"
    assert actions[-1][2]["passed"] is True
    assert actions[0][2]["blocking"] == [9]


async def test_only_units_of_the_person_and_the_evaluation_deadline(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await add_record(sessionmaker, world.other_cell, clock(), "Mô hình xã khác")
    await add_record(sessionmaker, world.cell1, clock())
    chat = Chat(core, "lan")
    await chat.send("/chamdiem")
    # Her unit's only model is picked for her; another ward's is never offered.
    assert chat.replies[0].text == f"{ONLY_UNIT}\n{only_model(f'{NAME} — chưa chấm')}"
    assert "Mô hình xã khác" not in chat.text
    await chat.send("/huy")

    clock.now = datetime(2026, 11, 16, 8, 0, tzinfo=TZ).astimezone(UTC)  # after 15/11
    await chat.send("/chamdiem")
    assert "Đã quá hạn đánh giá mô hình năm 2026 (15/11/2026)" in chat.last.text
    assert not chat.last.options
    # A leader may still score after the deadline.
    leader = Chat(core, "hung")
    await leader.send("/chamdiem")  # the only unit below him with models, its only model
    assert leader.replies[0].text.startswith("Đơn vị: Chi bộ Tổ dân phố 1 (")
    assert only_model(f"{NAME} — chưa chấm") in leader.replies[0].text
    assert "Bước 1/15" in leader.last.text
