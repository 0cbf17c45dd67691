"""The lists of the report drafts: the recognised models (one row per model), the typical
models with their introductions (/gioithieu), the documents of Biểu 1; units in tree order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import (
    DECISION_LEVEL_LABELS,
    FIELD_KEYS,
    INTRO_PARTS,
    NAMED_FIELDS,
    SUBJECT_LABELS,
    DecisionLevel,
    Field,
    RecordState,
    Review,
    Subject,
    field_label,
)
from reports.appendix import shown_name
from reports.drafts import in_scope
from reports.summary import name_key, tree_order
from storage.models import DvkModel, LeadDocument, ModelIntro, ModelYear, Unit


@dataclass(frozen=True)
class RecognisedModel:
    """One recognised model of the year (a row of the list in the report)."""

    record_id: int
    unit_name: str
    name: str  # with the person for an individual: "Tên (Họ tên)"
    field: str  # its label
    subject: str  # Tập thể / Cá nhân
    reviewed_at: datetime | None
    # The decision that recognised it (/duyet, /quyetdinh): "125-QĐ/ĐU, 20/11/2026", or "".
    decision: str = ""


def decision_text(record: ModelYear) -> str:
    """The recognising decision as the list prints it: number, date and level, what is known."""
    parts = [record.decision_number or ""]
    if record.decision_date is not None:
        parts.append(record.decision_date.strftime("%d/%m/%Y"))
    if record.decision_level:
        parts.append(DECISION_LEVEL_LABELS.get(DecisionLevel(record.decision_level), ""))
    return ", ".join(p for p in parts if p)


async def recognised_models(
    session: AsyncSession, root: Unit, year: int, subtree: bool = True
) -> list[RecognisedModel]:
    """The models of ``year`` recognised (công nhận), one row per model, units in tree order,
    then by field and name."""
    stmt = (
        select(ModelYear, DvkModel.unit_id)
        .select_from(ModelYear)
        .where(
            ModelYear.year == year,
            ModelYear.state == RecordState.ACTIVE.value,
            ModelYear.review == Review.RECOGNISED.value,
        )
    )
    found = (await session.execute(in_scope(stmt, root, subtree))).all()
    return [
        RecognisedModel(
            record.id,
            unit.name,
            shown_name(record.name, record.subject, record.subject_name),
            field_label(record.field, record.field_other),
            SUBJECT_LABELS[Subject(record.subject)],
            record.reviewed_at,
            decision_text(record),
        )
        for record, unit in await _in_tree_order(session, root, subtree, found)
    ]


async def tree_rank(
    session: AsyncSession, root: Unit, subtree: bool
) -> dict[int, tuple[int, _UnitName]]:
    """Unit id → (place in tree order, its id and name): plain rows, not ORM objects."""
    if not subtree:
        return {root.id: (0, _UnitName(root.id, root.name, root.parent_id))}
    rows = await session.execute(
        select(Unit.id, Unit.name, Unit.parent_id).where(
            Unit.path.startswith(root.path, autoescape=True)
        )
    )
    units = [_UnitName(*row) for row in rows.all()]
    return {u.id: (n, u) for n, (u, _d) in enumerate(tree_order(units))}


class _UnitName(NamedTuple):
    id: int
    name: str
    parent_id: int | None


async def _in_tree_order(
    session: AsyncSession, root: Unit, subtree: bool, found: Sequence[Any]
) -> list[tuple[ModelYear, _UnitName]]:
    """(record, unit id) rows as (record, unit), units in tree order, then field, name, id."""
    if not found:
        return []
    order = await tree_rank(session, root, subtree)
    rank = {k: i for i, k in enumerate(FIELD_KEYS)}
    rows = [(record, order[unit_id]) for record, unit_id in found if unit_id in order]
    rows.sort(
        key=lambda t: (
            t[1][0],
            rank.get(t[0].field, len(rank)),
            name_key(t[0].name),
            t[0].id,
        )
    )
    return [(record, unit) for record, (_n, unit) in rows]


@dataclass(frozen=True)
class TypicalModel:
    """A model introduced with /gioithieu: the text of its introduction by part."""

    year: int
    unit_name: str
    name: str
    field: str  # Field value (OTHER for the others)
    field_text: str
    subject: str
    place: str
    recognised: bool
    parts: tuple[tuple[str, str], ...]  # (label, text) of the parts answered


async def typical_models(
    session: AsyncSession, root: Unit, first: int, last: int, subtree: bool = True
) -> list[TypicalModel]:
    """The models of the years ``first``..``last`` that have an introduction, recognised ones
    first, then units in tree order, field and name; latest year first."""
    stmt = (
        select(ModelYear, DvkModel.unit_id, ModelIntro)
        .select_from(ModelYear)
        .join(ModelIntro, ModelIntro.model_year_id == ModelYear.id)
        .where(
            ModelYear.year >= first,
            ModelYear.year <= last,
            ModelYear.state == RecordState.ACTIVE.value,
        )
    )
    rows = (await session.execute(in_scope(stmt, root, subtree))).all()
    intros = {record.id: intro for record, _u, intro in rows}
    ordered = await _in_tree_order(session, root, subtree, [(r, u) for r, u, _i in rows])
    out = []
    for record, unit in ordered:
        intro = intros[record.id]
        parts = tuple(
            (label, text.strip())
            for key, label, _q, _o in INTRO_PARTS
            if (text := getattr(intro, key)) and text.strip()
        )
        out.append(
            TypicalModel(
                year=record.year,
                unit_name=unit.name,
                name=shown_name(record.name, record.subject, record.subject_name),
                field=record.field if record.field in NAMED_FIELDS else Field.OTHER.value,
                field_text=field_label(record.field, record.field_other),
                subject=SUBJECT_LABELS[Subject(record.subject)],
                place=record.place,
                recognised=record.review == Review.RECOGNISED.value,
                parts=parts,
            )
        )
    out.sort(key=lambda t: (-t.year, not t.recognised))  # stable: tree order kept within
    return out


@dataclass(frozen=True)
class DocumentLine:
    unit_name: str
    number: str
    issued_on: date
    content: str


async def lead_documents(
    session: AsyncSession, root: Unit, first: int, last: int, subtree: bool = True
) -> list[DocumentLine]:
    """Biểu 1: the documents of the years ``first``..``last``, units in tree order, each unit's
    by date then number (as :func:`reports.bieu1.build_bieu1` orders them)."""
    order = await tree_rank(session, root, subtree)
    rank = {unit_id: n for unit_id, (n, _u) in order.items()}
    names = {unit_id: u.name for unit_id, (_n, u) in order.items()}
    stmt = select(LeadDocument).where(LeadDocument.year >= first, LeadDocument.year <= last)
    if subtree:
        stmt = stmt.join(Unit, Unit.id == LeadDocument.unit_id).where(
            Unit.path.startswith(root.path, autoescape=True)
        )
    else:
        stmt = stmt.where(LeadDocument.unit_id == root.id)
    documents = list((await session.scalars(stmt)).all())
    documents.sort(
        key=lambda d: (rank.get(d.unit_id, len(rank)), d.issued_on, name_key(d.number), d.id)
    )
    return [
        DocumentLine(names.get(d.unit_id, ""), d.number, d.issued_on, d.content) for d in documents
    ]
