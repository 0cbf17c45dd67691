"""Evidence (minh chứng) on disk and in the database: which files are accepted (by their first
bytes, not their names), where they are kept, and the queries over a model's evidence.

An upload is checked (size, type) and copied to ``FILES_DIR/evidence/pending/`` at once;
saving moves it to ``FILES_DIR/evidence/<year>/<model_year_id>/``. A flow cancelled in between
leaves only a pending copy, removed after a day.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.messages import Attachment
from storage.models import Evidence


class FileRefused(Exception):
    """An incoming file that cannot be evidence; the message says why, for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


MB = 1024 * 1024
DEFAULT_MAX_MB = 20.0
PENDING_TTL = 24 * 3600  # seconds an upload of a cancelled flow is kept


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
OFFICE_XML = "application/vnd.openxmlformats-officedocument"  # the DOCX and XLSX types' stem
DOCX = FileType(".docx", f"{OFFICE_XML}.wordprocessingml.document", "document", "Word")
XLS = FileType(".xls", "application/vnd.ms-excel", "document", "Excel")
XLSX = FileType(".xlsx", f"{OFFICE_XML}.spreadsheetml.sheet", "document", "Excel")
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


# --- where files live ------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceStore:
    """Where evidence files live (under FILES_DIR) and how large one may be."""

    files_dir: Path = Path("dvk-files")
    max_bytes: int = int(DEFAULT_MAX_MB * MB)

    @property
    def pending_dir(self) -> Path:
        return self.files_dir / "evidence" / "pending"

    def path_of(self, evidence: Evidence) -> Path:
        return self.files_dir / evidence.path

    def accept(self, attachment: Attachment) -> dict[str, Any]:
        """Check an incoming file and keep a copy; raises FileRefused with the reason."""
        if attachment.kind not in ("photo", "document"):
            raise FileRefused(
                "Nhãn dán, tin nhắn thoại hay loại tin này không dùng làm minh chứng được. "
                f"Vui lòng gửi ảnh hoặc tệp ({limit_text(self.max_bytes)})."
            )
        name = attachment.file_name
        source = Path(attachment.path) if attachment.path else None
        if source is None or not source.is_file():
            raise FileRefused(
                "Trợ lý chưa nhận được ảnh hoặc tệp này. Vui lòng gửi lại "
                f"({limit_text(self.max_bytes)})."
            )
        size = source.stat().st_size
        if size > self.max_bytes:
            raise FileRefused(too_large_text(name, size, self.max_bytes))
        if size == 0:
            raise FileRefused(f"{_what(name)} trống. Vui lòng gửi lại.")
        file_type = sniff(source, attachment.file_name)
        if file_type is None:
            raise FileRefused(
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

    def place(self, upload: dict[str, Any], year: int, record_id: int) -> str:
        """Move a pending upload to its model's folder; the path relative to FILES_DIR."""
        relative = (
            Path("evidence") / str(year) / str(record_id) / f"{upload['token']}{upload['ext']}"
        )
        target = self.files_dir / relative
        if not target.exists():  # the same message handled again after a retry
            pending = self.pending_dir / f"{upload['token']}{upload['ext']}"
            if not pending.is_file():
                raise FileRefused("Tệp vừa gửi không còn trên máy chủ. Vui lòng gửi lại.")
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


# --- queries ----------------------------------------------------------------------


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


def mime_of(evidence: Evidence) -> str:
    return evidence.mime_type or "application/octet-stream"


def download_name(evidence: Evidence, number: int) -> str:
    if evidence.file_name:
        return evidence.file_name
    return f"minh_chung_{evidence.model_year_id}_{number}{Path(evidence.path).suffix}"
