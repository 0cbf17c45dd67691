"""/trogiup (what this person may do, and how to answer) and /huy (stop what is in progress),
and which commands a person may use at all."""

from __future__ import annotations

from conversations.commands import Audience, Command
from conversations.context import Ctx
from conversations.registry import COMMANDS as FLOW_COMMANDS
from conversations.registry import ENGINE
from conversations.season import closed_now, pointers, standing, useful
from conversations.texts.account import not_invited
from domain.catalog import Role
from domain.messages import IncomingMessage, Reply
from domain.text import fold
from handlers import texts as T
from storage import people


async def may_use(ctx: Ctx, command: Command) -> bool:
    if command.audience == Audience.EVERYONE:
        return True
    access = await people.access_of(ctx.session, ctx.person)
    if command.audience == Audience.MEMBERS:
        return access.is_known
    if command.audience == Audience.LEADERS:
        return bool(access.led_paths)
    return Role.ADMIN.value in access.direct.values()


async def cancel_command(ctx: Ctx, _args: str) -> list[Reply]:
    row = await ENGINE.load(ctx)
    if row is None and ctx.person is None:
        return [Reply(not_invited(ctx.invite_issuer))]
    if row is None:
        return [Reply(f"{T.NOTHING_OPEN} {await pointers(ctx)}")]
    return await ENGINE.handle(
        ctx, row, IncomingMessage(ctx.channel, ctx.user_id, ctx.chat_id, text="hủy")
    )


async def help_command(ctx: Ctx, args: str) -> list[Reply]:
    replies = [await help_text(ctx, everything=fold(args) in EVERYTHING)]
    row = await ENGINE.load(ctx)
    if row is not None and not ENGINE.outdated(row):
        replies.append(await ENGINE.render(ctx, row, note=T.IN_PROGRESS))
    return replies


EVERYTHING = {"tatca", "tat ca", "het", "day du", "all"}
HELP_LINES = 15  # the short help fits a phone's screen


async def help_text(ctx: Ctx, everything: bool = False) -> Reply:
    """What this person may do: the commands most useful now first, then the others they
    may use, in at most ``HELP_LINES`` lines; every command with ``everything``."""
    if ctx.person is None:
        return Reply(not_invited(ctx.invite_issuer))
    access = await people.access_of(ctx.session, ctx.person)
    units = await people.memberships(ctx.session, ctx.person)
    lines = [T.help_hello(name=ctx.person.full_name)]
    lines += [T.membership_line(m.role, u.name) for m, u in units]
    person_now = await standing(ctx)
    closed = closed_now(person_now)
    allowed = [
        c for c in ALL_COMMANDS if c.in_menu and c.name not in closed and await may_use(ctx, c)
    ]
    if everything:
        lines += ["", T.ALL_COMMANDS_HEADING]
        lines += [T.command_line(name=c.name, purpose=c.help) for c in allowed]
        if access.led_paths:
            lines += ["", T.LEADER_NOTE]
        lines += ["", T.WHILE_ANSWERING]
        return Reply("\n".join(lines))
    by_name = {c.name: c for c in allowed}
    now = [by_name[n] for n in useful(person_now) if n in by_name]
    lines += ["", T.NOW_HEADING, *(T.command_line(name=c.name, purpose=c.help) for c in now)]
    others = [c for c in by_name.values() if c not in now and c.name not in T.ALWAYS_KNOWN]
    room = HELP_LINES - len(lines) - 3  # a blank, the heading, and the last line
    shown = others[: max(room, 0)]
    if shown:
        lines += [
            "",
            T.OTHERS_HEADING,
            *(T.command_line(name=c.name, purpose=c.help) for c in shown),
        ]
    lines.append(T.help_tail(len(allowed), len(now) + len(shown) < len(allowed)))
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
