"""The flows of issue 2: joining with an invite, registering a model, the model menu."""

from __future__ import annotations

from typing import Any

from conversations.engine import (
    Choice,
    Ctx,
    Data,
    Flow,
    InputError,
    Outcome,
    Step,
    text_parser,
)
from conversations.records import (
    RECORD_FIELDS,
    checked_unit,
    detail_lines,
    may_change,
    record_data,
    record_lines,
    unit_choices,
)
from domain.catalog import (
    FIELD_ALIASES,
    FIELD_LABELS,
    FIELD_ORDER,
    LEAD_BODIES,
    NAME_MAX,
    ORIGIN_LABELS,
    ROLE_LABELS,
    SUBJECT_LABELS,
    Field,
    Origin,
    RecordState,
    Subject,
    field_label,
)
from domain.messages import Reply
from domain.text import fold
from storage import repo
from storage.models import DvkModel, ModelYear, Unit

# --- shared helpers ----------------------------------------------------------


# --- join (/start CODE) --------------------------------------------------------


async def finish_join(ctx: Ctx, data: Data) -> Outcome:
    try:
        invite = await repo.consume_invite(ctx.session, data["code"], ctx.now)
    except repo.InviteProblem as err:
        # The code expired or ran out while the name was asked: asking again cannot help.
        return Outcome([Reply(invite_problem_text(err.reason))])
    person = ctx.person
    if person is None:
        person = await repo.create_person(
            ctx.session, data["full_name"], ctx.channel, ctx.user_id, ctx.display_name, ctx.now
        )
        ctx.person = person
    unit = await ctx.session.get(Unit, invite.unit_id)
    assert unit is not None
    membership = await repo.add_membership(ctx.session, person, unit, invite.role, ctx.now)
    await repo.audit(
        ctx.session,
        person.id,
        "join",
        "unit",
        unit.id,
        {"role": membership.role, "invite": invite.id},
        ctx.now,
        ctx.channel,
    )
    return Outcome([welcome(person.full_name, unit.name, membership.role)])


def welcome(full_name: str, unit_name: str, role: str) -> Reply:
    return Reply(
        f"Chào {full_name}! Bạn đã tham gia {unit_name} với vai trò {ROLE_LABELS[role]}.\n"
        "Gõ /dangky để đăng ký mô hình “Dân vận khéo”, /mohinh để xem các mô hình "
        "đã đăng ký, /trogiup để xem mọi lệnh."
    )


def invite_problem_text(reason: str) -> str:
    return {
        "unknown": "Mã mời không đúng. Vui lòng kiểm tra lại mã (chữ in hoa và số) "
        "hoặc xin mã mới từ cán bộ quản trị.",
        "expired": "Mã mời đã hết hạn. Vui lòng xin mã mới từ cán bộ quản trị.",
        "used_up": "Mã mời đã được dùng hết lượt. Vui lòng xin mã mới từ cán bộ quản trị.",
    }[reason]


JOIN = Flow(
    name="join",
    title="Tham gia",
    confirm=False,
    steps=(
        Step(
            key="full_name",
            label="Họ và tên",
            prompt="Xin chào! Vui lòng cho biết họ và tên đầy đủ của bạn (ví dụ: Nguyễn Thị Lan).",
            parse=text_parser(NAME_MAX, "họ và tên"),
        ),
    ),
    finish=finish_join,
)


# --- registration (/dangky) and editing a record ------------------------------


def _when_multi_unit(data: Data) -> bool:
    return not data.get("_single_unit", False)


def _when_can_keep(data: Data) -> bool:
    return bool(data.get("_keepable")) and "_record" not in data


def _when_kept(data: Data) -> bool:
    return _when_can_keep(data) and data.get("origin") == Origin.KEPT.value


async def _after_unit(ctx: Ctx, data: Data) -> Unit:
    unit = await checked_unit(ctx, data["unit"])
    keepable = await repo.keepable_records(ctx.session, data["unit"], data["_year"])
    data["_keepable"] = len(keepable)
    if not keepable:
        data["origin"] = Origin.NEW.value
        data.pop("kept_from", None)
    return unit


async def origin_choices(_ctx: Ctx, _data: Data) -> list[Choice]:
    return [
        Choice(ORIGIN_LABELS[Origin.NEW], Origin.NEW.value, ("moi", "xd moi")),
        Choice(ORIGIN_LABELS[Origin.KEPT], Origin.KEPT.value, ("duy tri",)),
    ]


async def kept_choices(ctx: Ctx, data: Data) -> list[Choice]:
    records = await repo.keepable_records(ctx.session, data["unit"], data["_year"])
    return [Choice(r.name, r.id) for r in records]


async def after_kept(ctx: Ctx, data: Data) -> None:
    """Start from last year's answers: every later step shows them and offers to keep them."""
    old = await ctx.session.get(ModelYear, data["kept_from"])
    keepable = {r.id for r in await repo.keepable_records(ctx.session, data["unit"], data["_year"])}
    if old is None or old.id not in keepable:
        raise InputError("Mô hình này không còn để duy trì. Vui lòng chọn lại.")
    for key in RECORD_FIELDS:
        data[key] = getattr(old, key)


async def parse_name(ctx: Ctx, text: str, data: Data) -> str:
    name = await text_parser(NAME_MAX, "tên mô hình")(ctx, text, data)
    others = await repo.records_of_unit(ctx.session, data["unit"], data["_year"])
    if any(fold(r.name) == fold(name) and r.id != data.get("_record") for r in others):
        raise InputError(
            f"Đơn vị đã có mô hình “{name}” trong năm {data['_year']}. Vui lòng đặt tên khác, "
            "hoặc dùng /mohinh để sửa mô hình đó."
        )
    return name


FIELD_CHOICES = tuple(Choice(FIELD_LABELS[f], f.value, FIELD_ALIASES[f]) for f in FIELD_ORDER)
SUBJECT_CHOICES = (
    Choice(SUBJECT_LABELS[Subject.COLLECTIVE], Subject.COLLECTIVE.value, ("tap the",)),
    Choice(SUBJECT_LABELS[Subject.INDIVIDUAL], Subject.INDIVIDUAL.value, ("ca nhan",)),
)
LEAD_CHOICES = tuple(Choice(b, b) for b in LEAD_BODIES)


async def subject_name_prompt(_ctx: Ctx, data: Data) -> str:
    if data.get("subject") == Subject.INDIVIDUAL.value:
        return "Họ và tên cá nhân thực hiện mô hình?"
    return "Tên tập thể thực hiện mô hình (ví dụ: Chi hội Phụ nữ thôn 3)?"


async def registration_heading_prompt(ctx: Ctx, data: Data) -> str:
    return f"Mô hình của đơn vị nào? (năm {data['_year']})"


def registration_title(data: Data) -> str:
    return "Sửa mô hình" if "_record" in data else "Đăng ký mô hình"


def _show_field(value: Any, _data: Data) -> str:
    return FIELD_LABELS[Field(value)]


def _show_subject(value: Any, _data: Data) -> str:
    return SUBJECT_LABELS[Subject(value)]


def _show_origin(value: Any, _data: Data) -> str:
    return ORIGIN_LABELS[Origin(value)]


def _show_unit(_value: Any, data: Data) -> str:
    return str(data.get("_unit_name", data.get("unit")))


def _show_kept(_value: Any, data: Data) -> str:
    return str(data.get("_kept_name", "mô hình năm trước"))


async def after_unit_named(ctx: Ctx, data: Data) -> None:
    data["_unit_name"] = (await _after_unit(ctx, data)).name


async def after_kept_named(ctx: Ctx, data: Data) -> None:
    await after_kept(ctx, data)
    data["_kept_name"] = data["name"]


REGISTER = Flow(
    name="register",
    title="Đăng ký mô hình",
    title_for=registration_title,
    summary_title="kiểm tra lại trước khi lưu:",
    steps=(
        Step(
            key="unit",
            label="Đơn vị",
            prompt=registration_heading_prompt,
            choices=unit_choices,
            when=_when_multi_unit,
            show=_show_unit,
            after=after_unit_named,
            editable=False,
            keep_hidden=True,
        ),
        Step(
            key="origin",
            label="Loại",
            prompt="Mô hình xây dựng mới trong năm, hay duy trì mô hình của năm trước?",
            choices=origin_choices,
            when=_when_can_keep,
            show=_show_origin,
            editable=False,
            keep_hidden=True,
        ),
        Step(
            key="kept_from",
            label="Duy trì từ",
            prompt="Chọn mô hình năm trước muốn duy trì (các câu trả lời cũ sẽ được điền sẵn):",
            choices=kept_choices,
            when=_when_kept,
            show=_show_kept,
            after=after_kept_named,
            editable=False,
        ),
        Step(
            key="name",
            label="Tên mô hình",
            prompt="Tên mô hình là gì? (tối đa 300 ký tự)",
            parse=parse_name,
        ),
        Step(
            key="field",
            label="Lĩnh vực",
            prompt="Mô hình thuộc lĩnh vực nào?",
            choices=FIELD_CHOICES,
            show=_show_field,
        ),
        Step(
            key="field_other",
            label="Tên lĩnh vực khác",
            prompt="Lĩnh vực khác là gì? (ví dụ: Xây dựng nông thôn mới, Đô thị văn minh)",
            parse=text_parser(NAME_MAX, "tên lĩnh vực"),
            when=lambda d: d.get("field") == Field.OTHER.value,
        ),
        Step(
            key="subject",
            label="Chủ thể",
            prompt="Mô hình do tập thể hay cá nhân thực hiện?",
            choices=SUBJECT_CHOICES,
            show=_show_subject,
        ),
        Step(
            key="subject_name",
            label="Tên tập thể / cá nhân",
            prompt=subject_name_prompt,
            parse=text_parser(NAME_MAX, "tên tập thể hoặc cá nhân"),
        ),
        Step(
            key="place",
            label="Địa điểm",
            prompt="Địa điểm xây dựng, triển khai (ví dụ: Thôn 3; Tổ dân phố 5; Phường Minh Khai)?",
            parse=text_parser(what="địa điểm"),
        ),
        Step(
            key="lead_body",
            label="Chủ trì",
            prompt="Cơ quan, tổ chức chủ trì? Chọn trong danh sách hoặc gõ tên khác.",
            choices=LEAD_CHOICES,
            parse=text_parser(NAME_MAX, "tên cơ quan chủ trì"),
        ),
        Step(
            key="scale",
            label="Quy mô",
            prompt="Quy mô thực hiện (số lượng, diện tích, số hộ…)? Ví dụ: 120 hộ, 15 ha.",
            parse=text_parser(what="quy mô"),
        ),
    ),
    finish=lambda ctx, data: finish_register(ctx, data),
)


async def start_register(ctx: Ctx) -> Data | Reply:
    """Initial data for /dangky, or a reply that says why it cannot start."""
    # The units stay referenced meanwhile, so the checks below find them in the session.
    units = await repo.usable_units(ctx.session, await repo.access_of(ctx.session, ctx.person))
    if not units:
        return Reply("Bạn chưa thuộc đơn vị nào nên chưa đăng ký được mô hình.")
    data: Data = {"_year": ctx.local_now.year}
    if len(units) == 1:
        data["unit"] = units[0].id
        data["_single_unit"] = True
        await after_unit_named(ctx, data)
    return data


ALREADY_KEPT = "Mô hình năm trước này đã được duy trì rồi. Vui lòng kiểm tra /mohinh."


async def finish_register(ctx: Ctx, data: Data) -> Outcome:
    assert ctx.person is not None
    unit = await checked_unit(ctx, data["unit"])
    year = data["_year"]
    values = {k: data.get(k) for k in RECORD_FIELDS}
    if values["field"] != Field.OTHER.value:
        values["field_other"] = None
    await parse_name(ctx, str(values["name"]), data)  # a twin may have been saved meanwhile
    if "_record" in data:
        return await _save_edit(ctx, unit, data["_record"], values)
    kept = None
    if data.get("origin") == Origin.KEPT.value:
        kept = await ctx.session.get(ModelYear, data.get("kept_from"))
        keepable = {r.id for r in await repo.keepable_records(ctx.session, unit.id, year)}
        if kept is None or kept.id not in keepable:
            raise InputError(ALREADY_KEPT)
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
        record = await repo.lock_record_of_year(ctx.session, model_id, year)
        if record is not None and record.state != RecordState.WITHDRAWN.value:
            raise InputError(ALREADY_KEPT)
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
    await repo.audit(
        ctx.session,
        ctx.person.id,
        "register",
        "model_year",
        record.id,
        values,
        ctx.now,
        ctx.channel,
    )
    origin = "duy trì" if kept else "xây dựng mới"
    text = "\n".join(
        [
            f"✅ Đã lưu mô hình {origin} năm {year} của {unit.name} (mã số {record.id}):",
            *record_lines(record),
            "",
            "Gõ /dangky để đăng ký thêm, /mohinh để xem lại hoặc sửa.",
        ]
    )
    return Outcome([Reply(text)])


async def _save_edit(ctx: Ctx, unit: Unit, record_id: int, values: Data) -> Outcome:
    assert ctx.person is not None
    record = await ctx.session.get(ModelYear, record_id)
    if record is None or record.state != RecordState.ACTIVE.value:
        raise InputError("Mô hình này không còn trong danh sách.")
    allowed, why = await may_change(ctx, unit, record.year)
    if not allowed:
        raise InputError(why)
    before = record_data(record)
    changes = repo.changed_fields(before, values, RECORD_FIELDS)
    if not changes:
        return Outcome([Reply("Không có thay đổi nào. Mô hình giữ nguyên như cũ.")])
    for key, value in values.items():
        setattr(record, key, value)
    record.updated_at = ctx.now
    await repo.audit(
        ctx.session, ctx.person.id, "edit", "model_year", record.id, changes, ctx.now, ctx.channel
    )
    text = "\n".join(
        [f"✅ Đã lưu thay đổi của mô hình (mã số {record.id}):", *record_lines(record)]
    )
    return Outcome([Reply(text)])


# --- the model menu (/mohinh) ---------------------------------------------------


def _record_label(record: ModelYear) -> str:
    subject = SUBJECT_LABELS[Subject(record.subject)]
    return f"{record.name} ({field_label(record.field, record.field_other)}; {subject})"


async def after_menu_unit(ctx: Ctx, data: Data) -> None:
    unit = await checked_unit(ctx, data["unit"])
    data["_unit_name"] = unit.name
    if not await repo.records_of_unit(ctx.session, unit.id, data["_year"]):
        raise InputError(
            f"{unit.name} chưa có mô hình nào năm {data['_year']}. "
            "Chọn đơn vị khác, hoặc gõ /huy rồi /dangky để đăng ký."
        )


async def menu_record_choices(ctx: Ctx, data: Data) -> list[Choice]:
    records = await repo.records_of_unit(ctx.session, data["unit"], data["_year"])
    return [Choice(_record_label(r), r.id) for r in records]


async def menu_list_prompt(_ctx: Ctx, data: Data) -> str:
    return f"Các mô hình năm {data['_year']} của {data['_unit_name']}. Chọn một mô hình để xem:"


async def _menu_record(ctx: Ctx, data: Data) -> tuple[ModelYear, Unit]:
    record = await ctx.session.get(ModelYear, data["record"])
    unit = await checked_unit(ctx, data["unit"])
    if record is None or record.state != RecordState.ACTIVE.value:
        raise InputError("Mô hình này không còn trong danh sách.")
    owner = await repo.unit_of_record(ctx.session, record)
    if owner.id != unit.id:
        raise InputError("Bạn không có quyền với mô hình này.")
    return record, unit


async def menu_action_prompt(ctx: Ctx, data: Data) -> str:
    # The record as /duyet shows it: results, points and where it stands in review too.
    # (conversations.review builds on this module, hence the import here.)
    record, unit = await _menu_record(ctx, data)
    lines = await detail_lines(ctx, record, unit)
    allowed, why = await may_change(ctx, unit, record.year)
    if not allowed:
        lines += ["", why]
    lines += ["", "Bạn muốn làm gì?"]
    return "\n".join(lines)


async def menu_action_choices(ctx: Ctx, data: Data) -> list[Choice]:
    record, unit = await _menu_record(ctx, data)
    allowed, _ = await may_change(ctx, unit, record.year)
    choices = [Choice("Sửa thông tin", "edit", ("sua",))] if allowed else []
    if allowed:
        choices.append(Choice("Rút mô hình", "withdraw", ("rut", "rut dang ky", "xoa")))
    choices.append(Choice("Xong", "done", ("dong", "xong roi")))
    return choices


async def withdraw_prompt(ctx: Ctx, data: Data) -> str:
    record, _ = await _menu_record(ctx, data)
    return (
        f"Rút mô hình “{record.name}” khỏi danh sách năm {record.year}? Thao tác này được ghi lại."
    )


WITHDRAW_CHOICES = (
    Choice("Có, rút mô hình", True, ("co", "dong y", "rut")),
    Choice("Không", False, ("khong", "thoi")),
)


async def finish_menu(ctx: Ctx, data: Data) -> Outcome:
    assert ctx.person is not None
    record, unit = await _menu_record(ctx, data)
    action = data["action"]
    if action == "done":
        return Outcome([Reply("Xong. Gõ /mohinh để xem lại danh sách, /trogiup để xem các lệnh.")])
    allowed, why = await may_change(ctx, unit, record.year)
    if not allowed:
        raise InputError(why)
    if action == "edit":
        edit_data: Data = {
            "_year": record.year,
            "_record": record.id,
            "_single_unit": True,
            "_unit_name": unit.name,
            "unit": unit.id,
            **record_data(record),
        }
        return Outcome([], then=("register", edit_data, True))
    if not data.get("confirm_withdraw"):
        return Outcome([Reply("Đã giữ nguyên mô hình, không rút.")])
    record.state = RecordState.WITHDRAWN.value
    record.updated_at = ctx.now
    await repo.audit(
        ctx.session,
        ctx.person.id,
        "withdraw",
        "model_year",
        record.id,
        {"name": record.name},
        ctx.now,
        ctx.channel,
    )
    return Outcome([Reply(f"Đã rút mô hình “{record.name}” khỏi danh sách năm {record.year}.")])


MENU = Flow(
    name="menu",
    title="Mô hình đã đăng ký",
    confirm=False,
    steps=(
        Step(
            key="unit",
            label="Đơn vị",
            prompt="Xem mô hình của đơn vị nào?",
            choices=unit_choices,
            when=_when_multi_unit,
            after=after_menu_unit,
            keep_hidden=True,
        ),
        Step(key="record", label="Mô hình", prompt=menu_list_prompt, choices=menu_record_choices),
        Step(
            key="action",
            label="Thao tác",
            prompt=menu_action_prompt,
            choices=menu_action_choices,
        ),
        Step(
            key="confirm_withdraw",
            label="Xác nhận rút",
            prompt=withdraw_prompt,
            choices=WITHDRAW_CHOICES,
            when=lambda d: d.get("action") == "withdraw",
        ),
    ),
    finish=finish_menu,
)


async def start_menu(ctx: Ctx) -> Data | Reply:
    choices = await unit_choices(ctx, {})
    if not choices:
        return Reply("Bạn chưa thuộc đơn vị nào.")
    data: Data = {"_year": ctx.local_now.year}
    if len(choices) == 1:
        data["unit"] = choices[0].value
        data["_single_unit"] = True
        if not await repo.records_of_unit(ctx.session, data["unit"], data["_year"]):
            # No flow is open and there is no other unit: only /dangky helps.
            return Reply(
                f"{choices[0].label} chưa có mô hình nào năm {data['_year']}. "
                "Gõ /dangky để đăng ký mô hình."
            )
        try:
            await after_menu_unit(ctx, data)
        except InputError as err:
            return Reply(err.message)
    return data


FLOWS = (JOIN, REGISTER, MENU)
