"""What a flow is made of: steps, declared as data, and the outcome of finishing one.

A step has a prompt, either choices (answered by button, by number or by typing the label with
or without diacritics) or a parser for free text, or takes a file; it may be optional or shown
only when earlier answers call for it. ``conversations/engine.py`` walks them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from conversations.answers import Choice
from conversations.context import Ctx, Data
from conversations.texts import engine as T
from domain.messages import Attachment, Reply

SUMMARY = "@summary"

Prompt = str | Callable[[Ctx, Any], Awaitable[str]]
Choices = Sequence[Choice] | Callable[[Ctx, Any], Awaitable[Sequence[Choice]]]
Parser = Callable[[Ctx, str, Any], Awaitable[Any]]
FileTaker = Callable[[Ctx, Attachment, str | None, Any], Awaitable[Any]]


class StaleState(Exception):
    """Another message changed this chat's flow first; the caller rolls back."""


@dataclass(frozen=True)
class Step:
    key: str
    label: str  # the field's name in the summary
    prompt: Prompt
    choices: Choices | None = None
    parse: Parser | None = None  # free text; with choices, used when no choice matches
    optional: bool = False
    when: Callable[[Any], bool] | None = None
    show: Callable[[Any, Any], str] | None = None
    after: Callable[[Ctx, Any], Awaitable[None]] | None = None  # runs once a value is set
    editable: bool = True  # offered for editing from the summary
    # Keep the value while the step is not asked (the flow filled it in itself); other hidden
    # steps lose their answers.
    keep_hidden: bool = False
    # A typed number beyond the options is a value for ``parse`` (a year), not a bad option.
    numbers_are_values: bool = False
    # With one choice only, the engine answers for the person and says so (unit, model).
    auto_single: bool = False
    auto_note: Callable[[Choice, Any], str] | None = None
    take_file: FileTaker | None = None  # a file or photo is the answer
    on_file: Any = None  # the choice a file sent here makes; the file goes to the next step
    resting: bool = False  # a menu: another command may close it, nothing is lost
    follow_up: bool = False  # asked because of the step before: shares its number


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
    finish: Callable[[Ctx, Any], Awaitable[Outcome]]
    confirm: bool = True  # show a summary with Save before finishing
    confirm_label: str = T.SAVE
    summary_title: str = T.CHECK_BEFORE_SAVE
    title_for: Callable[[Any], str] | None = None
    # Shown to a person who cancels after earlier parts were saved (evidence added…).
    kept_on_cancel: Callable[[Any], str | None] | None = None
    # "Bước k/n" in each question; a menu, whose steps depend on what is chosen, has none.
    numbered: bool = True

    def step(self, key: str) -> Step:
        for s in self.steps:
            if s.key == key:
                return s
        raise KeyError(key)

    def heading(self, data: Data) -> str:
        return self.title_for(data) if self.title_for else self.title


def visible(step: Step, data: Data) -> bool:
    return step.when is None or step.when(data)


def progress(flow: Flow, state: Data, key: str) -> tuple[int, int, bool]:
    """(k, n, follow-up) of "Bước k/n": n is fixed when the flow opens (the steps it will ask,
    without those answered for the person); a step asked because of an earlier answer shares
    the number of the step before it."""
    counted: list[str] = state["counted"]
    keys = [s.key for s in flow.steps]
    if key in counted:
        return counted.index(key) + 1, len(counted), False
    before = [k for k in counted if keys.index(k) < keys.index(key)]
    return max(len(before), 1), len(counted), True


def next_key(flow: Flow, data: Data, after: str | None) -> str | None:
    keys = [s.key for s in flow.steps]
    start = 0 if after is None else keys.index(after) + 1
    for s in flow.steps[start:]:
        if visible(s, data):
            return s.key
    return SUMMARY if flow.confirm else None


def first_missing(flow: Flow, data: Data) -> str | None:
    for s in flow.steps:
        # A required answer held as None (e.g. filled in from a record) is still missing.
        if visible(s, data) and (s.key not in data or (data[s.key] is None and not s.optional)):
            return s.key
    return SUMMARY if flow.confirm else None


def prune(flow: Flow, data: Data) -> None:
    """Forget answers to steps that earlier answers no longer call for."""
    for s in flow.steps:
        if not s.keep_hidden and not visible(s, data):
            data.pop(s.key, None)


async def choices_of(ctx: Ctx, step: Step, data: Data) -> Sequence[Choice]:
    if step.choices is None:
        return ()
    if callable(step.choices):
        return await step.choices(ctx, data)
    return step.choices
