"""What plain words outside a flow ask for: a greeting, thanks, when a deadline is, how to
register, what is left, a command typed without its slash or with a typo, a workbook by name.

Intents are data: phrases per intent, matched on folded words (no diacritics, any case) with
a small typo allowed per word. The phrases of a command live beside it (``Command.phrases``);
the others are below. :func:`understand` returns the best intent, or None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any

from domain.text import fold

_WORD = re.compile(r"[a-z0-9]+")
# Words that carry no meaning for routing: polite particles, pronouns, fillers.
FILLERS = frozenset(
    [
        "a",
        "oi",
        "nhe",
        "nha",
        "vay",
        "di",
        "voi",
        "cho",
        "toi",
        "minh",
        "em",
        "anh",
        "chi",
        "dong",
        "ad",
        "admin",
        "bot",
        "xin",
        "hoi",
        "la",
        "co",
        "duoc",
        "khong",
        "ko",
        "k",
        "gi",
        "dum",
        "ho",
        "da",
        "vang",
        "u",
        "uh",
        "thi",
        "ma",
        "bac",
        "chu",
        "ah",
    ]
)


@dataclass(frozen=True)
class Intent:
    name: str  # a command's name ("dangky") or a plain intent ("greeting")
    phrases: tuple[str, ...]
    command: bool = False  # a command: the words run it


@dataclass(frozen=True)
class Match:
    intent: str
    args: str = ""  # for a command: the words after its phrase ("phu luc 1 2026")
    exact: bool = True  # False: a guess to confirm ("Có phải đồng chí muốn /dangky?")


# Plain intents, answered by the core; the phrases are folded when compared.
PLAIN: tuple[Intent, ...] = (
    Intent(
        "greeting",
        (
            "xin chao",
            "chao",
            "hello",
            "hi",
            "alo",
            "chao buoi sang",
            "chao buoi chieu",
            "chao dong chi",
            "kinh chao",
        ),
    ),
    Intent(
        "thanks",
        ("cam on", "cam on nhieu", "thanks", "thank you", "tks", "ok cam on", "da nhan"),
    ),
    Intent(
        "deadline",
        (
            "han chot",
            "han chot khi nao",
            "han cuoi",
            "khi nao het han",
            "bao gio het han",
            "han nop",
            "han dang ky",
            "han dang ky mo hinh",
            "han bao cao",
            "bao gio nop",
            "bao gio nop bao cao",
            "khi nao nop",
            "khi nao nop bao cao",
            "ngay nao phai nop",
            "han danh gia",
            "lich nop",
            "thoi han",
        ),
    ),
    Intent(
        "how_to_register",
        (
            "lam sao dang ky",
            "lam sao de dang ky",
            "lam sao de dang ky mo hinh",
            "lam the nao de dang ky",
            "lam the nao dang ky",
            "cach dang ky",
            "dang ky the nao",
            "dang ky nhu the nao",
            "huong dan dang ky",
            "dang ky mo hinh the nao",
            "cach dang ky mo hinh",
        ),
    ),
    Intent(
        "owed",
        (
            "con thieu gi",
            "con thieu viec gi",
            "don vi con thieu gi",
            "con phai lam gi",
            "can lam gi",
            "viec con thieu",
            "con viec gi",
            "phai lam gi tiep",
            "da du chua",
            "con thieu",
        ),
    ),
    Intent(
        "not_registered",
        (
            "don vi nao chua dang ky",
            "ai chua dang ky",
            "chua dang ky",
            "nhung don vi chua dang ky",
            "don vi chua dang ky mo hinh",
        ),
    ),
    Intent(
        "not_reported",
        (
            "don vi nao chua nop bao cao",
            "ai chua nop bao cao",
            "chua nop bao cao",
            "chua bao cao",
            "don vi nao chua bao cao",
            "don vi chua gui bao cao",
        ),
    ),
    Intent(
        "help",
        (
            "tro giup",
            "huong dan",
            "huong dan su dung",
            "menu",
            "cac lenh",
            "lenh",
            "help",
            "khong biet lam gi",
            "dung the nao",
        ),
    ),
    Intent("cancel", ("huy", "huy bo", "thoi", "dung lai")),
)


# "kí" and "ký", "lí" and "lý" are both correct spellings: one form for comparing.
_Y_AFTER_CONSONANT = re.compile(r"^(ch|kh|nh|ph|th|tr|[bcdghklmnpstvx])y$")


def words(text: str) -> list[str]:
    """Folded words, without fillers, "y" after a consonant read as "i"."""
    found = (_Y_AFTER_CONSONANT.sub(r"\1i", w) for w in _WORD.findall(fold(text)))
    return [w for w in found if w not in FILLERS]


@lru_cache(maxsize=1024)
def _phrase_words(phrase: str) -> tuple[str, ...]:
    """:func:`words` of a catalogue's phrase, worked out once."""
    return tuple(words(phrase))


@lru_cache(maxsize=8192)
def _similar(a: str, b: str) -> bool:
    """At least 80% alike (difflib's ratio), the cheap upper bounds tried first: most pairs
    compared are far apart."""
    matcher = SequenceMatcher(None, a, b)
    return (
        matcher.real_quick_ratio() >= 0.8
        and matcher.quick_ratio() >= 0.8
        and matcher.ratio() >= 0.8
    )


def _close(a: str, b: str) -> bool:
    """The same word, or one typo away (a letter more, less, changed or swapped)."""
    if a == b:
        return True
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 1:
        return False
    return _similar(a, b)


def _covers(phrase: Sequence[str], said: Sequence[str]) -> tuple[int, int, bool]:
    """(words of ``said`` the phrase accounts for, where the phrase ends in ``said``, whether
    a typo was forgiven). Every phrase word must be found, in order; else (0, 0, False)."""
    # A short phrase typed with its words run together or split ("dang ki", "tonghp").
    joined, whole = "".join(phrase), "".join(said)
    if len(phrase) <= 2 and _similar(joined, whole):
        return len(said), len(said), joined != whole or len(said) != len(phrase)
    at, typo = 0, False
    for word in phrase:
        while at < len(said) and not _close(word, said[at]):
            at += 1
        if at == len(said):
            return 0, 0, False
        typo = typo or said[at] != word
        at += 1
    return len(phrase), at, typo


def understand(text: str, intents: Iterable[Intent]) -> Match | None:
    """The intent ``text`` expresses: the one whose phrase accounts for most of its words
    (then the longer phrase). A plain intent must account for half of them or for two words
    at least; a command's arguments are the words after its phrase."""
    said = words(text)
    if not said:
        return None
    best: tuple[tuple[float, bool, int], Intent, int, bool] | None = None
    for intent in intents:
        for phrase in intent.phrases:
            ph = _phrase_words(phrase)
            if not ph:
                continue
            covered, end, typo = _covers(ph, said)
            if not covered:
                continue
            key = (covered / len(said), not typo, len(ph))
            if best is None or key > best[0]:
                best = (key, intent, end, typo)
    if best is None:
        return None
    (share, _exact, length), intent, end, typo = best
    if share < 0.5 and length < 2:
        return None
    if intent.command:
        return Match(intent.name, " ".join(said[end:]), exact=not typo and share >= 0.5)
    return Match(intent.name)


def closest_command(name: str, names: Iterable[str]) -> str | None:
    """The command a mistyped ``/name`` most likely meant (a letter or two off)."""
    folded = fold(name)
    scored = sorted(((SequenceMatcher(None, folded, n).ratio(), n) for n in names), reverse=True)
    if scored and scored[0][0] >= 0.75:
        return scored[0][1]
    return None


def catalogue(commands: Iterable[Any]) -> tuple[Intent, ...]:
    """Every intent: each command's name and phrases (``Command.phrases``), then the plain
    ones."""
    return (
        *(Intent(c.name, (c.name, *c.phrases), command=True) for c in commands if c.phrases),
        *PLAIN,
    )
