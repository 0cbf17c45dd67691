"""The report drafts open in LibreOffice (converted headless to PDF), and no page holds only
the header block or only the closing (“Nơi nhận:” and the signature): the blocks are kept with
the body. Skipped without LibreOffice unless DVK_REQUIRE_LIBREOFFICE=1."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from reports.draft_files import make_draft
from tests.draft_data import Data, fill
from tests.helpers import World, assert_libreoffice_opens, needs_libreoffice

TODAY = date(2026, 11, 20)
PDFINFO, PDFTOTEXT = shutil.which("pdfinfo"), shutil.which("pdftotext")
# Lines of the header block and of the closing (as pdftotext reads them, joined by spaces).
HEADER_WORDS = ("ĐẢNG", "ỦY", "BỘ", "PHƯỜNG", "MINH", "KHAI", "CHI", "TỔ", "DÂN", "PHỐ", "*")
CLOSING_STARTS = (
    "Nơi nhận:",
    "- Ban",
    "- Thường trực",
    "- Các chi",
    "- Lưu",
    "T/M",
    "BÍ THƯ",
    "(Ký, ghi rõ họ tên)",
    "…",
    "cáo),",
)


def _run(*args: str) -> str:
    """A poppler tool's output (the arguments are ours: paths and page numbers)."""
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout  # noqa: S603


def pages(pdf: Path) -> list[list[str]]:
    """Each page's non-empty lines."""
    assert PDFINFO is not None
    assert PDFTOTEXT is not None
    count = next(
        int(line.split()[-1])
        for line in _run(PDFINFO, str(pdf)).splitlines()
        if line.startswith("Pages:")
    )
    out = []
    for n in range(1, count + 1):
        text = _run(PDFTOTEXT, "-f", str(n), "-l", str(n), "-layout", str(pdf), "-")
        out.append([" ".join(line.split()) for line in text.splitlines() if line.strip()])
    return out


def is_header(line: str) -> bool:
    return (
        "-BC/" in line
        or "ĐẢNG CỘNG SẢN VIỆT NAM" in line
        or (", ngày" in line and " tháng " in line)
        or all(w in HEADER_WORDS or w.isdigit() for w in line.split())
    )


def is_closing(line: str) -> bool:
    return line.startswith(CLOSING_STARTS) or set(line) <= {"…", ".", " "}


def body_lines(page: list[str]) -> list[str]:
    """The page's lines that are neither its number, nor the header block, nor the closing."""
    return [
        line for line in page if not line.isdigit() and not is_header(line) and not is_closing(line)
    ]


@needs_libreoffice
async def test_drafts_open_in_libreoffice_with_no_page_of_a_block_alone(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, tmp_path: Path
) -> None:
    assert PDFTOTEXT is not None, "poppler-utils is not installed"
    data: Data = await fill(sessionmaker, world)
    files = {}
    async with sessionmaker() as session:
        files["yearly.docx"] = (
            await make_draft(session, "yearly", data.world.cell1, 2026, today=TODAY, subtree=False)
        ).content
        files["consolidated.docx"] = (
            await make_draft(session, "consolidated", data.world.ward, 2026, today=TODAY)
        ).content
        files["review.docx"] = (
            await make_draft(session, "review", data.world.ward, 2026, today=TODAY, first=2022)
        ).content
    await assert_libreoffice_opens(tmp_path, files)
    for name in files:
        found = pages((tmp_path / name).with_suffix(".pdf"))
        assert len(found) >= 2, name
        for number, page in enumerate(found, 1):
            assert body_lines(page), (name, number, page)
        # The closing is on one page, after body text.
        closing = [
            n for n, page in enumerate(found) if any(x.startswith("Nơi nhận:") for x in page)
        ]
        assert len(closing) == 1, name
        signature = found[closing[0]]
        assert any("T/M BAN THƯỜNG VỤ" in x or "T/M CHI BỘ" in x for x in signature)
        first = found[0]
        assert first[0].startswith("ĐẢNG"), first[:3]
        assert any("ĐẢNG CỘNG SẢN VIỆT NAM" in x for x in first)
        assert "BÁO CÁO" in first


def test_the_page_rules_see_a_block_alone() -> None:
    """The checks above would fail on a page of a header or of a closing alone."""
    header_only = [
        "ĐẢNG ỦY PHƯỜNG MINH KHAI ĐẢNG CỘNG SẢN VIỆT NAM",
        "* Minh Khai, ngày tháng năm 2026",
        "Số -BC/ĐU",
    ]
    closing_only = [
        "3",
        "Nơi nhận: T/M BAN THƯỜNG VỤ",
        "- Ban Tuyên giáo và Dân vận Tỉnh ủy (báo BÍ THƯ",
        "cáo),",
        "- Lưu Văn phòng, Ban Xây dựng Đảng.",
        "(Ký, ghi rõ họ tên)",
        "……………………………",
    ]
    assert body_lines(header_only) == []
    assert body_lines(closing_only) == []
    assert body_lines(["4", "II. ĐỀ XUẤT, KIẾN NGHỊ", *closing_only]) == ["II. ĐỀ XUẤT, KIẾN NGHỊ"]
