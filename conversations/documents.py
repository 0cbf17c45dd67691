"""/vanban: record a document issued to lead the movement (Biểu 1)."""

from __future__ import annotations

from datetime import date

from conversations.answers import DATE, InputError, text_parser
from conversations.commands import Command
from conversations.context import Ctx, Data
from conversations.engine import Flow, Outcome, Step
from conversations.texts import common as C
from conversations.texts import documents as T
from conversations.widgets import unit_picker
from conversations.workbooks import root_units, roots_of, scope_for
from domain.messages import Reply
from reports.bieu1 import add_document


async def parse_issued_on(ctx: Ctx, text: str, _data: Data) -> str:
    match = DATE.match(text.strip())
    try:
        if match is None:
            raise ValueError
        day, month, year = (int(g) for g in match.groups())
        issued = date(year, month, day)
    except ValueError:
        raise InputError(T.bad_date(text=text, year=ctx.local_now.year)) from None
    if issued > ctx.local_now.date():
        raise InputError(T.AFTER_TODAY)
    return issued.isoformat()


def _show_date(value: object, _data: Data) -> str:
    return date.fromisoformat(str(value)).strftime("%d/%m/%Y")


async def finish_document(ctx: Ctx, data: Data) -> Outcome:
    issued = date.fromisoformat(data["issued_on"])
    scope = await scope_for(ctx, data["unit"], issued.year)
    assert ctx.person is not None
    try:
        document = await add_document(
            ctx.session,
            scope.root,
            issued.year,
            data["number"],
            issued,
            data["content"],
            ctx.person.id,
            ctx.now,
        )
    except ValueError as err:
        raise InputError(str(err)) from None
    await ctx.audit(
        "add_document",
        "lead_document",
        document.id,
        {"number": document.number, "unit": scope.root.id},
    )
    day = _show_date(data["issued_on"], data)
    return Outcome(
        [
            Reply(
                T.saved(
                    number=document.number,
                    issued_on=day,
                    unit_name=scope.root.name,
                    year=issued.year,
                )
            )
        ]
    )


DOCUMENT = Flow(
    name="document",
    title="Văn bản chỉ đạo",
    confirm=True,
    steps=(
        unit_picker(T.UNIT, units=root_units, label="Đơn vị ban hành"),
        Step(
            key="number",
            label="Số hiệu",
            prompt=T.NUMBER,
            parse=text_parser(100, "số hiệu", single_line=True),
        ),
        Step(
            key="issued_on",
            label="Ngày ban hành",
            prompt=T.ISSUED_ON,
            parse=parse_issued_on,
            show=_show_date,
        ),
        Step(
            key="content",
            label="Trích yếu nội dung",
            prompt=T.CONTENT,
            parse=text_parser(2000, "trích yếu nội dung"),
        ),
    ),
    finish=finish_document,
)


async def start_document(ctx: Ctx, _args: str = "") -> Data | Reply:
    roots = await roots_of(ctx)
    if not roots:
        return Reply(C.NOT_A_MEMBER)
    return {}


FLOWS = (DOCUMENT,)
COMMANDS = (
    Command(
        "vanban",
        "Ghi văn bản chỉ đạo phong trào (Biểu 1)",
        order=50,
        flow="document",
        start=start_document,
        phrases=("vanban", "van ban", "ghi van ban", "van ban chi dao", "nhap van ban"),
    ),
)
