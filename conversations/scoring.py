"""/chamdiem: self-scoring a model on the Biểu chấm điểm mô hình (``domain/rubric.py``).

Two flows: ``score_pick`` chooses the model (unit, then one of its models of the year) and
opens ``score``, whose steps are the 15 criteria of the rubric for the model's subject
(Part I, then II.1 for a collective or II.2 for an individual), so that every criterion reads
"Bước k/15". Each shows its full wording and maximum and the running total; points are
0 to the maximum in halves ("7,5" or "7.5"). The summary before saving ends with the total
and the verdict of the rubric's rule, naming the criteria that block it. Saving replaces
every point of the model's year in the message's one transaction. A model scored before
opens at that summary, with its saved points.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from conversations.answers import Choice, InputError, Refusal
from conversations.commands import Command
from conversations.context import Ctx, Data
from conversations.engine import Flow, Outcome, Step
from conversations.records import (
    evaluating,
    evaluation_block,
    evaluation_closed_for_all,
    record_to_evaluate,
)
from conversations.texts import common as C
from conversations.texts import scoring as T
from conversations.widgets import Picked, model_steps
from domain import rubric
from domain.catalog import RecordState, Subject
from domain.messages import Reply
from domain.text import fold
from storage import model_years
from storage.models import ModelYear, Unit

# Every subject's criteria are numbered 1–15 (rubric._check); the wording and maxima of the
# model's own subject are read when a step is shown.
NUMBERS: tuple[int, ...] = tuple(c.number for c in rubric.criteria_for(Subject.COLLECTIVE))
LAST = NUMBERS[-1]
_POINTS = re.compile(r"^(\d{1,3})(?:[.,](\d{1,3}))?$")
_UNIT_WORD = re.compile(r"\s*(diem|d)\.?$")


def key_of(number: int) -> str:
    return f"c{number}"


def criterion_of(data: Data, number: int) -> rubric.Criterion:
    for c in rubric.criteria_for(data["subject"]):
        if c.number == number:
            return c
    raise KeyError(number)


def points_in(data: Data) -> dict[int, Decimal]:
    """The points entered so far (criterion → points)."""
    return {n: Decimal(str(data[key_of(n)])) for n in NUMBERS if data.get(key_of(n)) is not None}


def fmt(value: Decimal) -> str:
    return rubric.format_points(value)


def _allowed(c: rubric.Criterion) -> str:
    return T.allowed(maximum=fmt(c.maximum))


def parse_points(c: rubric.Criterion, text: str) -> Decimal:
    """Points typed for criterion ``c``: "7", "7,5", "7.5", "7,5 điểm"; else a polite
    InputError naming the allowed range."""
    raw = _UNIT_WORD.sub("", fold(text)).strip()
    if raw.startswith("-") and _POINTS.match(raw[1:].strip()):
        raise InputError(T.negative(number=c.number, allowed_text=_allowed(c)))
    match = _POINTS.match(raw)
    if match is None:
        raise InputError(T.not_points(text=text, allowed_text=_allowed(c)))
    whole, fraction = match.groups()
    try:
        value = Decimal(f"{whole}.{fraction or '0'}")
    except InvalidOperation:  # cannot happen with the pattern above; refuse rather than fail
        raise InputError(T.not_points(text=text, allowed_text=_allowed(c))) from None
    try:
        rubric.validate_points(c, value)
    except ValueError as err:
        raise InputError(f"{err} {_allowed(c)}") from None
    return value


def as_json(value: Decimal) -> str:
    """Points as kept in the flow's JSON state: "7" or "7.5"."""
    return str(int(value)) if value == value.to_integral_value() else f"{value.normalize():f}"


def points_details(points: dict[int, Decimal], result: rubric.Verdict) -> dict[str, Any]:
    """Points saved and their total and verdict, as the audit log keeps them."""
    return {
        "points": {str(n): as_json(p) for n, p in sorted(points.items())},
        "total": as_json(result.total),
        "passed": result.passed,
    }


def scoring_start(
    record: ModelYear, unit: Unit, saved: dict[int, Decimal], numbers: Sequence[int]
) -> tuple[Data, bool]:
    """The data a scoring flow (/chamdiem, /thamdinh) opens with: the model and the points
    saved for ``numbers``; and whether all of them were (it then opens at its summary)."""
    start: Data = {
        "record": record.id,
        "record_name": record.name,
        "unit_name": unit.name,
        "year": record.year,
        "subject": record.subject,
    }
    for number in numbers:
        if number in saved:
            start[key_of(number)] = as_json(saved[number])
    return start, all(n in saved for n in numbers)


def _part_heading(c: rubric.Criterion, subject: str) -> str:
    if c.part == rubric.PART_I_LABEL:
        return T.part_heading(label=rubric.PART_I_LABEL, title=rubric.PART_I_TITLE)
    label, title = rubric.part_two_heading(subject)
    return T.part_heading(label=label, title=title)


def _prompt(number: int) -> Any:
    async def prompt(_ctx: Ctx, data: Data) -> str:
        c = criterion_of(data, number)
        lines = [
            T.criterion_heading(number=c.number, part=_part_heading(c, data["subject"])),
            c.text,
            T.maximum(points=fmt(c.maximum)),
        ]
        if c.must_max:
            lines.append(T.MUST_MAX)
        points = points_in(data)
        if points:
            total = sum(points.values(), Decimal(0))
            lines.append(
                T.running_total(total=fmt(total), scored=len(points), criteria=len(NUMBERS))
            )
        lines.append(_allowed(c))
        return "\n".join(lines)

    return prompt


def _parser(number: int) -> Any:
    async def parse(_ctx: Ctx, text: str, data: Data) -> str:
        return as_json(parse_points(criterion_of(data, number), text))

    return parse


def _show(number: int) -> Any:
    def show(value: Any, data: Data) -> str:
        c = criterion_of(data, number)
        given = Decimal(str(value))
        text = f"{fmt(given)}/{fmt(c.maximum)}"
        if c.must_max and given < c.maximum:
            text += T.BELOW_MUST_MAX
        if number == LAST:
            # The summary ends with the last criterion: the total and the verdict close it.
            # (A step of their own would count in "Bước k/n" while a criterion is edited.)
            result = rubric.verdict(points_in(data), data["subject"])
            text += T.total_and_verdict(
                total=fmt(result.total),
                maximum=fmt(rubric.TOTAL_MAX),
                verdict=rubric.verdict_text(result),
            )
            missing = rubric.missing_text(result)
            if missing:
                text += f"\n{missing}"
        return text

    return show


def criterion_step(number: int) -> Step:
    return Step(
        key=key_of(number),
        label=f"Tiêu chí {number}",
        prompt=_prompt(number),
        parse=_parser(number),
        show=_show(number),
    )


def criteria_flow(
    name: str,
    title: str,
    title_for: Callable[[Data], str],
    finish: Callable[[Ctx, Data], Awaitable[Outcome]],
) -> Flow:
    """A flow that gives points to the rubric's criteria one by one, then ``finish`` saves
    them: the unit's self-score, the council's assessment."""
    steps = tuple(criterion_step(n) for n in NUMBERS)
    return Flow(name=name, title=title, title_for=title_for, steps=steps, finish=finish)


def same_subject(record: ModelYear, data: Data, command: str) -> None:
    """Refuses points given for the other subject's criteria (the record changed since)."""
    if record.subject != data["subject"]:
        raise InputError(T.subject_changed(command=command))


def require_complete(result: rubric.Verdict) -> None:
    """Refuses to save points while a criterion has none."""
    if result.missing:
        raise InputError(rubric.missing_text(result) or T.INCOMPLETE)


def score_title(data: Data) -> str:
    return T.title_for(data.get("record_name"))


async def finish_score(ctx: Ctx, data: Data) -> Outcome:
    assert ctx.person is not None
    record = await model_years.lock_record(ctx.session, data["record"])
    if record is None or record.state != RecordState.ACTIVE.value:
        raise InputError(C.GONE)
    unit = await model_years.unit_of_record(ctx.session, record)
    why = await evaluation_block(ctx, unit, record)
    if why is not None:
        raise Refusal(why)
    same_subject(record, data, "chamdiem")
    points = points_in(data)
    try:
        result = rubric.verdict(points, record.subject)
    except ValueError as err:
        raise InputError(str(err)) from None
    require_complete(result)
    await model_years.replace_scores(ctx.session, record.id, points, ctx.person.id, ctx.now)
    await ctx.audit(
        "score",
        "model_year",
        record.id,
        {**points_details(points, result), "blocking": list(result.blocking)},
    )
    lines = [
        T.saved(
            name=record.name,
            unit=unit.name,
            year=record.year,
            total=fmt(result.total),
            maximum=fmt(rubric.TOTAL_MAX),
        ),
        T.verdict_line(verdict=rubric.verdict_text(result)),
    ]
    if result.passed:
        lines.append(T.PROPOSE_NEXT)
    else:
        lines.append(T.not_eligible(rule=rubric.RULE_TEXT))
    return Outcome([Reply("\n".join(lines))])


SCORE = criteria_flow("score", T.TITLE, score_title, finish_score)


# --- choosing the model ------------------------------------------------------------------


async def score_record_choices(ctx: Ctx, _data: Picked, records: list[ModelYear]) -> list[Choice]:
    saved = await model_years.scores_of(ctx.session, (r.id for r in records))
    choices = []
    for r in records:
        points = saved.get(r.id)
        if not points:
            status = T.UNSCORED
        else:
            result = rubric.verdict(points, r.subject)
            verdict = T.PASSED if result.passed and not result.missing else T.NOT_PASSED
            status = T.scored_status(total=fmt(result.total), verdict=verdict)
        choices.append(Choice(f"{r.name} — {status}", r.id))
    return choices


async def after_score_record(ctx: Ctx, data: Picked) -> None:
    await record_to_evaluate(ctx, data)


async def finish_pick(ctx: Ctx, data: Data) -> Outcome:
    record, unit = await record_to_evaluate(ctx, data)
    saved = (await model_years.scores_of(ctx.session, [record.id])).get(record.id, {})
    numbers = [c.number for c in rubric.criteria_for(record.subject)]
    start, complete = scoring_start(record, unit, saved, numbers)
    replies = []
    if complete:
        # Re-scoring starts from the saved points: the summary, to change what needs it.
        replies.append(Reply(T.scored_before(name=record.name)))
    return Outcome(replies, then=("score", start, complete))


SCORE_PICK = Flow(
    name="score_pick",
    title=T.TITLE,
    confirm=False,
    steps=(
        *model_steps(
            T.PICK_UNIT,
            T.PICK_MODEL,
            score_record_choices,
            after_score_record,
        ),
    ),
    finish=finish_pick,
)


FLOWS = (SCORE_PICK, SCORE)
COMMANDS = (
    Command(
        "chamdiem",
        "Tự chấm điểm mô hình theo biểu chấm điểm",
        order=70,
        flow="score_pick",
        start=evaluating("chấm điểm", evaluation_closed_for_all),
        phrases=("chamdiem", "cham diem", "tu cham diem", "cham diem mo hinh"),
    ),
)
