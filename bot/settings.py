"""Settings from the environment or a ``.env`` file, loaded once by the entry point."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///dvk.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Asia/Ho_Chi_Minh"
    log_level: str = "INFO"

    telegram_bot_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_bot_username: str | None = None

    @property
    def auto_migrate(self) -> bool:
        """The embedded SQLite file is migrated on start; a server by `dvk db upgrade`."""
        return self.database_url.startswith("sqlite")
