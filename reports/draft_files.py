"""The report drafts by kind, as bytes or as a document to send (one entry for chat and the
command line)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from domain.messages import Document
from reports.docx_style import DOCX_MIME
from reports.draft_doc import (
    CONSOLIDATED,
    DRAFT_KINDS,
    DRAFT_LABELS,
    REVIEW,
    YEARLY,
    build_year_report,
    draft_file_name,
)
from reports.draft_review import build_review
from storage.models import Unit

__all__ = [
    "CONSOLIDATED",
    "DOCX_MIME",
    "DRAFT_KINDS",
    "DRAFT_LABELS",
    "REVIEW",
    "YEARLY",
    "draft_file_name",
    "make_draft",
]


def _review_start(year: int, first: int | None) -> int:
    """The first year of a five-year review ending with ``year``, unless ``first`` is given."""
    return year - 4 if first is None else first


async def make_draft(
    session: AsyncSession,
    kind: str,
    root: Unit,
    year: int,
    *,
    today: date,
    subtree: bool = True,
    first: int | None = None,
) -> Document:
    """The .docx of draft ``kind`` (``yearly``, ``consolidated``, ``review``) of ``root`` for
    ``year`` (a review: the years ``first``..``year``, ``first`` defaulting to ``year - 4``),
    as a document to send, named by :func:`draft_file_name`; ``subtree``: the unit and every
    unit below it (a consolidated report always is); ``today`` gives the year of the date
    line."""
    if kind == REVIEW:
        start = _review_start(year, first)
        if start > year:
            raise ValueError(f"Năm bắt đầu {start} ở sau năm kết thúc {year}.")
        content = await build_review(session, root, start, year, subtree=subtree, today=today)
        return Document(draft_file_name(kind, root, year, start), content, DOCX_MIME)
    if kind not in (YEARLY, CONSOLIDATED):
        raise ValueError(f"Không có loại báo cáo “{kind}”: {', '.join(DRAFT_KINDS)}.")
    consolidated = kind == CONSOLIDATED
    content = await build_year_report(
        session,
        root,
        year,
        subtree=subtree or consolidated,
        consolidated=consolidated,
        today=today,
    )
    return Document(draft_file_name(kind, root, year), content, DOCX_MIME)
