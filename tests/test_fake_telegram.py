"""Self-test of the fake Telegram Bot API server, driven by a real aiogram Bot."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from contextlib import suppress

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from tests.fake_telegram import Document, FakeTelegram, UploadedFile

USER = 424242


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    # A real aiogram Bot; LocalAiohttpSession is an AiohttpSession pointed at
    # TelegramAPIServer.from_base(tg.base_url) that closes without aiogram's 0.25 s sleep.
    bot = tg.create_bot()
    assert isinstance(bot.session, AiohttpSession)
    assert bot.session.api.base == f"{tg.base_url}/bot{{token}}/{{method}}"
    yield bot
    await bot.session.close()


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Đồng ý", callback_data="ok"),
                InlineKeyboardButton(text="Huỷ", callback_data="cancel"),
            ],
            [InlineKeyboardButton(text="Trang web", url="https://example.org")],
        ]
    )


async def test_get_me(tg: FakeTelegram, bot: Bot) -> None:
    assert tg.base_url.startswith("http://127.0.0.1:")
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == tg.bot_username
    assert tg.calls == [("getMe", {})]


async def test_send_message_with_inline_keyboard(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(
        USER, "Chọn <b>một</b>:", parse_mode="HTML", reply_markup=keyboard()
    )
    assert sent.text == "Chọn một:"  # Telegram returns the text with entities parsed out
    assert sent.reply_markup is not None

    [msg] = tg.messages_to(USER)
    assert msg.message_id == sent.message_id
    assert msg.chat_id == USER
    assert msg.text == "Chọn <b>một</b>:"
    assert msg.plain_text == "Chọn một:"
    assert msg.parse_mode == "HTML"
    assert msg.buttons == [("Đồng ý", "ok"), ("Huỷ", "cancel")]
    assert msg.button_texts == ["Đồng ý", "Huỷ", "Trang web"]
    assert msg.callback_data("Huỷ") == "cancel"
    assert msg.document is None

    method, params = tg.calls[-1]
    assert method == "sendMessage"
    assert params["chat_id"] == USER  # decoded to int
    assert isinstance(params["reply_markup"], dict)
    assert params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ok"


async def test_edits_update_stored_message(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Câu hỏi", reply_markup=keyboard())
    await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id, reply_markup=None)
    msg = tg.message(sent.message_id)
    assert msg.buttons == []
    assert msg.reply_markup is None
    await bot.edit_message_text("Đã trả lời", chat_id=USER, message_id=sent.message_id)
    assert msg.text == "Đã trả lời"
    assert msg.edit_count == 2
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await bot.edit_message_text("Đã trả lời", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=9999)


async def test_telegram_validation_errors(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER, "dòng 1<br>dòng 2", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="too long"):
        await bot.send_message(USER, "a" * 4097)
    too_long = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="đ" * 33)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "x", reply_markup=too_long)
    assert tg.messages_to(USER) == []


async def test_send_document_upload_and_download(tg: FakeTelegram, bot: Bot) -> None:
    data = b"PK\x03\x04 fake xlsx \x00\xff"
    sent = await bot.send_document(
        USER, BufferedInputFile(data, filename="bao_cao.xlsx"), caption="Báo cáo tháng"
    )
    assert sent.document is not None
    assert sent.document.file_name == "bao_cao.xlsx"

    [msg] = await tg.wait_for_messages(USER, 1)
    assert msg.method == "sendDocument"
    assert msg.document == Document("bao_cao.xlsx", data)
    assert msg.text == "Báo cáo tháng"
    uploaded = tg.calls_of("sendDocument")[0]["document"]
    assert isinstance(uploaded, UploadedFile)
    assert uploaded.content == data

    # The uploaded file can be fetched back like on the real server.
    file = await bot.get_file(sent.document.file_id)
    buffer = io.BytesIO()
    await bot.download(file, destination=buffer)
    assert buffer.getvalue() == data


async def test_get_file_and_download_registered_file(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_file("photo-1", b"\xff\xd8jpeg", "photos/p1.jpg")
    file = await bot.get_file("photo-1")
    assert file.file_path == "photos/p1.jpg"
    buffer = io.BytesIO()
    await bot.download_file("photos/p1.jpg", destination=buffer)
    assert buffer.getvalue() == b"\xff\xd8jpeg"


async def test_get_updates_long_polling_and_offset(tg: FakeTelegram, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()  # waiting: nothing queued yet
    update_id = tg.send_text(USER, "/start abc", first_name="Lan")
    updates = await asyncio.wait_for(poll, 2)
    assert loop.time() - started < 1.5  # returned as soon as the update was queued
    [update] = updates
    assert update.update_id == update_id
    assert update.message is not None
    assert update.message.text == "/start abc"
    assert update.message.chat.id == USER
    assert update.message.from_user is not None
    assert update.message.from_user.first_name == "Lan"
    assert update.message.entities is not None
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start")

    # Not confirmed yet: delivered again.
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [update_id]
    # Confirmed with offset: gone.
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == []
    assert tg.pending_updates == []


async def test_long_poll_waits_for_timeout(tg: FakeTelegram) -> None:
    url = f"{tg.base_url}/bot{tg.token}/getUpdates"
    started = time.monotonic()
    async with aiohttp.ClientSession() as http, http.post(url, json={"timeout": 0.3}) as resp:
        body = await resp.json()
    assert body == {"ok": True, "result": []}
    assert time.monotonic() - started >= 0.28


async def test_other_update_kinds_parse(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Chọn", reply_markup=keyboard())
    tg.press_button(USER, sent.message_id, "ok")
    tg.press_button(USER, 777, "stale")
    tg.send_photo(USER, "ph-1", caption="Ảnh mô hình")
    tg.send_sticker(USER)
    tg.send_document(USER, "doc-1", "ds.xlsx", b"xlsx")
    raw_id = tg.queue_raw(
        {
            "message": {
                "message_id": 5,
                "date": 1,
                "chat": {"id": USER, "type": "private"},
                "text": "raw",
            }
        }
    )
    tg.queue_raw(
        {
            "update_id": raw_id,
            "message": {
                "message_id": 5,
                "date": 1,
                "chat": {"id": USER, "type": "private"},
                "text": "raw",
            },
        }
    )
    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 7
    press, stale, photo, sticker, document, dup1, dup2 = updates
    assert press.callback_query is not None
    assert press.callback_query.data == "ok"
    assert isinstance(press.callback_query.message, Message)
    assert press.callback_query.message.message_id == sent.message_id
    assert press.callback_query.message.reply_markup is not None
    assert stale.callback_query is not None
    assert stale.callback_query.id != press.callback_query.id
    assert photo.message is not None
    assert photo.message.photo is not None
    assert photo.message.photo[-1].file_id == "ph-1"
    assert sticker.message is not None
    assert sticker.message.sticker is not None
    assert document.message is not None
    assert document.message.document is not None
    assert (await bot.get_file("doc-1")).file_path == "documents/ds.xlsx"
    assert dup1.update_id == dup2.update_id == raw_id
    assert await bot.answer_callback_query(press.callback_query.id, text="OK")
    assert tg.callback_answers[press.callback_query.id]["text"] == "OK"


async def test_fail_next_raises_retry_after(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", times=2, retry_after=3)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as exc_info:
            await bot.send_message(USER, "xin chào")
        assert exc_info.value.retry_after == 3
    await bot.send_message(USER, "xin chào")
    assert len(tg.messages_to(USER)) == 1
    assert len(tg.calls_of("sendMessage")) == 3

    tg.fail_next(
        "sendMessage", error_code=400, retry_after=None, description="Bad Request: chat not found"
    )
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(USER, "x")


async def test_wrong_token_is_unauthorized(tg: FakeTelegram) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url))
    bot = Bot("999:WRONG", session=session)
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await bot.get_me()
    finally:
        await bot.session.close()
    assert tg.calls == []


async def test_raw_http_formats(tg: FakeTelegram) -> None:
    base = f"{tg.base_url}/bot{tg.token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/sendMessage",
            json={
                "chat_id": 5,
                "text": "123",
                "reply_markup": '{"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}',
            },
        ) as resp:
            assert resp.status == 200
        async with http.post(f"{base}/SENDMESSAGE", data={"chat_id": "5", "text": "true"}) as resp:
            assert resp.status == 200
        async with http.get(f"{base}/sendMessage", params={"chat_id": "5", "text": "q"}) as resp:
            assert resp.status == 200
        async with http.post(f"{base}/noSuchMethod") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.post(f"{tg.base_url}/bot1:BAD/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
    first, second, third = tg.messages_to(5)
    assert first.text == "123"  # string fields are never JSON-decoded
    assert first.buttons == [("a", "b")]
    assert second.text == "true"
    assert third.text == "q"


async def test_commands_round_trip(bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Bắt đầu")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Đăng_ký", description="x")])


async def test_wait_for_messages_timeout_and_mark(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(AssertionError, match="expected 1 message"):
        await tg.wait_for_messages(USER, 1, timeout=0.1)
    await bot.send_message(USER, "một")
    tg.mark(USER)
    await bot.send_message(USER, "hai")
    [msg] = await tg.wait_for_messages(USER, 1)
    assert msg.text == "hai"
    with pytest.raises(AssertionError, match="'hai'"):
        await tg.wait_for_messages(USER, 2, timeout=0.1)


async def test_dispatcher_polling_end_to_end(tg: FakeTelegram) -> None:
    bot = Bot(tg.token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "", reply_markup=keyboard())

    @dp.callback_query(F.data == "ok")
    async def confirm(query: CallbackQuery) -> None:
        await query.answer("Đã ghi nhận")
        if isinstance(query.message, Message):
            await query.message.edit_text("Đã xác nhận")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    try:
        tg.send_text(USER, "Xin chào")
        [reply] = await tg.wait_for_messages(USER, 1)
        assert reply.text == "Xin chào"
        assert reply.buttons[0] == ("Đồng ý", "ok")

        tg.mark(USER)
        tg.press_button(USER, reply.message_id, reply.callback_data("Đồng ý"))
        await tg.wait_for_call("answerCallbackQuery")
        await tg.wait_for_call("editMessageText")
        await tg.wait_idle()  # updates confirmed, in-flight edit applied, then 0.3 s quiet
        assert reply.text == "Đã xác nhận"
        assert reply.buttons == []  # edit without reply_markup drops the keyboard
        assert tg.messages_to(USER) == [reply]
        assert tg.pending_updates == []
    finally:
        with suppress(RuntimeError):  # "Polling is not started" if it never got going
            await dp.stop_polling()
        polling.cancel()
        with suppress(asyncio.CancelledError):
            await polling
        await bot.session.close()
