"""Benchmark: the consolidated report draft (Word) of a province-sized tree, beside the same
figures built the naive way (one query per unit).

The data are those of :mod:`bench.bench_reports` (a province, communes and wards, their cells
and organisations; N active records of the year and the others the reports leave out), plus
what a draft counts: results, self-scores on the rubric (passing, failing, incomplete), every
review, introductions, lead documents and the yearly reports marked sent by some communes.

Measured in one process, one after another:

(a) ``reports.draft_files.make_draft(…, "consolidated", province)``: the figures (one GROUP BY
    over the year's records, rolled up to the communes), the lists (recognised models,
    introductions, documents) and the .docx; wall time, then again with tracemalloc on for the
    Python heap peak; the process's peak RSS after it;
(b) the naive way: for every unit of the tree, its records read as ORM objects and their scores
    by a query each, counted in Python (``domain.rubric.verdict`` for the pass), then rolled up
    the same way; wall time.

The figures of (a) (read back from the .docx: the totals per field, the lower units) must
equal (b)'s. Targets: (a) ≤ 10 s and ≤ 300 MB, (b) / (a) ≥ 3. A missed target is printed as
"NOT met". Run from the repository root::

    python -m bench.bench_drafts                       # 100,000 models, 5,000 units, SQLite
    python -m bench.bench_drafts --db postgresql
    python -m bench.bench_drafts --quick               # 5,000 models, 250 units
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import random
import time
import tracemalloc
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from docx import Document as open_docx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.bench_reports import (
    DEFAULT_MODELS,
    DEFAULT_UNITS,
    QUICK_MODELS,
    QUICK_UNITS,
    load_average,
    peak_rss_mb,
)
from bench.common import PG_ADMIN_URL, pg_database, sqlite_database
from bench.report_data import NOW, YEAR, _insert, make_data, seed
from domain.calendar import UNIT_REPORT
from domain.catalog import FIELD_KEYS, Field, Review
from domain.rubric import criteria_for, verdict
from reports.draft_files import make_draft
from reports.drafts import Counts
from storage.db import make_engine, make_sessionmaker, unreachable, upgrade
from storage.models import (
    DvkModel,
    LeadDocument,
    ModelIntro,
    ModelScore,
    ModelYear,
    Unit,
    UnitReport,
)

TARGET_SECONDS = 10.0
TARGET_PEAK_MB = 300.0
TARGET_SPEEDUP = 3.0
SEED = 20261205
SCORED_SHARE = 0.2  # active records with points on the rubric
REVIEWS = ((Review.PROPOSED.value, 0.06), (Review.RECOGNISED.value, 0.03))
REVIEWS_MORE = ((Review.NOT_RECOGNISED.value, 0.01), (Review.REMOVED.value, 0.01))
INTRO_SHARE = 0.005
REPORTED_SHARE = 0.6  # communes that marked their yearly report sent
_NAMED = ("KT", "VHXH", "QPAN", "XDD")


def add_draft_data(data: Any) -> dict[str, list[dict[str, Any]]]:
    """Reviews on the records (in place) and the rows of the other tables."""
    rng = random.Random(SEED)
    scores: list[dict[str, Any]] = []
    intros: list[dict[str, Any]] = []
    for row in data.model_years:
        row["review"] = None
        if row["year"] != YEAR or row["state"] != "active":
            continue
        draw = rng.random()
        for review, share in (*REVIEWS, *REVIEWS_MORE):
            if draw < share:
                row["review"] = review
                break
            draw -= share
        if rng.random() < SCORED_SHARE:
            style = rng.choice(("pass", "fail", "partial"))
            for c in criteria_for(row["subject"]):
                if style == "partial" and c.number > 10:
                    continue
                points = c.maximum - (Decimal("0.5") if style == "fail" and c.number == 9 else 0)
                scores.append(
                    {"model_year_id": row["id"], "criterion": c.number, "points": points,
                     "scored_at": NOW}
                )  # fmt: skip
        if rng.random() < INTRO_SHARE:
            intros.append(
                {"model_year_id": row["id"], "basis": "Nhu cầu của nhân dân",
                 "method": "Họp dân, phân công hội viên", "results": "120 hộ tham gia",
                 "updated_at": NOW}
            )  # fmt: skip
    communes = [u for u in data.units if u["parent_id"] == 1]
    reports = [
        {"unit_id": u["id"], "year": YEAR, "kind": UNIT_REPORT, "sent_at": NOW}
        for u in communes
        if rng.random() < REPORTED_SHARE
    ]
    documents = [
        {"unit_id": u["id"], "year": YEAR, "number": f"{n}-KH/ĐU", "issued_on": date(YEAR, 2, 1),
         "content": "Kế hoạch thực hiện phong trào thi đua “Dân vận khéo”", "created_at": NOW}
        for n, u in enumerate([data.units[0], *communes[:30]], 1)
    ]  # fmt: skip
    return {"scores": scores, "intros": intros, "reports": reports, "documents": documents}


# --- the naive way -------------------------------------------------------------------------


async def naive_figures(
    session: AsyncSession, root: Unit, year: int
) -> tuple[Counts, dict[str, int], dict[str, Counts]]:
    """Total, models per field, and counts per commune: one query per unit for its records and
    one for their scores."""
    units = (await session.scalars(select(Unit).where(Unit.path.startswith(root.path)))).all()
    names = {u.id: u.name for u in units if u.parent_id == root.id}
    depth = root.path.count("/") - 1
    total, by_field = Counts(), dict.fromkeys(FIELD_KEYS, 0)
    lower = {name: Counts() for name in names.values()}
    for unit in units:
        records = (
            await session.scalars(
                select(ModelYear)
                .join(DvkModel, DvkModel.id == ModelYear.model_id)
                .where(DvkModel.unit_id == unit.id, ModelYear.year == year)
            )
        ).all()
        active = [r for r in records if r.state == "active"]
        if not active:
            continue
        points: dict[int, dict[int, Decimal]] = {}
        for score in (
            await session.scalars(
                select(ModelScore).where(ModelScore.model_year_id.in_([r.id for r in active]))
            )
        ).all():
            points.setdefault(score.model_year_id, {})[score.criterion] = Decimal(score.points)
        c = Counts(models=len(active))
        for r in active:
            by_field[r.field if r.field in _NAMED else Field.OTHER.value] += 1
            c.collective += r.subject == "collective"
            c.individual += r.subject == "individual"
            c.new += r.origin == "new"
            c.kept += r.origin == "kept"
            c.with_results += bool((r.results or "").strip())
            mine = points.get(r.id)
            c.scored += mine is not None
            c.passing += bool(mine) and verdict(mine or {}, r.subject).passed
            c.proposed += r.review == Review.PROPOSED.value
            c.recognised += r.review == Review.RECOGNISED.value
            c.not_recognised += r.review == Review.NOT_RECOGNISED.value
            c.removed += r.review == Review.REMOVED.value
        total.add(c)
        if unit.id != root.id:
            top = int(unit.path.strip("/").split("/")[depth])
            lower[names[top]].add(c)
        else:  # the draft's row of the root's own models
            lower[f"{root.name} (trực tiếp)"] = c
    return total, by_field, lower


def read_back(content: bytes) -> tuple[list[int], dict[str, int]]:
    """From the draft: Bảng 1's total row, and each lower unit's total (Bảng 3)."""
    doc = open_docx(io.BytesIO(content))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    first = next(t for t in tables if t[0][:2] == ["Lĩnh vực", "Tổng số"])
    lower = next(t for t in tables if t[0][:3] == ["STT", "Đơn vị", "Tổng số"])
    return [int(x) for x in first[-1][1:]], {row[1]: int(row[2]) for row in lower[1:-1]}


def seed_child(url: str, models: int, units: int) -> None:
    asyncio.run(_seed(url, models, units))


async def _seed(url: str, models: int, units: int) -> None:
    engine = make_engine(url)
    await upgrade(engine)
    data = make_data(models, units)
    extra = add_draft_data(data)
    started = time.perf_counter()
    await seed(engine, data)
    await _insert(engine, ModelScore.__table__, extra["scores"])
    await _insert(engine, ModelIntro.__table__, extra["intros"])
    await _insert(engine, UnitReport.__table__, extra["reports"])
    await _insert(engine, LeadDocument.__table__, extra["documents"])
    await engine.dispose()
    print(
        f"seeded {len(data.units)} units, {len(data.model_years)} records, "
        f"{len(extra['scores'])} scores, {len(extra['reports'])} yearly reports marked sent "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


async def bench(label: str, url: str, models: int, units: int) -> None:
    print(f"\n== {label} ==", flush=True)
    # Seeded in a child process, so that this one's peak memory is the draft's, not the
    # seed data's.
    child = multiprocessing.get_context("spawn").Process(
        target=seed_child, args=(url, models, units)
    )
    child.start()
    await asyncio.to_thread(child.join)
    if child.exitcode != 0:
        raise SystemExit(f"seeding failed (exit code {child.exitcode})")
    engine = make_engine(url)
    sm: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)
    async with sm() as session:
        root = await session.get(Unit, 1)
        assert root is not None
    today = NOW.date()

    async with sm() as session:
        started = time.perf_counter()
        content = (await make_draft(session, "consolidated", root, YEAR, today=today)).content
        ours = time.perf_counter() - started
    rss = peak_rss_mb()
    print(f"draft built in {ours:.2f} s; peak RSS {rss:.0f} MB", flush=True)
    tracemalloc.start()
    async with sm() as session:
        await make_draft(session, "consolidated", root, YEAR, today=today)
    heap = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    async with sm() as session:
        started = time.perf_counter()
        total, by_field, lower = await naive_figures(session, root, YEAR)
        naive = time.perf_counter() - started
    await engine.dispose()

    row, per_unit = read_back(content)
    expected_row = [total.models, total.collective, total.individual, total.new, total.kept]
    same = row == expected_row and per_unit == {k: v.models for k, v in lower.items()}
    print(
        f"figures: {total.models} models; "
        + ", ".join(f"{k} {by_field[k]}" for k in FIELD_KEYS)
        + f"; tập thể {total.collective}, cá nhân {total.individual}; mới {total.new}, "
        f"duy trì {total.kept}; có kết quả {total.with_results}, tự chấm {total.scored}, "
        f"đạt {total.passing}; chờ xét {total.proposed}, công nhận {total.recognised}, "
        f"không công nhận {total.not_recognised}, thanh loại {total.removed}; "
        f"{len(lower)} rows of lower units"
    )
    print(f"draft figures equal the naive ones: {'yes' if same else 'NO'}")
    print(
        f"(a) consolidated draft: {ours:.2f} s (target ≤ {TARGET_SECONDS:.0f} s: "
        f"{met(ours <= TARGET_SECONDS)}), {len(content) / 1024:.0f} KiB; "
        f"peak RSS {rss:.0f} MB, Python heap peak {heap:.0f} MB "
        f"(target ≤ {TARGET_PEAK_MB:.0f} MB: {met(rss <= TARGET_PEAK_MB)})"
    )
    speedup = naive / ours if ours else float("inf")
    print(
        f"(b) naive per-unit figures: {naive:.2f} s; the whole draft is {speedup:.1f}x faster "
        f"(target ≥ {TARGET_SPEEDUP:.0f}x: {met(speedup >= TARGET_SPEEDUP)})",
        flush=True,
    )


async def run(models: int, units: int, db: str) -> None:
    print(f"{models} active models of {YEAR} in {units} units; load average {load_average()}")
    if db == "sqlite":
        async with sqlite_database("dvk_bench_drafts_") as url:
            await bench("SQLite", url, models, units)
        return
    problem = await unreachable(PG_ADMIN_URL)
    if problem is not None:
        print(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}")
        return
    async with pg_database(PG_ADMIN_URL, "dvk_bench_drafts_") as url:
        await bench("PostgreSQL", url, models, units)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_drafts",
        description="The consolidated report draft of a province, beside naive per-unit figures.",
    )
    parser.add_argument("--models", type=int, default=DEFAULT_MODELS, help="default 100000")
    parser.add_argument("--units", type=int, default=DEFAULT_UNITS, help="default 5000")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="5,000 models in 250 units")
    args = parser.parse_args(argv)
    models, units = (QUICK_MODELS, QUICK_UNITS) if args.quick else (args.models, args.units)
    asyncio.run(run(models, units, args.db))


if __name__ == "__main__":
    main()
