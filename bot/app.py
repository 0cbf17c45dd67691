"""Wiring: database, migrations and the core, built once from the settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from domain.catalog import DEFAULT_QUOTAS, parse_quotas
from handlers.core import Clock, Core, utcnow
from scheduler.floods import Bursts
from storage.db import make_sessionmaker, open_database


class TokenFilter(logging.Filter):
    """Masks bot tokens wherever a library would print them (URLs of the Bot API)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if any(s in message for s in self.secrets):
                for s in self.secrets:
                    message = message.replace(s, "***")
                record.msg, record.args = message, ()
        return True


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    secrets = [*settings.tokens()]
    for purpose in ("webhook", "links"):
        if settings.webhook_secret is not None or settings.secret_key is not None or secrets:
            secrets.append(settings.derived_secret(purpose))
    token_filter = TokenFilter(secrets)
    # httpx logs every request URL at INFO, and Bot API URLs hold the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # aiosqlite logs every statement twice at DEBUG: thousands of lines that bury ours.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.addFilter(token_filter)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    core: Core

    async def close(self) -> None:
        await self.engine.dispose()


async def build_app(
    settings: Settings,
    clock: Clock = utcnow,
    migrate: bool | None = None,
    check_schema: bool = True,
) -> App:
    """Everything a command needs. The database is opened first (storage.db.open_database:
    migrated when ``migrate``, by default the SQLite file; with ``check_schema``, at the
    schema this program needs); any trouble with it is a DatabaseTrouble to show."""
    engine = await open_database(
        settings.database_url,
        migrate=settings.auto_migrate if migrate is None else migrate,
        current=check_schema,
        concurrency=settings.telegram_concurrency,
    )
    sessionmaker = make_sessionmaker(engine)
    quotas = {**DEFAULT_QUOTAS, **parse_quotas(settings.quotas)} if settings.quotas else None
    core = Core(
        sessionmaker,
        timezone=settings.timezone,
        clock=clock,
        quotas=quotas,
        files_dir=settings.files_dir,
        max_evidence_mb=settings.max_evidence_mb,
        bursts=Bursts(settings.chat_burst, settings.stranger_burst)
        if settings.chat_burst
        else None,
    )
    return App(settings, engine, sessionmaker, core)
