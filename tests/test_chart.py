"""The /tonghop chart (reports/chart.py): its figures against the database, the late units on
both sides of each deadline, at most 25 rows, a PNG a phone shows, Vietnamese letters drawn,
and its delivery as a photo on Zalo (Telegram: tests/test_exports.py)."""

from __future__ import annotations

import struct
import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from aiohttp.test_utils import TestServer
from matplotlib.patches import Rectangle
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.files import FileLinks
from bot.web import build_web_app
from bot.zalo import ZaloApi, ZaloChannel
from domain.calendar import EVALUATION, REGISTRATION
from domain.catalog import DEFAULT_QUOTAS
from domain.messages import Document, Reply
from handlers.core import Core
from reports.chart import MAX_BARS, OTHERS, WIDTH_PX, Progress, draw, progress_of, render_png
from storage import deadlines, unit_tree
from storage.models import Account, ModelScore, ModelYear, Unit
from tests.fake_zalo import FakeZalo
from tests.helpers import Clock, World, active_models_by_unit, add_model_year

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


async def score(session: AsyncSession, record: ModelYear) -> None:
    session.add(ModelScore(model_year_id=record.id, criterion=1, points=Decimal(5), scored_at=NOW))
    await session.flush()


async def fill(sm: async_sessionmaker[AsyncSession], world: World) -> None:
    """cell1: two models (one with results and points, recognised); the women's union: one
    model of its quota of five, proposed; cell2: nothing; the other ward: one model."""
    async with sm() as session, session.begin():
        done = await add_model_year(
            session, world.cell1, "Tuyến phố xanh", now=NOW, results="120 hộ", review="recognised"
        )
        await score(session, done)
        await add_model_year(session, world.cell1, "Tổ hòa giải", now=NOW)
        await add_model_year(session, world.women, "Phụ nữ tiết kiệm", now=NOW, review="proposed")
        await add_model_year(session, world.other_cell, "Mô hình xã khác", now=NOW)
        # Withdrawn, or of last year: not counted.
        await add_model_year(session, world.cell2, "Đã rút", now=NOW, state="withdrawn")


# The Kế hoạch năm 2024 (Yên Bái)'s quotas, as QUOTAS sets them: the union owes 5.
YEN_BAI = {**dict.fromkeys(DEFAULT_QUOTAS, 0), "chi_bo": 1, "dang_uy": 2, "doan_the": 5}


async def progress_on(
    sm: async_sessionmaker[AsyncSession], unit_id: int, day: date
) -> tuple[Progress, Unit]:
    """The chart's figures of a unit's subtree in 2026 as of ``day``, and the unit."""
    async with sm() as session:
        unit = await session.get(Unit, unit_id)
        assert unit is not None
        return await progress_of(session, unit, 2026, day, YEN_BAI), unit


async def test_the_figures_are_the_databases_before_the_registration_deadline(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    await fill(sessionmaker, world)
    progress, ward = await progress_on(sessionmaker, world.ward.id, date(2026, 4, 15))
    active = sum((await active_models_by_unit(sessionmaker, ward)).values())
    assert progress.phase == REGISTRATION
    assert progress.due_on == date(2026, 4, 15)
    rows = {r.label: r for r in progress.rows}
    # The ward itself first, then its lower units by name.
    assert [r.label for r in progress.rows] == [
        "Đảng bộ phường Minh Khai",
        "Chi bộ Tổ dân phố 1",
        "Chi bộ Tổ dân phố 2",
        "Hội LHPN phường",
    ]
    assert sum(r.models for r in progress.rows) == active == 3
    assert (rows["Chi bộ Tổ dân phố 1"].models, rows["Chi bộ Tổ dân phố 1"].required) == (2, 1)
    assert (rows["Hội LHPN phường"].models, rows["Hội LHPN phường"].required) == (1, 5)
    assert rows["Chi bộ Tổ dân phố 2"].models == 0  # the withdrawn model does not count
    # The deadline day itself: nobody is late yet.
    assert progress.late_units == []
    assert all(r.late == 0 for r in progress.rows)


async def test_after_the_registration_deadline_the_units_owing_are_late(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    await fill(sessionmaker, world)
    progress, _ = await progress_on(sessionmaker, world.ward.id, date(2026, 4, 16))
    assert progress.phase == EVALUATION
    assert progress.due_on == date(2026, 11, 15)
    rows = {r.label: r for r in progress.rows}
    cell1, women = rows["Chi bộ Tổ dân phố 1"], rows["Hội LHPN phường"]
    assert (cell1.models, cell1.results, cell1.scored, cell1.proposed, cell1.recognised) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert (women.models, women.results, women.proposed, women.recognised) == (1, 0, 1, 0)
    # Under their quota after 15/4: cell 2 (none), the union (1 of 5); the ward itself has no
    # quota, so it is never late to register.
    assert progress.late_units == ["Chi bộ Tổ dân phố 2", "Hội LHPN phường"]
    assert cell1.late == 0
    # Evaluation: cell 1 owes results and points only once 15/11 has passed.
    on_the_day, _ = await progress_on(sessionmaker, world.ward.id, date(2026, 11, 15))
    after, _ = await progress_on(sessionmaker, world.ward.id, date(2026, 11, 16))
    assert "Chi bộ Tổ dân phố 1" not in on_the_day.late_units
    assert "Chi bộ Tổ dân phố 1" in after.late_units


async def test_a_units_own_date_and_an_extension_decide_its_lateness(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with sessionmaker() as session, session.begin():
        cell2 = await session.get(Unit, world.cell2.id)
        ward = await session.get(Unit, world.ward.id)
        assert cell2 is not None
        assert ward is not None
        # The ward's plan: registration by 10/4 for its units; cell 2 reopened until 30/4.
        await deadlines.set_deadline(session, ward, 2026, REGISTRATION, date(2026, 4, 10), NOW)
        await deadlines.extend(session, cell2, 2026, REGISTRATION, date(2026, 4, 30), None, NOW)
    progress, _ = await progress_on(sessionmaker, world.ward.id, date(2026, 4, 11))
    assert progress.phase == EVALUATION  # the ward's own date has passed
    assert "Chi bộ Tổ dân phố 1" in progress.late_units
    assert "Chi bộ Tổ dân phố 2" not in progress.late_units  # still open for it


async def test_a_district_sees_each_ward_with_every_unit_below_it(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with sessionmaker() as session, session.begin():
        ward = await session.get(Unit, world.ward.id)
        assert ward is not None
        district = await unit_tree.add_unit(session, "Thị xã Hương Trà", "huyen", None, NOW)
        ward.parent_id = district.id
        ward.path = f"{district.path}{ward.id}/"
        for unit in (await session.scalars(select(Unit).where(Unit.parent_id == ward.id))).all():
            unit.path = f"{ward.path}{unit.id}/"
        await add_model_year(session, world.cell1, "Tuyến phố xanh", now=NOW)
        await add_model_year(session, world.women, "Phụ nữ tiết kiệm", now=NOW)
        district_id = district.id
    async with sessionmaker() as session:
        top = await session.get(Unit, district_id)
        assert top is not None
        progress = await progress_of(session, top, 2026, date(2026, 3, 2), YEN_BAI)
    rows = {r.label: r for r in progress.rows}
    assert list(rows) == ["Thị xã Hương Trà", "Đảng bộ phường Minh Khai"]
    assert rows["Đảng bộ phường Minh Khai"].units == 4
    assert rows["Đảng bộ phường Minh Khai"].models == 2
    assert rows["Đảng bộ phường Minh Khai"].required == 1 + 1 + 5  # the ward itself owes none


async def many_units(sm: async_sessionmaker[AsyncSession], world: World, count: int) -> None:
    """``count`` more party cells under the ward; cell k has k % 3 models."""
    async with sm() as session, session.begin():
        ward = await session.get(Unit, world.ward.id)
        assert ward is not None
        for k in range(1, count + 1):
            unit = await unit_tree.add_unit(session, f"Chi bộ khu phố {k}", "chi_bo", ward, NOW)
            for m in range(k % 3):
                await add_model_year(session, unit, f"Mô hình {k}.{m}", now=NOW)


async def test_past_25_rows_the_rest_are_added_up(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    await many_units(sessionmaker, world, 40)  # 43 lower units and the ward itself
    before, _ = await progress_on(sessionmaker, world.ward.id, date(2026, 4, 1))
    after, _ = await progress_on(sessionmaker, world.ward.id, date(2026, 4, 20))
    for progress in (before, after):
        assert len(progress.rows) == MAX_BARS
        assert progress.lower_units == 44
        others = progress.rows[-1]
        assert others.grouped
        assert others.label == f"{OTHERS}\n(20 đơn vị)"
        assert progress.grouped == 20
        assert sum(r.units for r in progress.rows) == 44
        assert sum(r.models for r in progress.rows) == sum(k % 3 for k in range(1, 41))
    # After the deadline the late ones are kept in view: every unit without a model is late
    # (14 cells, the two cells of the world and the union, and the ward) and shown by name.
    shown = {r.label for r in after.rows if not r.grouped}
    assert set(after.late_units) <= shown
    assert after.rows[-1].late == 0


async def test_the_picture_is_wide_has_one_row_per_unit_and_draws_every_letter(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    await many_units(sessionmaker, world, 40)
    before, _ = await progress_on(sessionmaker, world.ward.id, date(2026, 4, 1))
    after, _ = await progress_on(sessionmaker, world.ward.id, date(2026, 4, 20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a warning of matplotlib's
        png = render_png(after)
        render_png(before)
    width, height = png_size(png)
    assert width == WIDTH_PX >= 1000
    assert 1000 < height < 3000
    # Registration: a quota bar and a registered bar per row; after it, the models and the
    # four figures per row.
    for progress, per_row in ((before, 2), (after, 5)):
        fig = draw(progress)
        [ax] = fig.axes
        bars = [bar for container in ax.containers for bar in container]
        assert len(bars) == per_row * MAX_BARS
        assert all(isinstance(bar, Rectangle) for bar in bars)
        # The red bands behind the late rows are not bars.
        assert len(ax.patches) == len(bars) + sum(1 for r in progress.rows if r.late)
        labels = [t.get_text() for t in ax.get_yticklabels()]
        # The ward's own row: it owes no model of its own (no quota), so never late here.
        assert labels[0].replace("\n", " ") == "Đảng bộ phường Minh Khai"
        assert labels[-1].startswith("Các đơn vị khác\n(20 đơn vị)")
        red = [t.get_text() for t in ax.get_yticklabels() if t.get_color() == "#c62828"]
        assert len(red) == sum(1 for r in progress.rows if r.late)
    assert any("Đảng bộ phường Minh Khai · Hạn đánh giá" in t.get_text() for t in fig.texts)
    assert fig.get_suptitle() == "Kết quả mô hình “Dân vận khéo” năm 2026"


async def test_zalo_gets_the_chart_as_a_photo_by_the_bots_signed_link(
    core: Core, world: World, clock: Clock, tmp_path: Path
) -> None:
    clock.advance(days=60)
    links = FileLinks(tmp_path / "files", b"k" * 32, "http://placeholder", timedelta(hours=24))
    async with FakeZalo() as fake:
        api = ZaloApi(fake.token, fake.base_url)
        zalo = ZaloChannel(core, api, links, photo_dir=tmp_path / "photos", clock=core.clock)
        async with core.sessionmaker() as session, session.begin():
            session.add(
                Account(
                    person_id=world.leader.id,
                    channel="zalo",
                    external_id="9000000001",
                    created_at=NOW,
                )
            )
        server = TestServer(build_web_app("s" * 20, [zalo.webhook], links, clock=core.clock))
        await server.start_server()
        links.base_url = str(server.make_url("")).rstrip("/")
        try:
            await zalo.handle_update(fake.text_update("9000000001", "/tonghop"))
            text, workbook, photo = fake.messages_to("9000000001")
            assert text.method == workbook.method == "sendMessage"
            assert "Tải tệp Tong_hop_Dang_bo_phuong_Minh_Khai_2026.xlsx" in workbook.text
            assert photo.method == "sendPhoto"
            assert photo.text == (
                "Kết quả mô hình “Dân vận khéo” năm 2026 — Đảng bộ phường Minh Khai."
            )
            assert photo.photo is not None
            async with httpx.AsyncClient() as http:
                got = await http.get(photo.photo)
            assert got.status_code == 200
            assert got.headers["content-type"] == "image/png"
            assert png_size(got.content)[0] == WIDTH_PX
        finally:
            await server.close()
            await api.close()


async def test_a_photo_zalo_refuses_comes_as_a_link_and_a_long_text_before_it(
    core: Core, tmp_path: Path
) -> None:
    links = FileLinks(tmp_path / "files", b"k" * 32, "http://127.0.0.1:9", timedelta(hours=24))
    picture = Reply(
        "Biểu đồ.", document=Document("Bieu_do.png", b"\x89PNG-", "image/png"), photo=True
    )
    async with FakeZalo() as fake:
        api = ZaloApi(fake.token, fake.base_url)
        zalo = ZaloChannel(core, api, links, photo_dir=tmp_path / "photos", clock=core.clock)
        try:
            fake.fail_next("sendPhoto", 400, "Bad Request: photo could not be fetched")
            await zalo.send("9000000002", "9000000002", [picture])
            [as_link] = fake.messages_to("9000000002")
            assert as_link.method == "sendMessage"
            assert as_link.text.startswith("Biểu đồ.\n\nTải tệp Bieu_do.png")
            # A caption longer than Zalo's 2,000 characters goes first as text.
            long = Reply("x" * 2500, document=picture.document, photo=True)
            await zalo.send("9000000003", "9000000003", [long])
            sent = fake.messages_to("9000000003")
            assert [m.method for m in sent] == ["sendMessage", "sendMessage", "sendPhoto"]
            assert sent[-1].text == ""
            # Without photo=True an image is a download link, as evidence is.
            await zalo.send("9000000004", "9000000004", [Reply("Ảnh.", document=picture.document)])
            [plain] = fake.messages_to("9000000004")
            assert plain.method == "sendMessage"
        finally:
            await api.close()
