"""/mohinh: the models of the year of a unit the person may act for — open one to read it as
/duyet shows it (answers, results, points and verdict, where it stands in review), edit it or
withdraw it (officers until the registration deadline, leaders and admins always)."""

from __future__ import annotations

from conversations.answers import Choice, InputError, parse_year
from conversations.commands import Command
from conversations.context import Ctx
from conversations.engine import Flow, Outcome, Step
from conversations.records import (
    checked_record,
    detail_lines,
    may_change,
    record_data,
    units_with_models,
    usable_units,
)
from conversations.season import registration_years
from conversations.texts import common as C
from conversations.texts import models_menu as T
from conversations.widgets import Picked, confirm_action, model_steps
from domain.catalog import SUBJECT_LABELS, RecordState, Subject, field_label
from domain.messages import Reply
from storage import model_years
from storage.models import ModelYear


class MenuState(Picked, total=False):
    can_change: bool
    action: str
    confirm_withdraw: bool


async def record_choices(ctx: Ctx, _data: MenuState, records: list[ModelYear]) -> list[Choice]:
    return [
        Choice(
            T.record_label(
                name=r.name,
                field=field_label(r.field, r.field_other),
                subject=SUBJECT_LABELS[Subject(r.subject)],
            ),
            r.id,
        )
        for r in records
    ]


async def after_record(ctx: Ctx, data: MenuState) -> None:
    record, unit = await checked_record(ctx, data)
    data["can_change"], _why = await may_change(ctx, unit, record.year)


async def action_prompt(ctx: Ctx, data: MenuState) -> str:
    record, unit = await checked_record(ctx, data)
    return "\n".join([*await detail_lines(ctx, record, unit), "", T.WHAT_NEXT])


ACTIONS = (
    Choice(T.ACTION_EDIT, "edit", ("sua",)),
    Choice(T.ACTION_WITHDRAW, "withdraw", ("rut", "rut dang ky", "xoa")),
    Choice(T.ACTION_DONE, "done", ("dong", "xong roi")),
)


async def withdraw_prompt(ctx: Ctx, data: MenuState) -> str:
    record, _ = await checked_record(ctx, data)
    return T.withdraw_question(name=record.name, year=record.year)


async def _has_others(ctx: Ctx, year: int) -> bool:
    """Whether the person has more than one model of ``year`` to look at."""
    count = 0
    for unit in await units_with_models(ctx, year):
        count += len(await model_years.records_of_unit(ctx.session, unit.id, year))
        if count > 1:
            return True
    return False


async def finish_menu(ctx: Ctx, data: MenuState) -> Outcome:
    assert ctx.person is not None
    record, unit = await checked_record(ctx, data)
    action = data.get("action")
    if action is None:
        # Read only: the record, and why it cannot be changed now.
        _allowed, why = await may_change(ctx, unit, record.year)
        lines = await detail_lines(ctx, record, unit)
        more = [T.MORE] if await _has_others(ctx, record.year) else []
        return Outcome([Reply("\n".join([*lines, "", why, *more]))])
    if action == "done":
        return Outcome([Reply(T.DONE)])
    allowed, why = await may_change(ctx, unit, record.year)
    if not allowed:
        raise InputError(why)
    if action == "edit":
        edit: dict[str, object] = {
            "year": record.year,
            "editing": record.id,
            "unit": unit.id,
            "unit_name": unit.name,
            **record_data(record),
        }
        return Outcome([], then=("register", edit, True))
    if not data.get("confirm_withdraw"):
        return Outcome([Reply(T.KEPT)])
    record.state = RecordState.WITHDRAWN.value
    record.updated_at = ctx.now
    await ctx.audit("withdraw", "model_year", record.id, {"name": record.name})
    return Outcome([Reply(T.withdrawn(name=record.name, year=record.year))])


MENU = Flow(
    name="menu",
    numbered=False,
    title="Mô hình đã đăng ký",
    confirm=False,
    steps=(
        *model_steps(T.UNIT, T.PICK, record_choices, after_record),
        Step(
            key="action",
            label="Thao tác",
            prompt=action_prompt,
            choices=ACTIONS,
            when=lambda d: bool(d.get("can_change")),
        ),
        confirm_action("withdraw", "Xác nhận rút", withdraw_prompt, T.YES_WITHDRAW, "rut"),
    ),
    finish=finish_menu,
)


async def start_menu(ctx: Ctx, args: str = "") -> MenuState | Reply:
    """The models of ``/mohinh 2026``'s year, or of the season's: the year /dangky registers
    for once it has models (the next year, after the evaluation deadline), else this year."""
    if not await usable_units(ctx):
        return Reply(C.NOT_A_MEMBER)
    this_year = ctx.local_now.year
    word = args.strip()
    if word:
        try:
            year = parse_year(word, this_year)
        except InputError as err:
            return Reply(err.message)
    else:
        season = (await registration_years(ctx))[0]
        year = season if await units_with_models(ctx, season) else this_year
    if not await units_with_models(ctx, year):
        return Reply(T.no_models(year=year))
    return MenuState(year=year)


FLOWS = (MENU,)
COMMANDS = (
    Command(
        "mohinh",
        "Xem, sửa hoặc rút mô hình đã đăng ký",
        order=20,
        flow="menu",
        start=start_menu,
        phrases=(
            "mohinh",
            "mo hinh",
            "xem mo hinh",
            "danh sach mo hinh",
            "cac mo hinh",
            "mo hinh da dang ky",
            "sua mo hinh",
            "rut mo hinh",
            "mo hinh cua don vi",
        ),
    ),
)
