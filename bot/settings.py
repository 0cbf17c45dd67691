"""Settings from the environment or a ``.env`` file, loaded once by the entry point."""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from conversations.texts.account import DEFAULT_INVITE_ISSUER

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///dvk.sqlite3"
# Telegram updates handled at once. More wait at Telegram (polling) or in line (webhook):
# under a burst the database serves a few messages at a time instead of hundreds fighting
# for its connections, and a poll fetches them in batches rather than one by one. Measured
# by bench/bench_registration.py (PostgreSQL, 200 officers at once: 0.15–0.19x →
# 0.27–0.29x the echo bot's throughput).
DEFAULT_TELEGRAM_CONCURRENCY = 8


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Asia/Ho_Chi_Minh"
    log_level: str = "INFO"
    # "text": one readable line per record; "json": one JSON object per line (log shippers).
    log_format: Literal["text", "json"] = "text"

    telegram_bot_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_bot_username: str | None = None

    telegram_concurrency: int = Field(default=DEFAULT_TELEGRAM_CONCURRENCY, ge=1)

    zalo_bot_token: SecretStr | None = None
    zalo_api_base: str = "https://bot-api.zaloplatforms.com"

    # Delivering the outbox (scheduler/delivery.py): messages per second for the whole bot,
    # seconds between two messages to one chat, seconds to wait after a Zalo 429 (Zalo says
    # no retry_after), tries of a message failing with network or server errors.
    telegram_rate_per_second: float = 30.0
    telegram_chat_interval: float = 1.0
    zalo_rate_per_second: float = 10.0
    zalo_chat_interval: float = 1.0
    zalo_retry_after: float = 5.0
    delivery_attempts: int = 5
    # Several bot processes keep the limits above together: in Redis when this is set
    # (redis://127.0.0.1:6379/0), else in PostgreSQL (scheduler/turns.py).
    redis_url: str | None = None

    # The bot's own web server: webhooks, download links for Zalo, /healthz.
    public_base_url: str | None = None  # e.g. https://dvk.example.vn (as the internet sees it)
    web_host: str = "0.0.0.0"  # noqa: S104 - a server meant to be reached behind a proxy
    web_port: int = 8080
    webhook_secret: SecretStr | None = None  # derived from the bot tokens when unset
    secret_key: SecretStr | None = None  # signs download links; derived when unset
    # Messages one chat may send per minute (a stranger: STRANGER_BURST); past that the first
    # gets one notice and the rest are not answered. CHAT_BURST=0: no limit.
    chat_burst: int = Field(default=20, ge=0)
    stranger_burst: int = Field(default=5, ge=1)
    quotas: str = ""  # models expected per unit kind, e.g. "chi_bo=1,dang_uy=2,doan_the=5"
    files_dir: str = "dvk-files"
    file_link_hours: float = 24.0
    max_photo_mb: float = 10.0
    # /minhchung: larger evidence files are refused (JPEG, PNG, WEBP, PDF, DOC(X), XLS(X)).
    max_evidence_mb: float = 20.0
    # Who hands out invite codes, named to strangers (e.g. "Văn phòng Đảng ủy phường").
    invite_issuer: str = DEFAULT_INVITE_ISSUER
    # Deadline reminders (scheduler/planner.py): at this hour (local time), on these days
    # before each deadline (0 = the deadline day); missed times are sent late within the
    # grace window; deadlines are re-read from the database every resync interval.
    reminder_hour: int = Field(default=8, ge=0, le=23)
    reminder_days: str = "7,3,1,0"
    reminder_grace_hours: float = Field(default=12.0, ge=0)
    reminder_resync_seconds: float = Field(default=60.0, gt=0)
    # /healthz: a channel taking updates by polling with no poll answered for longer is failing.
    health_poll_seconds: float = Field(default=120.0, gt=0)

    def tokens(self) -> list[str]:
        """Every channel's bot token (the ``*_bot_token`` settings), in the order above:
        masked in the logs, and what the derived secrets are derived from."""
        return [
            value.get_secret_value()
            for name, value in self
            if name.endswith("_bot_token") and isinstance(value, SecretStr)
        ]

    def derived_secret(self, purpose: str) -> str:
        """A stable secret for ``purpose``: the configured one, or one derived from the
        tokens (so it survives restarts without being stored anywhere)."""
        configured = {"webhook": self.webhook_secret, "links": self.secret_key}[purpose]
        if configured is not None:
            return configured.get_secret_value()
        if not self.tokens():
            return secrets.token_hex(24)  # nothing secret to derive from: valid for this run
        material = "\n".join([purpose, *self.tokens()]).encode()
        return hashlib.sha256(material).hexdigest()[:48]

    @property
    def auto_migrate(self) -> bool:
        """The embedded SQLite file is migrated on start; a server by `dvk db upgrade`."""
        return self.database_url.startswith("sqlite")
