"""``dvk import models``: a filled Phụ lục 1 or Phụ lục 4 (seed 002) into the database.

Reads the seed's layout as units fill it in today and exactly the layout our own export
writes (reports/appendix.py):

- which appendix: by the title (“… ĐĂNG KÝ XÂY DỰNG MỚI MÔ HÌNH …” is Phụ lục 1, “… BÁO CÁO KẾT
  QUẢ XÂY DỰNG, DUY TRÌ …” Phụ lục 4), else by the label “Phụ lục 1/4”, else by the headers;
- the columns: from the row numbering them “(1) (2) …” and the header labels above it (“Tập
  thể”, “Cá nhân”, “XD mới”, “Duy trì” name the mark columns);
- the rows below: the “Tổng số” row; in Phụ lục 1 the sections “I” (kept from last year) and
  “II” (new this year); unit sub-headers (a number in the STT column, or “1. Unit name”, and
  nothing else filled in); model rows (“-” in STT, or anything with data); the totals and
  notes below the table end it.

Units are matched by name ignoring case, diacritics and spacing, within the chosen root's
subtree. A model already there (same unit, same year, same name ignoring case and diacritics)
is updated or left alone, never added twice, so running an import again changes nothing.
Rows that cannot be placed (unknown unit, missing name, missing field …) are reported with
their row numbers and skipped; the rest is imported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import (
    FIELD_ALIASES,
    FIELD_LABELS,
    FIELD_SHORT,
    Field,
    Origin,
    RecordState,
    Subject,
)
from domain.text import clean, fold
from storage import repo
from storage.models import DvkModel, ModelYear, Unit

PL1, PL4 = "pl1", "pl4"
LABELS = {PL1: "Phụ lục 1", PL4: "Phụ lục 4"}
_NUMBER_CELL = re.compile(r"^\(\s*(\d{1,2})\s*\)$")
_UNIT_PREFIX = re.compile(r"^(\d{1,3})\s*[.)/-]\s*(\S.*)$")
_NUMBERED = re.compile(r"^\d{1,3}[.)]?$")
_ROMAN = re.compile(r"^(I|II|III|IV|V)[.)]?$")
_ROMAN_PREFIX = re.compile(r"^(I|II|III|IV|V)[.)]\s+\S")
_YEAR = re.compile(r"\bnam\s+((?:19|20)\d\d)\b")
_NON_WORD = re.compile(r"[^\w ]+")
DASHES = {"-", "–", "—", "+", "•", "*-"}
FOOTER_STARTS = ("tong so mo hinh", "tong so tap the", "ghi chu")


class WorkbookError(Exception):
    """The file cannot be read as an appendix; the message says why (in Vietnamese)."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean(str(value))


def _key(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


def _marked(value: str) -> bool:
    return bool(value) and _key(value) not in ("", "0", "khong")


# --- fields ---------------------------------------------------------------------------------


def _field_keys() -> dict[str, Field]:
    keys: dict[str, Field] = {}
    for f in (Field.KT, Field.VHXH, Field.QPAN, Field.XDD):
        label = FIELD_LABELS[f]
        names = {label, re.sub(r"\([^)]*\)", " ", label), FIELD_SHORT[f], *FIELD_ALIASES[f]}
        for name in names:
            key = _key(name)
            keys[key] = f
            keys[f"linh vuc {key}"] = f
    extra = {
        "xd dang va htct": Field.XDD,
        "xdd va htct": Field.XDD,
        "xay dung dang va htct": Field.XDD,
        "xay dung he thong chinh tri": Field.XDD,
        "xay dung dang he thong chinh tri": Field.XDD,
        "van hoa xa hoi": Field.VHXH,
        "vh xh": Field.VHXH,
        "qp an": Field.QPAN,
    }
    keys.update(extra)
    return keys


FIELD_KEYS = _field_keys()
OTHER_KEYS = {_key(FIELD_LABELS[Field.OTHER]), "khac", "linh vuc khac"}


def parse_field(text: str) -> tuple[str, str | None] | None:
    """(field, field_other) of a “Lĩnh vực” cell; None when it is empty."""
    key = _key(text)
    if not key:
        return None
    if key in FIELD_KEYS:
        return FIELD_KEYS[key].value, None
    if key in OTHER_KEYS:
        return Field.OTHER.value, None
    return Field.OTHER.value, text


def split_person(text: str) -> tuple[str, str | None]:
    """“Tên mô hình (Họ tên)”, as the export writes a model of one person: (name, person)."""
    if not text.endswith(")") or "(" not in text:
        return text, None
    start = text.rfind("(")
    name, person = text[:start].strip(), text[start + 1 : -1].strip()
    if not name or not person:
        return text, None
    return name, person


def display_name(record: ModelYear) -> str:
    """The name as the appendix shows it (the person added for a model of one person)."""
    person = (record.subject_name or "").strip()
    if record.subject == Subject.INDIVIDUAL.value and person and person not in record.name:
        return f"{record.name} ({person})"
    return record.name


# --- reading the sheet ---------------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    stt: int
    name: int
    place: int | None
    lead: int | None
    field: int | None
    text: int | None  # (7): scale (PL1) or scale and results (PL4)
    collective: int | None
    individual: int | None
    new: int | None
    kept: int | None


@dataclass(frozen=True)
class RawRow:
    number: int  # row number in the sheet (1-based, as Excel shows it)
    stt: str
    name: str
    place: str
    lead: str
    field: str
    text: str
    collective: bool
    individual: bool
    new: bool
    kept: bool

    @property
    def has_data(self) -> bool:
        return any(
            (self.place, self.lead, self.field, self.text, self.collective, self.individual)
        ) or (self.new or self.kept)


@dataclass
class Sheet:
    kind: str
    year: int | None  # the year in the title
    rows: list[RawRow]


def _find_kind(texts: Sequence[str]) -> str | None:
    joined = " | ".join(_key(t) for t in texts)
    if "bao cao ket qua xay dung" in joined or "ket qua xay dung duy tri" in joined:
        return PL4
    if "dang ky xay dung" in joined:
        return PL1
    if "phu luc 4" in joined:
        return PL4
    if "phu luc 1" in joined:
        return PL1
    return None


def _columns(kind: str, numbers: dict[int, int], labels: dict[int, str]) -> Columns:
    def by_label(*words: str, exact: bool = False) -> int | None:
        for col, label in sorted(labels.items()):
            if any((label == w) if exact else (w in label) for w in words):
                return col
        return None

    def by_number(n: int, offset: int = 0) -> int | None:
        return numbers[n] + offset if n in numbers else None

    collective = by_label("tap the", exact=True)
    individual = by_label("ca nhan", exact=True)
    new = by_label("xd moi", "xay dung moi", exact=True)
    kept = by_label("duy tri", exact=True)
    mark = 9 if kind == PL4 else 8
    if collective is None:
        collective = by_number(mark)
    if individual is None:
        individual = by_number(mark, 1)
    if kind == PL4:
        new = new if new is not None else by_number(8)
        kept = kept if kept is not None else by_number(8, 1)
    else:
        new = kept = None
    text_col = by_label("tom tat", "ket qua") if kind == PL4 else by_label("quy mo")
    return Columns(
        stt=_first(by_label("stt", exact=True), by_number(1), 0),
        name=_first(by_label("ten mo hinh"), by_number(2), 1),
        place=_first(by_label("dia diem"), by_number(4)),
        lead=_first(by_label("chu tri"), by_number(5)),
        field=_first(by_label("linh vuc"), by_number(6)),
        text=_first(text_col, by_number(7)),
        collective=collective,
        individual=individual,
        new=new,
        kept=kept,
    )


def _first(*values: int | None) -> Any:
    return next((v for v in values if v is not None), None)


def read_sheet(source: Path | bytes) -> Sheet:
    """The appendix in ``source`` (a path or the bytes of an .xlsx)."""
    try:
        wb = load_workbook(
            BytesIO(source) if isinstance(source, bytes) else source,
            read_only=True,
            data_only=True,
        )
    except FileNotFoundError:
        raise WorkbookError("Không thấy tệp " + str(source) + ".") from None
    except Exception as err:  # openpyxl raises many kinds for a file that is not a workbook
        raise WorkbookError(f"Không đọc được tệp Excel (.xlsx): {type(err).__name__}.") from None
    try:
        for ws in wb.worksheets:
            sheet = _read_worksheet([tuple(r) for r in ws.iter_rows(values_only=True)])
            if sheet is not None:
                return sheet
    finally:
        wb.close()
    raise WorkbookError(
        "Không tìm thấy bảng của Phụ lục 1 hoặc Phụ lục 4: cần dòng đánh số cột "
        "(1), (2), (3)… dưới tiêu đề bảng, như mẫu."
    )


def _read_worksheet(values: list[tuple[Any, ...]]) -> Sheet | None:
    numbers_at = None
    numbers: dict[int, int] = {}
    for i, row in enumerate(values[:40]):
        found = {}
        for col, value in enumerate(row):
            match = _NUMBER_CELL.match(_text(value))
            if match:
                found[int(match.group(1))] = col
        if len(found) >= 5:
            numbers_at, numbers = i, found
            break
    if numbers_at is None:
        return None
    above = [_text(v) for row in values[:numbers_at] for v in row if v is not None]
    labels: dict[int, str] = {}
    for row in values[max(0, numbers_at - 3) : numbers_at]:
        for col, value in enumerate(row):
            text = _key(_text(value))
            if text:
                labels[col] = f"{labels[col]} {text}".strip() if col in labels else text
    # Sub-labels (“Tập thể”…) must be found as whole cells, so keep the row below the
    # group's label apart: exact matches look at the last header row alone.
    sub = {
        col: _key(_text(v))
        for col, v in enumerate(values[numbers_at - 1] if numbers_at else ())
        if _key(_text(v))
    }
    kind = _find_kind(above)
    if kind is None:
        flat = " ".join(labels.values())
        kind = PL4 if "xd moi" in flat or "tom tat" in flat else PL1 if "quy mo" in flat else None
    if kind is None:
        raise WorkbookError(
            "Không nhận ra biểu: tiêu đề không phải Phụ lục 1 (đăng ký xây dựng mô hình) "
            "hay Phụ lục 4 (báo cáo kết quả xây dựng, duy trì mô hình)."
        )
    year = None
    for text in above:
        match = _YEAR.search(fold(text))
        if match:
            year = int(match.group(1))
            break
    cols = _columns(kind, numbers, {**labels, **sub})

    def get(row: tuple[Any, ...], col: int | None) -> str:
        return _text(row[col]) if col is not None and col < len(row) else ""

    rows = []
    for i, row in enumerate(values[numbers_at + 1 :], numbers_at + 2):
        rows.append(
            RawRow(
                number=i,
                stt=get(row, cols.stt),
                name=get(row, cols.name),
                place=get(row, cols.place),
                lead=get(row, cols.lead),
                field=get(row, cols.field),
                text=get(row, cols.text),
                collective=_marked(get(row, cols.collective)),
                individual=_marked(get(row, cols.individual)),
                new=_marked(get(row, cols.new)),
                kept=_marked(get(row, cols.kept)),
            )
        )
    return Sheet(kind, year, rows)


# --- placing the rows ------------------------------------------------------------------------


@dataclass
class ImportReport:
    kind: str
    year: int
    root: Unit
    file_name: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (row, text): not imported
    notes: list[tuple[int, str]] = field(default_factory=list)  # (row, text): imported, assumed

    @property
    def placed(self) -> int:
        return self.created + self.updated + self.unchanged

    def text(self, dry_run: bool = False) -> str:
        lines = [
            f"{LABELS[self.kind]} năm {self.year} — {self.root.name} ({self.file_name}): "
            f"{self.placed} mô hình đọc được.",
            f"Thêm mới: {self.created}; cập nhật: {self.updated}; đã có, giữ nguyên: "
            f"{self.unchanged}.",
        ]
        if dry_run:
            lines.append("(Chạy thử: chưa ghi gì vào cơ sở dữ liệu.)")
        if self.problems:
            lines.append(f"Không nhập được {len(self.problems)} dòng:")
            lines += [f"- {text}" for _row, text in sorted(self.problems)]
        if self.notes:
            lines.append("Lưu ý:")
            lines += [f"- {text}" for _row, text in sorted(self.notes)]
        return "\n".join(lines) + "\n"


@dataclass
class _UnitBlock:
    row: int
    label: str
    unit: Unit | None
    problem: str | None  # why the unit is not known
    skipped: list[int] = field(default_factory=list)


def _is_footer(row: RawRow) -> bool:
    stt, name = _key(row.stt), _key(row.name)
    return row.stt.strip() == "*" or any(s.startswith(FOOTER_STARTS) for s in (stt, name) if s)


def _section_origin(row: RawRow) -> str | None:
    """Origin named by a section header row of Phụ lục 1 (I: kept, II: new); None if the row
    is not a section header."""
    stt = row.stt.strip().upper()
    roman = _ROMAN.match(stt)
    prefix = _ROMAN_PREFIX.match(row.name)
    if not roman and not prefix:
        key = _key(row.name)
        if row.has_data or not key.startswith("mo hinh") or not ("duy tri" in key or "moi" in key):
            return None
    key = _key(row.name)
    if "duy tri" in key:
        return Origin.KEPT.value
    if "moi" in key:
        return Origin.NEW.value
    numeral = (roman.group(1) if roman else prefix.group(1) if prefix else "").upper()
    return {"I": Origin.KEPT.value, "II": Origin.NEW.value}.get(numeral, Origin.NEW.value)


LIMITS = (("name", 300, "tên mô hình"), ("lead_body", 300, "chủ trì"), ("place", 1000, "địa điểm"))


class _Importer:
    """Creates or updates one model row at a time, remembering what this file already did."""

    def __init__(self, session: AsyncSession, report: ImportReport, now: datetime, channel: str):
        self.session = session
        self.report = report
        self.now = now
        self.channel = channel
        self.records: dict[int, list[ModelYear]] = {}  # unit id → its records of the year
        self.seen: dict[tuple[int, str], int] = {}  # (unit id, name key) → row number

    def problem(self, row: RawRow, text: str) -> None:
        self.report.problems.append((row.number, f"Dòng {row.number}: {text}"))

    def note(self, row: RawRow, text: str) -> None:
        self.report.notes.append((row.number, f"Dòng {row.number}: {text}"))

    async def model(
        self, row: RawRow, unit: Unit, kind: str, section: str | None, year: int
    ) -> None:
        if row.individual and row.collective:
            self.note(row, "đánh dấu cả tập thể và cá nhân; coi là tập thể.")
        elif not row.individual and not row.collective:
            self.note(row, "chưa đánh dấu chủ thể (tập thể hoặc cá nhân); coi là tập thể.")
        individual = row.individual and not row.collective
        name, person = split_person(row.name) if individual else (row.name, None)
        parsed_field = parse_field(row.field)
        if parsed_field is None:
            self.problem(row, f"thiếu lĩnh vực (cột 6) của mô hình “{row.name}”.")
            return
        if kind == PL1:
            origin = section or Origin.NEW.value
            if section is None:
                self.note(row, "nằm ngoài mục I, II; coi là mô hình đăng ký mới.")
        elif row.kept and not row.new:
            origin = Origin.KEPT.value
        else:
            origin = Origin.NEW.value
            if not row.new:
                self.note(row, "chưa đánh dấu xây dựng mới hay duy trì; coi là xây dựng mới.")
        values: dict[str, Any] = {
            "name": name,
            "origin": origin,
            "field": parsed_field[0],
            "field_other": parsed_field[1],
            "subject": Subject.INDIVIDUAL.value if individual else Subject.COLLECTIVE.value,
            "place": row.place,
            "lead_body": row.lead,
        }
        if person:
            values["subject_name"] = person
        for key, limit, what in LIMITS:
            if len(values[key]) > limit:
                self.problem(row, f"{what} dài quá {limit} ký tự, chưa được nhập.")
                return
        keys = {_key(name), _key(row.name)}
        for key in keys:
            if (unit.id, key) in self.seen:
                self.problem(
                    row,
                    f"mô hình “{row.name}” trùng tên với dòng {self.seen[(unit.id, key)]} "
                    f"của {unit.name}; bỏ qua.",
                )
                return
        for key in keys:
            self.seen[(unit.id, key)] = row.number
        if unit.id not in self.records:
            self.records[unit.id] = await repo.records_of_unit(
                self.session, unit.id, year, active_only=False
            )
        records = self.records[unit.id]
        existing = [r for r in records if keys & {_key(r.name), _key(display_name(r))}]
        active = [r for r in existing if r.state == RecordState.ACTIVE.value]
        if active:
            await self._update(row, active[0], values, kind)
        elif existing:
            self.problem(
                row, f"mô hình “{name}” của {unit.name} đã rút khỏi danh sách năm {year}; bỏ qua."
            )
        else:
            await self._create(row, unit, values, kind, year)

    async def _update(
        self, row: RawRow, record: ModelYear, values: dict[str, Any], kind: str
    ) -> None:
        values = dict(values)
        values.pop("name")  # the same name up to case and diacritics: the database's stays
        if kind == PL1:
            values["scale"] = row.text
        elif row.text and row.text not in (record.results, record.scale):
            values["results"] = row.text
        changes = {
            key: [getattr(record, key), value]
            for key, value in values.items()
            if getattr(record, key) != value
        }
        if not changes:
            self.report.unchanged += 1
            return
        for key, value in values.items():
            setattr(record, key, value)
        record.updated_at = self.now
        self.report.updated += 1
        await self._audit("import_edit", record.id, {"row": row.number, "changes": changes})

    async def _create(
        self, row: RawRow, unit: Unit, values: dict[str, Any], kind: str, year: int
    ) -> None:
        model_id = None
        if values["origin"] == Origin.KEPT.value:
            # Kept from last year: the same model when last year's record is there.
            keys = {_key(values["name"]), _key(row.name)}
            for old in await repo.keepable_records(self.session, unit.id, year):
                if keys & {_key(old.name), _key(display_name(old))}:
                    model_id = old.model_id
                    break
        if model_id is None:
            model = DvkModel(unit_id=unit.id, created_at=self.now)
            self.session.add(model)
            await self.session.flush()
            model_id = model.id
        record = ModelYear(
            model_id=model_id,
            year=year,
            state=RecordState.ACTIVE.value,
            subject_name=values.pop("subject_name", None) or unit.name,
            scale=row.text,
            results=row.text or None if kind == PL4 else None,
            created_by=None,
            created_at=self.now,
            updated_at=self.now,
            **values,
        )
        self.session.add(record)
        await self.session.flush()
        self.records[unit.id].append(record)
        self.report.created += 1
        await self._audit(
            "import", record.id, {"row": row.number, "unit": unit.id, "name": record.name}
        )

    async def _audit(self, action: str, record_id: int, details: dict[str, Any]) -> None:
        details = {"file": self.report.file_name, "appendix": self.report.kind, **details}
        await repo.audit(
            self.session, None, action, "model_year", record_id, details, self.now, self.channel
        )


async def import_models(
    session: AsyncSession,
    source: Path | bytes,
    year: int | None,
    root: Unit,
    now: datetime,
    file_name: str = "",
    channel: str = "cli",
) -> ImportReport:
    """Import the appendix in ``source`` for ``year`` (default: the year in its title) into the
    units of ``root``'s subtree. The caller commits (or rolls back for a dry run)."""
    sheet = read_sheet(source)
    target_year = year or sheet.year
    if target_year is None:
        raise WorkbookError("Tiêu đề biểu không ghi năm; hãy chọn năm bằng --year.")
    report = ImportReport(sheet.kind, target_year, root, file_name or "tệp")
    if year is not None and sheet.year is not None and sheet.year != year:
        report.notes.append(
            (0, f"Tiêu đề biểu ghi năm {sheet.year}; dữ liệu được nhập vào năm {year}.")
        )
    by_name: dict[str, list[Unit]] = {}
    for unit in await repo.list_units(session, root):
        by_name.setdefault(_key(unit.name), []).append(unit)
    importer = _Importer(session, report, now, channel)
    unknown: list[_UnitBlock] = []
    block: _UnitBlock | None = None
    origin: str | None = None
    for row in sheet.rows:
        if not (row.stt or row.name or row.has_data):
            continue
        if _is_footer(row):
            break
        if "tong so" in (_key(row.name), _key(row.stt)):
            continue
        section = _section_origin(row) if sheet.kind == PL1 else None
        if section is not None:
            origin, block = section, None
            continue
        if not row.name:
            if row.has_data:
                importer.problem(row, "thiếu tên mô hình (cột 2), chưa được nhập.")
            continue
        if _placeholder(row):
            continue  # the form's placeholder (“Mô hình….”)
        label = _unit_label(row, block, by_name)
        if label is not None:
            block = _unit_block(row, label, by_name, root)
            if block.unit is None:
                unknown.append(block)
            continue
        if block is None:
            importer.problem(
                row,
                f"mô hình “{row.name}” chưa biết thuộc đơn vị nào (thiếu dòng tên đơn vị "
                "phía trên), chưa được nhập.",
            )
            continue
        if block.unit is None:
            block.skipped.append(row.number)
            continue
        await importer.model(row, block.unit, sheet.kind, origin, target_year)
    for bad in unknown:
        rows = ", ".join(map(str, bad.skipped))
        tail = (
            f"; {len(bad.skipped)} mô hình bên dưới (dòng {rows}) chưa được nhập." if rows else "."
        )
        report.problems.append((bad.row, f"{bad.problem}{tail}"))
    report.problems.sort()
    report.notes.sort()
    return report


def _placeholder(row: RawRow) -> bool:
    """A row of the blank form (“Mô hình….”, “Chi bộ, phòng ban, đơn vị…”) left as it was."""
    return not row.has_data and (row.name.endswith("...") or row.name.rstrip(".").endswith("…"))


def _unit_label(
    row: RawRow, block: _UnitBlock | None, by_name: dict[str, list[Unit]]
) -> str | None:
    """The unit named by a sub-header row, or None for a model row."""
    if row.stt.strip() in DASHES or row.has_data:
        return None
    prefix = _UNIT_PREFIX.match(row.name)
    if _NUMBERED.match(row.stt.strip()):
        return prefix.group(2) if prefix and _key(prefix.group(2)) in by_name else row.name
    if prefix and not row.stt:
        return prefix.group(2)
    if not row.stt and (block is None or _key(row.name) in by_name):
        return row.name
    return None


def _unit_block(row: RawRow, label: str, by_name: dict[str, list[Unit]], root: Unit) -> _UnitBlock:
    found = by_name.get(_key(label), [])
    if len(found) == 1:
        return _UnitBlock(row.number, label, found[0], None)
    if not found:
        problem = (
            f"Dòng {row.number}: không tìm thấy đơn vị “{label}” trong {root.name} "
            "và các đơn vị trực thuộc"
        )
    else:
        ids = ", ".join(str(u.id) for u in found)
        problem = f"Dòng {row.number}: có {len(found)} đơn vị cùng tên “{label}” (mã {ids})"
    return _UnitBlock(row.number, label, None, problem)


__all__ = ["ImportReport", "WorkbookError", "import_models", "parse_field", "read_sheet"]
