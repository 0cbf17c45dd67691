"""A flow engine: step-by-step conversations declared as data.

A flow is a tuple of steps. Each step has a prompt, either choices (answered by button, by
number or by typing the label with or without diacritics) or a parser for free text, and may
be optional or shown only when earlier answers call for it. The engine offers Back, Cancel,
Skip (optional steps), "keep the current answer", and a final summary where any field can be
edited before saving. Its whole state is plain JSON in ``conversation_states``, saved after
every answer, so a restart or another bot process continues exactly where the person stopped.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from domain.messages import IncomingMessage, Option, Reply
from domain.text import fold
from storage.models import ConversationState, Person

Data = dict[str, Any]
SUMMARY = "@summary"
MAX_TEXT = 1000


class InputError(Exception):
    """An answer the step cannot take; the message is shown to the person as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StaleState(Exception):
    """Another message changed this chat's flow first; the caller rolls back."""


@dataclass
class Ctx:
    """What a step or a command may use while handling one message."""

    session: AsyncSession
    person: Person | None
    channel: str
    chat_id: str
    user_id: str
    now: datetime  # timezone-aware
    tz: ZoneInfo
    display_name: str | None = None
    quotas: Mapping[str, int] | None = None  # models expected per unit kind (QUOTAS)

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.tz)


@dataclass(frozen=True)
class Choice:
    label: str
    value: Any  # JSON-serialisable
    aliases: tuple[str, ...] = ()


Prompt = str | Callable[[Ctx, Data], Awaitable[str]]
Choices = Sequence[Choice] | Callable[[Ctx, Data], Awaitable[Sequence[Choice]]]
Parser = Callable[[Ctx, str, Data], Awaitable[Any]]


@dataclass(frozen=True)
class Step:
    key: str
    label: str  # the field's name in the summary
    prompt: Prompt
    choices: Choices | None = None
    parse: Parser | None = None  # free text; with choices, used when no choice matches
    optional: bool = False
    when: Callable[[Data], bool] | None = None
    show: Callable[[Any, Data], str] | None = None
    after: Callable[[Ctx, Data], Awaitable[None]] | None = None  # runs once a value is set
    editable: bool = True  # offered for editing from the summary
    # Keep the value while the step is not asked (the flow filled it in itself, e.g. the only
    # unit a person belongs to); other hidden steps lose their answers.
    keep_hidden: bool = False
    # A typed number beyond the options is a value for ``parse`` (a year), not a bad option.
    numbers_are_values: bool = False


@dataclass(frozen=True)
class Outcome:
    replies: list[Reply]
    # Open another flow at once: (flow name, its data, open at its summary)
    then: tuple[str, Data, bool] | None = None


@dataclass(frozen=True)
class Flow:
    name: str
    title: str
    steps: tuple[Step, ...]
    finish: Callable[[Ctx, Data], Awaitable[Outcome]]
    confirm: bool = True  # show a summary with Save before finishing
    confirm_label: str = "Lưu"
    summary_title: str = "Kiểm tra lại trước khi lưu:"
    title_for: Callable[[Data], str] | None = None

    def step(self, key: str) -> Step:
        for s in self.steps:
            if s.key == key:
                return s
        raise KeyError(key)

    def heading(self, data: Data) -> str:
        return self.title_for(data) if self.title_for else self.title


# What a person may type instead of tapping a navigation button.
NAV_WORDS: Mapping[str, str] = {
    "quay lai": "back",
    "tro lai": "back",
    "lui": "back",
    "huy": "cancel",
    "huy bo": "cancel",
    "thoat": "cancel",
    "bo qua": "skip",
    "giu nguyen": "keep",
    "giu": "keep",
}
NAV_LABELS = {"back": "Quay lại", "skip": "Bỏ qua", "keep": "Giữ nguyên", "cancel": "Hủy"}
NAV_CODES = {"back": "b", "skip": "s", "keep": "k", "cancel": "x"}
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
_NON_WORD = re.compile(r"[^\w ]+")
_PAREN = re.compile(r"\(([^)]*)\)")


def _key(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


def choice_keys(choice: Choice) -> set[str]:
    keys = {_key(choice.label), _key(_PAREN.sub(" ", choice.label))}
    keys.update(_key(m) for m in _PAREN.findall(choice.label))
    keys.update(_key(a) for a in choice.aliases)
    keys.discard("")
    return keys


def match_choice(text: str, choices: Sequence[Choice]) -> Choice | None:
    """The choice a typed answer names: its number, its label (any case, diacritics or not),
    an alias, or an unambiguous beginning of a label."""
    answer = _key(text)
    if not answer:
        return None
    if answer.isdecimal():  # not isdigit(): int() cannot read "²" or "①"
        n = int(answer)
        return choices[n - 1] if 1 <= n <= len(choices) else None
    exact = [c for c in choices if answer in choice_keys(c)]
    if len(exact) == 1:
        return exact[0]
    if len(answer) >= 3:
        prefix = [c for c in choices if any(k.startswith(answer) for k in choice_keys(c))]
        if len(prefix) == 1:
            return prefix[0]
    return None


def nav_word(text: str) -> str | None:
    return NAV_WORDS.get(_key(text))


def first_version() -> int:
    """A new flow's first version. Random, so that the buttons of a closed flow (same chat,
    same numbers otherwise) never act in the next one."""
    return 1000 + secrets.randbelow(1_000_000_000)


def progress(flow: Flow, data: Data, key: str) -> tuple[int, int]:
    visible = [s.key for s in flow.steps if s.when is None or s.when(data)]
    return (visible.index(key) + 1 if key in visible else len(visible)), len(visible)


class FlowEngine:
    def __init__(self, flows: Sequence[Flow]) -> None:
        self.flows = {f.name: f for f in flows}

    # --- state ---------------------------------------------------------------

    @staticmethod
    async def load(ctx: Ctx) -> ConversationState | None:
        return await ctx.session.get(
            ConversationState, (ctx.channel, ctx.chat_id), populate_existing=True
        )

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
        state: Data = {"data": dict(data or {}), "step": None, "history": [], "edit": False}
        if at_summary and flow.confirm:
            state["step"] = SUMMARY
        elif not flow.confirm:
            # Without a summary to review, steps answered up front (``/xuat pl1 2026``) are
            # not asked again.
            state["step"] = self._first_missing(flow, state["data"])
        else:
            state["step"] = self._next_key(flow, state["data"], None)
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
            return await self._finish(ctx, flow, row, state)
        return [await self.render(ctx, row)]

    # --- walking the steps ----------------------------------------------------

    @staticmethod
    def _visible(step: Step, data: Data) -> bool:
        return step.when is None or step.when(data)

    def _next_key(self, flow: Flow, data: Data, after: str | None) -> str | None:
        keys = [s.key for s in flow.steps]
        start = 0 if after is None else keys.index(after) + 1
        for s in flow.steps[start:]:
            if self._visible(s, data):
                return s.key
        return SUMMARY if flow.confirm else None

    def _first_missing(self, flow: Flow, data: Data) -> str | None:
        for s in flow.steps:
            # A required answer held as None (e.g. filled in from a record) is still missing.
            if self._visible(s, data) and (
                s.key not in data or (data[s.key] is None and not s.optional)
            ):
                return s.key
        return SUMMARY if flow.confirm else None

    def _prune(self, flow: Flow, data: Data) -> None:
        """Forget answers to steps that earlier answers no longer call for."""
        for s in flow.steps:
            if not s.keep_hidden and not self._visible(s, data):
                data.pop(s.key, None)

    @staticmethod
    async def _choices(ctx: Ctx, step: Step, data: Data) -> Sequence[Choice]:
        if step.choices is None:
            return ()
        if callable(step.choices):
            return await step.choices(ctx, data)
        return step.choices

    def show_value(self, step: Step, data: Data) -> str:
        value = data.get(step.key)
        if value is None:
            return "(bỏ trống)"
        if step.show is not None:
            return step.show(value, data)
        return str(value)

    def summary_lines(self, flow: Flow, data: Data) -> list[str]:
        return [
            f"• {s.label}: {self.show_value(s, data)}" for s in flow.steps if self._visible(s, data)
        ]

    def _editable(self, flow: Flow, data: Data) -> list[Step]:
        return [s for s in flow.steps if s.editable and self._visible(s, data)]

    async def render(self, ctx: Ctx, row: ConversationState, note: str | None = None) -> Reply:
        flow = self.flows[row.flow]
        state = row.data
        data: Data = state["data"]
        tag = str(row.version)
        head = [note, ""] if note else []
        nav: list[Option] = []
        if state["step"] == SUMMARY:
            lines = [*head, f"{flow.heading(data)} — {flow.summary_title}"]
            lines += self.summary_lines(flow, data)
            options = [Option(f"✅ {flow.confirm_label}", f"{tag}.ok")]
            options += [
                Option(f"Sửa: {s.label}", f"{tag}.e{i}")
                for i, s in enumerate(self._editable(flow, data))
            ]
            if state["history"]:
                nav.append(Option(NAV_LABELS["back"], f"{tag}.b"))
            nav.append(Option(NAV_LABELS["cancel"], f"{tag}.x"))
            return Reply("\n".join(lines), tuple(options), tuple(nav))
        step = flow.step(state["step"])
        n, total = progress(flow, data, step.key)
        try:
            prompt = step.prompt if isinstance(step.prompt, str) else await step.prompt(ctx, data)
            choices = await self._choices(ctx, step, data)
        except InputError as err:
            # What the step is about is gone (e.g. a record withdrawn from another chat): the
            # flow cannot go on, so it ends with the reason instead of failing on every message.
            await self.close(ctx, row)
            return Reply(f"{err.message}\nĐã dừng “{flow.heading(data)}”.")
        lines = [*head, f"{flow.heading(data)} — Bước {n}/{total}", prompt]
        if data.get(step.key) is not None:
            lines.append(f"(Hiện tại: {self.show_value(step, data)})")
        options = [Option(c.label, f"{tag}.c{i}") for i, c in enumerate(choices)]
        if step.key in data and data.get(step.key) is not None:
            nav.append(Option(NAV_LABELS["keep"], f"{tag}.k"))
        if state["history"]:
            nav.append(Option(NAV_LABELS["back"], f"{tag}.b"))
        if step.optional:
            nav.append(Option(NAV_LABELS["skip"], f"{tag}.s"))
        nav.append(Option(NAV_LABELS["cancel"], f"{tag}.x"))
        return Reply("\n".join(lines), tuple(options), tuple(nav))

    # --- answering ------------------------------------------------------------

    async def handle(self, ctx: Ctx, row: ConversationState, msg: IncomingMessage) -> list[Reply]:
        flow = self.flows[row.flow]
        state: Data = {
            "data": dict(row.data["data"]),
            "step": row.data["step"],
            "history": list(row.data["history"]),
            "edit": row.data.get("edit", False),
        }
        try:
            action, payload = self._decode(row, msg)
        except InputError as err:
            return [await self.render(ctx, row, note=err.message)]
        if action == "cancel":
            await self.close(ctx, row)
            return [Reply(f"Đã hủy “{flow.heading(state['data'])}”. Không có gì được lưu.")]
        if action == "back":
            if not state["history"]:
                return [await self.render(ctx, row, note="Đây đã là bước đầu tiên.")]
            state["step"] = state["history"].pop()
            state["edit"] = False
            await self._save(ctx, row, state)
            return [await self.render(ctx, row)]
        if state["step"] == SUMMARY:
            return await self._answer_summary(ctx, flow, row, state, action, payload)
        return await self._answer_step(ctx, flow, row, state, action, payload)

    def _decode(self, row: ConversationState, msg: IncomingMessage) -> tuple[str, Any]:
        """Turn a tap or a typed answer into (action, payload)."""
        if msg.choice is not None:
            tag, _, code = msg.choice.partition(".")
            if tag != str(row.version) or not code:
                raise InputError(
                    "Nút bấm này thuộc một tin nhắn cũ nên không còn hiệu lực. "
                    "Bạn đang ở bước dưới đây:"
                )
            for action, nav_code in NAV_CODES.items():
                if code == nav_code:
                    return action, None
            if code == "ok":
                return "confirm", None
            if code[0] in "ce" and code[1:].isdecimal():
                return ("choice" if code[0] == "c" else "edit"), int(code[1:])
            raise InputError("Nút bấm này không hợp lệ. Bạn đang ở bước dưới đây:")
        if msg.attachment is not None and not msg.text:
            raise InputError(
                "Ở bước này cần trả lời bằng chữ (ảnh, nhãn dán hay tệp không dùng được ở đây)."
            )
        text = msg.text or ""
        if not text.strip():
            raise InputError("Câu trả lời đang để trống, vui lòng nhập lại.")
        if len(text) > MAX_TEXT:
            raise InputError(
                f"Câu trả lời dài {len(text)} ký tự, vượt quá {MAX_TEXT} ký tự cho phép. "
                "Vui lòng rút gọn rồi gửi lại."
            )
        word = nav_word(text)
        if word is not None:
            return word, None
        return "text", text

    async def _answer_summary(
        self,
        ctx: Ctx,
        flow: Flow,
        row: ConversationState,
        state: Data,
        action: str,
        payload: Any,
    ) -> list[Reply]:
        editable = self._editable(flow, state["data"])
        if action == "text":
            key = _key(payload)
            if key in {_key(flow.confirm_label), "ok", "dong y", "xac nhan", "luu"}:
                action = "confirm"
            else:
                options = [Choice(flow.confirm_label, "ok")] + [
                    Choice(f"Sửa: {s.label}", i, aliases=(s.label, f"sua {s.label}"))
                    for i, s in enumerate(editable)
                ]
                picked = match_choice(payload, options)
                if picked is None:
                    return [
                        await self.render(
                            ctx,
                            row,
                            note="Chưa rõ lựa chọn. Trả lời 1 để lưu, hoặc số của mục cần sửa.",
                        )
                    ]
                action, payload = (
                    ("confirm", None)
                    if picked.value == "ok"
                    else (
                        "edit",
                        picked.value,
                    )
                )
        if action == "confirm":
            return await self._finish(ctx, flow, row, state)
        if action == "edit" and isinstance(payload, int) and 0 <= payload < len(editable):
            state["history"].append(SUMMARY)
            state["step"] = editable[payload].key
            state["edit"] = True
            await self._save(ctx, row, state)
            return [await self.render(ctx, row)]
        return [await self.render(ctx, row, note="Ở bước này chỉ có thể lưu hoặc chọn mục để sửa.")]

    async def _answer_step(
        self,
        ctx: Ctx,
        flow: Flow,
        row: ConversationState,
        state: Data,
        action: str,
        payload: Any,
    ) -> list[Reply]:
        step = flow.step(state["step"])
        data: Data = state["data"]
        try:
            if action == "skip":
                if not step.optional:
                    raise InputError("Bước này bắt buộc, không bỏ qua được.")
                value: Any = None
            elif action == "keep":
                if data.get(step.key) is None:
                    raise InputError("Bước này chưa có câu trả lời để giữ nguyên.")
                value = data[step.key]
            elif action == "choice":
                choices = await self._choices(ctx, step, data)
                if not 0 <= payload < len(choices):
                    raise InputError("Lựa chọn này không còn hiệu lực. Vui lòng chọn lại:")
                value = choices[payload].value
            elif action == "text":
                value = await self._parse_text(ctx, step, data, payload)
            else:
                raise InputError("Thao tác này không dùng được ở bước này.")
            data[step.key] = value
            if step.after is not None:
                await step.after(ctx, data)
        except InputError as err:
            return [await self.render(ctx, row, note=err.message)]
        self._prune(flow, data)
        state["history"].append(step.key)
        if state["edit"]:
            nxt = self._first_missing(flow, data)
            if nxt == SUMMARY:
                state["edit"] = False
                # Back from the summary returns to the step just edited.
        else:
            nxt = self._next_key(flow, data, step.key)
        if nxt is None:
            return await self._finish(ctx, flow, row, state)
        state["step"] = nxt
        await self._save(ctx, row, state)
        return [await self.render(ctx, row)]

    async def _parse_text(self, ctx: Ctx, step: Step, data: Data, text: str) -> Any:
        choices = await self._choices(ctx, step, data)
        if choices:
            picked = match_choice(text, choices)
            if picked is not None:
                return picked.value
            # A bare number names a choice, never free text, even where free text is allowed.
            number = _key(text).isdecimal()
            if step.parse is None or (number and not step.numbers_are_values):
                n = len(choices)
                raise InputError(
                    f"Chưa nhận ra lựa chọn “{text}”. Vui lòng trả lời số từ 1 đến {n} "
                    "hoặc gõ đúng tên lựa chọn."
                )
        if step.parse is None:
            raise InputError("Bước này chỉ nhận lựa chọn trong danh sách.")
        return await step.parse(ctx, text, data)

    async def _finish(
        self, ctx: Ctx, flow: Flow, row: ConversationState, state: Data
    ) -> list[Reply]:
        try:
            outcome = await flow.finish(ctx, state["data"])
        except InputError as err:
            if state["step"] is None:
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


def text_parser(max_len: int = MAX_TEXT, what: str = "nội dung", min_len: int = 1) -> Parser:
    """A parser for free text with a length limit and a clear message."""

    async def parse(_ctx: Ctx, text: str, _data: Data) -> str:
        value = text.strip()
        if len(value) < min_len:
            raise InputError(f"Vui lòng nhập {what}.")
        if len(value) > max_len:
            raise InputError(
                f"{what.capitalize()} dài {len(value)} ký tự, vượt quá {max_len} ký tự. "
                "Vui lòng rút gọn."
            )
        return value

    return parse


__all__ = [
    "SUMMARY",
    "Choice",
    "Ctx",
    "Data",
    "Flow",
    "FlowEngine",
    "InputError",
    "Outcome",
    "StaleState",
    "Step",
    "match_choice",
    "text_parser",
]
