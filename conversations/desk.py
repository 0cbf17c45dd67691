"""/web: a leader's one-time sign-in link to the read-only web page of their subtree
(served by the bot's own web server, ``bot/desk.py``)."""

from __future__ import annotations

from urllib.parse import urlencode

from conversations.commands import Audience, Command
from conversations.context import Ctx
from conversations.texts import desk as T
from domain.messages import Reply
from storage import desk

LOGIN_PATH = "/desk/login"


def login_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}{LOGIN_PATH}?{urlencode({'t': token})}"


async def web_command(ctx: Ctx, _args: str) -> list[Reply]:
    if not ctx.web_base:
        return [Reply(T.NO_WEB)]
    assert ctx.person is not None
    link = await desk.create_link(ctx.session, ctx.person, ctx.now)
    minutes = int(desk.LINK_TTL.total_seconds() // 60)
    until = link.expires_at.astimezone(ctx.tz).strftime("%H:%M %d/%m/%Y")
    return [
        Reply(T.sign_in_link(url=login_url(ctx.web_base, link.token), minutes=minutes, until=until))
    ]


FLOWS = ()
COMMANDS = (
    Command(
        "web",
        "Lãnh đạo: xem tình hình trên trang web (đường dẫn đăng nhập một lần)",
        order=95,
        audience=Audience.LEADERS,
        run=web_command,
        during_flow=True,
        refusal=T.REFUSED,
        phrases=("web", "trang web", "xem tren web", "xem tren may tinh", "dang nhap web"),
    ),
)
