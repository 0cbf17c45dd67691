"""The report of an import: one line per row of the file — its number, what was read there,
what was done with it or why not, and the suggestion a person may accept — printed on the
screen and written as a workbook (``--report FILE``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from openpyxl import Workbook

from domain.catalog import FIELD_LABELS, ORIGIN_LABELS, SUBJECT_LABELS, Field, Origin, Subject
from reports.appendix_reader import LABELS
from reports.style import cell, setup_sheet, title
from storage.models import ModelYear, Unit

# What became of a row: the word the table shows first in its “Kết quả” column.
CREATED, UPDATED, UNCHANGED, SKIPPED, CONFLICT, UNIT, NOTE = (
    "Thêm mới",
    "Cập nhật",
    "Đã có, giữ nguyên",
    "Không nhập",
    "Khác với dữ liệu đã lưu",
    "Đơn vị",
    "Lưu ý",
)
NOT_DONE = (SKIPPED, CONFLICT)


@dataclass(frozen=True)
class Entry:
    row: int  # the row number in the file as a spreadsheet shows it; 0 for the whole file
    read: str  # what the row says, in short
    outcome: str  # one of the words above
    detail: str = ""  # what changed, or why not
    suggestion: str = ""  # what --accept would do

    @property
    def done(self) -> bool:
        return self.outcome not in NOT_DONE

    def result(self) -> str:
        return f"{self.outcome}: {self.detail}" if self.detail else self.outcome


HEADINGS = ("Dòng", "Đọc được", "Kết quả", "Gợi ý")
_READ_WIDTH = 48


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render(entries: Sequence[Entry]) -> str:
    """The table for a terminal: the row number, what was read (cut to a width), the result
    and the suggestion in full."""
    if not entries:
        return ""
    read_width = min(_READ_WIDTH, max(len(HEADINGS[1]), *(len(e.read) for e in entries)))
    lines = [f"{HEADINGS[0]:>5}  {HEADINGS[1]:<{read_width}}  {HEADINGS[2]}"]
    for e in entries:
        row = str(e.row) if e.row else ""
        result = e.result() + (f" — gợi ý: {e.suggestion}" if e.suggestion else "")
        lines.append(f"{row:>5}  {_shorten(e.read, read_width):<{read_width}}  {result}")
    return "\n".join(lines) + "\n"


def workbook(heading: str, summary: Sequence[str], entries: Sequence[Entry]) -> bytes:
    """The same table as a workbook, in the official look, one row per entry."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Kết quả nhập")
    setup_sheet(ws, {1: 8, 2: 60, 3: 60, 4: 45}, header_rows=(len(summary) + 3,) * 2)
    ws.append([title(ws, heading)])
    for line in summary:
        ws.append([cell(ws, line, border=False, wrap=False)])
    ws.append([])
    ws.append([cell(ws, h, bold=True, horizontal="center") for h in HEADINGS])
    for e in entries:
        ws.append(
            [
                cell(ws, e.row or None, horizontal="center"),
                cell(ws, e.read),
                cell(ws, e.result()),
                cell(ws, e.suggestion or None),
            ]
        )
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@dataclass
class ImportReport:
    kind: str
    year: int
    root: Unit
    file_name: str
    scope_from: str  # how the scope was chosen, for the report's first line
    entries: list[Entry] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)  # (row, text): about the file
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    accepted: int = 0

    @property
    def placed(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def problems(self) -> list[tuple[int, str]]:
        """The rows not imported, or kept as stored: (row, “Dòng N: why”)."""
        return [(e.row, f"Dòng {e.row}: {e.detail}") for e in self.entries if not e.done]

    def summary(self, dry_run: bool = False) -> list[str]:
        lines = [
            f"{LABELS[self.kind]} năm {self.year} — {self.root.name} ({self.file_name}; "
            f"phạm vi: {self.scope_from}): {self.placed} mô hình đọc được.",
            f"Thêm mới: {self.created}; cập nhật: {self.updated}; đã có, giữ nguyên: "
            f"{self.unchanged}; không nhập hoặc giữ như đã lưu: {len(self.problems)} dòng.",
        ]
        if self.accepted:
            lines.append(f"Đã áp dụng {self.accepted} gợi ý (--accept).")
        lines += [f"Lưu ý: {text}" for _row, text in self.notes]
        if dry_run:
            lines.append("(Chạy thử: chưa ghi gì vào cơ sở dữ liệu.)")
        if any(e.suggestion for e in self.entries if not e.done):
            lines.append(
                "Các gợi ý chỉ được áp dụng khi chạy lại với --accept (mọi gợi ý) hoặc "
                "--accept DÒNG,DÒNG (chỉ các dòng đó)."
            )
        return lines

    def text(self, dry_run: bool = False) -> str:
        return "\n".join(self.summary(dry_run)) + "\n" + render(self.entries)

    def workbook(self, dry_run: bool = False) -> bytes:
        heading = f"KẾT QUẢ NHẬP {LABELS[self.kind].upper()} NĂM {self.year}"
        return workbook(heading, self.summary(dry_run), self.entries)


def _field_text(fld: str, other: str | None) -> str:
    return (other or FIELD_LABELS[Field.OTHER]) if fld == Field.OTHER else FIELD_LABELS[Field(fld)]


def _subject_text(subject: str, person: str | None) -> str:
    label = SUBJECT_LABELS[Subject(subject)]
    return f"{label} ({person})" if subject == Subject.INDIVIDUAL and person else label


def difference(record: ModelYear, values: dict[str, Any]) -> str:
    """What the sheet says otherwise than the stored model, in the guarded columns."""
    pairs = [
        (
            "chủ thể",
            _subject_text(record.subject, record.subject_name),
            _subject_text(values["subject"], values.get("subject_name", record.subject_name)),
        ),
        (
            "xây dựng mới hay duy trì",
            ORIGIN_LABELS[Origin(record.origin)],
            ORIGIN_LABELS[Origin(values.get("origin") or record.origin)],
        ),
        (
            "lĩnh vực",
            _field_text(record.field, record.field_other),
            _field_text(values["field"], values["field_other"]),
        ),
    ]
    said = [f"{what}: đã lưu “{old}”, biểu ghi “{new}”" for what, old, new in pairs if old != new]
    return f"mô hình “{record.name}” đã có; " + "; ".join(said) + "; giữ như đã lưu"
