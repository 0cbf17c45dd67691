"""/gioithieu: the introduction of a typical model (Hướng dẫn giới thiệu mô hình (Quảng
Ngãi), part II “Giới thiệu các mô hình, điển hình”): basis, scope of impact, how it is carried
out, results, how to replicate.

Two flows: the first picks the model (unit, then model of this year; skipped when there is
only one), the second asks the five parts and saves them in ``model_intros``. A model already
introduced opens at the summary with its saved answers, so any part can be edited.
``dvk export intro`` and ``/xuat`` (reports/intro.py) put the introductions in a workbook.
"""

from __future__ import annotations

from conversations.answers import InputError, text_parser
from conversations.commands import Command
from conversations.context import Ctx, Data
from conversations.engine import Flow, Outcome, Step
from conversations.records import checked_record, evaluating
from conversations.texts import intro as T
from conversations.widgets import model_steps
from domain.catalog import INTRO_PART_KEYS, INTRO_PARTS
from domain.messages import Reply
from storage import audit_log
from storage.models import ModelIntro

PART_MAX = 1000


def intro_data(intro: ModelIntro | None) -> Data:
    return {key: getattr(intro, key) if intro else None for key in INTRO_PART_KEYS}


# --- picking the model ------------------------------------------------------------------------


async def finish_pick(ctx: Ctx, data: Data) -> Outcome:
    record, unit = await checked_record(ctx, data)
    intro = await ctx.session.get(ModelIntro, record.id)
    initial: Data = {
        "year": record.year,
        "unit": unit.id,
        "unit_name": unit.name,
        "record": record.id,
        "record_name": record.name,
    }
    if intro is None:
        return Outcome([], then=("intro", initial, False))
    initial.update(intro_data(intro))
    return Outcome(
        [Reply(T.introduced_before(name=record.name))],
        then=("intro", initial, True),
    )


INTRO_PICK = Flow(
    name="intro_pick",
    title="Giới thiệu mô hình",
    confirm=False,
    steps=(*model_steps(T.UNIT, T.PICK),),
    finish=finish_pick,
)


# --- the five parts ---------------------------------------------------------------------------


def intro_title(data: Data) -> str:
    return T.title(data.get("record_name"))


async def finish_intro(ctx: Ctx, data: Data) -> Outcome:
    assert ctx.person is not None
    record, _unit = await checked_record(ctx, data)
    values = {key: (data.get(key) or None) for key in INTRO_PART_KEYS}
    intro = await ctx.session.get(ModelIntro, record.id)
    before = intro_data(intro)
    changes = audit_log.changed_fields(before, values, INTRO_PART_KEYS)
    if intro is not None and not changes:
        return Outcome([Reply(T.NO_CHANGE)])
    if not any(values.values()):
        raise InputError(T.EMPTY)
    if intro is None:
        intro = ModelIntro(model_year_id=record.id, updated_by=ctx.person.id, updated_at=ctx.now)
        ctx.session.add(intro)
    for key, value in values.items():
        setattr(intro, key, value)
    intro.updated_by = ctx.person.id
    intro.updated_at = ctx.now
    await ctx.session.flush()
    await ctx.audit("save_intro", "model_year", record.id, changes)
    return Outcome([Reply(T.saved(name=record.name, year=record.year))])


INTRO = Flow(
    name="intro",
    title="Giới thiệu mô hình",
    title_for=intro_title,
    steps=tuple(
        Step(
            key=key,
            label=label,
            prompt=T.part_prompt(question, optional),
            parse=text_parser(PART_MAX, label.lower()),
            optional=optional,
        )
        for key, label, question, optional in INTRO_PARTS
    ),
    finish=finish_intro,
)


FLOWS = (INTRO_PICK, INTRO)
COMMANDS = (
    Command(
        "gioithieu",
        "Giới thiệu mô hình điển hình (cơ sở, cách làm, hiệu quả)",
        order=150,
        flow="intro_pick",
        start=evaluating("giới thiệu"),
        phrases=("gioithieu", "gioi thieu", "gioi thieu mo hinh", "mo hinh dien hinh"),
    ),
)
