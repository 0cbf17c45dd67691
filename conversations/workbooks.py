"""/xuat (the official workbooks) and /tonghop (a leader's status summary)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.answers import YEAR, Choice, InputError, parse_year
from conversations.commands import Audience, Command
from conversations.context import Ctx, Data
from conversations.engine import Flow, Outcome, Step
from conversations.texts import reports as T
from conversations.widgets import unit_picker
from domain.catalog import Role
from domain.messages import Reply
from domain.text import fold
from reports.chart import Progress, chart_document, progress_of, render_png, title_of
from reports.exports import EXPORTS, Scope, make_export, registration_deadline, summary_export
from reports.summary import Summary, in_season, summary_of
from reports.summary_text import summary_text
from storage import people
from storage.models import Unit


@dataclass(frozen=True)
class Root:
    unit: Unit
    subtree: bool  # leaders and admins: their unit and every unit below it


async def roots_of(ctx: Ctx, leaders_only: bool = False) -> list[Root]:
    """The units a person's workbooks cover: an officer's own unit, a leader's subtree."""
    if ctx.person is None:
        return []
    roots = []
    for membership, unit in await people.memberships(ctx.session, ctx.person):
        leads = membership.role in (Role.LEADER.value, Role.ADMIN.value)
        if leads or not leaders_only:
            roots.append(Root(unit, leads))
    return roots


async def scope_for(ctx: Ctx, unit_id: int, year: int) -> Scope:
    """The scope of a unit the person may export, or a refusal that reveals nothing."""
    for root in await roots_of(ctx):
        if root.unit.id == unit_id:
            return Scope(root.unit, root.subtree, year, ctx.tz, ctx.now, ctx.quotas)
    raise InputError(T.NO_RIGHT_EXPORT)


# --- /xuat -----------------------------------------------------------------------

KIND_CHOICES = tuple(Choice(e.label, e.code, (e.code, *e.aliases)) for e in EXPORTS.values())


async def root_units(ctx: Ctx, _data: object) -> list[Unit]:
    return [r.unit for r in await roots_of(ctx)]


async def year_choices(ctx: Ctx, _data: Data) -> list[Choice]:
    year = ctx.local_now.year
    return [
        Choice(T.year_choice(year=year), year, (str(year),)),
        Choice(T.year_choice(year=year - 1), year - 1, (str(year - 1),)),
    ]


async def parse_year_step(ctx: Ctx, text: str, _data: Data) -> int:
    return parse_year(text, ctx.local_now.year)


async def finish_export(ctx: Ctx, data: Data) -> Outcome:
    scope = await scope_for(ctx, data["unit"], data["year"])
    export = EXPORTS[data["kind"]]
    document = await make_export(ctx.session, export.code, scope)
    text = T.export_sent(export.label, scope.year, scope.root.name, scope.subtree)
    return Outcome([Reply(text, document=document)])


EXPORT = Flow(
    name="export",
    title="Xuất biểu",
    confirm=False,
    steps=(
        Step(key="kind", label="Biểu", prompt=T.EXPORT_KIND, choices=KIND_CHOICES),
        unit_picker(T.EXPORT_UNIT, units=root_units),
        Step(
            key="year",
            label="Năm",
            prompt=T.EXPORT_YEAR,
            choices=year_choices,
            parse=parse_year_step,
            numbers_are_values=True,
        ),
    ),
    finish=finish_export,
)


def _kind_of(text: str) -> str | None:
    key = fold(text)
    if not key:
        return None
    for choice in KIND_CHOICES:
        if key in (fold(a) for a in choice.aliases):
            return str(choice.value)
    return None


async def start_export(ctx: Ctx, args: str = "") -> Data | Reply:
    """``/xuat``, or ``/xuat pl1 2026`` straight to the file."""
    roots = await roots_of(ctx)
    if not roots:
        return Reply(T.NO_UNIT_EXPORT)
    data: Data = {}
    words = []
    for word in args.split():
        if YEAR.match(word):
            try:
                data["year"] = parse_year(word, ctx.local_now.year)
            except InputError as err:
                return Reply(err.message)
            continue
        words.append(word)
    # The words name one sheet ("bieuchamdiem trong"), or each names one (the last wins).
    for part in [" ".join(words)] if _kind_of(" ".join(words)) else words:
        kind = _kind_of(part)
        if kind is None:
            return Reply(T.unknown_export(part, [e.code for e in EXPORTS.values()]))
        data["kind"] = kind
    if "kind" in data and "year" not in data:
        data["year"] = ctx.local_now.year
    return data


# --- /tonghop ----------------------------------------------------------------------


async def subtree_summary(session: AsyncSession, scope: Scope) -> Summary:
    """The figures of /tonghop for a leader's unit and every unit below it (also the web
    page's, ``bot/desk.py``)."""
    deadline = await registration_deadline(session, scope)
    return await summary_of(session, scope.root, scope.year, deadline, scope.quotas)


async def tonghop(ctx: Ctx, args: str) -> list[Reply]:
    roots = await roots_of(ctx, leaders_only=True)
    year = ctx.local_now.year
    if args.strip():
        try:
            year = parse_year(args.split()[0], ctx.local_now.year)
        except InputError as err:
            return [Reply(err.message)]
    replies = []
    for root in roots:
        scope = Scope(root.unit, True, year, ctx.tz, ctx.now, ctx.quotas)
        summary = await subtree_summary(ctx.session, scope)
        document = summary_export(scope, summary)
        # From the registration deadline on, the evaluation season's figures too.
        evaluation = in_season(summary.deadline, ctx.now)
        replies.append(Reply(summary_text(summary, evaluation=evaluation)))
        replies.append(Reply(T.summary_sheet(year=year, unit=root.unit.name), document=document))
        replies.append(await chart_reply(ctx, root.unit, year))
    return replies


async def chart_png(ctx: Ctx, unit: Unit, year: int) -> tuple[Progress, bytes]:
    """The picture of ``unit``'s subtree in ``year`` (reports/chart.py), drawn off the event
    loop."""
    progress = await progress_of(ctx.session, unit, year, ctx.local_now.date(), ctx.quotas)
    return progress, await asyncio.to_thread(render_png, progress)


async def chart_reply(ctx: Ctx, unit: Unit, year: int) -> Reply:
    progress, png = await chart_png(ctx, unit, year)
    title, _ = title_of(progress)
    return Reply(
        T.chart_caption(title=title, unit=unit.name),
        document=chart_document(progress, png),
        photo=True,
    )


FLOWS = (EXPORT,)
COMMANDS = (
    Command(
        "tonghop",
        "Lãnh đạo: tình hình các đơn vị và bảng tổng hợp",
        order=30,
        audience=Audience.LEADERS,
        run=tonghop,
        during_flow=True,
        refusal=(
            "Lệnh /tonghop dành cho lãnh đạo và quản trị. Đồng chí có thể dùng /xuat để lấy "
            "biểu của đơn vị mình."
        ),
        phrases=(
            "tonghop",
            "tong hop",
            "tinh hinh",
            "tinh hinh cac don vi",
            "bao cao tinh hinh",
            "thong ke",
            "tien do",
        ),
    ),
    Command(
        "xuat",
        "Lấy biểu: Phụ lục 1, Phụ lục 4, chấm điểm, Biểu 1, đề nghị, công nhận, tổng hợp",
        order=40,
        flow="export",
        start=start_export,
        phrases=(
            "xuat bieu",
            "lay bieu",
            "tai bieu",
            "xuat file",
            "file excel",
            "phu luc",
            "phu luc 1",
            "phu luc 4",
            "bieu cham diem",
            "bieu 1",
            "bang tong hop",
        ),
    ),
)
