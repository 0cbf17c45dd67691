"""The HTML of the leaders' web page (``bot/desk.py`` serves it): the page frame and its
headers, the figures of /tonghop as tiles, the table of lower units, the filters' form, the
list of workbooks. Plain HTML with inline CSS, every text escaped; no script, no external
asset."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from aiohttp import web

from conversations.texts.common import REVIEW_STATUS
from domain.catalog import FIELD_KEYS, FIELD_LABELS, FIELD_SHORT, Field, Review
from reports.chart import Progress
from reports.exports import EXPORTS
from reports.summary import Summary, UnitLine
from storage.models import ModelYear, Person, Unit

NONE_STATE = "none"  # the review filter's “not proposed”
STATES: dict[str, str] = {
    NONE_STATE: REVIEW_STATUS[None],
    **{r.value: REVIEW_STATUS[r.value] for r in Review},
}
HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}

CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Noto Sans","DejaVu Sans",sans-serif;color:#1f2937;background:#f4f5f7}
header{background:#9b1c1c;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem;
align-items:center;justify-content:space-between}header a{color:#fff;text-decoration:none;
font-weight:700}header form{margin:0}main{max-width:1100px;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.5rem 0}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
h3{font-size:1.05rem;margin:0 0 .4rem}section,article{background:#fff;border-radius:8px;
padding:1rem;margin:0 0 1rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.5rem}
.figure{background:#f8fafc;border:1px solid #e5e7eb;border-radius:6px;padding:.5rem}
.figure b{display:block;font-size:1.35rem}.late{color:#c62828;font-weight:700}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{border-bottom:1px solid #e5e7eb;padding:.4rem;text-align:left;vertical-align:top}
th{background:#f3f4f6}td.n{text-align:right}tr.late td{background:#fdecec}
img.chart{width:100%;height:auto;border:1px solid #e5e7eb;border-radius:6px}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
label{display:flex;flex-direction:column;font-size:.85rem;max-width:100%}select,button{font:inherit;max-width:100%;
padding:.35rem .5rem}button{cursor:pointer;border:1px solid #9b1c1c;background:#9b1c1c;
color:#fff;border-radius:6px}header button{background:#fff;color:#9b1c1c}
ul.lines{margin:.3rem 0;padding-left:1.1rem}.thumbs{display:flex;flex-wrap:wrap;gap:.5rem}
.thumbs img{width:120px;height:120px;object-fit:cover;border-radius:4px;border:1px solid #ddd}
.crumbs{font-size:.9rem}.muted{color:#6b7280}a{color:#1f5fa8}
"""


def h(value: object) -> str:
    return escape(str(value), quote=True)


@dataclass(frozen=True)
class Viewer:
    """The signed-in person and what they lead, read at this request."""

    login_id: int
    person: Person
    roots: list[Unit]  # units held as leader or admin, in tree order

    def reaches(self, unit: Unit) -> bool:
        return any(unit.path.startswith(root.path) for root in self.roots)


# --- filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    field: str = ""  # a Field value
    state: str = ""  # a Review value or NONE_STATE
    late: bool = False

    @classmethod
    def of(cls, request: web.Request) -> Filters:
        query = request.rel_url.query
        field = query.get("field", "")
        state = query.get("state", "")
        return cls(
            field if field in FIELD_KEYS else "",
            state if state in STATES else "",
            query.get("late") == "1",
        )

    def keeps_unit(self, line: UnitLine, progress: Progress) -> bool:
        if self.late and line.unit_id not in progress.late_ids:
            return False
        if self.field and not line.by_field.get(self.field):
            return False
        if self.state == NONE_STATE:
            decided = line.proposed + line.recognised + line.not_recognised + line.removed
            return line.models > decided
        return not self.state or bool(getattr(line, self.state))

    def keeps_record(self, record: ModelYear) -> bool:
        if self.field and record.field != self.field:
            return False
        if self.state == NONE_STATE:
            return record.review is None
        return not self.state or record.review == self.state

    def form(self, year: int, late: bool) -> str:
        fields = _options(
            [("", "Mọi lĩnh vực")] + [(f, FIELD_LABELS[Field(f)]) for f in FIELD_KEYS],
            self.field,
        )
        states = _options([("", "Mọi tình trạng"), *STATES.items()], self.state)
        late_box = (
            '<label>Chỉ đơn vị chậm<select name="late">'
            + _options([("", "Không"), ("1", "Có")], "1" if self.late else "")
            + "</select></label>"
            if late
            else ""
        )
        return (
            '<form class="filters" method="get">'
            f'<input type="hidden" name="year" value="{year}">'
            f'<label>Lĩnh vực<select name="field">{fields}</select></label>'
            f'<label>Tình trạng công nhận<select name="state">{states}</select></label>'
            f'{late_box}<button type="submit" id="filter">Lọc</button></form>'
        )


def _options(pairs: Iterable[tuple[str, str]], chosen: str) -> str:
    return "".join(
        f'<option value="{h(v)}"{" selected" if v == chosen else ""}>{h(label)}</option>'
        for v, label in pairs
    )


# --- pieces of pages --------------------------------------------------------------------


def unit_href(unit_id: int, year: int) -> str:
    return f"/desk/unit/{unit_id}?{urlencode({'year': year})}"


def chart_img(unit: Unit, year: int) -> str:
    return (
        f'<img class="chart" src="/desk/chart/{unit.id}.png?year={year}" '
        f'alt="Biểu đồ tiến độ năm {year} — {h(unit.name)}">'
    )


def figures_html(summary: Summary) -> str:
    """The figures of /tonghop (``reports/summary.py``'s :class:`Summary`), as tiles."""
    tiles = [
        (
            "units-registered",
            "Đơn vị đã đăng ký",
            f"{summary.owing_registered}/{len(summary.must_register)}",
        ),
        ("models", "Tổng số mô hình", summary.models),
        *((f"field-{f}", FIELD_LABELS[Field(f)], summary.by_field.get(f, 0)) for f in FIELD_KEYS),
        ("collective", "Tập thể", summary.collective),
        ("individual", "Cá nhân", summary.individual),
        ("new", "Xây dựng mới", summary.new),
        ("kept", "Duy trì", summary.kept),
        ("results", "Đã nhập kết quả", f"{summary.results}/{summary.models}"),
        ("scored", "Đã tự chấm điểm", f"{summary.scored}/{summary.models}"),
        ("passing", "Đạt", f"{summary.passing}/{summary.scored}"),
        ("considered", "Đã đề xuất công nhận", f"{summary.considered}/{summary.passing}"),
        ("proposed", "Chờ duyệt", summary.proposed),
        ("recognised", "Đã công nhận", summary.recognised),
        ("not-recognised", "Không công nhận", summary.not_recognised),
        ("removed", "Thanh loại", summary.removed),
        ("reports", "Báo cáo năm đã gửi", f"{summary.reports_sent}/{summary.reports_due}"),
        ("not-registered", "Chưa đăng ký", len(summary.not_registered)),
        ("registered-late", "Đăng ký muộn", len(summary.registered_late)),
        ("under-quota", "Chưa đạt chỉ tiêu", len(summary.under_quota)),
    ]
    body = "".join(
        f'<div class="figure"><span>{h(label)}</span><b id="fig-{key}">{h(value)}</b></div>'
        for key, label, value in tiles
    )
    return f'<div class="figures">{body}</div>'


def units_table(lines: Sequence[UnitLine], progress: Progress, year: int) -> str:
    head = "".join(
        f"<th>{h(t)}</th>"
        for t in (
            "Đơn vị",
            "Số mô hình",
            *(FIELD_SHORT[Field(f)] for f in FIELD_KEYS),
            "Chỉ tiêu",
            "Đăng ký đúng hạn",
            "Chờ duyệt",
            "Công nhận",
            "Tình trạng",
        )
    )
    rows = []
    for line in lines:
        late = line.unit_id in progress.late_ids
        on_time = "chưa đăng ký" if not line.registered else ("có" if line.on_time else "không")
        pad = f"padding-left:{0.4 + 1.2 * line.depth:.1f}rem"
        rows.append(
            f'<tr id="unit-{line.unit_id}"{" class=late" if late else ""}>'
            f'<td style="{pad}"><a href="{unit_href(line.unit_id, year)}">{h(line.name)}</a></td>'
            f'<td class="n">{line.models}</td>'
            + "".join(f'<td class="n">{line.by_field.get(f, 0)}</td>' for f in FIELD_KEYS)
            + f'<td class="n">{line.quota or "—"}</td><td>{on_time}</td>'
            f'<td class="n">{line.proposed}</td><td class="n">{line.recognised}</td>'
            f"<td>{'<span class=late>chậm</span>' if late else ''}</td></tr>"
        )
    if not rows:
        return '<p class="muted">Không có đơn vị nào theo bộ lọc này.</p>'
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def exports_list(unit: Unit, year: int) -> str:
    items = "".join(
        f'<li><a id="export-{e.code}" href="/desk/export/{e.code}/{unit.id}?year={year}">'
        f"{h(e.label)}</a></li>"
        for e in EXPORTS.values()
    )
    return f"<p>Của {h(unit.name)} và mọi đơn vị trực thuộc, năm {year}:</p><ul>{items}</ul>"


def page(title: str, body: str, viewer: Viewer | None = None, status: int = 200) -> web.Response:
    who = ""
    if viewer is not None:
        who = (
            f"<span>{h(viewer.person.full_name)}</span>"
            '<form method="post" action="/desk/logout">'
            '<button type="submit" id="sign-out">Đăng xuất</button></form>'
        )
    html = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{h(title)} — Dân vận khéo</title><style>{CSS}</style></head><body>"
        '<header><a href="/desk">Trợ lý “Dân vận khéo” — Trang tổng hợp</a>'
        f"{who}</header><main>{body}</main></body></html>"
    )
    return web.Response(
        text=html, content_type="text/html", charset="utf-8", status=status, headers=HEADERS
    )
