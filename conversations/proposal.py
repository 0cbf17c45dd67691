"""/dexuat: an officer proposes a model for recognition.

A model may be proposed when its results are entered (/ketqua) and it passes the rubric's
rule on its saved self-score (/chamdiem): total at least 75 and criteria 2, 7, 9, 11 and 15
at their maximum. Proposing a model that fails would only ask the leader to refuse it, so it
is refused at once, naming what blocks it. A model not recognised may be fixed and proposed
again; one recognised, removed or waiting for a decision may not.
"""

from __future__ import annotations

from conversations.answers import Choice, InputError
from conversations.commands import Command
from conversations.context import Ctx
from conversations.engine import Flow, Outcome
from conversations.records import (
    checked_record,
    detail_lines,
    evaluating,
    evaluation_passed_for_all,
    fmt_date,
    review_status,
)
from conversations.texts import common as C
from conversations.texts import deadlines as D
from conversations.texts import scoring as T
from conversations.widgets import Picked, model_steps, yes_no
from domain import rubric
from domain.calendar import EVALUATION
from domain.catalog import Review
from domain.messages import Reply
from storage import deadlines, model_years, people
from storage.models import ModelYear, Unit


class ProposeState(Picked, total=False):
    confirm: bool


async def proposal_block(ctx: Ctx, record: ModelYear, unit: Unit) -> str | None:
    """Why this record cannot be proposed now, or None."""
    if record.review == Review.PROPOSED.value:
        return T.already_proposed(name=record.name)
    if record.review == Review.RECOGNISED.value:
        return T.already_recognised(name=record.name)
    if record.review == Review.REMOVED.value:
        return T.removed(name=record.name)
    access = await people.access_of(ctx.session, ctx.person)
    if not access.can_use(unit):
        return C.NO_RIGHT
    if not access.can_manage(unit):
        due = await deadlines.due_for(ctx.session, unit, record.year, EVALUATION)
        if ctx.local_now.date() > due.closes_on:
            who = D.who_reopens(await people.leaders_over(ctx.session, unit))
            return C.proposal_closed(year=record.year, due=fmt_date(due.closes_on), who=who)
    if not (record.results or "").strip():
        return T.no_results(name=record.name)
    points = (await model_years.scores_of(ctx.session, [record.id])).get(record.id, {})
    if not points:
        return T.not_scored(name=record.name)
    result = rubric.verdict(points, record.subject)
    if result.missing:
        return T.partly_scored(name=record.name, missing=rubric.missing_text(result))
    if not result.passed:
        return T.fails(name=record.name, verdict=rubric.verdict_text(result), rule=rubric.RULE_TEXT)
    return None


async def propose_record_choices(
    ctx: Ctx, _data: ProposeState, records: list[ModelYear]
) -> list[Choice]:
    return [Choice(f"{r.name} — {review_status(r)}", r.id) for r in records]


async def after_propose_record(ctx: Ctx, data: ProposeState) -> None:
    record, unit = await checked_record(ctx, data)
    why = await proposal_block(ctx, record, unit)
    if why is not None:
        raise InputError(why)


async def confirm_prompt(ctx: Ctx, data: ProposeState) -> str:
    record, unit = await checked_record(ctx, data)
    lines = await detail_lines(ctx, record, unit)
    return "\n".join([*lines, "", T.PROPOSE_QUESTION])


async def finish_propose(ctx: Ctx, data: ProposeState) -> Outcome:
    assert ctx.person is not None
    if not data.get("confirm"):
        return Outcome([Reply(T.NOT_PROPOSED)])
    if await model_years.lock_record(ctx.session, data["record"]) is None:
        raise InputError(C.GONE)
    record, unit = await checked_record(ctx, data)
    why = await proposal_block(ctx, record, unit)
    if why is not None:
        return Outcome([Reply(why)])
    previous = record.review
    record.review = Review.PROPOSED.value
    record.proposed_at = ctx.now
    record.proposed_by = ctx.person.id
    record.review_reason = None
    record.reviewed_at = None
    record.reviewed_by = None
    record.updated_at = ctx.now
    await ctx.audit("propose", "model_year", record.id, {"unit": unit.id, "previous": previous})
    return Outcome([Reply(T.proposed(name=record.name, unit=unit.name, year=record.year))])


PROPOSE = Flow(
    name="propose",
    title=T.PROPOSE_TITLE,
    confirm=False,
    steps=(
        *model_steps(
            T.PROPOSE_PICK_UNIT,
            T.PROPOSE_PICK_MODEL,
            propose_record_choices,
            after_propose_record,
        ),
        yes_no(
            "confirm",
            "Xác nhận",
            confirm_prompt,
            yes=T.PROPOSE_YES,
            yes_words=("gui", "de xuat"),
        ),
    ),
    finish=finish_propose,
)


async def proposal_closed(ctx: Ctx) -> str | None:
    """The refusal of /dexuat when :func:`evaluation_passed_for_all`."""
    passed = await evaluation_passed_for_all(ctx)
    if passed is None:
        return None
    due, who = passed
    return C.proposal_closed(year=ctx.local_now.year, due=due, who=who)


FLOWS = (PROPOSE,)
COMMANDS = (
    Command(
        "dexuat",
        "Đề xuất công nhận mô hình đã chấm điểm đạt",
        order=80,
        flow="propose",
        start=evaluating("đề xuất công nhận", proposal_closed),
        phrases=("dexuat", "de xuat", "de xuat cong nhan", "de nghi cong nhan"),
    ),
)
