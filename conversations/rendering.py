"""How the state of a flow reads as a message: the step's question with "Bước k/n", its
current answer and the buttons, or the numbered summary before saving."""

from __future__ import annotations

from conversations.context import Ctx, Data
from conversations.steps import (
    SUMMARY,
    Flow,
    Step,
    choices_of,
    progress,
    visible,
)
from conversations.texts import engine as T
from domain.messages import Option, Reply
from storage.models import ConversationState

NAV_CODES = {"back": "b", "skip": "s", "keep": "k", "cancel": "x"}


async def show_value(ctx: Ctx, step: Step, data: Data) -> str:
    value = data.get(step.key)
    if value is None:
        return T.EMPTY
    if step.show is not None:
        return step.show(value, data)
    if step.choices is not None:
        # The label the person chose, never the value behind it (an id).
        for choice in await choices_of(ctx, step, data):
            if choice.value == value:
                return choice.label
    return str(value)


def editable_steps(flow: Flow, data: Data) -> list[Step]:
    return [s for s in flow.steps if s.editable and visible(s, data)]


async def render_state(
    ctx: Ctx, flow: Flow, row: ConversationState, note: str | None = None
) -> Reply:
    """The message that asks the current step (or shows the summary). An InputError from
    the step's prompt or choices (what it is about is gone) is the caller's to handle."""
    state = row.data
    data: Data = state["data"]
    tag = str(row.version)
    head = [note, ""] if note else []
    nav: list[Option] = []
    if state["step"] == SUMMARY:
        editable = editable_steps(flow, data)
        lines = [*head, f"{flow.heading(data)} — {flow.summary_title}"]
        for s in flow.steps:
            if visible(s, data):
                mark = f"{editable.index(s) + 1}." if s in editable else "•"
                lines.append(f"{mark} {s.label}: {await show_value(ctx, s, data)}")
        options = [Option(T.editing(label=s.label), f"{tag}.e{i}") for i, s in enumerate(editable)]
        nav.append(Option(T.confirm_button(label=flow.confirm_label), f"{tag}.ok"))
        if state["history"]:
            nav.append(Option(T.NAV_LABELS["back"], f"{tag}.b"))
        nav.append(Option(T.NAV_LABELS["cancel"], f"{tag}.x"))
        return Reply("\n".join(lines), tuple(options), tuple(nav), listed=True)
    step = flow.step(state["step"])
    prompt = step.prompt if isinstance(step.prompt, str) else await step.prompt(ctx, data)
    choices = await choices_of(ctx, step, data)
    if state["edit"]:
        header = f"{flow.heading(data)} — {T.editing(label=step.label)}"
    elif flow.numbered:
        k, n, more = progress(flow, state, step.key)
        header = f"{flow.heading(data)} — {T.step_of(k, n, more)}"
    else:
        header = flow.heading(data)
    lines = [*head, header, prompt]
    if data.get(step.key) is not None and step.take_file is None:
        lines.append(T.current(value=await show_value(ctx, step, data)))
    options = [Option(c.label, f"{tag}.c{i}") for i, c in enumerate(choices)]
    if data.get(step.key) is not None:
        nav.append(Option(T.NAV_LABELS["keep"], f"{tag}.k"))
    if state["history"]:
        nav.append(Option(T.NAV_LABELS["back"], f"{tag}.b"))
    if step.optional:
        nav.append(Option(T.NAV_LABELS["skip"], f"{tag}.s"))
    nav.append(Option(T.NAV_LABELS["cancel"], f"{tag}.x"))
    return Reply("\n".join(lines), tuple(options), tuple(nav))
