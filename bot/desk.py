"""The leaders' web page (the “desk”), read-only, on the bot's own web server.

``/web`` in chat gives a leader a one-time sign-in link (``conversations/desk.py``, 15 minutes,
one use, stored hashed: ``storage/desk.py``). Opening it shows a button; pressing it (a POST,
so that a link preview fetching the page does not use the link up) opens a session kept in a
signed cookie (HttpOnly, SameSite=Lax, Secure behind https) that names the session's row: it
ends at its expiry or on “Đăng xuất”.

Every request reads the person from the session and what they lead from their memberships at
that moment; a unit, a model, a piece of evidence or a workbook outside their subtree gets the
same 404 as one that does not exist. Pages are plain HTML with inline CSS, every text escaped;
no script, no external asset (their pieces: ``bot/desk_pages.py``).

- ``GET /desk``: each unit the person leads: the figures of /tonghop, the chart, the lower
  units (filters: field, review state, late), the workbooks to download;
- ``GET /desk/unit/{id}``: one unit: its lower units, its models (record, results, points and
  verdict, review state, evidence thumbnails), the same filters;
- ``GET /desk/chart/{id}.png``, ``GET /desk/export/{code}/{id}``, ``GET /desk/evidence/{id}``
  (``?thumb=1``: a small JPEG of a photo);
- ``GET|POST /desk/login``, ``POST /desk/logout``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path

from aiohttp import web
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk_pages import (
    HEADERS,
    Filters,
    Viewer,
    chart_img,
    exports_list,
    figures_html,
    h,
    page,
    unit_href,
    units_table,
)
from bot.files import content_disposition
from conversations.context import Ctx
from conversations.records import detail_lines
from conversations.workbooks import subtree_summary
from domain.catalog import Role
from handlers.core import Core
from reports.chart import Progress, progress_of, render_png
from reports.exports import EXPORTS, Scope, make_export
from reports.summary import Summary
from storage import audit_log, model_years, people, unit_tree
from storage import desk as logins
from storage.evidence import evidence_of, mime_of
from storage.models import Evidence, ModelYear, Unit

COOKIE = "dvk_desk"
THUMB_PX = 240


# --- the session cookie ----------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Desk:
    """The routes of the desk, for :func:`bot.web.build_web_app`."""

    def __init__(self, core: Core, secret: bytes, secure: bool) -> None:
        self.core = core
        self.secret = hashlib.sha256(b"desk-session\n" + secret).digest()
        self.secure = secure

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/desk", self._viewing(self.overview))
        # Ids of at most 9 digits: a longer number is no row of ours (and no database integer).
        app.router.add_get("/desk/unit/{unit_id:\\d{1,9}}", self._viewing_unit(self.unit_page))
        app.router.add_get("/desk/chart/{unit_id:\\d{1,9}}.png", self._viewing_unit(self.chart))
        app.router.add_get(
            "/desk/export/{code}/{unit_id:\\d{1,9}}", self._viewing_unit(self.export)
        )
        app.router.add_get("/desk/evidence/{evidence_id:\\d{1,9}}", self._viewing(self.evidence))
        app.router.add_get("/desk/login", self.login_page)
        app.router.add_post("/desk/login", self.login)
        app.router.add_post("/desk/logout", self.logout)

    # --- cookies ---

    def _sign(self, login_id: int, expires: int) -> str:
        message = f"{login_id}\n{expires}".encode()
        return _b64(hmac.new(self.secret, message, hashlib.sha256).digest())

    def cookie_value(self, login_id: int, expires: datetime) -> str:
        stamp = int(expires.timestamp())
        return f"{login_id}.{stamp}.{self._sign(login_id, stamp)}"

    def login_id_of(self, request: web.Request) -> int | None:
        """The session's row named by a valid, unexpired cookie, else None."""
        value = request.cookies.get(COOKIE, "")
        parts = value.split(".")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            return None
        login_id, expires = int(parts[0]), int(parts[1])
        if not hmac.compare_digest(self._sign(login_id, expires).encode(), parts[2].encode()):
            return None
        if expires <= self.core.clock().timestamp():
            return None
        return login_id

    # --- access ---

    async def viewer(self, session: AsyncSession, request: web.Request) -> Viewer | None:
        login_id = self.login_id_of(request)
        if login_id is None:
            return None
        person = await logins.session_person(session, login_id, self.core.clock())
        if person is None:
            return None
        roots = [
            unit
            for membership, unit in await people.memberships(session, person)
            if people.ROLE_RANK[membership.role] >= people.ROLE_RANK[Role.LEADER]
        ]
        # A unit inside another one led is shown inside it, not twice.
        tops = [
            u for u in roots if not any(u.path.startswith(o.path) and u is not o for o in roots)
        ]
        return Viewer(login_id, person, unit_tree.sort_tree(tops))

    def _viewing(
        self, handler: Callable[[AsyncSession, web.Request, Viewer], Awaitable[web.StreamResponse]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A page for a signed-in leader only: otherwise the sign-in page's advice."""

        async def route(request: web.Request) -> web.StreamResponse:
            async with self.core.sessionmaker() as session:
                viewer = await self.viewer(session, request)
                if viewer is None:
                    return page(
                        "Chưa đăng nhập",
                        "<section><p>Đồng chí chưa đăng nhập hoặc phiên đã hết hạn.</p>"
                        "<p>Gõ <b>/web</b> trong trò chuyện với trợ lý để nhận đường dẫn đăng "
                        "nhập mới.</p></section>",
                        status=401,
                    )
                if not viewer.roots:
                    return page(
                        "Không có quyền",
                        "<section><p>Trang tổng hợp dành cho lãnh đạo và quản trị; đồng chí "
                        "không còn giữ vai trò đó ở đơn vị nào.</p></section>",
                        viewer,
                        status=403,
                    )
                return await handler(session, request, viewer)

        return route

    def _viewing_unit(
        self,
        handler: Callable[[AsyncSession, web.Request, Viewer, Unit], Awaitable[web.StreamResponse]],
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A page of the unit in the URL (``unit_id``), for a signed-in leader of it or of a
        unit above it; 404 for any other unit."""

        async def with_unit(
            session: AsyncSession, request: web.Request, viewer: Viewer
        ) -> web.StreamResponse:
            unit = await session.get(Unit, int(request.match_info["unit_id"]))
            if unit is None or not viewer.reaches(unit):
                raise not_found()
            return await handler(session, request, viewer, unit)

        return self._viewing(with_unit)

    def year_of(self, request: web.Request) -> int:
        this_year = self.core.clock().astimezone(self.core.tz).year
        raw = request.rel_url.query.get("year", "")
        if raw.isdigit() and 2000 <= int(raw) <= this_year + 1:
            return int(raw)
        return this_year

    def scope(self, unit: Unit, year: int) -> Scope:
        return Scope(unit, True, year, self.core.tz, self.core.clock(), self.core.quotas)

    def ctx(self, session: AsyncSession, viewer: Viewer) -> Ctx:
        return Ctx(
            session=session,
            person=viewer.person,
            channel="web",
            chat_id="",
            user_id="",
            now=self.core.clock(),
            tz=self.core.tz,
            quotas=self.core.quotas,
            files=self.core.files,
        )

    async def progress(self, session: AsyncSession, unit: Unit, year: int) -> Progress:
        today = self.core.clock().astimezone(self.core.tz).date()
        return await progress_of(session, unit, year, today, self.core.quotas)

    # --- signing in and out ---

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        token = request.rel_url.query.get("t", "")
        body = (
            "<section><h1>Đăng nhập trang tổng hợp</h1>"
            "<p>Đường dẫn này chỉ dùng được một lần. Bấm nút dưới đây để vào trang tổng hợp "
            "(chỉ xem) các đơn vị đồng chí phụ trách.</p>"
            '<form method="post" action="/desk/login">'
            f'<input type="hidden" name="t" value="{h(token)}">'
            '<button type="submit" id="sign-in">Đăng nhập</button></form></section>'
        )
        return page("Đăng nhập", body)

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        token = str(form.get("t", ""))
        now = self.core.clock()
        async with self.core.sessionmaker() as session, session.begin():
            opened = await logins.use_link(session, token, now) if token else None
            if opened is not None:
                await audit_log.audit(
                    session,
                    opened.person_id,
                    "desk_sign_in",
                    "person",
                    opened.person_id,
                    {},
                    now,
                    "web",
                )
        if opened is None:
            return page(
                "Đường dẫn không dùng được",
                "<section><h1>Đường dẫn không dùng được</h1><p>Đường dẫn đăng nhập không đúng, "
                "đã được dùng hoặc đã hết hạn (15 phút).</p><p>Gõ <b>/web</b> trong trò chuyện "
                "với trợ lý để nhận đường dẫn mới.</p></section>",
                status=403,
            )
        response = web.Response(status=303, headers={**HEADERS, "Location": "/desk"})
        response.set_cookie(
            COOKIE,
            self.cookie_value(opened.login_id, opened.expires_at),
            max_age=int((opened.expires_at - now).total_seconds()),
            path="/desk",
            httponly=True,
            secure=self.secure,
            samesite="Lax",
        )
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        login_id = self.login_id_of(request)
        if login_id is not None:
            async with self.core.sessionmaker() as session, session.begin():
                await logins.end_session(session, login_id, self.core.clock())
        response = page(
            "Đã đăng xuất",
            "<section><h1>Đồng chí đã đăng xuất</h1><p>Gõ <b>/web</b> trong trò chuyện với "
            "trợ lý khi cần vào lại.</p></section>",
        )
        response.del_cookie(COOKIE, path="/desk")
        return response

    # --- pages ---

    async def overview(
        self, session: AsyncSession, request: web.Request, viewer: Viewer
    ) -> web.StreamResponse:
        year = self.year_of(request)
        wanted = Filters.of(request)
        parts = []
        for root in viewer.roots:
            summary = await subtree_summary(session, self.scope(root, year))
            progress = await self.progress(session, root, year)
            parts.append(self.root_section(root, summary, progress, wanted, year))
        title = f"Tổng hợp năm {year}"
        return page(title, "".join(parts), viewer)

    def root_section(
        self, root: Unit, summary: Summary, progress: Progress, wanted: Filters, year: int
    ) -> str:
        lines = [u for u in summary.units if wanted.keeps_unit(u, progress)]
        return (
            f'<section id="root-{root.id}"><h1>Tổng hợp năm {year} — {h(root.name)}</h1>'
            f"{figures_html(summary)}</section>"
            f"<section><h2>Biểu đồ tiến độ</h2>{chart_img(root, year)}</section>"
            f"<section><h2>Các đơn vị ({len(lines)}/{len(summary.units)})</h2>"
            f"{wanted.form(year, late=True)}{units_table(lines, progress, year)}</section>"
            f"<section><h2>Tải biểu</h2>{exports_list(root, year)}</section>"
        )

    async def unit_page(
        self, session: AsyncSession, request: web.Request, viewer: Viewer, unit: Unit
    ) -> web.StreamResponse:
        year = self.year_of(request)
        wanted = Filters.of(request)
        summary = await subtree_summary(session, self.scope(unit, year))
        progress = await self.progress(session, unit, year)
        own = summary.units[0]
        lower = [u for u in summary.units if u.depth == 1 and wanted.keeps_unit(u, progress)]
        records = [
            r
            for r in await model_years.records_of_unit(session, unit.id, year)
            if wanted.keeps_record(r)
        ]
        ctx = self.ctx(session, viewer)
        models = [
            await self.model_html(ctx, record, unit, await evidence_of(session, record.id))
            for record in records
        ]
        crumbs = await self.crumbs(session, viewer, unit, year)
        late = ' <span class="late">(chậm)</span>' if unit.id in progress.late_ids else ""
        body = (
            f'<p class="crumbs">{crumbs}</p>'
            f"<section><h1>{h(unit.name)} — năm {year}{late}</h1>{figures_html(summary)}"
            f"{wanted.form(year, late=bool(lower))}</section>"
        )
        if lower:
            body += (
                f"<section><h2>Các đơn vị trực thuộc ({len(lower)})</h2>"
                f"{units_table(lower, progress, year)}</section>"
                f"<section><h2>Biểu đồ tiến độ</h2>{chart_img(unit, year)}</section>"
            )
        body += (
            f'<h2 id="models">Mô hình của {h(unit.name)} ({len(records)}/{own.models})</h2>'
            + ("".join(models) or '<section class="muted">Không có mô hình nào.</section>')
            + f"<section><h2>Tải biểu</h2>{exports_list(unit, year)}</section>"
        )
        return page(unit.name, body, viewer)

    async def crumbs(self, session: AsyncSession, viewer: Viewer, unit: Unit, year: int) -> str:
        """Links to the units above ``unit`` the viewer reaches (down from what they lead)."""
        ids = [int(x) for x in unit.path.strip("/").split("/") if x]
        links = [f'<a href="/desk?year={year}">Tổng hợp</a>']
        for uid in ids[:-1]:
            above = await session.get(Unit, uid)
            if above is not None and viewer.reaches(above):
                links.append(f'<a href="{unit_href(above.id, year)}">{h(above.name)}</a>')
        links.append(h(unit.name))
        return " › ".join(links)

    async def model_html(
        self, ctx: Ctx, record: ModelYear, unit: Unit, evidence: Sequence[Evidence]
    ) -> str:
        lines = await detail_lines(ctx, record, unit)
        items = "".join(f"<li>{h(line.lstrip('• ').strip())}</li>" for line in lines[1:])
        thumbs = []
        for number, item in enumerate(evidence, start=1):
            caption = item.caption or item.file_name or f"Minh chứng {number}"
            href = f"/desk/evidence/{item.id}"
            if mime_of(item).startswith("image/"):
                thumbs.append(
                    f'<a href="{href}"><img src="{href}?thumb=1" alt="{h(caption)}" '
                    f'title="{h(caption)}" loading="lazy"></a>'
                )
            else:
                thumbs.append(f'<a href="{href}">Tệp: {h(caption)}</a>')
        shown = (
            f"<p><b>Minh chứng ({len(evidence)}):</b></p>"
            f'<div class="thumbs">{"".join(thumbs)}</div>'
            if evidence
            else '<p class="muted">Chưa có minh chứng.</p>'
        )
        return (
            f'<article class="model" id="model-{record.id}"><h3>{h(record.name)}</h3>'
            f'<ul class="lines">{items}</ul>{shown}</article>'
        )

    # --- files ---

    async def chart(
        self, session: AsyncSession, request: web.Request, _viewer: Viewer, unit: Unit
    ) -> web.StreamResponse:
        progress = await self.progress(session, unit, self.year_of(request))
        png = await asyncio.to_thread(render_png, progress)
        return web.Response(body=png, content_type="image/png", headers=HEADERS)

    async def export(
        self, session: AsyncSession, request: web.Request, _viewer: Viewer, unit: Unit
    ) -> web.StreamResponse:
        code = request.match_info["code"]
        if code not in EXPORTS:
            raise not_found()
        document = await make_export(session, code, self.scope(unit, self.year_of(request)))
        headers = {**HEADERS, "Content-Disposition": content_disposition(document.file_name)}
        return web.Response(body=document.content, content_type=document.mime_type, headers=headers)

    async def evidence(
        self, session: AsyncSession, request: web.Request, viewer: Viewer
    ) -> web.StreamResponse:
        item = await session.get(Evidence, int(request.match_info["evidence_id"]))
        record = await session.get(ModelYear, item.model_year_id) if item is not None else None
        unit = await model_years.unit_of_record(session, record) if record is not None else None
        if item is None or unit is None or not viewer.reaches(unit):
            raise not_found()
        path = self.core.files.path_of(item)
        if not path.is_file():
            raise not_found()
        mime = mime_of(item)
        if request.rel_url.query.get("thumb") and mime.startswith("image/"):
            try:
                small = await asyncio.to_thread(thumbnail, path)
            except (OSError, ValueError, Image.DecompressionBombError):
                raise not_found() from None
            return web.Response(body=small, content_type="image/jpeg", headers=HEADERS)
        name = item.file_name or f"minh_chung_{item.id}{path.suffix}"
        return web.FileResponse(
            path,
            headers={
                **HEADERS,
                "Content-Type": mime,
                "Content-Disposition": content_disposition(name),
            },
        )


def not_found() -> web.HTTPNotFound:
    """The one answer for anything the viewer may not see or that is not there: the two
    are not told apart."""
    return web.HTTPNotFound(text="Không tìm thấy.", headers=HEADERS)


def thumbnail(path: Path) -> bytes:
    """A JPEG of at most :data:`THUMB_PX` on its longer side."""
    with Image.open(path) as image:
        image.thumbnail((THUMB_PX, THUMB_PX))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=80)
        return out.getvalue()
