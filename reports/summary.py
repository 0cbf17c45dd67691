"""The leader's summary of a year: who registered, how many models per field and subject,
who is late or below the quota, as data (:func:`summary_of`); the units of a subtree in
tree order. The phone text is ``reports/summary_text.py``'s, the workbook "Tổng hợp"
``reports/summary_sheet.py``'s.

Counts come from one aggregate query (GROUP BY unit, with a conditional count per field,
subject, origin and recognition review, and the unit's first creation time), never from
loading every model row; the units in scope are read as plain rows (id, name, kind, parent).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, String, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine

from domain.calendar import UNIT_REPORT
from domain.catalog import (
    DEFAULT_QUOTAS,
    FIELD_KEYS,
    NAMED_FIELDS,
    Field,
    Origin,
    RecordState,
    Review,
    Subject,
)
from domain.text import fold
from reports.aggregates import count_if, has_results, passing, record_scores, scored
from storage.models import DvkModel, ModelYear, Unit, UnitReport

DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_DIGITS = re.compile(r"(\d+)")


@dataclass
class UnitLine:
    """One unit's numbers in the year."""

    unit_id: int
    name: str
    kind: str
    depth: int  # below the root of the summary (the root is 0)
    models: int
    by_field: dict[str, int]  # Field value → count, every field present
    collective: int
    individual: int
    new: int
    kept: int
    quota: int  # 0 = no quota for this kind
    quota_met: bool
    registered: bool  # at least one active model in the year
    on_time: bool  # registered, and its first model created before the deadline
    first_at: datetime | None = None  # creation of its first active model of the year
    # Recognition (/dexuat, /duyet): models waiting for a decision, and each decision.
    proposed: int = 0
    recognised: int = 0
    not_recognised: int = 0
    removed: int = 0
    # The evaluation season: results entered, self-scored, passing, its yearly report sent.
    results: int = 0
    scored: int = 0
    passing: int = 0
    report_sent: bool = False

    @property
    def must_register(self) -> bool:
        """A unit counted as owing models: its kind has a quota."""
        return self.quota > 0


@dataclass
class Summary:
    root_name: str
    year: int
    units: list[UnitLine]  # tree order: parents before children, siblings by name
    units_total: int
    units_registered: int
    by_field: dict[str, int]
    collective: int
    individual: int
    new: int
    kept: int
    late: list[str]  # owing models: none, or the first after the deadline; by name
    under_quota: list[str]  # by name
    deadline: datetime | None = None
    proposed: int = 0  # waiting for a leader's decision
    recognised: int = 0
    not_recognised: int = 0
    removed: int = 0  # thanh loại
    not_registered: list[str] = field(default_factory=list)  # owing models, none yet; by name
    # Owing models, the first after the deadline; by name.
    registered_late: list[str] = field(default_factory=list)
    results: int = 0  # models with results entered
    scored: int = 0  # models self-scored (at least one criterion)
    passing: int = 0  # scored models the rubric passes
    reports_due: int = 0  # units that send a yearly report to this one
    reports_sent: int = 0

    @property
    def models(self) -> int:
        return sum(self.by_field.values())

    @property
    def must_register(self) -> list[UnitLine]:
        return [u for u in self.units if u.must_register]

    @property
    def owing_registered(self) -> int:
        """Units owing models that have registered (of ``len(must_register)``)."""
        return sum(1 for u in self.must_register if u.registered)

    @property
    def considered(self) -> int:
        """Models proposed for recognition, decided or not."""
        return self.proposed + self.recognised + self.not_recognised


def in_season(deadline: datetime | None, now: datetime) -> bool:
    """The evaluation season of a year has begun: its registration deadline has passed. From
    then on /tonghop and the Tổng hợp workbook show results, scores and reports sent."""
    return deadline is not None and now >= deadline


# --- tree order ------------------------------------------------------------------------


def name_key(name: str) -> tuple[str | int, ...]:
    """Sort key of a name: no diacritics, case-insensitive, numbers by value (“Tổ 2” before
    “Tổ 10”)."""
    parts = _DIGITS.split(fold(name))
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


class _TreeUnit(Protocol):
    """What :func:`tree_order` needs of a unit: an ORM :class:`Unit` or a plain row."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def parent_id(self) -> int | None: ...


_U = TypeVar("_U", bound=_TreeUnit)


class _UnitRow(NamedTuple):
    """The columns of a unit the summary needs, read as a row rather than an ORM object."""

    id: int
    name: str
    kind: str
    parent_id: int | None
    reported: bool = False  # its yearly report marked sent


def tree_order(units: Sequence[_U]) -> list[tuple[_U, int]]:
    """Units depth first (each parent before its children, siblings by :func:`name_key`),
    with their depth below the top of the given set (units whose parent is not in the set
    are tops, depth 0). Built from ``parent_id``, not from path strings ("/1/10/" sorts
    before "/1/2/")."""
    return _tree_order(_by_name(units))


def _by_name(units: Sequence[_U]) -> list[_U]:
    """The units by (:func:`name_key`, id): one sort of the whole set, each key made once."""
    keyed = sorted((name_key(u.name), u.id, i) for i, u in enumerate(units))
    return [units[i] for _, _, i in keyed]


def _tree_order(by_name: Sequence[_U]) -> list[tuple[_U, int]]:
    """:func:`tree_order` of units already sorted by name: each parent's children are
    collected in that order, so no sibling list needs sorting again."""
    ids = {u.id for u in by_name}
    children: dict[int, list[_U]] = {}
    tops: list[_U] = []
    for unit in by_name:
        parent = unit.parent_id
        if parent is not None and parent in ids:
            children.setdefault(parent, []).append(unit)
        else:
            tops.append(unit)

    ordered: list[tuple[_U, int]] = []
    stack = [(u, 0) for u in reversed(tops)]
    while stack:
        unit, depth = stack.pop()
        ordered.append((unit, depth))
        below = children.get(unit.id)
        if below:
            stack.extend((c, depth + 1) for c in reversed(below))
    return ordered


async def units_in_scope(
    session: AsyncSession, root: Unit, subtree: bool = True
) -> list[tuple[Unit, int]]:
    """The root and, with ``subtree``, every unit below it, in :func:`tree_order`."""
    if not subtree:
        return [(root, 0)]
    rows = await session.scalars(
        select(Unit).where(Unit.path.startswith(root.path, autoescape=True))
    )
    return tree_order(list(rows.all()))


# --- the numbers -----------------------------------------------------------------------


# UnitLine / Summary attribute → Review value.
REVIEW_KEYS: tuple[tuple[str, str], ...] = (
    ("proposed", Review.PROPOSED.value),
    ("recognised", Review.RECOGNISED.value),
    ("not_recognised", Review.NOT_RECOGNISED.value),
    ("removed", Review.REMOVED.value),
)


class _Counts(NamedTuple):
    """One unit's row of the aggregate."""

    models: int
    named: tuple[int, ...]  # by NAMED_FIELDS
    collective: int
    individual: int
    new: int
    kept: int
    reviews: tuple[int, ...]  # by REVIEW_KEYS
    first_at: datetime | None  # its first active record of the year
    results: int = 0
    scored: int = 0
    passing: int = 0


_NO_COUNTS = _Counts(0, (0,) * len(NAMED_FIELDS), 0, 0, 0, 0, (0,) * len(REVIEW_KEYS), None)


def _written(value: object, type_: type[TypeEngine[Any]]) -> BindParameter[Any]:
    """``value`` written into the SQL rather than bound as a parameter (SQLAlchemy renders
    it as a literal when the statement runs), so that the database plans with it.

    PostgreSQL plans a prepared statement with its values five times, then may keep a
    generic plan made without them. With the subtree's path prefix a parameter, that plan
    guesses a tiny share of the units match, joins by nested loops and sorts on disk: from
    the sixth ``/tonghop`` on one connection the count becomes several times slower
    (``bench/bench_reports.py`` measures it)."""
    return bindparam(None, value, type_=type_, literal_execute=True)


def _in_subtree(root: Unit) -> ColumnElement[bool]:
    """``units.path LIKE '<root's path>%'``, escaped as ``startswith(autoescape=True)`` does,
    with the prefix :func:`_written` into the SQL."""
    pattern = root.path.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
    return Unit.path.like(_written(pattern, String), escape="/")


async def _scope_rows(
    session: AsyncSession, root: Unit, subtree: bool, year: int
) -> list[_UnitRow]:
    """The root and, with ``subtree``, every unit below it: only the columns the summary
    needs (with whether its yearly report of ``year`` is marked sent), as rows (no ORM
    objects), in no particular order."""
    reported = (
        select(UnitReport.id)
        .where(
            UnitReport.unit_id == Unit.id,
            UnitReport.year == _written(year, Integer),
            UnitReport.kind == _written(UNIT_REPORT, String),
        )
        .exists()
    )
    query = select(Unit.id, Unit.name, Unit.kind, Unit.parent_id, reported)
    query = query.where(_in_subtree(root) if subtree else Unit.id == root.id)
    return [_UnitRow(*row) for row in (await session.execute(query)).all()]


async def summary_of(
    session: AsyncSession,
    root: Unit,
    year: int,
    deadline: datetime,
    quotas: Mapping[str, int] | None = None,
    subtree: bool = True,
) -> Summary:
    """The year's numbers of ``root`` (and of every unit below it with ``subtree``), from the
    active records of ``year``. ``deadline`` is the aware end of the registration day (the
    first instant after it): a unit is on time when its first active record of the year was
    created before it. ``quotas`` by unit kind, :data:`DEFAULT_QUOTAS` when None; a kind
    missing from it has no quota."""
    if deadline.tzinfo is None:
        raise ValueError("deadline must be timezone-aware")
    quotas = DEFAULT_QUOTAS if quotas is None else quotas
    by_name = _by_name(await _scope_rows(session, root, subtree, year))

    scores = record_scores()
    # One row per unit with models: the total, then a conditional count per named field,
    # subject, origin and review (in the order unpacked below), then the first creation.
    query = (
        select(
            DvkModel.unit_id,
            func.count(ModelYear.id),
            *(count_if(ModelYear.field == f) for f in NAMED_FIELDS),
            count_if(ModelYear.subject == Subject.COLLECTIVE.value),
            count_if(ModelYear.subject == Subject.INDIVIDUAL.value),
            count_if(ModelYear.origin == Origin.NEW.value),
            count_if(ModelYear.origin == Origin.KEPT.value),
            *(count_if(ModelYear.review == value) for _, value in REVIEW_KEYS),
            count_if(has_results()).label("results"),
            count_if(scored(scores)).label("scored"),
            count_if(passing(scores)).label("passing"),
            func.min(ModelYear.created_at).label("first_at"),
        )
        .select_from(ModelYear)
        .join(DvkModel, DvkModel.id == ModelYear.model_id)
        .outerjoin(scores, scores.c.record == ModelYear.id)
        .where(
            ModelYear.year == _written(year, Integer),
            ModelYear.state == _written(RecordState.ACTIVE.value, String),
        )
        .group_by(DvkModel.unit_id)
    )
    if subtree:
        query = query.join(Unit, Unit.id == DvkModel.unit_id).where(_in_subtree(root))
    else:
        query = query.where(DvkModel.unit_id == root.id)
    f = len(NAMED_FIELDS)
    counts = {
        row[0]: _Counts(
            models=row[1],
            named=tuple(row[2 : 2 + f]),
            collective=row[2 + f],
            individual=row[3 + f],
            new=row[4 + f],
            kept=row[5 + f],
            reviews=tuple(row[6 + f : 6 + f + len(REVIEW_KEYS)]),
            first_at=row.first_at,
            results=row.results,
            scored=row.scored,
            passing=row.passing,
        )
        for row in (await session.execute(query)).all()
    }

    lines: list[UnitLine] = []
    by_id: dict[int, UnitLine] = {}
    for unit, depth in _tree_order(by_name):
        c = counts.get(unit.id, _NO_COUNTS)
        by_field = dict(zip(NAMED_FIELDS, c.named, strict=True))
        by_field[Field.OTHER.value] = c.models - sum(c.named)
        quota = int(quotas.get(unit.kind, 0))
        line = UnitLine(
            unit_id=unit.id,
            name=unit.name,
            kind=unit.kind,
            depth=depth,
            models=c.models,
            by_field=by_field,
            collective=c.collective,
            individual=c.individual,
            new=c.new,
            kept=c.kept,
            quota=quota,
            quota_met=c.models >= quota,
            registered=c.models > 0,
            on_time=c.models > 0 and c.first_at is not None and c.first_at < deadline,
            first_at=c.first_at,
            **{key: n for (key, _), n in zip(REVIEW_KEYS, c.reviews, strict=True)},
            results=c.results,
            scored=c.scored,
            passing=c.passing,
            report_sent=bool(unit.reported),
        )
        lines.append(line)
        by_id[unit.id] = line

    # by_name is sorted by (name_key, id): the lists of names need no sort of their own.
    reporting = [u for u in lines if u.depth > 0] or lines[:1]
    owing = [by_id[u.id] for u in by_name if u.id in by_id and by_id[u.id].must_register]
    return Summary(
        root_name=root.name,
        year=year,
        units=lines,
        units_total=len(lines),
        units_registered=sum(1 for u in lines if u.registered),
        by_field={f: sum(u.by_field[f] for u in lines) for f in FIELD_KEYS},
        collective=sum(u.collective for u in lines),
        individual=sum(u.individual for u in lines),
        new=sum(u.new for u in lines),
        kept=sum(u.kept for u in lines),
        late=[u.name for u in owing if not u.on_time],
        under_quota=[u.name for u in owing if not u.quota_met],
        not_registered=[u.name for u in owing if not u.registered],
        registered_late=[u.name for u in owing if u.registered and not u.on_time],
        deadline=deadline,
        **{key: sum(getattr(u, key) for u in lines) for key, _ in REVIEW_KEYS},
        results=sum(u.results for u in lines),
        scored=sum(u.scored for u in lines),
        passing=sum(u.passing for u in lines),
        # The units below report to the root; a unit alone reports itself.
        reports_due=len(reporting),
        reports_sent=sum(1 for u in reporting if u.report_sent),
    )


__all__ = [
    "Summary",
    "UnitLine",
    "in_season",
    "name_key",
    "summary_of",
    "tree_order",
    "units_in_scope",
]
