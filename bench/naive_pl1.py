"""The naive baseline of the reports benchmark: Phụ lục 1 as a first version would write it,
openpyxl's normal mode cell by cell, from the same rows as ``reports.appendix.build_pl1``."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import Origin, Subject
from storage.models import Unit


async def naive_pl1(session: AsyncSession, root: Unit, year: int, subtree: bool = True) -> bytes:
    """Phụ lục 1 as a first version would write it: openpyxl's normal mode, one
    ``ws.cell(row, col, value)`` per cell with its font, border and alignment, merged header.
    The rows come from the same query, streamed the same way, as ``build_pl1``."""
    from reports import appendix as ap
    from reports import appendix_form as ap_form
    from reports import appendix_rows as ap_rows

    totals = await ap_rows.read_totals(session, root, year, subtree)
    wb = Workbook()
    ws = wb.active
    ws.title = ap_form.PL1_LABEL
    for index, width in enumerate(ap_form.PL1_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    plain, bold = Font(name="Times New Roman", size=12), Font(name="Times New Roman", bold=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ncols = len(ap_form.PL1_WIDTHS)

    def put(row: int, col: int, value: Any, *, strong: bool = False, mid: bool = False) -> None:
        c = ws.cell(row=row, column=col, value=value)
        c.font = bold if strong else plain
        c.border = border
        c.alignment = center if mid else left

    def full_row(row: int, values: Sequence[Any], strong: bool = False) -> None:
        for col in range(1, ncols + 1):
            value = values[col - 1] if col <= len(values) else None
            put(row, col, value, strong=strong, mid=col != 2)

    ws.cell(row=1, column=1, value=root.name.upper()).font = bold
    ws.cell(row=1, column=ncols - 1, value=ap_form.PL1_LABEL).font = bold
    ws.merge_cells("A1:D1")
    ws.cell(row=3, column=1, value=ap_form.PL1_TITLE.format(year=year)).font = bold
    ws.merge_cells(f"A3:{get_column_letter(ncols)}3")
    column = 1
    subs = iter(ap_form.PL1_SUB)
    for number, (label, span) in enumerate(ap_form.PL1_HEAD, 1):
        first, end = get_column_letter(column), get_column_letter(column + span - 1)
        put(5, column, label, strong=True, mid=True)
        put(7, column, f"({number})", mid=True)
        if span == 1:
            put(6, column, None)
            ws.merge_cells(f"{first}5:{first}6")
        else:
            for k in range(span):
                put(5, column + k, label if k == 0 else None, strong=True, mid=True)
                put(6, column + k, next(subs), strong=True, mid=True)
                put(7, column + k, f"({number})" if k == 0 else None, mid=True)
            ws.merge_cells(f"{first}5:{end}5")
            ws.merge_cells(f"{first}7:{end}7")
        column += span
    coll, indiv = Subject.COLLECTIVE.value, Subject.INDIVIDUAL.value

    def counts(stt: str | None, label: str, kept: bool | None) -> list[Any]:
        return [
            stt,
            label,
            totals.count(kept=kept),
            None,
            None,
            None,
            None,
            totals.count(kept=kept, subject=coll),
            totals.count(kept=kept, subject=indiv),
        ]

    row = 8
    full_row(row, counts(None, ap_form.TOTAL, None), strong=True)
    sections = (
        ("I", ap_form.PL1_SECTION_KEPT.format(last_year=year - 1), True),
        ("II", ap_form.PL1_SECTION_NEW.format(year=year), False),
    )
    opened, unit_id, unit_no, model_no = 0, None, 0, 0
    result = await session.stream(ap_rows.rows_query(root, year, subtree, kept_first=True))
    async for partition in result.partitions(ap._PARTITION):
        for r in partition:
            section = 0 if r.origin == Origin.KEPT.value else 1
            while opened <= section:
                row += 1
                full_row(row, counts(*sections[opened]), strong=True)
                opened, unit_id, unit_no = opened + 1, None, 0
            if r.unit_id != unit_id:
                unit_id, unit_no, model_no = r.unit_id, unit_no + 1, 0
                row += 1
                full_row(row, [unit_no, r.unit_name], strong=True)
            model_no += 1
            row += 1
            individual = r.subject == indiv
            full_row(
                row,
                [
                    ap_form.DASH,
                    ap_rows.shown_name(r.name, r.subject, r.subject_name),
                    model_no,
                    r.place,
                    r.lead_body,
                    ap_rows.field_text(r.field, r.field_other),
                    r.scale,
                    None if individual else ap_form.MARK,
                    ap_form.MARK if individual else None,
                ],
            )
            ws.cell(row=row, column=4).alignment = left
            ws.cell(row=row, column=5).alignment = left
            ws.cell(row=row, column=6).alignment = left
            ws.cell(row=row, column=7).alignment = left
    while opened < len(sections):
        row += 1
        full_row(row, counts(*sections[opened]), strong=True)
        opened += 1
    row += 2
    lines = [ap_form.TOTAL_BY_FIELD]
    lines += [t.format(n=totals.by_field[f]) for f, t in ap_form.FIELD_TOTAL_LINES.items()]
    lines += [
        ap_form.OTHER_FIELD_LINE.format(label=label, n=n)
        for label, n in totals.by_other_field.items()
    ]
    lines += [ap_form.TOTAL_BY_SUBJECT]
    lines += [t.format(n=totals.count(subject=s)) for s, t in ap_form.SUBJECT_TOTAL_LINES.items()]
    lines += [ap_form.NOTES_LABEL, *ap_form.PL1_NOTES]
    for line in lines:
        ws.cell(row=row, column=2, value=line).font = plain
        ws.merge_cells(f"B{row}:{get_column_letter(ncols)}{row}")
        row += 1
    ws.freeze_panes = "A8"
    ws.print_title_rows = "5:7"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
