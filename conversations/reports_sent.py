"""/baocao: first “Soạn dự thảo báo cáo” (the draft in Word, conversations/report_drafts.py) or
“Đánh dấu đã gửi”: a unit marks its yearly report (25/11) as sent, and a unit with lower units
its consolidated report (5/12); marking the consolidated report while lower units have not
sent theirs asks first, naming them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from conversations.answers import Choice, InputError
from conversations.commands import Command
from conversations.context import Ctx, Data
from conversations.deadlines import own_units
from conversations.engine import Flow, Outcome, Step
from conversations.records import fmt_date
from conversations.report_drafts import DRAFT_FLOW
from conversations.texts import common as C
from conversations.texts import reports as T
from conversations.widgets import Picked, pick_once, unit_picker
from domain.calendar import KIND_ALIASES
from domain.messages import Reply
from scheduler import obligations
from storage import deadlines
from storage.models import Unit, UnitReport


class ReportState(Picked, total=False):
    kinds: list[str]  # reports of the unit not yet marked
    report: str
    missing: str  # consolidated: the lower units that have not sent their yearly report
    despite: bool  # marked sent all the same


async def _marked(ctx: Ctx, unit_id: int, year: int) -> dict[str, UnitReport]:
    rows = await ctx.session.scalars(
        select(UnitReport).where(UnitReport.unit_id == unit_id, UnitReport.year == year)
    )
    return {r.kind: r for r in rows.all()}


async def member_units(ctx: Ctx, _data: object) -> list[Unit]:
    """A report is marked for a unit one belongs to, not for one below it."""
    return [u for u, _role in await own_units(ctx)]


async def after_report_unit(ctx: Ctx, data: ReportState) -> None:
    unit = await ctx.session.get(Unit, data["unit"])
    assert unit is not None
    year = data["year"]
    kinds = [obligations.UNIT_REPORT]
    if await obligations.has_lower_units(ctx.session, unit.id):
        kinds.append(obligations.CONSOLIDATED)
    marked = await _marked(ctx, unit.id, year)
    left = [k for k in kinds if k not in marked]
    if not left:
        sent_on = {k: fmt_date(marked[k].sent_at.astimezone(ctx.tz).date()) for k in kinds}
        raise InputError(T.all_marked(unit.name, year, sent_on))
    data["kinds"] = left
    data.pop("report", None)


async def report_choices(ctx: Ctx, data: ReportState) -> list[Choice]:
    unit = await ctx.session.get(Unit, data["unit"])
    assert unit is not None
    plan = await deadlines.year_plan(ctx.session, data["year"])
    return [
        Choice(
            T.draft_choice(
                label=T.REPORT_LABELS[k].capitalize(),
                year=data["year"],
                due=fmt_date(plan.due(unit, k).due_on),
            ),
            k,
            KIND_ALIASES.get(k, ()),
        )
        for k in data.get("kinds", [])
    ]


async def _lower_missing(ctx: Ctx, unit: Unit, year: int) -> str:
    """“N đơn vị trực thuộc chưa gửi báo cáo năm: A, B…”, or empty when all have."""
    lags = await obligations.consolidated_lags(ctx.session, year, only=unit)
    lower = [o.text for lag in lags for o in lag.owed if o.what == "lower_reports"]
    return lower[0] if lower else ""


async def after_report(ctx: Ctx, data: ReportState) -> None:
    """Choosing the consolidated report looks up the lower units still missing."""
    data.pop("despite", None)
    data.pop("missing", None)
    if data.get("report") == obligations.CONSOLIDATED:
        unit = await ctx.session.get(Unit, data["unit"])
        assert unit is not None
        missing = await _lower_missing(ctx, unit, data["year"])
        if missing:
            data["missing"] = missing


async def despite_prompt(ctx: Ctx, data: ReportState) -> str:
    return T.despite_prompt(
        missing=data["missing"], unit=data.get("unit_name", ""), year=data["year"]
    )


def _show_report(value: object, _data: Data) -> str:
    return T.REPORT_LABELS.get(str(value), str(value)).capitalize()


def report_title(data: ReportState) -> str:
    return T.mark_title(data.get("report"), data["year"], data.get("unit_name"))


async def finish_report(ctx: Ctx, data: ReportState) -> Outcome:
    assert ctx.person is not None
    unit = await ctx.session.get(Unit, data["unit"])
    if unit is None or unit.id not in {u.id for u in await member_units(ctx, data)}:
        raise InputError(T.NOT_OWN)
    year, kind = data["year"], data["report"]
    if kind == obligations.CONSOLIDATED and not data.get("despite"):
        missing = await _lower_missing(ctx, unit, year)
        if missing:  # lower units missing since the question was asked: ask it now
            data["missing"] = missing
            raise InputError(T.despite_needed(missing=missing))
    deadline = await deadlines.due_for(ctx.session, unit, year, kind)
    insert = sqlite_insert if ctx.session.get_bind().dialect.name == "sqlite" else pg_insert
    result = await ctx.session.execute(
        insert(UnitReport)
        .values(unit_id=unit.id, year=year, kind=kind, sent_at=ctx.now, sent_by=ctx.person.id)
        .on_conflict_do_nothing(index_elements=["unit_id", "year", "kind"])
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return Outcome([Reply(T.already_marked(unit.name, kind, year))])
    report_id = await ctx.session.scalar(
        select(UnitReport.id).where(
            UnitReport.unit_id == unit.id, UnitReport.year == year, UnitReport.kind == kind
        )
    )
    await ctx.audit(
        "mark_report", "unit_report", report_id, {"unit": unit.id, "year": year, "kind": kind}
    )
    lines = [T.marked(unit.name, kind, year, fmt_date(deadline.due_on))]
    if kind == obligations.CONSOLIDATED:
        missing = await _lower_missing(ctx, unit, year)
        if missing:
            lines.append(T.still_missing(missing=missing))
    return Outcome([Reply("\n".join(lines))])


REPORT = Flow(
    name="report",
    title="Báo cáo",
    confirm=True,
    confirm_label=T.MARK_CONFIRM,
    summary_title=T.MARK_SUMMARY,
    title_for=report_title,
    steps=(
        unit_picker(T.MARK_UNIT, units=member_units, after=after_report_unit),
        pick_once(
            "report",
            "Báo cáo",
            T.MARK_KIND,
            report_choices,
            show=_show_report,
            note=lambda c, _d: T.report_picked(label=c.label),
            after=after_report,
            keep_hidden=True,
        ),
        Step(
            key="despite",
            label=T.DESPITE_LABEL,
            prompt=despite_prompt,
            choices=(Choice(T.DESPITE_CHOICE, True, ("van danh dau", "van gui", "co")),),
            when=lambda d: bool(d.get("missing")),
            show=lambda _v, d: str(d.get("missing", "")),
            editable=False,
            follow_up=True,
        ),
    ),
    finish=finish_report,
)


async def start_report(ctx: Ctx, _args: str = "") -> ReportState | Reply:
    if not await own_units(ctx):
        return Reply(C.NOT_A_MEMBER)
    return {"year": ctx.local_now.year}


ACTIONS = (
    Choice(T.ACTION_DRAFT, DRAFT_FLOW, ("soan", "du thao", "soan du thao", "soan bao cao")),
    Choice(T.ACTION_MARK, "report", ("danh dau", "da gui", "gui", "danh dau da gui")),
)


async def finish_menu(_ctx: Ctx, data: Data) -> Outcome:
    """Open the flow chosen, for the same year."""
    return Outcome([], then=(data["action"], {"year": data["year"]}, False))


MENU = Flow(
    name="report_menu",
    title=T.MENU_TITLE,
    confirm=False,
    numbered=False,
    steps=(Step(key="action", label=T.MENU_TITLE, prompt=T.MENU_PROMPT, choices=ACTIONS),),
    finish=finish_menu,
)

FLOWS = (MENU, REPORT)
COMMANDS = (
    Command(
        "baocao",
        "Soạn dự thảo báo cáo (Word), đánh dấu đã gửi báo cáo năm",
        order=110,
        flow="report_menu",
        start=start_report,
        phrases=(
            "baocao",
            "bao cao",
            "da gui bao cao",
            "danh dau bao cao",
            "gui bao cao",
            "nop bao cao",
            "du thao bao cao",
            "soan bao cao",
        ),
    ),
)
