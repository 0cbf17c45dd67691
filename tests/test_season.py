"""The office's year in chat: /dangky registers for the next year once the evaluation
deadline has passed (and says so), /mohinh shows that year's models, and plain words —
greetings, thanks, "hạn chót khi nào?", "dang ky", "đơn vị nào chưa nộp báo cáo?" — are
answered for the person, on both sides of each deadline. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.demo import load_demo
from handlers.core import Core
from storage.models import ModelYear, UnitReport
from tests.conftest import TZ
from tests.helpers import Chat, Clock, World, new_model
from tests.test_demo import REFUSALS


def at(day: int, month: int, year: int = 2026, hour: int = 9) -> Clock:
    return Clock(datetime(year, month, day, hour, 0, tzinfo=TZ).astimezone(UTC))


def chat(sm: async_sessionmaker[AsyncSession], who: str, clock: Clock) -> Chat:
    return Chat(Core(sm, clock=clock), who)


async def years_of(sm: async_sessionmaker[AsyncSession], name: str) -> list[int]:
    async with sm() as session:
        rows = await session.scalars(select(ModelYear.year).where(ModelYear.name == name))
        return list(rows)


# --- /dangky and /mohinh follow the season -------------------------------------------------


@pytest.mark.parametrize(
    ("day", "month", "year"),
    [(14, 4, 2026), (16, 4, 2026), (14, 11, 2026), (15, 11, 2026), (4, 12, 2026), (31, 12, 2026)],
)
async def test_an_officer_registers_for_the_year_of_the_season(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, day: int, month: int, year: int
) -> None:
    clock = at(day, month)
    expected = 2026 if (month, day) < (11, 15) else 2027  # from the evaluation deadline on
    tuan = chat(sessionmaker, "tuan", clock)  # one unit, no model kept from last year
    await tuan.send("/dangky")
    assert f"Đăng ký mô hình năm {expected} — Bước 1/7" in tuan.text
    await tuan.answers("Mô hình mới mùa sau", "1", "1", "Tổ 1", "Khu dân cư", "Chi bộ", "50 hộ")
    await tuan.tap("Lưu")
    assert f"năm {expected}" in tuan.text
    assert await years_of(sessionmaker, "Mô hình mới mùa sau") == [expected]


async def test_after_the_evaluation_deadline_an_officer_cannot_pick_the_closing_year(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    tuan = chat(sessionmaker, "tuan", at(4, 12))
    await tuan.send("/dangky 2026")
    assert tuan.text == ("Không đăng ký được cho năm “2026”: lúc này chỉ đăng ký cho năm 2027.")
    await tuan.send("/dangky 2027")
    assert "Đăng ký mô hình năm 2027 — Bước 1/7" in tuan.text


async def test_after_the_evaluation_deadline_a_leader_chooses_the_year(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    hung = chat(sessionmaker, "hung", at(4, 12))
    await hung.send("/dangky")
    assert "Đăng ký cho năm nào?" in hung.text
    assert [o.label for o in hung.last.options][:2] == [
        "Năm 2027",
        "Năm 2026 (năm đang đánh giá, đăng ký bổ sung)",
    ]
    await hung.tap("Năm 2026 (năm đang đánh giá, đăng ký bổ sung)")
    assert "Mô hình của đơn vị nào? (năm 2026)" in hung.text
    # Before the deadline there is nothing to choose.
    early = chat(sessionmaker, "hung", at(10, 11))
    await early.send("/huy")
    await early.send("/dangky")
    assert "Đăng ký cho năm nào?" not in early.text
    assert "(năm 2026)" in early.text


async def test_mohinh_shows_the_next_year_once_it_has_models(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    clock = at(4, 12)
    await new_model(sessionmaker, world.cell1, "Mô hình năm nay", clock)
    lan = chat(sessionmaker, "lan", clock)
    await lan.send("/mohinh")
    assert "năm 2026" in lan.text  # nothing registered for 2027 yet: the closing year
    assert "Mô hình năm nay" in lan.text
    await lan.send("/huy")
    await new_model(sessionmaker, world.cell1, "Mô hình năm sau", clock, year=2027)
    await lan.send("/mohinh")
    assert "năm 2027" in lan.text
    assert "Mô hình năm sau" in lan.text
    assert "Mô hình năm nay" not in lan.text
    await lan.send("/huy")
    await lan.send("/mohinh 2026")
    assert "Mô hình năm nay" in lan.text


# --- plain words -------------------------------------------------------------------------


async def test_greetings_and_thanks_are_answered_with_what_to_do_now(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    lan = chat(sessionmaker, "lan", at(2, 3))
    await lan.send("xin chào")
    assert lan.text.startswith("Chào đồng chí Nguyễn Thị Lan!\nGõ /dangky để đăng ký mô hình")
    await lan.send("cam on nhe")
    assert lan.text.startswith("Không có gì ạ.")
    hung = chat(sessionmaker, "hung", at(2, 3))
    await hung.send("Chào anh")
    assert "Gõ /tonghop để xem tình hình các đơn vị, /duyet để duyệt" in hung.text


@pytest.mark.parametrize(
    "text", ["hạn chót khi nào?", "han chot khi nao", "bao giờ nộp báo cáo", "Hạn đăng ký mô hình"]
)
async def test_when_a_deadline_is_answers_with_the_dates_that_apply(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, text: str
) -> None:
    lan = chat(sessionmaker, "lan", at(2, 3))
    await lan.send(text)
    assert lan.text.startswith("Các hạn năm 2026 của Chi bộ Tổ dân phố 1:\n• 15/04/2026 — ")
    assert "25/11/2026 — Báo cáo kết quả năm của đơn vị" in lan.text
    assert "2027" not in lan.text


async def test_when_every_date_has_passed_next_years_dates_follow(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    lan = chat(sessionmaker, "lan", at(6, 12))
    await lan.send("hạn chót khi nào")
    assert "Các hạn năm 2026 của Chi bộ Tổ dân phố 1:" in lan.text
    assert "Các hạn năm 2027 của Chi bộ Tổ dân phố 1:\n• 15/04/2027 — " in lan.text
    lan = chat(sessionmaker, "lan", at(4, 12))
    await lan.send("hạn chót khi nào")
    assert "2027" not in lan.text  # 5/12 is still ahead


@pytest.mark.parametrize("text", ["dang ky", "đăng ký mô hình", "Dang ki"])
async def test_a_command_typed_without_its_slash_runs(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, text: str
) -> None:
    tuan = chat(sessionmaker, "tuan", at(2, 3))
    await tuan.send(text)
    assert "Đăng ký mô hình năm 2026 — Bước 1/7" in tuan.text


async def test_a_mistyped_command_is_a_question(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    hung = chat(sessionmaker, "hung", at(2, 3))
    await hung.send("/tonghp")
    assert hung.text.startswith("Không có lệnh /tonghp. Có phải đồng chí muốn /tonghop (")
    lan = chat(sessionmaker, "lan", at(2, 3))
    await lan.send("/dangki")
    assert "Có phải đồng chí muốn /dangky (" in lan.text


async def test_how_to_register_names_the_year_and_the_date(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    lan = chat(sessionmaker, "lan", at(2, 3))
    await lan.send("làm sao để đăng ký?")
    assert lan.text.startswith("Để đăng ký mô hình năm 2026, đồng chí gõ /dangky.")
    assert lan.text.endswith("Hạn đăng ký: 15/04/2026.")
    lan = chat(sessionmaker, "lan", at(4, 12))
    await lan.send("lam sao dang ky")
    assert lan.text.startswith("Để đăng ký mô hình năm 2027, đồng chí gõ /dangky.")
    assert lan.text.endswith("Hạn đăng ký: 15/04/2027.")


async def test_leaders_ask_who_has_not_registered_or_reported(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    clock = at(30, 11)
    await new_model(sessionmaker, world.cell1, "Mô hình A", clock)
    async with sessionmaker() as session, session.begin():
        session.add(
            UnitReport(unit_id=world.cell1.id, year=2026, kind="unit_report", sent_at=clock())
        )
    hung = chat(sessionmaker, "hung", clock)
    await hung.send("đơn vị nào chưa nộp báo cáo?")
    text = hung.text
    assert text.startswith("Đảng bộ phường Minh Khai: năm 2026 có ")
    assert "• Chi bộ Tổ dân phố 2" in text
    assert "• Chi bộ Tổ dân phố 1" not in text
    await hung.send("ai chưa đăng ký")
    assert "• Chi bộ Tổ dân phố 2" in hung.text
    assert "• Chi bộ Tổ dân phố 1\n" not in hung.text
    # An officer is told it is for leaders, and what she can do.
    lan = chat(sessionmaker, "lan", clock)
    await lan.send("đơn vị nào chưa nộp báo cáo?")
    assert lan.text.startswith("Danh sách các đơn vị chưa làm chỉ dành cho lãnh đạo.\nGõ ")


async def test_unknown_words_name_three_useful_commands(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    lan = chat(sessionmaker, "lan", at(2, 3))
    await lan.send("trời hôm nay đẹp quá")
    assert lan.text == (
        "Trợ lý chưa hiểu tin nhắn này.\nGõ /dangky để đăng ký mô hình, /mohinh để xem mô hình "
        "đã đăng ký, /lich để xem các hạn và việc còn thiếu, /trogiup để xem mọi lệnh."
    )


# --- the examples, typed on the demo ward in every season ----------------------------------

EXAMPLES = (
    "xin chào",
    "cảm ơn",
    "hạn chót khi nào?",
    "làm sao đăng ký?",
    "dang ky",
    "tong hop",
    "đơn vị nào chưa nộp báo cáo?",
    "còn thiếu gì",
    "bao giờ nộp báo cáo",
)
# What leaders ask about the units below them is answered to an officer with a polite "for
# leaders" (tested above); the rest must simply work.
OFFICERS_EXAMPLES = tuple(
    t for t in EXAMPLES if t not in ("tong hop", "đơn vị nào chưa nộp báo cáo?")
)


@pytest.mark.parametrize(
    "day", [date(2026, 3, 1), date(2026, 4, 20), date(2026, 11, 16), date(2026, 12, 4)]
)
async def test_plain_words_on_the_demo_ward_in_every_season(
    sessionmaker: async_sessionmaker[AsyncSession], day: date
) -> None:
    clock = at(day.day, day.month)
    async with sessionmaker() as session, session.begin():
        await load_demo(session, clock(), TZ, day)
    core = Core(sessionmaker, clock=clock)
    for who in ("canbo", "lanhdao"):
        person = Chat(core, who)
        for text in EXAMPLES if who == "lanhdao" else OFFICERS_EXAMPLES:
            await person.send(text)
            said = person.text
            assert "Trợ lý chưa hiểu" not in said, (who, text, said)
            assert not any(r in said for r in REFUSALS), (who, text, said)
            # What a reply points to must not refuse either.
            for command in dict.fromkeys(re.findall(r"[gG]õ (/[a-z]+)", said)):
                await person.send(command)
                assert not any(r in person.text for r in REFUSALS), (who, text, command)
                await person.send("/huy")
            await person.send("/huy")


async def test_names_typed_with_line_breaks_are_kept_on_one_line(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    tuan = chat(sessionmaker, "tuan", at(2, 3))
    await tuan.send("/dangky")
    await tuan.answers("Mô hình\n  “Dân vận khéo”   tổ 1", "1", "1", "Tổ 1", "Khu dân cư", "Chi bộ")
    await tuan.answers("50 hộ")
    await tuan.tap("Lưu")
    assert await years_of(sessionmaker, "Mô hình “Dân vận khéo” tổ 1") == [2026]


async def test_strangers_are_told_who_hands_out_invites(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    stranger = Chat(Core(sessionmaker, clock=at(2, 3)), "nobody")
    await stranger.send("xin chào")
    assert "(Ban Xây dựng Đảng hoặc Văn phòng Đảng ủy)" in stranger.text
    office = "Văn phòng Đảng ủy phường Minh Khai"
    stranger = Chat(Core(sessionmaker, clock=at(2, 3), invite_issuer=office), "nobody")
    await stranger.send("/trogiup")
    assert f"xin mã mời từ cán bộ quản trị của đơn vị ({office})" in stranger.text
