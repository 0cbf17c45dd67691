"""A flow engine: step-by-step conversations declared as data.

A flow is a tuple of steps. Each step has a prompt, either choices (answered by button, by
number or by typing the label with or without diacritics) or a parser for free text, or takes a
file; it may be optional or shown only when earlier answers call for it. A step with one choice
only (the one unit a person belongs to, the one model) is answered for the person, who is told.
The engine offers Back, Cancel, Skip (optional steps), "keep the current answer", and a final
summary whose numbered lines are the numbers to type to edit them. Its whole state is plain JSON
in ``conversation_states``, saved after every answer, so a restart or another bot process
continues exactly where the person stopped.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, update
from sqlalchemy.orm.attributes import set_committed_value

from conversations.answers import (
    CONFIRM_WORDS,
    MAX_TEXT,
    Choice,
    InputError,
    Refusal,
    key,
    match_choice,
    nav_word,
)
from conversations.context import Ctx, Data
from conversations.rendering import NAV_CODES, editable_steps, render_state
from conversations.steps import (
    SUMMARY,
    Flow,
    Outcome,
    Prompt,
    StaleState,
    Step,
    choices_of,
    first_missing,
    next_key,
    progress,
    prune,
    visible,
)
from conversations.texts import engine as T
from domain.messages import IncomingMessage, Reply
from storage.models import ConversationState

STATE_VERSION = 2  # states written by an older engine are closed with a notice

# Every answer saves the state: the statement is built once, the values bound each time.
_SAVE_STATE = (
    update(ConversationState)
    .where(
        ConversationState.channel == bindparam("channel_"),
        ConversationState.chat_id == bindparam("chat_"),
        ConversationState.version == bindparam("version_"),
    )
    .values(data=bindparam("data_"), version=bindparam("next_"), updated_at=bindparam("at_"))
    .execution_options(synchronize_session=False)
)


def first_version() -> int:
    """A new flow's first version. Random, so that the buttons of a closed flow (same chat,
    same numbers otherwise) never act in the next one."""
    return 1000 + secrets.randbelow(1_000_000_000)


class _Turn(NamedTuple):
    """A message's turn in an open flow: the flow, its row, and its state being changed."""

    ctx: Ctx
    flow: Flow
    row: ConversationState
    state: Data


class FlowEngine:
    def __init__(self, flows: Sequence[Flow]) -> None:
        self.flows = {f.name: f for f in flows}

    # --- state ---------------------------------------------------------------

    @staticmethod
    async def load(ctx: Ctx) -> ConversationState | None:
        return await ctx.session.get(
            ConversationState, (ctx.channel, ctx.chat_id), populate_existing=True
        )

    def outdated(self, row: ConversationState) -> bool:
        """A state this engine cannot continue: written by an older version, or of a flow that
        no longer exists."""
        return row.data.get("v") != STATE_VERSION or row.flow not in self.flows

    @staticmethod
    def expired(ctx: Ctx, row: ConversationState, ttl: timedelta) -> bool:
        return ctx.now - row.updated_at > ttl

    @staticmethod
    async def _save(ctx: Ctx, row: ConversationState, state: Data) -> None:
        """Write the new state only if nobody changed it since we read it."""
        conn = await ctx.session.connection()  # Core: with values given, the ORM would bulk-update
        result = await conn.execute(
            _SAVE_STATE,
            {
                "channel_": row.channel,
                "chat_": row.chat_id,
                "version_": row.version,
                "data_": state,
                "next_": row.version + 1,
                "at_": ctx.now,
            },
        )
        if result.rowcount != 1:
            raise StaleState
        # Keep the loaded row in step without marking it dirty (no second UPDATE at commit).
        set_committed_value(row, "data", state)
        set_committed_value(row, "version", row.version + 1)

    @staticmethod
    async def close(ctx: Ctx, row: ConversationState) -> None:
        result = await ctx.session.execute(
            delete(ConversationState)
            .where(
                ConversationState.channel == row.channel,
                ConversationState.chat_id == row.chat_id,
                ConversationState.version == row.version,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleState
        ctx.session.expunge(row)

    def is_resting(self, row: ConversationState) -> bool:
        """At a menu step, where closing the flow loses nothing half-written."""
        flow = self.flows.get(row.flow)
        step = row.data.get("step")
        if flow is None or step in (None, SUMMARY):
            return flow is None
        if not flow.step(step).resting:
            return False
        # A picker is a menu until something is answered after it.
        keys = [s.key for s in flow.steps]
        later = keys[keys.index(step) + 1 :]
        data = row.data.get("data", {})
        return not any(k in data for k in later)

    def heading(self, row: ConversationState) -> str:
        flow = self.flows.get(row.flow)
        data = row.data.get("data", {})
        return flow.heading(data) if flow is not None else T.UNKNOWN_FLOW

    async def start(
        self,
        ctx: Ctx,
        flow_name: str,
        data: Data | None = None,
        at_summary: bool = False,
        none_open: bool = False,
    ) -> list[Reply]:
        """Open a flow in the chat, closing the one open there unless the caller knows that
        none is (``none_open``: it has just looked)."""
        flow = self.flows[flow_name]
        if not none_open:
            old = await self.load(ctx)
            if old is not None:
                await self.close(ctx, old)
            await ctx.session.flush()
        state: Data = {
            "v": STATE_VERSION,
            "data": dict(data or {}),
            "step": None,
            "history": [],
            "edit": False,
            "auto": [],
            "counted": [],
        }
        given = set(state["data"])
        notes: list[str] = []
        if at_summary and flow.confirm:
            state["step"] = SUMMARY
        else:
            # Without a summary to review, steps answered up front (``/xuat pl1 2026``) are
            # not asked again.
            first = (
                first_missing(flow, state["data"])
                if not flow.confirm
                else next_key(flow, state["data"], None)
            )
            try:
                state["step"], notes = await self._arrive(ctx, flow, state, first)
            except InputError as err:
                # Nothing to choose from (the only unit has no model…): the flow cannot start.
                return [Reply(err.message)]
        state["counted"] = [
            s.key
            for s in flow.steps
            if not s.follow_up
            and visible(s, state["data"])
            and s.key not in state["auto"]
            and (flow.confirm or s.key not in given)
        ]
        row = ConversationState(
            channel=ctx.channel,
            chat_id=ctx.chat_id,
            person_id=ctx.person.id if ctx.person else None,
            flow=flow_name,
            data=state,
            version=first_version(),
            updated_at=ctx.now,
        )
        ctx.session.add(row)
        await ctx.session.flush()
        if state["step"] is None:
            return [*self._notes(notes), *await self._finish(_Turn(ctx, flow, row, state))]
        return [await self.render(ctx, row, note="\n".join(notes) or None)]

    @staticmethod
    def _notes(notes: list[str]) -> list[Reply]:
        return [Reply("\n".join(notes))] if notes else []

    # --- walking the steps ----------------------------------------------------

    async def _arrive(
        self, ctx: Ctx, flow: Flow, state: Data, step_key: str | None
    ) -> tuple[str | None, list[str]]:
        """The step to ask from ``step_key`` on: a step with a single choice is answered for
        the person (noted); an InputError from its check means the flow cannot go on."""
        data: Data = state["data"]
        notes: list[str] = []
        while step_key not in (None, SUMMARY):
            step = flow.step(step_key)
            if not step.auto_single:
                break
            choices = await choices_of(ctx, step, data)
            if len(choices) != 1:
                break
            data[step.key] = choices[0].value
            if step.after is not None:
                await step.after(ctx, data)
            prune(flow, data)
            state["auto"].append(step.key)
            note = step.auto_note(choices[0], data) if step.auto_note else None
            notes.append(note or T.auto_picked(label=step.label, value=choices[0].label))
            # While editing, and in a flow without a summary, steps answered up front are
            # not asked again.
            step_key = (
                first_missing(flow, data)
                if state["edit"] or not flow.confirm
                else next_key(flow, data, step.key)
            )
        return step_key, notes

    async def render(self, ctx: Ctx, row: ConversationState, note: str | None = None) -> Reply:
        flow = self.flows[row.flow]
        try:
            return await render_state(ctx, flow, row, note)
        except InputError as err:
            # What the step is about is gone (e.g. a record withdrawn from another chat): the
            # flow cannot go on, so it ends with the reason instead of failing on every message.
            await self.close(ctx, row)
            return Reply(T.stopped(reason=err.message, heading=flow.heading(row.data["data"])))

    # --- answering ------------------------------------------------------------

    async def handle(self, ctx: Ctx, row: ConversationState, msg: IncomingMessage) -> list[Reply]:
        flow = self.flows[row.flow]
        state: Data = {
            **row.data,
            "data": dict(row.data["data"]),
            "history": list(row.data["history"]),
            "auto": list(row.data["auto"]),
        }
        turn = _Turn(ctx, flow, row, state)
        try:
            action, payload = self._decode(flow, row, msg)
        except InputError as err:
            return [await self.render(ctx, row, note=err.message)]
        if action == "cancel":
            await self.close(ctx, row)
            kept = flow.kept_on_cancel(state["data"]) if flow.kept_on_cancel else None
            return [Reply(T.cancelled(flow.heading(state["data"]), kept))]
        if action == "back":
            if not state["history"]:
                return [await self.render(ctx, row, note=T.FIRST_STEP)]
            state["step"] = state["history"].pop()
            state["edit"] = False
            await self._save(ctx, row, state)
            return [await self.render(ctx, row)]
        if state["step"] == SUMMARY:
            return await self._answer_summary(turn, action, payload)
        replies = await self._answer_step(turn, action, payload)
        if action == "file_choice" and row.data.get("step") not in (None, SUMMARY):
            # A file sent at a menu: the step it opened takes the same file.
            nxt = flow.step(row.data["step"])
            if nxt.take_file is not None and msg.attachment is not None:
                return await self.handle(ctx, row, msg)
        return replies

    def _decode(self, flow: Flow, row: ConversationState, msg: IncomingMessage) -> tuple[str, Any]:
        """Turn a tap, a file or a typed answer into (action, payload)."""
        if msg.choice is not None:
            tag, _, code = msg.choice.partition(".")
            if tag != str(row.version) or not code:
                raise InputError(T.OLD_BUTTON)
            for action, nav_code in NAV_CODES.items():
                if code == nav_code:
                    return action, None
            if code == "ok":
                return "confirm", None
            if code[0] in "ce" and code[1:].isdecimal():
                return ("choice" if code[0] == "c" else "edit"), int(code[1:])
            raise InputError(T.BAD_BUTTON)
        step_key = row.data.get("step")
        step = flow.step(step_key) if step_key not in (None, SUMMARY) else None
        if msg.attachment is not None:
            if step is not None and step.take_file is not None:
                return "file", (msg.attachment, msg.text)
            if (
                step is not None
                and step.on_file is not None
                and msg.attachment.kind
                in (
                    "photo",
                    "document",
                )
            ):
                return "file_choice", step.on_file
            if not msg.text:
                raise InputError(T.TEXT_ONLY)
        text = msg.text or ""
        if not text.strip():
            raise InputError(T.EMPTY_ANSWER)
        if len(text) > MAX_TEXT:
            raise InputError(T.too_long(length=len(text), limit=MAX_TEXT))
        word = nav_word(text)
        if word is not None:
            return word, None
        return "text", text

    async def _answer_summary(self, turn: _Turn, action: str, payload: Any) -> list[Reply]:
        ctx, flow, row, state = turn
        editable = editable_steps(flow, state["data"])
        if action == "text":
            typed = key(payload)
            if typed in {key(flow.confirm_label), *CONFIRM_WORDS} or (
                not editable and typed in {"1", "co"}
            ):
                action = "confirm"
            else:
                options = [
                    Choice(T.editing(label=s.label), i, aliases=(s.label, f"sua {s.label}"))
                    for i, s in enumerate(editable)
                ]
                picked = match_choice(payload, options)
                if picked is None:
                    note = T.summary_hint(len(editable), flow.confirm_label)
                    return [await self.render(ctx, row, note=note)]
                action, payload = "edit", picked.value
        if action == "confirm":
            return await self._finish(turn)
        if action == "edit" and isinstance(payload, int) and 0 <= payload < len(editable):
            state["history"].append(SUMMARY)
            state["step"] = editable[payload].key
            state["edit"] = True
            await self._save(ctx, row, state)
            return [await self.render(ctx, row)]
        return [await self.render(ctx, row, note=T.SUMMARY_ONLY)]

    async def _answer_step(self, turn: _Turn, action: str, payload: Any) -> list[Reply]:
        ctx, flow, row, state = turn
        step = flow.step(state["step"])
        data: Data = state["data"]
        try:
            if action == "skip":
                if not step.optional:
                    raise InputError(T.NOT_SKIPPABLE)
                value: Any = None
            elif action == "keep":
                if data.get(step.key) is None:
                    raise InputError(T.NOTHING_TO_KEEP)
                value = data[step.key]
            elif action == "choice":
                choices = await choices_of(ctx, step, data)
                if not 0 <= payload < len(choices):
                    raise InputError(T.STALE_CHOICE)
                value = choices[payload].value
            elif action == "file_choice":
                value = payload
            elif action == "file":
                assert step.take_file is not None
                attachment, caption = payload
                value = await step.take_file(ctx, attachment, caption, data)
            elif action == "text":
                value = await self._parse_text(ctx, step, data, payload)
            else:
                raise InputError(T.NOT_HERE)
            data[step.key] = value
            if step.after is not None:
                await step.after(ctx, data)
        except Refusal as err:
            # Not for this person now: the flow ends with the reason (nothing is saved).
            await self.close(ctx, row)
            return [Reply(err.message)]
        except InputError as err:
            # The step is asked again under the reason: nothing entered before is lost.
            return [await self.render(ctx, row, note=err.message)]
        prune(flow, data)
        state["history"].append(step.key)
        if state["edit"]:
            nxt = first_missing(flow, data)
            if nxt == SUMMARY:
                state["edit"] = False
        else:
            nxt = next_key(flow, data, step.key)
        try:
            nxt, notes = await self._arrive(ctx, flow, state, nxt)
        except InputError as err:
            return [await self.render(ctx, row, note=err.message)]
        if nxt is None:
            return [*self._notes(notes), *await self._finish(turn)]
        state["step"] = nxt
        await self._save(ctx, row, state)
        return [await self.render(ctx, row, note="\n".join(notes) or None)]

    async def _parse_text(self, ctx: Ctx, step: Step, data: Data, text: str) -> Any:
        choices = await choices_of(ctx, step, data)
        if choices:
            picked = match_choice(text, choices)
            if picked is not None:
                return picked.value
            # A bare number names a choice, never free text, even where free text is allowed.
            number = key(text).isdecimal()
            if step.parse is None or (number and not step.numbers_are_values):
                raise InputError(T.unknown_choice(text=text, n=len(choices)))
        if step.parse is None:
            raise InputError(T.CHOICES_ONLY)
        return await step.parse(ctx, text, data)

    async def _finish(self, turn: _Turn) -> list[Reply]:
        ctx, flow, row, state = turn
        try:
            outcome = await flow.finish(ctx, state["data"])
        except InputError as err:
            if state["step"] is None or isinstance(err, Refusal):
                await self.close(ctx, row)
                return [Reply(err.message)]
            if row.data != state:
                await self._save(ctx, row, state)
            return [await self.render(ctx, row, note=err.message)]
        await self.close(ctx, row)
        replies = list(outcome.replies)
        if outcome.then is not None:
            name, data, at_summary = outcome.then
            await ctx.session.flush()
            # The row was closed just above: nothing to look for before opening the next.
            replies += await self.start(ctx, name, data, at_summary=at_summary, none_open=True)
        return replies


__all__ = [
    "SUMMARY",
    "Choice",
    "Ctx",
    "Data",
    "Flow",
    "FlowEngine",
    "InputError",
    "Outcome",
    "Prompt",
    "StaleState",
    "Step",
    "match_choice",
    "progress",
]
