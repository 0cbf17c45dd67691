"""``dvk unit import``: the unit tree from a table (CSV or XLSX) with the columns ``Tên``,
``Loại``, ``Cấp trên``, in any order of rows.

The upper unit (``Cấp trên``) is given by its name, its path (“Thị xã Hương Trà / Đảng bộ
phường Hương Văn”, or its last levels) or its id, and found by the one name-matching rule
(``storage.units``): names that differ only by a diacritic are two units. Every row that can
be placed is imported; every other row is reported with its number and why (an upper unit
that is not there or is ambiguous, a missing name, a row waiting on one that failed). A
unit already there under the same upper unit is not added again, so a second run adds
nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import NAME_MAX
from domain.text import fold, match_names, name_key, one_line
from reports.appendix_reader import cell_text
from storage import unit_tree
from storage.models import Unit
from storage.units import lookup_unit, split_path

HEADER_NAMES = {
    "name": ("ten", "ten don vi", "name", "don vi"),
    "kind": ("loai", "kind", "loai don vi", "cap"),
    "parent": ("cap tren", "parent", "don vi cap tren", "truc thuoc"),
}


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


class TableError(Exception):
    """The file cannot be read as a unit table; the message says why (Vietnamese)."""


@dataclass(frozen=True)
class UnitRow:
    number: int  # the row number in the file, the header being row 1
    name: str
    kind: str
    parent: str  # as written: a name, a path or an id; empty for a top-level unit


def read_table(path: Path) -> list[UnitRow]:
    """The rows of a CSV (comma, semicolon or tab) or XLSX unit table."""
    if not path.exists():
        raise TableError(f"Không thấy tệp {path}.")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as err:  # openpyxl raises many kinds for a file that is not a workbook
            raise TableError(f"Không đọc được tệp Excel {path}: {type(err).__name__}.") from None
        raw = [[cell_text(v) for v in r] for r in wb.active.iter_rows(values_only=True)]
        wb.close()
    else:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise TableError(
                f"Tệp {path} không phải văn bản UTF-8 (lưu lại dạng CSV UTF-8)."
            ) from None
        first = text.splitlines()[0] if text.strip() else ","
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
        raw = list(csv.reader(io.StringIO(text), dialect))
    numbered = [(n, r) for n, r in enumerate(raw, 1) if any(c.strip() for c in r)]
    if not numbered:
        return []
    header_number, header = numbered[0]
    columns = {
        what: next((i for i, h in enumerate(header) if fold(h) in names), None)
        for what, names in HEADER_NAMES.items()
    }
    if columns["name"] is None:
        raise TableError(
            f"Dòng {header_number} của tệp phải là dòng tiêu đề với cột “Tên” (và “Loại”, "
            "“Cấp trên”)."
        )

    def cell(row: list[str], what: str) -> str:
        col = columns[what]
        return one_line(row[col]) if col is not None and col < len(row) else ""

    return [
        UnitRow(number, cell(r, "name"), cell(r, "kind"), cell(r, "parent"))
        for number, r in numbered[1:]
    ]


def kind_code(text: str) -> str:
    """“Chi bộ” → ``chi_bo``, “Phường” → ``phuong``; empty → ``khac``."""
    return "_".join(_NOT_ALNUM.sub(" ", fold(text)).split()) or "khac"


@dataclass
class UnitImport:
    created: list[tuple[UnitRow, Unit]] = field(default_factory=list)
    existing: list[tuple[UnitRow, Unit]] = field(default_factory=list)
    failed: list[tuple[UnitRow, str]] = field(default_factory=list)

    def text(self, dry_run: bool = False) -> str:
        lines = [
            f"Đã nhập {len(self.created)} đơn vị mới ({len(self.existing)} đã có sẵn)."
            if not dry_run
            else f"Chạy thử: sẽ nhập {len(self.created)} đơn vị mới ({len(self.existing)} đã "
            "có sẵn); chưa ghi gì vào cơ sở dữ liệu."
        ]
        if self.failed:
            lines.append(f"Không nhập được {len(self.failed)} dòng:")
            lines += [f"- Dòng {r.number} (“{r.name}”): {why}." for r, why in self.failed]
        return "\n".join(lines) + "\n"


class _Waiting(Exception):
    """The upper unit may be a row of the file not placed yet."""


async def import_units(session: AsyncSession, rows: list[UnitRow], now: datetime) -> UnitImport:
    """Create the units of ``rows`` that are not there yet. The caller commits (or rolls back
    for a dry run)."""
    result = UnitImport()
    units = await unit_tree.list_units(session)
    pending: list[UnitRow] = []
    for row in rows:
        if not row.name:
            result.failed.append((row, "thiếu tên đơn vị (cột “Tên”)"))
        elif len(row.name) > NAME_MAX:
            result.failed.append((row, f"tên dài quá {NAME_MAX} ký tự"))
        else:
            pending.append(row)
    placed: dict[int, Unit] = {}  # row number → its unit
    while pending:
        progress = False
        for row in list(pending):
            try:
                parent = await _parent(session, row, units, pending)
            except _Waiting:
                continue
            except ValueError as err:
                result.failed.append((row, str(err)))
                pending.remove(row)
                progress = True
                continue
            same = [
                u
                for u in units
                if u.parent_id == (parent.id if parent else None)
                and name_key(u.name) == name_key(row.name)
            ]
            if same:
                result.existing.append((row, same[0]))
                placed[row.number] = same[0]
            else:
                unit = await unit_tree.add_unit(session, row.name, kind_code(row.kind), parent, now)
                units.append(unit)
                result.created.append((row, unit))
                placed[row.number] = unit
            pending.remove(row)
            progress = True
        if not progress:
            break
    for row in pending:
        waits_on = [r for r in pending if r is not row and _names(row.parent, r)]
        rows_text = ", ".join(str(r.number) for r in waits_on)
        circle = any(_names(r.parent, row) for r in waits_on)
        why = "mà dòng đó lại nhận dòng này làm cấp trên (vòng lặp)" if circle else "chưa nhập được"
        result.failed.append((row, f"cấp trên “{row.parent}” là đơn vị ở dòng {rows_text}, {why}"))
    result.failed.sort(key=lambda pair: pair[0].number)
    return result


def _names(ref: str, row: UnitRow) -> bool:
    parts = split_path(ref)
    return bool(parts) and bool(match_names(parts[-1], [row], _row_name).found)


def _row_name(row: UnitRow) -> str:
    return row.name


async def _parent(
    session: AsyncSession, row: UnitRow, units: list[Unit], pending: list[UnitRow]
) -> Unit | None:
    """The upper unit of ``row``; raises _Waiting when a pending row of the file may be it,
    ValueError (the reason, in Vietnamese) when there is none or several."""
    if not row.parent:
        return None
    if any(other is not row and _names(row.parent, other) for other in pending):
        raise _Waiting
    found = await lookup_unit(session, row.parent, units=units)
    if found.unit is not None:
        return found.unit
    raise ValueError(f"cấp trên: {found.problem()}")


__all__ = ["TableError", "UnitImport", "UnitRow", "import_units", "kind_code", "read_table"]
