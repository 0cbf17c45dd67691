"""Deadlines in chat: /lich (the deadlines that apply to one's units and what they still owe,
with what the person may still do), /nhacnho (pause or resume early reminders), /hanchot (an
admin sets the dates of their own level: their unit and every unit below that has not set its
own) and /giahan (a leader reopens a passed deadline for one unit below them)."""

from __future__ import annotations

from datetime import date
from typing import Any

from conversations.answers import DATE, Choice, InputError, parse_year
from conversations.commands import Audience, Command
from conversations.context import Ctx
from conversations.engine import Flow, Outcome, Step
from conversations.notices import notify_officers
from conversations.records import usable_units
from conversations.texts import common as C
from conversations.texts import deadlines as T
from conversations.widgets import Picked, unit_picker
from domain.calendar import DEADLINE_KINDS, EVALUATION, KIND_ALIASES, TITLES
from domain.catalog import Role
from domain.messages import Reply
from domain.template import Template
from domain.text import fold
from scheduler import obligations
from storage import deadlines, people, unit_tree
from storage.deadlines import Due, YearPlan
from storage.models import Unit

# Set in the message's session when a deadline changed; Core calls its reschedule hook
# once the transaction has committed (a planner reading before the commit sees the old date).
DEADLINES_CHANGED = "deadlines_changed"

PAUSE_WORDS = {"tat", "off", "dung", "tam dung", "ngung", "tat nhac"}
RESUME_WORDS = {"bat", "on", "mo", "tiep tuc", "bat nhac", "bat lai"}
# What a unit owes that only the evaluation deadline closes for its officers.
CLOSED_BY_EVALUATION = {"models", "results", "scores"}


async def own_units(ctx: Ctx) -> list[tuple[Unit, str]]:
    """The units the person belongs to directly, with the role held, in tree order."""
    if ctx.person is None:
        return []
    pairs = await people.memberships(ctx.session, ctx.person)
    roles = {u.id: m.role for m, u in pairs}
    return [(u, roles[u.id]) for u in unit_tree.sort_tree([u for _, u in pairs])]


def _year_arg(ctx: Ctx, args: str) -> int:
    return parse_year(args.strip(), ctx.local_now.year) if args.strip() else ctx.local_now.year


async def level_names(ctx: Ctx, dues: list[Due]) -> dict[int, str]:
    ids = {d.set_by for d in dues if d.set_by is not None}
    names = {}
    for uid in ids:
        unit = await ctx.session.get(Unit, uid)
        if unit is not None:
            names[uid] = unit.name
    return names


async def who_reopens(ctx: Ctx, unit: Unit) -> str:
    return T.who_reopens(await people.leaders_over(ctx.session, unit))


async def closed_for_officer(ctx: Ctx, unit: Unit, plan: YearPlan, what: str) -> Due | None:
    """The deadline that stops this person from doing ``what`` for ``unit`` now, or None."""
    if what not in CLOSED_BY_EVALUATION:
        return None
    access = await people.access_of(ctx.session, ctx.person)
    if access.can_manage(unit):
        return None
    due = plan.due(unit, EVALUATION)
    return due if ctx.local_now.date() > due.closes_on else None


# --- /lich -------------------------------------------------------------------------------


async def date_lines(ctx: Ctx, plan: YearPlan, units: list[Unit]) -> list[str]:
    """The dates of ``plan`` that apply to ``units``, a block per distinct plan, each with
    the level whose plan set them; an empty line after each block."""
    today = ctx.local_now.date()
    # Units under the same plan share one list of dates.
    groups: dict[tuple[tuple[date, date], ...], list[Unit]] = {}
    for unit in units:
        key = tuple((d.due_on, d.closes_on) for d in plan.dues(unit))
        groups.setdefault(key, []).append(unit)
    lines: list[str] = []
    for group in groups.values():
        dues = plan.dues(group[0])
        lines.append(T.dates_of(year=plan.year, names=", ".join(u.name for u in group)))
        lines += [T.due_line(d.title, d.due_on, today, d.extended_to) for d in dues]
        names = await level_names(ctx, dues)
        levels = [names[d.set_by] for d in dues if d.set_by in names]
        lines.append(T.set_by(list(dict.fromkeys(levels))) if levels else T.DEFAULTS)
        lines.append("")
    return lines


async def lich(ctx: Ctx, args: str) -> list[Reply]:
    try:
        year = _year_arg(ctx, args)
    except InputError as err:
        return [Reply(err.message)]
    units = await own_units(ctx)
    if not units:
        return [Reply(C.NOT_A_MEMBER)]
    plan = await deadlines.year_plan(ctx.session, year)
    today = ctx.local_now.date()
    lines = await date_lines(ctx, plan, [u for u, _role in units])
    for unit, _role in units:
        owed = await obligations.owed_by_unit(ctx.session, unit, year, ctx.quotas)
        if not owed:
            lines.append(T.nothing_owed(unit=unit.name))
            continue
        lines.append(T.owes(unit=unit.name))
        for lag in owed:
            due = plan.due(unit, lag.kind)
            lines.append(T.owed_heading(due.title, due.due_on, due.closes_on < today))
            for o in lag.owed:
                stop = await closed_for_officer(ctx, unit, plan, o.what)
                if stop is None:
                    lines.append(T.owed_item(text=o.line()))
                else:
                    who = await who_reopens(ctx, unit)
                    lines.append(T.owed_closed(o.text, stop.closes_on, who))
    lines += ["", pause_state(ctx)]
    return [Reply("\n".join(lines))]


def pause_state(ctx: Ctx) -> str:
    assert ctx.person is not None
    paused = ctx.person.reminders_paused_at
    if paused is None:
        return T.PAUSE_ON
    return T.pause_off(paused.astimezone(ctx.tz).date())


# --- /nhacnho ------------------------------------------------------------------------------


async def nhacnho(ctx: Ctx, args: str) -> list[Reply]:
    person = ctx.person
    assert person is not None
    word = fold(args)
    if not word:
        return [Reply(pause_state(ctx))]
    if word in PAUSE_WORDS:
        if person.reminders_paused_at is not None:
            return [Reply(pause_state(ctx))]
        person.reminders_paused_at = ctx.now
        action = "pause_reminders"
        text = T.PAUSED
    elif word in RESUME_WORDS:
        if person.reminders_paused_at is None:
            return [Reply(pause_state(ctx))]
        person.reminders_paused_at = None
        action = "resume_reminders"
        text = T.RESUMED
    else:
        return [Reply(T.unknown_pause_word(args=args))]
    await ctx.audit(action, "person", person.id, {})
    return [Reply(text)]


# --- choosing a date -------------------------------------------------------------------------


class DeadlineState(Picked, total=False):
    kind: str
    title: str
    due_on: str  # ISO date (/hanchot)
    until: str  # ISO date (/giahan)


def parse_day(text: str, year: int) -> date:
    match = DATE.match(text.strip())
    if match is None:
        raise InputError(T.bad_date(text=text, year=year))
    day, month, full_year = (int(g) for g in match.groups())
    try:
        return date(full_year, month, day)
    except ValueError:
        raise InputError(T.no_such_day(text=text)) from None


async def _unit(ctx: Ctx, data: DeadlineState) -> Unit:
    unit = await ctx.session.get(Unit, data["unit"])
    if unit is None:
        raise InputError(C.NO_RIGHT_UNIT)
    return unit


async def _due(ctx: Ctx, data: DeadlineState) -> Due:
    if data.get("kind") not in DEADLINE_KINDS:
        raise InputError(T.NO_SUCH)
    return await deadlines.due_for(ctx.session, await _unit(ctx, data), data["year"], data["kind"])


async def kind_choices(ctx: Ctx, data: DeadlineState) -> list[Choice]:
    unit = await _unit(ctx, data)
    dues = await deadlines.dues_for(ctx.session, unit, data["year"])
    names = await level_names(ctx, dues)
    return [
        Choice(
            T.kind_label(d.title, d.closes_on, names.get(d.set_by) if d.set_by else None),
            d.kind,
            (d.kind, *KIND_ALIASES.get(d.kind, ())),
        )
        for d in dues
    ]


async def after_kind(ctx: Ctx, data: DeadlineState) -> None:
    data["title"] = (await _due(ctx, data)).title
    data.pop("due_on", None)
    data.pop("until", None)


def kind_step(prompt: Template) -> Step:
    """Which of the unit's deadlines of the year; ``prompt`` is given the year and the unit's
    name."""

    async def ask(_ctx: Ctx, data: DeadlineState) -> str:
        return prompt(year=data["year"], unit=data.get("unit_name", ""))

    return Step(
        key="kind", label="Hạn", prompt=ask, choices=kind_choices, show=_show_kind, after=after_kind
    )


def new_day(ctx: Ctx, text: str, year: int) -> date:
    """A day typed for a deadline of ``year``: in that year (or early the next), not past."""
    day = parse_day(text, year)
    if day.year not in (year, year + 1):
        raise InputError(T.outside_year(year))
    today = ctx.local_now.date()
    if day < today:
        raise InputError(T.before_today(today))
    return day


def _show_day(value: object, _data: Any) -> str:
    return T.fmt(date.fromisoformat(str(value)))


def _show_kind(value: object, data: Any) -> str:
    return str(data.get("title", TITLES.get(str(value), value)))


# --- /hanchot ------------------------------------------------------------------------------


async def admin_units(ctx: Ctx, _data: object) -> list[Unit]:
    return [u for u, role in await own_units(ctx) if role == Role.ADMIN.value]


async def due_prompt(ctx: Ctx, data: DeadlineState) -> str:
    due = await _due(ctx, data)
    return T.due_prompt(due.title, due.due_on, max(due.due_on, ctx.local_now.date()))


async def parse_due(ctx: Ctx, text: str, data: DeadlineState) -> str:
    due = new_day(ctx, text, data["year"])
    if due == (await _due(ctx, data)).due_on:
        raise InputError(T.same_day(due))
    return due.isoformat()


async def _lower_levels(ctx: Ctx, unit: Unit, year: int, kind: str) -> list[str]:
    """The units below ``unit`` whose own plan sets ``kind``: they keep their date."""
    plan = await deadlines.year_plan(ctx.session, year)
    ids = [uid for uid, k in plan.set_dates if k == kind and uid != unit.id]
    names = []
    for uid in ids:
        lower = await ctx.session.get(Unit, uid)
        if lower is not None and lower.path.startswith(unit.path):
            names.append(lower.name)
    return sorted(names)


async def finish_deadline(ctx: Ctx, data: DeadlineState) -> Outcome:
    if data["unit"] not in {u.id for u in await admin_units(ctx, data)}:
        raise InputError(T.ADMINS_ONLY)
    assert ctx.person is not None
    unit = await _unit(ctx, data)
    old = (await _due(ctx, data)).due_on
    new = date.fromisoformat(data["due_on"])
    due = await deadlines.set_deadline(ctx.session, unit, data["year"], data["kind"], new, ctx.now)
    await ctx.audit(
        "set_deadline",
        "unit",
        unit.id,
        {"year": data["year"], "kind": due.kind, "from": old.isoformat(), "to": new.isoformat()},
    )
    ctx.session.info[DEADLINES_CHANGED] = True
    keeping = await _lower_levels(ctx, unit, data["year"], data["kind"])
    return Outcome([Reply(T.changed(due.title, data["year"], unit.name, old, new, keeping))])


DEADLINE = Flow(
    name="deadline",
    title="Đổi hạn",
    steps=(
        unit_picker(T.SET_UNIT, units=admin_units),
        kind_step(T.kind_prompt),
        Step(key="due_on", label="Ngày mới", prompt=due_prompt, parse=parse_due, show=_show_day),
    ),
    finish=finish_deadline,
)


async def start_deadline(ctx: Ctx, args: str = "") -> DeadlineState | Reply:
    try:
        return {"year": _year_arg(ctx, args)}
    except InputError as err:
        return Reply(err.message)


# --- /giahan ---------------------------------------------------------------------------------


async def managed_units(ctx: Ctx, _data: object) -> list[Unit]:
    """The units a leader may reopen a deadline for: those they lead and every unit below."""
    access = await people.access_of(ctx.session, ctx.person)
    return [u for u in await usable_units(ctx) if access.can_manage(u)]


async def until_prompt(ctx: Ctx, data: DeadlineState) -> str:
    due = await _due(ctx, data)
    today = ctx.local_now.date()
    example = max(due.closes_on, today)
    return T.until_prompt(due.title, due.due_on, example.replace(day=min(example.day + 7, 28)))


async def parse_until(ctx: Ctx, text: str, data: DeadlineState) -> str:
    until = new_day(ctx, text, data["year"])
    due = await _due(ctx, data)
    if until <= due.due_on:
        raise InputError(T.not_after_due(due.due_on))
    return until.isoformat()


async def finish_extend(ctx: Ctx, data: DeadlineState) -> Outcome:
    assert ctx.person is not None
    if data["unit"] not in {u.id for u in await managed_units(ctx, data)}:
        raise InputError(T.LEADERS_ONLY)
    unit = await _unit(ctx, data)
    due = await _due(ctx, data)
    until = date.fromisoformat(data["until"])
    row = await deadlines.extend(
        ctx.session, unit, data["year"], data["kind"], until, ctx.person.id, ctx.now
    )
    await ctx.audit(
        "extend_deadline",
        "deadline_extension",
        row.id,
        {"unit": unit.id, "year": data["year"], "kind": due.kind, "until": until.isoformat()},
    )
    ctx.session.info[DEADLINES_CHANGED] = True
    notice = T.extension_notice(ctx.person.full_name, due.title, data["year"], unit.name, until)
    told = await notify_officers(ctx, unit, notice, f"extend:{unit.id}:{data['year']}:{due.kind}")
    return Outcome([Reply(T.extended(due.title, data["year"], unit.name, until, told))])


EXTEND = Flow(
    name="extend",
    title="Mở lại hạn cho một đơn vị",
    steps=(
        unit_picker(T.EXTEND_UNIT, units=managed_units),
        kind_step(T.extend_kind_prompt),
        Step(
            key="until", label="Mở lại đến", prompt=until_prompt, parse=parse_until, show=_show_day
        ),
    ),
    finish=finish_extend,
)


FLOWS = (DEADLINE, EXTEND)
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
        phrases=("nhac nho", "tat nhac", "bat nhac", "nhac han", "tat nhac nho", "bat nhac nho"),
    ),
    Command(
        "hanchot",
        "Quản trị: đổi ngày các hạn của đơn vị mình và cấp dưới",
        order=130,
        audience=Audience.ADMINS,
        flow="deadline",
        start=start_deadline,
        refusal=T.ADMINS_ONLY,
        phrases=("doi han", "doi han chot", "sua han", "dat han"),
    ),
    Command(
        "giahan",
        "Lãnh đạo: mở lại một hạn đã qua cho một đơn vị",
        order=135,
        audience=Audience.LEADERS,
        flow="extend",
        start=start_deadline,
        refusal=T.LEADERS_ONLY,
        phrases=("gia han", "mo lai han", "gia han cho don vi", "mo lai"),
    ),
)
