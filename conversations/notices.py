"""Telling a unit's officers what a leader did (a decision on their model, a deadline reopened
for them): one outbox message per account on the channels that can write first."""

from __future__ import annotations

from collections.abc import Iterable

from conversations.context import Ctx
from scheduler.outbox import Outgoing, enqueue
from storage import people
from storage.models import Person, Unit

NO_NOTICE_CHANNELS = ("terminal",)  # nobody is waiting at a terminal for a notice


async def notify_officers(
    ctx: Ctx, unit: Unit, text: str, topic: str, also: Iterable[int | None] = ()
) -> list[str]:
    """Write ``text`` to the outbox for the unit's officers (and the people in ``also``),
    except the person acting, on each of their accounts; ``topic`` makes the keys unique
    (e.g. "review:12:recognised"). Returns the names of the people notified."""
    assert ctx.person is not None
    ids: list[int] = []
    for person_id in (*also, *await people.officers_of_unit(ctx.session, unit.id)):
        if person_id is not None and person_id != ctx.person.id and person_id not in ids:
            ids.append(person_id)
    accounts = [
        a for a in await people.accounts_of(ctx.session, ids) if a.channel not in NO_NOTICE_CHANNELS
    ]
    stamp = ctx.now.strftime("%Y%m%dT%H%M%S%f")
    messages = [
        Outgoing(
            key=f"{topic}:{stamp}:p{a.person_id}:{a.channel}:{a.external_id}",
            channel=a.channel,
            chat_id=a.external_id,
            text=text,
            kind="notice",
            person_id=a.person_id,
        )
        for a in accounts
    ]
    await enqueue(ctx.session, messages, ctx.now)
    notified = {a.person_id for a in accounts}
    names = []
    for person_id in ids:
        if person_id in notified:
            person = await ctx.session.get(Person, person_id)
            if person is not None:
                names.append(person.full_name)
    return names
