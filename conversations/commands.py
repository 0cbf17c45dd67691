"""A chat command, declared once beside its flow: its name and the other names it answers
to, who may use it, its line in the help and its place in the platform's menu, and what it
does — open a flow (``flow`` with its ``start``) or answer at once (``run``). The core routes,
the help and the menu are written from these declarations (``conversations/registry.py``
gathers them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sized
from dataclasses import dataclass
from enum import IntEnum

from conversations.context import Ctx
from domain.messages import Reply


class Audience(IntEnum):
    """Who may use a command, from the widest."""

    EVERYONE = 0  # strangers too (joining, linking an account)
    MEMBERS = 1  # anyone invited into a unit
    LEADERS = 2  # leaders and admins
    ADMINS = 3


# The flow's initial state, or a reply saying why it cannot start.
Starter = Callable[[Ctx, str], Awaitable[Mapping[str, object] | Reply]]


def start_when(found: Callable[[Ctx], Awaitable[Sized]], none: str) -> Starter:
    """A flow that opens when ``found`` has something for the person, else says ``none``."""

    async def start(ctx: Ctx, _args: str = "") -> Mapping[str, object] | Reply:
        return {} if await found(ctx) else Reply(none)

    return start


Runner = Callable[[Ctx, str], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Command:
    name: str  # typed after "/": "dangky"
    help: str  # one line of /trogiup and of the platform's menu
    order: int  # place in the menu and the help, smallest first
    audience: Audience = Audience.MEMBERS
    aliases: tuple[str, ...] = ()  # other names typed after "/", e.g. "help"
    flow: str | None = None  # the flow it opens, given ``start``'s data …
    start: Starter | None = None
    run: Runner | None = None  # … or what it answers at once
    during_flow: bool = False  # may be asked in the middle of a flow (a report)
    refusal: str | None = None  # said to those outside the audience
    in_menu: bool = True
    # Plain words that ask for it (without the slash; folded when compared), beside its name.
    phrases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.flow is None) == (self.run is None):
            raise ValueError(f"/{self.name}: a command opens a flow or runs, not both")
