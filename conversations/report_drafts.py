"""/baocao → “Soạn dự thảo báo cáo”: the report draft in Word (reports/draft_files.py), sent as
a document the way /xuat sends workbooks. A person drafts for a unit they belong to: an officer
the yearly report of that unit alone; a leader or admin the yearly report of the unit and every
unit below it, and, for a unit with lower units, the consolidated report."""

from __future__ import annotations

from conversations.answers import Choice, InputError
from conversations.context import Ctx, Data
from conversations.deadlines import own_units
from conversations.engine import Flow, Outcome, Step
from conversations.records import fmt_date
from conversations.texts import reports as T
from conversations.widgets import unit_picker
from domain.calendar import CONSOLIDATED as CONSOLIDATED_DUE
from domain.calendar import UNIT_REPORT
from domain.catalog import Role
from domain.messages import Reply
from reports.draft_files import CONSOLIDATED, DRAFT_LABELS, YEARLY, make_draft
from scheduler import obligations
from storage import deadlines
from storage.models import Unit

DRAFT_FLOW = "report_draft"
_DUE = {YEARLY: UNIT_REPORT, CONSOLIDATED: CONSOLIDATED_DUE}
_ALIASES = {
    YEARLY: ("ket qua", "bao cao ket qua", "bao cao nam", "nam"),
    CONSOLIDATED: ("tong hop", "bao cao tong hop"),
}


async def _roles(ctx: Ctx) -> dict[int, tuple[Unit, str]]:
    return {u.id: (u, role) for u, role in await own_units(ctx)}


async def draft_units(ctx: Ctx, _data: object) -> list[Unit]:
    return [u for u, _role in (await _roles(ctx)).values()]


def _leads(role: str) -> bool:
    return role in (Role.LEADER.value, Role.ADMIN.value)


async def _kinds(ctx: Ctx, unit_id: int) -> tuple[Unit, bool, list[str]]:
    """The unit, whether the person leads it, and the drafts they may have of it."""
    found = (await _roles(ctx)).get(unit_id)
    if found is None:
        raise InputError(T.NO_RIGHT_DRAFT)
    unit, role = found
    kinds = [YEARLY]
    if _leads(role) and await obligations.has_lower_units(ctx.session, unit.id):
        kinds.append(CONSOLIDATED)
    return unit, _leads(role), kinds


async def kind_choices(ctx: Ctx, data: Data) -> list[Choice]:
    unit, _leads_it, kinds = await _kinds(ctx, data["unit"])
    plan = await deadlines.year_plan(ctx.session, data["year"])
    return [
        Choice(
            T.draft_choice(
                label=DRAFT_LABELS[k],
                year=data["year"],
                due=fmt_date(plan.due(unit, _DUE[k]).due_on),
            ),
            k,
            _ALIASES[k],
        )
        for k in kinds
    ]


async def finish_draft(ctx: Ctx, data: Data) -> Outcome:
    unit, leads_it, kinds = await _kinds(ctx, data["unit"])
    kind = data["kind"]
    if kind not in kinds:
        raise InputError(T.NO_RIGHT_DRAFT)
    year = data["year"]
    subtree = leads_it or kind == CONSOLIDATED
    today = ctx.local_now.date()
    document = await make_draft(ctx.session, kind, unit, year, today=today, subtree=subtree)
    scope = T.WITH_LOWER if subtree and kind == YEARLY else ""
    text = T.draft_sent(DRAFT_LABELS[kind], year, unit.name, scope, fmt_date(today))
    return Outcome([Reply(text, document=document)])


DRAFT = Flow(
    name=DRAFT_FLOW,
    title=T.DRAFT_TITLE,
    confirm=False,
    steps=(
        unit_picker(T.DRAFT_UNIT, units=draft_units),
        Step(
            key="kind",
            label=T.DRAFT_KIND_LABEL,
            prompt=T.DRAFT_KIND,
            choices=kind_choices,
            auto_single=True,
            auto_note=lambda c, _d: f"{T.DRAFT_KIND_LABEL}: {c.label}.",
        ),
    ),
    finish=finish_draft,
)

FLOWS = (DRAFT,)
COMMANDS = ()
