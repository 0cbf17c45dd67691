"""deploy/: the settings template lists every setting, the images and files say what they must."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
# Variables of deploy/.env.example that docker compose reads, not the bot.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "DOMAIN"}
ASSIGNMENT = re.compile(r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def template() -> list[tuple[str, str, bool]]:
    """(name, value, commented out) of each assignment in deploy/.env.example."""
    found = []
    for line in (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines():
        match = ASSIGNMENT.match(line.strip())
        if match:
            found.append((match[1], match[2], line.lstrip().startswith("#")))
    return found


def test_env_example_lists_exactly_the_settings() -> None:
    names = [name for name, _, _ in template()]
    settings = {name.upper() for name in Settings.model_fields}
    assert len(names) == len(set(names)), "a variable listed twice"
    assert set(names) - COMPOSE_ONLY == settings
    assert set(names) >= COMPOSE_ONLY


def test_env_example_is_valid_and_leaves_nothing_empty() -> None:
    assigned = {name: value for name, value, commented in template() if not commented}
    assert all(value for value in assigned.values()), "an empty value counts as set"
    settings = Settings(_env_file=DEPLOY / ".env.example")  # type: ignore[call-arg]
    assert settings.telegram_bot_token is not None
    assert settings.public_base_url == "https://dvk.example.vn"
    # Every commented value parses as that setting (a typo there would break whoever uncomments it).
    for name, value, commented in template():
        if commented and name not in COMPOSE_ONLY:
            Settings.model_validate({name.lower(): value})


def test_every_compose_variable_is_in_the_template() -> None:
    compose = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z_]+)", compose))
    assert used == COMPOSE_ONLY
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert "{$DOMAIN}" in caddy


def test_the_image_is_pinned_and_runs_without_privileges() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11\.\d+-slim-\w+$", dockerfile, re.M)
    assert "pip install -c constraints.txt ." in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users
    assert users[-1] not in ("root", "0")
    unit = (DEPLOY / "dvk.service").read_text(encoding="utf-8")
    assert "\nUser=dvk\n" in unit
    assert "\nExecStart=/srv/dvk/.venv/bin/dvk run --webhook\n" in unit
