"""Input the platforms let through that the bot must survive: control characters in what
people type, a webhook body nested too deep to parse."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram import SECRET_HEADER as TELEGRAM_SECRET_HEADER
from bot.telegram import webhook_route as telegram_webhook
from bot.web import build_web_app
from domain.text import without_controls
from handlers.core import Core
from handlers.texts import SORRY
from storage.models import ModelYear
from tests.helpers import Chat, World
from tests.test_resilience import ANSWERS


def test_control_characters_are_removed_newlines_and_tabs_kept() -> None:
    assert without_controls("a\x00b\x07c\x1bd\x7fe\x85f") == "abcdef"
    assert without_controls("dòng 1\ndòng\t2\r\n") == "dòng 1\ndòng\t2\r\n"
    assert without_controls("lone \ud800 surrogate") == "lone  surrogate"
    assert without_controls("Tổ dân phố 1") == "Tổ dân phố 1"


async def test_a_nul_in_an_answer_is_dropped_not_a_failure(
    core: Core, world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    chat = Chat(core, "lan")
    await chat.send("/dang\x00ky")
    assert "Bước 1/8" in chat.last.text
    name = "Mô hình sân\x00 chơi\x1b cho trẻ em\x00"
    await chat.answers(ANSWERS[0], name, *ANSWERS[2:])
    assert chat.last.text != SORRY
    assert "kiểm tra lại trước khi lưu" in chat.last.text
    await chat.send("luu\x00")
    assert "Đã lưu mô hình xây dựng mới năm 2026" in chat.last.text
    async with sessionmaker() as session:
        names = (await session.scalars(select(ModelYear.name).where(ModelYear.year == 2026))).all()
    assert list(names) == ["Mô hình sân chơi cho trẻ em"]


class Sink:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    async def dispatch(self, update: dict[str, Any]) -> None:
        self.updates.append(update)


async def test_a_webhook_body_nested_too_deep_is_refused_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = Sink()
    app = build_web_app("s3cret-Webhook_value", [telegram_webhook(sink.dispatch)])
    nested = "[" * 100_000 + "]" * 100_000
    body = '{"update_id": 1, "message": ' + nested + "}"
    caplog.set_level(logging.DEBUG)
    async with TestClient(TestServer(app)) as http:
        response = await http.post(
            "/webhook/telegram",
            data=body.encode(),
            headers={TELEGRAM_SECRET_HEADER: "s3cret-Webhook_value"},
        )
        assert response.status == 400
        ok = await http.post(
            "/webhook/telegram",
            data=json.dumps({"update_id": 2}).encode(),
            headers={TELEGRAM_SECRET_HEADER: "s3cret-Webhook_value"},
        )
        assert ok.status == 200
    assert sink.updates == [{"update_id": 2}]
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelname for r in problems] == ["WARNING"], caplog.text
    assert "Traceback" not in caplog.text
    assert "RecursionError" not in caplog.text


async def test_a_webhook_update_that_cannot_be_recorded_gets_503_to_be_sent_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(_update: dict[str, Any]) -> None:
        raise OSError("database unreachable")

    app = build_web_app("s3cret-Webhook_value", [telegram_webhook(broken)])
    async with TestClient(TestServer(app)) as http:
        response = await http.post(
            "/webhook/telegram",
            json={"update_id": 3},
            headers={TELEGRAM_SECRET_HEADER: "s3cret-Webhook_value"},
        )
    assert response.status == 503
    assert "could not be recorded" in caplog.text
    assert "Traceback" not in caplog.text
