"""Deadlines in chat: /lich (the year's deadlines and what one's units still owe),
/nhacnho (pause or resume early reminders) and /hanchot (admins change a deadline)."""

from __future__ import annotations

import re
from datetime import date

from conversations.answers import Choice, InputError
from conversations.commands import Audience, Command
from conversations.context import Ctx, Data
from conversations.engine import Flow, Outcome, Step
from conversations.records import fmt_date
from conversations.workbooks import parse_year
from domain.catalog import Role
from domain.messages import Reply
from domain.text import fold
from scheduler import obligations
from storage import repo
from storage.models import Deadline, Unit

# Set in the message's session when a deadline changed; Core calls its reschedule hook
# once the transaction has committed (a planner reading before the commit sees the old date).
DEADLINES_CHANGED = "deadlines_changed"

DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
PAUSE_WORDS = {"tat", "off", "dung", "tam dung", "ngung", "tat nhac"}
RESUME_WORDS = {"bat", "on", "mo", "tiep tuc", "bat nhac", "bat lai"}


def days_text(due_on: date, today: date) -> str:
    days = (due_on - today).days
    if days > 1:
        return f"còn {days} ngày"
    if days == 1:
        return "ngày mai"
    if days == 0:
        return "hôm nay"
    return "đã qua"


async def own_units(ctx: Ctx) -> list[tuple[Unit, str]]:
    """The units the person belongs to directly, with the role held, in tree order."""
    if ctx.person is None:
        return []
    pairs = await repo.memberships(ctx.session, ctx.person)
    roles = {u.id: m.role for m, u in pairs}
    return [(u, roles[u.id]) for u in repo.sort_tree([u for _, u in pairs])]


def _year_arg(ctx: Ctx, args: str) -> int:
    return parse_year(args.strip(), ctx.local_now.year) if args.strip() else ctx.local_now.year


# --- /lich -------------------------------------------------------------------------------


async def lich(ctx: Ctx, args: str) -> list[Reply]:
    try:
        year = _year_arg(ctx, args)
    except InputError as err:
        return [Reply(err.message)]
    units = await own_units(ctx)
    if not units:
        return [Reply("Đồng chí chưa thuộc đơn vị nào.")]
    campaign = await repo.ensure_campaign(ctx.session, year, ctx.now)
    deadlines = sorted(campaign.deadlines, key=lambda d: (d.due_on, d.id))
    by_kind = {d.kind: d for d in deadlines}
    today = ctx.local_now.date()
    lines = [f"Các hạn năm {year}:"]
    lines += [
        f"• {fmt_date(d.due_on)} — {d.title} ({days_text(d.due_on, today)})" for d in deadlines
    ]
    order = [d.kind for d in deadlines]
    for unit, _role in units:
        owed = await obligations.owed_by_unit(ctx.session, unit, year, ctx.quotas, order)
        lines.append("")
        if not owed:
            lines.append(f"{unit.name}: không còn thiếu việc nào.")
            continue
        lines.append(f"{unit.name} còn thiếu:")
        for lag in owed:
            deadline = by_kind[lag.kind]
            late = ", đã quá hạn" if deadline.due_on < today else ""
            lines.append(f"• {deadline.title} (hạn {fmt_date(deadline.due_on)}{late}):")
            lines += [f"  – {o.line()}" for o in lag.owed]
    assert ctx.person is not None
    lines.append("")
    lines.append(_pause_state(ctx))
    return [Reply("\n".join(lines))]


def _pause_state(ctx: Ctx) -> str:
    assert ctx.person is not None
    paused = ctx.person.reminders_paused_at
    if paused is None:
        return (
            "Nhắc hạn: đang bật (nhắc trước hạn và vào ngày hạn chót). "
            "Gõ /nhacnho tat để tạm dừng nhắc trước hạn."
        )
    since = fmt_date(paused.astimezone(ctx.tz).date())
    return (
        f"Nhắc hạn: đã tạm dừng nhắc trước hạn từ {since}; tin nhắc vào ngày hạn chót vẫn "
        "được gửi. Gõ /nhacnho bat để nhận lại."
    )


# --- /nhacnho ------------------------------------------------------------------------------


async def nhacnho(ctx: Ctx, args: str) -> list[Reply]:
    person = ctx.person
    assert person is not None
    word = fold(args)
    if not word:
        return [Reply(_pause_state(ctx))]
    if word in PAUSE_WORDS:
        if person.reminders_paused_at is not None:
            return [Reply(_pause_state(ctx))]
        person.reminders_paused_at = ctx.now
        await repo.audit(
            ctx.session, person.id, "pause_reminders", "person", person.id, {}, ctx.now, ctx.channel
        )
        return [
            Reply(
                "Đã tạm dừng nhắc trước hạn. Đồng chí vẫn nhận tin nhắc vào đúng ngày hạn chót "
                "của những việc đơn vị còn thiếu. Gõ /nhacnho bat để nhận lại, /lich để xem "
                "các hạn."
            )
        ]
    if word in RESUME_WORDS:
        if person.reminders_paused_at is None:
            return [Reply(_pause_state(ctx))]
        person.reminders_paused_at = None
        await repo.audit(
            ctx.session,
            person.id,
            "resume_reminders",
            "person",
            person.id,
            {},
            ctx.now,
            ctx.channel,
        )
        return [
            Reply(
                "Đã bật lại nhắc hạn: trợ lý nhắc đồng chí trước mỗi hạn và vào ngày hạn chót "
                "khi đơn vị còn thiếu việc."
            )
        ]
    return [
        Reply(
            f"Chưa hiểu “{args}”. Gõ /nhacnho tat để tạm dừng nhắc trước hạn, /nhacnho bat "
            "để bật lại, hoặc /nhacnho để xem đang bật hay tắt."
        )
    ]


# --- /hanchot ------------------------------------------------------------------------------

ADMINS_ONLY = (
    "Lệnh /hanchot dành cho cán bộ quản trị (đổi ngày các hạn của năm). Gõ /lich để xem các hạn."
)


async def _is_admin(ctx: Ctx) -> bool:
    return any(role == Role.ADMIN.value for _, role in await own_units(ctx))


async def _deadlines(ctx: Ctx, year: int) -> list[Deadline]:
    campaign = await repo.ensure_campaign(ctx.session, year, ctx.now)
    return sorted(campaign.deadlines, key=lambda d: (d.due_on, d.id))


async def _deadline(ctx: Ctx, data: Data) -> Deadline:
    for d in await _deadlines(ctx, data["year"]):
        if d.kind == data["kind"]:
            return d
    raise InputError("Không còn hạn này.")


async def deadline_choices(ctx: Ctx, data: Data) -> list[Choice]:
    return [
        Choice(
            f"{d.title} — {fmt_date(d.due_on)}", d.kind, (d.kind, *obligations.KIND_ALIASES[d.kind])
        )
        if d.kind in obligations.KIND_ALIASES
        else Choice(f"{d.title} — {fmt_date(d.due_on)}", d.kind, (d.kind,))
        for d in await _deadlines(ctx, data["year"])
    ]


async def kind_prompt(_ctx: Ctx, data: Data) -> str:
    return f"Các hạn năm {data['year']}. Đồng chí muốn đổi hạn nào?"


async def due_prompt(ctx: Ctx, data: Data) -> str:
    deadline = await _deadline(ctx, data)
    example = fmt_date(max(deadline.due_on, ctx.local_now.date()))
    return (
        f"Ngày hạn mới cho “{deadline.title}” (hiện tại {fmt_date(deadline.due_on)})? "
        f"Gõ ngày/tháng/năm, ví dụ {example}."
    )


async def parse_due(ctx: Ctx, text: str, data: Data) -> str:
    year = data["year"]
    match = DATE.match(text.strip())
    if match is None:
        raise InputError(
            f"Ngày “{text}” chưa đúng dạng. Vui lòng gõ ngày/tháng/năm, ví dụ 30/11/{year}."
        )
    day, month, full_year = (int(g) for g in match.groups())
    try:
        due = date(full_year, month, day)
    except ValueError:
        raise InputError(
            f"Ngày “{text}” không có trên lịch. Vui lòng kiểm tra lại ngày và tháng."
        ) from None
    if due.year not in (year, year + 1):
        raise InputError(
            f"Hạn của năm {year} phải là một ngày trong năm {year} (hoặc đầu năm {year + 1})."
        )
    today = ctx.local_now.date()
    if due < today:
        raise InputError(f"Ngày hạn mới không thể ở trước hôm nay ({fmt_date(today)}).")
    if due == (await _deadline(ctx, data)).due_on:
        raise InputError(f"Hạn này đã là {fmt_date(due)} rồi. Vui lòng gõ ngày khác.")
    return due.isoformat()


def _show_due(value: object, _data: Data) -> str:
    return fmt_date(date.fromisoformat(str(value)))


def _show_kind(value: object, data: Data) -> str:
    return str(data.get("_title", value))


async def after_kind(ctx: Ctx, data: Data) -> None:
    deadline = await _deadline(ctx, data)
    data["_title"] = deadline.title
    data.pop("due_on", None)


async def finish_deadline(ctx: Ctx, data: Data) -> Outcome:
    if not await _is_admin(ctx):
        raise InputError(ADMINS_ONLY)
    assert ctx.person is not None
    before = await _deadline(ctx, data)
    old = before.due_on
    new = date.fromisoformat(data["due_on"])
    deadline = await repo.set_deadline(ctx.session, data["year"], data["kind"], new, ctx.now)
    await repo.audit(
        ctx.session,
        ctx.person.id,
        "set_deadline",
        "deadline",
        deadline.id,
        {
            "year": data["year"],
            "kind": deadline.kind,
            "from": old.isoformat(),
            "to": new.isoformat(),
        },
        ctx.now,
        ctx.channel,
    )
    ctx.session.info[DEADLINES_CHANGED] = True
    return Outcome(
        [
            Reply(
                f"Đã đổi hạn “{deadline.title}” năm {data['year']}: {fmt_date(old)} → "
                f"{fmt_date(new)}. Lịch nhắc hạn được tính lại theo ngày mới. Xem: /lich"
            )
        ]
    )


DEADLINE = Flow(
    name="deadline",
    title="Đổi hạn",
    confirm=True,
    steps=(
        Step(
            key="kind",
            label="Hạn",
            prompt=kind_prompt,
            choices=deadline_choices,
            show=_show_kind,
            after=after_kind,
        ),
        Step(
            key="due_on",
            label="Ngày mới",
            prompt=due_prompt,
            parse=parse_due,
            show=_show_due,
        ),
    ),
    finish=finish_deadline,
)


async def start_deadline(ctx: Ctx, args: str = "") -> Data | Reply:
    try:
        year = _year_arg(ctx, args)
    except InputError as err:
        return Reply(err.message)
    await repo.ensure_campaign(ctx.session, year, ctx.now)
    return {"year": year}


FLOWS = (DEADLINE,)
COMMANDS = (
    Command(
        "lich",
        "Xem các hạn trong năm và việc đơn vị còn thiếu",
        order=100,
        run=lich,
        during_flow=True,
        phrases=("xem lich", "cac han", "lich nam", "cac moc thoi gian"),
    ),
    Command(
        "nhacnho",
        "Tạm dừng hoặc bật lại nhắc hạn",
        order=120,
        run=nhacnho,
        during_flow=True,
        phrases=(
            "nhacnho",
            "nhac nho",
            "tat nhac",
            "bat nhac",
            "nhac han",
            "tat nhac nho",
            "bat nhac nho",
        ),
    ),
    Command(
        "hanchot",
        "Quản trị: đổi ngày các hạn",
        order=130,
        audience=Audience.ADMINS,
        flow="deadline",
        start=start_deadline,
        refusal=ADMINS_ONLY,
        phrases=("hanchot", "doi han", "doi han chot", "sua han", "dat han"),
    ),
)
