"""Whose sheet it is, and which unit a unit line of it names.

A Phụ lục sent by a ward carries the ward's name above the table, as party documents do
(“ĐẢNG BỘ THỊ XÃ HƯƠNG TRÀ” over “ĐẢNG ỦY PHƯỜNG HƯƠNG HỒ”, or “TÊN ĐƠN VỊ: …”): that unit is
the scope of its rows unless ``--unit`` names another. Within the scope, a unit line names a
unit by the one name-matching rule (``domain.text.match_names``); twin names (“Chi bộ Tổ dân
phố 1” of two wards) are told apart by the unit lines above them and the header.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from domain.text import closest_names, fold, match_names
from reports.appendix_reader import WorkbookError
from storage.models import Unit
from storage.units import by_path, path_name, unit_name

_UNIT_TITLE = re.compile(r"^\s*t[êe]n\s+[đd][ơo]n\s+v[ịi]\s*[:.…]*\s*", re.IGNORECASE)
_DOTS = re.compile(r"[\s.…_:]+$")
# “Đảng ủy” is the committee, “Đảng bộ” the organisation it leads: a header names either.
_PARTY = re.compile(r"^\s*đảng\s+(?:ủy|uỷ|bộ)\s+", re.IGNORECASE)
LIKE_A_UNIT = 0.85  # an unnumbered row this much like a unit's name is a (misspelt) unit line


def _without_party(name: str) -> str:
    return _PARTY.sub("", name)


def header_candidates(text: str, units: Sequence[Unit]) -> list[Unit]:
    """The units a line above the table names: as written, with “Đảng ủy” read as “Đảng bộ”
    and back, or without either on both sides (“ĐẢNG BỘ THỊ XÃ HƯƠNG TRÀ”: “Thị xã Hương Trà”)."""
    text = _DOTS.sub("", _UNIT_TITLE.sub("", text))
    if len(fold(text)) < 4:
        return []
    found = match_names(text, units, unit_name).found
    if found:
        return list(found)
    bare = _without_party(text)
    if bare != text:
        for prefix in ("Đảng bộ ", "Đảng ủy "):
            found = match_names(prefix + bare, units, unit_name).found
            if found:
                return list(found)
        found = match_names(bare, units, lambda u: _without_party(u.name)).found
    return list(found)


@dataclass
class HeaderUnit:
    unit: Unit | None  # the one unit the header names
    candidates: list[Unit]  # when it names several (twins) and nothing tells them apart
    line: str = ""


def header_unit(lines: Sequence[tuple[int, str]], units: Sequence[Unit]) -> HeaderUnit:
    """The most specific unit the lines above the table name, each line read within the one
    above it when it can be (a district's line over a ward's)."""
    anchor: Unit | None = None
    pending: HeaderUnit = HeaderUnit(None, [])
    for _row, text in lines:
        found = header_candidates(text, units)
        if not found:
            continue
        if anchor is not None:
            below = [u for u in found if u.path.startswith(anchor.path) and u is not anchor]
            found = below or found
        if len(found) == 1:
            anchor, pending = found[0], HeaderUnit(found[0], [], text)
        else:
            pending = HeaderUnit(None, found, text)
    return pending


def under(units: Sequence[Unit], anchors: Sequence[Unit]) -> list[Unit]:
    """The units that the nearest anchor (the unit line above, its upper units, the header)
    singles out: the first anchor with exactly one of ``units`` in its subtree."""
    for anchor in anchors:
        inside = [u for u in units if u.path.startswith(anchor.path)]
        if len(inside) == 1:
            return inside
    return list(units)


def best_suggestion(label: str, units: Sequence[Unit]) -> tuple[Unit | None, list[Unit]]:
    """The units whose names look like ``label``, and the one to offer when one is clearly
    the closest (a tie, as between two wards' twins, offers none)."""
    near = closest_names(label, units, unit_name)
    if not near:
        return None, []
    clear = len(near) == 1 or near[0][1] > near[1][1]
    return (near[0][0] if clear else None), [u for u, _ in near]


def looks_like_unit(label: str, units: Sequence[Unit]) -> bool:
    return bool(
        match_names(label, units, unit_name).found
        or closest_names(label, units, unit_name, limit=1, cutoff=LIKE_A_UNIT)
    )


def paths(units: Sequence[Unit], by_id: dict[int, Unit], ordered: bool = True) -> str:
    """The units' paths, in their order (``ordered``) or as given (suggestions, best first)."""
    shown = by_path(units, by_id) if ordered else units
    return "; ".join(path_name(u, by_id) for u in shown)


def choose_scope(
    above: Sequence[tuple[int, str]],
    given: Unit | None,
    everyone: list[Unit],
    by_id: dict[int, Unit],
) -> tuple[Unit, Unit | None, str, list[tuple[int, str]]]:
    """The scope of a sheet whose lines above the table are ``above``: ``given`` (--unit),
    else the unit the header names, else the only top-level unit. Returns it, the unit the
    header names when inside the scope, how the scope was chosen, and notes about it."""
    named = header_unit(above, everyone)
    notes: list[tuple[int, str]] = []
    if given is not None:
        named_units = [named.unit] if named.unit else named.candidates
        inside = [u for u in named_units if u.path.startswith(given.path)]
        header = inside[0] if len(inside) == 1 else None
        if named.unit is not None and header is None and not given.path.startswith(named.unit.path):
            notes.append(
                (
                    0,
                    f"đầu biểu ghi “{named.line}” ({path_name(named.unit, by_id)}), không thuộc "
                    f"{path_name(given, by_id)} đã chọn.",
                )
            )
        return given, header, "đơn vị đã chọn", notes
    if named.unit is not None:
        return named.unit, named.unit, f"đầu biểu ghi “{named.line}”", notes
    if named.candidates:
        raise WorkbookError(
            f"Đầu biểu ghi “{named.line}”, là tên của {len(named.candidates)} đơn vị: "
            f"{paths(named.candidates, by_id)}. Hãy chọn đơn vị bằng --unit (mã số hoặc "
            "đường dẫn)."
        )
    tops = [u for u in everyone if u.parent_id is None]
    if len(tops) != 1:
        raise WorkbookError(
            "Đầu biểu không ghi tên một đơn vị đã có, và có nhiều (hoặc không có) đơn vị cấp "
            "cao nhất: hãy chọn đơn vị bằng --unit."
        )
    return tops[0], None, "đơn vị cấp cao nhất", notes
