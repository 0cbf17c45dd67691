"""/duyet: a leader decides on the models proposed for recognition (/dexuat).

A leader or admin sees in /duyet the proposed models of their subtree only, opens one (record,
results, points, verdict) and decides: recognised, not recognised (with a reason) or removed
from the list (with a reason). The decision is checked again on saving (still proposed, still
in the leader's subtree), written to the record and the audit log, and announced to the
proposing officer and the unit's officers through the outbox on their Telegram and Zalo
accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conversations.answers import MAX_TEXT, Choice, InputError, text_parser
from conversations.commands import Audience, Command
from conversations.context import Ctx, Data
from conversations.engine import Flow, Outcome, Step
from conversations.notices import notify_officers
from conversations.records import NEEDS_REASON, detail_lines, fmt_date, review_status
from conversations.texts import common as C
from domain import rubric
from domain.catalog import RecordState, Review
from domain.messages import Reply
from storage import repo
from storage.models import ModelYear, Unit

DECISION_LABELS = {
    Review.RECOGNISED.value: "Công nhận",
    Review.NOT_RECOGNISED.value: "Không công nhận",
    Review.REMOVED.value: "Thanh loại (đưa ra khỏi danh sách)",
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


async def _pending(ctx: Ctx) -> list[tuple[ModelYear, Unit]]:
    access = await repo.access_of(ctx.session, ctx.person)
    return await repo.proposed_records(ctx.session, access.led_paths)


async def review_record_choices(ctx: Ctx, _data: Data) -> list[Choice]:
    year = ctx.local_now.year
    choices = []
    for record, unit in await _pending(ctx):
        when = "" if record.year == year else f", năm {record.year}"
        choices.append(Choice(f"{record.name} — {unit.name}{when}", record.id))
    return choices


async def review_list_prompt(ctx: Ctx, _data: Data) -> str:
    count = len(await _pending(ctx))
    return f"Mô hình đang chờ duyệt ({count}). Chọn một mô hình để xem và quyết định:"


async def _reviewable(ctx: Ctx, record_id: int) -> tuple[ModelYear, Unit]:
    """The record, if it is still proposed and in this leader's subtree."""
    record = await ctx.session.get(ModelYear, record_id)
    if record is None or record.state != RecordState.ACTIVE.value:
        raise InputError(C.GONE)
    unit = await repo.unit_of_record(ctx.session, record)
    access = await repo.access_of(ctx.session, ctx.person)
    if not access.can_manage(unit):
        raise InputError("Đồng chí không có quyền duyệt mô hình của đơn vị này.")
    if record.review != Review.PROPOSED.value:
        raise InputError(f"Mô hình “{record.name}” không còn chờ duyệt ({review_status(record)}).")
    return record, unit


async def after_review_record(ctx: Ctx, data: Data) -> None:
    record, unit = await _reviewable(ctx, data["record"])
    data["record_name"] = record.name
    data["unit_name"] = unit.name


def _show_reviewed(_value: Any, data: Data) -> str:
    return f"{data.get('record_name')} — {data.get('unit_name')}"


async def decision_prompt(ctx: Ctx, data: Data) -> str:
    record, unit = await _reviewable(ctx, data["record"])
    lines = await detail_lines(ctx, record, unit)
    return "\n".join([*lines, "", "Quyết định của đồng chí?"])


async def reason_prompt(_ctx: Ctx, data: Data) -> str:
    if data.get("decision") == Review.REMOVED.value:
        return "Lý do thanh loại mô hình? (sẽ gửi cho cán bộ phụ trách của đơn vị)"
    return (
        "Lý do không công nhận? Nêu rõ cần bổ sung, sửa gì để đơn vị có thể đề xuất lại "
        "(sẽ gửi cho cán bộ phụ trách)."
    )


def _show_decision(value: Any, _data: Data) -> str:
    return DECISION_LABELS.get(str(value), str(value))


def notice_text(
    decision: str, record: ModelYear, unit: Unit, reason: str | None, leader: str, day: str
) -> str:
    what = f"Mô hình “{record.name}” của {unit.name} (năm {record.year})"
    who = f"Người duyệt: {leader}, ngày {day}."
    if decision == Review.RECOGNISED.value:
        return f"🎉 {what} đã được công nhận là mô hình “Dân vận khéo”. {who}"
    if decision == Review.NOT_RECOGNISED.value:
        return (
            f"{what} chưa được công nhận. Lý do: {reason}\n{who}\n"
            "Đơn vị có thể bổ sung kết quả (/ketqua), chấm lại điểm (/chamdiem) rồi đề xuất "
            "lại (/dexuat)."
        )
    return (
        f"{what} đã bị thanh loại (đưa ra khỏi danh sách). Lý do: {reason}\n{who}\n"
        "Mô hình này sẽ không được đưa vào danh sách duy trì năm sau."
    )


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
    record = await repo.lock_record(ctx.session, data["record"])
    if record is None or record.state != RecordState.ACTIVE.value:
        return Outcome([Reply("Mô hình này không còn trong danh sách. Không có gì thay đổi.")])
    unit = await repo.unit_of_record(ctx.session, record)
    access = await repo.access_of(ctx.session, ctx.person)
    if not access.can_manage(unit):
        # Checked again on saving: a list seen earlier grants nothing.
        return Outcome([Reply("Đồng chí không có quyền duyệt mô hình của đơn vị này.")])
    if record.review != Review.PROPOSED.value:
        return Outcome(
            [
                Reply(
                    f"Mô hình “{record.name}” không còn chờ duyệt ({review_status(record)}), "
                    "có thể vì đã được quyết định từ nơi khác. Không có gì thay đổi."
                )
            ]
        )
    decision = data["decision"]
    reason = data.get("reason") if decision in NEEDS_REASON else None
    if decision in NEEDS_REASON and not reason:
        raise InputError("Vui lòng nhập lý do.")
    if decision == Review.RECOGNISED.value:
        points = (await repo.scores_of(ctx.session, [record.id])).get(record.id, {})
        result = rubric.verdict(points, record.subject)
        if not result.passed or result.missing:
            raise InputError(
                f"Không công nhận được: điểm tự chấm hiện tại {rubric.verdict_text(result)}. "
                "Chọn “Không công nhận” và nêu lý do để đơn vị chấm lại."
            )
    record.review = decision
    record.review_reason = reason
    record.reviewed_at = ctx.now
    record.reviewed_by = ctx.person.id
    record.updated_at = ctx.now
    await repo.audit(
        ctx.session,
        ctx.person.id,
        "review",
        "model_year",
        record.id,
        {
            "decision": decision,
            "reason": reason,
            "unit": unit.id,
            "proposed_by": record.proposed_by,
        },
        ctx.now,
        ctx.channel,
    )
    names = await notify(ctx, record, unit, decision, reason)
    told = (
        f"Đã gửi thông báo cho: {_names(names)}."
        if names
        else "Không có cán bộ phụ trách nào có tài khoản Telegram hoặc Zalo để nhận thông báo."
    )
    lines = [
        f"✅ Đã ghi quyết định: mô hình “{record.name}” ({unit.name}, năm {record.year}) — "
        f"{DECISION_LABELS[decision]}.",
    ]
    if reason:
        lines.append(f"Lý do: {reason}")
    lines += [told, "Gõ /duyet để xem các mô hình còn chờ duyệt."]
    return Outcome([Reply("\n".join(lines))])


REVIEW = Flow(
    name="review",
    title="Duyệt mô hình",
    confirm_label="Xác nhận",
    summary_title="kiểm tra lại trước khi xác nhận:",
    steps=(
        Step(
            key="record",
            label="Mô hình",
            prompt=review_list_prompt,
            choices=review_record_choices,
            after=after_review_record,
            show=_show_reviewed,
            editable=False,
            auto_single=True,
            auto_note=lambda c, _d: f"Mô hình chờ duyệt duy nhất: {c.label}.",
        ),
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
    ),
    finish=finish_review,
)


async def start_review(ctx: Ctx, _args: str = "") -> Data | Reply:
    if not await _pending(ctx):
        return Reply(
            "Hiện không có mô hình nào đang chờ duyệt trong các đơn vị đồng chí phụ trách."
        )
    return {}


FLOWS = (REVIEW,)
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
)
