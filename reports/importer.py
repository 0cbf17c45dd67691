"""``dvk import models``: a filled Phụ lục 1 or Phụ lục 4 into the database, never a row
in the wrong place.

The sheet is read by reports/appendix_reader.py. Its rows are then placed:

- the scope: ``--unit``, else the unit the lines above the table name (“ĐẢNG ỦY PHƯỜNG HƯƠNG
  HỒ”), else the only top-level unit (reports/import_scope.py);
- a unit line names a unit of the scope by the one name-matching rule: its exact name, or
  its name typed without diacritics when only one unit has it. A line that matches no unit
  so (“Chi bộ Tổ dân phô 3”: one wrong diacritic) is reported with the closest names, and
  its models are not imported;
- a model row needs exactly one mark of Tập thể / Cá nhân (and, in Phụ lục 4, of XD mới /
  Duy trì) and a field; otherwise it is reported and not imported;
- a model already there (same unit, same year, same name up to case, spacing and tone
  placement) has its place, lead body, scale and results brought up to date; its subject,
  new-or-kept and field are never changed by an import: a difference is reported and the
  stored model kept;
- ``accept`` applies what the report suggested (the closest unit, a model whose name differs
  only by diacritics, the sheet's subject or field over the stored one): for every row, or
  for the rows given.

Running an import again changes nothing. Every row read is in the report with what was done
with it or why not (reports/import_report.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import (
    Origin,
    RecordState,
    Subject,
)
from domain.text import fold, match_names, name_key
from reports import import_report as rep
from reports.appendix_reader import (
    PL1,
    RawRow,
    Sheet,
    WorkbookError,
    is_footer,
    is_placeholder,
    key,
    parse_field,
    read_sheet,
    section_origin,
    split_person,
    unit_label,
)
from reports.appendix_rows import shown_name
from reports.import_report import ImportReport, difference
from reports.import_scope import best_suggestion, choose_scope, looks_like_unit, paths, under
from storage import audit_log, model_years, unit_tree
from storage.models import DvkModel, ModelYear, Unit
from storage.units import path_name, unit_name

LIMITS = (("name", 300, "tên mô hình"), ("lead_body", 300, "chủ trì"), ("place", 1000, "địa điểm"))
# What an import never changes in a model already there without ``accept``.
GUARDED = {
    "subject": "chủ thể",
    "subject_name": "chủ thể",
    "origin": "xây dựng mới hay duy trì",
    "field": "lĩnh vực",
    "field_other": "lĩnh vực",
}
COLUMN_WORDS = {
    "place": "địa điểm",
    "lead_body": "chủ trì",
    "scale": "quy mô",
    "results": "kết quả",
}

Accept = bool | Collection[int]  # True: every suggestion; or the rows whose suggestion applies


@dataclass
class _Block:
    """The unit line the model rows below belong to."""

    row: int
    label: str
    unit: Unit | None


def _record_names(record: ModelYear) -> str:
    return record.name


def _shown(record: ModelYear) -> str:
    return shown_name(record.name, record.subject, record.subject_name)


@dataclass(eq=False)
class _Importer:
    """Places the rows one by one, remembering what this file already did."""

    session: AsyncSession
    report: ImportReport
    now: datetime
    channel: str
    accept: Accept
    units: list[Unit]  # the scope's
    by_id: dict[int, Unit]
    header: Unit | None
    # Unit id → its records of the year; (unit id, name key) → the row that named it.
    records: dict[int, list[ModelYear]] = field(default_factory=dict, init=False)
    seen: dict[tuple[int, str], int] = field(default_factory=dict, init=False)

    def names_a_unit(self, text: str) -> bool:
        return looks_like_unit(text, self.units)

    def accepts(self, row: RawRow) -> bool:
        return self.accept is True or (
            not isinstance(self.accept, bool) and row.number in self.accept
        )

    def entry(self, row: RawRow, read: str, outcome: str, detail: str = "", hint: str = "") -> None:
        self.report.entries.append(rep.Entry(row.number, read, outcome, detail, hint))

    def path(self, unit: Unit) -> str:
        return path_name(unit, self.by_id)

    # --- unit lines -----------------------------------------------------------------------

    def unit_line(self, row: RawRow, label: str, previous: Unit | None) -> Unit | None:
        read = f"Đơn vị “{label}”"
        found = list(match_names(label, self.units, unit_name).found)
        if len(found) > 1:
            chain = reversed(unit_tree.ancestor_ids(previous)) if previous is not None else ()
            anchors = [self.by_id[i] for i in chain]
            found = under(found, anchors + ([self.header] if self.header else []))
        if len(found) == 1:
            loose = name_key(found[0].name) != name_key(label)
            typed = " (gõ không dấu)" if loose else ""
            self.entry(row, read, rep.UNIT, self.path(found[0]) + typed)
            return found[0]
        if found:
            self.entry(
                row,
                read,
                rep.SKIPPED,
                f"có {len(found)} đơn vị tên này: {paths(found, self.by_id)}; các mô hình bên "
                "dưới chưa được nhập (ghi dòng đơn vị cấp trên phía trên nó, hoặc nhập với "
                "--unit là đơn vị cấp trên)",
            )
            return None
        best, near = best_suggestion(label, self.units)
        if best is not None and self.accepts(row):
            self.report.accepted += 1
            self.entry(row, read, rep.UNIT, f"{self.path(best)} (theo gợi ý, --accept)")
            return best
        scope = self.path(self.report.root)
        detail = f"không tìm thấy đơn vị “{label}” trong {scope} và các đơn vị trực thuộc"
        elsewhere = match_names(label, list(self.by_id.values()), unit_name).found
        if elsewhere:
            detail += f"; có đơn vị tên này ở ngoài: {paths(elsewhere, self.by_id)}"
        elif near:
            detail += f"; tên gần giống: {paths(near, self.by_id, ordered=False)}"
        detail += "; các mô hình bên dưới chưa được nhập"
        hint = f"coi là {self.path(best)}" if best is not None and not elsewhere else ""
        self.entry(row, read, rep.SKIPPED, detail, hint)
        return None

    # --- model rows -----------------------------------------------------------------------

    async def model(
        self, row: RawRow, unit: Unit, kind: str, section: str | None, year: int
    ) -> None:
        read = f"Mô hình “{row.name}”"
        why = self._marks_problem(row, kind)
        parsed_field = parse_field(row.field)
        if why is None and parsed_field is None:
            why = "thiếu lĩnh vực (cột 6)"
        if why is not None:
            self.entry(row, read, rep.SKIPPED, why)
            return
        assert parsed_field is not None
        individual = row.individual
        name, person = split_person(row.name) if individual else (row.name, None)
        note = ""
        if kind == PL1:
            origin = section
            if section is None:
                note = "nằm ngoài mục I, II; coi là mô hình đăng ký mới"
        else:
            origin = Origin.KEPT.value if row.kept else Origin.NEW.value
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
        for column, limit, what in LIMITS:
            if len(values[column]) > limit:
                self.entry(row, read, rep.SKIPPED, f"{what} dài quá {limit} ký tự")
                return
        keys = {name_key(name), name_key(row.name)}
        for k in keys:
            if (unit.id, k) in self.seen:
                line = self.seen[(unit.id, k)]
                self.entry(row, read, rep.SKIPPED, f"trùng tên với dòng {line} của {unit.name}")
                return
        for k in keys:
            self.seen[(unit.id, k)] = row.number
        if unit.id not in self.records:
            self.records[unit.id] = await model_years.records_of_unit(
                self.session, unit.id, year, active_only=False
            )
        record, hint = self._existing(row, name, self.records[unit.id])
        if hint and not self.accepts(row):
            self.entry(row, read, rep.CONFLICT, hint[0], hint[1])
            return
        if record is None:
            await self._create(row, read, unit, values, kind, year, note)
        elif record.state != RecordState.ACTIVE.value:
            self.entry(
                row, read, rep.SKIPPED, f"mô hình “{record.name}” đã rút khỏi danh sách năm {year}"
            )
        else:
            if hint:
                self.report.accepted += 1
            await self._update(row, read, record, unit, values, kind, accepted=bool(hint))

    def _marks_problem(self, row: RawRow, kind: str) -> str | None:
        if row.collective and row.individual:
            return "đánh dấu cả “Tập thể” và “Cá nhân”: một mô hình chỉ là một trong hai"
        if not row.collective and not row.individual:
            return "chưa đánh dấu “Tập thể” hay “Cá nhân”"
        if kind != PL1 and row.new and row.kept:
            return "đánh dấu cả “XD mới” và “Duy trì”: một mô hình chỉ là một trong hai"
        if kind != PL1 and not row.new and not row.kept:
            return "chưa đánh dấu “XD mới” hay “Duy trì”"
        return None

    def _existing(
        self, row: RawRow, name: str, records: Sequence[ModelYear]
    ) -> tuple[ModelYear | None, tuple[str, str] | None]:
        """The record this row is, and when it is only a guess, why and the suggestion. The
        name is tried as written, then without a person in brackets whatever the marks say
        (“Nuôi ong (Bà Mận)” marked collective is still the model “Nuôi ong”)."""
        for typed in dict.fromkeys((row.name, name, split_person(row.name)[0])):
            for name_of in (_record_names, _shown):
                found = match_names(typed, records, name_of).found
                active = [r for r in found if r.state == RecordState.ACTIVE.value]
                if active or found:
                    return (active or list(found))[0], None
        folded = {fold(name), fold(row.name), fold(split_person(row.name)[0])}
        twins = [
            r for r in records if r.state == RecordState.ACTIVE.value and fold(r.name) in folded
        ]
        if len(twins) == 1:
            why = (
                f"tên chỉ khác dấu với mô hình đã có “{twins[0].name}”; chưa nhập (nếu là "
                "một mô hình mới, hãy đặt tên khác hẳn)"
            )
            return twins[0], (why, f"coi là mô hình “{twins[0].name}”")
        return None, None

    async def _update(
        self,
        row: RawRow,
        read: str,
        record: ModelYear,
        unit: Unit,
        values: dict[str, Any],
        kind: str,
        accepted: bool,
    ) -> None:
        values = dict(values)
        values.pop("name")  # the same name up to case and spacing: the database's stays
        if values["origin"] is None:
            values.pop("origin")  # a Phụ lục 1 row outside the sections says nothing of it
        if values["subject"] != record.subject:
            # Another subject is another person, or the unit itself for a collective.
            values.setdefault("subject_name", unit.name)
        if kind == PL1:
            values["scale"] = row.text
        elif row.text and row.text not in (record.results, record.scale):
            values["results"] = row.text
        changes = {
            column: [getattr(record, column), value]
            for column, value in values.items()
            if getattr(record, column) != value
        }
        guarded = [c for c in changes if c in GUARDED]
        if guarded and not (accepted or self.accepts(row)):
            self.entry(row, read, rep.CONFLICT, difference(record, values), "lấy theo biểu")
            return
        if not changes:
            self.report.unchanged += 1
            self.entry(row, read, rep.UNCHANGED, f"“{record.name}”")
            return
        if guarded and not accepted:
            self.report.accepted += 1
            accepted = True
        for column, (_old, new) in changes.items():
            setattr(record, column, new)
        record.updated_at = self.now
        self.report.updated += 1
        what = ", ".join(dict.fromkeys(GUARDED.get(c) or COLUMN_WORDS[c] for c in changes))
        self.entry(row, read, rep.UPDATED, what + (" (theo gợi ý, --accept)" if accepted else ""))
        details: dict[str, Any] = {"row": row.number, "changes": changes}
        if accepted:
            details["accepted"] = True
        await self._audit("import_edit", record.id, details)

    async def _create(
        self,
        row: RawRow,
        read: str,
        unit: Unit,
        values: dict[str, Any],
        kind: str,
        year: int,
        note: str,
    ) -> None:
        values = dict(values)
        values["origin"] = values["origin"] or Origin.NEW.value
        model_id = None
        if values["origin"] == Origin.KEPT.value:
            # Kept from last year: the same model when last year's record is there.
            for typed in dict.fromkeys((values["name"], row.name)):
                old = await model_years.keepable_records(self.session, unit.id, year)
                found = (
                    match_names(typed, old, _record_names).found
                    or match_names(typed, old, _shown).found
                )
                if found:
                    model_id = found[0].model_id
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
            results=row.text or None if kind != PL1 else None,
            created_by=None,
            created_at=self.now,
            updated_at=self.now,
            **values,
        )
        self.session.add(record)
        await self.session.flush()
        self.records[unit.id].append(record)
        self.report.created += 1
        self.entry(row, read, rep.CREATED, note)
        await self._audit(
            "import", record.id, {"row": row.number, "unit": unit.id, "name": record.name}
        )

    async def _audit(self, action: str, record_id: int, details: dict[str, Any]) -> None:
        details = {"file": self.report.file_name, "appendix": self.report.kind, **details}
        await audit_log.audit(
            self.session, None, action, "model_year", record_id, details, self.now, self.channel
        )


async def import_models(
    session: AsyncSession,
    source: Path | bytes,
    year: int | None,
    root: Unit | None,
    now: datetime,
    file_name: str = "",
    channel: str = "cli",
    accept: Accept = False,
) -> ImportReport:
    """Import the appendix in ``source`` for ``year`` (default: the year in its title) into
    the units of ``root``'s subtree (default: the unit the sheet's header names, else the only
    top-level unit). The caller commits (or rolls back for a dry run)."""
    sheet = read_sheet(source)
    target_year = year or sheet.year
    if target_year is None:
        raise WorkbookError("Tiêu đề biểu không ghi năm; hãy chọn năm bằng --year.")
    everyone = await unit_tree.list_units(session)
    by_id = {u.id: u for u in everyone}
    scope, header, scope_from, notes = choose_scope(sheet.above, root, everyone, by_id)
    report = ImportReport(sheet.kind, target_year, scope, file_name or "tệp", scope_from)
    report.notes += notes
    if year is not None and sheet.year is not None and sheet.year != year:
        report.notes.append(
            (0, f"tiêu đề biểu ghi năm {sheet.year}; dữ liệu được nhập vào năm {year}.")
        )
    scope_units = [u for u in everyone if u.path.startswith(scope.path)]
    importer = _Importer(session, report, now, channel, accept, scope_units, by_id, header)
    await _walk(sheet, importer, target_year)
    report.entries.sort(key=lambda e: e.row)
    return report


async def _walk(sheet: Sheet, importer: _Importer, year: int) -> None:
    """Every row below the table's header, in order: sections, unit lines, model rows."""
    block: _Block | None = None
    origin: str | None = None
    for row in sheet.rows:
        if not (row.stt or row.name or row.has_data):
            continue
        if is_footer(row):
            break
        if "tong so" in (key(row.name), key(row.stt)):
            continue
        section = section_origin(row) if sheet.kind == PL1 else None
        if section is not None:
            origin = section
            continue
        if not row.name:
            if row.has_data:
                importer.entry(row, "(không có tên)", rep.SKIPPED, "thiếu tên mô hình (cột 2)")
            continue
        if is_placeholder(row):
            continue  # the form's placeholder (“Mô hình….”)
        label = unit_label(row, block is not None, importer.names_a_unit)
        if label is not None:
            previous = block.unit if block is not None else None
            block = _Block(row.number, label, importer.unit_line(row, label, previous))
            continue
        if block is None:
            importer.entry(
                row,
                f"Mô hình “{row.name}”",
                rep.SKIPPED,
                "chưa biết thuộc đơn vị nào (thiếu dòng tên đơn vị phía trên)",
            )
        elif block.unit is None:
            importer.entry(
                row,
                f"Mô hình “{row.name}”",
                rep.SKIPPED,
                f"thuộc đơn vị “{block.label}” ở dòng {block.row}, chưa xác định được",
            )
        else:
            await importer.model(row, block.unit, sheet.kind, origin, year)


__all__ = ["ImportReport", "WorkbookError", "import_models", "parse_field", "read_sheet"]
