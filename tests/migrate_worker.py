"""Migrations killed halfway, for ``tests/test_migrations.py``.

    python -m tests.migrate_worker DB_URL KILL_AT

Runs the migrations as every start does (``storage.db.upgrade``) and ends the process with
``os._exit(KILL_AT_EXIT)`` just before its KILL_AT-th SQL statement, as a power cut or
``kill -9`` would: no rollback, no clean-up. With KILL_AT 0 it runs to the end and prints
how many statements it sent. (It imports the storage layer only: the whole ``dvk`` takes
seconds to import, and the migrations are all that runs before the kill.)
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from storage.db import make_engine, upgrade

KILL_AT_EXIT = 86


async def migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def run(url: str, kill_at: int) -> None:
    sent = 0

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        nonlocal sent
        sent += 1
        if sent == kill_at:
            os._exit(KILL_AT_EXIT)

    asyncio.run(migrate(url))
    print(f"statements {sent}", flush=True)


if __name__ == "__main__":
    run(sys.argv[1], int(sys.argv[2]))
