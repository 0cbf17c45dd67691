"""The sheets print ready to sign: LibreOffice converts each workbook to PDF (headless) and
every page is read back with pdftotext. Each page carries its number ("Trang i/N") and part of
the sheet's body: none holds only the repeated header or only the signature block; the
signature block is on the last page; each model of the Biểu chấm điểm is one page.

Without LibreOffice the tests are skipped, unless ``DVK_REQUIRE_LIBREOFFICE=1`` (set by
``.ci/run``), which makes them fail."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import rubric
from domain.catalog import INTRO_PART_KEYS
from reports.exports import EXPORTS, Scope
from reports.signing import MAKER, Pager
from storage.models import CouncilScore, LeadDocument, ModelIntro, ModelScore, Unit
from tests.conftest import TZ
from tests.helpers import (
    PDFTOTEXT,
    World,
    add_model_year,
    assert_libreoffice_opens,
    need_libreoffice,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
LONG = (
    "Tuyên truyền, vận động hộ gia đình phân loại rác tại nguồn, trồng cây xanh, giữ gìn vệ "
    "sinh đường phố, lắp đèn chiếu sáng và camera an ninh trên các tuyến phố của tổ dân phố"
)
PRINTED = (
    "pl1",
    "pl4",
    "score",
    "score_blank",
    "bieu1",
    "dexuat",
    "congnhan",
    "summary",
    "intro",
)


async def pages_of(pdf: Path) -> list[str]:
    assert PDFTOTEXT is not None
    process = await asyncio.create_subprocess_exec(
        PDFTOTEXT, "-layout", str(pdf), "-", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    pages = out.decode().split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


async def printed(
    sm: async_sessionmaker[AsyncSession], root: Unit, tmp_path: Path, codes: tuple[str, ...]
) -> dict[str, list[str]]:
    need_libreoffice()
    scope = Scope(root=root, subtree=True, year=2026, tz=TZ, now=NOW)
    files = {}
    async with sm() as session:
        for code in codes:
            files[f"{code}.xlsx"] = await EXPORTS[code].build(session, scope)
    await assert_libreoffice_opens(tmp_path, files)
    return {code: await pages_of(tmp_path / f"{code}.pdf") for code in codes}


def marker(n: int) -> str:
    return f"MH{n:03d}"


async def big_year(sm: async_sessionmaker[AsyncSession], world: World, models: int) -> None:
    """``models`` models over three units (names start with a marker MH001…), long texts,
    three of them scored (one by the council too) and proposed or recognised, 30 documents."""
    units = (world.ward, world.cell1, world.cell2, world.women)
    async with sm() as session, session.begin():
        for n in range(1, models + 1):
            record = await add_model_year(
                session,
                units[n % len(units)],
                f"{marker(n)} Mô hình tuyến phố văn minh số {n}",
                now=NOW,
                field=("KT", "VHXH", "QPAN", "XDD")[n % 4],
                origin="kept" if n % 3 == 0 else "new",
                scale=LONG,
                results=LONG if n % 2 else None,
                review=("proposed", "recognised", None)[n % 3] if n <= 6 else None,
                decision_number="125-QĐ/ĐU" if n in (1, 4) else None,
                decision_date=date(2026, 11, 10) if n in (1, 4) else None,
                decision_level="phuong" if n in (1, 4) else None,
                proposed_at=NOW,
            )
            if n <= 8:  # introduced as a typical model, each part a paragraph
                session.add(
                    ModelIntro(
                        model_year_id=record.id,
                        updated_at=NOW,
                        **{key: f"{marker(n)} {LONG}. {LONG}." for key in INTRO_PART_KEYS},
                    )
                )
            if n <= 3:
                for c in rubric.criteria_for(record.subject):
                    session.add(
                        ModelScore(
                            model_year_id=record.id,
                            criterion=c.number,
                            points=c.maximum,
                            scored_at=NOW,
                        )
                    )
                    if n == 1:
                        session.add(
                            CouncilScore(
                                model_year_id=record.id,
                                criterion=c.number,
                                points=c.maximum - (Decimal(1) if c.number == 3 else 0),
                                scored_at=NOW,
                            )
                        )
        for n in range(1, 31):
            session.add(
                LeadDocument(
                    unit_id=units[n % len(units)].id,
                    year=2026,
                    number=f"{n}-KH/ĐU",
                    issued_on=date(2026, 1, 1 + n % 28),
                    content=f"{marker(n)} Kế hoạch thực hiện phong trào thi đua “Dân vận khéo”. "
                    + LONG,
                    created_at=NOW,
                )
            )


BODY = {
    # What a page of each sheet holds besides its header: a marked row, the totals and notes
    # under the table, a criterion's wording.
    "pl1": ("MH", "Tổng số", "Ghi chú:", "Tập thể:", "(2):", "(8):"),
    "pl4": ("MH", "Tổng số", "Ghi chú:", "Tập thể:", "(2):", "(9):"),
    "bieu1": ("MH", "Chưa có văn bản nào"),
    "dexuat": ("MH",),
    "congnhan": ("MH",),
    "score": ("Dân vận khéo",),
    "score_blank": ("Dân vận khéo",),
    # Tổng hợp: a unit's row, the totals; the introductions: a model's block.
    "summary": ("Chi bộ", "Tổng cộng", "Tất cả đơn vị"),
    "intro": ("MH", "Chưa có mô hình nào"),
}


def check_pages(code: str, pages: list[str], sheets: int = 1) -> None:
    """Every page numbered and holding part of the body; a signature block ends each of the
    workbook's ``sheets`` (printed one after the other), on the last page of each."""
    total = len(pages)
    signed = []
    for index, page in enumerate(pages, 1):
        flat = " ".join(page.split())
        assert f"Trang {index}/{total}" in flat, (code, index, flat[-200:])
        assert any(m in flat for m in BODY[code]), (code, index, "no body", flat[:300])
        if MAKER in flat:
            signed.append(index)
    assert len(signed) == sheets, (code, signed)
    assert signed[-1] == total, (code, "no signature on the last page")


async def test_every_sheet_prints_whole_pages(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, tmp_path: Path
) -> None:
    await big_year(sessionmaker, world, 45)
    pages = await printed(sessionmaker, world.ward, tmp_path, PRINTED)
    for code in ("pl1", "pl4", "bieu1", "dexuat", "congnhan", "intro"):
        check_pages(code, pages[code])
    # Tổng hợp: the table signed, then the units without a model signed.
    check_pages("summary", pages["summary"], sheets=2)
    # The introductions: 8 models of 10 long paragraphs, several pages; a model's name never
    # ends a page (its first lines are under it).
    assert len(pages["intro"]) >= 3
    for page in pages["intro"]:
        lines = [line for line in page.splitlines() if line.strip()]
        assert not any("Tên mô hình" in line for line in lines[-3:]), lines[-3:]
    # Long lists: several pages, each model on exactly one of them.
    assert len(pages["pl1"]) >= 3
    assert len(pages["pl4"]) >= 3
    assert len(pages["bieu1"]) >= 2
    for code in ("pl1", "pl4"):
        for n in range(1, 46):
            assert sum(marker(n) in p for p in pages[code]) == 1, (code, n)
    # The Biểu chấm điểm: one page per scored model, its verdict and signatures on it; the
    # blank form one page for a collective, one for an individual.
    assert len(pages["score"]) == 3
    assert len(pages["score_blank"]) == 2
    for code in ("score", "score_blank"):
        total = len(pages[code])
        for index, page in enumerate(pages[code], 1):
            flat = " ".join(page.split())
            assert f"Trang {index}/{total}" in flat, flat[-100:]
            assert "Kết quả" in flat
            assert MAKER in flat
            assert "Tổng cộng I + II" in flat
            assert rubric.COMMON[0].text[:40] in flat
    assert "Kết quả thẩm định" in " ".join(pages["score"][0].split())
    assert "MH001" in pages["score"][0]


@pytest.mark.parametrize("models", [0, 1, 8, 18, 29])
async def test_no_page_holds_only_the_signature_whatever_the_length(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, tmp_path: Path, models: int
) -> None:
    """Lengths where the block would not fit under the last rows of a page (without the
    planned breaks, 8 models leave it alone on a last page): the
    signature block never stands alone."""
    await big_year(sessionmaker, world, models)
    pages = await printed(
        sessionmaker, world.ward, tmp_path, ("pl1", "pl4", "bieu1", "summary", "intro")
    )
    for code, got in pages.items():
        check_pages(code, got, sheets=2 if code == "summary" else 1)


def test_pager_breaks_before_the_row_that_does_not_fit() -> None:
    """Portrait, columns narrower than the page: scale 1, a page holds FILL of its height;
    later pages start under the repeated header."""
    pager = Pager([10, 10], landscape=False)
    assert pager.scale == 1.0
    pager.repeated(50)
    per_page = pager.capacity
    rows = int(per_page // 20)
    for row in range(1, rows + 2):
        pager.add(row, 20)
    assert pager.breaks == [rows]  # the page ends after the last row that fits
    assert pager.used == 50 + 20  # the repeated header, then the row that moved
    # A block that does not fit under the last rows takes the last two with it.
    while pager.used + 20 <= pager.capacity - 10:
        pager.add(len(pager.page) + rows + 1, 20)
    last = pager.page[-1][0]
    pager.keep_with(100)
    assert pager.breaks[-1] == last - 2
    assert [row for row, _ in pager.page] == [last - 1, last]


def test_pager_scales_wide_columns_down() -> None:
    narrow = Pager([10] * 5, landscape=True)
    wide = Pager([40] * 10, landscape=True)
    assert narrow.scale == 1.0
    assert wide.scale < 0.5
    assert wide.capacity > 2 * narrow.capacity  # rows print smaller: more fit on a page
