"""The core's vocabulary with the channels: what comes in, what goes out."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD_START = re.compile(r"^\W+")  # an emoji before a label is not typed


@dataclass(frozen=True)
class Attachment:
    """A photo, document or sticker the person sent. ``kind`` is photo|document|sticker|voice."""

    kind: str
    file_id: str | None = None
    url: str | None = None
    path: str | None = None
    file_name: str | None = None


@dataclass(frozen=True)
class IncomingMessage:
    channel: str
    user_id: str
    chat_id: str
    text: str | None = None
    choice: str | None = None  # the data of a tapped button
    attachment: Attachment | None = None
    message_id: str | None = None
    update_id: str | None = None  # platform delivery id, for handling a redelivery once
    display_name: str | None = None


@dataclass(frozen=True)
class Option:
    label: str
    data: str


@dataclass(frozen=True)
class Document:
    file_name: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    text: str
    options: tuple[Option, ...] = ()  # numbered choices
    nav: tuple[Option, ...] = ()  # back / skip / cancel: buttons, or a typed-word hint
    document: Document | None = None
    # The document is a picture to look at (the /tonghop chart): shown as a photo where the
    # platform can (Zalo by the link of the bot's own web server), not only as a file.
    photo: bool = False
    # The text already lists the options under their numbers (a summary): a channel without
    # buttons does not list them again.
    listed: bool = False


def render_plain(reply: Reply) -> str:
    """Text for channels without buttons: options as a numbered list, nav as typed words."""
    lines = [reply.text]
    n = len(reply.options)
    if reply.options and reply.listed:
        lines.append("")
        lines.append("(Gõ số 1 để sửa mục đó)" if n == 1 else f"(Gõ số 1–{n} để sửa mục đó)")
    elif reply.options:
        lines.append("")
        lines.extend(f"{i}. {opt.label}" for i, opt in enumerate(reply.options, 1))
        hint = "Trả lời số 1" if n == 1 else f"Trả lời số 1–{n}"
        lines.append(f"({hint} hoặc gõ tên lựa chọn)")
    if reply.nav:
        words = " · ".join(f"“{_WORD_START.sub('', opt.label).lower()}”" for opt in reply.nav)
        lines.append(f"Gõ {words}")
    return "\n".join(lines)


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text into parts of at most ``limit`` characters, on line boundaries where
    possible (a single over-long line is cut at a space, or hard as a last resort)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            head, line = line[:cut], line[cut:].lstrip(" ")
            if current:
                parts.append(current)
                current = ""
            parts.append(head)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


# Said to a group chat by every channel: the assistant talks to one person at a time.
PRIVATE_ONLY = "Vui lòng nhắn riêng cho trợ lý (không dùng trong nhóm)."
