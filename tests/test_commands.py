"""The commands through the core: /start with invites, /trogiup, /huy, /mohinh (view, edit,
withdraw), the registration deadline, who may reach which records, and that nothing
half-written ever reaches the database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.season import hint
from conversations.texts.account import NOT_INVITED
from domain.messages import Attachment, Reply, render_plain
from handlers.core import Core
from handlers.help import MENU
from storage import deadlines, invites, people
from storage.models import (
    AuditLog,
    ConversationState,
    DvkModel,
    Invite,
    Membership,
    ModelYear,
    Person,
    Unit,
)
from tests.conftest import TZ
from tests.helpers import Chat, Clock, World

# What the officer Lan may usefully do in early March: her cell has no model yet.
LAN_NOW = ["dangky", "mohinh", "lich"]

WELCOME_HELP = (
    "Gõ /dangky để đăng ký mô hình “Dân vận khéo”, /mohinh để xem các mô hình "
    "đã đăng ký, /trogiup để xem mọi lệnh."
)
PAST_DEADLINE = (
    "Đã quá hạn đăng ký (15/04/2026): chỉ lãnh đạo hoặc quản trị mới sửa hoặc rút được mô "
    "hình. Nếu cần, đề nghị lãnh đạo Đảng bộ phường Minh Khai (Trần Văn Hùng) mở lại hạn "
    "(gia hạn) cho đơn vị."
)


# --- helpers --------------------------------------------------------------------------


def labels(reply: Reply) -> list[str]:
    return [o.label for o in reply.options]


def tag_of(reply: Reply) -> str:
    buttons = (*reply.options, *reply.nav)
    assert buttons, f"no buttons in {reply.text!r}"
    return buttons[0].data.split(".", 1)[0]


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A local (Vietnam) time as the aware UTC value the clock holds."""
    return datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


async def count_rows(sm: async_sessionmaker[AsyncSession], entity: Any) -> int:
    async with sm() as session:
        return int(await session.scalar(select(func.count()).select_from(entity)) or 0)


async def records(sm: async_sessionmaker[AsyncSession], year: int = 2026) -> list[ModelYear]:
    async with sm() as session:
        rows = await session.scalars(
            select(ModelYear).where(ModelYear.year == year).order_by(ModelYear.id)
        )
        return list(rows.all())


async def record(sm: async_sessionmaker[AsyncSession], record_id: int) -> ModelYear:
    async with sm() as session:
        row = await session.get(ModelYear, record_id)
        assert row is not None
        return row


async def audits(sm: async_sessionmaker[AsyncSession], action: str) -> list[AuditLog]:
    async with sm() as session:
        rows = await session.scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        )
        return list(rows.all())


async def invite(sm: async_sessionmaker[AsyncSession], code: str) -> Invite:
    async with sm() as session:
        row = await session.scalar(select(Invite).where(Invite.code == code))
        assert row is not None
        return row


async def new_invite(
    sm: async_sessionmaker[AsyncSession], unit: Unit, role: str, uses: int, now: datetime
) -> str:
    async with sm() as session, session.begin():
        unit_row = await session.get(Unit, unit.id)
        assert unit_row is not None
        return (await invites.create_invite(session, unit_row, role, uses, 7, now)).code


async def person_of(
    sm: async_sessionmaker[AsyncSession], user: str, channel: str = "terminal"
) -> Person | None:
    async with sm() as session:
        return await people.person_for_account(session, channel, user)


async def units_of(sm: async_sessionmaker[AsyncSession], person_id: int) -> list[tuple[str, str]]:
    async with sm() as session:
        rows = await session.execute(
            select(Unit.name, Membership.role)
            .join(Membership, Membership.unit_id == Unit.id)
            .where(Membership.person_id == person_id)
            .order_by(Unit.name)
        )
        return [(name, role) for name, role in rows.all()]


async def open_flow(
    sm: async_sessionmaker[AsyncSession], chat_id: str, channel: str = "terminal"
) -> ConversationState | None:
    async with sm() as session:
        return await session.get(ConversationState, (channel, chat_id))


async def add_record(
    sm: async_sessionmaker[AsyncSession],
    unit: Unit,
    name: str,
    *,
    year: int = 2026,
    field: str = "KT",
    place: str = "Tổ dân phố 1",
) -> int:
    now = local(2026, 3, 1, 9, 0)
    async with sm() as session, session.begin():
        model = DvkModel(unit_id=unit.id, created_at=now)
        session.add(model)
        await session.flush()
        row = ModelYear(
            model_id=model.id,
            year=year,
            origin="new",
            name=name,
            field=field,
            field_other=None,
            subject="collective",
            subject_name="Chi bộ",
            place=place,
            lead_body="Chi bộ",
            scale="100 hộ",
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        return row.id


async def open_record(chat: Chat, name: str, unit: str | None = None, menu: bool = True) -> None:
    """/mohinh, the unit if asked, then the record named ``name`` (picked for the person, and
    said, when it is the unit's only model of the year). ``menu``: the person may change it,
    so the record ends with what to do next; otherwise it is shown and the flow ends."""
    await chat.send("/mohinh")
    if "Xem mô hình của đơn vị nào?" in chat.last.text:
        assert unit is not None, chat.last.text
        await chat.tap(unit)
    elif unit is not None:  # the only unit with models this year: picked and said
        assert chat.text.startswith(f"Đơn vị: {unit} ("), chat.text
    if "Chọn một mô hình để xem (năm 2026, " in chat.last.text:
        [label] = [o for o in labels(chat.last) if o.startswith(f"{name} (")]
        await chat.tap(label)
    else:  # the unit's only model: picked and said
        assert f"\nMô hình: “{name} (" in chat.text, chat.text
        assert "(mô hình duy nhất năm 2026 của " in chat.text, chat.text
    assert f"Mô hình “{name}” — " in chat.last.text, chat.last.text
    if menu:
        assert chat.last.text.endswith("\n\nĐồng chí muốn làm gì?"), chat.last.text
    else:  # read only: "see another" only when there is another to see
        more = "Chọn một mô hình để xem" in chat.text or "Xem mô hình của đơn vị nào?" in chat.text
        assert chat.last.text.endswith("\nGõ /mohinh để xem mô hình khác.") is more, chat.last.text


# --- /start and invites -----------------------------------------------------------------


async def test_start_with_valid_invite_asks_the_name_then_joins(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    code = world.invites["cell2"]
    people = await count_rows(sessionmaker, Person)
    hoa = Chat(core, "hoa")
    await hoa.send(f"/start {code}")
    assert hoa.last.text == (
        "Tham gia — Bước 1/1\n"
        "Xin chào! Vui lòng cho biết họ và tên đầy đủ của đồng chí (ví dụ: Nguyễn Thị Lan)."
    )
    # Nothing is taken before the name is given.
    assert (await invite(sessionmaker, code)).uses_left == 5
    assert await count_rows(sessionmaker, Person) == people

    await hoa.send("  Đỗ   Thị Hoa ")
    assert hoa.replies == [
        Reply(
            "Chào Đỗ Thị Hoa! Đồng chí đã tham gia Chi bộ Tổ dân phố 2 với vai trò "
            "cán bộ phụ trách.\n" + WELCOME_HELP
        )
    ]
    person = await person_of(sessionmaker, "hoa")
    assert person is not None
    assert person.full_name == "Đỗ Thị Hoa"
    assert await units_of(sessionmaker, person.id) == [("Chi bộ Tổ dân phố 2", "officer")]
    assert (await invite(sessionmaker, code)).uses_left == 4
    [joined] = await audits(sessionmaker, "join")
    assert (joined.person_id, joined.entity, joined.entity_id) == (
        person.id,
        "unit",
        world.cell2.id,
    )
    assert joined.details["role"] == "officer"
    assert await open_flow(sessionmaker, "hoa") is None

    # The new officer can register at once, for the invite's unit only.
    await hoa.send("/dangky")
    assert "Đăng ký mô hình năm 2026 — Bước 1/7" in hoa.last.text
    assert "Tên mô hình là gì?" in hoa.last.text


async def test_start_code_is_read_in_any_case(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    code = world.invites["cell2"]
    hoa = Chat(core, "hoa")
    await hoa.send(f"/start   {code.lower()}  ")
    assert "họ và tên đầy đủ" in hoa.last.text
    await hoa.send("Đỗ Thị Hoa")
    assert hoa.last.text.startswith("Chào Đỗ Thị Hoa! Đồng chí đã tham gia Chi bộ Tổ dân phố 2")


async def test_start_name_may_not_be_empty_or_too_long(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    hoa = Chat(core, "hoa")
    await hoa.send(f"/start {world.invites['cell2']}")
    await hoa.send("H" * 301)
    assert hoa.last.text.startswith("Họ và tên dài 301 ký tự, vượt quá 300 ký tự.")
    await hoa.send(attachment=Attachment("sticker", file_id="s1"))
    assert hoa.last.text.startswith("Ở bước này cần trả lời bằng chữ")
    assert await person_of(sessionmaker, "hoa") is None
    assert (await invite(sessionmaker, world.invites["cell2"])).uses_left == 5


async def test_start_by_a_member_joins_another_unit_at_once(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lan = Chat(core, "lan")
    await lan.send(f"/start {world.invites['cell2']}")
    assert lan.replies == [
        Reply(
            "Chào Nguyễn Thị Lan! Đồng chí đã tham gia Chi bộ Tổ dân phố 2 với vai trò "
            "cán bộ phụ trách.\n" + WELCOME_HELP
        )
    ]
    assert (await invite(sessionmaker, world.invites["cell2"])).uses_left == 4
    assert await units_of(sessionmaker, world.officer.id) == [
        ("Chi bộ Tổ dân phố 1", "officer"),
        ("Chi bộ Tổ dân phố 2", "officer"),
    ]
    # Two units now: the unit is asked first.
    await lan.send("/dangky")
    assert "Mô hình của đơn vị nào?" in lan.last.text
    assert labels(lan.last) == ["Chi bộ Tổ dân phố 1", "Chi bộ Tổ dân phố 2"]


async def test_start_with_an_expired_code(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    clock.advance(days=7)  # the invite was valid for 7 days
    hoa = Chat(core, "hoa")
    await hoa.send(f"/start {world.invites['cell2']}")
    assert hoa.replies == [Reply("Mã mời đã hết hạn. Vui lòng xin mã mới từ cán bộ quản trị.")]
    assert await open_flow(sessionmaker, "hoa") is None
    assert await person_of(sessionmaker, "hoa") is None
    assert (await invite(sessionmaker, world.invites["cell2"])).uses_left == 5


async def test_start_with_a_used_up_code(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    code = await new_invite(sessionmaker, world.women, "officer", 1, clock())
    first = Chat(core, "hoa")
    await first.send(f"/start {code}")
    await first.send("Đỗ Thị Hoa")
    assert "Đồng chí đã tham gia Hội LHPN phường" in first.last.text
    assert (await invite(sessionmaker, code)).uses_left == 0

    second = Chat(core, "mai")
    await second.send(f"/start {code}")
    assert second.replies == [
        Reply("Mã mời đã được dùng hết lượt. Vui lòng xin mã mới từ cán bộ quản trị.")
    ]
    assert await person_of(sessionmaker, "mai") is None
    assert await open_flow(sessionmaker, "mai") is None


async def test_start_with_an_unknown_code(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    people = await count_rows(sessionmaker, Person)
    hoa = Chat(core, "hoa")
    await hoa.send("/start SAIMA123")
    assert hoa.replies == [
        Reply(
            "Mã mời không đúng. Vui lòng kiểm tra lại mã (chữ in hoa và số) "
            "hoặc xin mã mới từ cán bộ quản trị."
        )
    ]
    assert await count_rows(sessionmaker, Person) == people
    assert await open_flow(sessionmaker, "hoa") is None


async def test_invite_that_expires_while_the_name_is_asked_adds_no_one(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    hoa = Chat(core, "hoa")
    clock.advance(days=6)  # the invite (7 days) expires while the name is asked
    await hoa.send(f"/start {world.invites['cell2']}")
    clock.advance(days=2)
    await hoa.send("Đỗ Thị Hoa")
    assert hoa.replies == [Reply("Mã mời đã hết hạn. Vui lòng xin mã mới từ cán bộ quản trị.")]
    assert await person_of(sessionmaker, "hoa") is None
    assert (await invite(sessionmaker, world.invites["cell2"])).uses_left == 5
    # The join ended: asking the name again could not help.
    assert await open_flow(sessionmaker, "hoa") is None
    await hoa.send("Đỗ Thị Hoa")
    assert hoa.replies == [Reply(NOT_INVITED)]


async def test_a_member_using_an_invite_of_their_own_unit_keeps_its_use(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    minh = Chat(core, "minh")  # already an officer of cell2
    await minh.send(f"/start {world.invites['cell2']}")
    assert minh.last.text.startswith(
        "Đồng chí đã là cán bộ phụ trách của Chi bộ Tổ dân phố 2, không cần dùng mã mời này."
    )
    assert (await invite(sessionmaker, world.invites["cell2"])).uses_left == 5


async def test_start_without_a_code(core: Core, world: World) -> None:
    stranger = Chat(core, "stranger")
    await stranger.send("/start")
    assert stranger.replies == [Reply(NOT_INVITED)]
    lan = Chat(core, "lan")
    await lan.send("/start")
    assert lan.replies == [Reply("Chào Nguyễn Thị Lan!\n" + hint(LAN_NOW))]


@pytest.mark.parametrize(
    "message",
    [
        {"text": "xin chào"},
        {"text": "1"},
        {"text": "hủy"},
        {"text": "/dangky"},
        {"text": "/mohinh"},
        {"text": "/trogiup"},
        {"text": "/huy"},
        {"text": "/khonglenh"},
        {"text": "/start"},
        {"choice": "1234.c0"},
        {"attachment": Attachment("photo", file_id="p1")},
        {"text": ""},
    ],
)
async def test_an_unknown_person_only_gets_the_invite_explanation(
    core: Core,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    message: dict[str, Any],
) -> None:
    people = await count_rows(sessionmaker, Person)
    stranger = Chat(core, "stranger")
    await stranger.send(**message)
    assert stranger.replies == [Reply(NOT_INVITED)]
    assert "/start MÃ_MỜI" in NOT_INVITED
    assert await count_rows(sessionmaker, Person) == people
    assert await count_rows(sessionmaker, ConversationState) == 0


# --- /trogiup, /huy and messages outside a flow -------------------------------------------


async def test_help_for_an_officer(core: Core, world: World) -> None:
    # Every command with its description, in menu order (the list grows with each issue).
    assert [name for name, _ in MENU][:5] == ["dangky", "mohinh", "tonghop", "xuat", "vanban"]
    assert [name for name, _ in MENU][-3:] == ["lienket", "huy", "trogiup"]
    # Only the commands an officer may use: not the leaders' (/tonghop, /duyet) nor the
    # admins' (/hanchot).
    leaders = {"tonghop", "duyet", "thamdinh", "quyetdinh", "web", "hanchot", "giahan"}
    officer_menu = [(n, d) for n, d in MENU if n not in leaders]
    assert len(officer_menu) == len(MENU) - len(leaders)
    lan = Chat(core, "lan")
    await lan.send("/trogiup")
    text = lan.last.text
    # On a phone's screen: what to do now first, then the other commands that fit.
    assert len(text.splitlines()) <= 15
    assert text.startswith(
        "Chào Nguyễn Thị Lan. Đồng chí là:\n"
        "• cán bộ phụ trách — Chi bộ Tổ dân phố 1\n"
        "\n"
        "Nên làm bây giờ:\n"
        "/dangky — Đăng ký mô hình “Dân vận khéo”\n"
        "/mohinh — Xem, sửa hoặc rút mô hình đã đăng ký\n"
        "/lich — Xem các hạn trong năm và việc đơn vị còn thiếu\n"
        "\n"
        "Các lệnh khác:\n/xuat — "
    )
    assert text.endswith(
        f"Gõ /trogiup tatca để xem đủ {len(officer_menu)} lệnh. "
        "Đang trả lời: gõ “quay lại” để lùi một bước, /huy để dừng."
    )
    for leaders_only in ("/tonghop", "/duyet", "/web", "/hanchot", "/giahan"):
        assert leaders_only not in text
    await lan.send("/trogiup tatca")
    assert lan.replies == [
        Reply(
            "Chào Nguyễn Thị Lan. Đồng chí là:\n"
            "• cán bộ phụ trách — Chi bộ Tổ dân phố 1\n"
            "\n"
            "Các lệnh:\n" + "".join(f"/{name} — {desc}\n" for name, desc in officer_menu) + "\n"
            "Trong lúc trả lời: gõ “quay lại” để trở lại bước trước, “hủy” để dừng."
        )
    ]


async def test_after_the_evaluation_deadline_an_officers_help_leaves_out_what_would_refuse(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    for day, shown in ((date(2026, 11, 15), True), (date(2026, 11, 16), False)):
        clock = Clock(local(day.year, day.month, day.day, 9, 0))
        lan = Chat(Core(sessionmaker, clock=clock), "lan")
        await lan.send("/trogiup tatca")
        for command in ("/ketqua", "/chamdiem", "/dexuat"):
            assert (command in lan.last.text) is shown, (day, command)


async def test_help_for_a_leader_leads_with_the_status_and_the_review(
    core: Core, world: World
) -> None:
    hung = Chat(core, "hung")
    await hung.send("/help")
    text = hung.last.text
    assert len(text.splitlines()) <= 15
    assert text.startswith(
        "Chào Trần Văn Hùng. Đồng chí là:\n• lãnh đạo — Đảng bộ phường Minh Khai\n\n"
        "Nên làm bây giờ:\n/tonghop — "
    )
    assert "\n/duyet — " in text.split("Các lệnh khác:")[0]
    assert "/hanchot" not in text
    await hung.send("/trogiup tatca")
    text = hung.last.text
    assert (
        "Với vai trò lãnh đạo, đồng chí dùng được các lệnh trên cho mọi đơn vị trực thuộc, "
        "kể cả sửa hoặc rút mô hình sau hạn đăng ký."
    ) in text
    assert "/mohinh — Xem, sửa hoặc rút mô hình đã đăng ký" in text
    # A leader sees the leaders' commands, not the admins'.
    assert "\n/tonghop — " in text
    assert "\n/duyet — " in text
    assert "\n/web — " in text
    assert "/hanchot" not in text
    # An officer is not told so.
    minh = Chat(core, "minh")
    await minh.send("/hdsd tat ca")
    assert "• cán bộ phụ trách — Chi bộ Tổ dân phố 1" in minh.last.text
    assert "• cán bộ phụ trách — Chi bộ Tổ dân phố 2" in minh.last.text
    assert "vai trò lãnh đạo" not in minh.last.text


async def test_help_during_a_flow_shows_where_one_is(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/dangky")
    await lan.send("xay dung moi")
    await lan.send("/trogiup")
    assert len(lan.replies) == 2
    assert lan.replies[0].text.startswith("Chào Nguyễn Thị Lan. Đồng chí là:")
    assert lan.replies[1].text.startswith(
        "Đồng chí đang làm dở:\n\nĐăng ký mô hình năm 2026 — Bước 2/8"
    )
    await lan.send("Mô hình A")  # the flow goes on
    assert "Mô hình thuộc lĩnh vực nào?" in lan.last.text


async def test_cancel_with_nothing_open(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/huy")
    assert lan.replies == [Reply("Không có thao tác nào đang làm dở. " + hint(LAN_NOW))]
    await lan.send("hủy")  # the word, without the slash, asks the same
    assert lan.replies == [Reply("Không có thao tác nào đang làm dở. " + hint(LAN_NOW))]


async def test_unexpected_messages_outside_a_flow_get_a_short_help(
    core: Core, world: World
) -> None:
    lan = Chat(core, "lan")
    await lan.send("trời hôm nay đẹp quá")
    assert lan.replies == [Reply("Trợ lý chưa hiểu tin nhắn này.\n" + hint(LAN_NOW))]
    await lan.send("/xyzxyz")
    assert lan.replies == [Reply("Không có lệnh /xyzxyz.\n" + hint(LAN_NOW))]
    await lan.send("/baocaoo")  # a typo of a command she may use: a guess to confirm
    assert lan.replies == [
        Reply(
            "Không có lệnh /baocaoo. Có phải đồng chí muốn /baocao (soạn dự thảo báo cáo "
            "(Word), đánh dấu đã gửi báo cáo năm)? Gõ /baocao để bắt đầu."
        )
    ]
    await lan.send(choice="1234.c0")
    assert lan.last.text.startswith(
        "Nút bấm này thuộc một thao tác đã xong hoặc đã hủy nên không còn hiệu lực."
    )
    await lan.send(attachment=Attachment("photo", file_id="p1"))
    assert lan.last.text.startswith("Trợ lý chưa hiểu tin nhắn này.")


@pytest.mark.parametrize(
    ("message", "note"),
    [
        ({"attachment": Attachment("photo", file_id="p1")}, "Ở bước này cần trả lời bằng chữ"),
        ({"attachment": Attachment("sticker", file_id="s1")}, "Ở bước này cần trả lời bằng chữ"),
        ({"attachment": Attachment("voice", file_id="v1")}, "Ở bước này cần trả lời bằng chữ"),
        ({"attachment": Attachment("other")}, "Ở bước này cần trả lời bằng chữ"),
        ({"text": ""}, "Câu trả lời đang để trống, vui lòng nhập lại."),
        ({"text": " \n\t "}, "Câu trả lời đang để trống, vui lòng nhập lại."),
        ({}, "Câu trả lời đang để trống, vui lòng nhập lại."),
    ],
)
async def test_photo_sticker_or_empty_message_in_a_flow_keeps_the_step(
    core: Core,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    message: dict[str, Any],
    note: str,
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/dangky")
    await lan.answers("xay dung moi", "Mô hình A")
    before = await open_flow(sessionmaker, "lan")
    assert before is not None
    await lan.send(**message)
    assert lan.last.text.startswith(note)
    assert "Đăng ký mô hình năm 2026 — Bước 3/8\nMô hình thuộc lĩnh vực nào?" in lan.last.text
    after = await open_flow(sessionmaker, "lan")
    assert after is not None
    assert (after.data, after.version) == (before.data, before.version)
    await lan.send("kinh te")
    assert "Mô hình do tập thể hay cá nhân" in lan.last.text


async def test_another_command_during_a_flow_keeps_the_flow(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/dangky")
    await lan.send("xay dung moi")
    await lan.send("/mohinh")
    assert lan.last.text.startswith(
        "Đồng chí đang làm dở “Đăng ký mô hình năm 2026”. Hãy trả lời tiếp, hoặc gõ /huy để "
        "hủy rồi dùng lệnh /mohinh.\n\nĐăng ký mô hình năm 2026 — Bước 2/8"
    )
    row = await open_flow(sessionmaker, "lan")
    assert row is not None
    assert (row.flow, row.data["step"]) == ("register", "name")


async def test_a_flow_left_for_over_seven_days_is_closed_with_a_note(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/dangky")
    await lan.send("xay dung moi")
    clock.advance(days=6)
    await lan.send("Mô hình A")  # within 7 days: the flow goes on
    assert "Mô hình thuộc lĩnh vực nào?" in lan.last.text
    clock.advance(days=7, minutes=1)
    await lan.send("kinh te")
    assert [r.text for r in lan.replies] == [
        "Thao tác “Đăng ký mô hình năm 2026” bỏ dở từ 08/03/2026 đã quá 7 ngày nên đã được hủy; "
        "những gì đã lưu trước đó vẫn còn.",
        f"Trợ lý chưa hiểu tin nhắn này.\n{hint(LAN_NOW)}",
    ]
    assert await open_flow(sessionmaker, "lan") is None
    assert await records(sessionmaker) == []


# --- which unit --------------------------------------------------------------------------


async def test_officer_of_several_units_is_asked_the_unit_first(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await add_record(sessionmaker, world.cell1, "Mô hình A")
    await add_record(sessionmaker, world.cell1, "Mô hình B")
    minh = Chat(core, "minh")
    # Only units with models this year are offered: cell2 has none, so cell1 is picked.
    await minh.send("/mohinh")
    assert "đơn vị nào" not in minh.last.text
    assert minh.last.text.startswith("Đơn vị: Chi bộ Tổ dân phố 1 (")
    assert "Chọn một mô hình để xem (năm 2026, Chi bộ Tổ dân phố 1):" in minh.last.text
    await minh.send("/huy")

    await add_record(sessionmaker, world.cell2, "Mô hình của tổ 2")
    await minh.send("/mohinh")
    assert "Xem mô hình của đơn vị nào?" in minh.last.text
    assert labels(minh.last) == ["Chi bộ Tổ dân phố 1", "Chi bộ Tổ dân phố 2"]
    await minh.send("2")  # its only model is picked for him
    assert minh.last.text.startswith(
        "Mô hình: “Mô hình của tổ 2 (Kinh tế (KT); Tập thể)” (mô hình duy nhất năm 2026 của "
        "Chi bộ Tổ dân phố 2 nên trợ lý chọn sẵn).\n\n"
    )
    assert "Mô hình “Mô hình của tổ 2” — Chi bộ Tổ dân phố 2, năm 2026" in minh.last.text
    await minh.send("quay lại")
    assert "Xem mô hình của đơn vị nào?" in minh.last.text
    await minh.send("chi bo to dan pho 1")
    assert "Chọn một mô hình để xem (năm 2026, Chi bộ Tổ dân phố 1):" in minh.last.text

    lan = Chat(core, "lan")
    await lan.send("/mohinh")
    assert "đơn vị nào" not in lan.last.text
    assert lan.last.text.startswith(
        "Đơn vị: Chi bộ Tổ dân phố 1 (chỉ có một đơn vị phù hợp nên trợ lý chọn sẵn).\n\n"
    )
    assert "Chọn một mô hình để xem (năm 2026, Chi bộ Tổ dân phố 1):" in lan.last.text


# --- /mohinh ------------------------------------------------------------------------------


async def test_model_list_shows_this_years_models_numbered(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await add_record(sessionmaker, world.cell1, "Mô hình A", field="KT")
    await add_record(sessionmaker, world.cell1, "Mô hình B", field="QPAN")
    await add_record(sessionmaker, world.cell2, "Mô hình của tổ 2")
    await add_record(sessionmaker, world.cell1, "Mô hình năm 2024", year=2024)
    lan = Chat(core, "lan")
    await lan.send("/mohinh")
    assert lan.last.text == (
        "Đơn vị: Chi bộ Tổ dân phố 1 (chỉ có một đơn vị phù hợp nên trợ lý chọn sẵn).\n"
        "\n"
        "Mô hình đã đăng ký\n"
        "Chọn một mô hình để xem (năm 2026, Chi bộ Tổ dân phố 1):"
    )
    assert labels(lan.last) == [
        "Mô hình A (Kinh tế (KT); Tập thể)",
        "Mô hình B (Quốc phòng - An ninh (QPAN); Tập thể)",
    ]
    plain = render_plain(lan.last)
    assert "1. Mô hình A (Kinh tế (KT); Tập thể)\n2. Mô hình B" in plain
    assert "Tuyến phố văn minh" not in plain  # last year's
    assert "năm 2024" not in plain
    assert "tổ 2" not in plain  # another unit's


async def test_model_list_when_the_unit_has_none(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/mohinh")
    assert lan.replies == [Reply("Chưa có mô hình nào năm 2026. Gõ /dangky để đăng ký mô hình.")]
    assert await open_flow(sessionmaker, "lan") is None


async def test_open_a_model_by_number(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await add_record(sessionmaker, world.cell1, "Mô hình A")
    await add_record(sessionmaker, world.cell1, "Mô hình B", place="Thôn 3")
    lan = Chat(core, "lan")
    await lan.send("/mohinh")
    await lan.send("2")
    # The menu is asked because of the model picked: it shares the model's number.
    assert lan.last.text == (
        "Mô hình đã đăng ký\n"
        "Mô hình “Mô hình B” — Chi bộ Tổ dân phố 1, năm 2026 (Xây dựng mới):\n"
        "• Tên mô hình: Mô hình B\n"
        "• Lĩnh vực: Kinh tế (KT)\n"
        "• Chủ thể: Tập thể — Chi bộ\n"
        "• Địa điểm: Thôn 3\n"
        "• Chủ trì: Chi bộ\n"
        "• Quy mô: 100 hộ\n"
        "• Kết quả đạt được: (chưa nhập)\n"
        "• Điểm: chưa chấm\n"
        "• Tình trạng: chưa đề xuất công nhận\n"
        "\n"
        "Đồng chí muốn làm gì?"
    )
    assert labels(lan.last) == ["Sửa thông tin", "Rút mô hình", "Xong"]
    await lan.send("xong")
    assert lan.replies == [
        Reply("Xong. Gõ /mohinh để xem lại danh sách, /trogiup để xem các lệnh.")
    ]
    assert await open_flow(sessionmaker, "lan") is None


async def test_edit_a_model_writes_an_audit_row(
    core: Core,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> None:
    a = await add_record(sessionmaker, world.cell1, "Mô hình A")
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A")
    await lan.tap("Sửa thông tin")
    assert lan.last.text.startswith("Sửa mô hình — kiểm tra lại trước khi lưu:\n")
    assert "\n5. Địa điểm: Tổ dân phố 1\n" in lan.last.text
    assert [o.label for o in lan.last.nav] == ["✅ Lưu", "Hủy"]  # nothing to go back to
    clock.advance(hours=1)
    await lan.tap("Sửa: Địa điểm")
    assert lan.last.text.startswith("Sửa mô hình — Sửa: Địa điểm\n")
    assert "(Hiện tại: Tổ dân phố 1)" in lan.last.text
    await lan.send("Tổ dân phố 3")
    assert "\n5. Địa điểm: Tổ dân phố 3\n" in lan.last.text
    await lan.tap("Lưu")
    assert lan.last.text.startswith("✅ Đã lưu thay đổi của mô hình “Mô hình A”:\n")
    assert "• Địa điểm: Tổ dân phố 3" in lan.last.text
    saved = await record(sessionmaker, a)
    assert saved.place == "Tổ dân phố 3"
    assert saved.updated_at == clock()
    assert saved.state == "active"
    [edit] = await audits(sessionmaker, "edit")
    assert edit.person_id == world.officer.id
    assert (edit.entity, edit.entity_id, edit.via_channel) == ("model_year", a, "terminal")
    assert edit.details == {"place": ["Tổ dân phố 1", "Tổ dân phố 3"]}
    assert edit.at == clock()
    assert len(await records(sessionmaker)) == 1  # edited in place, nothing added


async def test_edit_without_change_writes_nothing(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await add_record(sessionmaker, world.cell1, "Mô hình A")
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A")
    await lan.tap("Sửa thông tin")
    await lan.tap("Sửa: Quy mô")
    await lan.tap("Giữ nguyên")
    await lan.send("lưu")
    assert lan.replies == [Reply("Không có thay đổi nào. Mô hình giữ nguyên như cũ.")]
    assert await audits(sessionmaker, "edit") == []


async def test_edit_a_models_field_to_other_asks_for_its_name(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    a = await add_record(sessionmaker, world.cell1, "Mô hình A", field="KT")
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A")
    await lan.tap("Sửa thông tin")
    await lan.tap("Sửa: Lĩnh vực")
    await lan.tap("Lĩnh vực khác")
    assert "Lĩnh vực khác là gì?" in lan.last.text
    await lan.send("Đô thị văn minh")
    assert "\n3. Tên lĩnh vực khác: Đô thị văn minh\n" in lan.last.text
    await lan.tap("Lưu")
    assert "• Lĩnh vực: Đô thị văn minh" in lan.last.text
    saved = await record(sessionmaker, a)
    assert (saved.field, saved.field_other) == ("OTHER", "Đô thị văn minh")
    [edit] = await audits(sessionmaker, "edit")
    assert edit.details == {"field": ["KT", "OTHER"], "field_other": [None, "Đô thị văn minh"]}


async def test_edit_to_the_name_of_another_model_is_refused(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    a = await add_record(sessionmaker, world.cell1, "Mô hình A")
    await add_record(sessionmaker, world.cell1, "Mô hình B")
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A")
    await lan.tap("Sửa thông tin")
    await lan.tap("Sửa: Tên mô hình")
    await lan.send("mo hinh b")
    assert lan.last.text.startswith("Đơn vị đã có mô hình “mo hinh b” trong năm 2026.")
    await lan.send("MÔ HÌNH A")  # its own name in another case is fine
    await lan.tap("Lưu")
    assert (await record(sessionmaker, a)).name == "MÔ HÌNH A"


async def test_edit_cancelled_changes_nothing(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    a = await add_record(sessionmaker, world.cell1, "Mô hình A")
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A")
    await lan.tap("Sửa thông tin")
    await lan.tap("Sửa: Tên mô hình")
    await lan.send("Tên mới")
    await lan.send("/huy")
    assert lan.replies == [Reply("Đã hủy “Sửa mô hình”. Không có gì được lưu.")]
    assert (await record(sessionmaker, a)).name == "Mô hình A"
    assert await audits(sessionmaker, "edit") == []


async def test_withdraw_a_model(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    a = await add_record(sessionmaker, world.cell1, "Mô hình A")
    await add_record(sessionmaker, world.cell1, "Mô hình B")
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A")
    await lan.tap("Rút mô hình")
    assert (
        "Mô hình đã đăng ký\n"
        "Rút mô hình “Mô hình A” khỏi danh sách năm 2026? Thao tác này được ghi lại."
    ) in lan.last.text
    assert labels(lan.last) == ["Có, rút mô hình", "Không"]
    await lan.tap("Có, rút mô hình")
    assert lan.replies == [Reply("Đã rút mô hình “Mô hình A” khỏi danh sách năm 2026.")]
    # The record is kept, marked withdrawn, and the withdrawal is logged.
    withdrawn = await record(sessionmaker, a)
    assert withdrawn.state == "withdrawn"
    [logged] = await audits(sessionmaker, "withdraw")
    assert (logged.person_id, logged.entity_id, logged.details) == (
        world.officer.id,
        a,
        {"name": "Mô hình A"},
    )
    # It is no longer listed: the unit's only model left is picked.
    await lan.send("/mohinh")
    assert "\nMô hình: “Mô hình B (Kinh tế (KT); Tập thể)” (mô hình duy nhất" in lan.last.text
    assert "Mô hình A" not in lan.last.text
    assert labels(lan.last) == ["Sửa thông tin", "Rút mô hình", "Xong"]
    # Its name is free again for a new registration.
    await lan.send("/huy")
    await lan.send("/dangky")
    await lan.answers("xay dung moi", "Mô hình A")
    assert "Mô hình thuộc lĩnh vực nào?" in lan.last.text


async def test_withdraw_the_only_model_empties_the_list(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await add_record(sessionmaker, world.cell1, "Mô hình A")
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A")
    await lan.send("rut")
    await lan.send("co")
    assert lan.last.text == "Đã rút mô hình “Mô hình A” khỏi danh sách năm 2026."
    await lan.send("/mohinh")
    assert lan.replies == [Reply("Chưa có mô hình nào năm 2026. Gõ /dangky để đăng ký mô hình.")]


async def test_withdraw_answered_no_keeps_the_model(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    a = await add_record(sessionmaker, world.cell1, "Mô hình A")
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A")
    await lan.tap("Rút mô hình")
    await lan.tap("Không")
    assert lan.replies == [Reply("Đã giữ nguyên mô hình, không rút.")]
    assert (await record(sessionmaker, a)).state == "active"
    assert await audits(sessionmaker, "withdraw") == []


async def test_model_withdrawn_from_another_chat_while_open(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    a = await add_record(sessionmaker, world.cell1, "Mô hình A")
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A")
    hung = Chat(core, "hung")
    await open_record(hung, "Mô hình A", unit="Chi bộ Tổ dân phố 1")
    await hung.tap("Rút mô hình")
    await hung.tap("Có, rút mô hình")
    await lan.tap("Sửa thông tin")
    assert lan.replies == [
        Reply("Mô hình này không còn trong danh sách.\nĐã dừng “Mô hình đã đăng ký”.")
    ]
    assert await open_flow(sessionmaker, "lan") is None
    assert (await record(sessionmaker, a)).state == "withdrawn"
    await lan.send("/mohinh")
    assert lan.replies == [Reply("Chưa có mô hình nào năm 2026. Gõ /dangky để đăng ký mô hình.")]


# --- the registration deadline -------------------------------------------------------


async def test_after_the_deadline_an_officer_can_only_look(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    a = await add_record(sessionmaker, world.cell1, "Mô hình A")
    clock.now = local(2026, 4, 16, 0, 30)  # still 15/4 in UTC: the local date counts
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A", menu=False)
    # No menu: the model, why it cannot be changed now, and the flow is closed.
    assert lan.last.text.startswith("Mô hình “Mô hình A” — Chi bộ Tổ dân phố 1, năm 2026")
    # Her unit's only model: no "see another model".
    assert lan.last.text.endswith(f"\n\n{PAST_DEADLINE}")
    assert (lan.last.options, lan.last.nav) == ((), ())
    assert await open_flow(sessionmaker, "lan") is None
    for typed in ("sua", "Sửa thông tin", "rút", "2"):
        await lan.send(typed)
        assert lan.last.text.startswith("Trợ lý chưa hiểu tin nhắn này."), typed
    unchanged = await record(sessionmaker, a)
    assert (unchanged.state, unchanged.name) == ("active", "Mô hình A")
    assert await audits(sessionmaker, "edit") == []


async def test_on_the_deadline_day_an_officer_may_still_edit(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    a = await add_record(sessionmaker, world.cell1, "Mô hình A")
    clock.now = local(2026, 4, 15, 23, 59)
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A")
    assert PAST_DEADLINE not in lan.last.text
    assert labels(lan.last) == ["Sửa thông tin", "Rút mô hình", "Xong"]
    await lan.tap("Sửa thông tin")
    await lan.tap("Sửa: Quy mô")
    await lan.send("150 hộ")
    await lan.tap("Lưu")
    assert (await record(sessionmaker, a)).scale == "150 hộ"


async def test_edit_begun_before_the_deadline_cannot_be_saved_after_it(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    a = await add_record(sessionmaker, world.cell1, "Mô hình A")
    clock.now = local(2026, 4, 15, 23, 50)
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A")
    await lan.tap("Sửa thông tin")
    await lan.tap("Sửa: Quy mô")
    await lan.send("150 hộ")
    clock.now = local(2026, 4, 16, 0, 5)
    await lan.tap("Lưu")
    assert lan.last.text.startswith(PAST_DEADLINE + "\n\nSửa mô hình — kiểm tra lại trước khi lưu:")
    assert (await record(sessionmaker, a)).scale == "100 hộ"
    assert await audits(sessionmaker, "edit") == []


async def test_withdraw_begun_before_the_deadline_cannot_be_confirmed_after_it(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    a = await add_record(sessionmaker, world.cell1, "Mô hình A")
    clock.now = local(2026, 4, 15, 23, 50)
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A")
    await lan.tap("Rút mô hình")
    clock.now = local(2026, 4, 16, 0, 5)
    await lan.tap("Có, rút mô hình")
    assert lan.last.text.startswith(PAST_DEADLINE)
    assert (await record(sessionmaker, a)).state == "active"
    assert await audits(sessionmaker, "withdraw") == []


async def test_the_deadline_is_data_of_the_year(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    await add_record(sessionmaker, world.cell1, "Mô hình A")
    async with sessionmaker() as session, session.begin():
        ward = await session.get(Unit, world.ward.id)
        assert ward is not None
        await deadlines.set_deadline(session, ward, 2026, "registration", date(2026, 3, 1), clock())
    lan = Chat(core, "lan")
    await open_record(lan, "Mô hình A", menu=False)
    assert "Đã quá hạn đăng ký (01/03/2026)" in lan.last.text
    # Who can reopen it is named: the ward's leader.
    assert "đề nghị lãnh đạo Đảng bộ phường Minh Khai (Trần Văn Hùng) mở lại" in lan.last.text
    assert labels(lan.last) == []
    assert await open_flow(sessionmaker, "lan") is None


async def test_after_the_deadline_the_leader_may_edit_and_withdraw(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    a = await add_record(sessionmaker, world.cell1, "Mô hình A")
    b = await add_record(sessionmaker, world.cell1, "Mô hình B")
    clock.now = local(2026, 6, 1, 9, 0)
    hung = Chat(core, "hung")
    await open_record(hung, "Mô hình A", unit="Chi bộ Tổ dân phố 1")
    assert PAST_DEADLINE not in hung.last.text
    assert labels(hung.last) == ["Sửa thông tin", "Rút mô hình", "Xong"]
    await hung.tap("Sửa thông tin")
    await hung.tap("Sửa: Quy mô")
    await hung.send("300 hộ")
    await hung.tap("Lưu")
    assert hung.last.text.startswith("✅ Đã lưu thay đổi của mô hình “Mô hình A”:")
    assert (await record(sessionmaker, a)).scale == "300 hộ"
    [edit] = await audits(sessionmaker, "edit")
    assert (edit.person_id, edit.details) == (world.leader.id, {"scale": ["100 hộ", "300 hộ"]})

    await open_record(hung, "Mô hình B", unit="Chi bộ Tổ dân phố 1")
    await hung.tap("Rút mô hình")
    await hung.tap("Có, rút mô hình")
    assert (await record(sessionmaker, b)).state == "withdrawn"
    [withdraw] = await audits(sessionmaker, "withdraw")
    assert withdraw.person_id == world.leader.id


# --- who reaches which records -------------------------------------------------------


async def test_leader_sees_every_unit_below_and_nothing_beside(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await add_record(sessionmaker, world.cell1, "Mô hình của tổ 1")
    await add_record(sessionmaker, world.cell1, "Mô hình thứ hai của tổ 1")
    await add_record(sessionmaker, world.women, "Mô hình của Hội Phụ nữ")
    await add_record(sessionmaker, world.other_cell, "Mô hình của thôn Đồng Tâm")
    hung = Chat(core, "hung")
    await hung.send("/mohinh")
    # /mohinh offers the units below him that have models this year, none beside.
    assert labels(hung.last) == ["Chi bộ Tổ dân phố 1", "Hội LHPN phường"]
    await hung.send("chi bo thon dong tam")
    assert hung.last.text.startswith("Chưa nhận ra lựa chọn “chi bo thon dong tam”.")
    await hung.send("1")
    assert labels(hung.last) == [
        "Mô hình của tổ 1 (Kinh tế (KT); Tập thể)",
        "Mô hình thứ hai của tổ 1 (Kinh tế (KT); Tập thể)",
    ]
    await hung.send("/huy")
    await hung.send("/dangky")
    assert labels(hung.last) == [
        "Đảng bộ phường Minh Khai",
        "Chi bộ Tổ dân phố 1",
        "Chi bộ Tổ dân phố 2",
        "Hội LHPN phường",
    ]


async def test_officer_of_two_cells_sees_only_those(core: Core, world: World) -> None:
    minh = Chat(core, "minh")
    await minh.send("/dangky")
    assert labels(minh.last) == ["Chi bộ Tổ dân phố 1", "Chi bộ Tổ dân phố 2"]
    await minh.send("Hội LHPN phường")
    assert minh.last.text.startswith("Chưa nhận ra lựa chọn “Hội LHPN phường”.")


async def test_outsider_cannot_reach_another_wards_records(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await add_record(sessionmaker, world.cell1, "Mô hình khác của tổ 1")
    secret = await add_record(sessionmaker, world.cell1, "Mô hình bí mật của tổ 1")
    lan = Chat(core, "lan")
    await lan.send("/mohinh")
    lan_buttons = [o.data for o in (*lan.last.options, *lan.last.nav)]

    tuan = Chat(core, "tuan")
    seen: list[str] = []

    async def say(**message: Any) -> None:
        await tuan.send(**message)
        seen.extend(render_plain(r) for r in tuan.replies)

    await say(text="/mohinh")
    assert tuan.last.text == "Chưa có mô hình nào năm 2026. Gõ /dangky để đăng ký mô hình."
    for data in lan_buttons:  # lan's buttons, copied into tuan's chat
        await say(choice=data)
    await say(text="/dangky")
    assert "Đăng ký mô hình năm 2026 — Bước 1/7" in tuan.last.text  # his unit only: no unit step
    for data in lan_buttons:
        await say(choice=data)
        assert "không còn hiệu lực" in tuan.last.text
    await tuan.answers(
        "Mô hình của thôn", "kinh te", "tap the", "Chi bộ thôn", "Thôn Đồng Tâm", "1", "20 hộ"
    )
    await say(text="lưu")
    assert "của Chi bộ thôn Đồng Tâm" in tuan.last.text
    # A second model of his, so that he is shown the list of his models (one would be
    # picked for him).
    await add_record(sessionmaker, world.other_cell, "Mô hình thứ hai của thôn")
    await say(text="/mohinh")
    his = [
        "Mô hình của thôn (Kinh tế (KT); Tập thể)",
        "Mô hình thứ hai của thôn (Kinh tế (KT); Tập thể)",
    ]
    assert labels(tuan.last) == his
    assert secret > len(his)  # its id is no number of his list
    for typed in ("Mô hình bí mật của tổ 1", "3", str(secret)):
        await tuan.send(typed)  # not collected: the refusal quotes what he typed
        assert tuan.last.text.startswith(f"Chưa nhận ra lựa chọn “{typed}”."), typed
        assert labels(tuan.last) == his
    await say(choice=f"{tag_of(tuan.last)}.c2")
    assert tuan.last.text.startswith("Lựa chọn này không còn hiệu lực.")
    await say(text="/huy")
    await say(text="/trogiup")
    everything = "\n".join(seen)
    assert "bí mật" not in everything
    assert "Tổ dân phố 1" not in everything
    assert "Minh Khai" not in everything
    mine = [r for r in await records(sessionmaker) if r.created_by == world.outsider.id]
    assert [r.name for r in mine] == ["Mô hình của thôn"]
    assert (await record(sessionmaker, secret)).state == "active"


# --- nothing half-written reaches the database --------------------------------------


ANSWERS = (
    "xay dung moi",
    "Mô hình dở dang",
    "van hoa xa hoi",
    "tap the",
    "Chi đoàn Tổ dân phố 1",
    "Tổ dân phố 1",
    "doan thanh nien",
    "30 đoàn viên",
)


@pytest.mark.parametrize("answered", range(len(ANSWERS) + 1))
async def test_cancelling_at_any_step_leaves_no_record(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession], answered: int
) -> None:
    models = await count_rows(sessionmaker, DvkModel)
    audit_rows = await count_rows(sessionmaker, AuditLog)
    lan = Chat(core, "lan")
    await lan.send("/dangky")
    await lan.answers(*ANSWERS[:answered])
    # Some wrong answers on the way: none of them is stored either.
    await lan.send("99")
    await lan.send("x" * 1001)
    await lan.send(attachment=Attachment("photo", file_id="p1"))
    await lan.send("/huy")
    assert lan.last.text == "Đã hủy “Đăng ký mô hình năm 2026”. Không có gì được lưu."
    assert await records(sessionmaker) == []
    assert await count_rows(sessionmaker, DvkModel) == models
    assert await count_rows(sessionmaker, AuditLog) == audit_rows
    assert await count_rows(sessionmaker, ConversationState) == 0


async def test_a_twin_saved_meanwhile_stops_the_save_and_writes_nothing(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lan = Chat(core, "lan")
    await lan.send("/dangky")
    await lan.answers(*ANSWERS)
    assert "kiểm tra lại trước khi lưu" in lan.last.text
    minh = Chat(core, "minh")
    await minh.send("/dangky")
    await minh.tap("Chi bộ Tổ dân phố 1")
    await minh.answers(*ANSWERS)
    await minh.tap("Lưu")
    assert "Đã lưu mô hình xây dựng mới năm 2026" in minh.last.text
    models = await count_rows(sessionmaker, DvkModel)

    await lan.tap("Lưu")
    assert lan.last.text.startswith(
        "Đơn vị đã có mô hình “Mô hình dở dang” trong năm 2026. Vui lòng đặt tên khác, "
        "hoặc dùng /mohinh để sửa mô hình đó.\n\n"
        "Đăng ký mô hình năm 2026 — kiểm tra lại trước khi lưu:"
    )
    assert [r.created_by for r in await records(sessionmaker)] == [world.multi.id]
    assert await count_rows(sessionmaker, DvkModel) == models
    row = await open_flow(sessionmaker, "lan")
    assert row is not None
    assert row.data["step"] == "@summary"
    # A new name, and it saves.
    await lan.tap("Sửa: Tên mô hình")
    await lan.send("Mô hình dở dang (tổ 1)")
    await lan.tap("Lưu")
    assert len(await records(sessionmaker)) == 2


async def keep_street_model(chat: Chat, unit: str | None = None, scale: str | None = None) -> None:
    """/dangky keeping last year's "Tuyến phố văn minh" up to the summary: every answer kept,
    or the scale changed to ``scale``."""
    await chat.send("/dangky")
    if unit is not None:
        await chat.tap(unit)
    await chat.tap("Duy trì từ năm trước")
    await chat.tap("Tuyến phố văn minh")
    for _ in range(6):
        await chat.tap("Giữ nguyên")
    if scale is None:
        await chat.tap("Giữ nguyên")
    else:
        await chat.send(scale)
    assert "kiểm tra lại trước khi lưu" in chat.last.text, chat.last.text


async def withdraw(chat: Chat, name: str) -> None:
    await open_record(chat, name)
    await chat.tap("Rút mô hình")
    await chat.tap("Có, rút mô hình")
    assert chat.last.text.startswith(f"Đã rút mô hình “{name}”"), chat.last.text


async def test_a_kept_model_withdrawn_by_mistake_can_be_kept_again(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lan = Chat(core, "lan")
    await keep_street_model(lan, scale="220 hộ")
    await lan.tap("Lưu")
    [first] = await records(sessionmaker)
    await withdraw(lan, "Tuyến phố văn minh")
    assert (await record(sessionmaker, first.id)).state == "withdrawn"
    # Offered again, and saved again as the same record with the answers given now.
    await keep_street_model(lan, scale="240 hộ")
    await lan.tap("Lưu")
    assert lan.last.text.startswith("✅ Đã lưu mô hình duy trì năm 2026 của Chi bộ Tổ dân phố 1:\n")
    [again] = await records(sessionmaker)
    assert (again.id, again.model_id, again.origin, again.state, again.scale) == (
        first.id,
        world.kept.model_id,
        "kept",
        "active",
        "240 hộ",
    )
    await lan.send("/mohinh")  # the only model of the year: picked for her
    assert (
        "\nMô hình: “Tuyến phố văn minh (Văn hóa - Xã hội (VHXH); Tập thể)” (mô hình duy nhất "
        "năm 2026 của Chi bộ Tổ dân phố 1 nên trợ lý chọn sẵn).\n\n"
    ) in lan.last.text
    assert labels(lan.last) == ["Sửa thông tin", "Rút mô hình", "Xong"]
    # Kept again, it is no longer offered.
    await lan.send("/huy")
    await lan.send("/dangky")
    assert "Duy trì từ năm trước" not in labels(lan.last)
    assert len(await audits(sessionmaker, "register")) == 2


async def test_a_withdrawn_model_kept_from_two_chats_is_saved_once(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lan = Chat(core, "lan")
    minh = Chat(core, "minh")
    await keep_street_model(lan)
    await lan.tap("Lưu")
    [first] = await records(sessionmaker)
    await withdraw(lan, "Tuyến phố văn minh")
    await keep_street_model(lan)
    await keep_street_model(minh, unit="Chi bộ Tổ dân phố 1")
    await minh.tap("Lưu")
    assert "Đã lưu mô hình duy trì năm 2026" in minh.last.text
    await lan.tap("Lưu")
    assert "/mohinh" in lan.last.text
    assert "Đã lưu" not in lan.last.text
    [saved] = await records(sessionmaker)
    assert (saved.id, saved.state) == (first.id, "active")


async def test_last_years_model_kept_twice_is_saved_once(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lan = Chat(core, "lan")
    minh = Chat(core, "minh")
    await keep_street_model(lan, scale="220 hộ")
    await keep_street_model(minh, unit="Chi bộ Tổ dân phố 1", scale="220 hộ")
    await minh.tap("Lưu")
    assert "Đã lưu mô hình duy trì năm 2026" in minh.last.text
    await lan.tap("Lưu")
    assert "/mohinh" in lan.last.text
    assert "Đã lưu" not in lan.last.text
    saved = await records(sessionmaker)
    assert [(r.origin, r.model_id, r.created_by) for r in saved] == [
        ("kept", world.kept.model_id, world.multi.id)
    ]
