"""Sending limits shared by every bot process on one PostgreSQL database.

Each process paces itself (``scheduler/pacing.py``); with several processes behind one proxy
the platform counts them together, so before each call to the platform a process also takes
a *turn* of the shared limits, kept in the ``send_turns`` table: the platform's rate (key:
the channel, one turn per ``Pace.interval``) and, for the outbox, the chat's spacing (key:
``channel:chat``, one turn per ``chat_interval``). A turn is taken in one statement, and
only once it has come by the database's clock (``INSERT … ON CONFLICT DO UPDATE … WHERE``
the key's next turn is not in the future, moving it one interval past now); otherwise the
statement says how long until it, and the process asks again then. So turns are spaced by
the moments they are really taken, whatever the number of processes, however late one of
them woke up, and no process's clock matters. Within a process one task asks for a key at a
time, the others queue behind it in order.

With ``REDIS_URL`` the turns are kept in Redis instead (one Lua script, Redis' clock).

When the database (or Redis) cannot be reached the process goes on within its own pace (it cannot
claim outbox rows then either; replies still go) and says so in the log once a minute.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.keyed_lock import KeyedLock

log = logging.getLogger(__name__)

# Keys not used for this long (seconds) are removed now and then: one row per chat written to.
FORGET_AFTER = 3600.0
FORGET_EVERY = 2000  # turns between two clean-ups
WARN_EVERY = 60.0  # seconds between two warnings of a database that does not answer

# The turn is taken only once it has come, at the database's "now": the spacing is between
# the moments turns are actually taken, however late a process woke up to take its own.
_TAKE = text(
    """
    WITH c AS (SELECT extract(epoch FROM clock_timestamp()) AS now),
    taken AS (
        INSERT INTO send_turns AS t (key, next_at)
        SELECT :key, c.now + :interval FROM c
        ON CONFLICT (key) DO UPDATE SET next_at = excluded.next_at
        WHERE t.next_at <= (SELECT now FROM c)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM taken),
           (SELECT next_at FROM send_turns WHERE key = :key) - (SELECT now FROM c)
    """
)
_FORGET = text(
    "DELETE FROM send_turns WHERE next_at < extract(epoch FROM clock_timestamp()) - :age"
)


class Turns(Protocol):
    """Turns of limits shared with other processes (None where there are none)."""

    async def wait(self, key: str, interval: float) -> None:
        """Take the next turn of ``key`` (one per ``interval`` seconds) and wait for it."""
        ...


def chat_key(channel: str, chat: str) -> str:
    return f"{channel}:{chat}"[:150]


class SharedTurns(abc.ABC):
    """:class:`Turns` kept where every process sees them; :meth:`take` is the store's."""

    def __init__(self) -> None:
        self.taken = 0
        self.waited = 0.0  # seconds spent waiting for turns, all keys together
        self._warned_at = -WARN_EVERY
        self._turns = KeyedLock()

    @abc.abstractmethod
    async def take(self, key: str, interval: float) -> float | None:
        """Take the turn of ``key`` if it has come (None), else the seconds until it may."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Let go of the store's connections."""

    async def wait(self, key: str, interval: float) -> None:
        # One task of this process asks the database for a key at a time; the others queue
        # here, in order, instead of all asking again at every turn.
        async with self._turns(key):
            while True:
                try:
                    delay = await self.take(key, interval)
                except Exception as err:  # the database is away: the process's own pace holds
                    now = time.monotonic()
                    if now - self._warned_at >= WARN_EVERY:
                        self._warned_at = now
                        log.warning(
                            "shared sending limits unavailable (%s); pacing alone",
                            type(err).__name__,
                        )
                    return
                if delay is None:
                    return
                self.waited += delay
                await asyncio.sleep(delay)


class PostgresTurns(SharedTurns):
    """Turns in PostgreSQL's ``send_turns`` table."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self.sessionmaker = sessionmaker

    async def take(self, key: str, interval: float) -> float | None:
        async with self.sessionmaker() as session, session.begin():
            taken, wait = (await session.execute(_TAKE, {"key": key, "interval": interval})).one()
            if taken:
                self.taken += 1
                if self.taken % FORGET_EVERY == 0:
                    await session.execute(_FORGET, {"age": FORGET_AFTER})
                return None
        return max(float(wait or 0.0), 0.001)

    async def close(self) -> None:
        return None  # its connections are the engine's


# The same in Redis, by Redis' clock, in one script (atomic): the key holds the next turn and
# expires a second after it, so keys of chats no longer written to go by themselves.
_REDIS_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local next_at = tonumber(redis.call('GET', KEYS[1]) or '0')
if next_at <= now then
  local interval = tonumber(ARGV[1])
  redis.call('SET', KEYS[1], tostring(now + interval), 'PX', math.ceil(interval * 1000) + 1000)
  return '0'
end
return tostring(next_at - now)
"""


class RedisTurns(SharedTurns):
    """Turns in Redis (``REDIS_URL``): keys ``dvk:turn:<key>``."""

    def __init__(self, url: str, prefix: str = "dvk:turn:") -> None:
        super().__init__()
        self.client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.client.register_script(_REDIS_TAKE)
        self.prefix = prefix

    async def take(self, key: str, interval: float) -> float | None:
        answer = await self.script(keys=[self.prefix + key], args=[repr(interval)])
        wait = float(answer)
        if wait <= 0:
            self.taken += 1
            return None
        return max(wait, 0.001)

    async def close(self) -> None:
        await self.client.aclose()
