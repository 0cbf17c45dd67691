"""The leader's picture of the season: one row per lower unit, a PNG a phone shows whole.

Before the leader's registration deadline each row is the models a lower unit (with every
unit below it) registered against its quota; after it, its models with results, scored,
proposed and recognised. A unit is late when its own date (``storage/deadlines.py``: the
nearest level's plan, an extension for the unit) has passed and it still owes what that
deadline asks, as the reminders count it: fewer models than its quota (a kind without one
owes none) for registration, a model without results or without points for evaluation. Rows
with a late unit are drawn in red.

The figures come from one aggregate query over the subtree (GROUP BY unit); the rows read
are one per unit, never one per model. At most :data:`MAX_BARS` rows: past that, the rows
that lag most are kept and the rest are added up in one row, “Các đơn vị khác”.

Drawn with matplotlib's Agg canvas (no pyplot, no display) in its own DejaVu Sans font,
which has every Vietnamese letter; nothing is downloaded.
"""

from __future__ import annotations

import io
import textwrap
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar import EVALUATION, REGISTRATION
from domain.catalog import DEFAULT_QUOTAS, Review, required_models
from domain.messages import Document
from reports.aggregates import count_if, has_results, record_scores, scored
from reports.style import ascii_slug
from reports.summary import name_key
from storage import deadlines, model_years
from storage.models import DvkModel, ModelYear, Unit

MAX_BARS = 25  # rows of the picture, the “other units” row included
OTHERS = "Các đơn vị khác"
WIDTH_PX = 1200
DPI = 100
NAME_CHARS = 44  # a unit's name is cut past this, then wrapped on two lines
PNG_MIME = "image/png"
# matplotlib's own copy of DejaVu Sans (every Vietnamese letter), whatever the machine has.
FONT: dict[Any, Any] = {"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}

# Colours: what is done in blue and green, what is owed in grey, the late in red.
GREY, BLUE, TEAL, ORANGE, GREEN, RED = (
    "#c8ccd2",
    "#1f5fa8",
    "#2a9d8f",
    "#e09f3e",
    "#2e7d32",
    "#c62828",
)
LATE_BAND = "#fde2e2"

# After the registration deadline: (attribute, legend label, colour).
EVALUATION_SERIES: tuple[tuple[str, str, str], ...] = (
    ("results", "Có kết quả", BLUE),
    ("scored", "Đã chấm điểm", TEAL),
    ("proposed", "Đã đề xuất công nhận", ORANGE),
    ("recognised", "Được công nhận", GREEN),
)
_PROPOSED = (
    Review.PROPOSED.value,
    Review.RECOGNISED.value,
    Review.NOT_RECOGNISED.value,
    Review.REMOVED.value,
)


@dataclass(frozen=True)
class Row:
    """One row of the picture: a lower unit with every unit below it, the leader's own unit
    alone, or the units grouped as “Các đơn vị khác”."""

    label: str
    units: int  # units counted in the row
    models: int  # active models of the year
    required: int  # models the quotas ask of those units
    results: int  # models with results (Phụ lục 4 column 7)
    scored: int  # models with points on the rubric
    proposed: int  # models proposed for recognition (waiting or decided)
    recognised: int
    late: int  # units of the row that are late
    unit_id: int | None = None  # the lower unit (None for the grouped row)
    grouped: bool = False

    def progress(self, phase: str) -> float:
        """How far the row is, 0 to 1: what the rows that lag most are picked by."""
        if phase == REGISTRATION:
            return min(self.models / self.required, 1.0) if self.required else 1.0
        if not self.models:
            return 0.0
        return (self.results + self.scored) / (2 * self.models)


@dataclass(frozen=True)
class Progress:
    root_id: int
    root_name: str
    year: int
    phase: str  # REGISTRATION until the root's registration date has passed, then EVALUATION
    due_on: date  # the root's date of that phase
    rows: list[Row]
    grouped: int = 0  # lower units added up in the “other units” row
    lower_units: int = 0  # rows before grouping (the leader's own unit included)
    late_units: list[str] = field(default_factory=list)  # names, by name
    late_ids: frozenset[int] = frozenset()  # the same units, by id


@dataclass
class _Unit:
    id: int
    name: str
    kind: str
    path: str
    models: int = 0
    no_results: int = 0
    unscored: int = 0
    scored: int = 0
    proposed: int = 0
    recognised: int = 0


def _branch_of(path: str, root_path: str, root_id: int) -> int:
    """The lower unit (a child of the root) whose subtree holds the unit at ``path``; the
    root itself for the root."""
    rest = path[len(root_path) :].strip("/")
    return int(rest.split("/", 1)[0]) if rest else root_id


async def progress_of(
    session: AsyncSession,
    root: Unit,
    year: int,
    today: date,
    quotas: Mapping[str, int] | None = None,
    max_bars: int = MAX_BARS,
) -> Progress:
    """The rows of the picture for ``root``'s subtree in ``year``, as of ``today`` (local)."""
    quotas = DEFAULT_QUOTAS if quotas is None else quotas
    plan = await deadlines.year_plan(session, year)
    registration_due = plan.due(root, REGISTRATION).closes_on
    phase = REGISTRATION if today <= registration_due else EVALUATION
    due_on = registration_due if phase == REGISTRATION else plan.due(root, EVALUATION).closes_on

    in_subtree = Unit.path.startswith(root.path, autoescape=True)
    units = {
        uid: _Unit(uid, name, kind, path)
        for uid, name, kind, path in (
            await session.execute(
                select(Unit.id, Unit.name, Unit.kind, Unit.path).where(in_subtree)
            )
        ).all()
    }
    scores = record_scores()
    query = (
        model_years.in_scope(
            select(
                DvkModel.unit_id,
                func.count(ModelYear.id),
                count_if(~has_results()),
                count_if(~scored(scores)),
                count_if(ModelYear.review.in_(_PROPOSED)),
                count_if(ModelYear.review == Review.RECOGNISED.value),
            ).select_from(ModelYear),
            root,
            year,
        )
        .outerjoin(scores, scores.c.record == ModelYear.id)
        .group_by(DvkModel.unit_id)
    )
    for uid, models, no_results, unscored, proposed, recognised in (
        await session.execute(query)
    ).all():
        unit = units.get(uid)
        if unit is None:
            continue
        unit.models = int(models)
        unit.no_results = int(no_results or 0)
        unit.unscored = int(unscored or 0)
        unit.scored = unit.models - unit.unscored
        unit.proposed = int(proposed or 0)
        unit.recognised = int(recognised or 0)

    def late(unit: _Unit) -> bool:
        required = required_models(unit.kind, quotas)
        if (
            unit.models < required
            and plan.due_at(unit.id, unit.path, REGISTRATION).closes_on < today
        ):
            return True
        owes_evaluation = unit.no_results > 0 or unit.unscored > 0
        return owes_evaluation and plan.due_at(unit.id, unit.path, EVALUATION).closes_on < today

    totals: dict[int, dict[str, int]] = {}
    late_names: list[str] = []
    late_ids: set[int] = set()
    for unit in units.values():
        branch = _branch_of(unit.path, root.path, root.id)
        row = totals.setdefault(branch, dict.fromkeys(_SUMMED, 0))
        row["units"] += 1
        row["models"] += unit.models
        row["required"] += required_models(unit.kind, quotas)
        row["results"] += unit.models - unit.no_results
        row["scored"] += unit.scored
        row["proposed"] += unit.proposed
        row["recognised"] += unit.recognised
        if late(unit):
            row["late"] += 1
            late_names.append(unit.name)
            late_ids.add(unit.id)

    rows = [_row(units[uid].name, figures, uid) for uid, figures in totals.items()]
    own = [r for r in rows if r.unit_id == root.id]
    lower = sorted((r for r in rows if r.unit_id != root.id), key=lambda r: name_key(r.label))
    shown, grouped = _fit(lower, phase, max_bars - len(own))
    return Progress(
        root_id=root.id,
        root_name=root.name,
        year=year,
        phase=phase,
        due_on=due_on,
        rows=own + shown,
        grouped=grouped,
        lower_units=len(rows),
        late_units=sorted(late_names, key=name_key),
        late_ids=frozenset(late_ids),
    )


def _row(label: str, f: Mapping[str, int], unit_id: int | None) -> Row:
    return Row(
        label,
        units=f["units"],
        models=f["models"],
        required=f["required"],
        results=f["results"],
        scored=f["scored"],
        proposed=f["proposed"],
        recognised=f["recognised"],
        late=f["late"],
        unit_id=unit_id,
        grouped=unit_id is None,
    )


_SUMMED = ("units", "models", "required", "results", "scored", "proposed", "recognised", "late")


def _fit(rows: Sequence[Row], phase: str, room: int) -> tuple[list[Row], int]:
    """At most ``room`` rows: all of them, or those that lag most (late ones first, then the
    least progress) in their order and one row adding up the others."""
    if len(rows) <= room:
        return list(rows), 0
    keep = room - 1
    by_lag = sorted(range(len(rows)), key=lambda i: (-rows[i].late, rows[i].progress(phase), i))
    kept = set(by_lag[:keep])
    rest = [r for i, r in enumerate(rows) if i not in kept]
    sums = {name: sum(getattr(r, name) for r in rest) for name in _SUMMED}
    others = _row(f"{OTHERS}\n({len(rest)} đơn vị)", sums, None)
    return [r for i, r in enumerate(rows) if i in kept] + [others], len(rest)


# --- the picture -----------------------------------------------------------------------


def _fmt_day(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def title_of(progress: Progress) -> tuple[str, str]:
    """The picture's title (what, the year) and the line under it (whose, the date)."""
    what = "Tiến độ đăng ký mô hình" if progress.phase == REGISTRATION else "Kết quả mô hình"
    when = "Hạn đăng ký" if progress.phase == REGISTRATION else "Hạn đánh giá, đề nghị công nhận"
    late = f" · {len(progress.late_units)} đơn vị chậm (tô đỏ)" if progress.late_units else ""
    return (
        f"{what} “Dân vận khéo” năm {progress.year}",
        f"{progress.root_name} · {when}: {_fmt_day(progress.due_on)}{late}",
    )


def _label(row: Row) -> str:
    name = row.label
    if not row.grouped and len(name) > NAME_CHARS:
        name = name[: NAME_CHARS - 1].rstrip() + "…"
    lines = name.split("\n") if row.grouped else textwrap.wrap(name, 23, break_long_words=False)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    if row.late:
        lines.append("chậm" if row.units == 1 else f"{row.late} đơn vị chậm")
    return "\n".join(lines)


def draw(progress: Progress) -> Figure:
    """The figure: one horizontal row per :class:`Row`, top to bottom in the given order."""
    with rc_context(FONT):
        return _draw(progress)


def _draw(progress: Progress) -> Figure:
    rows = progress.rows or [Row("Chưa có đơn vị", 0, 0, 0, 0, 0, 0, 0, 0)]
    registration = progress.phase == REGISTRATION
    row_height = 0.62 if registration else 0.95  # inches of one row
    height = 2.4 + row_height * len(rows)
    fig = Figure(figsize=(WIDTH_PX / DPI, height), dpi=DPI)
    FigureCanvasAgg(fig)
    title, subtitle = title_of(progress)
    fig.suptitle(title, fontsize=22, fontweight="bold", x=0.02, ha="left", y=1 - 0.25 / height)
    fig.text(0.02, 1 - 0.72 / height, subtitle, fontsize=15, ha="left", va="center")
    ax = fig.add_axes((0.3, 0.55 / height, 0.66, 1 - 1.9 / height))
    positions = list(range(len(rows)))
    ax.set_ylim(len(rows) - 0.5, -0.5)
    for y, row in zip(positions, rows, strict=True):
        if row.late:
            ax.axhspan(y - 0.5, y + 0.5, color=LATE_BAND, zorder=0)
    # One bar call per series (all the rows at once): drawing is a few calls, not hundreds.
    if registration:
        ax.barh(positions, [r.required for r in rows], height=0.7, color=GREY, zorder=1)
        colours = [RED if r.late else BLUE for r in rows]
        ax.barh(positions, [r.models for r in rows], height=0.42, color=colours, zorder=2)
        ends = [(max(r.required, r.models), f"  {r.models}/{r.required}") for r in rows]
        handles = [Patch(color=BLUE, label="Đã đăng ký"), Patch(color=GREY, label="Chỉ tiêu")]
    else:
        bar = 0.8 / len(EVALUATION_SERIES)
        ax.barh(positions, [r.models for r in rows], height=0.92, color=GREY, zorder=1)
        for i, (attr, _label_text, colour) in enumerate(EVALUATION_SERIES):
            offset = -0.4 + bar * (i + 0.5)
            ax.barh(
                [y + offset for y in positions],
                [getattr(r, attr) for r in rows],
                height=bar * 0.9,
                color=colour,
                zorder=2,
            )
        ends = [(r.models, f"  {r.models} mô hình") for r in rows]
        handles = [
            Patch(color=GREY, label="Số mô hình"),
            *(Patch(color=c, label=label) for _a, label, c in EVALUATION_SERIES),
        ]
    for y, row, (end, text) in zip(positions, rows, ends, strict=True):
        colour = RED if row.late else "black"
        ax.text(end, y, text, va="center", fontsize=15, fontweight="bold", color=colour)
    top = max([1, *(end for end, _ in ends)])
    ax.set_xlim(0, top * 1.25 + 0.5)
    ax.set_yticks(positions, [_label(r) for r in rows], fontsize=15)
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        if row.late:
            tick.set_color(RED)
            tick.set_fontweight("bold")
    ax.tick_params(axis="x", labelsize=13)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", color="#e5e7eb", zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("Số mô hình", fontsize=14)
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.02, 1 - 1.0 / height),
        ncol=len(handles),
        fontsize=13,
        frameon=False,
    )
    return fig


_DRAWING = threading.Lock()  # matplotlib's text and font caches are shared


def render_png(progress: Progress) -> bytes:
    """The picture as PNG bytes (:data:`WIDTH_PX` wide)."""
    with _DRAWING, rc_context(FONT):
        fig = _draw(progress)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
        return buffer.getvalue()


def chart_document(progress: Progress, png: bytes) -> Document:
    """The picture as a file, e.g. ``Bieu_do_Dang_bo_phuong_Minh_Khai_2026.png``."""
    name = f"Bieu_do_{ascii_slug(progress.root_name)}_{progress.year}.png"
    return Document(name, png, PNG_MIME)


__all__ = [
    "MAX_BARS",
    "OTHERS",
    "PNG_MIME",
    "Progress",
    "Row",
    "chart_document",
    "draw",
    "progress_of",
    "render_png",
    "title_of",
]
