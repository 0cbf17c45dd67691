"""Wiring: database, migrations and the core, built once from the settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from domain.catalog import DEFAULT_QUOTAS, parse_quotas
from handlers.core import Clock, Core, utcnow
from storage.db import make_engine, make_sessionmaker, upgrade


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


async def build_app(settings: Settings, clock: Clock = utcnow, migrate: bool | None = None) -> App:
    engine = make_engine(settings.database_url, concurrency=settings.telegram_concurrency)
    if settings.auto_migrate if migrate is None else migrate:
        await upgrade(engine)
    sessionmaker = make_sessionmaker(engine)
    quotas = {**DEFAULT_QUOTAS, **parse_quotas(settings.quotas)} if settings.quotas else None
    core = Core(
        sessionmaker,
        timezone=settings.timezone,
        clock=clock,
        quotas=quotas,
        files_dir=settings.files_dir,
        max_evidence_mb=settings.max_evidence_mb,
    )
    return App(settings, engine, sessionmaker, core)
