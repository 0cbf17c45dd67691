"""A model's record as chat shows it, and who may act on it: shared by every flow that picks
a unit and a model (registration, the models menu, results, scoring, proposal, review,
evidence, introduction)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from conversations.answers import Choice, InputError, Refusal
from conversations.commands import Starter
from conversations.context import Ctx, Data
from conversations.texts import common as C
from conversations.texts import deadlines as T
from domain import rubric
from domain.calendar import EVALUATION, REGISTRATION
from domain.catalog import (
    DECISION_LEVEL_LABELS,
    ORIGIN_LABELS,
    SUBJECT_LABELS,
    DecisionLevel,
    Origin,
    RecordState,
    Review,
    Subject,
    field_label,
)
from domain.messages import Reply
from storage import deadlines, model_years, people
from storage.models import ModelYear, Person, Unit

# Fields of a record a person fills in, in the order of Phụ lục 1.
RECORD_FIELDS = (
    "name",
    "field",
    "field_other",
    "subject",
    "subject_name",
    "place",
    "lead_body",
    "scale",
)
ORIGIN_CHOICES = (
    Choice(ORIGIN_LABELS[Origin.NEW], Origin.NEW.value, ("moi", "xd moi")),
    Choice(ORIGIN_LABELS[Origin.KEPT], Origin.KEPT.value, ("duy tri",)),
)
# Under review or decided: the officer's figures are what the leader saw; they stay as they are.
LOCKED_FOR_OFFICERS = (Review.PROPOSED.value, Review.RECOGNISED.value, Review.REMOVED.value)
NEEDS_REASON = (Review.NOT_RECOGNISED.value, Review.REMOVED.value)


def fmt_date(d: Any) -> str:
    return d.strftime("%d/%m/%Y")


async def usable_units(ctx: Ctx) -> list[Unit]:
    """Every unit this person may act for: their own, and every unit below one they lead."""
    return await people.usable_units(ctx.session, await people.access_of(ctx.session, ctx.person))


async def units_with_models(ctx: Ctx, year: int) -> list[Unit]:
    """The units this person may act for that have active models in ``year``."""
    access = await people.access_of(ctx.session, ctx.person)
    return await people.units_with_models(ctx.session, access, year)


async def checked_unit(ctx: Ctx, unit_id: int) -> Unit:
    """The unit, if this person may act for it; otherwise a refusal that reveals nothing."""
    unit = await ctx.session.get(Unit, unit_id)
    access = await people.access_of(ctx.session, ctx.person)
    if unit is None or not access.can_use(unit):
        raise InputError(C.NO_RIGHT_UNIT)
    return unit


async def checked_record(ctx: Ctx, data: Any, key: str = "record") -> tuple[ModelYear, Unit]:
    """The chosen record and its unit, if it is still active, belongs to the chosen unit and
    the person may act for that unit; otherwise a refusal that reveals nothing."""
    record = await ctx.session.get(ModelYear, data[key])
    if record is None or record.state != RecordState.ACTIVE.value:
        raise InputError(C.GONE)
    unit = await model_years.unit_of_record(ctx.session, record)
    access = await people.access_of(ctx.session, ctx.person)
    if unit.id != data.get("unit", unit.id) or not access.can_use(unit):
        raise InputError(C.NO_RIGHT)
    return record, unit


async def may_change(ctx: Ctx, unit: Unit, year: int) -> tuple[bool, str]:
    """Officers edit or withdraw until the unit's registration deadline (or its extension);
    leaders and admins always."""
    access = await people.access_of(ctx.session, ctx.person)
    if access.can_manage(unit):
        return True, ""
    due = await deadlines.due_for(ctx.session, unit, year, REGISTRATION)
    if access.can_use(unit) and ctx.local_now.date() <= due.closes_on:
        return True, ""
    who = T.who_reopens(await people.leaders_over(ctx.session, unit))
    return False, C.registration_closed(fmt_date(due.closes_on), who)


def record_data(record: ModelYear) -> Data:
    return {k: getattr(record, k) for k in RECORD_FIELDS}


def record_lines(record: ModelYear | Data) -> list[str]:
    d = record_data(record) if isinstance(record, ModelYear) else record
    return C.record_lines(
        d["name"],
        field_label(d["field"], d.get("field_other")),
        SUBJECT_LABELS[Subject(d["subject"])],
        d["subject_name"],
        d["place"],
        d["lead_body"],
        d["scale"],
    )


def review_status(record: ModelYear) -> str:
    return C.REVIEW_STATUS.get(record.review, str(record.review))


async def evaluation_block(ctx: Ctx, unit: Unit, record: ModelYear) -> str | None:
    """Why this person may not change the record's results or scores now, or None."""
    access = await people.access_of(ctx.session, ctx.person)
    if access.can_manage(unit):
        return None
    if not access.can_use(unit):
        return C.NO_RIGHT
    if record.review in LOCKED_FOR_OFFICERS:
        return C.evaluation_locked(name=record.name, status=review_status(record))
    due = await deadlines.due_for(ctx.session, unit, record.year, EVALUATION)
    if ctx.local_now.date() > due.closes_on:
        who = T.who_reopens(await people.leaders_over(ctx.session, unit))
        return C.evaluation_closed(record.year, fmt_date(due.closes_on), who)
    return None


async def evaluation_passed_for_all(ctx: Ctx) -> tuple[str, str] | None:
    """When the year's evaluation deadline (with any extension) has passed for every unit this
    person may act for and they lead none of them — then nothing of the evaluation can be done
    anywhere — the last date and who may reopen it; None otherwise."""
    access = await people.access_of(ctx.session, ctx.person)
    units = await usable_units(ctx)
    if not units or any(access.can_manage(u) for u in units):
        return None
    plan = await deadlines.year_plan(ctx.session, ctx.local_now.year)
    today = ctx.local_now.date()
    dues = [plan.due(u, EVALUATION) for u in units]
    if any(today <= d.closes_on for d in dues):
        return None
    who = T.who_reopens(await people.leaders_over(ctx.session, units[0]))
    return fmt_date(max(d.closes_on for d in dues)), who


async def evaluation_closed_for_all(ctx: Ctx) -> str | None:
    """The refusal of /ketqua and /chamdiem when :func:`evaluation_passed_for_all`."""
    passed = await evaluation_passed_for_all(ctx)
    if passed is None:
        return None
    return C.evaluation_closed(ctx.local_now.year, *passed) + " " + C.SEE_MODELS


Refusing = Callable[[Ctx], Awaitable[str | None]]


def evaluating(what: str, closed: Refusing | None = None) -> Starter:
    """The start of a flow over one of this year's models (``what`` it does, said when the
    person's units have none), refused while ``closed`` says why."""

    async def start(ctx: Ctx, _args: str = "") -> Data | Reply:
        if closed is not None:
            refusal = await closed(ctx)
            if refusal is not None:
                return Reply(refusal)
        year = ctx.local_now.year
        if not await units_with_models(ctx, year):
            return Reply(C.no_models(year=year, what=what))
        return {"year": year}

    return start


def points_line(points: dict[int, Decimal]) -> str:
    return " · ".join(f"{n}: {rubric.format_points(p)}" for n, p in sorted(points.items()))


def _total_line(result: rubric.Verdict) -> str:
    """A total of points out of the most, then its verdict ("85/100 — …")."""
    total = rubric.format_points(result.total)
    return f"{total}/{rubric.format_points(rubric.TOTAL_MAX)} — {rubric.verdict_text(result)}"


async def detail_lines(ctx: Ctx, record: ModelYear, unit: Unit) -> list[str]:
    """The record, its results, its points and verdict, and where it stands in review."""
    origin = ORIGIN_LABELS[Origin(record.origin)]
    lines = [
        C.record_heading(name=record.name, unit_name=unit.name, year=record.year, origin=origin)
    ]
    lines += record_lines(record)
    lines.append(C.results_line(record.results))
    points = (await model_years.scores_of(ctx.session, [record.id])).get(record.id, {})
    if points:
        result = rubric.verdict(points, record.subject)
        lines += C.score_lines(points_line(points), _total_line(result))
        missing = rubric.missing_text(result)
        if missing:
            lines.append(f"  {missing}")
    else:
        lines.append(C.NOT_SCORED)
    council = (await model_years.scores_of(ctx.session, [record.id], council=True)).get(
        record.id, {}
    )
    if council:
        result = rubric.verdict(council, record.subject)
        lines += C.council_score_lines(points_line(council), _total_line(result))
    status = review_status(record)
    if record.review == Review.PROPOSED.value and record.proposed_at is not None:
        proposer = await ctx.session.get(Person, record.proposed_by) if record.proposed_by else None
        who = proposer.full_name if proposer else None
        when = fmt_date(record.proposed_at.astimezone(ctx.tz))
        status = C.proposed(who, when, status)
    lines.append(C.status_line(status=status))
    if record.review_reason and record.review in NEEDS_REASON:
        lines.append(C.reason_line(reason=record.review_reason))
    if record.review == Review.RECOGNISED.value:
        lines.append(C.decision_line(decision=decision_text(record)))
    return lines


def decision_text(record: ModelYear) -> str:
    """ "số 125-QĐ/ĐU ngày 10/11/2026, cấp phường", or that it is not recorded yet."""
    day = fmt_date(record.decision_date) if record.decision_date else None
    level = None
    if record.decision_level:
        level = DECISION_LEVEL_LABELS[DecisionLevel(record.decision_level)].lower()
    return C.decision(record.decision_number, day, level)


async def record_to_evaluate(ctx: Ctx, data: Any) -> tuple[ModelYear, Unit]:
    """The chosen record and its unit (:func:`checked_record`), refused with the reason of
    :func:`evaluation_block` when this person may not change its evaluation now."""
    record, unit = await checked_record(ctx, data)
    why = await evaluation_block(ctx, unit, record)
    if why is not None:
        raise Refusal(why)
    return record, unit
