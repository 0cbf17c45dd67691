"""The rows of Phụ lục 1 and Phụ lục 4: one SQL query giving the models in print order (units
in tree order, fields KT, VHXH, QPAN, XDĐ&HTCT, then the others), the totals written above
them (one GROUP BY query), and the text of a row's cells."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CTE, Select, String, Text, case, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.catalog import FIELD_LABELS, Field, Origin, Subject
from reports.appendix_form import OTHER_FIELD_DEFAULT
from storage import model_years
from storage.models import ModelYear, Unit

MAIN_FIELDS = (Field.KT.value, Field.VHXH.value, Field.QPAN.value, Field.XDD.value)


# --- SQL --------------------------------------------------------------------------------------

_FIELD_RANK = case(
    {value: rank for rank, value in enumerate(MAIN_FIELDS)},
    value=ModelYear.field,
    else_=len(MAIN_FIELDS),
)
# Models of another field are grouped by its name (field_other); the four main ones have none.
_OTHER_KEY = case(
    (ModelYear.field.in_(MAIN_FIELDS), literal_column("''", String)),
    else_=func.coalesce(ModelYear.field_other, literal_column("''", String)),
)
KEPT = Origin.KEPT.value
_IS_KEPT = ModelYear.origin == KEPT


def _digits(column: Any) -> Any:
    """The id as 10 zero-padded digits (an int32 id has at most 10): '2' → '0000000002'.

    substr/length/|| exist under these names on both SQLite and PostgreSQL."""
    text = cast(column, String)
    return func.substr(literal_column("'0000000000'", String).concat(text), func.length(text) + 1)


def _unit_order(root: Unit) -> CTE:
    """Tree order of root's subtree: (unit_id, sort_key), sort_key the padded ids from root down.

    ``ORDER BY units.path`` is depth-first but sorts siblings as text ("/1/10/" before "/1/2/");
    padding every id to a fixed width makes text order equal numeric order at each level, so
    siblings come in creation order and each unit is directly followed by its own subtree."""
    top = (
        select(Unit.id.label("unit_id"), cast(_digits(Unit.id), Text).label("sort_key"))
        .where(Unit.id == root.id)
        .cte("unit_order", recursive=True)
    )
    child = aliased(Unit, name="child_unit")
    return top.union_all(
        select(child.id, cast(top.c.sort_key.concat(_digits(child.id)), Text)).where(
            child.parent_id == top.c.unit_id
        )
    )


def rows_query(
    root: Unit, year: int, subtree: bool, *, kept_first: bool
) -> Select[*tuple[Any, ...]]:
    """Every model row, in the order it is written. PL1 (kept_first): section (kept, then new),
    unit, field; PL4: unit, origin (new, then kept), field."""
    stmt = model_years.in_scope(
        select(
            Unit.id.label("unit_id"),
            Unit.name.label("unit_name"),
            ModelYear.origin,
            ModelYear.name,
            ModelYear.field,
            ModelYear.field_other,
            ModelYear.subject,
            ModelYear.subject_name,
            ModelYear.place,
            ModelYear.lead_body,
            ModelYear.scale,
            ModelYear.results,
        ).select_from(ModelYear),
        root,
        year,
        subtree,
    )
    kept_rank = case((_IS_KEPT, 0 if kept_first else 1), else_=1 if kept_first else 0)
    unit_keys: list[Any] = []
    if subtree:
        order = _unit_order(root)
        stmt = stmt.join(order, order.c.unit_id == Unit.id)
        unit_keys.append(order.c.sort_key)
    unit_keys.append(Unit.id)
    by_unit = [*unit_keys, kept_rank] if not kept_first else [kept_rank, *unit_keys]
    return stmt.order_by(*by_unit, _FIELD_RANK, _OTHER_KEY, ModelYear.name, ModelYear.id)


@dataclass
class Totals:
    """Counts of the year's active models, summed from the GROUP BY groups (a few dozen)."""

    by_origin_subject: Counter[tuple[bool, str]] = field(default_factory=Counter)
    by_unit: Counter[tuple[int, bool]] = field(default_factory=Counter)  # (unit, kept)
    by_field: Counter[str] = field(default_factory=Counter)
    by_other_field: Counter[str] = field(default_factory=Counter)

    def count(self, *, kept: bool | None = None, subject: str | None = None) -> int:
        return sum(
            n
            for (is_kept, subj), n in self.by_origin_subject.items()
            if (kept is None or is_kept == kept) and (subject is None or subj == subject)
        )


async def read_totals(session: AsyncSession, root: Unit, year: int, subtree: bool) -> Totals:
    stmt = model_years.in_scope(
        select(
            ModelYear.origin,
            ModelYear.field,
            ModelYear.field_other,
            ModelYear.subject,
            func.count().label("n"),
        ).select_from(ModelYear),
        root,
        year,
        subtree,
    ).group_by(ModelYear.origin, ModelYear.field, ModelYear.field_other, ModelYear.subject)
    totals = Totals()
    for origin, fld, other, subject, n in await session.execute(stmt):
        totals.by_origin_subject[(origin == Origin.KEPT.value, subject)] += n
        if fld in MAIN_FIELDS:
            totals.by_field[fld] += n
        else:
            totals.by_other_field[(other or "").strip() or OTHER_FIELD_DEFAULT] += n
    per_unit = model_years.in_scope(
        select(Unit.id, ModelYear.origin, func.count()).select_from(ModelYear), root, year, subtree
    ).group_by(Unit.id, ModelYear.origin)
    for unit_id, origin, n in await session.execute(per_unit):
        totals.by_unit[(unit_id, origin == Origin.KEPT.value)] += n
    return totals


# --- cell values ------------------------------------------------------------------------------


_MAIN_FIELD_TEXT = {value: FIELD_LABELS[Field(value)] for value in MAIN_FIELDS}


def field_text(fld: str, other: str | None) -> str:
    main = _MAIN_FIELD_TEXT.get(fld)
    if main is not None:
        return main
    return (other or "").strip() or FIELD_LABELS[Field.OTHER]


def shown_name(name: str, subject: str, subject_name: str | None) -> str:
    """The model's name; for a model of one person, who it is: "Tên mô hình (Họ tên)"."""
    person = (subject_name or "").strip()
    if subject == Subject.INDIVIDUAL.value and person and person not in name:
        return f"{name} ({person})"
    return name
