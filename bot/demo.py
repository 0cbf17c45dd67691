"""`dvk demo`: a realistic ward to try the assistant on, without any platform account, as it
stands on a given day of the year.

The year shown follows the default-year rule: before the evaluation deadline (15/11 by
default) the current year, with last year complete; from that deadline on, the closing year
with every step done (results, scores, proposals, decisions, reports; some units late at
each step) and the first models registered for the next year. Every step is dated from the
deadline it belongs to as it applies to the unit (storage/deadlines.py), and only the steps
dated on or before the day are written (bot/demo_data.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo_data import (
    CHILDREN,
    CONSOLIDATED_SENT,
    EXTENSIONS,
    INVITES,
    LAST_YEAR,
    NEXT_YEAR,
    OTHER_FIELD,
    PEOPLE,
    REPORTS,
    SCORE_PROFILES,
    THIS_YEAR,
    WARD,
    WARD_PLAN,
    Spec,
)
from bot.terminal import CHANNEL as TERMINAL
from domain import rubric
from domain.calendar import CONSOLIDATED, EVALUATION, REGISTRATION, UNIT_REPORT, default_date
from domain.catalog import Field, Origin, Review
from storage import deadlines, invites, people, unit_tree
from storage.deadlines import YearPlan
from storage.models import (
    DvkModel,
    ModelIntro,
    ModelScore,
    ModelYear,
    Person,
    Unit,
    UnitReport,
)


@dataclass
class DemoResult:
    created: bool
    units: int
    models: int  # every model record written, all years
    invites: dict[str, str]
    as_of: date | None = None
    year: int = 0  # the year the demo shows (the closing year from its 15/11 on)
    next_year_models: int = 0  # models already registered for year + 1
    counts: Counter[str] = field(default_factory=Counter)  # the year's steps done


def demo_year(plan: YearPlan, ward: Unit, today: date) -> tuple[int, bool]:
    """The year the demo shows, and whether registration is for the next year already:
    from the year's evaluation deadline on it is."""
    return today.year, deadlines.registers_next_year(plan, ward, today)


class _Builder:
    def __init__(self, session: AsyncSession, now: datetime, tz: ZoneInfo, today: date) -> None:
        self.session = session
        self.now = now
        self.tz = tz
        self.today = today
        self.units: dict[str, Unit] = {}
        self.people: dict[str, Person] = {}
        self.slot = 0
        self.result = DemoResult(True, 0, 0, {}, today)

    def at(self, day: date) -> datetime:
        """A moment in the office hours of ``day`` (never later than now)."""
        self.slot += 1
        local = datetime.combine(day, time(8, 0), self.tz) + timedelta(minutes=7 * (self.slot % 60))
        return min(local, self.now)

    def due(self, plan: YearPlan, unit: str, kind: str) -> date:
        return plan.due(self.units[unit], kind).due_on

    def who(self, unit: str, by_leader: bool = False) -> int | None:
        """The demo person who acts for ``unit``: its officer, else the ward's leader."""
        for account, _name, unit_name, role in PEOPLE:
            if role == "officer" and unit_name == unit and not by_leader:
                return self.people[account].id
        return self.people["lanhdao"].id

    async def record(
        self, spec: Spec, year: int, registered: date, origin: ModelYear | None
    ) -> ModelYear | None:
        if registered > self.today:
            return None
        at = self.at(registered)
        if origin is None:
            model = DvkModel(unit_id=self.units[spec.model.unit].id, created_at=at)
            self.session.add(model)
            await self.session.flush()
            model_id = model.id
        else:
            model_id = origin.model_id
        record = ModelYear(
            model_id=model_id,
            year=year,
            origin=(Origin.KEPT if origin is not None else Origin.NEW).value,
            name=spec.model.name,
            field=spec.model.field.value,
            field_other=OTHER_FIELD if spec.model.field == Field.OTHER else None,
            subject=spec.model.subject.value,
            subject_name=spec.model.subject_name,
            place=spec.model.place,
            lead_body=spec.model.lead,
            scale=spec.scale,
            created_by=self.who(spec.model.unit),
            created_at=at,
            updated_at=at,
        )
        self.session.add(record)
        await self.session.flush()
        self.result.models += 1
        return record

    async def evaluate(self, spec: Spec, record: ModelYear, plan: YearPlan) -> Counter[str]:
        """Results, self-scores, proposal, decision and introduction, those dated by today."""
        done: Counter[str] = Counter()
        deadline = self.due(plan, spec.model.unit, EVALUATION)
        day = deadline + timedelta(days=spec.evaluated)
        if spec.results is None or day > self.today:
            return done
        at = self.at(day)
        by = self.who(spec.model.unit, spec.by_leader)
        record.results, record.results_at, record.updated_at = spec.results, at, at
        off = {n: Decimal(p) for n, p in SCORE_PROFILES[spec.score].items()}
        for criterion in rubric.criteria_for(spec.model.subject.value):
            points = criterion.maximum - off.get(criterion.number, Decimal(0))
            self.session.add(
                ModelScore(
                    model_year_id=record.id,
                    criterion=criterion.number,
                    points=points,
                    scored_by=by,
                    scored_at=at,
                )
            )
        done.update(("results", "scores"))
        if spec.intro is not None:
            parts = asdict(spec.intro)  # the five parts, named as the record names them
            self.session.add(
                ModelIntro(model_year_id=record.id, **parts, updated_by=by, updated_at=at)
            )
            done["intros"] += 1
        if spec.proposed:
            record.review, record.proposed_at, record.proposed_by = Review.PROPOSED.value, at, by
            done["proposals"] += 1
            decided = deadline + timedelta(days=spec.reviewed)
            if spec.review is not None and decided <= self.today:
                record.review = spec.review.value
                record.reviewed_at = self.at(decided)
                record.reviewed_by = self.people["lanhdao"].id
                if spec.review == Review.NOT_RECOGNISED:
                    record.review_reason = "Chưa đạt điểm tối đa ở tiêu chí 9."
                done["decisions"] += 1
        return done

    async def year(
        self, specs: tuple[Spec, ...], year: int, before: dict[tuple[str, str], ModelYear]
    ) -> tuple[dict[tuple[str, str], ModelYear], Counter[str]]:
        """One year's models and everything done on them by today; the records by (unit,
        name), for the next year to keep."""
        plan = await self.plan(year)
        records = {}
        done: Counter[str] = Counter()
        for spec in specs:
            model = spec.model
            registered = self.due(plan, model.unit, REGISTRATION) + timedelta(days=spec.registered)
            origin = before.get((model.unit, model.name)) if spec.kept else None
            record = await self.record(spec, year, registered, origin)
            if record is None:
                continue
            done["models"] += 1
            records[(model.unit, model.name)] = record
            done += await self.evaluate(spec, record, plan)
        for unit_name, offset in REPORTS.items():
            sent = self.due(plan, unit_name, UNIT_REPORT) + timedelta(days=offset)
            done["reports"] += await self.report(unit_name, year, UNIT_REPORT, sent)
        sent = self.due(plan, WARD, CONSOLIDATED) + timedelta(days=CONSOLIDATED_SENT)
        done["consolidated"] += await self.report(WARD, year, CONSOLIDATED, sent)
        for unit_name, kind, granted, until in EXTENSIONS:
            deadline = self.due(plan, unit_name, kind)
            if deadline + timedelta(days=granted) <= self.today:
                await deadlines.extend(
                    self.session,
                    self.units[unit_name],
                    year,
                    kind,
                    deadline + timedelta(days=until),
                    self.people["lanhdao"].id,
                    self.at(deadline + timedelta(days=granted)),
                )
        await self.session.flush()
        return records, done

    async def report(self, unit_name: str, year: int, kind: str, sent: date) -> int:
        if sent > self.today:
            return 0
        unit_id = self.units[unit_name].id
        by = self.who(unit_name)
        self.session.add(
            UnitReport(unit_id=unit_id, year=year, kind=kind, sent_at=self.at(sent), sent_by=by)
        )
        return 1

    async def plan(self, year: int) -> YearPlan:
        """The year's deadlines: the ward's own plan sets its 25/11 and 5/12 (the calendar's
        dates) for its units."""
        for kind in WARD_PLAN:
            plan = await deadlines.year_plan(self.session, year)
            if plan.due(self.units[WARD], kind).set_by is None:
                await deadlines.set_deadline(
                    self.session, self.units[WARD], year, kind, default_date(kind, year), self.now
                )
        return await deadlines.year_plan(self.session, year)

    async def next_year(
        self, year: int, closing: dict[tuple[str, str], ModelYear], plan: YearPlan
    ) -> int:
        count = 0
        start = self.due(plan, WARD, EVALUATION)
        for spec in NEXT_YEAR:
            origin = closing.get((spec.model.unit, spec.model.name)) if spec.kept else None
            registered = start + timedelta(days=spec.registered)
            count += await self.record(spec, year + 1, registered, origin) is not None
        return count


async def load_demo(
    session: AsyncSession, now: datetime, tz: ZoneInfo, as_of: date | None = None
) -> DemoResult:
    """Load the demo ward as it stands on ``as_of`` (default: today in ``tz``); nothing if
    it is there already. Units, people and invite codes are created ``now``."""
    existing = await session.scalar(select(Unit).where(Unit.name == WARD, Unit.parent_id.is_(None)))
    if existing is not None:
        return DemoResult(False, 0, 0, {})
    today = as_of or now.astimezone(tz).date()
    build = _Builder(session, now, tz, today)
    ward = await unit_tree.add_unit(session, WARD, "phuong", None, now)
    build.units[WARD] = ward
    for name, kind in CHILDREN:
        build.units[name] = await unit_tree.add_unit(session, name, kind, ward, now)
    for account, full_name, unit_name, role in PEOPLE:
        person = await people.create_person(session, full_name, TERMINAL, account, None, now)
        await people.add_membership(session, person, build.units[unit_name], role, now)
        build.people[account] = person
    plan = await build.plan(today.year)
    year, registering_next = demo_year(plan, ward, today)
    last, _ = await build.year(LAST_YEAR, year - 1, {})
    closing, counts = await build.year(THIS_YEAR, year, last)
    result = build.result
    result.year, result.counts, result.units = year, counts, len(build.units)
    if registering_next:
        result.next_year_models = await build.next_year(year, closing, plan)
    for label, unit_name, role in INVITES:
        invite = await invites.create_invite(session, build.units[unit_name], role, 20, 30, now)
        result.invites[label] = invite.code
    await session.flush()
    return result


def describe(result: DemoResult, today: date) -> str:
    """What `dvk demo` prints: what was loaded, how to try it, the invite codes."""
    if not result.created:
        return "Dữ liệu mẫu đã có sẵn. Thử ngay: dvk chat\n"
    assert result.as_of is not None
    c = result.counts
    shown = [result.year - 1, result.year] + [result.year + 1] * bool(result.next_year_models)
    years = ", ".join(map(str, shown[:-1])) + f" và {shown[-1]}"
    lines = [
        f"Đã tạo dữ liệu mẫu tính đến ngày {result.as_of.strftime('%d/%m/%Y')}: "
        f"{result.units} đơn vị, {result.models} mô hình (năm {years}).",
        f"Năm {result.year}: {c['models']} mô hình đã đăng ký, {c['results']} có kết quả, "
        f"{c['scores']} đã tự chấm điểm, {c['proposals']} đề xuất công nhận "
        f"({c['decisions']} đã có quyết định), {c['reports']} đơn vị đã gửi báo cáo năm, "
        f"báo cáo tổng hợp: {'đã gửi' if c['consolidated'] else 'chưa gửi'}.",
    ]
    if result.next_year_models:
        lines.append(
            f"Năm {result.year} đã qua hạn đánh giá; đã có {result.next_year_models} mô hình "
            f"đăng ký trước cho năm {result.year + 1}."
        )
    lines += [
        "Thử trò chuyện trong terminal (gõ /lich, /mohinh, /tonghop):",
        "  dvk chat                 # Nguyễn Thị Lan, cán bộ Hội LHPN phường",
        "  dvk chat --as lanhdao    # Trần Văn Hùng, lãnh đạo Đảng bộ phường",
        "  dvk chat --as quantri    # Hoàng Minh Đức, quản trị",
    ]
    if result.as_of != today:
        lines.append(
            f"Lưu ý: dvk chat dùng ngày hôm nay ({today.strftime('%d/%m/%Y')}), "
            "không phải ngày của dữ liệu mẫu."
        )
    lines.append("Mã mời cho Telegram/Zalo:")
    lines += [f"  {code}  ({label})" for label, code in result.invites.items()]
    return "\n".join(lines) + "\n"
