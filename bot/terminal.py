"""`dvk chat`: the same core in a terminal, options as a numbered list."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import TextIO

from domain.messages import IncomingMessage, Reply, render_plain
from handlers.core import Core

CHANNEL = "terminal"
EXIT_WORDS = {"/thoat", "/exit", "/quit"}


def render(reply: Reply, out_dir: Path) -> str:
    text = render_plain(reply)
    if reply.document is not None:
        safe = re.sub(r"[^\w.\-]+", "_", reply.document.file_name)
        path = out_dir / safe
        path.write_bytes(reply.document.content)
        text += f"\n[Tệp đã lưu: {path}]"
    return text


async def chat(
    core: Core,
    name: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    out_dir: Path = Path(),
) -> None:
    stdout.write(
        f"Trò chuyện với trợ lý “Dân vận khéo” với tư cách “{name}”. "
        "Gõ /trogiup để xem lệnh, /thoat để thoát.\n"
    )
    stdout.flush()
    loop = asyncio.get_running_loop()
    while True:
        stdout.write("> ")
        stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            stdout.write("\n")
            return
        text = line.rstrip("\n")
        if text.strip().lower() in EXIT_WORDS:
            return
        if not text.strip():
            continue
        replies = await core.handle(
            IncomingMessage(channel=CHANNEL, user_id=name, chat_id=name, text=text)
        )
        for reply in replies:
            stdout.write(render(reply, out_dir) + "\n\n")
        stdout.flush()
