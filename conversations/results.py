"""/ketqua: what a model achieved in the year (Phụ lục 4, column 7) and whether it was newly
built or kept this year.

Also what /chamdiem and /dexuat share with it: picking one of this year's models of a unit the
person may act for, and who may still change a model's evaluation. Officers may until the
year's "evaluation" deadline (15/11 by default) and not while the model is proposed for
recognition or once it is decided (a model not recognised may be fixed and proposed again);
leaders and admins always may.
"""

from __future__ import annotations

from typing import Any

from conversations.engine import (
    MAX_TEXT,
    Choice,
    Ctx,
    Data,
    Flow,
    InputError,
    Outcome,
    Step,
    text_parser,
)
from conversations.flows import after_menu_unit, origin_choices, start_menu
from conversations.records import (
    evaluation_block,
    past_deadline_for_all,
    picked_record,
    unit_choices,
)
from domain.catalog import ORIGIN_LABELS, Origin
from domain.messages import Reply
from storage import repo
from storage.models import ModelYear, Unit

# --- who may change a model's evaluation ------------------------------------------


# --- picking one of the year's models ----------------------------------------------


async def record_to_evaluate(ctx: Ctx, data: Data) -> tuple[ModelYear, Unit]:
    """The chosen record and its unit (:func:`picked_record`), refused with the reason of
    :func:`evaluation_block` when this person may not change its evaluation now."""
    record, unit = await picked_record(ctx, data)
    why = await evaluation_block(ctx, unit, record)
    if why is not None:
        raise InputError(why)
    return record, unit


def _when_multi_unit(data: Data) -> bool:
    return not data.get("_single_unit", False)


def _show_unit(_value: Any, data: Data) -> str:
    return str(data.get("_unit_name", data.get("unit")))


def _show_record(_value: Any, data: Data) -> str:
    return str(data.get("_name", data.get("record")))


async def _unit_prompt(_ctx: Ctx, data: Data) -> str:
    return f"Mô hình của đơn vị nào? (năm {data['_year']})"


def unit_step() -> Step:
    """Which unit, asked only of a person who may act for several."""
    return Step(
        key="unit",
        label="Đơn vị",
        prompt=_unit_prompt,
        choices=unit_choices,
        when=_when_multi_unit,
        after=after_menu_unit,
        show=_show_unit,
        editable=False,
        keep_hidden=True,
    )


def record_step(
    prompt: str,
    choices: Any,
    after: Any,
) -> Step:
    """Which of the unit's models of the year; ``after`` checks it may be used here."""

    async def list_prompt(_ctx: Ctx, data: Data) -> str:
        return f"{prompt} (năm {data['_year']}, {data.get('_unit_name', '')}):"

    return Step(
        key="record",
        label="Mô hình",
        prompt=list_prompt,
        choices=choices,
        after=after,
        show=_show_record,
        editable=False,
    )


async def start_pick(ctx: Ctx) -> Data | Reply:
    """Initial data of a flow that picks one of this year's models: the unit filled in when
    the person acts for one only; a reply when there is nothing to pick."""
    return await start_menu(ctx)


# --- /ketqua ---------------------------------------------------------------------------


async def results_record_choices(ctx: Ctx, data: Data) -> list[Choice]:
    records = await repo.records_of_unit(ctx.session, data["unit"], data["_year"])
    return [
        Choice(f"{r.name} — {'đã có kết quả' if r.results else 'chưa nhập kết quả'}", r.id)
        for r in records
    ]


async def after_results_record(ctx: Ctx, data: Data) -> None:
    record, _unit = await record_to_evaluate(ctx, data)
    data["_name"] = record.name
    data["_scale"] = record.scale
    # Start from what is saved: the next steps show it and offer to keep it.
    data["results"] = record.results
    data["origin"] = record.origin


async def results_prompt(_ctx: Ctx, data: Data) -> str:
    return (
        f"Tóm tắt quy mô, kết quả cụ thể đạt được năm {data['_year']} (Phụ lục 4, cột 7).\n"
        "Nêu rõ các con số: số hộ, số người tham gia, diện tích (ha), số tiền huy động, "
        "số công trình, ngày công…\n"
        "Ví dụ: 215 hộ tham gia; làm mới 1,2 km đường bê tông; huy động 350 triệu đồng "
        "và 1.200 ngày công.\n"
        f"(Quy mô đã đăng ký: {data.get('_scale') or 'chưa có'})"
    )


_results_text = text_parser(MAX_TEXT, "kết quả")


async def parse_results(ctx: Ctx, text: str, data: Data) -> str:
    value = await _results_text(ctx, text, data)
    if not any(ch.isdigit() for ch in value):
        raise InputError(
            "Kết quả cần có ít nhất một con số cụ thể (số hộ, số người tham gia, diện tích, "
            "số tiền…). Ví dụ: 120 hộ tham gia, huy động 50 triệu đồng. Vui lòng nhập lại."
        )
    return value


async def origin_prompt(_ctx: Ctx, data: Data) -> str:
    return f"Năm {data['_year']}, mô hình này là xây dựng mới hay duy trì từ năm trước?"


def _show_origin(value: Any, _data: Data) -> str:
    return ORIGIN_LABELS[Origin(value)]


def results_title(data: Data) -> str:
    return f"Kết quả “{data['_name']}”" if data.get("_name") else "Nhập kết quả mô hình"


async def finish_results(ctx: Ctx, data: Data) -> Outcome:
    assert ctx.person is not None
    if await repo.lock_record(ctx.session, data["record"]) is None:
        raise InputError("Mô hình này không còn trong danh sách.")
    record, unit = await record_to_evaluate(ctx, data)
    values = {"results": data["results"], "origin": data["origin"]}
    before = {"results": record.results, "origin": record.origin}
    changes = repo.changed_fields(before, values, values)
    if not changes:
        return Outcome([Reply("Không có thay đổi nào. Kết quả giữ nguyên như cũ.")])
    record.results = values["results"]
    record.origin = values["origin"]
    record.results_at = ctx.now
    record.updated_at = ctx.now
    await repo.audit(
        ctx.session,
        ctx.person.id,
        "results",
        "model_year",
        record.id,
        changes,
        ctx.now,
        ctx.channel,
    )
    text = "\n".join(
        [
            f"✅ Đã lưu kết quả năm {record.year} của mô hình “{record.name}” ({unit.name}):",
            f"• Kết quả: {record.results}",
            f"• Loại: {ORIGIN_LABELS[Origin(record.origin)]}",
            "",
            "Gõ /chamdiem để tự chấm điểm mô hình, /dexuat để đề xuất công nhận.",
        ]
    )
    return Outcome([Reply(text)])


RESULTS = Flow(
    name="results",
    title="Nhập kết quả mô hình",
    title_for=results_title,
    summary_title="kiểm tra lại trước khi lưu:",
    steps=(
        unit_step(),
        record_step("Chọn mô hình để nhập kết quả", results_record_choices, after_results_record),
        Step(
            key="results",
            label="Kết quả đạt được",
            prompt=results_prompt,
            parse=parse_results,
        ),
        Step(
            key="origin",
            label="Loại",
            prompt=origin_prompt,
            choices=origin_choices,
            show=_show_origin,
        ),
    ),
    finish=finish_results,
)


async def start_results(ctx: Ctx, _args: str = "") -> Data | Reply:
    refusal = await past_deadline_for_all(ctx)
    if refusal is not None:
        return Reply(refusal)
    return await start_pick(ctx)
