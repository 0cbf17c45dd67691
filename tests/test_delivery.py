"""Delivering the outbox through the real senders to the fake Telegram and Zalo servers.

Every database test runs on SQLite and PostgreSQL. Limits are scaled up (tens of messages
per second, a fraction of a second per chat) so that the tests are quick; the fake servers
enforce the same limits and say when they were exceeded.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.senders import build_senders, channel_limits
from bot.settings import Settings
from bot.telegram import TelegramChannel, TelegramSender
from bot.zalo import ZaloApi, ZaloChannel, ZaloSender
from handlers.core import Core
from scheduler.delivery import Deliverer
from scheduler.outbox import FAILED, PENDING, SENDING, SENT, UNREACHABLE, Outgoing, enqueue
from scheduler.pacing import Limits
from scheduler.senders import Rejected, RetryAfter, Sender, TransientError, Unreachable
from storage import people
from storage.models import Account, OutboxMessage
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo

SM = async_sessionmaker[AsyncSession]
TG_LIMITS = Limits(rate_per_second=50, chat_interval=0.2, text_limit=4096)
ZALO_LIMITS = Limits(rate_per_second=50, chat_interval=0.2, text_limit=2000)
LIMITS = {"telegram": TG_LIMITS, "zalo": ZALO_LIMITS}


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def tg_bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = tg.create_bot()
    yield bot
    await bot.session.close()


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as fake:
        yield fake


@pytest.fixture
async def zalo_api(zalo: FakeZalo) -> AsyncIterator[ZaloApi]:
    api = ZaloApi(zalo.token, zalo.base_url)
    yield api
    await api.close()


@pytest.fixture
def senders(tg_bot: Bot, zalo_api: ZaloApi) -> dict[str, Sender]:
    return {"telegram": TelegramSender(tg_bot), "zalo": ZaloSender(zalo_api, retry_after=1.0)}


def make(sm: SM, senders: dict[str, Sender], **options: object) -> Deliverer:
    options.setdefault("backoff", 0.05)
    options.setdefault("poll_interval", 0.5)
    limits = options.pop("limits", LIMITS)
    return Deliverer(sm, senders, limits, **options)  # type: ignore[arg-type]


async def put(
    sm: SM, channel: str, chats: list[int] | range, per_chat: int = 1, text: str = "Nhắc việc"
) -> list[tuple[str, str]]:
    """Enqueue ``per_chat`` messages to each chat; returns (chat, text) of each."""
    messages = [
        Outgoing(
            key=f"test:{channel}:{chat}:{n}",
            channel=channel,
            chat_id=str(chat),
            text=f"{text} {chat}/{n}",
        )
        for chat in chats
        for n in range(per_chat)
    ]
    async with sm() as session, session.begin():
        await enqueue(session, messages, datetime.now(UTC))
    return [(m.chat_id, m.text) for m in messages]


async def rows(sm: SM) -> list[OutboxMessage]:
    async with sm() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def statuses(sm: SM) -> Counter[str]:
    return Counter(r.status for r in await rows(sm))


def received(fake: FakeTelegram | FakeZalo) -> Counter[tuple[str, str]]:
    return Counter((a.chat_id, a.text) for a in fake.flood.accepted)


async def until_idle(deliverer: Deliverer, seconds: float = 30) -> None:
    await asyncio.wait_for(deliverer.run_until_idle(), seconds)


# --------------------------------------------------------------------------- all delivered


async def test_everything_delivered_once_within_the_limits(
    sessionmaker: SM, tg: FakeTelegram, zalo: FakeZalo, senders: dict[str, Sender]
) -> None:
    tg.enforce_limits(rate=50, chat_interval=0.2)
    zalo.enforce_limits(rate=50, chat_interval=0.2)
    expected_tg = await put(sessionmaker, "telegram", range(1001, 1041), per_chat=2)
    expected_zalo = await put(sessionmaker, "zalo", range(5001, 5021), per_chat=2)
    deliverer = make(sessionmaker, senders)
    started = time.monotonic()
    await until_idle(deliverer)
    elapsed = time.monotonic() - started

    assert received(tg) == Counter(expected_tg)
    assert received(zalo) == Counter(expected_zalo)
    assert tg.flood.rejections == []
    assert zalo.flood.rejections == []
    assert tg.flood.min_chat_gap() >= 0.2 - 0.02
    every = await rows(sessionmaker)
    assert {r.status for r in every} == {SENT}
    assert all(r.sent_at is not None and r.attempts == 0 for r in every)
    assert deliverer.stats.sent == 120
    assert deliverer.stats.released == 0
    # Both channels at once, each at its own 50/s: 80 messages each take ~1.6 s.
    assert elapsed < 6


async def test_texts_shown_as_written_and_long_ones_split_in_order(
    sessionmaker: SM, tg: FakeTelegram, zalo: FakeZalo, senders: dict[str, Sender]
) -> None:
    text = "Hạn <15/4> & “Phụ lục 1”: đăng ký mô hình"
    long_text = "\n".join(f"Dòng {i}: " + "đơn vị chưa đăng ký " * 4 for i in range(60))
    assert len(long_text) > 4000
    async with sessionmaker() as session, session.begin():
        await enqueue(
            session,
            [
                Outgoing("k1", "telegram", "1001", text),
                Outgoing("k2", "zalo", "u1", long_text),
            ],
            datetime.now(UTC),
        )
    await until_idle(make(sessionmaker, senders))
    [message] = tg.messages_to(1001)
    assert message.plain_text == text
    assert message.parse_mode == "HTML"
    parts = zalo.messages_to("u1")
    assert len(parts) == 3
    assert all(len(p.text) <= 2000 for p in parts)
    assert "\n".join(p.text for p in parts) == long_text
    gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(parts)]
    assert min(gaps) >= 0.2 - 0.02  # the parts are messages to one chat: chat_interval
    assert {r.status for r in await rows(sessionmaker)} == {SENT}


async def test_pace_reaches_the_limit_without_exceeding_it(
    sessionmaker: SM, tg: FakeTelegram, tg_bot: Bot
) -> None:
    tg.enforce_limits(rate=40, chat_interval=0.5)
    expected = await put(sessionmaker, "telegram", range(1, 61), per_chat=2)
    limits = {"telegram": Limits(rate_per_second=40, chat_interval=0.5, text_limit=4096)}
    # The whole test session's objects make a full garbage collection take about 0.3 s, a
    # fifth of this 1.5-second run: collect now so that none falls inside it by chance.
    gc.collect()
    await until_idle(make(sessionmaker, {"telegram": TelegramSender(tg_bot)}, limits=limits))
    assert received(tg) == Counter(expected)
    assert tg.flood.rejections == []
    assert tg.flood.max_in_window(1.0) <= 41  # arrival jitter may shift one across a second
    assert tg.flood.rate_achieved() >= 0.9 * 40


# --------------------------------------------------------------------------- restarts


@pytest.mark.parametrize("how", ["stop", "cancel"])
async def test_restart_in_the_middle_of_a_broadcast(
    sessionmaker: SM, tg: FakeTelegram, zalo: FakeZalo, senders: dict[str, Sender], how: str
) -> None:
    expected_tg = await put(sessionmaker, "telegram", range(1, 61))
    expected_zalo = await put(sessionmaker, "zalo", range(1, 31))
    slow = {
        "telegram": Limits(rate_per_second=20, chat_interval=0.2),
        "zalo": Limits(rate_per_second=10, chat_interval=0.2),
    }
    first = make(sessionmaker, senders, limits=slow)
    task = asyncio.create_task(first.run_forever())
    await tg.wait_for_call("sendMessage", 15)
    if how == "stop":
        await first.stop()
        await task
    else:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert task.done()
    counts = await statuses(sessionmaker)
    assert counts[SENDING] == 0  # nothing stranded: unsent rows were handed back
    assert 15 <= counts[SENT] < 90
    assert counts[SENT] == len(tg.flood.accepted) + len(zalo.flood.accepted)

    second = make(sessionmaker, senders)
    await until_idle(second)
    assert received(tg) == Counter(expected_tg)  # every message exactly once
    assert received(zalo) == Counter(expected_zalo)
    assert second.stats.sent == 90 - counts[SENT]
    assert await statuses(sessionmaker) == Counter({SENT: 90})


async def test_a_killed_process_leaves_nothing_behind(
    sessionmaker: SM, tg: FakeTelegram, senders: dict[str, Sender]
) -> None:
    expected = await put(sessionmaker, "telegram", range(1, 21))
    now = datetime.now(UTC)
    async with sessionmaker() as session, session.begin():
        o = OutboxMessage
        # Claimed by a process that was killed mid-broadcast: the lease ran out.
        await session.execute(
            update(o)
            .where(o.id <= 8)
            .values(status=SENDING, claimed_by="dead:1", claimed_until=now - timedelta(seconds=1))
        )
        # Claimed by a process that is alive and still holds them: not ours to send.
        await session.execute(
            update(o)
            .where(o.id > 17)
            .values(status=SENDING, claimed_by="alive:2", claimed_until=now + timedelta(hours=1))
        )
    deliverer = make(sessionmaker, senders)
    await until_idle(deliverer)
    assert received(tg) == Counter(expected[:17])
    every = await rows(sessionmaker)
    assert [r.status for r in every] == [SENT] * 17 + [SENDING] * 3
    assert {r.claimed_by for r in every[:17]} == {deliverer.name}


async def test_wake_drain_and_poll(
    sessionmaker: SM, tg: FakeTelegram, senders: dict[str, Sender]
) -> None:
    deliverer = make(sessionmaker, senders, poll_interval=60)
    task = asyncio.create_task(deliverer.run_forever())
    await asyncio.sleep(0.2)
    expected = await put(sessionmaker, "telegram", range(1, 6))
    deliverer.wake()  # without it, the next look would be in a minute
    await tg.wait_for_call("sendMessage", 5, timeout=3)
    more = await put(sessionmaker, "telegram", range(6, 41), text="Tổng hợp")
    deliverer.wake()
    await tg.wait_for_call("sendMessage", 8, timeout=3)
    await deliverer.drain(timeout=10)  # what it holds goes out; nothing more is claimed
    await task
    counts = await statuses(sessionmaker)
    assert counts[SENDING] == 0
    assert counts[SENT] == len(tg.flood.accepted) >= 8
    assert counts[SENT] + counts[PENDING] == 40
    await until_idle(make(sessionmaker, senders))
    assert received(tg) == Counter(expected + more)


# --------------------------------------------------------------------------- 429, 403, errors


async def test_retry_after_pauses_only_that_chat(
    sessionmaker: SM, tg: FakeTelegram, zalo: FakeZalo, senders: dict[str, Sender]
) -> None:
    expected = await put(sessionmaker, "telegram", range(1, 31))
    expected_zalo = await put(sessionmaker, "zalo", range(1, 11))
    tg.fail_next("sendMessage", retry_after=2, description="Too Many Requests: retry after 2")
    zalo.fail_next("sendMessage", error_code=429)
    started = time.monotonic()
    deliverer = make(sessionmaker, senders)
    await until_idle(deliverer)

    assert received(tg) == Counter(expected)
    assert received(zalo) == Counter(expected_zalo)
    paused = str(tg.calls_of("sendMessage")[0]["chat_id"])
    [late] = [a for a in tg.flood.accepted if a.chat_id == paused]
    others = [a.at for a in tg.flood.accepted if a.chat_id != paused]
    assert late.at - started >= 2  # waited the retry_after asked
    assert max(others) - started < 1.5  # the 29 others did not wait for it
    assert deliverer.stats.retry_after == 2
    assert deliverer.stats.global_pauses == 0
    every = await rows(sessionmaker)
    assert {r.status for r in every} == {SENT}
    assert all(r.attempts == 0 for r in every)  # a 429 is not a failed attempt
    assert all(r.error is None for r in every)  # once sent, no error is left


async def test_random_429s_and_per_chat_limits_nothing_lost_nothing_twice(
    sessionmaker: SM, tg: FakeTelegram, zalo: FakeZalo, senders: dict[str, Sender]
) -> None:
    tg.enforce_limits(rate=50, chat_interval=0.2)
    tg.inject_429(0.1, retry_after=1, seed=5)
    zalo.enforce_limits(rate=50, chat_interval=0.2)
    zalo.inject_429(0.1, seed=6)
    expected = await put(sessionmaker, "telegram", range(1, 41), per_chat=3)
    expected_zalo = await put(sessionmaker, "zalo", range(1, 21), per_chat=2)
    deliverer = make(sessionmaker, senders)
    await until_idle(deliverer, 60)
    assert received(tg) == Counter(expected)
    assert received(zalo) == Counter(expected_zalo)
    assert tg.flood.refused("injected")
    assert tg.flood.refused("rate") == []
    assert tg.flood.refused("chat") == []  # the 429s were all injected ones
    # The rows of one chat still arrive in order after a 429.
    for chat in range(1, 41):
        texts = [m.text for m in tg.messages_to(chat)]
        assert texts == [f"Nhắc việc {chat}/{n}" for n in range(3)]
    assert await statuses(sessionmaker) == Counter({SENT: 160})


async def test_a_bot_over_its_limit_pauses_the_channel(
    sessionmaker: SM, tg: FakeTelegram, tg_bot: Bot
) -> None:
    # As when two processes each send at the full rate: the server allows fewer.
    tg.enforce_limits(rate=10, chat_interval=None)
    expected = await put(sessionmaker, "telegram", range(1, 41))
    limits = {"telegram": Limits(rate_per_second=40, chat_interval=0)}
    deliverer = make(sessionmaker, {"telegram": TelegramSender(tg_bot)}, limits=limits)
    await until_idle(deliverer, 60)
    assert received(tg) == Counter(expected)
    assert deliverer.stats.global_pauses >= 1
    assert await statuses(sessionmaker) == Counter({SENT: 40})


async def test_blocked_bot_marks_the_account_unreachable(
    sessionmaker: SM, tg: FakeTelegram, zalo: FakeZalo, senders: dict[str, Sender]
) -> None:
    now = datetime.now(UTC)
    async with sessionmaker() as session, session.begin():
        await people.create_person(session, "Nguyễn Thị Lan", "telegram", "1001", None, now)
        await people.create_person(session, "Trần Văn Hùng", "zalo", "z2", None, now)
        await people.create_person(session, "Lê Văn Tuấn", "telegram", "1003", None, now)
    tg.block(1001)
    zalo.block("z2")
    await put(sessionmaker, "telegram", [1001, 1003], per_chat=2)
    await put(sessionmaker, "zalo", ["z2"])  # type: ignore[list-item]
    await until_idle(make(sessionmaker, senders))

    by_chat = {(r.chat_id, r.key[-1]): r for r in await rows(sessionmaker)}
    for n in "01":
        assert by_chat[("1001", n)].status == UNREACHABLE
        assert by_chat[("1001", n)].error == "Forbidden: bot was blocked by the user"
        assert by_chat[("1003", n)].status == SENT
    assert by_chat[("z2", "0")].status == UNREACHABLE
    # One refusal is enough: the second message to the blocked chat is not tried.
    assert len(tg.flood.refused()) == 1
    async with sessionmaker() as session:
        accounts = {a.external_id: a for a in (await session.scalars(select(Account))).all()}
    assert accounts["1001"].unreachable_at is not None
    assert accounts["1001"].unreachable_reason == "Forbidden: bot was blocked by the user"
    assert accounts["z2"].unreachable_at is not None
    assert "blocked" in (accounts["z2"].unreachable_reason or "")
    assert accounts["1003"].unreachable_at is None


async def test_transient_errors_retried_then_failed(
    sessionmaker: SM, tg: FakeTelegram, zalo: FakeZalo, senders: dict[str, Sender]
) -> None:
    async with sessionmaker() as session, session.begin():
        await enqueue(session, [Outgoing("t1", "telegram", "1001", "một")], datetime.now(UTC))
    tg.fail_next(
        "sendMessage", times=2, error_code=502, retry_after=None, description="Bad Gateway"
    )
    await until_idle(make(sessionmaker, senders, attempts=3))
    [row] = await rows(sessionmaker)
    assert row.status == SENT
    assert row.attempts == 2
    assert len(tg.calls_of("sendMessage")) == 3
    assert len(tg.flood.accepted) == 1

    async with sessionmaker() as session, session.begin():
        await enqueue(session, [Outgoing("z1", "zalo", "u1", "hai")], datetime.now(UTC))
    zalo.fail_next("sendMessage", error_code=500, description="Internal error", times=10)
    started = time.monotonic()
    deliverer = make(sessionmaker, senders, attempts=3, backoff=0.2)
    await until_idle(deliverer)
    row = (await rows(sessionmaker))[1]
    assert row.status == FAILED
    assert row.attempts == 3
    assert row.error is not None
    assert "Internal error" in row.error
    assert len(zalo.calls_of("sendMessage")) == 3
    assert time.monotonic() - started >= 0.2 + 0.4  # backoff 0.2 s, then 0.4 s
    assert deliverer.stats.failed == 1


async def test_a_refused_message_fails_at_once(
    sessionmaker: SM, tg: FakeTelegram, senders: dict[str, Sender]
) -> None:
    async with sessionmaker() as session, session.begin():
        await enqueue(session, [Outgoing("t1", "telegram", "1001", "x")], datetime.now(UTC))
    tg.fail_next(
        "sendMessage", error_code=400, retry_after=None, description="Bad Request: no rights"
    )
    await until_idle(make(sessionmaker, senders))
    [row] = await rows(sessionmaker)
    assert row.status == FAILED
    assert row.error == "Rejected: Bad Request: no rights"
    assert len(tg.calls_of("sendMessage")) == 1


# --------------------------------------------------------------------------- two processes


async def test_two_sender_processes_never_send_twice(
    db_url: str, sessionmaker: SM, tg: FakeTelegram, zalo: FakeZalo
) -> None:
    expected_tg = await put(sessionmaker, "telegram", range(1, 201))
    expected_zalo = await put(sessionmaker, "zalo", range(1, 101))
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.delivery_worker",
            db_url,
            "--telegram",
            tg.base_url,
            "--zalo",
            zalo.base_url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for worker in workers:  # both ready, then both go
        assert worker.stdout is not None
        assert await asyncio.wait_for(worker.stdout.readline(), 60) == b"ready\n"
    outputs = await asyncio.wait_for(
        asyncio.gather(*(w.communicate(b"go\n") for w in workers)), 120
    )
    assert [w.returncode for w in workers] == [0, 0]
    figures = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]

    assert received(tg) == Counter(expected_tg)  # none twice, none lost
    assert received(zalo) == Counter(expected_zalo)
    assert sum(f["sent"] for f in figures) == 300
    assert all(f["sent"] > 0 for f in figures)  # both took part
    every = await rows(sessionmaker)
    assert {r.status for r in every} == {SENT}
    assert {r.claimed_by for r in every} == {f["name"] for f in figures}


# --------------------------------------------------------------------------- senders


async def test_telegram_sender_maps_the_answers(tg: FakeTelegram, tg_bot: Bot) -> None:
    sender = TelegramSender(tg_bot)
    await sender.send("1001", "a < b")
    assert tg.messages_to(1001)[0].text == "a &lt; b"
    tg.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as retry:
        await sender.send("1001", "x")
    assert retry.value.seconds == 7
    assert not retry.value.whole_bot
    tg.block(1002)
    with pytest.raises(Unreachable, match="blocked"):
        await sender.send("1002", "x")
    tg.fail_next(
        "sendMessage", error_code=400, retry_after=None, description="Bad Request: chat not found"
    )
    with pytest.raises(Unreachable, match="chat not found"):
        await sender.send("1003", "x")
    tg.fail_next("sendMessage", error_code=500, retry_after=None, description="Internal")
    with pytest.raises(TransientError):
        await sender.send("1001", "x")
    tg.fail_next("sendMessage", error_code=400, retry_after=None, description="Bad Request: x")
    with pytest.raises(Rejected):
        await sender.send("1001", "x")
    await tg.stop()
    with pytest.raises(TransientError):  # nobody listening
        await sender.send("1001", "x")


async def test_zalo_sender_maps_the_answers(zalo: FakeZalo, zalo_api: ZaloApi) -> None:
    sender = ZaloSender(zalo_api, retry_after=3.5)
    await sender.send("u1", "a < b")
    assert zalo.messages_to("u1")[0].text == "a < b"
    zalo.fail_next("sendMessage", error_code=429)
    with pytest.raises(RetryAfter) as retry:
        await sender.send("u1", "x")
    assert retry.value.seconds == 3.5
    zalo.block("u2")
    with pytest.raises(Unreachable):
        await sender.send("u2", "x")
    zalo.fail_next("sendMessage", error_code=502, body="<html>Bad Gateway</html>")
    with pytest.raises(TransientError):
        await sender.send("u1", "x")
    await zalo.stop()
    with pytest.raises(TransientError):
        await sender.send("u1", "x")


async def test_senders_and_limits_from_settings(
    core: Core, tg: FakeTelegram, zalo_api: ZaloApi
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_rate_per_second=25,
        zalo_rate_per_second=5,
        zalo_chat_interval=2,
        zalo_retry_after=9,
    )
    telegram = TelegramChannel(core, tg.token, tg.base_url)
    channels = (telegram, ZaloChannel(core, zalo_api))
    try:
        senders = build_senders(settings, channels)
        assert isinstance(senders["telegram"], TelegramSender)
        zalo_sender = senders["zalo"]
        assert isinstance(zalo_sender, ZaloSender)
        assert zalo_sender.retry_after == 9
        assert build_senders(settings, []) == {}
        limits = channel_limits(settings, channels)
        assert limits["telegram"] == Limits(25, 1.0, 4096)
        assert limits["zalo"] == Limits(5, 2.0, 2000)
    finally:
        await telegram.close()


async def test_replies_sent_elsewhere_share_the_rate(
    sessionmaker: SM, tg: FakeTelegram, tg_bot: Bot
) -> None:
    tg.enforce_limits(rate=10, chat_interval=None)
    expected = await put(sessionmaker, "telegram", range(1, 21))
    limits = {"telegram": Limits(rate_per_second=10, chat_interval=0)}
    sender = TelegramSender(tg_bot)
    deliverer = make(sessionmaker, {"telegram": sender}, limits=limits)
    task = asyncio.create_task(deliverer.run_until_idle())
    await tg.wait_for_call("sendMessage", 3)
    for n in range(8):  # replies to someone who wrote, while the broadcast goes on
        await deliverer.reserve("telegram")
        await sender.send("9999", f"Trả lời {n}")
    await asyncio.wait_for(task, 30)
    assert received(tg) == Counter([*expected, *(("9999", f"Trả lời {n}") for n in range(8))])
    assert tg.flood.rejections == []  # together, never over the rate
    await deliverer.reserve("telegram")  # not running: at once
