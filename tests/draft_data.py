"""A varied data set for the report drafts' tests, and readers of a .docx draft."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from docx import Document as open_docx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.calendar import CONSOLIDATED, UNIT_REPORT
from domain.rubric import criteria_for, verdict
from storage import unit_tree
from storage.models import (
    LeadDocument,
    ModelIntro,
    ModelScore,
    ModelYear,
    Unit,
    UnitReport,
)
from tests.conftest import TZ
from tests.helpers import World, add_model_year

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
YEARS = (2024, 2025, 2026)
FIELDS = ("KT", "VHXH", "QPAN", "XDD", "OTHER")
REVIEWS = (None, None, "proposed", "recognised", "recognised", "not_recognised", "removed")


@dataclass
class Data:
    world: World
    deep: Unit  # below the women's union: two levels under the ward


async def fill(sm: async_sessionmaker[AsyncSession], world: World, seed: int = 7) -> Data:
    """Models of 2024–2026 in every unit of the ward (and one of the other ward), with every
    kind of record: new and kept, both subjects, every field, results or not, scores that pass
    or fail or none, every review, withdrawn records, introductions, documents, reports."""
    rng = random.Random(seed)
    async with sm() as session, session.begin():
        deep = await unit_tree.add_unit(
            session, "Chi hội Phụ nữ tổ 1", "doan_the", world.women, NOW
        )
        units = [world.ward, world.cell1, world.cell2, world.women, deep, world.other_cell]
        n = 0
        for year in YEARS:
            for unit in units:
                for _ in range(rng.randint(1, 4)):
                    n += 1
                    subject = rng.choice(("collective", "individual"))
                    fld = rng.choice(FIELDS)
                    review = REVIEWS[n % len(REVIEWS)]
                    record = await add_model_year(
                        session,
                        unit,
                        f"Mô hình {n} “{fld}”",
                        now=NOW,
                        year=year,
                        field=fld,
                        field_other="Đô thị văn minh" if fld == "OTHER" else None,
                        origin=rng.choice(("new", "kept")),
                        subject=subject,
                        subject_name=f"Nguyễn Văn {n}" if subject == "individual" else None,
                        results=(None, "", "  ", f"{n * 3} hộ tham gia", "Đạt")[n % 5],
                        review=review,
                        reviewed_at=NOW if review in ("recognised", "removed") else None,
                        state=rng.choice(("active",) * 9 + ("withdrawn",)),
                    )
                    style = rng.choice(("none", "pass", "fail", "partial"))
                    for c in criteria_for(subject):
                        if style == "none" or (style == "partial" and c.number > 8):
                            continue
                        points = c.maximum
                        if style == "fail" and c.number in (7, 12):
                            points -= Decimal("0.5")
                        session.add(
                            ModelScore(
                                model_year_id=record.id,
                                criterion=c.number,
                                points=points,
                                scored_at=NOW,
                            )
                        )
                    if rng.random() < 0.3:
                        session.add(
                            ModelIntro(
                                model_year_id=record.id,
                                basis=f"Cơ sở của mô hình {n}",
                                scope=rng.choice((None, f"Phạm vi {n} tổ dân phố")),
                                method=f"Cách làm {n}",
                                results=f"Kết quả {n * 2} hộ",
                                replication=None,
                                updated_at=NOW,
                            )
                        )
            for k, unit in enumerate(units[:4]):
                session.add(
                    LeadDocument(
                        unit_id=unit.id,
                        year=year,
                        number=f"{k + 1}{year % 100}-KH/ĐU",
                        issued_on=date(year, 2 + k, 10),
                        content=f"Kế hoạch thực hiện phong trào “Dân vận khéo” năm {year} ({k})",
                        created_at=NOW,
                    )
                )
        session.add(UnitReport(unit_id=world.cell1.id, year=2026, kind=UNIT_REPORT, sent_at=NOW))
        # Another year's report and another kind do not count.
        session.add(UnitReport(unit_id=world.cell2.id, year=2025, kind=UNIT_REPORT, sent_at=NOW))
        session.add(UnitReport(unit_id=world.women.id, year=2026, kind=CONSOLIDATED, sent_at=NOW))
    return Data(world, deep)


async def passing_by_python(session: AsyncSession, record_ids: list[int]) -> int:
    """Records that pass by :func:`domain.rubric.verdict`, one by one."""
    passed = 0
    for record_id in record_ids:
        record = await session.get(ModelYear, record_id)
        assert record is not None
        scores = await session.scalars(
            select(ModelScore).where(ModelScore.model_year_id == record_id)
        )
        points = {s.criterion: Decimal(s.points) for s in scores.all()}
        if points and verdict(points, record.subject).passed:
            passed += 1
    return passed


def docx_tables(content: bytes) -> list[list[list[str]]]:
    doc = open_docx(io.BytesIO(content))
    return [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]


def docx_paragraphs(content: bytes) -> list[str]:
    doc = open_docx(io.BytesIO(content))
    return [p.text for p in doc.paragraphs]


def table_titled(content: bytes, *headers: str) -> list[list[str]]:
    """The one table whose header row starts with ``headers``."""
    tables = docx_tables(content)
    found = [t for t in tables if t and t[0][: len(headers)] == list(headers)]
    assert len(found) == 1, [t[0] for t in tables]
    return found[0]
