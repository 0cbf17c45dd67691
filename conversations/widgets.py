"""Steps every flow builds from: pick a unit, pick one of its models of the year, say yes or no,
send a file. A pick with one candidate is made for the person and said (the engine's
``auto_single``); what was picked is checked again on every answer, so a list seen earlier
grants nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypedDict

from conversations.answers import Choice, InputError
from conversations.context import Ctx
from conversations.engine import Prompt, Step
from conversations.records import checked_record, units_with_models, usable_units
from conversations.steps import Choices
from conversations.texts import common as C
from conversations.texts import engine as T
from domain.messages import Attachment
from storage import model_years
from storage.evidence import FileRefused, limit_text
from storage.models import ModelYear, Unit
from storage.units import unit_labels


class Picked(TypedDict, total=False):
    """What the pickers keep in a flow's state."""

    year: int
    unit: int
    unit_name: str
    record: int
    record_name: str


UnitSource = Callable[[Ctx, Any], Awaitable[Sequence[Unit]]]
RecordLabel = Callable[[Ctx, Any, list[ModelYear]], Awaitable[list[Choice]]]
Check = Callable[[Ctx, Any], Awaitable[None]]


async def with_models(ctx: Ctx, data: Picked) -> Sequence[Unit]:
    """Units this person may act for that have models in the flow's year."""
    return await units_with_models(ctx, data["year"])


async def any_usable(ctx: Ctx, _data: Any) -> Sequence[Unit]:
    return await usable_units(ctx)


def unit_picker(
    prompt: Prompt,
    units: UnitSource = with_models,
    after: Check | None = None,
    label: str = "Đơn vị",
    when: Callable[[Any], bool] | None = None,
) -> Step:
    """Which unit: among ``units``; with one only, picked for the person."""

    async def choices(ctx: Ctx, data: Any) -> list[Choice]:
        return await labelled(ctx, await units(ctx, data))

    async def picked(ctx: Ctx, data: Picked) -> None:
        allowed = {u.id: u for u in await units(ctx, data)}
        unit = allowed.get(data["unit"])
        if unit is None:
            raise InputError(C.NO_RIGHT_UNIT)
        data["unit_name"] = unit.name
        data.pop("record", None)
        if after is not None:
            await after(ctx, data)

    return pick_once(
        "unit",
        label,
        prompt,
        choices,
        show=lambda _v, d: str(d.get("unit_name", "")),
        note=lambda c, _d: C.only_unit(label=label, name=c.label),
        after=picked,
        keep_hidden=True,
        when=when,
        resting=True,
    )


def pick_once(
    key: str,
    label: str,
    prompt: Prompt,
    choices: Choices,
    show: Callable[[Any, Any], str],
    note: Callable[[Choice, Any], str],
    after: Check | None = None,
    **more: Any,
) -> Step:
    """A pick the flow is built on (a unit, a model, a report): not offered for editing from
    the summary; with one choice only, made for the person and said (``note``)."""
    return Step(
        key=key,
        label=label,
        prompt=prompt,
        choices=choices,
        after=after,
        show=show,
        editable=False,
        auto_single=True,
        auto_note=note,
        **more,
    )


async def labelled(ctx: Ctx, units: Sequence[Unit]) -> list[Choice]:
    """Units as choices; twin names (a cell in two wards) carry their parent's name."""
    names = await unit_labels(ctx.session, units)
    return [Choice(names[u.id], u.id) for u in units]


async def plain_records(ctx: Ctx, data: Picked, records: list[ModelYear]) -> list[Choice]:
    return [Choice(r.name, r.id) for r in records]


def model_picker(
    prompt: str,
    label_records: RecordLabel = plain_records,
    after: Check | None = None,
) -> Step:
    """Which of the unit's models of the year; with one only, picked for the person. The
    model is checked (still on the list, in the chosen unit, this person may act for it)
    before ``after`` runs."""

    async def choices(ctx: Ctx, data: Picked) -> list[Choice]:
        records = await model_years.records_of_unit(ctx.session, data["unit"], data["year"])
        return await label_records(ctx, data, records)

    async def list_prompt(_ctx: Ctx, data: Picked) -> str:
        return C.model_list_prompt(
            prompt=prompt, year=data["year"], unit_name=data.get("unit_name", "")
        )

    async def picked(ctx: Ctx, data: Picked) -> None:
        record, _unit = await checked_record(ctx, data)
        data["record_name"] = record.name
        if after is not None:
            await after(ctx, data)

    return pick_once(
        "record",
        "Mô hình",
        list_prompt,
        choices,
        show=lambda _v, d: str(d.get("record_name", "")),
        note=lambda c, d: C.only_model(
            name=c.label, unit_name=d.get("unit_name", ""), year=d["year"]
        ),
        after=picked,
        keep_hidden=True,
        resting=True,
    )


def model_steps(
    unit_prompt: Prompt,
    model_prompt: str,
    label_records: RecordLabel = plain_records,
    after: Check | None = None,
) -> tuple[Step, Step]:
    """Which unit (one with models in the flow's year), then which of its models."""
    return unit_picker(unit_prompt), model_picker(model_prompt, label_records, after)


def yes_no(
    key: str,
    label: str,
    prompt: Prompt,
    yes: str = T.YES,
    no: str = T.NO,
    yes_words: tuple[str, ...] = (),
    follow_up: bool = False,
    when: Callable[[Any], bool] | None = None,
) -> Step:
    """A yes/no question: True or False."""
    choices = (
        Choice(yes, True, ("co", "dong y", *yes_words)),
        Choice(no, False, ("khong", "thoi")),
    )
    return Step(
        key=key,
        label=label,
        prompt=prompt,
        choices=choices,
        follow_up=follow_up,
        when=when,
    )


def confirm_action(action: str, label: str, prompt: Prompt, yes: str, yes_word: str) -> Step:
    """Asked when a menu's ``action`` was picked (``data["action"]``): is it meant?"""
    return yes_no(
        f"confirm_{action}",
        label,
        prompt,
        yes=yes,
        yes_words=(yes_word,),
        when=lambda d: d.get("action") == action,
        follow_up=True,
    )


def file_input(
    key: str,
    label: str,
    prompt: Prompt,
    show: Callable[[Any, Any], str],
    when: Callable[[Any], bool] | None = None,
    after: Callable[[Ctx, Any], Awaitable[None]] | None = None,
) -> Step:
    """A photo or a file is the answer: checked (type by its first bytes, size) and kept as a
    pending upload; text here is refused, naming what is accepted. The caption typed with the
    file comes along as ``caption``."""

    async def take(ctx: Ctx, attachment: Attachment, caption: str | None, _data: Any) -> Any:
        try:
            accepted = await asyncio.to_thread(ctx.files.accept, attachment)
        except FileRefused as err:
            raise InputError(err.message) from None
        accepted["caption"] = caption
        return accepted

    async def refuse_text(ctx: Ctx, _text: str, _data: Any) -> Any:
        raise InputError(C.file_expected(accepted=limit_text(ctx.files.max_bytes)))

    return Step(
        key=key,
        label=label,
        prompt=prompt,
        parse=refuse_text,
        take_file=take,
        show=show,
        when=when,
        after=after,
        follow_up=True,
    )
