"""What each deadline asks, and which units still owe it.

One rule per deadline kind (``domain/calendar.py``), each a handful of
aggregate SQL queries (GROUP BY unit, outer joins, NOT EXISTS): the rows read are one per
lagging unit, never one per model.

- ``registration`` (15/4): fewer active models of the year than the unit's quota (QUOTAS by
  unit kind); a kind without a quota needs one model.
- ``evaluation`` (15/11): active models of the year without results (``ModelYear.results``)
  or without any score (``model_scores``). /ketqua and /chamdiem fill these.
- ``unit_report`` (25/11): no ``unit_reports`` row of that kind for the year (/baocao).
- ``consolidated`` (5/12): units with lower units: a direct lower unit has not marked its
  25/11 report, or the unit itself has not marked its consolidated report (/baocao).

Each :class:`Lag` says, in Vietnamese, what is missing and which chat command does it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.calendar import (
    CONSOLIDATED,
    DEADLINE_KINDS,
    EVALUATION,
    REGISTRATION,
    UNIT_REPORT,
)
from domain.catalog import DEFAULT_QUOTAS, RecordState, required_models
from storage.models import DvkModel, ModelScore, ModelYear, Unit, UnitReport

KINDS = DEADLINE_KINDS

# The chat command that does what a deadline asks.
REGISTER_CMD = "/dangky"
RESULTS_CMD = "/ketqua"
SCORE_CMD = "/chamdiem"
REPORT_CMD = "/baocao"

NAMES_SHOWN = 5  # lower units named in one consolidated lag; the rest are counted


@dataclass(frozen=True)
class Owed:
    """One thing a unit still has to do for a deadline."""

    text: str  # e.g. "chưa đăng ký mô hình nào"
    command: str  # e.g. "/dangky"
    what: str = ""  # models / results / scores / report / lower_reports / consolidated
    advice: str = ""  # what to do when there is no command for it

    def line(self) -> str:
        if self.command:
            return f"{self.text} — gõ {self.command}"
        return f"{self.text} — {self.advice}" if self.advice else self.text


@dataclass(frozen=True)
class Lag:
    """A unit that has not yet done what a deadline asks."""

    kind: str
    unit_id: int
    unit_name: str
    unit_path: str
    owed: tuple[Owed, ...]

    def describe(self) -> str:
        return "; ".join(o.line() for o in self.owed)

    def within(self, root_path: str) -> bool:
        return self.unit_path.startswith(root_path)


def _scoped(query: Any, root: Unit | None, only: Unit | None) -> Any:
    if only is not None:
        return query.where(Unit.id == only.id)
    if root is not None:
        return query.where(Unit.path.startswith(root.path, autoescape=True))
    return query


@dataclass(frozen=True)
class _Ask:
    """What a rule is asked: the year, the quotas (None: the defaults), and which units: all,
    ``root`` and every unit below it, or ``only`` that one."""

    session: AsyncSession
    year: int
    quotas: Mapping[str, int] | None = None
    root: Unit | None = None
    only: Unit | None = None

    async def rows(self, query: Any) -> Sequence[Any]:
        """The rows of ``query`` (one per unit) for the units asked about, in tree-path order."""
        scoped = _scoped(query.order_by(Unit.path), self.root, self.only)
        return (await self.session.execute(scoped)).all()


def _report_of(report: Any, unit_id: Any, year: int, kind: str) -> Any:
    """``report`` (UnitReport or an alias) is ``unit_id``'s ``kind`` report of ``year``."""
    return and_(report.unit_id == unit_id, report.year == year, report.kind == kind)


def _reported(year: int, kind: str, unit_id: Any) -> Any:
    return exists().where(_report_of(UnitReport, unit_id, year, kind))


# --- the rules -------------------------------------------------------------------------


async def _registration(ask: _Ask) -> list[Lag]:
    quotas = DEFAULT_QUOTAS if ask.quotas is None else ask.quotas
    needed_by_kind = {k: required_models(k, quotas) for k in quotas}
    needed = (
        case(needed_by_kind, value=Unit.kind, else_=literal(0)) if needed_by_kind else literal(0)
    )
    count = func.count(ModelYear.id)
    query = (
        select(Unit.id, Unit.name, Unit.path, Unit.kind, count)
        .select_from(Unit)
        .outerjoin(DvkModel, DvkModel.unit_id == Unit.id)
        .outerjoin(
            ModelYear,
            and_(
                ModelYear.model_id == DvkModel.id,
                ModelYear.year == ask.year,
                ModelYear.state == RecordState.ACTIVE.value,
            ),
        )
        .group_by(Unit.id, Unit.name, Unit.path, Unit.kind)
        .having(count < needed)
    )
    lags = []
    for unit_id, name, path, kind, models in await ask.rows(query):
        need = required_models(kind, quotas)
        if models == 0:
            text = "chưa đăng ký mô hình nào"
            if need > 1:
                text += f" (chỉ tiêu {need} mô hình)"
        else:
            text = f"mới đăng ký {models}/{need} mô hình theo chỉ tiêu"
        lags.append(Lag(REGISTRATION, unit_id, name, path, (Owed(text, REGISTER_CMD, "models"),)))
    return lags


# The aliases and subqueries of the rules, built once: building them is costly (SQLAlchemy
# makes a proxy of every column) and these rules run on every greeting and reminder.
_SCORED = (
    select(ModelScore.model_year_id.label("model_year_id"))
    .group_by(ModelScore.model_year_id)
    .subquery("scored")
)
_CHILD = aliased(Unit, name="child_unit")
_CHILD_REPORT = aliased(UnitReport, name="child_report")
_OWN_REPORT = aliased(UnitReport, name="own_report")


async def _evaluation(ask: _Ask) -> list[Lag]:
    scored = _SCORED
    blank = or_(ModelYear.results.is_(None), func.trim(ModelYear.results) == "")
    no_results = func.sum(case((blank, 1), else_=0))
    no_score = func.sum(case((scored.c.model_year_id.is_(None), 1), else_=0))
    query = (
        select(Unit.id, Unit.name, Unit.path, no_results, no_score)
        .select_from(ModelYear)
        .join(DvkModel, DvkModel.id == ModelYear.model_id)
        .join(Unit, Unit.id == DvkModel.unit_id)
        .outerjoin(scored, scored.c.model_year_id == ModelYear.id)
        .where(ModelYear.year == ask.year, ModelYear.state == RecordState.ACTIVE.value)
        .group_by(Unit.id, Unit.name, Unit.path)
        .having(or_(no_results > 0, no_score > 0))
    )
    lags = []
    for unit_id, name, path, missing_results, missing_score in await ask.rows(query):
        owed = []
        if missing_results:
            text = f"{missing_results} mô hình chưa nhập kết quả"
            owed.append(Owed(text, RESULTS_CMD, "results"))
        if missing_score:
            owed.append(Owed(f"{missing_score} mô hình chưa chấm điểm", SCORE_CMD, "scores"))
        lags.append(Lag(EVALUATION, unit_id, name, path, tuple(owed)))
    return lags


async def _unit_report(ask: _Ask) -> list[Lag]:
    query = select(Unit.id, Unit.name, Unit.path).where(~_reported(ask.year, UNIT_REPORT, Unit.id))
    owed = (Owed("chưa đánh dấu đã gửi báo cáo kết quả năm", REPORT_CMD, "report"),)
    return [
        Lag(UNIT_REPORT, unit_id, name, path, owed) for unit_id, name, path in await ask.rows(query)
    ]


async def _consolidated(ask: _Ask) -> list[Lag]:
    year = ask.year
    child, child_report, own_report = _CHILD, _CHILD_REPORT, _OWN_REPORT
    child_missing = func.sum(case((child_report.id.is_(None), 1), else_=0))
    own_missing = own_report.id.is_(None)
    query = (
        select(Unit.id, Unit.name, Unit.path, child_missing, own_missing)
        .select_from(Unit)
        .join(child, child.parent_id == Unit.id)
        .outerjoin(child_report, _report_of(child_report, child.id, year, UNIT_REPORT))
        .outerjoin(own_report, _report_of(own_report, Unit.id, year, CONSOLIDATED))
        .group_by(Unit.id, Unit.name, Unit.path, own_report.id)
        .having(or_(child_missing > 0, own_report.id.is_(None)))
    )
    rows = await ask.rows(query)
    waiting = [unit_id for unit_id, _, _, missing, _ in rows if missing]
    names: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(waiting), 500):
        lower = await ask.session.execute(
            select(Unit.parent_id, Unit.name)
            .where(
                Unit.parent_id.in_(waiting[start : start + 500]),
                ~_reported(year, UNIT_REPORT, Unit.id),
            )
            .order_by(Unit.parent_id, Unit.name)
        )
        for parent_id, name in lower.all():
            if parent_id is not None:
                names[parent_id].append(name)
    lags = []
    for unit_id, name, path, missing, own in rows:
        owed = []
        if missing:
            shown = names[unit_id][:NAMES_SHOWN]
            more = int(missing) - len(shown)
            listed = ", ".join(shown) + (f" và {more} đơn vị khác" if more > 0 else "")
            owed.append(
                # Each unit marks its own report: nothing to type here but to remind them.
                Owed(
                    f"{missing} đơn vị trực thuộc chưa gửi báo cáo năm: {listed}",
                    "",
                    "lower_reports",
                    "nhắc các đơn vị gửi",
                )
            )
        if own:
            text = "chưa đánh dấu đã gửi báo cáo tổng hợp lên cấp trên"
            owed.append(Owed(text, REPORT_CMD, "consolidated"))
        lags.append(Lag(CONSOLIDATED, unit_id, name, path, tuple(owed)))
    return lags


async def consolidated_lags(
    session: AsyncSession, year: int, root: Unit | None = None, only: Unit | None = None
) -> list[Lag]:
    """The units (all, below ``root``, or ``only`` that one) owing their consolidated report."""
    return await _consolidated(_Ask(session, year, None, root, only))


RULES: dict[str, Callable[[_Ask], Awaitable[list[Lag]]]] = {
    REGISTRATION: _registration,
    EVALUATION: _evaluation,
    UNIT_REPORT: _unit_report,
    CONSOLIDATED: _consolidated,
}


async def lagging(
    session: AsyncSession,
    kind: str,
    year: int,
    quotas: Mapping[str, int] | None = None,
    root: Unit | None = None,
) -> list[Lag]:
    """The units (all, or ``root`` and every unit below it) still owing deadline ``kind``
    of ``year``, in tree-path order. An unknown kind owes nothing."""
    rule = RULES.get(kind)
    if rule is None:
        return []
    return await rule(_Ask(session, year, quotas, root))


async def owed_by_unit(
    session: AsyncSession,
    unit: Unit,
    year: int,
    quotas: Mapping[str, int] | None = None,
    kinds: Sequence[str] = KINDS,
) -> list[Lag]:
    """Everything ``unit`` itself still owes in ``year``, one lag per deadline (for /lich)."""
    lags = []
    for kind in kinds:
        rule = RULES.get(kind)
        if rule is not None:
            lags += await rule(_Ask(session, year, quotas, only=unit))
    return lags


async def has_lower_units(session: AsyncSession, unit_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(Unit.parent_id == unit_id))))
