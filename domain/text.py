"""Text normalisation: phones send NFC or NFD, with or without diacritics."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_D = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def clean(text: str) -> str:
    """NFC, trimmed, inner runs of whitespace collapsed to one space (newlines kept)."""
    text = unicodedata.normalize("NFC", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line)


def fold(text: str) -> str:
    """A key for comparing answers: no diacritics, đ→d, lower case, single spaces."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Đ/đ, and Ð/ð (U+00D0/U+00F0) that old Vietnamese input methods type in their place.
    stripped = stripped.translate(_D)
    return _SPACES.sub(" ", stripped).strip().casefold()
