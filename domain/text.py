"""Text normalisation: phones send NFC or NFD, with or without diacritics."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

_SPACES = re.compile(r"\s+")
_D = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})
T = TypeVar("T")


def clean(text: str) -> str:
    """NFC, trimmed, inner runs of whitespace collapsed to one space (newlines kept)."""
    text = unicodedata.normalize("NFC", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line)


# C0 and C1 control characters (NUL among them, which PostgreSQL refuses in text) and lone
# surrogates (which no database can encode); newline, carriage return and tab are kept.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def without_controls(text: str) -> str:
    """``text`` without control characters (line breaks and tabs kept)."""
    return _CONTROLS.sub("", text)


def fold(text: str) -> str:
    """A key for comparing answers: no diacritics, đ→d, lower case, single spaces."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Đ/đ, and Ð/ð (U+00D0/U+00F0) that old Vietnamese input methods type in their place.
    stripped = stripped.translate(_D)
    return _SPACES.sub(" ", stripped).strip().casefold()


# Zero-width characters that text copied from Word or a web page carries invisibly.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def one_line(text: str) -> str:
    """A name or any text read as one line: NFC, line breaks and runs of spaces (a cell's
    Alt+Enter, a pasted paragraph) collapsed to one space, trimmed."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", text).strip()


# The five tone marks. Old and new spelling put them on different vowels (“Hoà” / “Hòa”,
# “Thuỷ” / “Thủy”): the same word, so a name's key carries each word's tone after its
# letters instead of where it was typed.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_ETH = str.maketrans({"ð": "đ", "Ð": "Đ"})


def _word_key(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    tones = "".join(sorted(ch for ch in decomposed if ch in _TONES))
    letters = "".join(ch for ch in decomposed if ch not in _TONES)
    return unicodedata.normalize("NFC", letters) + tones


def name_key(text: str) -> str:
    """The key under which two names are the same name: NFC, spacing collapsed, any case,
    either tone placement. Diacritics count: “Hương Văn” and “Hương Vân” are two names."""
    return " ".join(_word_key(w) for w in one_line(text).translate(_ETH).casefold().split())


NameHow = Literal["exact", "loose"]


def name_match(query: str, name: str) -> NameHow | None:
    """How a typed ``query`` names ``name``: ``exact`` (same key), ``loose`` when the words
    typed without diacritics are those of the name with theirs dropped (“Huong Van” for
    “Hương Văn”, also “Chi bo Tổ dân phố 1”), None otherwise. A word typed with any mark
    must be the name's word exactly: “phô” is not “phố”."""
    typed, named = name_key(query).split(), name_key(name).split()
    return _words_match(typed, named)


def _words_match(typed: Sequence[str], named: Sequence[str]) -> NameHow | None:
    if len(typed) != len(named):
        return None
    if typed == named:
        return "exact"
    for word, other in zip(typed, named, strict=True):
        if word != other and (fold(word) != word or fold(other) != word):
            return None
    return "loose"


@dataclass(frozen=True)
class NameMatch(Generic[T]):
    """What a typed name found: the candidates of the best kind of match there is (one is a
    match; several are an ambiguity to show), and that kind."""

    found: tuple[T, ...]
    how: Literal["exact", "loose", "partial", "none"]

    @property
    def one(self) -> T | None:
        return self.found[0] if len(self.found) == 1 else None


def match_names(
    query: str, items: Iterable[T], name_of: Callable[[T], str], *, partial: bool = False
) -> NameMatch[T]:
    """The items ``query`` names. An exact match wins; failing one, the loose matches
    (words typed without diacritics); with ``partial``, failing both, the items whose name
    holds the query's words in a row, exactly, else loosely. One function for every place
    that finds a unit or a model by a typed name (command line, imports, chat pickers)."""
    typed = name_key(query).split()
    if not typed:
        return NameMatch((), "none")
    keyed = [(item, name_key(name_of(item)).split()) for item in items]
    exact = tuple(i for i, words in keyed if words == typed)
    if exact:
        return NameMatch(exact, "exact")
    loose = tuple(i for i, words in keyed if _words_match(typed, words))
    if loose or not partial:
        return NameMatch(loose, "loose" if loose else "none")
    for wanted in ("exact", "loose"):
        found = tuple(i for i, words in keyed if _holds(words, typed, wanted))
        if found:
            return NameMatch(found, "partial")
    return NameMatch((), "none")


def _holds(words: Sequence[str], typed: Sequence[str], how: NameHow) -> bool:
    n = len(typed)
    for start in range(len(words) - n + 1):
        window = words[start : start + n]
        if (window == list(typed)) if how == "exact" else _words_match(typed, window):
            return True
    return False


def closest_names(
    query: str,
    items: Iterable[T],
    name_of: Callable[[T], str],
    *,
    limit: int = 3,
    cutoff: float = 0.75,
) -> list[tuple[T, float]]:
    """The items whose names look most like ``query`` (typos, a wrong diacritic, a missing
    space), best first, with their likeness from 0 to 1 compared without diacritics."""
    wanted = fold(query)
    scored = []
    for item in items:
        likeness = difflib.SequenceMatcher(None, wanted, fold(name_of(item))).ratio()
        if likeness >= cutoff:
            scored.append((item, likeness))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]


# The letters of the Vietnamese alphabet that follow a plain one: a ă â, d đ, e ê, o ô ơ, u ư.
_LETTER_ORDER = str.maketrans(
    {"ă": "a1", "â": "a2", "đ": "d1", "ê": "e1", "ô": "o1", "ơ": "o2", "ư": "u1"}
)


def sort_key(text: str) -> tuple[str, str]:
    """Names in Vietnamese alphabetical order: by their letters without diacritics, then
    “Hương Văn” before “Hương Vân” as the alphabet has them (a, ă, â)."""
    return fold(text), name_key(text).translate(_LETTER_ORDER)
