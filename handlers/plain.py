"""Plain words outside a flow: what officers and leaders actually type instead of commands
("xin chào", "hạn chót khi nào?", "dang ky", "đơn vị nào chưa nộp báo cáo?"), understood
by ``handlers/intents.py`` and answered for this person now — every pointer names a command
that will not refuse them (``conversations/season.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from conversations.context import Ctx
from conversations.deadlines import date_lines, own_units
from conversations.season import pointers, registration_years
from conversations.workbooks import roots_of
from domain.calendar import REGISTRATION, UNIT_REPORT
from domain.messages import Reply
from handlers import texts as T
from handlers.help import ALL_COMMANDS, may_use
from handlers.intents import Match, catalogue, closest_command, understand
from scheduler import obligations
from storage import deadlines
from storage.models import Unit

INTENTS = catalogue(ALL_COMMANDS)
NAMES = {name: c for c in ALL_COMMANDS for name in (c.name, *c.aliases)}
# Runs a command as if typed: (ctx, name, its arguments).
RunCommand = Callable[[Ctx, str, str], Awaitable[list[Reply]]]


async def not_understood(ctx: Ctx) -> list[Reply]:
    return [Reply(f"{T.NOT_UNDERSTOOD}\n{await pointers(ctx)}")]


async def mistyped_command(ctx: Ctx, name: str) -> list[Reply]:
    """``/dangki``: the command it most likely meant, if this person may use it."""
    guess = closest_command(name, NAMES)
    if guess is not None and await may_use(ctx, NAMES[guess]):
        command = NAMES[guess]
        return [
            Reply(f"{T.unknown_command(name=name)} {T.did_you_mean(command.name, command.help)}")
        ]
    return [Reply(f"{T.unknown_command(name=name)}\n{await pointers(ctx)}")]


async def answer(ctx: Ctx, text: str, run: RunCommand) -> list[Reply]:
    """The answer to ``text`` typed outside a flow by a person who is known."""
    match = understand(text, INTENTS)
    if match is None:
        return await not_understood(ctx)
    command = NAMES.get(match.intent)
    if command is not None:
        if match.exact and await may_use(ctx, command):
            return await run(ctx, command.name, match.args)
        if await may_use(ctx, command):
            return [Reply(T.did_you_mean(command.name, command.help))]
        return [Reply(f"{command.refusal or T.refused(name=command.name)}\n{await pointers(ctx)}")]
    reply = PLAIN.get(match.intent)
    if reply is None:
        return await not_understood(ctx)
    return await reply(ctx, match, run)


async def _greeting(ctx: Ctx, _m: Match, _run: RunCommand) -> list[Reply]:
    assert ctx.person is not None
    return [Reply(f"{T.hello(name=ctx.person.full_name)}\n{await pointers(ctx)}")]


async def _thanks(ctx: Ctx, _m: Match, _run: RunCommand) -> list[Reply]:
    return [Reply(f"{T.YOU_ARE_WELCOME}\n{await pointers(ctx)}")]


async def _own_units(ctx: Ctx) -> list[Unit]:
    return [unit for unit, _role in await own_units(ctx)]


async def _deadline(ctx: Ctx, _m: Match, _run: RunCommand) -> list[Reply]:
    """The dates that apply to this person's units: this year's while one is still ahead,
    else next year's as well."""
    units = await _own_units(ctx)
    today = ctx.local_now.date()
    year = ctx.local_now.year
    plan = await deadlines.year_plan(ctx.session, year)
    lines = await date_lines(ctx, plan, units)
    if all(d.closes_on < today for u in units for d in plan.dues(u)):
        lines += await date_lines(ctx, await deadlines.year_plan(ctx.session, year + 1), units)
    lines.append(T.SEE_LICH)
    return [Reply("\n".join(lines))]


async def _how_to_register(ctx: Ctx, _m: Match, _run: RunCommand) -> list[Reply]:
    years = await registration_years(ctx)
    units = await _own_units(ctx)
    plan = await deadlines.year_plan(ctx.session, years[0])
    closes = sorted({plan.due(u, REGISTRATION).due_on for u in units})
    return [Reply(T.how_to_register(years[0], closes))]


async def _owed(ctx: Ctx, _m: Match, run: RunCommand) -> list[Reply]:
    return await run(ctx, "lich", "")


def _lagging_answer(kind: str) -> Callable[[Ctx, Match, RunCommand], Awaitable[list[Reply]]]:
    """Leaders: the units of their subtree still owing deadline ``kind`` this year."""

    async def reply(ctx: Ctx, _m: Match, _run: RunCommand) -> list[Reply]:
        led = [root.unit for root in await roots_of(ctx, leaders_only=True)]
        if not led:
            return [Reply(f"{T.LEADERS_ASK}\n{await pointers(ctx)}")]
        year = ctx.local_now.year
        lines: list[str] = []
        for root in led:
            lags = await obligations.lagging(ctx.session, kind, year, ctx.quotas, root)
            lines.append(T.lagging_heading(kind, root.name, year, len(lags)))
            lines += [f"• {lag.unit_name}" for lag in lags]
        lines.append(T.SEE_TONGHOP)
        return [Reply("\n".join(lines))]

    return reply


async def _help(ctx: Ctx, _m: Match, run: RunCommand) -> list[Reply]:
    return await run(ctx, "trogiup", "")


async def _cancel(ctx: Ctx, _m: Match, run: RunCommand) -> list[Reply]:
    return await run(ctx, "huy", "")


PLAIN: dict[str, Callable[[Ctx, Match, RunCommand], Awaitable[list[Reply]]]] = {
    "greeting": _greeting,
    "thanks": _thanks,
    "deadline": _deadline,
    "how_to_register": _how_to_register,
    "owed": _owed,
    "not_registered": _lagging_answer(REGISTRATION),
    "not_reported": _lagging_answer(UNIT_REPORT),
    "help": _help,
    "cancel": _cancel,
}

__all__ = ["answer", "mistyped_command", "not_understood"]
