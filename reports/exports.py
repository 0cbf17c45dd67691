"""The workbooks a person may ask for, in one registry used by chat and command line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar import REGISTRATION
from domain.messages import Document
from reports.appendix import build_pl1, build_pl4
from reports.bieu1 import build_bieu1
from reports.decisions import build_proposed, build_recognised
from reports.intro import build_intro
from reports.score_sheet import build_blank_score_sheet, build_score_sheet
from reports.style import XLSX_MIME, file_name
from reports.summary import Summary, in_season, summary_of
from reports.summary_sheet import write_summary
from storage import deadlines
from storage.models import Unit


@dataclass(frozen=True)
class Scope:
    """What a workbook covers: a unit and, for a leader, every unit below it."""

    root: Unit
    subtree: bool
    year: int
    tz: ZoneInfo
    now: datetime
    quotas: Mapping[str, int] | None = None


Builder = Callable[[AsyncSession, Scope], Awaitable[bytes]]


@dataclass(frozen=True)
class Export:
    code: str
    label: str  # shown to people
    file_kind: str  # first words of the file name
    aliases: tuple[str, ...]
    build: Builder


async def registration_deadline(session: AsyncSession, scope: Scope) -> datetime:
    """The end of the root unit's registration deadline day, in the configured time zone, as
    UTC."""
    due = await deadlines.due_for(session, scope.root, scope.year, REGISTRATION)
    local_end = datetime.combine(due.due_on + timedelta(days=1), time(0), scope.tz)
    return local_end.astimezone(UTC)


async def _pl1(session: AsyncSession, scope: Scope) -> bytes:
    return await build_pl1(session, scope.root, scope.year, scope.subtree)


async def _pl4(session: AsyncSession, scope: Scope) -> bytes:
    return await build_pl4(session, scope.root, scope.year, scope.subtree)


async def _score(session: AsyncSession, scope: Scope) -> bytes:
    return await build_score_sheet(session, scope.root, scope.year, scope.subtree)


async def _bieu1(session: AsyncSession, scope: Scope) -> bytes:
    return await build_bieu1(session, scope.root, scope.year, scope.subtree)


async def _summary(session: AsyncSession, scope: Scope) -> bytes:
    deadline = await registration_deadline(session, scope)
    summary = await summary_of(
        session, scope.root, scope.year, deadline, scope.quotas, scope.subtree
    )
    return _summary_workbook(scope, summary)


def _summary_workbook(scope: Scope, summary: Summary) -> bytes:
    evaluation = in_season(summary.deadline, scope.now)
    return write_summary(summary, scope.root, scope.subtree, evaluation=evaluation, tz=scope.tz)


async def _blank_score(session: AsyncSession, scope: Scope) -> bytes:
    return await build_blank_score_sheet(session, scope.root, scope.year, scope.subtree)


async def _proposed(session: AsyncSession, scope: Scope) -> bytes:
    return await build_proposed(session, scope.root, scope.year, scope.subtree, scope.tz)


async def _recognised(session: AsyncSession, scope: Scope) -> bytes:
    return await build_recognised(session, scope.root, scope.year, scope.subtree, scope.tz)


async def _intro(session: AsyncSession, scope: Scope) -> bytes:
    return await build_intro(session, scope.root, scope.year, scope.subtree)


EXPORTS: dict[str, Export] = {
    e.code: e
    for e in (
        Export("pl1", "Phụ lục 1 — Đăng ký mô hình", "Phụ lục 1", ("phu luc 1", "1"), _pl1),
        Export(
            "pl4",
            "Phụ lục 4 — Kết quả xây dựng, duy trì",
            "Phụ lục 4",
            ("phu luc 4", "4"),
            _pl4,
        ),
        Export(
            "score",
            "Biểu chấm điểm",
            "Biểu chấm điểm",
            ("cham diem", "diem", "bieuchamdiem", "bieu cham diem"),
            _score,
        ),
        Export(
            "score_blank",
            "Biểu chấm điểm trống (để chấm tay)",
            "Biểu chấm điểm trống",
            (
                "bieuchamdiem trong",
                "bieu cham diem trong",
                "cham diem trong",
                "chamdiem trong",
                "score blank",
                "trong",
            ),
            _blank_score,
        ),
        Export(
            "dexuat",
            "Danh sách đề nghị công nhận",
            "Danh sách đề nghị công nhận",
            ("de xuat", "de nghi", "de nghi cong nhan", "de xuat cong nhan"),
            _proposed,
        ),
        Export(
            "congnhan",
            "Danh sách mô hình được công nhận",
            "Danh sách được công nhận",
            ("cong nhan", "duoc cong nhan", "quyet dinh"),
            _recognised,
        ),
        Export("bieu1", "Biểu 1 — Văn bản chỉ đạo", "Biểu 1", ("bieu 1", "van ban"), _bieu1),
        Export("summary", "Tổng hợp", "Tổng hợp", ("tong hop",), _summary),
        Export(
            "intro",
            "Giới thiệu mô hình điển hình",
            "Giới thiệu mô hình",
            ("gioi thieu", "gioithieu", "dien hinh"),
            _intro,
        ),
    )
}


async def make_export(session: AsyncSession, code: str, scope: Scope) -> Document:
    return _document(code, scope, await EXPORTS[code].build(session, scope))


def summary_export(scope: Scope, summary: Summary) -> Document:
    """Tổng hợp of ``scope`` from its figures already read (:func:`reports.summary.summary_of`
    over the same scope), as /tonghop shows them in text beside it."""
    return _document("summary", scope, _summary_workbook(scope, summary))


def _document(code: str, scope: Scope, content: bytes) -> Document:
    name = file_name(EXPORTS[code].file_kind, scope.root.name, scope.year)
    return Document(name, content, XLSX_MIME)
