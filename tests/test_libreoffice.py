"""Every workbook the assistant hands out opens in LibreOffice (converted headless to PDF,
which fails on a file LibreOffice would have to repair). Skipped when it is not installed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reports.exports import EXPORTS, Scope
from storage.models import LeadDocument, ModelIntro, ModelScore, ModelYear
from tests.conftest import TZ
from tests.helpers import World, assert_libreoffice_opens, needs_libreoffice
from tests.test_exports import add_model


@needs_libreoffice
async def test_every_workbook_opens_in_libreoffice(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, tmp_path: Path
) -> None:
    now = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
    await add_model(sessionmaker, world.cell1, "Tuyến phố xanh <sạch> & đẹp", "VHXH")
    await add_model(sessionmaker, world.women, "=Phụ nữ tiết kiệm", "KT", "individual")
    async with sessionmaker() as session, session.begin():
        records = (await session.scalars(select(ModelYear).order_by(ModelYear.id))).all()
        for criterion in range(1, 16):
            session.add(
                ModelScore(
                    model_year_id=records[0].id,
                    criterion=criterion,
                    points=Decimal("5.5"),
                    scored_at=now,
                )
            )
        session.add(
            ModelIntro(
                model_year_id=records[0].id,
                basis="Nhiều tuyến phố còn rác",
                method="Mỗi tuần một buổi",
                results="12 tuyến phố sạch",
                updated_at=now,
            )
        )
        session.add(
            LeadDocument(
                unit_id=world.ward.id,
                year=2026,
                number="15-KH/ĐU",
                issued_on=date(2026, 2, 1),
                content="Kế hoạch thực hiện phong trào “Dân vận khéo” năm 2026",
                created_at=now,
            )
        )
    scope = Scope(root=world.ward, subtree=True, year=2026, tz=TZ, now=now, quotas={"chi_bo": 1})
    files = {}
    async with sessionmaker() as session:
        for code, export in EXPORTS.items():
            files[f"{code}.xlsx"] = await export.build(session, scope)
    await assert_libreoffice_opens(tmp_path, files)
