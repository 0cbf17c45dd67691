"""/web and the leaders' web page (bot/desk.py) over HTTP: the one-time link, the session
cookie, the figures of /tonghop, the drill-down, the filters, evidence and workbooks, and
nothing outside the leader's subtree. In a real browser: tests/test_desk_browser.py."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.desk import COOKIE, Desk
from bot.web import build_web_app
from conversations.texts import desk as T
from handlers.core import Core
from storage import people
from storage.desk import token_hash
from storage.models import DeskLogin, Evidence, ModelScore
from tests.helpers import Chat, Clock, World, add_model_year

LINK = re.compile(r"(https?://\S+/desk/login\?t=[\w-]+)")


@pytest.fixture
def web_core(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, tmp_path: Path) -> Core:
    return Core(
        sessionmaker, clock=clock, files_dir=tmp_path / "files", web_base_url="http://placeholder"
    )


@pytest.fixture
async def site(web_core: Core) -> AsyncIterator[str]:
    desk = Desk(web_core, b"s" * 32, secure=False)
    server = TestServer(build_web_app("w" * 20, (), None, clock=web_core.clock, desk=desk))
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    web_core.web_base_url = base
    try:
        yield base
    finally:
        await server.close()


async def fill(
    sm: async_sessionmaker[AsyncSession], world: World, files: Path, clock: Clock
) -> int:
    """Two models of cell 1 (one with results, a photo and a PDF), one of the women's union
    (proposed), one of the other ward. The photo's evidence id."""
    now = clock()
    async with sm() as session, session.begin():
        done = await add_model_year(
            session, world.cell1, "Tuyến phố <xanh> & sạch", now=now, results="120 hộ tham gia"
        )
        await add_model_year(session, world.cell1, "Tổ hòa giải giỏi", now=now, field="QPAN")
        await add_model_year(session, world.women, "Phụ nữ tiết kiệm", now=now, review="proposed")
        await add_model_year(session, world.other_cell, "Mô hình xã khác", now=now)
        session.add_all(
            ModelScore(model_year_id=done.id, criterion=c, points=Decimal(5), scored_at=now)
            for c in (1, 4)
        )
        folder = files / "evidence" / "2026" / str(done.id)
        folder.mkdir(parents=True)
        buffer = io.BytesIO()
        Image.new("RGB", (800, 600), "red").save(buffer, format="JPEG")
        (folder / "a.jpg").write_bytes(buffer.getvalue())
        (folder / "b.pdf").write_bytes(b"%PDF-1.4 test")
        photo = Evidence(
            model_year_id=done.id,
            kind="photo",
            path=f"evidence/2026/{done.id}/a.jpg",
            file_name=None,
            mime_type="image/jpeg",
            size=len(buffer.getvalue()),
            caption="Ra quân tổ 1",
            uploaded_at=now,
        )
        session.add(photo)
        session.add(
            Evidence(
                model_year_id=done.id,
                kind="document",
                path=f"evidence/2026/{done.id}/b.pdf",
                file_name="Kế hoạch.pdf",
                mime_type="application/pdf",
                size=13,
                caption="Kế hoạch",
                uploaded_at=now,
            )
        )
        await session.flush()
        return photo.id


async def sign_in_link(core: Core, user: str = "hung") -> str:
    [reply] = await Chat(core, user).send("/web")
    found = LINK.search(reply.text)
    assert found, reply.text
    return found.group(1)


async def signed_in(http: httpx.AsyncClient, link: str) -> httpx.Response:
    page = await http.get(link)
    assert page.status_code == 200
    token = re.search(r'name="t" value="([^"]+)"', page.text)
    assert token
    return await http.post(link.split("?")[0], data={"t": token.group(1)})


async def test_web_gives_a_leader_a_one_time_link_stored_hashed(
    web_core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    link = await sign_in_link(web_core)
    assert (
        "Dùng được một lần, trong 15 phút (đến 08:15 02/03/2026)"
        in (await Chat(web_core, "hung").send("/web"))[0].text
    )
    token = link.rsplit("=", 1)[1]
    async with sessionmaker() as session:
        rows = (await session.scalars(select(DeskLogin).order_by(DeskLogin.id))).all()
    assert next(r.token_hash for r in rows) == token_hash(token)
    assert all(token not in r.token_hash for r in rows)
    # The second /web made the first link unusable.
    assert rows[0].expires_at <= rows[1].created_at
    # Officers are refused; without PUBLIC_BASE_URL the leader is told why.
    assert (await Chat(web_core, "lan").send("/web"))[0].text == T.REFUSED
    web_core.web_base_url = None
    assert (await Chat(web_core, "hung").send("/web"))[0].text == T.NO_WEB


async def test_the_page_shows_the_figures_of_tonghop_and_nothing_outside(
    web_core: Core,
    world: World,
    site: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    tmp_path: Path,
) -> None:
    photo_id = await fill(sessionmaker, world, tmp_path / "files", clock)
    link = await sign_in_link(web_core)
    async with httpx.AsyncClient(follow_redirects=True) as http:
        # Opening the link (as a link preview would) does not use it up.
        assert (await http.get(link)).status_code == 200
        page = await signed_in(http, link)
        assert page.status_code == 200
        assert str(page.url).endswith("/desk")
        html = page.text
        # cell 1 and the women's union of the 3 units with a quota (the ward itself has none).
        assert 'id="fig-units-registered">2/3<' in html
        assert 'id="fig-models">3<' in html
        assert 'id="fig-field-QPAN">1<' in html
        assert 'id="fig-proposed">1<' in html
        assert "Mô hình xã khác" not in html
        assert "Chi bộ thôn Đồng Tâm" not in html
        assert f'src="/desk/chart/{world.ward.id}.png?year=2026"' in html
        assert page.headers["content-security-policy"].startswith("default-src 'none'")

        # Drill down: the unit's models, escaped, with evidence.
        unit = await http.get(f"{site}/desk/unit/{world.cell1.id}?year=2026")
        assert unit.status_code == 200
        assert "Tuyến phố &lt;xanh&gt; &amp; sạch" in unit.text
        assert "<xanh>" not in unit.text
        assert "Kết quả đạt được: 120 hộ tham gia" in unit.text
        assert "Tổng điểm: 10/100 — Không đạt" in unit.text
        assert f'src="/desk/evidence/{photo_id}?thumb=1"' in unit.text
        assert "Kế hoạch" in unit.text
        thumb = await http.get(f"{site}/desk/evidence/{photo_id}?thumb=1")
        assert thumb.headers["content-type"] == "image/jpeg"
        assert max(Image.open(io.BytesIO(thumb.content)).size) == 240
        # Filters: the field, the review state, the late units.
        qpan = await http.get(f"{site}/desk/unit/{world.cell1.id}?year=2026&field=QPAN")
        assert "Tổ hòa giải giỏi" in qpan.text
        assert "Tuyến phố" not in qpan.text.split("models")[1]
        proposed = await http.get(f"{site}/desk?year=2026&state=proposed")
        assert "Hội LHPN phường" in proposed.text
        assert f'id="unit-{world.cell1.id}"' not in proposed.text
        # The chart and a workbook.
        chart = await http.get(f"{site}/desk/chart/{world.ward.id}.png")
        assert chart.content.startswith(b"\x89PNG")
        book = await http.get(f"{site}/desk/export/pl1/{world.ward.id}?year=2026")
        assert "Phu_luc_1_Dang_bo_phuong_Minh_Khai_2026.xlsx" in book.headers["content-disposition"]
        text = "\n".join(
            str(v)
            for ws in load_workbook(io.BytesIO(book.content)).worksheets
            for row in ws.iter_rows(values_only=True)
            for v in row
            if v is not None
        )
        assert "Tổ hòa giải giỏi" in text
        assert "Mô hình xã khác" not in text

        # Another subtree, by every URL: the same 404 as what does not exist.
        other = world.other_cell.id
        for path in (
            f"/desk/unit/{other}",
            f"/desk/chart/{other}.png",
            f"/desk/export/pl1/{world.other_ward.id}",
            "/desk/unit/999999",
            "/desk/unit/99999999999999999999",
            "/desk/evidence/99999999999999999999",
        ):
            refused = await http.get(f"{site}{path}")
            assert refused.status_code == 404, path
            assert "Đồng Tâm" not in refused.text

        # Sign out: the cookie no longer opens anything.
        cookie = http.cookies.get(COOKIE)
        assert cookie
        out = await http.post(f"{site}/desk/logout")
        assert "Đồng chí đã đăng xuất" in out.text
    async with httpx.AsyncClient(cookies={COOKIE: cookie}) as http:
        assert (await http.get(f"{site}/desk")).status_code == 401


async def test_a_reused_expired_or_forged_link_or_cookie_is_refused(
    web_core: Core, world: World, site: str, clock: Clock
) -> None:
    link = await sign_in_link(web_core)
    async with httpx.AsyncClient() as http:
        first = await signed_in(http, link)
        assert first.status_code == 303
        set_cookie = first.headers["set-cookie"]
        assert "HttpOnly" in set_cookie
        assert "SameSite=Lax" in set_cookie
        assert "Path=/desk" in set_cookie
    async with httpx.AsyncClient() as http:
        again = await signed_in(http, link)
        assert again.status_code == 403
        assert "đã được dùng hoặc đã hết hạn" in again.text
        forged = await http.post(f"{site}/desk/login", data={"t": "x" * 43})
        assert forged.status_code == 403
        late = await sign_in_link(web_core)
        clock.advance(minutes=16)
        assert (await signed_in(http, late)).status_code == 403
    cookie = first.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    login_id, expires, signature = cookie.split(".")
    for bad in (
        f"{int(login_id) + 1}.{expires}.{signature}",
        f"{login_id}.{int(expires) + 3600}.{signature}",
        f"{login_id}.{expires}.{signature[:-2]}xx",
        "",
    ):
        async with httpx.AsyncClient(cookies={COOKIE: bad}) as http:
            assert (await http.get(f"{site}/desk")).status_code == 401
    async with httpx.AsyncClient(cookies={COOKIE: cookie}) as http:
        assert (await http.get(f"{site}/desk")).status_code == 200
        clock.advance(hours=8)  # the session's end
        assert (await http.get(f"{site}/desk")).status_code == 401


async def test_a_leader_who_is_no_longer_one_sees_nothing(
    web_core: Core,
    world: World,
    site: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> None:
    link = await sign_in_link(web_core)
    async with httpx.AsyncClient(follow_redirects=True) as http:
        assert (await signed_in(http, link)).status_code == 200
        async with sessionmaker() as session, session.begin():
            leader = await people.person_for_account(session, "terminal", "hung")
            assert leader is not None
            for membership, _unit in await people.memberships(session, leader):
                membership.role = "officer"
        page = await http.get(f"{site}/desk")
        assert page.status_code == 403
        assert (await http.get(f"{site}/desk/unit/{world.cell1.id}")).status_code == 403


async def test_the_cookie_is_secure_behind_https(web_core: Core, world: World) -> None:
    desk = Desk(web_core, b"s" * 32, secure=True)
    server = TestServer(build_web_app("w" * 20, (), None, clock=web_core.clock, desk=desk))
    await server.start_server()
    web_core.web_base_url = str(server.make_url("")).rstrip("/")
    try:
        async with httpx.AsyncClient() as http:
            opened = await signed_in(http, await sign_in_link(web_core))
        assert opened.status_code == 303
        flags = [f.strip().lower() for f in opened.headers["set-cookie"].split(";")]
        assert {"secure", "httponly", "samesite=lax", "path=/desk"} <= set(flags)
    finally:
        await server.close()
