"""/duyet: a leader decides on the models proposed for recognition (/dexuat).

A leader or admin sees in /duyet the proposed models of their subtree only, opens one (record,
results, points, verdict) and decides: recognised, not recognised (with a reason) or removed
from the list (with a reason). The decision is checked again on saving (still proposed, still
in the leader's subtree), written to the record and the audit log, and announced to the
proposing officer and the unit's officers through the outbox on their Telegram and Zalo
accounts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from conversations.answers import MAX_TEXT, Choice, InputError, text_parser
from conversations.commands import Audience, Command, start_when
from conversations.context import Ctx, Data
from conversations.documents import parse_issued_on
from conversations.engine import Flow, Outcome, Step
from conversations.notices import notify_officers
from conversations.records import (
    NEEDS_REASON,
    decision_text,
    detail_lines,
    fmt_date,
    review_status,
)
from conversations.steps import Choices, Prompt
from conversations.texts import common as C
from conversations.texts import engine as E
from conversations.texts import review as T
from conversations.widgets import pick_once
from domain import rubric
from domain.catalog import (
    DECISION_LEVEL_ALIASES,
    DECISION_LEVEL_LABELS,
    DecisionLevel,
    RecordState,
    Review,
    parse_decision_level,
)
from domain.messages import Reply
from domain.template import Template
from domain.text import one_line
from storage import model_years, people
from storage.models import ModelYear, Unit

DECISION_LABELS = {
    Review.RECOGNISED.value: T.DECISION_RECOGNISED,
    Review.NOT_RECOGNISED.value: T.DECISION_NOT_RECOGNISED,
    Review.REMOVED.value: T.DECISION_REMOVED,
}
DECISION_CHOICES = (
    Choice(DECISION_LABELS[Review.RECOGNISED.value], Review.RECOGNISED.value, ("cong nhan",)),
    Choice(
        DECISION_LABELS[Review.NOT_RECOGNISED.value],
        Review.NOT_RECOGNISED.value,
        ("khong cong nhan", "khong"),
    ),
    Choice(
        DECISION_LABELS[Review.REMOVED.value],
        Review.REMOVED.value,
        ("thanh loai", "loai", "dua ra khoi danh sach"),
    ),
)


async def led_records(
    ctx: Ctx, review: str = Review.PROPOSED.value
) -> list[tuple[ModelYear, Unit]]:
    """The models at ``review`` (proposed unless said) in the subtrees this person leads."""
    access = await people.access_of(ctx.session, ctx.person)
    return await model_years.proposed_records(ctx.session, access.led_paths, review)


async def review_record_choices(ctx: Ctx, _data: Data) -> list[Choice]:
    year = ctx.local_now.year
    choices = []
    for record, unit in await led_records(ctx):
        when = None if record.year == year else record.year
        choices.append(Choice(T.pending_choice(record.name, unit.name, when), record.id))
    return choices


async def review_list_prompt(ctx: Ctx, _data: Data) -> str:
    count = len(await led_records(ctx))
    return T.pending_list(count=count)


async def led_record(
    ctx: Ctx, record_id: int, review: str, elsewhere: Template
) -> tuple[ModelYear, Unit]:
    """The record, if it is at ``review`` and in this leader's subtree; else why not
    (``elsewhere``, given the model's name and status)."""
    record = await ctx.session.get(ModelYear, record_id)
    if record is None or record.state != RecordState.ACTIVE.value:
        raise InputError(C.GONE)
    unit = await model_years.unit_of_record(ctx.session, record)
    access = await people.access_of(ctx.session, ctx.person)
    if not access.can_manage(unit):
        raise InputError(T.NO_RIGHT)
    if record.review != review:
        raise InputError(elsewhere(name=record.name, status=review_status(record)))
    return record, unit


async def reviewable(ctx: Ctx, record_id: int) -> tuple[ModelYear, Unit]:
    """The record, if it is still proposed and in this leader's subtree."""
    return await led_record(ctx, record_id, Review.PROPOSED.value, T.not_pending)


LedRecord = Callable[[Ctx, int], Awaitable[tuple[ModelYear, Unit]]]


def led_record_step(prompt: Prompt, choices: Choices, check: LedRecord, only: str) -> Step:
    """Which of the models listed for a leader: ``check``-ed when picked, its name and its
    unit's kept for the headings; with one only, picked for the person (``only`` says so)."""

    async def picked(ctx: Ctx, data: Data) -> None:
        record, unit = await check(ctx, data["record"])
        data["record_name"] = record.name
        data["unit_name"] = unit.name

    return pick_once(
        "record",
        "Mô hình",
        prompt,
        choices,
        show=lambda _v, d: f"{d.get('record_name')} — {d.get('unit_name')}",
        note=lambda c, _d: f"{only}: {c.label}.",
        after=picked,
    )


async def assessment_of(ctx: Ctx, record: ModelYear) -> rubric.Assessment:
    """The verdict recognition goes by: the council's points when it scored, else the
    self-score."""
    own = (await model_years.scores_of(ctx.session, [record.id])).get(record.id, {})
    council = (await model_years.scores_of(ctx.session, [record.id], council=True)).get(
        record.id, {}
    )
    return rubric.assessed(own, council, record.subject)


async def decision_prompt(ctx: Ctx, data: Data) -> str:
    record, unit = await reviewable(ctx, data["record"])
    lines = await detail_lines(ctx, record, unit)
    return "\n".join([*lines, "", T.DECISION_QUESTION])


async def reason_prompt(_ctx: Ctx, data: Data) -> str:
    if data.get("decision") == Review.REMOVED.value:
        return T.REASON_REMOVED
    return T.REASON_NOT_RECOGNISED


def _show_decision(value: Any, _data: Data) -> str:
    return DECISION_LABELS.get(str(value), str(value))


# --- the decision that recognises a model: number, date, level (each may be skipped) ------

DECISION_NUMBER_MAX = 100
LEVEL_CHOICES = tuple(
    Choice(DECISION_LEVEL_LABELS[level], level.value, DECISION_LEVEL_ALIASES[level])
    for level in DecisionLevel
)


async def parse_decision_number(_ctx: Ctx, text: str, _data: Data) -> str:
    number = one_line(text)
    if not number:
        raise InputError(T.NUMBER_EMPTY)
    if len(number) > DECISION_NUMBER_MAX:
        raise InputError(T.number_too_long(length=len(number), limit=DECISION_NUMBER_MAX))
    return number


async def parse_level(_ctx: Ctx, text: str, _data: Data) -> str:
    level = parse_decision_level(text)
    if level is None:
        raise InputError(T.bad_level(text=text))
    return level.value


def _show_day(value: Any, _data: Data) -> str:
    return fmt_date(date.fromisoformat(str(value)))


def _show_level(value: Any, _data: Data) -> str:
    return DECISION_LEVEL_LABELS[DecisionLevel(str(value))]


DECISION_PARTS = (
    Step(
        key="decision_number",
        label="Số quyết định",
        prompt=T.ASK_NUMBER,
        parse=parse_decision_number,
    ),
    Step(
        key="decision_date",
        label="Ngày quyết định",
        prompt=T.ASK_DATE,
        parse=parse_issued_on,
        show=_show_day,
    ),
    Step(
        key="decision_level",
        label="Cấp công nhận",
        prompt=T.ASK_LEVEL,
        choices=LEVEL_CHOICES,
        parse=parse_level,
        show=_show_level,
    ),
)


def decision_steps(when: Any = None) -> tuple[Step, ...]:
    """Number, date and level of the decision, each optional ("bỏ qua": recorded later with
    /quyetdinh); with ``when``, asked as a follow-up of the step before."""
    return tuple(
        replace(part, optional=True, when=when, follow_up=when is not None)
        for part in DECISION_PARTS
    )


def store_decision(record: ModelYear, data: Data) -> dict[str, Any]:
    """The decision's answers onto the record; what was stored, for the audit log."""
    number, day, level = (
        data.get(k) for k in ("decision_number", "decision_date", "decision_level")
    )
    record.decision_number = number or None
    record.decision_date = date.fromisoformat(day) if day else None
    record.decision_level = level or None
    return {"decision_number": number, "decision_date": day, "decision_level": level}


def notice_text(
    decision: str, record: ModelYear, unit: Unit, reason: str | None, leader: str, day: str
) -> str:
    what = T.notice_model(name=record.name, unit=unit.name, year=record.year)
    who = T.notice_reviewer(leader=leader, day=day)
    if decision == Review.RECOGNISED.value:
        recorded = record.decision_number or record.decision_date or record.decision_level
        return T.recognised_notice(what, decision_text(record) if recorded else None, who)
    if decision == Review.NOT_RECOGNISED.value:
        return T.not_recognised_notice(model=what, reason=reason, who=who)
    return T.removed_notice(model=what, reason=reason, who=who)


async def notify(
    ctx: Ctx, record: ModelYear, unit: Unit, decision: str, reason: str | None
) -> list[str]:
    """The decision, to the proposing officer and the unit's officers."""
    assert ctx.person is not None
    text = notice_text(
        decision, record, unit, reason, ctx.person.full_name, fmt_date(ctx.local_now)
    )
    topic = f"review:{record.id}:{decision}"
    return await notify_officers(ctx, unit, text, topic, also=(record.proposed_by,))


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


async def finish_review(ctx: Ctx, data: Data) -> Outcome:
    assert ctx.person is not None
    record = await model_years.lock_record(ctx.session, data["record"])
    if record is None or record.state != RecordState.ACTIVE.value:
        return Outcome([Reply(f"{C.GONE} {T.NOTHING_CHANGED}")])
    unit = await model_years.unit_of_record(ctx.session, record)
    access = await people.access_of(ctx.session, ctx.person)
    if not access.can_manage(unit):
        # Checked again on saving: a list seen earlier grants nothing.
        return Outcome([Reply(T.NO_RIGHT)])
    if record.review != Review.PROPOSED.value:
        return Outcome([Reply(T.decided_elsewhere(record.name, review_status(record)))])
    decision = data["decision"]
    reason = data.get("reason") if decision in NEEDS_REASON else None
    if decision in NEEDS_REASON and not reason:
        raise InputError(E.enter(what="lý do"))
    decided: dict[str, Any] = {}
    if decision == Review.RECOGNISED.value:
        assessment = await assessment_of(ctx, record)
        result = assessment.verdict
        if not result.passed or result.missing:
            raise InputError(
                T.cannot_recognise(source=assessment.source, verdict=rubric.verdict_text(result))
            )
        decided = store_decision(record, data)
    record.review = decision
    record.review_reason = reason
    record.reviewed_at = ctx.now
    record.reviewed_by = ctx.person.id
    record.updated_at = ctx.now
    await ctx.audit(
        "review",
        "model_year",
        record.id,
        {
            "decision": decision,
            "reason": reason,
            "unit": unit.id,
            "proposed_by": record.proposed_by,
            **decided,
        },
    )
    names = await notify(ctx, record, unit, decision, reason)
    told = T.told(names=_names(names)) if names else T.NOBODY_TOLD
    lines = [
        T.decided(
            name=record.name, unit=unit.name, year=record.year, decision=DECISION_LABELS[decision]
        )
    ]
    if reason:
        lines.append(T.reason_line(reason=reason))
    if decision == Review.RECOGNISED.value:
        lines.append(T.decision_line(decision=decision_text(record)))
    lines += [told, T.MORE_PENDING]
    return Outcome([Reply("\n".join(lines))])


REVIEW = Flow(
    name="review",
    title="Duyệt mô hình",
    confirm_label="Xác nhận",
    summary_title="kiểm tra lại trước khi xác nhận:",
    steps=(
        led_record_step(review_list_prompt, review_record_choices, reviewable, T.ONLY_PENDING),
        Step(
            key="decision",
            label="Quyết định",
            prompt=decision_prompt,
            choices=DECISION_CHOICES,
            show=_show_decision,
        ),
        Step(
            key="reason",
            label="Lý do",
            prompt=reason_prompt,
            parse=text_parser(MAX_TEXT, "lý do"),
            when=lambda d: d.get("decision") in NEEDS_REASON,
            follow_up=True,
        ),
        *decision_steps(when=lambda d: d.get("decision") == Review.RECOGNISED.value),
    ),
    finish=finish_review,
)


async def start_review(ctx: Ctx, _args: str = "") -> Data | Reply:
    if not await led_records(ctx):
        undecided = [r for r, _ in await _recognised(ctx) if not r.decision_number]
        tail = T.none_pending_decision(count=len(undecided)) if undecided else ""
        return Reply(T.NONE_PENDING + tail)
    return {}


# --- /quyetdinh: the decision of a model recognised earlier --------------------------------


async def _recognised(ctx: Ctx) -> list[tuple[ModelYear, Unit]]:
    found = await led_records(ctx, Review.RECOGNISED.value)
    return sorted(found, key=lambda ru: (-ru[0].year, ru[0].id))


async def recognised_choices(ctx: Ctx, _data: Data) -> list[Choice]:
    choices = []
    for record, unit in await _recognised(ctx):
        choices.append(
            Choice(
                T.recognised_choice(
                    name=record.name,
                    unit=unit.name,
                    year=record.year,
                    decision=decision_text(record),
                ),
                record.id,
            )
        )
    return choices


async def _decided(ctx: Ctx, record_id: int) -> tuple[ModelYear, Unit]:
    """The record, if it is recognised and in this leader's subtree."""
    return await led_record(ctx, record_id, Review.RECOGNISED.value, T.not_recognised)


async def finish_decision(ctx: Ctx, data: Data) -> Outcome:
    assert ctx.person is not None
    locked = await model_years.lock_record(ctx.session, data["record"])
    if locked is None:
        raise InputError(C.GONE)
    record, unit = await _decided(ctx, locked.id)
    # A part skipped ("bỏ qua") keeps what was recorded before.
    recorded = {
        "decision_number": record.decision_number,
        "decision_date": record.decision_date.isoformat() if record.decision_date else None,
        "decision_level": record.decision_level,
    }
    decided = store_decision(record, {k: data.get(k) or v for k, v in recorded.items()})
    record.updated_at = ctx.now
    await ctx.audit("decision", "model_year", record.id, {"unit": unit.id, **decided})
    return Outcome(
        [Reply(T.decision_saved(name=record.name, unit=unit.name, decision=decision_text(record)))]
    )


DECISION = Flow(
    name="decision",
    title="Ghi số quyết định công nhận",
    steps=(
        led_record_step(T.PICK_RECOGNISED, recognised_choices, _decided, T.ONLY_RECOGNISED),
        *decision_steps(),
    ),
    finish=finish_decision,
)


FLOWS = (REVIEW, DECISION)
COMMANDS = (
    Command(
        "duyet",
        "Lãnh đạo: duyệt mô hình được đề xuất công nhận",
        order=90,
        audience=Audience.LEADERS,
        flow="review",
        start=start_review,
        refusal="Chỉ lãnh đạo hoặc quản trị mới duyệt được mô hình đề xuất công nhận.",
        phrases=("duyet mo hinh", "xet duyet", "mo hinh cho duyet"),
    ),
    Command(
        "quyetdinh",
        "Lãnh đạo: ghi số, ngày, cấp quyết định công nhận mô hình",
        order=91,
        audience=Audience.LEADERS,
        flow="decision",
        start=start_when(_recognised, T.NONE_RECOGNISED),
        refusal="Chỉ lãnh đạo hoặc quản trị mới ghi được quyết định công nhận.",
        phrases=("ghi so quyet dinh", "so quyet dinh", "quyet dinh cong nhan"),
    ),
)
