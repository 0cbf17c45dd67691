"""Finding a unit by what a person types: its id, its name, or its path from the top; how
to label units in a list a person picks from.

Names are compared by ``domain.text.match_names``: an exact name (any case, spacing or tone
placement) wins over one typed without diacritics, and names that differ only by a
diacritic (“Đảng bộ phường Hương Văn”, “Đảng bộ phường Hương Vân”) are two units. Where
several units answer, they are told apart by their paths, “Thị xã Hương Trà / Đảng bộ
phường Hương Văn”, never by ids alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.text import closest_names, fold, match_names, sort_key
from storage.models import Unit
from storage.unit_tree import ancestor_ids, list_units

PATH_SEPARATOR = " / "


def unit_name(unit: Unit) -> str:
    return unit.name


async def find_units_by_name(
    session: AsyncSession, name: str, partial: bool = False, within: Unit | None = None
) -> list[Unit]:
    """The units ``name`` names (``domain.text.match_names``: the exact name wins, a name
    typed without diacritics counts when nothing is exact; with ``partial``, a part of a
    name), in ``within``'s subtree if given. Several units back are an ambiguity."""
    units = await list_units(session, within)
    return list(match_names(name, units, unit_name, partial=partial).found)


async def unit_labels(session: AsyncSession, units: Sequence[Unit]) -> dict[int, str]:
    """How to name each unit in a list a person picks from: its name, and for names that
    appear twice (a cell of the same name in two wards) its parent's name as well."""
    counts = Counter(fold(u.name) for u in units)
    twins = {u.id: u.parent_id for u in units if counts[fold(u.name)] > 1 and u.parent_id}
    parents: dict[int, str] = {}
    if twins:
        rows = await session.execute(
            select(Unit.id, Unit.name).where(Unit.id.in_(set(twins.values())))
        )
        parents = dict(rows.tuples().all())
    return {u.id: f"{u.name} — {parents[twins[u.id]]}" if u.id in twins else u.name for u in units}


def path_name(unit: Unit, by_id: Mapping[int, Unit]) -> str:
    """“Thị xã Hương Trà / Đảng bộ phường Hương Văn”: the names from the top down."""
    return PATH_SEPARATOR.join(by_id[i].name for i in ancestor_ids(unit) if i in by_id)


def by_path(units: Iterable[Unit], by_id: Mapping[int, Unit]) -> list[Unit]:
    """``units`` in the order of their paths (twins one diacritic apart in a fixed order)."""

    return sorted(units, key=lambda u: (*sort_key(path_name(u, by_id)), u.id))


def split_path(text: str) -> list[str]:
    return [part.strip() for part in text.split("/") if part.strip()]


def match_path(
    parts: Sequence[str], units: Iterable[Unit], by_id: Mapping[int, Unit], partial: bool = False
) -> list[Unit]:
    """The units whose path ends with ``parts`` (“Đảng bộ phường Hương Văn / Chi bộ Tổ dân phố
    1” need not start at the top; with ``partial`` a level may be given by a part of its name,
    “Hương Văn / Chi bộ Tổ dân phố 1”). Exact names at every level win over names typed
    without diacritics, and those over parts."""
    best: dict[int, list[Unit]] = {}
    for unit in units:
        chain = ancestor_ids(unit)
        if len(chain) < len(parts):
            continue
        ranks = [
            _RANK[match_names(part, [by_id[i]], unit_name, partial=partial).how]
            if i in by_id
            else 0
            for part, i in zip(parts, chain[-len(parts) :], strict=True)
        ]
        if min(ranks) > 0:
            best.setdefault(min(ranks), []).append(unit)
    return best[max(best)] if best else []


_RANK = {"exact": 3, "loose": 2, "partial": 1, "none": 0}


@dataclass
class UnitLookup:
    """What a typed reference found: one unit, several (an ambiguity), or none, with the
    units whose names look like it when none."""

    ref: str
    found: list[Unit]
    by_id: dict[int, Unit]
    how: str  # id, path, exact, loose, partial, none
    suggestions: list[Unit] = field(default_factory=list)

    @property
    def unit(self) -> Unit | None:
        return self.found[0] if len(self.found) == 1 else None

    def path(self, unit: Unit) -> str:
        return path_name(unit, self.by_id)

    def listing(self, units: Sequence[Unit] | None = None, limit: int = 8) -> str:
        """“Thị xã Hương Trà / Đảng bộ phường Hương Văn (mã 12); …”."""
        # The candidates of an ambiguity in the order of their paths; suggestions best first.
        shown = by_path(self.found, self.by_id) if units is None else list(units)
        text = "; ".join(f"{self.path(u)} (mã {u.id})" for u in shown[:limit])
        return text + (f"; và {len(shown) - limit} đơn vị khác" if len(shown) > limit else "")

    def problem(self) -> str | None:
        """Why the reference names no single unit (Vietnamese), or None when it does."""
        if self.unit is not None:
            return None
        if self.found:
            return (
                f"có {len(self.found)} đơn vị khớp “{self.ref}”: {self.listing()}; "
                "hãy ghi đường dẫn đầy đủ (Cấp trên / Tên) hoặc mã số"
            )
        if self.how == "id":
            return f"không có đơn vị mã {self.ref}"
        text = f"không tìm thấy đơn vị “{self.ref}”"
        if self.suggestions:
            text += f"; gần giống: {self.listing(self.suggestions, limit=3)}"
        return text


async def lookup_unit(
    session: AsyncSession,
    ref: str,
    *,
    within: Unit | None = None,
    partial: bool = False,
    units: Sequence[Unit] | None = None,
) -> UnitLookup:
    """The unit ``ref`` names: an id (digits), a path (“A / B / C”, or its last levels) or a
    name; only units of ``within``'s subtree count when given (``units``: the candidates,
    when the caller has them already)."""
    everyone = list(units) if units is not None else await list_units(session)
    by_id = {u.id: u for u in everyone}
    if within is not None:
        everyone = [u for u in everyone if u.path.startswith(within.path)]
    ref = ref.strip()
    if ref.isdigit():
        found = [u for u in everyone if u.id == int(ref)]
        return UnitLookup(ref, found, by_id, "id")
    named = match_names(ref, everyone, unit_name, partial=partial and "/" not in ref)
    if not named.found and len(split_path(ref)) > 1:
        found = match_path(split_path(ref), everyone, by_id, partial)
        if found:
            return UnitLookup(ref, found, by_id, "path")
    if named.found:
        return UnitLookup(ref, list(named.found), by_id, named.how)
    parts = split_path(ref)
    near = [u for u, _ in closest_names(parts[-1] if parts else ref, everyone, unit_name)]
    return UnitLookup(ref, [], by_id, "none", near)
