"""What each deadline asks (scheduler/obligations.py), on SQLite and PostgreSQL, for a small
tree: a ward with two party cells and the women's union, and another commune with one cell."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.calendar import kind_from_text
from domain.catalog import RecordState
from scheduler import obligations
from storage.models import ModelScore, ModelYear, Unit, UnitReport
from tests.helpers import Clock, World, add_model_year


async def add_model(
    session: AsyncSession,
    unit: Unit,
    year: int,
    now: datetime,
    *,
    results: str | None = None,
    scored: bool = False,
    state: str = RecordState.ACTIVE.value,
    name: str = "Mô hình",
) -> ModelYear:
    record = await add_model_year(
        session, unit, name, now=now, year=year, scale="100 hộ", results=results, state=state
    )
    if scored:
        session.add(
            ModelScore(model_year_id=record.id, criterion=1, points=Decimal(5), scored_at=now)
        )
        await session.flush()
    return record


async def mark(session: AsyncSession, unit: Unit, year: int, kind: str, now: datetime) -> None:
    session.add(UnitReport(unit_id=unit.id, year=year, kind=kind, sent_at=now))
    await session.flush()


def by_unit(lags: list[obligations.Lag]) -> dict[str, list[str]]:
    return {lag.unit_name: [o.line() for o in lag.owed] for lag in lags}


async def test_registration_counts_active_models_against_the_quota(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    now = clock()
    async with sessionmaker() as session, session.begin():
        # Last year's model of cell 1 does not count for 2026. The ward and the commune
        # themselves have no quota: they owe no registration.
        assert by_unit(await obligations.lagging(session, "registration", 2026)) == {
            "Chi bộ Tổ dân phố 1": ["chưa đăng ký mô hình nào — gõ /dangky"],
            "Chi bộ Tổ dân phố 2": ["chưa đăng ký mô hình nào — gõ /dangky"],
            "Hội LHPN phường": ["chưa đăng ký mô hình nào — gõ /dangky"],
            "Chi bộ thôn Đồng Tâm": ["chưa đăng ký mô hình nào — gõ /dangky"],
        }
        await add_model(session, world.cell1, 2026, now)
        await add_model(session, world.ward, 2026, now)
        await add_model(session, world.cell2, 2026, now, state=RecordState.WITHDRAWN.value)
        for _ in range(2):
            await add_model(session, world.women, 2026, now)
        lags = await obligations.lagging(session, "registration", 2026, root=world.ward)
        assert by_unit(lags) == {"Chi bộ Tổ dân phố 2": ["chưa đăng ký mô hình nào — gõ /dangky"]}
        lags = await obligations.lagging(
            session, "registration", 2026, {"doan_the": 5, "chi_bo": 1}, world.ward
        )
        assert by_unit(lags) == {
            "Chi bộ Tổ dân phố 2": ["chưa đăng ký mô hình nào — gõ /dangky"],
            "Hội LHPN phường": ["mới đăng ký 2/5 mô hình theo chỉ tiêu — gõ /dangky"],
        }
        assert all(lag.kind == "registration" for lag in lags)


async def test_registration_with_custom_quotas(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    now = clock()
    async with sessionmaker() as session, session.begin():
        await add_model(session, world.cell1, 2026, now)
        await add_model(session, world.women, 2026, now)
        lags = await obligations.lagging(session, "registration", 2026, {"chi_bo": 2}, world.ward)
        # Units whose kind has no quota in the mapping owe no model.
        assert by_unit(lags) == {
            "Chi bộ Tổ dân phố 1": ["mới đăng ký 1/2 mô hình theo chỉ tiêu — gõ /dangky"],
            "Chi bộ Tổ dân phố 2": ["chưa đăng ký mô hình nào (chỉ tiêu 2 mô hình) — gõ /dangky"],
        }


async def test_evaluation_wants_results_and_a_score_for_every_active_model(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    now = clock()
    async with sessionmaker() as session, session.begin():
        assert await obligations.lagging(session, "evaluation", 2026) == []  # nothing registered
        await add_model(session, world.cell1, 2026, now, results="210 hộ tham gia", scored=True)
        await add_model(session, world.cell2, 2026, now, results="   ", scored=True)
        await add_model(session, world.women, 2026, now, results="12 hội viên")
        await add_model(session, world.women, 2026, now)
        await add_model(session, world.women, 2026, now, state=RecordState.WITHDRAWN.value)
        await add_model(session, world.other_cell, 2025, now)  # another year
        assert by_unit(await obligations.lagging(session, "evaluation", 2026)) == {
            "Chi bộ Tổ dân phố 2": ["1 mô hình chưa nhập kết quả — gõ /ketqua"],
            "Hội LHPN phường": [
                "1 mô hình chưa nhập kết quả — gõ /ketqua",
                "2 mô hình chưa chấm điểm — gõ /chamdiem",
            ],
        }


async def test_unit_report_until_marked_for_the_year(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    now = clock()
    async with sessionmaker() as session, session.begin():
        await mark(session, world.cell1, 2026, "unit_report", now)
        await mark(session, world.cell2, 2025, "unit_report", now)  # last year's
        await mark(session, world.women, 2026, "consolidated", now)  # not this report
        lags = await obligations.lagging(session, "unit_report", 2026, root=world.ward)
        assert [lag.unit_name for lag in lags] == [
            "Đảng bộ phường Minh Khai",
            "Chi bộ Tổ dân phố 2",
            "Hội LHPN phường",
        ]
        assert lags[0].owed == (
            obligations.Owed("chưa đánh dấu đã gửi báo cáo kết quả năm", "/baocao", "report"),
        )


async def test_consolidated_asks_leaders_units_for_lower_reports_and_their_own(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    now = clock()
    async with sessionmaker() as session, session.begin():
        await mark(session, world.cell1, 2026, "unit_report", now)
        assert by_unit(await obligations.lagging(session, "consolidated", 2026)) == {
            "Đảng bộ phường Minh Khai": [
                "2 đơn vị trực thuộc chưa gửi báo cáo năm: Chi bộ Tổ dân phố 2, Hội LHPN phường"
                " — nhắc các đơn vị gửi",
                "chưa đánh dấu đã gửi báo cáo tổng hợp lên cấp trên — gõ /baocao",
            ],
            "Đảng bộ xã Tân Lập": [
                "1 đơn vị trực thuộc chưa gửi báo cáo năm: Chi bộ thôn Đồng Tâm"
                " — nhắc các đơn vị gửi",
                "chưa đánh dấu đã gửi báo cáo tổng hợp lên cấp trên — gõ /baocao",
            ],
        }
        await mark(session, world.cell2, 2026, "unit_report", now)
        await mark(session, world.women, 2026, "unit_report", now)
        lags = await obligations.lagging(session, "consolidated", 2026, root=world.ward)
        assert by_unit(lags) == {
            "Đảng bộ phường Minh Khai": [
                "chưa đánh dấu đã gửi báo cáo tổng hợp lên cấp trên — gõ /baocao"
            ]
        }
        await mark(session, world.ward, 2026, "consolidated", now)
        assert await obligations.lagging(session, "consolidated", 2026, root=world.ward) == []


async def test_everything_one_unit_owes(
    sessionmaker: async_sessionmaker[AsyncSession], world: World, clock: Clock
) -> None:
    now = clock()
    async with sessionmaker() as session, session.begin():
        await add_model(session, world.cell1, 2026, now, scored=True)
        owed = await obligations.owed_by_unit(session, world.cell1, 2026)
        assert [(lag.kind, [o.command for o in lag.owed]) for lag in owed] == [
            ("evaluation", ["/ketqua"]),
            ("unit_report", ["/baocao"]),
        ]
        owed = await obligations.owed_by_unit(session, world.ward, 2026)
        assert [lag.kind for lag in owed] == [  # a ward has no quota of its own
            "unit_report",
            "consolidated",
        ]
        assert await obligations.lagging(session, "hanchot", 2026) == []


def test_deadline_kinds_by_alias() -> None:
    assert kind_from_text("registration") == "registration"
    assert kind_from_text("dangky") == "registration"
    assert kind_from_text("Đăng ký") == "registration"
    assert kind_from_text("danh gia") == "evaluation"
    assert kind_from_text("unit_report") == "unit_report"
    assert kind_from_text("báo cáo") == "unit_report"
    assert kind_from_text("tonghop") == "consolidated"
    assert kind_from_text("hanchot") is None
