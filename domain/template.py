"""A sentence with named blanks, as the text catalogues declare the texts that take values."""

from __future__ import annotations

import string


class Template:
    """``Template("Đã lưu mô hình “{name}” năm {year}.")(name=…, year=…)``.

    Blanks are filled by name (``str.format`` fields, so ``{total:g}`` works); every blank must
    be given and nothing else, else it is a ``TypeError`` instead of a sentence with a hole in
    it. ``tests/test_templates.py`` checks every call in the code against its template.
    """

    __slots__ = ("names", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.names = frozenset(
            field for _, field, _, _ in string.Formatter().parse(text) if field is not None
        )

    def __call__(self, **values: object) -> str:
        if values.keys() != self.names:
            missing = ", ".join(sorted(self.names - values.keys())) or "-"
            unknown = ", ".join(sorted(values.keys() - self.names)) or "-"
            raise TypeError(f"template {self.text!r}: missing {missing}; unknown {unknown}")
        return self.text.format_map(values)

    def __repr__(self) -> str:
        return f"Template({self.text!r})"
