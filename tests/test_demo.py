"""`dvk demo` built as of days on both sides of each deadline, on SQLite and PostgreSQL: what
the database holds at each stage, and what the demo people see in /lich and /tonghop."""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import run_command
from bot.demo import load_demo
from bot.demo_data import WARD
from bot.settings import Settings
from domain import rubric
from domain.calendar import DEADLINE_KINDS
from domain.catalog import RecordState
from handlers.core import Core
from scheduler import obligations
from storage import deadlines
from storage.db import make_engine, make_sessionmaker
from storage.models import (
    ConversationState,
    DeadlineExtension,
    ModelIntro,
    ModelScore,
    ModelYear,
    Unit,
    UnitReport,
)
from tests.conftest import TZ
from tests.helpers import Chat, Clock


@dataclass(frozen=True)
class Stage:
    day: date
    models: int  # active records of 2026
    results: int
    scored: int  # records with self-scores
    proposed: int  # proposed for recognition (decided or not)
    decided: int
    reports: int  # 25/11 reports marked sent
    consolidated: int
    next_year: int  # records of 2027
    intros: int


STAGES = (
    Stage(date(2026, 3, 1), 4, 0, 0, 0, 0, 0, 0, 0, 0),  # before 15/4: registering
    Stage(date(2026, 4, 20), 11, 0, 0, 0, 0, 0, 0, 0, 0),  # after 15/4, two units late
    Stage(date(2026, 11, 16), 14, 11, 11, 5, 0, 0, 0, 1, 1),  # after 15/11, two units late
    Stage(date(2026, 11, 30), 14, 13, 13, 6, 4, 7, 0, 3, 2),  # after 25/11, two reports late
    Stage(date(2026, 12, 4), 14, 13, 13, 6, 4, 8, 0, 3, 2),  # before 5/12
    Stage(date(2026, 12, 10), 14, 13, 13, 6, 4, 8, 1, 4, 2),  # after 5/12, one report still late
)


def moment(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), TZ).astimezone(UTC)


async def figures(session: AsyncSession, year: int) -> dict[str, int]:
    active = (ModelYear.year == year, ModelYear.state == RecordState.ACTIVE.value)

    async def count(query: object) -> int:
        return int(await session.scalar(query) or 0)  # type: ignore[call-overload]

    return {
        "models": await count(select(func.count(ModelYear.id)).where(*active)),
        "results": await count(
            select(func.count(ModelYear.id)).where(*active, ModelYear.results.is_not(None))
        ),
        "scored": await count(
            select(func.count(func.distinct(ModelScore.model_year_id)))
            .join(ModelYear, ModelYear.id == ModelScore.model_year_id)
            .where(*active)
        ),
        "proposed": await count(
            select(func.count(ModelYear.id)).where(*active, ModelYear.proposed_at.is_not(None))
        ),
        "decided": await count(
            select(func.count(ModelYear.id)).where(*active, ModelYear.reviewed_at.is_not(None))
        ),
        "reports": await count(
            select(func.count(UnitReport.id)).where(
                UnitReport.year == year, UnitReport.kind == "unit_report"
            )
        ),
        "consolidated": await count(
            select(func.count(UnitReport.id)).where(
                UnitReport.year == year, UnitReport.kind == "consolidated"
            )
        ),
        "next_year": await count(
            select(func.count(ModelYear.id)).where(ModelYear.year == year + 1)
        ),
    }


# A leader's /lich line about lower units' yearly reports (each unit marks its own).
LOWER_REPORTS = "đơn vị trực thuộc chưa gửi báo cáo năm"


def told_to(text: str) -> list[str]:
    """The commands a reply tells the person to type ("gõ /ketqua", "Gõ /dangky để …")."""
    return list(dict.fromkeys(re.findall(r"[gG]õ (/[a-z]+)", text)))


async def open_flow(sm: async_sessionmaker[AsyncSession], chat_id: str) -> bool:
    async with sm() as session:
        state = await session.scalar(
            select(ConversationState).where(ConversationState.chat_id == chat_id)
        )
        return state is not None


REFUSALS = ("Đã quá hạn", "không có quyền", "dành cho lãnh đạo", "Chưa có mô hình nào")


async def follow(chat: Chat, sm: async_sessionmaker[AsyncSession], commands: list[str]) -> None:
    """Each command a reply pointed to starts its flow (or answers) and does not refuse."""
    for command in commands:
        await chat.send(command)
        assert not any(r in chat.text for r in REFUSALS), (command, chat.text)
        if command in ("/dangky", "/ketqua", "/chamdiem", "/dexuat", "/baocao", "/duyet"):
            assert await open_flow(sm, chat.user), (command, chat.text)
            await chat.send("/huy")
            assert not await open_flow(sm, chat.user)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.day.strftime("%d-%m"))
async def test_the_demo_holds_what_the_day_of_the_year_has(
    sessionmaker: async_sessionmaker[AsyncSession], stage: Stage
) -> None:
    now = moment(stage.day)
    async with sessionmaker() as session, session.begin():
        result = await load_demo(session, now, TZ, stage.day)
    assert (result.created, result.year, result.units) == (True, 2026, 9)
    assert result.next_year_models == stage.next_year
    async with sessionmaker() as session:
        found = await figures(session, 2026)
        assert found == {
            "models": stage.models,
            "results": stage.results,
            "scored": stage.scored,
            "proposed": stage.proposed,
            "decided": stage.decided,
            "reports": stage.reports,
            "consolidated": stage.consolidated,
            "next_year": stage.next_year,
        }
        assert {k: result.counts[k] for k in ("models", "results", "scores", "proposals")} == {
            "models": stage.models,
            "results": stage.results,
            "scores": stage.scored,
            "proposals": stage.proposed,
        }
        # Last year is complete whatever the day: every model evaluated and scored.
        last = await figures(session, 2025)
        assert last["models"] == last["results"] == last["scored"] == 5
        assert last["reports"] == 9
        assert last["consolidated"] == 1
        # Nothing is dated after the day: registrations, results, scores, reports.
        latest = [
            await session.scalar(select(func.max(ModelYear.created_at))),
            await session.scalar(select(func.max(ModelYear.results_at))),
            await session.scalar(select(func.max(ModelYear.reviewed_at))),
            await session.scalar(select(func.max(ModelScore.scored_at))),
            await session.scalar(select(func.max(UnitReport.sent_at))),
        ]
        assert all(t is None or t <= now for t in latest)
        # Registrations are dated before the deadline that applies, some late.
        ward = await session.scalar(select(Unit).where(Unit.name == WARD))
        assert ward is not None
        due = (await deadlines.due_for(session, ward, 2026, "registration")).due_on
        days = [
            r.created_at.astimezone(TZ).date()
            for r in (await session.scalars(select(ModelYear).where(ModelYear.year == 2026)))
        ]
        assert sum(d <= due for d in days) == min(stage.models, 11)
        assert sum(d > due for d in days) == stage.models - min(stage.models, 11)
        intros = await session.scalar(select(func.count()).select_from(ModelIntro))
        assert intros == stage.intros
        extensions = await session.scalar(select(func.count(DeadlineExtension.id)))
        assert extensions == 1 + (stage.day >= date(2026, 11, 16))
        # Some unit is late for every deadline passed: reminders and digests have work.
        plan = await deadlines.year_plan(session, 2026)
        for kind in DEADLINE_KINDS:
            late = await obligations.lagging(session, kind, 2026)
            assert late or plan.due(ward, kind).due_on >= stage.day, kind


async def test_self_scores_follow_the_rubric_and_decisions_agree_with_them(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    day = date(2026, 12, 10)
    async with sessionmaker() as session, session.begin():
        await load_demo(session, moment(day), TZ, day)
    async with sessionmaker() as session:
        records = (await session.scalars(select(ModelYear).where(ModelYear.year <= 2026))).all()
        decisions: Counter[str] = Counter()
        for record in records:
            rows = await session.scalars(
                select(ModelScore).where(ModelScore.model_year_id == record.id)
            )
            points = {s.criterion: s.points for s in rows.all()}
            if not points:
                continue
            verdict = rubric.verdict(points, record.subject)  # raises on a point out of range
            assert verdict.missing == ()
            if record.review in ("recognised", "not_recognised"):
                assert verdict.passed == (record.review == "recognised"), record.name
                decisions[record.review] += 1
    assert decisions == {"recognised": 5, "not_recognised": 2}


@pytest.mark.parametrize(("day", "next_year"), [(date(2026, 11, 14), 0), (date(2026, 11, 15), 1)])
async def test_next_year_registration_from_the_evaluation_deadline_on(
    sessionmaker: async_sessionmaker[AsyncSession], day: date, next_year: int
) -> None:
    async with sessionmaker() as session, session.begin():
        result = await load_demo(session, moment(day), TZ, day)
    assert (result.year, result.next_year_models) == (2026, next_year)
    async with sessionmaker() as session:
        assert (await figures(session, 2026))["next_year"] == next_year


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.day.strftime("%d-%m"))
async def test_lich_and_tonghop_name_the_year_and_point_only_to_what_works(
    sessionmaker: async_sessionmaker[AsyncSession], stage: Stage
) -> None:
    clock = Clock(moment(stage.day))
    async with sessionmaker() as session, session.begin():
        await load_demo(session, clock(), TZ, stage.day)
    core = Core(sessionmaker, clock=clock)
    officer = Chat(core, "canbo")
    await officer.send("/lich")
    lich = officer.text
    assert lich.startswith("Các hạn năm 2026 của Hội Liên hiệp Phụ nữ phường:")
    assert "2027" not in lich
    told = told_to(lich)
    if stage.day <= date(2026, 11, 15):
        assert {"/dangky", "/ketqua", "/chamdiem"} & set(told)
    await follow(officer, sessionmaker, told)
    # The greeting points only to what works too.
    await officer.send("/start")
    await follow(officer, sessionmaker, told_to(officer.text))
    evaluation_passed = stage.day > date(2026, 11, 15)
    if evaluation_passed:
        assert "gõ /ketqua" not in lich
        assert "gõ /chamdiem" not in lich
    leader = Chat(core, "lanhdao")
    await leader.send("/lich")
    lich = leader.text
    assert lich.startswith("Các hạn năm 2026 của Đảng bộ phường Minh Khai:")
    assert "Đảng bộ phường Minh Khai" in lich
    await follow(leader, sessionmaker, told_to(lich))
    await leader.send("/start")
    await follow(leader, sessionmaker, told_to(leader.text))
    if stage.reports:
        # Units still late with their yearly report are named to the leader.
        assert "Đoàn Thanh niên phường" in lich
    await leader.send("/tonghop")
    summary = leader.replies[0].text
    assert summary.startswith("Tổng hợp năm 2026 — Đảng bộ phường Minh Khai")
    assert "2027" not in summary
    assert f"Tổng số mô hình: {stage.models}" in summary


async def test_a_leader_is_not_sent_to_a_command_for_lower_units_reports(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    day = date(2026, 12, 10)  # the ward sent its consolidated report; the youth union is late
    clock = Clock(moment(day))
    async with sessionmaker() as session, session.begin():
        await load_demo(session, clock(), TZ, day)
    leader = Chat(Core(sessionmaker, clock=clock), "lanhdao")
    await leader.send("/lich")
    # Each unit marks its own report: the leader is told to remind it, not to type a command.
    assert f"1 {LOWER_REPORTS}: Đoàn Thanh niên phường — nhắc các đơn vị gửi" in leader.text


async def test_dvk_demo_twice_adds_nothing_and_says_how_to_try_it(db_url: str) -> None:
    settings = Settings(database_url=db_url)

    async def dvk(*argv: str) -> str:
        out = io.StringIO()
        assert await run_command(list(argv), settings, out) == 0
        return out.getvalue()

    out = await dvk("demo", "--date", "30/11/2026")
    assert out.startswith(
        "Đã tạo dữ liệu mẫu tính đến ngày 30/11/2026: 9 đơn vị, 22 mô hình (năm 2025, 2026 và "
        "2027).\n"
    )
    assert "đã có 3 mô hình đăng ký trước cho năm 2027" in out
    assert "dvk chat --as lanhdao" in out
    assert len(re.findall(r"^  [A-Z0-9]{8}  \(", out, flags=re.MULTILINE)) == 3
    assert await dvk("demo", "--today", "01/03/2026") == (
        "Dữ liệu mẫu đã có sẵn. Thử ngay: dvk chat\n"
    )
    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as session:
        assert await session.scalar(select(func.count(ModelYear.id))) == 22
        assert await session.scalar(select(func.count(Unit.id))) == 9
    await engine.dispose()
