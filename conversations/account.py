"""Joining with an invite (``/start CODE``: the full name on first contact, then the unit and
role of the invite) and using the assistant on another platform as the same person
(``/lienket``)."""

from __future__ import annotations

from typing import TypedDict

from conversations.answers import text_parser
from conversations.commands import Audience, Command
from conversations.context import Ctx
from conversations.engine import Flow, Outcome, Step
from conversations.season import pointers
from conversations.texts import account as T
from domain.catalog import NAME_MAX
from domain.messages import Reply
from storage import invites, people
from storage.models import Invite, Unit


class JoinState(TypedDict, total=False):
    code: str
    full_name: str


async def _join(ctx: Ctx, invite: Invite) -> Reply:
    """Make the person a member of the invite's unit with its role (audited): the welcome."""
    assert ctx.person is not None
    unit = await ctx.session.get(Unit, invite.unit_id)
    assert unit is not None
    membership = await people.add_membership(ctx.session, ctx.person, unit, invite.role, ctx.now)
    await ctx.audit("join", "unit", unit.id, {"role": membership.role, "invite": invite.id})
    return Reply(T.welcome(ctx.person.full_name, unit.name, membership.role))


async def finish_join(ctx: Ctx, data: JoinState) -> Outcome:
    try:
        invite = await invites.consume_invite(ctx.session, data["code"], ctx.now)
    except invites.InviteProblem as err:
        # The code expired or ran out while the name was asked: asking again cannot help.
        return Outcome([Reply(T.INVITE_PROBLEMS[err.reason])])
    if ctx.person is None:
        ctx.person = await people.create_person(
            ctx.session, data["full_name"], ctx.channel, ctx.user_id, ctx.display_name, ctx.now
        )
    return Outcome([await _join(ctx, invite)])


JOIN = Flow(
    name="join",
    title="Tham gia",
    confirm=False,
    steps=(
        Step(
            key="full_name",
            label="Họ và tên",
            prompt=T.ASK_NAME,
            parse=text_parser(NAME_MAX, "họ và tên", single_line=True),
        ),
    ),
    finish=finish_join,
)


async def start_command(ctx: Ctx, args: str) -> JoinState | Reply:
    """``/start``: a greeting; ``/start CODE``: join (asking the name on first contact)."""
    code = args.split()[0] if args else ""
    if not code:
        if ctx.person is None:
            return Reply(T.not_invited(ctx.invite_issuer))
        return Reply(T.greeting(full_name=ctx.person.full_name, hints=await pointers(ctx)))
    try:
        pending = await invites.check_invite(ctx.session, code, ctx.now)
    except invites.InviteProblem as err:
        return Reply(T.INVITE_PROBLEMS[err.reason])
    if ctx.person is None:
        return {"code": code}
    held = await people.role_held(ctx.session, ctx.person, pending.unit_id)
    if held is not None and people.ROLE_RANK[held] >= people.ROLE_RANK[pending.role]:
        # Already a member with this role: the invite keeps its use for someone else.
        unit = await ctx.session.get(Unit, pending.unit_id)
        assert unit is not None
        return Reply(T.already_member(held, unit.name, await pointers(ctx)))
    return await _join(ctx, await invites.consume_invite(ctx.session, code, ctx.now))


async def link_command(ctx: Ctx, args: str) -> list[Reply]:
    """``/lienket``: a one-time code; ``/lienket CODE`` on the other platform uses it."""
    code = args.split()[0] if args else ""
    if not code:
        if ctx.person is None:
            return [Reply(T.not_invited(ctx.invite_issuer))]
        link = await invites.create_link_code(ctx.session, ctx.person, ctx.now)
        minutes = int(invites.LINK_CODE_TTL.total_seconds() // 60)
        return [
            Reply(
                T.link_code(code=link.code, others=T.other_channels(ctx.channel), minutes=minutes)
            )
        ]
    try:
        person = await invites.use_link_code(ctx.session, code, ctx.channel, ctx.user_id, ctx.now)
    except invites.InviteProblem as err:
        return [Reply(T.LINK_PROBLEMS[err.reason])]
    if ctx.person is not None and ctx.person.id == person.id:
        return [Reply(T.already_linked(hints=await pointers(ctx)))]
    await ctx.audit("link", "person", person.id, {"channel": ctx.channel}, by=person)
    return [Reply(T.linked(ctx.channel, person.full_name, await pointers(ctx)))]


FLOWS = (JOIN,)
COMMANDS = (
    Command(
        "start",
        "Tham gia bằng mã mời",
        order=0,
        audience=Audience.EVERYONE,
        flow="join",
        start=start_command,
        during_flow=True,
        in_menu=False,
    ),
    Command(
        "lienket",
        "Dùng chung tài khoản trên Telegram và Zalo",
        order=160,
        audience=Audience.EVERYONE,
        run=link_command,
        during_flow=True,
        phrases=(
            "lienket",
            "lien ket",
            "lien ket tai khoan",
            "dung tren zalo",
            "dung tren telegram",
        ),
    ),
)
