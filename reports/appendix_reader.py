"""Reading a filled Phụ lục 1 or Phụ lục 4 (Kế hoạch năm 2024 (Yên Bái)) as units type it.

Reads the form's layout as units fill it in today and exactly the layout our own export
writes (reports/appendix.py):

- which appendix: by the title (“… ĐĂNG KÝ XÂY DỰNG MỚI MÔ HÌNH …” is Phụ lục 1, “… BÁO CÁO KẾT
  QUẢ XÂY DỰNG, DUY TRÌ …” Phụ lục 4), else by the label “Phụ lục 1/4”, else by the headers;
- the columns: from the row numbering them “(1) (2) …” and the header labels above it (“Tập
  thể”, “Cá nhân”, “XD mới”, “Duy trì” name the mark columns);
- the lines above the table (“ĐẢNG ỦY PHƯỜNG HƯƠNG HỒ”, “TÊN ĐƠN VỊ: …”), kept for the
  importer to find whose sheet it is;
- the rows below, cell by cell: names, places and the other one-line cells with their line
  breaks and runs of spaces collapsed (a cell's Alt+Enter is no part of a name); column (7)
  keeps its lines.

What a row is (a section, a unit line, a model, the form's placeholder, the footer) is told
here; where it goes is the importer's business (reports/importer.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from domain.catalog import FIELD_ALIASES, FIELD_LABELS, FIELD_SHORT, Field, Origin
from domain.text import clean, fold, one_line
from reports.appendix import NOT_REPORTED

PL1, PL4 = "pl1", "pl4"
LABELS = {PL1: "Phụ lục 1", PL4: "Phụ lục 4"}
_NUMBER_CELL = re.compile(r"^\(\s*(\d{1,2})\s*\)$")
_UNIT_PREFIX = re.compile(r"^(\d{1,3})\s*[.)/-]\s*(\S.*)$")
_NUMBERED = re.compile(r"^\d{1,3}[.)]?$")
_ROMAN = re.compile(r"^(I|II|III|IV|V)[.)]?$")
_ROMAN_PREFIX = re.compile(r"^(I|II|III|IV|V)[.)]\s+\S")
DASHES = {"-", "–", "—", "+", "•", "*-"}
FOOTER_STARTS = ("tong so mo hinh", "tong so tap the", "ghi chu")
_YEAR = re.compile(r"\bnam\s+((?:19|20)\d\d)\b")
_NON_WORD = re.compile(r"[^\w ]+")


class WorkbookError(Exception):
    """The file cannot be read as an appendix; the message says why (in Vietnamese)."""


def cell_text(value: Any) -> str:
    """A cell's text on one line (names, places, marks …); a number Excel keeps as 12.0 is
    “12”."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return one_line(str(value))


def _paragraph(value: Any) -> str:
    """A cell's text with its lines kept (column (7): scale, results); Phụ lục 4's
    "(chưa báo cáo)" — no results entered — is no text."""
    text = "" if value is None else clean(str(value))
    return "" if fold(text) == fold(NOT_REPORTED) else text


def key(text: str) -> str:
    """Words without diacritics, case or punctuation: for labels and marks, not names."""
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


def _marked(value: str) -> bool:
    return bool(value) and key(value) not in ("", "0", "khong")


# --- fields ---------------------------------------------------------------------------------


def _field_keys() -> dict[str, Field]:
    keys: dict[str, Field] = {}
    for f in (Field.KT, Field.VHXH, Field.QPAN, Field.XDD):
        label = FIELD_LABELS[f]
        names = {label, re.sub(r"\([^)]*\)", " ", label), FIELD_SHORT[f], *FIELD_ALIASES[f]}
        for name in names:
            words = key(name)
            keys[words] = f
            keys[f"linh vuc {words}"] = f
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
OTHER_KEYS = {key(FIELD_LABELS[Field.OTHER]), "khac", "linh vuc khac"}


def parse_field(text: str) -> tuple[str, str | None] | None:
    """(field, field_other) of a “Lĩnh vực” cell; None when it is empty."""
    words = key(text)
    if not words:
        return None
    if words in FIELD_KEYS:
        return FIELD_KEYS[words].value, None
    if words in OTHER_KEYS:
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
    # The cells above the table (row number, text): the unit's name (“ĐẢNG ỦY PHƯỜNG …”,
    # “TÊN ĐƠN VỊ: …”), the appendix's label, the title.
    above: list[tuple[int, str]]


def _find_kind(texts: Sequence[str]) -> str | None:
    joined = " | ".join(key(t) for t in texts)
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
            match = _NUMBER_CELL.match(cell_text(value))
            if match:
                found[int(match.group(1))] = col
        if len(found) >= 5:
            numbers_at, numbers = i, found
            break
    if numbers_at is None:
        return None
    above = [cell_text(v) for row in values[:numbers_at] for v in row if v is not None]
    lines = [
        (i, text)
        for i, row in enumerate(values[: max(0, numbers_at - 2)], 1)
        for text in map(cell_text, row)
        if text
    ]
    labels: dict[int, str] = {}
    for row in values[max(0, numbers_at - 3) : numbers_at]:
        for col, value in enumerate(row):
            text = key(cell_text(value))
            if text:
                labels[col] = f"{labels[col]} {text}".strip() if col in labels else text
    # Sub-labels (“Tập thể”…) must be found as whole cells, so keep the row below the
    # group's label apart: exact matches look at the last header row alone.
    sub = {
        col: key(cell_text(v))
        for col, v in enumerate(values[numbers_at - 1] if numbers_at else ())
        if key(cell_text(v))
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

    def get(row: tuple[Any, ...], col: int | None, read: Any = cell_text) -> str:
        return str(read(row[col])) if col is not None and col < len(row) else ""

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
                text=get(row, cols.text, _paragraph),
                collective=_marked(get(row, cols.collective)),
                individual=_marked(get(row, cols.individual)),
                new=_marked(get(row, cols.new)),
                kept=_marked(get(row, cols.kept)),
            )
        )
    return Sheet(kind, year, rows, lines)


# --- what a row is -------------------------------------------------------------------------


def is_footer(row: RawRow) -> bool:
    stt, name = key(row.stt), key(row.name)
    return row.stt.strip() == "*" or any(s.startswith(FOOTER_STARTS) for s in (stt, name) if s)


def section_origin(row: RawRow) -> str | None:
    """Origin named by a section header row of Phụ lục 1 (I: kept, II: new); None if the row
    is not a section header."""
    stt = row.stt.strip().upper()
    roman = _ROMAN.match(stt)
    prefix = _ROMAN_PREFIX.match(row.name)
    words = key(row.name)
    named = words.startswith("mo hinh") and ("duy tri" in words or "moi" in words)
    if not roman and not prefix and (row.has_data or not named):
        return None
    if "duy tri" in words:
        return Origin.KEPT.value
    if "moi" in words:
        return Origin.NEW.value
    numeral = (roman.group(1) if roman else prefix.group(1) if prefix else "").upper()
    return {"I": Origin.KEPT.value, "II": Origin.NEW.value}.get(numeral, Origin.NEW.value)


def is_placeholder(row: RawRow) -> bool:
    """A row of the blank form (“Mô hình….”, “Chi bộ, phòng ban, đơn vị…”) left as it was."""
    return not row.has_data and (row.name.endswith("...") or row.name.rstrip(".").endswith("…"))


def unit_label(row: RawRow, in_block: bool, names_a_unit: Callable[[str], bool]) -> str | None:
    """The unit named by a sub-header row, or None for a model row. ``in_block``: a unit line
    came before; ``names_a_unit``: whether a text is (or looks like) a unit's name."""
    if row.stt.strip() in DASHES or row.has_data:
        return None
    prefix = _UNIT_PREFIX.match(row.name)
    if _NUMBERED.match(row.stt.strip()):
        named = prefix is not None and names_a_unit(prefix.group(2))
        return prefix.group(2) if prefix and named else row.name
    if prefix and not row.stt:
        return prefix.group(2)
    if not row.stt and (not in_block or names_a_unit(row.name)):
        return row.name
    return None
