"""/minhchung: photos and documents attached to a model's year as evidence (minh chứng).

A person picks a model of the current year (their own units; a leader any unit below), sees
its evidence numbered with caption, date and size, opens one (the file comes back: a document
or photo on Telegram, a personal download link on Zalo), removes their own, or sends a new
photo or file with an optional caption. A file sent at the list means "add this". Files are
checked and kept by ``storage/evidence.py``.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from conversations.answers import Choice, InputError, text_parser
from conversations.commands import Command
from conversations.context import Ctx, Data
from conversations.engine import Flow, Outcome, Step
from conversations.records import checked_record, evaluating
from conversations.texts import evidence as T
from conversations.widgets import (
    Picked,
    confirm_action,
    file_input,
    model_steps,
)
from domain.messages import Document, Reply
from storage import people
from storage.evidence import (
    download_name,
    evidence_counts,
    evidence_of,
    fmt_size,
    limit_text,
    mime_of,
)
from storage.models import Evidence, ModelYear, Person, Unit

CAPTION_MAX = 1000


class EvidenceState(Picked, total=False):
    saved: int  # evidence added since /minhchung was typed
    pick: Any  # an evidence id, ADD or DONE
    file: dict[str, Any]  # the pending upload
    caption: str | None
    caption_given: bool


class ItemState(EvidenceState, total=False):
    item: int
    number: int
    action: str
    confirm_remove: bool


async def may_remove(ctx: Ctx, evidence: Evidence, unit: Unit) -> bool:
    """One's own evidence; a leader or admin over the unit any of it."""
    if ctx.person is not None and evidence.uploaded_by == ctx.person.id:
        return True
    access = await people.access_of(ctx.session, ctx.person)
    return access.can_manage(unit)


def fmt_day(ctx: Ctx, evidence: Evidence) -> str:
    return evidence.uploaded_at.astimezone(ctx.tz).strftime("%d/%m/%Y")


async def record_choices(ctx: Ctx, _data: Picked, records: list[ModelYear]) -> list[Choice]:
    counts = await evidence_counts(ctx.session, [r.id for r in records])
    return [Choice(T.record_choice(name=r.name, count=counts.get(r.id, 0)), r.id) for r in records]


def base_data(data: Any, saved: int = 0) -> Data:
    """What re-opens the model's evidence list."""
    keys = ("year", "unit", "unit_name", "record", "record_name")
    base = {k: data[k] for k in keys if k in data}
    base["saved"] = data.get("saved", 0) + saved
    return base


ADD = "add"
DONE = "done"


def evidence_text(ctx: Ctx, evidence: Evidence) -> str:
    return T.evidence_text(
        evidence.kind == "photo",
        evidence.file_name,
        evidence.caption,
        fmt_day(ctx, evidence),
        fmt_size(evidence.size),
    )


def evidence_line(ctx: Ctx, number: int, evidence: Evidence) -> str:
    return f"{number}. {evidence_text(ctx, evidence)}"


async def pick_prompt(ctx: Ctx, data: ItemState) -> str:
    record, unit = await checked_record(ctx, data)
    items = await evidence_of(ctx.session, record.id)
    lines = [T.list_heading(name=record.name, unit_name=unit.name, year=record.year)]
    if items:
        lines.append(T.count_heading(count=len(items)))
        lines += [evidence_line(ctx, i, e) for i, e in enumerate(items, 1)]
        lines.append(T.PICK_OR_SEND)
    else:
        lines.append(T.NONE_YET)
    lines.append(T.accepted(limit=limit_text(ctx.files.max_bytes)))
    return "\n".join(lines)


async def pick_choices(ctx: Ctx, data: ItemState) -> list[Choice]:
    items = await evidence_of(ctx.session, data["record"])
    choices = [Choice(T.view_choice(number=i), e.id) for i, e in enumerate(items, 1)]
    choices.append(Choice(T.ADD_CHOICE, ADD, ("them", "gui them", "them minh chung")))
    choices.append(Choice(T.DONE_CHOICE, DONE, ("dong", "xong roi", "ket thuc")))
    return choices


async def file_prompt(ctx: Ctx, data: EvidenceState) -> str:
    return T.file_prompt(name=data.get("record_name", ""), accepted=limit_text(ctx.files.max_bytes))


async def after_file(_ctx: Ctx, data: EvidenceState) -> None:
    caption = (data["file"].pop("caption", None) or "").strip()
    if caption:
        data["caption"] = caption[:CAPTION_MAX]
        data["caption_given"] = True
    else:
        data.pop("caption", None)
        data.pop("caption_given", None)


def _show_file(value: Any, _data: Data) -> str:
    size = fmt_size(int(value.get("size", 0)))
    return T.file_shown(value.get("kind") == "photo", value.get("file_name"), size)


def evidence_title(data: Any) -> str:
    return T.title(data.get("record_name"))


async def finish_evidence(ctx: Ctx, data: ItemState) -> Outcome:
    assert ctx.person is not None
    record, _unit = await checked_record(ctx, data)
    pick = data["pick"]
    if pick == DONE:
        return Outcome([Reply(T.DONE)])
    store = ctx.files
    if pick == ADD:
        upload = data["file"]
        relative = await asyncio.to_thread(store.place, upload, record.year, record.id)
        evidence = Evidence(
            model_year_id=record.id,
            kind=upload["kind"],
            path=relative,
            file_name=upload.get("file_name"),
            mime_type=upload["mime"],
            size=int(upload["size"]),
            caption=data.get("caption"),
            uploaded_by=ctx.person.id,
            uploaded_via=ctx.channel,
            uploaded_at=ctx.now,
        )
        ctx.session.add(evidence)
        await ctx.session.flush()
        await ctx.audit(
            "add_evidence",
            "evidence",
            evidence.id,
            {
                "model_year": record.id,
                "kind": evidence.kind,
                "file_name": evidence.file_name,
                "size": evidence.size,
                "caption": evidence.caption,
            },
        )
        number = len(await evidence_of(ctx.session, record.id))
        size = fmt_size(evidence.size)
        text = T.saved(number, evidence.kind == "photo", evidence.file_name, size, record.name)
        return Outcome([Reply(text)], then=("evidence", base_data(data, saved=1), False))
    chosen = await ctx.session.get(Evidence, pick)
    if chosen is None or chosen.model_year_id != record.id:
        raise InputError(T.GONE_PICK_AGAIN)
    items = await evidence_of(ctx.session, record.id)
    number = next(i for i, e in enumerate(items, 1) if e.id == chosen.id)
    path = store.path_of(chosen)
    try:
        content = await asyncio.to_thread(path.read_bytes)
    except OSError:
        content = None
    item = {**base_data(data), "item": chosen.id, "number": number}
    heading = evidence_line(ctx, number, chosen)
    if content is None:
        reply = Reply(f"{heading}\n{T.FILE_MISSING}")
    else:
        reply = Reply(
            heading, document=Document(download_name(chosen, number), content, mime_of(chosen))
        )
    return Outcome([reply], then=("evidence_item", item, False))


# The list of a model's evidence and one piece of it are one screen to the person: the same
# heading, no step numbers, no summary to confirm.
evidence_screen = partial(
    Flow, title="Minh chứng", title_for=evidence_title, confirm=False, numbered=False
)

EVIDENCE = evidence_screen(
    name="evidence",
    kept_on_cancel=lambda d: T.kept(saved=d["saved"]) if d.get("saved") else None,
    steps=(
        *model_steps(T.UNIT, T.PICK, record_choices),
        Step(
            key="pick",
            label="Thao tác",
            prompt=pick_prompt,
            choices=pick_choices,
            resting=True,
            on_file=ADD,
        ),
        file_input(
            "file",
            "Tệp",
            file_prompt,
            show=_show_file,
            after=after_file,
            when=lambda d: d.get("pick") == ADD,
        ),
        Step(
            key="caption",
            label="Chú thích",
            prompt=T.CAPTION,
            parse=text_parser(CAPTION_MAX, "chú thích"),
            optional=True,
            when=lambda d: d.get("pick") == ADD and not d.get("caption_given"),
            keep_hidden=True,
            follow_up=True,
        ),
    ),
    finish=finish_evidence,
)


# --- one piece of evidence: remove it, or back to the list ------------------------------


async def _item(ctx: Ctx, data: ItemState) -> tuple[Evidence, ModelYear, Unit]:
    record, unit = await checked_record(ctx, data)
    evidence = await ctx.session.get(Evidence, data["item"])
    if evidence is None or evidence.model_year_id != record.id:
        raise InputError(T.GONE)
    return evidence, record, unit


async def item_prompt(ctx: Ctx, data: ItemState) -> str:
    evidence, record, unit = await _item(ctx, data)
    sender = None
    if evidence.uploaded_by is not None:
        person = await ctx.session.get(Person, evidence.uploaded_by)
        sender = person.full_name if person else None
    lines = [T.item_heading(data["number"], record.name, sender)]
    if not await may_remove(ctx, evidence, unit):
        lines.append(T.ONLY_SENDER_REMOVES)
    lines.append(T.WHAT_NEXT)
    return "\n".join(lines)


async def item_choices(ctx: Ctx, data: ItemState) -> list[Choice]:
    evidence, _record, unit = await _item(ctx, data)
    choices = []
    if await may_remove(ctx, evidence, unit):
        choices.append(Choice(T.REMOVE_CHOICE, "remove", ("xoa",)))
    choices.append(Choice(T.LIST_CHOICE, "list", ("danh sach", "ve danh sach")))
    choices.append(Choice(T.DONE_CHOICE, DONE, ("dong", "xong roi", "ket thuc")))
    return choices


async def remove_prompt(ctx: Ctx, data: ItemState) -> str:
    evidence, record, _unit = await _item(ctx, data)
    return T.remove_prompt(
        number=data["number"], evidence=evidence_text(ctx, evidence), name=record.name
    )


async def finish_item(ctx: Ctx, data: ItemState) -> Outcome:
    assert ctx.person is not None
    action = data["action"]
    if action == DONE:
        return Outcome([Reply(T.DONE)])
    back = ("evidence", base_data(data), False)
    if action == "list":
        return Outcome([], then=back)
    evidence, record, unit = await _item(ctx, data)
    if not data.get("confirm_remove"):
        return Outcome([Reply(T.NOT_REMOVED)], then=back)
    if not await may_remove(ctx, evidence, unit):
        raise InputError(T.ONLY_SENDER_REMOVES)
    path = ctx.files.path_of(evidence)
    details = {
        "model_year": record.id,
        "path": evidence.path,
        "file_name": evidence.file_name,
        "caption": evidence.caption,
        "uploaded_by": evidence.uploaded_by,
    }
    await ctx.session.delete(evidence)
    await ctx.session.flush()
    await ctx.audit("remove_evidence", "evidence", data["item"], details)
    await asyncio.to_thread(path.unlink, True)
    return Outcome([Reply(T.removed(number=data["number"], name=record.name))], then=back)


EVIDENCE_ITEM = evidence_screen(
    name="evidence_item",
    steps=(
        Step(
            key="action",
            label="Thao tác",
            prompt=item_prompt,
            choices=item_choices,
            resting=True,
        ),
        confirm_action("remove", "Xác nhận xóa", remove_prompt, T.YES_REMOVE, "xoa"),
    ),
    finish=finish_item,
)


FLOWS = (EVIDENCE, EVIDENCE_ITEM)
COMMANDS = (
    Command(
        "minhchung",
        "Gửi, xem minh chứng (ảnh, tệp) của mô hình",
        order=140,
        flow="evidence",
        start=evaluating("gửi minh chứng"),
        phrases=(
            "minhchung",
            "minh chung",
            "gui anh",
            "gui minh chung",
            "anh minh chung",
            "gui tep",
        ),
    ),
)
