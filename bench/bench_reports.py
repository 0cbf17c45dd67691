"""Benchmark: Phụ lục 1 (and 4) and Tổng hợp for 100,000 models in 5,000 units, beside naive
openpyxl.

What is measured, on a fresh database seeded in bulk (Core ``insert`` executemany):

* a tree of M units: a province, about M/100 communes and wards below it, and below each of
  them its party cells (``chi_bo``), mass organisations (``doan_the``) and a few party
  committees (``dang_uy``);
* N active ``ModelYear`` records of one year spread unevenly over the units (some units have
  none, some registered after the deadline), every field and some "other" fields, both
  subjects, new and kept; beside them withdrawn records of the year and records of the year
  before (the kept models' last year, and models not kept), which the reports must leave out.

Each build runs in a fresh child process (multiprocessing "spawn"), so that its wall time and
its peak memory (the child's peak resident set, ``VmHWM``: the interpreter, the imports and
the build; see :func:`peak_rss_mb` for why not ``ru_maxrss``) are its own; ``--tracemalloc``
runs each build once more with tracemalloc on for its Python heap peak (several times
slower, so not the default):

(a) ``reports.appendix.build_pl1`` for the province (XlsxWriter ``constant_memory``, rows
    streamed from SQL; openpyxl's write-only mode took 14.5 s here before, see README.md);
(b) ``reports.appendix.build_pl4`` for the province, the same way (for reference: the issue
    sets its targets on Phụ lục 1);
(c) ``reports.summary.summary_of`` then ``reports.summary_sheet.write_summary`` for the province
    (the "Tổng hợp" workbook, openpyxl write-only with its chart);
(d) the naive baseline: the same Phụ lục 1 rows, fetched the same way, written by openpyxl in
    normal mode cell by cell (``ws.cell(row, col, value)``, font, border and alignment set on
    every cell, merged header), saved to bytes.

(e) the ``/tonghop`` text, in a fresh child process too: ``registration_deadline`` +
    ``summary_of`` + ``summary_text`` in a fresh session each time, after a warm-up, median
    of 5 runs.

The outputs are checked: the Phụ lục 1 workbooks (ours and naive) and Phụ lục 4 are read
back with openpyxl's read-only mode and their model rows counted; the Tổng hợp total
(workbook and text) must equal the number of active models of the year.

Targets (from the issue): PL1 and Tổng hợp each ≤ 10 s and ≤ 250 MB peak, PL1 ≥ 3x faster
than the naive build, the ``/tonghop`` text ≤ 300 ms.  A missed target is printed as
"NOT met"; the script does not fail for it.  Run from the repository root::

    python -m bench.bench_reports                   # 100,000 models, 5,000 units, SQLite
    python -m bench.bench_reports --db both
    python -m bench.bench_reports --quick           # 5,000 models, 250 units
    python -m bench.bench_reports --models 20000 --units 1000 --tracemalloc

PostgreSQL: ``DVK_BENCH_POSTGRES_URL`` (else ``DVK_TEST_POSTGRES_URL``, else the local
server, database ``test``) names a database to connect to for ``CREATE DATABASE``; a
throw-away database ``dvk_bench_reports_<hex>`` is created and dropped.  When the server does
not answer, the PostgreSQL part is skipped with the reason.  PostgreSQL gets ``ANALYZE``
after the bulk load (autovacuum would do it within a minute); SQLite gets none, as in use.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import multiprocessing
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import PG_ADMIN_URL, met, pg_database, sqlite_database
from bench.naive_pl1 import naive_pl1
from bench.report_data import NOW, TZ, YEAR, make_data, seed
from domain.catalog import RecordState
from reports.exports import Scope, registration_deadline
from storage.db import make_engine, make_sessionmaker, unreachable, upgrade
from storage.models import DvkModel, ModelYear, Unit

DEFAULT_MODELS, DEFAULT_UNITS = 100_000, 5_000
QUICK_MODELS, QUICK_UNITS = 5_000, 250

TARGET_SECONDS = 10.0  # PL1 and Tổng hợp each
TARGET_PEAK_MB = 250.0  # peak RSS of the process that builds one workbook
TARGET_SPEEDUP = 3.0  # naive PL1 time / our PL1 time
TARGET_TEXT_MS = 300.0  # /tonghop text
TEXT_RUNS = 5
CHILD_TIMEOUT = 600.0  # seconds one build may take before the child is killed


# --------------------------------------------------------------------------- one build per child


@dataclass(frozen=True)
class Job:
    kind: str  # "pl1" | "pl4" | "summary" | "naive" | "text"
    url: str
    root_id: int
    year: int
    deadline: datetime
    trace: bool = False  # tracemalloc on (slower): Python heap peak


@dataclass
class Measured:
    kind: str
    seconds: float
    cpu: float
    rss_before_mb: float  # peak RSS before the build: interpreter, imports, connection
    rss_peak_mb: float
    traced_peak_mb: float | None
    content: bytes  # the workbook ("text": none)
    text_ms: tuple[float, ...] = ()  # "text": the warm-up, then TEXT_RUNS runs
    text: str = ""
    text_total: int = -1  # "text": Summary.models


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux: ``VmHWM`` of /proc/self/status, the high-water mark of this process image.
    ``ru_maxrss`` is not used there: the kernel carries the parent's peak into a child across
    fork and exec, so a child spawned by a parent that holds the seed data would report the
    parent's peak.  Elsewhere: ``ru_maxrss`` (KiB on Linux and BSD, bytes on macOS)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


async def tonghop_text(
    sm: async_sessionmaker[AsyncSession], root_id: int
) -> tuple[tuple[float, ...], str, int]:
    """/tonghop's text as the handler makes it, in a fresh session each time: milliseconds
    of the warm-up then of TEXT_RUNS runs, the text, the summary's total."""
    from reports.summary import summary_of
    from reports.summary_text import summary_text

    times: list[float] = []
    last, total = "", -1
    for _ in range(TEXT_RUNS + 1):
        started = time.perf_counter()
        async with sm() as session:
            root = await session.get(Unit, root_id)
            assert root is not None
            scope = Scope(root, True, YEAR, TZ, NOW)
            deadline = await registration_deadline(session, scope)
            summary = await summary_of(session, root, YEAR, deadline, scope.quotas)
            last, total = summary_text(summary), summary.models
        times.append((time.perf_counter() - started) * 1000)
    return tuple(times), last, total


async def _build(job: Job) -> Measured:
    from reports.appendix import build_pl1, build_pl4
    from reports.summary import summary_of
    from reports.summary_sheet import write_summary

    engine = make_engine(job.url)
    try:
        if job.kind == "text":
            before = peak_rss_mb()
            times, text_, total = await tonghop_text(make_sessionmaker(engine), job.root_id)
            return Measured(
                kind=job.kind,
                seconds=statistics.median(times[1:]) / 1000,
                cpu=0.0,
                rss_before_mb=before,
                rss_peak_mb=peak_rss_mb(),
                traced_peak_mb=None,
                content=b"",
                text_ms=times,
                text=text_,
                text_total=total,
            )
        async with make_sessionmaker(engine)() as session:
            root = await session.get(Unit, job.root_id)
            assert root is not None
            before = peak_rss_mb()
            if job.trace:
                tracemalloc.start()
            started, cpu = time.perf_counter(), time.process_time()
            if job.kind == "pl1":
                content = await build_pl1(session, root, job.year, True)
            elif job.kind == "pl4":
                content = await build_pl4(session, root, job.year, True)
            elif job.kind == "summary":
                summary = await summary_of(session, root, job.year, job.deadline)
                content = write_summary(summary, root)
            else:
                content = await naive_pl1(session, root, job.year, True)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            traced = None
            if job.trace:
                traced = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
            peak = peak_rss_mb()
    finally:
        await engine.dispose()
    return Measured(job.kind, seconds, cpu, before, peak, traced, content)


def _child(job: Job, conn: Any) -> None:
    try:
        conn.send(asyncio.run(_build(job)))
    except BaseException as err:  # reported to the parent
        conn.send(f"{type(err).__name__}: {err}")
    finally:
        conn.close()


def run_child(job: Job) -> Measured:
    """One build in a fresh spawned interpreter; its figures (and the workbook) come back."""
    mp = multiprocessing.get_context("spawn")
    ours, theirs = mp.Pipe(duplex=False)
    process = mp.Process(target=_child, args=(job, theirs), name=f"bench-{job.kind}")
    process.start()
    theirs.close()
    try:
        if not ours.poll(CHILD_TIMEOUT):
            raise TimeoutError(f"{job.kind}: no answer within {CHILD_TIMEOUT:.0f} s")
        answer = ours.recv()
    finally:
        process.join(30)
        if process.is_alive():
            process.kill()
            process.join(5)
        ours.close()
    if isinstance(answer, str):
        raise RuntimeError(f"{job.kind} failed in the child: {answer}")
    assert isinstance(answer, Measured)
    return answer


# --------------------------------------------------------------------------- checks


def pl1_model_rows(content: bytes) -> tuple[int, Any]:
    """(model rows, the "Tổng số" count) of a Phụ lục 1 (or 4: same columns (1)–(3))
    workbook read back read-only."""
    from reports import appendix_form as ap_form

    wb = load_workbook(io.BytesIO(content), read_only=True)
    try:
        ws = wb.worksheets[0]
        models, total = 0, None
        for values in ws.iter_rows(min_row=ap_form.ROW_TOTAL, max_col=3, values_only=True):
            if values[0] == ap_form.DASH and isinstance(values[2], int):
                models += 1
            elif values[1] == ap_form.TOTAL and total is None:
                total = values[2]
        return models, total
    finally:
        wb.close()


def summary_total(content: bytes) -> Any:
    """Column L ("Tổng số mô hình") of the "Tổng cộng" row of the Tổng hợp workbook."""
    wb = load_workbook(io.BytesIO(content), read_only=True)
    try:
        for values in wb.worksheets[0].iter_rows(values_only=True):
            if len(values) > 11 and values[1] == "Tổng cộng":
                return values[11]
        return None
    finally:
        wb.close()


async def active_in_scope(session: AsyncSession, root: Unit, year: int) -> int:
    count = await session.scalar(
        select(func.count(ModelYear.id))
        .join(DvkModel, DvkModel.id == ModelYear.model_id)
        .join(Unit, Unit.id == DvkModel.unit_id)
        .where(
            ModelYear.year == year,
            ModelYear.state == RecordState.ACTIVE.value,
            Unit.path.startswith(root.path, autoescape=True),
        )
    )
    return int(count or 0)


# --------------------------------------------------------------------------- figures


def mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


async def bench_database(label: str, url: str, models: int, units: int, trace: bool) -> None:
    print(f"\n== {label} ==", flush=True)
    started = time.perf_counter()
    data = make_data(models, units)
    made = time.perf_counter() - started
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        await upgrade(engine)
        await seed(engine, data)
        print(
            f"  seeded {len(data.units)} units, {data.active} active models of {YEAR}, "
            f"{data.withdrawn} withdrawn, {data.last_year} records of {YEAR - 1} "
            f"(data made in {made:.1f} s, migrated and inserted in "
            f"{time.perf_counter() - started:.1f} s)",
            flush=True,
        )
        del data
        async with make_sessionmaker(engine)() as session:
            root = await session.get(Unit, 1)
            assert root is not None
            expected = await active_in_scope(session, root, YEAR)
            deadline = await registration_deadline(session, Scope(root, True, YEAR, TZ, NOW))
        print(f"  root: {root.name}; active models of {YEAR} in scope: {expected}", flush=True)

        results: dict[str, Measured] = {}
        labels = {
            "pl1": "(a) Phụ lục 1, build_pl1 (XlsxWriter constant_memory)",
            "pl4": "(b) Phụ lục 4, build_pl4 (XlsxWriter constant_memory)",
            "summary": "(c) Tổng hợp, summary_of + write_summary (openpyxl write-only)",
            "naive": "(d) Phụ lục 1, naive openpyxl (normal mode, cell by cell)",
        }
        for kind in ("pl1", "pl4", "summary", "naive"):
            m = run_child(Job(kind, url, root.id, YEAR, deadline))
            results[kind] = m
            print(
                f"  {labels[kind]}:\n"
                f"    wall {m.seconds:.2f} s (CPU {m.cpu:.2f} s), peak RSS {mb(m.rss_peak_mb)} "
                f"(before the build {mb(m.rss_before_mb)}), "
                f"{len(m.content) / 2**20:.1f} MB of xlsx",
                flush=True,
            )
            if trace:
                t = run_child(Job(kind, url, root.id, YEAR, deadline, trace=True))
                print(
                    f"    with tracemalloc: Python heap peak {mb(t.traced_peak_mb)} "
                    f"(wall {t.seconds:.2f} s, peak RSS {mb(t.rss_peak_mb)})",
                    flush=True,
                )

        measured = run_child(Job("text", url, root.id, YEAR, deadline))
        text_, text_total = measured.text, measured.text_total
        warm, runs = measured.text_ms[0], measured.text_ms[1:]
        median = statistics.median(runs)
        print(
            f"  (e) /tonghop text (registration_deadline + summary_of + summary_text):\n"
            f"    median {median:.0f} ms of {TEXT_RUNS} in a fresh child process "
            f"(min {min(runs):.0f}, max {max(runs):.0f}; warm-up {warm:.0f} ms), "
            f"{len(text_)} characters, {text_.count(chr(10)) + 1} lines\n"
            f"    (the /tonghop reply also carries the Tổng hợp workbook: add (c) for it)",
            flush=True,
        )
    finally:
        await engine.dispose()

    print("  checks:")
    ours, naive = results["pl1"], results["naive"]
    for name, m in (("build_pl1", ours), ("build_pl4", results["pl4"]), ("naive", naive)):
        rows, total = pl1_model_rows(m.content)
        ok = rows == expected == total
        print(
            f"    {name}: {rows} model rows read back, 'Tổng số' {total}, expected {expected} "
            f"-> {'OK' if ok else 'MISMATCH'}"
        )
    wb_total = summary_total(results["summary"].content)
    ok = wb_total == expected == text_total
    print(
        f"    Tổng hợp: workbook total {wb_total}, /tonghop total {text_total}, expected "
        f"{expected} -> {'OK' if ok else 'MISMATCH'}"
    )

    summary = results["summary"]
    speedup = naive.seconds / ours.seconds if ours.seconds > 0 else float("inf")
    note = (
        ""
        if (models, units) == (DEFAULT_MODELS, DEFAULT_UNITS)
        else f" [targets are set at {DEFAULT_MODELS} models in {DEFAULT_UNITS} units]"
    )
    print(f"  targets{note}:")
    targets = (
        ("Phụ lục 1", ours),
        ("Phụ lục 4 (reference)", results["pl4"]),
        ("Tổng hợp", summary),
    )
    for name, m in targets:
        print(
            f"    {name}: {m.seconds:.2f} s (<= {TARGET_SECONDS:.0f} s): "
            f"{met(m.seconds <= TARGET_SECONDS)}; peak {mb(m.rss_peak_mb)} "
            f"(<= {TARGET_PEAK_MB:.0f} MB): {met(m.rss_peak_mb <= TARGET_PEAK_MB)}"
        )
    print(
        f"    Phụ lục 1 naive/ours = {naive.seconds:.2f}/{ours.seconds:.2f} s = {speedup:.1f}x "
        f"(>= {TARGET_SPEEDUP:.0f}x): {met(speedup >= TARGET_SPEEDUP)}; "
        f"peak naive/ours = {mb(naive.rss_peak_mb)}/{mb(ours.rss_peak_mb)}"
    )
    print(
        f"    /tonghop text: {median:.0f} ms (<= {TARGET_TEXT_MS:.0f} ms): "
        f"{met(median <= TARGET_TEXT_MS)}"
    )
    print(f"  load average at the end: {load_average()}", flush=True)


# --------------------------------------------------------------------------- databases


def load_average() -> str:
    """The 1-minute load average: other work on the machine slows every figure."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


async def run(models: int, units: int, db: str, trace: bool) -> None:
    print(
        f"{models} active models of {YEAR} in {units} units; each build in a fresh child "
        f"process; {os.cpu_count()} CPU(s), load average {load_average()}",
        flush=True,
    )
    if db in ("sqlite", "both"):
        async with sqlite_database("dvk_bench_reports_") as url:
            await bench_database("SQLite", url, models, units, trace)
    if db in ("postgresql", "both"):
        problem = await unreachable(PG_ADMIN_URL)
        if problem is not None:
            print(f"\n== PostgreSQL skipped: not reachable at {PG_ADMIN_URL} ({problem}) ==")
        else:
            async with pg_database(PG_ADMIN_URL, "dvk_bench_reports_") as url:
                await bench_database("PostgreSQL", url, models, units, trace)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_reports",
        description="Phụ lục 1 and Tổng hợp for many models, beside naive openpyxl.",
    )
    parser.add_argument("--models", type=int, default=DEFAULT_MODELS, help="default 100000")
    parser.add_argument("--units", type=int, default=DEFAULT_UNITS, help="default 5000")
    parser.add_argument(
        "--db", choices=("sqlite", "postgresql", "both"), default="sqlite", help="default sqlite"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK_MODELS} models in {QUICK_UNITS} units",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also run each build again with tracemalloc on, for its Python heap peak (slower)",
    )
    args = parser.parse_args(argv)
    models, units = (QUICK_MODELS, QUICK_UNITS) if args.quick else (args.models, args.units)
    if models < 1 or units < 2:
        parser.error("--models must be at least 1 and --units at least 2")
    asyncio.run(run(models, units, args.db, args.tracemalloc))


if __name__ == "__main__":
    main()
