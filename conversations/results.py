"""/ketqua: what a model achieved in the year (Phụ lục 4, column 7) and whether it was newly
built or kept this year. Officers may change it until the year's "evaluation" deadline (15/11
by default) and not while the model is proposed for recognition or once it is decided (a
model not recognised may be fixed and proposed again); leaders and admins always may."""

from __future__ import annotations

from typing import Any

from conversations.answers import MAX_TEXT, Choice, InputError, text_parser
from conversations.commands import Command
from conversations.context import Ctx
from conversations.engine import Flow, Outcome, Step
from conversations.records import (
    ORIGIN_CHOICES,
    evaluating,
    evaluation_closed_for_all,
    record_to_evaluate,
)
from conversations.texts import common as C
from conversations.texts import results as T
from conversations.widgets import Picked, model_steps
from domain.catalog import ORIGIN_LABELS, Origin
from domain.messages import Reply
from storage import audit_log, model_years
from storage.models import ModelYear


class ResultsState(Picked, total=False):
    scale: str | None
    results: str | None
    origin: str


async def record_choices(ctx: Ctx, _data: ResultsState, records: list[ModelYear]) -> list[Choice]:
    return [Choice(f"{r.name} — {T.status(bool(r.results))}", r.id) for r in records]


async def after_record(ctx: Ctx, data: ResultsState) -> None:
    record, _unit = await record_to_evaluate(ctx, data)
    data["scale"] = record.scale
    # Start from what is saved: the next steps show it and offer to keep it.
    data["results"] = record.results
    data["origin"] = record.origin


async def results_prompt(_ctx: Ctx, data: ResultsState) -> str:
    return T.results_prompt(data["year"], data.get("scale"))


_results_text = text_parser(MAX_TEXT, "kết quả")


async def parse_results(ctx: Ctx, text: str, data: ResultsState) -> str:
    value = await _results_text(ctx, text, data)
    if not any(ch.isdigit() for ch in value):
        raise InputError(T.NEEDS_FIGURE)
    return value


async def origin_prompt(_ctx: Ctx, data: ResultsState) -> str:
    return T.origin_prompt(year=data["year"])


def _show_origin(value: Any, _data: Any) -> str:
    return ORIGIN_LABELS[Origin(value)]


async def finish_results(ctx: Ctx, data: ResultsState) -> Outcome:
    assert ctx.person is not None
    if await model_years.lock_record(ctx.session, data["record"]) is None:
        raise InputError(C.GONE)
    record, unit = await record_to_evaluate(ctx, data)
    results, origin = data.get("results"), data["origin"]
    values = {"results": results, "origin": origin}
    before = {"results": record.results, "origin": record.origin}
    changes = audit_log.changed_fields(before, values, values)
    if not changes:
        return Outcome([Reply(T.NO_CHANGE)])
    record.results = results
    record.origin = origin
    record.results_at = ctx.now
    record.updated_at = ctx.now
    await ctx.audit("results", "model_year", record.id, changes)
    origin = ORIGIN_LABELS[Origin(record.origin)]
    text = T.saved(record.year, record.name, unit.name, record.results or "", origin)
    return Outcome([Reply(text)])


RESULTS = Flow(
    name="results",
    title="Nhập kết quả mô hình",
    title_for=lambda d: T.title(d.get("record_name")),
    steps=(
        *model_steps(T.UNIT, T.PICK, record_choices, after_record),
        Step(key="results", label="Kết quả đạt được", prompt=results_prompt, parse=parse_results),
        Step(
            key="origin",
            label="Loại",
            prompt=origin_prompt,
            choices=ORIGIN_CHOICES,
            show=_show_origin,
        ),
    ),
    finish=finish_results,
)


FLOWS = (RESULTS,)
COMMANDS = (
    Command(
        "ketqua",
        "Nhập kết quả đạt được của mô hình (Phụ lục 4)",
        order=60,
        flow="results",
        start=evaluating("nhập kết quả", evaluation_closed_for_all),
        phrases=("ketqua", "ket qua", "nhap ket qua", "ket qua mo hinh", "nhap ket qua mo hinh"),
    ),
)
