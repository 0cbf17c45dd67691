"""/thamdinh: the council's assessment (điểm thẩm định) of a model proposed for recognition.

A leader or admin picks one of the proposed models of their subtree and scores it on the same
15 criteria as the officer's self-score (``conversations/scoring.py``: the same steps, the
wording and maximum of each criterion, halves), kept apart from it. When the council has
scored a model, its verdict is the one /duyet recognises by (``domain.rubric.assessed``), and
the Biểu chấm điểm shows both columns. A model assessed before opens at the saved points.
"""

from __future__ import annotations

from decimal import Decimal

from conversations.answers import Choice, InputError
from conversations.commands import Audience, Command, start_when
from conversations.context import Ctx, Data
from conversations.engine import Flow, Outcome
from conversations.review import led_record_step, led_records, reviewable
from conversations.scoring import (
    NUMBERS,
    criteria_flow,
    fmt,
    points_details,
    points_in,
    require_complete,
    same_subject,
    scoring_start,
)
from conversations.texts import review as T
from domain import rubric
from domain.messages import Reply
from storage import model_years


async def assess_choices(ctx: Ctx, _data: Data) -> list[Choice]:
    records = await led_records(ctx)
    council = await model_years.scores_of(ctx.session, [r.id for r, _ in records], council=True)
    choices = []
    for record, unit in records:
        done = council.get(record.id)
        total = sum(done.values(), Decimal(0)) if done else None
        status = T.NOT_ASSESSED if total is None else T.assessed_status(total=fmt(total))
        choices.append(Choice(f"{record.name} — {unit.name} ({status})", record.id))
    return choices


async def finish_assess_pick(ctx: Ctx, data: Data) -> Outcome:
    record, unit = await reviewable(ctx, data["record"])
    saved = (await model_years.scores_of(ctx.session, [record.id], council=True)).get(record.id, {})
    start, complete = scoring_start(record, unit, saved, NUMBERS)
    replies = [Reply(T.assessed_before(name=record.name))] if complete else []
    return Outcome(replies, then=("assess", start, complete))


def assess_title(data: Data) -> str:
    return T.assess_title(name=data.get("record_name", ""))


async def finish_assess(ctx: Ctx, data: Data) -> Outcome:
    assert ctx.person is not None
    locked = await model_years.lock_record(ctx.session, data["record"])
    if locked is None:
        raise InputError(T.NONE_TO_ASSESS)
    record, unit = await reviewable(ctx, locked.id)
    same_subject(record, data, "thamdinh")
    points = points_in(data)
    result = rubric.verdict(points, record.subject)
    require_complete(result)
    await model_years.replace_scores(
        ctx.session, record.id, points, ctx.person.id, ctx.now, council=True
    )
    await ctx.audit(
        "council_score",
        "model_year",
        record.id,
        points_details(points, result),
    )
    text = T.assessed_saved(
        name=record.name,
        unit=unit.name,
        total=fmt(result.total),
        verdict=rubric.verdict_text(result),
    )
    return Outcome([Reply(text)])


ASSESS = criteria_flow("assess", "Thẩm định mô hình", assess_title, finish_assess)
ASSESS_PICK = Flow(
    name="assess_pick",
    title="Thẩm định mô hình",
    confirm=False,
    steps=(led_record_step(T.PICK_ASSESS, assess_choices, reviewable, T.ONLY_PENDING),),
    finish=finish_assess_pick,
)


FLOWS = (ASSESS_PICK, ASSESS)
COMMANDS = (
    Command(
        "thamdinh",
        "Lãnh đạo: chấm điểm thẩm định mô hình được đề xuất",
        order=89,
        audience=Audience.LEADERS,
        flow="assess_pick",
        start=start_when(led_records, T.NONE_TO_ASSESS),
        refusal="Chỉ lãnh đạo hoặc quản trị mới chấm điểm thẩm định được.",
        phrases=("tham dinh", "cham tham dinh", "diem tham dinh", "hoi dong cham diem"),
    ),
)
