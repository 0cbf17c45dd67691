"""/minhchung: photos and documents attached to a model's year as evidence (minh chứng).

A person picks a model of the current year (their own units; a leader any unit below), sees
its evidence numbered with caption, date and size, opens one (the file comes back: a document
or photo on Telegram, a personal download link on Zalo), removes their own, or sends a new
photo or file with an optional caption.

Files arrive as attachments, which the flow engine does not take as answers: the core hands an
attachment met in this flow to :func:`take_upload`, which offers it to the "file" step through
a context variable (the engine then walks on exactly as for a typed answer: history, progress,
the next step). An upload is checked (size, type by its first bytes) and copied to
``FILES_DIR/evidence/pending/`` at once; saving moves it to
``FILES_DIR/evidence/<year>/<model_year_id>/``. A flow cancelled in between leaves only a pending
copy, removed after a day.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import time
import zipfile
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.engine import (
    Choice,
    Ctx,
    Data,
    Flow,
    FlowEngine,
    InputError,
    Outcome,
    Step,
    text_parser,
)
from domain.catalog import RecordState
from domain.messages import Attachment, Document, IncomingMessage, Reply
from storage import repo
from storage.models import ConversationState, DvkModel, Evidence, ModelYear, Person, Unit

MB = 1024 * 1024
DEFAULT_MAX_MB = 20.0
PENDING_TTL = 24 * 3600  # seconds an upload of a cancelled flow is kept
CAPTION_MAX = 1000
UPLOAD_TEXT = "[tệp đính kèm]"  # what the engine sees in place of an attachment


# --- file types and limits -----------------------------------------------------------------


@dataclass(frozen=True)
class FileType:
    ext: str
    mime: str
    kind: str  # photo | document
    label: str


JPEG = FileType(".jpg", "image/jpeg", "photo", "JPEG")
PNG = FileType(".png", "image/png", "photo", "PNG")
WEBP = FileType(".webp", "image/webp", "photo", "WEBP")
PDF = FileType(".pdf", "application/pdf", "document", "PDF")
DOC = FileType(".doc", "application/msword", "document", "Word")
DOCX = FileType(
    ".docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "document",
    "Word",
)
XLS = FileType(".xls", "application/vnd.ms-excel", "document", "Excel")
XLSX = FileType(
    ".xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "document",
    "Excel",
)
FILE_TYPES = (JPEG, PNG, WEBP, PDF, DOC, DOCX, XLS, XLSX)
ALLOWED_TEXT = "ảnh JPEG, PNG, WEBP; tệp PDF, Word (DOC, DOCX), Excel (XLS, XLSX)"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def fmt_size(size: int) -> str:
    """Vietnamese style: "850 KB", "1,2 MB", "20 MB"."""
    if size < MB:
        return f"{max(1, -(-size // 1024))} KB"
    text = f"{size / MB:.1f}".replace(".", ",")
    return text.removesuffix(",0") + " MB"


def limit_text(max_bytes: int) -> str:
    return f"{ALLOWED_TEXT}; mỗi tệp tối đa {fmt_size(max_bytes)}"


def _what(file_name: str | None) -> str:
    return f"Tệp “{file_name}”" if file_name else "Ảnh này"


def too_large_text(file_name: str | None, size: int, max_bytes: int) -> str:
    return (
        f"{_what(file_name)} nặng {fmt_size(size)}, vượt quá giới hạn {fmt_size(max_bytes)} "
        f"cho mỗi minh chứng nên chưa nhận được. Vui lòng gửi tệp nhỏ hơn ({ALLOWED_TEXT})."
    )


def sniff(path: Path, file_name: str | None) -> FileType | None:
    """The type of a file by its first bytes (a name can lie); Word and Excel files of the
    old kind share one signature, so there the name decides."""
    with path.open("rb") as f:
        head = f.read(16)
    suffix = Path(file_name or "").suffix.lower()
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.lstrip(b"\xef\xbb\xbf\r\n\t ").startswith(b"%PDF-"):
        return PDF
    if head.startswith(_OLE):
        return {".doc": DOC, ".xls": XLS}.get(suffix)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError):
            return None
        if any(n.startswith("word/") for n in names):
            return DOCX
        if any(n.startswith("xl/") for n in names):
            return XLSX
    return None


# --- where files live --------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceStore:
    """FILES_DIR and the size limit, given to the flow by the core for each message."""

    files_dir: Path = Path("dvk-files")
    max_bytes: int = int(DEFAULT_MAX_MB * MB)

    @property
    def pending_dir(self) -> Path:
        return self.files_dir / "evidence" / "pending"

    def path_of(self, evidence: Evidence) -> Path:
        return self.files_dir / evidence.path

    def accept(self, attachment: Attachment) -> Data:
        """Check an incoming file and keep a copy; raises InputError with the reason."""
        if attachment.kind not in ("photo", "document"):
            raise InputError(
                "Nhãn dán, tin nhắn thoại hay loại tin này không dùng làm minh chứng được. "
                f"Vui lòng gửi ảnh hoặc tệp ({limit_text(self.max_bytes)})."
            )
        name = attachment.file_name
        source = Path(attachment.path) if attachment.path else None
        if source is None or not source.is_file():
            raise InputError(
                "Trợ lý chưa nhận được ảnh hoặc tệp này. Vui lòng gửi lại "
                f"({limit_text(self.max_bytes)})."
            )
        size = source.stat().st_size
        if size > self.max_bytes:
            raise InputError(too_large_text(name, size, self.max_bytes))
        if size == 0:
            raise InputError(f"{_what(name)} trống. Vui lòng gửi lại.")
        file_type = sniff(source, attachment.file_name)
        if file_type is None:
            raise InputError(
                f"{_what(name)} không thuộc loại được nhận. Minh chứng chỉ nhận "
                f"{limit_text(self.max_bytes)}. Vui lòng gửi lại tệp đúng loại."
            )
        self.pending_dir.mkdir(parents=True, exist_ok=True)
        self._prune_pending()
        token = secrets.token_urlsafe(12)
        # A copy, not a move: if the transaction is retried the attachment is read again.
        shutil.copyfile(source, self.pending_dir / f"{token}{file_type.ext}")
        return {
            "token": token,
            "ext": file_type.ext,
            "mime": file_type.mime,
            "kind": file_type.kind,
            "size": size,
            "file_name": attachment.file_name,
        }

    def place(self, upload: Data, year: int, record_id: int) -> str:
        """Move a pending upload to its model's folder; the path relative to FILES_DIR."""
        relative = (
            Path("evidence") / str(year) / str(record_id) / f"{upload['token']}{upload['ext']}"
        )
        target = self.files_dir / relative
        if not target.exists():  # the same message handled again after a retry
            pending = self.pending_dir / f"{upload['token']}{upload['ext']}"
            if not pending.is_file():
                raise InputError("Tệp vừa gửi không còn trên máy chủ. Vui lòng gửi lại.")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pending, target)
            pending.unlink(missing_ok=True)
        return relative.as_posix()

    def _prune_pending(self) -> None:
        cutoff = time.time() - PENDING_TTL
        for path in self.pending_dir.iterdir():
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()


_STORE: ContextVar[EvidenceStore | None] = ContextVar("evidence_store", default=None)
_UPLOAD: ContextVar[tuple[Attachment, str | None] | None] = ContextVar("upload", default=None)


@contextlib.contextmanager
def using_store(store: EvidenceStore) -> Iterator[None]:
    """Make ``store`` the one this message's flows use (set by the core per message)."""
    token = _STORE.set(store)
    try:
        yield
    finally:
        _STORE.reset(token)


def current_store() -> EvidenceStore:
    return _STORE.get() or EvidenceStore()


# --- queries -------------------------------------------------------------------------------


async def units_with_models(ctx: Ctx, year: int) -> list[Unit]:
    """The units this person may act for that have active models in ``year``, in tree order."""
    access = await repo.access_of(ctx.session, ctx.person)
    units = await repo.usable_units(ctx.session, access)
    if not units:
        return []
    having = set(
        (
            await ctx.session.scalars(
                select(DvkModel.unit_id)
                .join(ModelYear, ModelYear.model_id == DvkModel.id)
                .where(
                    ModelYear.year == year,
                    ModelYear.state == RecordState.ACTIVE.value,
                    DvkModel.unit_id.in_([u.id for u in units]),
                )
                .distinct()
            )
        ).all()
    )
    return [u for u in units if u.id in having]


async def checked_record(ctx: Ctx, data: Data) -> tuple[ModelYear, Unit]:
    """The chosen model, if it is still on the list and this person may act for its unit."""
    record = await ctx.session.get(ModelYear, data["record"])
    if record is None or record.state != RecordState.ACTIVE.value:
        raise InputError("Mô hình này không còn trong danh sách.")
    unit = await repo.unit_of_record(ctx.session, record)
    access = await repo.access_of(ctx.session, ctx.person)
    if not access.can_use(unit) or unit.id != data.get("unit", unit.id):
        raise InputError("Bạn không có quyền với mô hình này.")
    return record, unit


async def evidence_of(session: AsyncSession, record_id: int) -> list[Evidence]:
    rows = await session.scalars(
        select(Evidence)
        .where(Evidence.model_year_id == record_id)
        .order_by(Evidence.uploaded_at, Evidence.id)
    )
    return list(rows.all())


async def evidence_counts(session: AsyncSession, record_ids: list[int]) -> dict[int, int]:
    if not record_ids:
        return {}
    rows = await session.execute(
        select(Evidence.model_year_id, func.count())
        .where(Evidence.model_year_id.in_(record_ids))
        .group_by(Evidence.model_year_id)
    )
    return {rid: int(n) for rid, n in rows.all()}


async def may_remove(ctx: Ctx, evidence: Evidence, unit: Unit) -> bool:
    """One's own evidence; a leader or admin over the unit any of it."""
    if ctx.person is not None and evidence.uploaded_by == ctx.person.id:
        return True
    access = await repo.access_of(ctx.session, ctx.person)
    return access.can_manage(unit)


# --- shared steps: the unit, then the model -------------------------------------------------


def fmt_day(ctx: Ctx, evidence: Evidence) -> str:
    return evidence.uploaded_at.astimezone(ctx.tz).strftime("%d/%m/%Y")


async def unit_choices(ctx: Ctx, data: Data) -> list[Choice]:
    return [Choice(u.name, u.id) for u in await units_with_models(ctx, data["_year"])]


async def after_unit(ctx: Ctx, data: Data) -> None:
    unit = await ctx.session.get(Unit, data["unit"])
    access = await repo.access_of(ctx.session, ctx.person)
    if unit is None or not access.can_use(unit):
        raise InputError("Bạn không có quyền với đơn vị này.")
    data["_unit_name"] = unit.name
    if not await repo.records_of_unit(ctx.session, unit.id, data["_year"]):
        raise InputError(f"{unit.name} chưa có mô hình nào năm {data['_year']}. Chọn đơn vị khác.")


async def record_choices(ctx: Ctx, data: Data) -> list[Choice]:
    records = await repo.records_of_unit(ctx.session, data["unit"], data["_year"])
    counts = await evidence_counts(ctx.session, [r.id for r in records])
    return [Choice(f"{r.name} ({counts.get(r.id, 0)} minh chứng)", r.id) for r in records]


async def record_prompt(_ctx: Ctx, data: Data) -> str:
    return f"Mô hình nào của {data.get('_unit_name', 'đơn vị')}? (năm {data['_year']})"


async def after_record(ctx: Ctx, data: Data) -> None:
    record, _unit = await checked_record(ctx, data)
    data["_name"] = record.name


def unit_step(prompt: str) -> Step:
    return Step(
        key="unit",
        label="Đơn vị",
        prompt=prompt,
        choices=unit_choices,
        when=lambda d: not d.get("_single_unit", False),
        show=lambda _v, d: str(d.get("_unit_name", "")),
        after=after_unit,
        editable=False,
        keep_hidden=True,
    )


def record_step() -> Step:
    return Step(
        key="record",
        label="Mô hình",
        prompt=record_prompt,
        choices=record_choices,
        show=lambda _v, d: str(d.get("_name", "")),
        after=after_record,
        editable=False,
        keep_hidden=True,
    )


async def start_picking(ctx: Ctx, what: str) -> Data | Reply:
    """Initial data of a flow over one model of this year: the unit and the model filled in
    when there is only one choice."""
    year = ctx.local_now.year
    units = await units_with_models(ctx, year)
    if not units:
        access = await repo.access_of(ctx.session, ctx.person)
        if not access.is_known:
            return Reply("Bạn chưa thuộc đơn vị nào.")
        return Reply(
            f"Chưa có mô hình nào năm {year} để {what}. Gõ /dangky để đăng ký mô hình trước."
        )
    data: Data = {"_year": year}
    if len(units) == 1:
        data.update(unit=units[0].id, _single_unit=True, _unit_name=units[0].name)
        records = await repo.records_of_unit(ctx.session, units[0].id, year)
        if len(records) == 1:
            data.update(record=records[0].id, _name=records[0].name)
    return data


def base_data(data: Data) -> Data:
    """What re-opens the model's evidence list."""
    keys = ("_year", "unit", "_single_unit", "_unit_name", "record", "_name")
    return {k: data[k] for k in keys if k in data}


# --- /minhchung ------------------------------------------------------------------------------

ADD = "add"
DONE = "done"


def evidence_text(ctx: Ctx, evidence: Evidence) -> str:
    icon = "📷 Ảnh" if evidence.kind == "photo" else f"📄 {evidence.file_name or 'Tệp'}"
    caption = f" — “{evidence.caption}”" if evidence.caption else ""
    return f"{icon}{caption} — {fmt_day(ctx, evidence)} — {fmt_size(evidence.size)}"


def evidence_line(ctx: Ctx, number: int, evidence: Evidence) -> str:
    return f"{number}. {evidence_text(ctx, evidence)}"


async def pick_prompt(ctx: Ctx, data: Data) -> str:
    record, unit = await checked_record(ctx, data)
    items = await evidence_of(ctx.session, record.id)
    lines = [f"Mô hình “{record.name}” — {unit.name}, năm {record.year}."]
    if items:
        lines.append(f"Minh chứng đã có ({len(items)}):")
        lines += [evidence_line(ctx, i, e) for i, e in enumerate(items, 1)]
        lines.append("Chọn một minh chứng để xem (hoặc xóa), hoặc gửi ngay ảnh, tệp để thêm.")
    else:
        lines.append("Chưa có minh chứng nào. Gửi ngay ảnh hoặc tệp để thêm.")
    lines.append(f"(Nhận {limit_text(current_store().max_bytes)}.)")
    return "\n".join(lines)


async def pick_choices(ctx: Ctx, data: Data) -> list[Choice]:
    items = await evidence_of(ctx.session, data["record"])
    choices = [Choice(f"Xem minh chứng {i}", e.id) for i, e in enumerate(items, 1)]
    choices.append(Choice("➕ Gửi thêm minh chứng", ADD, ("them", "gui them", "them minh chung")))
    choices.append(Choice("Xong", DONE, ("dong", "xong roi", "ket thuc")))
    return choices


async def file_prompt(_ctx: Ctx, data: Data) -> str:
    return (
        f"Gửi ảnh hoặc tệp minh chứng cho mô hình “{data.get('_name', '')}” "
        f"({limit_text(current_store().max_bytes)}). "
        "Có thể ghi chú thích ngay trong tin nhắn gửi ảnh."
    )


async def parse_file(_ctx: Ctx, _text: str, _data: Data) -> Data:
    upload = _UPLOAD.get()
    if upload is None:
        raise InputError(
            "Ở bước này cần gửi ảnh hoặc tệp (bấm biểu tượng đính kèm), không phải chữ. "
            f"Nhận {limit_text(current_store().max_bytes)}."
        )
    attachment, caption = upload
    accepted = await asyncio.to_thread(current_store().accept, attachment)
    accepted["caption"] = caption
    return accepted


async def after_file(_ctx: Ctx, data: Data) -> None:
    caption = (data["file"].pop("caption", None) or "").strip()
    if caption:
        data["caption"] = caption[:CAPTION_MAX]
        data["_caption_given"] = True
    else:
        data.pop("caption", None)
        data.pop("_caption_given", None)


def _show_file(value: Any, _data: Data) -> str:
    name = value.get("file_name") or ("ảnh" if value.get("kind") == "photo" else "tệp")
    return f"{name} ({fmt_size(int(value.get('size', 0)))})"


def evidence_title(data: Data) -> str:
    return f"Minh chứng — {data['_name']}" if data.get("_name") else "Minh chứng"


async def finish_evidence(ctx: Ctx, data: Data) -> Outcome:
    assert ctx.person is not None
    record, _unit = await checked_record(ctx, data)
    pick = data["pick"]
    if pick == DONE:
        return Outcome([Reply("Xong. Gõ /minhchung để xem hoặc gửi thêm minh chứng.")])
    store = current_store()
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
        await repo.audit(
            ctx.session,
            ctx.person.id,
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
            ctx.now,
            ctx.channel,
        )
        number = len(await evidence_of(ctx.session, record.id))
        what = "ảnh" if evidence.kind == "photo" else f"tệp {evidence.file_name or ''}".strip()
        text = f"✅ Đã lưu minh chứng số {number} ({what}, {fmt_size(evidence.size)})"
        text += f" cho mô hình “{record.name}”."
        return Outcome([Reply(text)], then=("evidence", base_data(data), False))
    chosen = await ctx.session.get(Evidence, pick)
    if chosen is None or chosen.model_year_id != record.id:
        raise InputError("Minh chứng này không còn. Vui lòng chọn lại.")
    items = await evidence_of(ctx.session, record.id)
    number = next(i for i, e in enumerate(items, 1) if e.id == chosen.id)
    path = store.path_of(chosen)
    try:
        content = await asyncio.to_thread(path.read_bytes)
    except OSError:
        content = None
    item = {**base_data(data), "item": chosen.id, "_number": number}
    heading = evidence_line(ctx, number, chosen)
    if content is None:
        reply = Reply(f"{heading}\nTệp này không còn trên máy chủ; có thể xóa rồi gửi lại.")
    else:
        reply = Reply(
            heading, document=Document(download_name(chosen, number), content, mime_of(chosen))
        )
    return Outcome([reply], then=("evidence_item", item, False))


def mime_of(evidence: Evidence) -> str:
    return evidence.mime_type or "application/octet-stream"


def download_name(evidence: Evidence, number: int) -> str:
    if evidence.file_name:
        return evidence.file_name
    return f"minh_chung_{evidence.model_year_id}_{number}{Path(evidence.path).suffix}"


EVIDENCE = Flow(
    name="evidence",
    title="Minh chứng",
    title_for=evidence_title,
    confirm=False,
    steps=(
        unit_step("Minh chứng cho mô hình của đơn vị nào?"),
        record_step(),
        Step(key="pick", label="Thao tác", prompt=pick_prompt, choices=pick_choices),
        Step(
            key="file",
            label="Tệp",
            prompt=file_prompt,
            parse=parse_file,
            show=_show_file,
            after=after_file,
            when=lambda d: d.get("pick") == ADD,
        ),
        Step(
            key="caption",
            label="Chú thích",
            prompt="Chú thích cho minh chứng này (ví dụ: Ra quân vệ sinh môi trường tổ 5, "
            "ngày 12/3)? Gõ “bỏ qua” nếu không cần.",
            parse=text_parser(CAPTION_MAX, "chú thích"),
            optional=True,
            when=lambda d: d.get("pick") == ADD and not d.get("_caption_given"),
            keep_hidden=True,
        ),
    ),
    finish=finish_evidence,
)


# --- one piece of evidence: remove it, or back to the list -------------------------------------


async def _item(ctx: Ctx, data: Data) -> tuple[Evidence, ModelYear, Unit]:
    record, unit = await checked_record(ctx, data)
    evidence = await ctx.session.get(Evidence, data["item"])
    if evidence is None or evidence.model_year_id != record.id:
        raise InputError("Minh chứng này không còn.")
    return evidence, record, unit


async def item_prompt(ctx: Ctx, data: Data) -> str:
    evidence, record, unit = await _item(ctx, data)
    who = ""
    if evidence.uploaded_by is not None:
        person = await ctx.session.get(Person, evidence.uploaded_by)
        who = f" (gửi bởi {person.full_name})" if person else ""
    lines = [f"Minh chứng số {data['_number']} của mô hình “{record.name}”{who}."]
    if not await may_remove(ctx, evidence, unit):
        lines.append("Chỉ người gửi hoặc lãnh đạo đơn vị mới xóa được minh chứng này.")
    lines.append("Bạn muốn làm gì tiếp?")
    return "\n".join(lines)


async def item_choices(ctx: Ctx, data: Data) -> list[Choice]:
    evidence, _record, unit = await _item(ctx, data)
    choices = []
    if await may_remove(ctx, evidence, unit):
        choices.append(Choice("Xóa minh chứng này", "remove", ("xoa",)))
    choices.append(Choice("Về danh sách minh chứng", "list", ("danh sach", "ve danh sach")))
    choices.append(Choice("Xong", DONE, ("dong", "xong roi", "ket thuc")))
    return choices


async def remove_prompt(ctx: Ctx, data: Data) -> str:
    evidence, record, _unit = await _item(ctx, data)
    return (
        f"Xóa minh chứng số {data['_number']} ({evidence_text(ctx, evidence)}) "
        f"khỏi mô hình “{record.name}”? Thao tác này được ghi lại."
    )


REMOVE_CHOICES = (
    Choice("Có, xóa", True, ("co", "dong y", "xoa")),
    Choice("Không", False, ("khong", "thoi")),
)


async def finish_item(ctx: Ctx, data: Data) -> Outcome:
    assert ctx.person is not None
    action = data["action"]
    if action == DONE:
        return Outcome([Reply("Xong. Gõ /minhchung để xem hoặc gửi thêm minh chứng.")])
    back = ("evidence", base_data(data), False)
    if action == "list":
        return Outcome([], then=back)
    evidence, record, unit = await _item(ctx, data)
    if not data.get("confirm_remove"):
        return Outcome([Reply("Đã giữ nguyên minh chứng, không xóa.")], then=back)
    if not await may_remove(ctx, evidence, unit):
        raise InputError("Chỉ người gửi hoặc lãnh đạo đơn vị mới xóa được minh chứng này.")
    path = current_store().path_of(evidence)
    details = {
        "model_year": record.id,
        "path": evidence.path,
        "file_name": evidence.file_name,
        "caption": evidence.caption,
        "uploaded_by": evidence.uploaded_by,
    }
    await ctx.session.delete(evidence)
    await ctx.session.flush()
    await repo.audit(
        ctx.session,
        ctx.person.id,
        "remove_evidence",
        "evidence",
        data["item"],
        details,
        ctx.now,
        ctx.channel,
    )
    await asyncio.to_thread(path.unlink, True)
    return Outcome(
        [Reply(f"Đã xóa minh chứng số {data['_number']} của mô hình “{record.name}”.")],
        then=back,
    )


EVIDENCE_ITEM = Flow(
    name="evidence_item",
    title="Minh chứng",
    title_for=evidence_title,
    confirm=False,
    steps=(
        Step(key="action", label="Thao tác", prompt=item_prompt, choices=item_choices),
        Step(
            key="confirm_remove",
            label="Xác nhận xóa",
            prompt=remove_prompt,
            choices=REMOVE_CHOICES,
            when=lambda d: d.get("action") == "remove",
        ),
    ),
    finish=finish_item,
)

EVIDENCE_FLOWS = (EVIDENCE, EVIDENCE_ITEM)

# Steps that are a menu: nothing half-written is lost if another command closes them.
_RESTING = {("evidence", "pick"), ("evidence_item", "action")}


def is_resting(row: ConversationState) -> bool:
    return (row.flow, row.data.get("step")) in _RESTING


async def start_evidence(ctx: Ctx, _args: str = "") -> Data | Reply:
    return await start_picking(ctx, "gửi minh chứng")


async def take_upload(
    engine: FlowEngine, ctx: Ctx, row: ConversationState, msg: IncomingMessage
) -> list[Reply]:
    """An attachment sent while /minhchung is open: at the list it means “add this”, at the
    file step it is the answer; anywhere else the engine refuses it as usual."""
    assert msg.attachment is not None
    sendable = msg.attachment.kind in ("photo", "document")
    if sendable and row.flow == "evidence" and row.data.get("step") == "pick":
        replies = await engine.handle(
            ctx, row, IncomingMessage(ctx.channel, ctx.user_id, ctx.chat_id, text="them")
        )
        if row.flow != "evidence" or row.data.get("step") != "file":
            return replies
    if row.flow != "evidence" or row.data.get("step") != "file":
        return await engine.handle(ctx, row, msg)
    token = _UPLOAD.set((msg.attachment, msg.text))
    try:
        return await engine.handle(ctx, row, replace(msg, text=UPLOAD_TEXT, attachment=None))
    finally:
        _UPLOAD.reset(token)


__all__ = [
    "EVIDENCE_FLOWS",
    "EvidenceStore",
    "current_store",
    "fmt_size",
    "is_resting",
    "limit_text",
    "start_evidence",
    "take_upload",
    "too_large_text",
    "using_store",
]
