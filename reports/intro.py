"""“Giới thiệu mô hình, điển hình”: the introductions of typical models (Hướng dẫn giới thiệu mô
hình, Quảng Ngãi, part II) as a workbook to put in the year's report, one block per model that has
an introduction.

Each block: the model's name, its unit, field, subject and place, its evidence count, then the five
parts of the Hướng dẫn giới thiệu mô hình (Quảng Ngãi): (cơ sở xây dựng; phạm vi tác động, ảnh
hưởng; phương thức triển khai; hiệu quả; giải pháp nhân rộng). Units in tree order, models by field
then name. The look is :mod:`reports.style` (Times New Roman, borders, A4 fit to width)."""

from __future__ import annotations

import asyncio
from io import BytesIO

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import INTRO_PARTS, SUBJECT_LABELS, Field, Subject, field_label
from reports.signing import DEFAULT_ROW, Rows, text_height
from reports.style import cell, merge, setup_sheet, title
from storage import model_years, unit_tree
from storage.models import Evidence, ModelIntro, ModelYear, Unit

SHEET = "Giới thiệu mô hình"
TITLE = "GIỚI THIỆU MÔ HÌNH, ĐIỂN HÌNH “DÂN VẬN KHÉO” TIÊU BIỂU NĂM {year}"
NONE_YET = "Chưa có mô hình nào được giới thiệu năm {year} (nhập bằng lệnh /gioithieu)."
EMPTY = "(chưa có)"
WIDTHS = (6, 30, 92)
SPACE = 12.0  # the empty row above each model's block
_FIELD_RANK = {f.value: i for i, f in enumerate((Field.KT, Field.VHXH, Field.QPAN, Field.XDD))}


async def _rows(
    session: AsyncSession, root: Unit, year: int, subtree: bool
) -> list[tuple[ModelYear, ModelIntro, Unit]]:
    stmt = model_years.in_scope(
        select(ModelYear, ModelIntro, Unit).join(
            ModelIntro, ModelIntro.model_year_id == ModelYear.id
        ),
        root,
        year,
        subtree,
    )
    rows = [(r, i, u) for r, i, u in (await session.execute(stmt)).all()]
    order = {u.id: n for n, u in enumerate(await unit_tree.list_units(session, root))}
    rows.sort(
        key=lambda t: (
            order.get(t[2].id, len(order)),
            _FIELD_RANK.get(t[0].field, len(_FIELD_RANK)),
            t[0].field_other or "",
            t[0].name,
            t[0].id,
        )
    )
    return rows


async def _evidence_counts(
    session: AsyncSession, record_ids: list[int]
) -> dict[int, dict[str, int]]:
    if not record_ids:
        return {}
    rows = await session.execute(
        select(Evidence.model_year_id, Evidence.kind, func.count())
        .where(Evidence.model_year_id.in_(record_ids))
        .group_by(Evidence.model_year_id, Evidence.kind)
    )
    counts: dict[int, dict[str, int]] = {}
    for record_id, kind, n in rows.all():
        counts.setdefault(record_id, {})[kind] = int(n)
    return counts


def _evidence_text(counts: dict[str, int]) -> str:
    photos, files = counts.get("photo", 0), counts.get("document", 0)
    if not photos and not files:
        return "Chưa có"
    parts = [f"{photos} ảnh"] if photos else []
    parts += [f"{files} tệp"] if files else []
    return ", ".join(parts)


def _subject_text(record: ModelYear) -> str:
    label = SUBJECT_LABELS[Subject(record.subject)]
    return f"{label}: {record.subject_name}" if record.subject_name else label


async def build_intro(session: AsyncSession, root: Unit, year: int, subtree: bool = True) -> bytes:
    rows = await _rows(session, root, year, subtree)
    counts = await _evidence_counts(session, [r.id for r, _i, _u in rows])
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    setup_sheet(ws, dict(enumerate(WIDTHS, 1)))
    sheet = Rows(ws, WIDTHS, landscape=True)
    append = sheet.append

    row = append([title(ws, root.name.upper(), size=12)], 20)
    merge(ws, [f"A{row}:B{row}"])
    append([])
    row = append([title(ws, TITLE.format(year=year))], 36)
    merge(ws, [f"A{row}:C{row}"])
    if not rows:
        append([])
        row = append([cell(ws, NONE_YET.format(year=year), italic=True, border=False)])
        merge(ws, [f"A{row}:C{row}"])
    for number, (record, intro, unit) in enumerate(rows, 1):
        details: list[tuple[str, str]] = [
            ("Đơn vị", unit.name),
            ("Lĩnh vực", field_label(record.field, record.field_other)),
            ("Chủ thể", _subject_text(record)),
            ("Địa điểm", record.place),
            ("Minh chứng", _evidence_text(counts.get(record.id, {}))),
        ]
        parts = [
            (f"{i}. {label}", getattr(intro, key) or EMPTY)
            for i, (key, label, _q, _o) in enumerate(INTRO_PARTS, 1)
        ]
        name = f"Tên mô hình: {record.name}"
        head = _height(name, WIDTHS[1] + WIDTHS[2]) or DEFAULT_ROW
        lines = [
            (label, text, _height(text, WIDTHS[2], _height(label, WIDTHS[1])))
            for label, text in (*details, *parts)
        ]
        # Blocks follow one another and a long one goes on over the page, but a model's
        # name never ends a page: it starts the next one with its first lines.
        sheet.keep_together(SPACE + head + sum(h or DEFAULT_ROW for _l, _t, h in lines[:3]))
        append([], SPACE)  # the space above a block (on top of a page when it starts one)
        first = append(
            [
                cell(ws, number, bold=True, horizontal="center", vertical="top"),
                cell(ws, name, bold=True),
                cell(ws, None),
            ],
            head,
        )
        merge(ws, [f"B{first}:C{first}"])
        for label, text, height in lines:
            row = append(
                [
                    cell(ws, None),
                    cell(ws, label, bold=label[0].isdigit(), vertical="top"),
                    cell(ws, text, vertical="top"),
                ],
                height,
            )
        merge(ws, [f"A{first}:A{row}"])
    sheet.sign(root.kind, root.signer_title)
    buffer = BytesIO()
    await asyncio.to_thread(wb.save, buffer)
    return buffer.getvalue()


def _height(text: str, width: float, at_least: float | None = None) -> float | None:
    height = text_height(text, width)
    if at_least is not None and (height is None or at_least > height):
        return at_least
    return height


__all__ = ["build_intro"]
