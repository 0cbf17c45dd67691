"""The one entry point: ``Core.handle(IncomingMessage) -> list[Reply]``.

It routes a message to the chat's open flow or to a command (``handlers/help.py`` lists them,
from their declarations beside each flow), checks who may use it, and returns replies; it
never sends. How the message is taken in — once, in order, in one transaction — is
``handlers/intake.py``'s.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.commands import Audience, Command
from conversations.context import Ctx
from conversations.deadlines import DEADLINES_CHANGED
from conversations.registry import ENGINE
from conversations.season import hint, pointers
from conversations.texts.account import DEFAULT_INVITE_ISSUER, not_invited
from domain import logcontext
from domain.messages import IncomingMessage, Reply
from domain.text import clean, fold, without_controls
from handlers import plain
from handlers import texts as T
from handlers.help import ALL_COMMANDS, MENU, may_use
from handlers.intake import Failed, Intake
from scheduler import outbox
from scheduler.floods import Admit, Bursts
from storage import people
from storage.evidence import MB, EvidenceStore
from storage.models import ConversationState

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Told after each message: the message, its replies, the seconds it took, whether it failed.
Handled = Callable[[IncomingMessage, list[Reply], float, bool], None]
DEFAULT_FLOW_DAYS = 7  # an abandoned flow is closed after this long (FLOW_EXPIRY_DAYS)
STRANGERS_KEPT = 4096  # chats of people the bot does not know, remembered for the bursts
_NAMES: dict[str, Command] = {
    name: command for command in ALL_COMMANDS for name in (command.name, *command.aliases)
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_cancel(text: str | None) -> bool:
    """``/huy`` (or ``/cancel``) or the word “hủy” typed on its own."""
    if not text:
        return False
    word = fold(text)
    return word in {"huy", "/huy", "/cancel", "cancel"} or word.startswith(("/huy@", "/cancel@"))


def scrubbed(msg: IncomingMessage) -> IncomingMessage:
    """``msg`` with the control characters removed from everything a person typed or a
    platform named (line breaks and tabs kept), before anything of it is stored."""

    def scrub(value: str | None) -> str | None:
        return without_controls(value) if value else value

    attachment = msg.attachment
    if attachment is not None and attachment.file_name:
        attachment = replace(attachment, file_name=scrub(attachment.file_name))
    return replace(
        msg,
        text=scrub(msg.text),
        choice=scrub(msg.choice),
        display_name=scrub(msg.display_name),
        attachment=attachment,
    )


def parse_command(text: str) -> tuple[str, str]:
    head, _, rest = text.partition(" ")
    return head[1:].split("@", 1)[0].lower(), rest.strip()


class Core:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        timezone: str = "Asia/Ho_Chi_Minh",
        clock: Clock = utcnow,
        quotas: Mapping[str, int] | None = None,
        on_deadlines_changed: Callable[[], None] | None = None,
        on_outbox: Callable[[], None] | None = None,
        files_dir: str | Path = "dvk-files",
        max_evidence_mb: float = 20.0,
        flow_days: float = DEFAULT_FLOW_DAYS,
        invite_issuer: str = DEFAULT_INVITE_ISSUER,
        web_base_url: str | None = None,
        on_handled: Handled | None = None,
        bursts: Bursts | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.tz = ZoneInfo(timezone)
        self.clock = clock
        self.quotas = quotas
        # Called after a message changed a deadline (/hanchot) and was committed: the
        # reminder planner reschedules.
        self.on_deadlines_changed = on_deadlines_changed
        # Called after a message's transaction wrote to the outbox (e.g. the notice of a
        # review decision), so the senders deliver it now rather than at their next poll.
        self.on_outbox = on_outbox
        # Called after each message (`dvk run`'s metrics).
        self.on_handled = on_handled
        self.engine = ENGINE
        # FILES_DIR: evidence (/minhchung) is kept under it; channels put incoming files there.
        self.files_dir = Path(files_dir)
        self.files = EvidenceStore(self.files_dir, int(max_evidence_mb * MB))
        self.flow_ttl = timedelta(days=flow_days)
        self.intake = Intake(sessionmaker, clock)
        self.invite_issuer = invite_issuer
        # PUBLIC_BASE_URL: where the bot's web server is reached (/web's sign-in links).
        self.web_base_url = web_base_url
        # Messages one chat may send per minute (CHAT_BURST, STRANGER_BURST); None: no limit.
        self.bursts = bursts
        self._strangers: OrderedDict[tuple[str, str], None] = OrderedDict()

    @property
    def menu(self) -> tuple[tuple[str, str], ...]:
        return MENU

    async def handle(self, msg: IncomingMessage) -> list[Reply]:
        msg = scrubbed(msg)
        # Every log line of this message names its update and chat.
        logcontext.bind(channel=msg.channel, chat=msg.chat_id, update=msg.update_id)
        started = time.perf_counter()
        replies: list[Reply] = []
        try:
            async with self.intake.turn(msg):
                admit = self._admit(msg)
                if admit is Admit.NOTICE:
                    replies = [Reply(T.TOO_FAST)]
                elif admit is Admit.DROP:
                    replies = []
                else:
                    replies = await self._handle_with_retry(msg)
            return replies
        finally:
            if self.on_handled is not None:
                first = replies[0].text if replies else ""
                failed = first == T.SORRY or first.startswith(f"{T.DROPPED}\n")
                self.on_handled(msg, replies, time.perf_counter() - started, failed)

    def _admit(self, msg: IncomingMessage) -> Admit:
        """Within the chat's limit of messages per minute (taken in the chat's turn, when the
        earlier messages have shown whether the bot knows who writes)."""
        if self.bursts is None:
            return Admit.YES
        key = (msg.channel, msg.chat_id)
        admit = self.bursts.admit(key, time.monotonic(), stranger=key in self._strangers)
        if admit is not Admit.YES:
            log.info("a burst from %s chat %s: message %s", *key, admit.value)
        return admit

    def _note_stranger(self, msg: IncomingMessage, stranger: bool) -> None:
        key = (msg.channel, msg.chat_id)
        if not stranger:
            self._strangers.pop(key, None)
            return
        self._strangers[key] = None
        self._strangers.move_to_end(key)
        if len(self._strangers) > STRANGERS_KEPT:
            self._strangers.popitem(last=False)

    async def _handle_with_retry(self, msg: IncomingMessage) -> list[Reply]:
        try:
            return await self.intake.in_transaction(msg, self._handle, self._after_commit)
        except Failed:
            return [Reply(T.SORRY)]
        except Exception:
            log.exception("error while handling a message")
            if is_cancel(msg.text) and await self.intake.drop_flow(msg):
                return [Reply(f"{T.DROPPED}\n{hint([])}")]
            return [Reply(T.SORRY)]

    def _after_commit(self, session: AsyncSession) -> None:
        """Run the hooks a committed message asked for (flags in ``session.info``)."""
        for flag, hook in (
            (DEADLINES_CHANGED, self.on_deadlines_changed),
            (outbox.WRITTEN, self.on_outbox),
        ):
            if session.info.pop(flag, False) and hook is not None:
                try:
                    hook()
                except Exception:
                    log.exception("the %s hook failed", flag)

    async def _handle(self, session: AsyncSession, msg: IncomingMessage) -> list[Reply]:
        text = clean(msg.text) if msg.text else None
        msg = replace(msg, text=text)
        person, row = await people.person_and_state(session, msg.channel, msg.user_id, msg.chat_id)
        if self.bursts is not None:
            self._note_stranger(msg, person is None)
        ctx = Ctx(
            session=session,
            person=person,
            channel=msg.channel,
            chat_id=msg.chat_id,
            user_id=msg.user_id,
            now=self.clock(),
            tz=self.tz,
            display_name=msg.display_name,
            quotas=self.quotas,
            files=self.files,
            message=msg,
            invite_issuer=self.invite_issuer,
            web_base=self.web_base_url,
        )
        notes: list[Reply] = []
        if row is not None and (
            self.engine.outdated(row) or self.engine.expired(ctx, row, self.flow_ttl)
        ):
            notes.append(Reply(self._closed_text(ctx, row)))
            await self.engine.close(ctx, row)
            await session.flush()
            row = None
        return notes + await self._route(ctx, msg, row)

    def _closed_text(self, ctx: Ctx, row: ConversationState) -> str:
        heading = self.engine.heading(row)
        if self.engine.outdated(row):
            return T.outdated(heading=heading)
        since = row.updated_at.astimezone(ctx.tz).strftime("%d/%m/%Y")
        return T.expired(heading=heading, since=since, days=self.flow_ttl.days)

    async def _route(
        self, ctx: Ctx, msg: IncomingMessage, row: ConversationState | None
    ) -> list[Reply]:
        text = msg.text
        if text and text.startswith("/") and msg.choice is None:
            name, args = parse_command(text)
            return await self._command(ctx, name, args, row)
        if row is not None:
            return await self.engine.handle(ctx, row, msg)
        if ctx.person is None:
            return [Reply(not_invited(ctx.invite_issuer))]
        if msg.choice is not None:
            return [Reply(f"{T.OLD_BUTTON}\n{await pointers(ctx)}")]
        if not text:
            return await plain.not_understood(ctx)
        return await plain.answer(ctx, text, self._as_typed)

    async def _as_typed(self, ctx: Ctx, name: str, args: str) -> list[Reply]:
        """A command asked for in plain words, run as if typed with its slash."""
        return await self._command(ctx, name, args, await self.engine.load(ctx))

    async def _command(
        self, ctx: Ctx, name: str, args: str, row: ConversationState | None
    ) -> list[Reply]:
        command = _NAMES.get(name)
        if ctx.person is None and (command is None or command.audience > Audience.EVERYONE):
            return [Reply(not_invited(ctx.invite_issuer))]
        if command is None:
            return await plain.mistyped_command(ctx, name)
        if not await may_use(ctx, command):
            return [Reply(command.refusal or T.refused(name=command.name))]
        if row is not None and not command.during_flow:
            if not self.engine.is_resting(row):
                note = T.busy(heading=self.engine.heading(row), name=command.name)
                return [await self.engine.render(ctx, row, note=note)]
            # A menu left open (the /minhchung list): nothing half-written to lose.
            await self.engine.close(ctx, row)
            await ctx.session.flush()
            row = None
        if command.run is not None:
            return await command.run(ctx, args)
        assert command.start is not None
        assert command.flow is not None
        initial = await command.start(ctx, args)
        if isinstance(initial, Reply):
            return [initial]
        return await self.engine.start(ctx, command.flow, dict(initial), none_open=row is None)


__all__ = ["MENU", "Core", "is_cancel", "parse_command", "scrubbed", "utcnow"]
