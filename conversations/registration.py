"""/dangky: registering a model for the year, every field of Phụ lục 1 — the unit (when there
is a choice), new or kept from last year (kept: one of last year's models, its answers filled
in), name, field, collective or individual and its name, place, lead body, scale — then a
summary where any field can be edited. The same flow edits a saved model (from /mohinh)."""

from __future__ import annotations

from typing import Any

from conversations.answers import Choice, InputError, text_parser
from conversations.commands import Command
from conversations.context import Ctx
from conversations.engine import Flow, Outcome, Step
from conversations.records import (
    ORIGIN_CHOICES,
    RECORD_FIELDS,
    checked_unit,
    may_change,
    record_data,
    record_lines,
    usable_units,
)
from conversations.season import registration_years
from conversations.texts import common as C
from conversations.texts import registration as T
from conversations.widgets import Picked, any_usable, unit_picker
from domain.catalog import (
    FIELD_ALIASES,
    FIELD_LABELS,
    FIELD_ORDER,
    LEAD_BODIES,
    NAME_MAX,
    ORIGIN_LABELS,
    SUBJECT_LABELS,
    Field,
    Origin,
    RecordState,
    Subject,
)
from domain.messages import Reply
from domain.text import fold
from storage import audit_log, model_years
from storage.models import DvkModel, ModelYear, Unit


class RegisterState(Picked, total=False):
    editing: int  # the record being edited (from /mohinh); absent when registering
    years: list[int]  # the years it may register for, the default first
    origin: str
    kept_from: int  # last year's record kept
    kept_name: str
    name: str
    field: str
    field_other: str | None
    subject: str
    subject_name: str
    place: str
    lead_body: str
    scale: str


def _registering(data: RegisterState) -> bool:
    return "editing" not in data


async def origin_choices(ctx: Ctx, data: RegisterState) -> list[Choice]:
    if await model_years.keepable_records(ctx.session, data["unit"], data["year"]):
        return list(ORIGIN_CHOICES)
    return [ORIGIN_CHOICES[0]]


async def kept_choices(ctx: Ctx, data: RegisterState) -> list[Choice]:
    records = await model_years.keepable_records(ctx.session, data["unit"], data["year"])
    return [Choice(r.name, r.id) for r in records]


async def after_kept(ctx: Ctx, data: RegisterState) -> None:
    """Start from last year's answers: every later step shows them and offers to keep them."""
    old = await ctx.session.get(ModelYear, data["kept_from"])
    keepable = {
        r.id for r in await model_years.keepable_records(ctx.session, data["unit"], data["year"])
    }
    if old is None or old.id not in keepable:
        raise InputError(T.NOT_KEEPABLE)
    for key in RECORD_FIELDS:
        data[key] = getattr(old, key)  # type: ignore[literal-required]
    data["kept_name"] = old.name


async def parse_name(ctx: Ctx, text: str, data: RegisterState) -> str:
    name = await text_parser(NAME_MAX, "tên mô hình", single_line=True)(ctx, text, data)
    others = await model_years.records_of_unit(ctx.session, data["unit"], data["year"])
    if any(fold(r.name) == fold(name) and r.id != data.get("editing") for r in others):
        raise InputError(T.twin_name(name=name, year=data["year"]))
    return name


FIELD_CHOICES = tuple(Choice(FIELD_LABELS[f], f.value, FIELD_ALIASES[f]) for f in FIELD_ORDER)
SUBJECT_CHOICES = (
    Choice(SUBJECT_LABELS[Subject.COLLECTIVE], Subject.COLLECTIVE.value, ("tap the",)),
    Choice(SUBJECT_LABELS[Subject.INDIVIDUAL], Subject.INDIVIDUAL.value, ("ca nhan",)),
)
LEAD_CHOICES = tuple(Choice(b, b) for b in LEAD_BODIES)


async def subject_name_prompt(_ctx: Ctx, data: RegisterState) -> str:
    if data.get("subject") == Subject.INDIVIDUAL.value:
        return T.SUBJECT_PERSON
    return T.SUBJECT_GROUP


async def unit_prompt(_ctx: Ctx, data: RegisterState) -> str:
    return T.unit_prompt(year=data["year"])


def registration_title(data: RegisterState) -> str:
    if "editing" in data:
        return T.EDIT_TITLE
    return T.title(year=data["year"]) if "year" in data else REGISTER.title


async def year_choices(_ctx: Ctx, data: RegisterState) -> list[Choice]:
    return [Choice(T.year_label(y, i == 0), y) for i, y in enumerate(data["years"])]


async def after_year(_ctx: Ctx, data: RegisterState) -> None:
    data["year"] = int(data["year"])


def _show_field(value: Any, _data: Any) -> str:
    return FIELD_LABELS[Field(value)]


def _show_subject(value: Any, _data: Any) -> str:
    return SUBJECT_LABELS[Subject(value)]


def _show_origin(value: Any, _data: Any) -> str:
    return ORIGIN_LABELS[Origin(value)]


REGISTER = Flow(
    name="register",
    title="Đăng ký mô hình",
    title_for=registration_title,
    steps=(
        Step(
            key="year",
            label="Năm",
            prompt=T.YEAR,
            choices=year_choices,
            when=lambda d: _registering(d) and len(d.get("years", ())) > 1,
            after=after_year,
            editable=False,
            keep_hidden=True,
        ),
        unit_picker(unit_prompt, units=any_usable, when=_registering),
        Step(
            key="origin",
            label="Loại",
            prompt=T.ORIGIN,
            choices=origin_choices,
            when=_registering,
            show=_show_origin,
            editable=False,
            keep_hidden=True,
            auto_single=True,
            auto_note=lambda _c, _d: T.ONLY_NEW,
        ),
        Step(
            key="kept_from",
            label="Duy trì từ",
            prompt=T.KEPT_FROM,
            choices=kept_choices,
            when=lambda d: _registering(d) and d.get("origin") == Origin.KEPT.value,
            show=lambda _v, d: str(d.get("kept_name", "")),
            after=after_kept,
            editable=False,
            follow_up=True,
        ),
        Step(key="name", label="Tên mô hình", prompt=T.NAME, parse=parse_name),
        Step(
            key="field",
            label="Lĩnh vực",
            prompt=T.FIELD,
            choices=FIELD_CHOICES,
            show=_show_field,
        ),
        Step(
            key="field_other",
            label="Tên lĩnh vực khác",
            prompt=T.FIELD_OTHER,
            parse=text_parser(NAME_MAX, "tên lĩnh vực", single_line=True),
            when=lambda d: d.get("field") == Field.OTHER.value,
            follow_up=True,
        ),
        Step(
            key="subject",
            label="Chủ thể",
            prompt=T.SUBJECT,
            choices=SUBJECT_CHOICES,
            show=_show_subject,
        ),
        Step(
            key="subject_name",
            label="Tên tập thể / cá nhân",
            prompt=subject_name_prompt,
            parse=text_parser(NAME_MAX, "tên tập thể hoặc cá nhân", single_line=True),
        ),
        Step(
            key="place",
            label="Địa điểm",
            prompt=T.PLACE,
            parse=text_parser(what="địa điểm", single_line=True),
        ),
        Step(
            key="lead_body",
            label="Chủ trì",
            prompt=T.LEAD_BODY,
            choices=LEAD_CHOICES,
            parse=text_parser(NAME_MAX, "tên cơ quan chủ trì", single_line=True),
        ),
        Step(key="scale", label="Quy mô", prompt=T.SCALE, parse=text_parser(what="quy mô")),
    ),
    finish=lambda ctx, data: finish_register(ctx, data),
)


async def start_register(ctx: Ctx, args: str = "") -> RegisterState | Reply:
    """Initial data for /dangky, or a reply that says why it cannot start. The year is the
    season's (``season.registration_years``); ``/dangky 2026`` names one of those years."""
    if not await usable_units(ctx):
        return Reply(T.NO_UNIT)
    years = await registration_years(ctx)
    word = args.strip()
    if word:
        if not word.isdigit() or int(word) not in years:
            return Reply(T.year_refused(word, years))
        return RegisterState(year=int(word), years=[int(word)])
    return RegisterState(year=years[0], years=years)


async def finish_register(ctx: Ctx, data: RegisterState) -> Outcome:
    assert ctx.person is not None
    unit = await checked_unit(ctx, data["unit"])
    year = data["year"]
    values = {k: data.get(k) for k in RECORD_FIELDS}
    if values["field"] != Field.OTHER.value:
        values["field_other"] = None
    await parse_name(ctx, str(values["name"]), data)  # a twin may have been saved meanwhile
    if "editing" in data:
        return await _save_edit(ctx, unit, data["editing"], values)
    kept = None
    if data.get("origin") == Origin.KEPT.value:
        kept = await ctx.session.get(ModelYear, data.get("kept_from"))
        keepable = {r.id for r in await model_years.keepable_records(ctx.session, unit.id, year)}
        if kept is None or kept.id not in keepable:
            raise InputError(T.ALREADY_KEPT)
    record = None
    if kept is None:
        model = DvkModel(unit_id=unit.id, created_at=ctx.now)
        ctx.session.add(model)
        await ctx.session.flush()
        model_id = model.id
    else:
        model_id = kept.model_id
        # Kept this year already and then withdrawn: the same record comes back, with its
        # evidence, holding the answers given now. Locked: another chat keeping it at the
        # same moment waits here, then finds it active.
        record = await model_years.lock_record_of_year(ctx.session, model_id, year)
        if record is not None and record.state != RecordState.WITHDRAWN.value:
            raise InputError(T.ALREADY_KEPT)
    if record is None:
        record = ModelYear(
            model_id=model_id,
            year=year,
            origin=Origin.KEPT.value if kept else Origin.NEW.value,
            state=RecordState.ACTIVE.value,
            created_by=ctx.person.id,
            created_at=ctx.now,
            updated_at=ctx.now,
            **values,
        )
        ctx.session.add(record)
    else:
        for key, value in values.items():
            setattr(record, key, value)
        record.origin = Origin.KEPT.value
        record.state = RecordState.ACTIVE.value
        record.updated_at = ctx.now
    await ctx.session.flush()
    await ctx.audit("register", "model_year", record.id, values)
    text = "\n".join(
        [T.saved(kept is not None, year, unit.name), *record_lines(record), "", T.AFTER_SAVE]
    )
    return Outcome([Reply(text)])


async def _save_edit(ctx: Ctx, unit: Unit, record_id: int, values: dict[str, Any]) -> Outcome:
    assert ctx.person is not None
    record = await ctx.session.get(ModelYear, record_id)
    if record is None or record.state != RecordState.ACTIVE.value:
        raise InputError(C.GONE)
    allowed, why = await may_change(ctx, unit, record.year)
    if not allowed:
        raise InputError(why)
    before = record_data(record)
    changes = audit_log.changed_fields(before, values, RECORD_FIELDS)
    if not changes:
        return Outcome([Reply(T.NO_CHANGE)])
    for key, value in values.items():
        setattr(record, key, value)
    record.updated_at = ctx.now
    await ctx.audit("edit", "model_year", record.id, changes)
    return Outcome([Reply("\n".join([T.edited(name=record.name), *record_lines(record)]))])


FLOWS = (REGISTER,)
COMMANDS = (
    Command(
        "dangky",
        "Đăng ký mô hình “Dân vận khéo”",
        order=10,
        flow="register",
        start=start_register,
        phrases=(
            "dangky",
            "dang ky",
            "dang ky mo hinh",
            "them mo hinh",
            "dang ky mo hinh moi",
            "mo hinh moi",
        ),
    ),
)
