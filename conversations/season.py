"""What a person may usefully do now: computed from their role, the deadlines that apply to
their units (passed or not, reopened or not) and what their units still owe. Greetings, help,
the "not understood" answer and /lich point only to commands that will not refuse them."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.context import Ctx
from conversations.texts import season as T
from domain.calendar import EVALUATION, REGISTRATION, UNIT_REPORT
from scheduler import obligations
from storage import deadlines, people
from storage.models import Unit


@dataclass(frozen=True)
class Standing:
    """A person's situation today."""

    year: int
    leads: bool  # leads a unit (leader or admin)
    admin: bool
    units: tuple[Unit, ...]  # the units they belong to directly
    owes: frozenset[str]  # what those units still owe: models, results, scores, report …
    registration_open: bool  # for at least one of their units
    evaluation_open: bool


async def standing(ctx: Ctx) -> Standing:
    year = ctx.local_now.year
    today = ctx.local_now.date()
    access = await people.access_of(ctx.session, ctx.person)
    pairs = await people.memberships(ctx.session, ctx.person) if ctx.person else []
    units = tuple(u for _m, u in pairs)
    owes: set[str] = set()
    reg_open = eval_open = False
    plan = await deadlines.year_plan(ctx.session, year)
    for unit in units:
        for lag in await obligations.owed_by_unit(ctx.session, unit, year, ctx.quotas):
            owes.update(o.what for o in lag.owed)
        reg_open = reg_open or today <= plan.due(unit, REGISTRATION).closes_on
        eval_open = eval_open or today <= plan.due(unit, EVALUATION).closes_on
    return Standing(
        year=year,
        leads=bool(access.led_paths),
        admin="admin" in access.direct.values(),
        units=units,
        owes=frozenset(owes),
        registration_open=reg_open,
        evaluation_open=eval_open,
    )


async def registration_years(ctx: Ctx) -> list[int]:
    """The years /dangky registers for, the default first. Before the evaluation deadline
    of the person's units, the current year. From that day on (for all of them) the next
    year, and the current year after it for a person who leads one of those units
    (leaders may still add a model to the closing year; officers no longer may)."""
    year = ctx.local_now.year
    today = ctx.local_now.date()
    access = await people.access_of(ctx.session, ctx.person)
    units = await people.usable_units(ctx.session, access)
    plan = await deadlines.year_plan(ctx.session, year)
    if not units or not all(deadlines.registers_next_year(plan, u, today) for u in units):
        return [year]
    if any(access.can_manage(u) for u in units):
        return [year + 1, year]
    return [year + 1]


def useful(s: Standing, limit: int = 3) -> list[str]:
    """The commands most useful now, most useful first, at most ``limit``: only commands
    this person may use and that will not refuse them."""
    found: list[str] = []
    if s.leads:
        # A leader's first questions: how the units stand, and what awaits their decision.
        found += ["tonghop", "duyet"]
    may_evaluate = s.evaluation_open or s.leads
    if "models" in s.owes and (s.registration_open or s.leads):
        found.append("dangky")
    if may_evaluate and "results" in s.owes:
        found.append("ketqua")
    if may_evaluate and "scores" in s.owes:
        found.append("chamdiem")
    if {"report", "consolidated"} & s.owes and not s.evaluation_open:
        found.append("baocao")
    found += ["xuat"] if s.leads else ["mohinh", "dangky", "lich"]
    unique = list(dict.fromkeys(found))
    return unique[:limit]


def closed_now(s: Standing) -> frozenset[str]:
    """Commands that would refuse this person now because of a deadline."""
    if s.leads or s.evaluation_open:
        return frozenset()
    return frozenset({"ketqua", "chamdiem", "dexuat"})


# The short line naming ``commands`` and what each is for (also said with no person known).
hint = T.hint


async def pointers(ctx: Ctx) -> str:
    """The short help a reply ends with, for this person now."""
    if ctx.person is None:
        return hint([])
    return hint(useful(await standing(ctx)))


__all__ = [
    "UNIT_REPORT",
    "Standing",
    "closed_now",
    "hint",
    "pointers",
    "registration_years",
    "standing",
    "useful",
]
