"""Wiring: database, migrations and the core, built once from the settings."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.settings import Settings
from domain import logcontext
from domain.catalog import DEFAULT_QUOTAS, parse_quotas
from handlers.core import Clock, Core, utcnow
from scheduler.floods import Bursts
from storage.db import make_sessionmaker, open_database


class TokenFilter(logging.Filter):
    """Masks bot tokens wherever a library would print them (URLs of the Bot API)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def mask(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if any(s in message for s in self.secrets):
                record.msg, record.args = self.mask(message), ()
            if record.exc_info and not record.exc_text:
                # A traceback quotes URLs and arguments too; formatters use exc_text as is.
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self.mask(record.exc_text)
        return True


class ContextFilter(logging.Filter):
    """Puts the update and chat being handled (domain.logcontext) on every record:
    ``record.context`` for the text format (`` [telegram chat=… update=…]``) and one
    attribute per field for the JSON one."""

    def filter(self, record: logging.LogRecord) -> bool:
        values = logcontext.current()
        for name in logcontext.FIELDS:
            setattr(record, name, values.get(name))
        if values.get("channel"):
            detail = " ".join(
                f"{name}={values[name]}" for name in logcontext.FIELDS[1:] if values.get(name)
            )
            record.context = f" [{values['channel']} {detail}]".replace(" ]", "]")
        else:
            record.context = ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json): time (UTC, ISO), level, logger,
    message, the context fields that are set, and the traceback as ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in logcontext.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format=TEXT_FORMAT)
    # httpx logs every request URL at INFO, and Bot API URLs hold the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # aiosqlite logs every statement twice at DEBUG: thousands of lines that bury ours.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        configure_handler(handler, settings)


def configure_handler(handler: logging.Handler, settings: Settings) -> None:
    """The context on each record, the secrets masked, and LOG_FORMAT's format."""
    secrets = [*settings.tokens()]
    for purpose in ("webhook", "links"):
        if settings.webhook_secret is not None or settings.secret_key is not None or secrets:
            secrets.append(settings.derived_secret(purpose))
    # The context first: the token filter then sees the final message.
    handler.addFilter(ContextFilter())
    handler.addFilter(TokenFilter(secrets))
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())


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
        invite_issuer=settings.invite_issuer,
        web_base_url=settings.public_base_url,
        bursts=Bursts(settings.chat_burst, settings.stranger_burst)
        if settings.chat_burst
        else None,
    )
    return App(settings, engine, sessionmaker, core)
