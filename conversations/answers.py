"""How a typed answer is read: a choice by its number, its label or an alias (with or without
diacritics, any case, or an unambiguous beginning), the navigation words, and free text with a
length limit. Shared by the flow engine and the free-text routing of the core."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conversations.context import Ctx
from conversations.texts import engine as T
from domain.text import fold, one_line

MAX_TEXT = 1000


class InputError(Exception):
    """An answer the step cannot take; the message is shown to the person as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refusal(InputError):
    """Not a bad answer but something this person may not do now (a deadline passed, a
    model under review): the flow that led here ends with the reason, instead of leaving a
    list open."""


@dataclass(frozen=True)
class Choice:
    label: str
    value: Any  # JSON-serialisable
    aliases: tuple[str, ...] = ()


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
CONFIRM_WORDS = frozenset({"ok", "dong y", "xac nhan", "luu"})
_NON_WORD = re.compile(r"[^\w ]+")
_PAREN = re.compile(r"\(([^)]*)\)")

Parser = Callable[[Ctx, str, Any], Awaitable[Any]]


def key(text: str) -> str:
    """A typed answer reduced for comparison: folded, punctuation dropped, single spaces."""
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


def choice_keys(choice: Choice) -> set[str]:
    keys = {key(choice.label), key(_PAREN.sub(" ", choice.label))}
    keys.update(key(m) for m in _PAREN.findall(choice.label))
    keys.update(key(a) for a in choice.aliases)
    keys.discard("")
    return keys


def match_choice(text: str, choices: Sequence[Choice]) -> Choice | None:
    """The choice a typed answer names: its number, its label (any case, diacritics or not),
    an alias, or an unambiguous beginning of a label."""
    answer = key(text)
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
    return NAV_WORDS.get(key(text))


def text_parser(
    max_len: int = MAX_TEXT, what: str = "nội dung", min_len: int = 1, single_line: bool = False
) -> Parser:
    """A parser for free text with a length limit and a clear message. With ``single_line``
    (names, places, numbers of documents) line breaks and runs of spaces are collapsed, as
    for every name read from anywhere (``domain.text.one_line``)."""

    async def parse(_ctx: Ctx, text: str, _data: Any) -> str:
        value = one_line(text) if single_line else text.strip()
        if len(value) < min_len:
            raise InputError(T.enter(what=what))
        if len(value) > max_len:
            raise InputError(T.text_too_long(what, len(value), max_len))
        return value

    return parse


YEAR = re.compile(r"^(19|20)\d\d$")
# A date typed day/month/year: 12/3/2026, 12.03.2026, 12-3-2026.
DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")


def parse_year(text: str, now_year: int) -> int:
    """A year typed by a person: four digits, from 2000 to next year."""
    value = text.strip()
    if not YEAR.match(value) or not 2000 <= int(value) <= now_year + 1:
        raise InputError(T.bad_year(text=text, now_year=now_year))
    return int(value)
