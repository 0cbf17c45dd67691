"""/trogiup (what this person may do, and how to answer) and /huy (stop what is in progress),
and which commands a person may use at all."""

from __future__ import annotations

from conversations.commands import Audience, Command
from conversations.context import Ctx
from conversations.registry import COMMANDS as FLOW_COMMANDS
from conversations.registry import ENGINE
from conversations.texts.account import NOT_INVITED
from conversations.texts.hints import short_help
from domain.catalog import ROLE_LABELS, Role
from domain.messages import IncomingMessage, Reply
from handlers import texts as T
from storage import repo


async def may_use(ctx: Ctx, command: Command) -> bool:
    if command.audience == Audience.EVERYONE:
        return True
    access = await repo.access_of(ctx.session, ctx.person)
    if command.audience == Audience.MEMBERS:
        return access.is_known
    if command.audience == Audience.LEADERS:
        return bool(access.led_paths)
    return Role.ADMIN.value in access.direct.values()


async def cancel_command(ctx: Ctx, _args: str) -> list[Reply]:
    row = await ENGINE.load(ctx)
    if row is None and ctx.person is None:
        return [Reply(NOT_INVITED)]
    if row is None:
        return [Reply(f"{T.NOTHING_OPEN} {short_help()}")]
    return await ENGINE.handle(
        ctx, row, IncomingMessage(ctx.channel, ctx.user_id, ctx.chat_id, text="hủy")
    )


async def help_command(ctx: Ctx, _args: str) -> list[Reply]:
    replies = [await help_text(ctx)]
    row = await ENGINE.load(ctx)
    if row is not None and not ENGINE.outdated(row):
        replies.append(await ENGINE.render(ctx, row, note=T.IN_PROGRESS))
    return replies


async def help_text(ctx: Ctx) -> Reply:
    if ctx.person is None:
        return Reply(NOT_INVITED)
    access = await repo.access_of(ctx.session, ctx.person)
    units = await repo.memberships(ctx.session, ctx.person)
    lines = [f"Chào {ctx.person.full_name}. Đồng chí là:"]
    lines += [f"• {ROLE_LABELS[m.role]} — {u.name}" for m, u in units]
    lines += ["", "Các lệnh:"]
    lines += [f"/{c.name} — {c.help}" for c in ALL_COMMANDS if c.in_menu and await may_use(ctx, c)]
    if access.led_paths:
        lines += ["", T.LEADER_NOTE]
    lines += ["", T.WHILE_ANSWERING]
    return Reply("\n".join(lines))


COMMANDS = (
    Command(
        "huy",
        "Hủy thao tác đang làm",
        order=170,
        audience=Audience.EVERYONE,
        aliases=("cancel",),
        run=cancel_command,
        during_flow=True,
    ),
    Command(
        "trogiup",
        "Xem hướng dẫn và các lệnh",
        order=180,
        audience=Audience.EVERYONE,
        aliases=("help", "hdsd"),
        run=help_command,
        during_flow=True,
    ),
)
# Every command, in menu order: the platform's menu, the help and the routing read this.
ALL_COMMANDS: tuple[Command, ...] = tuple(
    sorted((*FLOW_COMMANDS, *COMMANDS), key=lambda c: c.order)
)
MENU: tuple[tuple[str, str], ...] = tuple((c.name, c.help) for c in ALL_COMMANDS if c.in_menu)
