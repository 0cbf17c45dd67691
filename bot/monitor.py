"""What `dvk run` tells the machines that watch it: ``/healthz`` and ``/metrics``.

``/healthz`` (JSON): the database (``SELECT 1`` within ``DB_TIMEOUT``), the outbox's backlog
(rows pending, how long the oldest due one has waited), and per channel the last poll the
platform answered and the last webhook call. Status 503 with ``"status": "failing"`` and the
``problems`` when the database does not answer, or a channel taking updates by polling has
had no poll answered for ``HEALTH_POLL_SECONDS`` (the platform unreachable, a wrong token);
in webhook mode a quiet channel is not a failure (nobody may be writing).

``/metrics``: Prometheus' text format, written here (a dozen series of one process: the
``prometheus_client`` package would add a dependency, its registry and multiprocess mode,
for what is a few counters and one histogram). Each bot process answers for itself; the
outbox's rows are read from the database, so every process shows the same counts.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channel import Channel, WebhookRoute
from domain.messages import IncomingMessage, Reply
from scheduler.leases import DeliveryStats
from scheduler.outbox import Backlog, backlog

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # Prometheus' text format
DB_TIMEOUT = 2.0  # seconds the database has to answer /healthz
# Seconds an update may take, as Prometheus histogram bounds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        index = bisect.bisect_left(BUCKETS, seconds)
        if index < len(BUCKETS):
            self.counts[index] += 1
        self.total += seconds
        self.count += 1


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    inner = ",".join(f'{key}="{escape(value)}"' for key, value in labels.items())
    return f"{{{inner}}}" if inner else ""


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


class Exposition:
    """Prometheus' text format, one metric family after another."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(
        self, name: str, kind: str, doc: str, samples: Iterable[tuple[dict[str, str], float]]
    ) -> None:
        self.lines += [f"# HELP {name} {doc}", f"# TYPE {name} {kind}"]
        self.lines += [f"{name}{_labels(**labels)} {_number(value)}" for labels, value in samples]

    def histogram(self, name: str, doc: str, series: dict[str, Histogram], label: str) -> None:
        self.lines += [f"# HELP {name} {doc}", f"# TYPE {name} histogram"]
        for key, hist in sorted(series.items()):
            running = 0
            for bound, n in zip(BUCKETS, hist.counts, strict=True):
                running += n
                self.lines.append(
                    f"{name}_bucket{_labels(**{label: key, 'le': str(bound)})} {running}"
                )
            self.lines.append(f"{name}_bucket{_labels(**{label: key, 'le': '+Inf'})} {hist.count}")
            self.lines.append(f"{name}_sum{_labels(**{label: key})} {_number(hist.total)}")
            self.lines.append(f"{name}_count{_labels(**{label: key})} {hist.count}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass(eq=False)
class Monitor:
    """Counts what this process does and answers ``/healthz`` and ``/metrics``.

    ``stats``: the outbox deliverer's counters (None: no deliverer). ``webhook``: whether
    the channels take updates by webhook (else by polling). ``poll_seconds``: a polling
    channel with no poll answered for longer is failing. Times are ``time.time()``;
    ``now`` gives the database's time (the outbox's ``not_before``).
    """

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    channels: Sequence[Channel]
    _: KW_ONLY
    webhook: bool
    poll_seconds: float
    stats: DeliveryStats | None = None
    wall: Callable[[], float] = time.time
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    started: float = field(init=False)
    handled: Counter[str] = field(default_factory=Counter, init=False)
    failed: Counter[str] = field(default_factory=Counter, init=False)
    replies: Counter[str] = field(default_factory=Counter, init=False)
    seconds: dict[str, Histogram] = field(default_factory=dict, init=False)
    webhook_at: dict[str, float] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.channels = list(self.channels)
        self.started = self.wall()

    # --- what happens ----------------------------------------------------------------------

    def on_handled(
        self, msg: IncomingMessage, replies: list[Reply], seconds: float, failed: bool
    ) -> None:
        """``Core.on_handled``: one message handled."""
        self.handled[msg.channel] += 1
        self.replies[msg.channel] += len(replies)
        if failed:
            self.failed[msg.channel] += 1
        self.seconds.setdefault(msg.channel, Histogram()).observe(seconds)

    def watch(self, route: WebhookRoute) -> WebhookRoute:
        """``route`` noting the time of each call it takes (after the secret was checked)."""
        inner = route.handle

        async def handle(update: dict[str, Any]) -> web.Response:
            self.webhook_at[route.channel] = self.wall()
            return await inner(update)

        return replace(route, handle=handle)

    # --- reading the database ------------------------------------------------------------

    async def _read(self) -> Backlog:
        async with asyncio.timeout(DB_TIMEOUT):
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            async with self.sessionmaker() as session:
                return await backlog(session, self.now())

    async def read_database(self) -> tuple[Backlog | None, str | None]:
        """The outbox's backlog, or why the database did not answer in time."""
        try:
            return await self._read(), None
        except TimeoutError:
            return None, f"no answer within {DB_TIMEOUT:g} s"
        except Exception as err:  # any failure of the database is what /healthz reports
            return None, f"{type(err).__name__}: {err}"[:300]

    # --- /healthz ----------------------------------------------------------------------------

    def _channel(self, channel: Channel, wall: float) -> tuple[dict[str, Any], str | None]:
        polled = channel.polled_at
        hooked = self.webhook_at.get(channel.name)
        report: dict[str, Any] = {
            "mode": "webhook" if self.webhook else "polling",
            "last_poll_seconds_ago": None if polled is None else round(wall - polled, 1),
            "last_webhook_seconds_ago": None if hooked is None else round(wall - hooked, 1),
        }
        problem = None
        if not self.webhook:
            quiet = wall - (polled if polled is not None else self.started)
            if quiet > self.poll_seconds:
                problem = f"{channel.name}: no poll answered for {quiet:.0f} s"
        report["ok"] = problem is None
        return report, problem

    async def health(self) -> tuple[int, dict[str, Any]]:
        started = time.perf_counter()
        found, error = await self.read_database()
        wall = self.wall()
        problems = [] if error is None else [f"database: {error}"]
        database: dict[str, Any] = {"ok": error is None}
        if error is None:
            database["ms"] = round((time.perf_counter() - started) * 1000, 1)
        else:
            database["error"] = error
        outbox: dict[str, Any] | None = None
        if found is not None:
            oldest = found.oldest_due
            outbox = {
                "pending": found.pending,
                "oldest_due_seconds": (
                    None if oldest is None else round((self.now() - oldest).total_seconds(), 1)
                ),
            }
        updates = {}
        for channel in self.channels:
            updates[channel.name], problem = self._channel(channel, wall)
            if problem is not None:
                problems.append(problem)
        body = {
            "status": "failing" if problems else "ok",
            "problems": problems,
            "channels": [channel.name for channel in self.channels],
            "database": database,
            "outbox": outbox,
            "updates": updates,
        }
        return (503 if problems else 200), body

    async def healthz(self, _request: web.Request) -> web.Response:
        status, body = await self.health()
        return web.json_response(body, status=status, headers={"Cache-Control": "no-store"})

    # --- /metrics ----------------------------------------------------------------------------

    async def exposition(self) -> str:
        found, error = await self.read_database()
        out = Exposition()
        names = sorted({c.name for c in self.channels} | set(self.handled))

        def per_channel(values: Counter[str]) -> list[tuple[dict[str, str], float]]:
            return [({"channel": name}, values[name]) for name in names]

        out.family("dvk_up", "gauge", "1 while the process runs.", [({}, 1)])
        out.family(
            "dvk_database_up",
            "gauge",
            "1 when the database answered SELECT 1.",
            [({}, 1 if error is None else 0)],
        )
        out.family(
            "dvk_updates_handled_total",
            "counter",
            "Messages the core handled.",
            per_channel(self.handled),
        )
        out.family(
            "dvk_update_failures_total",
            "counter",
            "Messages whose handling failed (the person got the apology).",
            per_channel(self.failed),
        )
        out.family(
            "dvk_replies_total",
            "counter",
            "Replies given to the messages handled.",
            per_channel(self.replies),
        )
        out.histogram(
            "dvk_update_handling_seconds",
            "Seconds from taking a message to its replies.",
            self.seconds,
            "channel",
        )
        if found is not None:
            out.family(
                "dvk_outbox_rows",
                "gauge",
                "Outbox rows by channel and status.",
                [({"channel": c, "status": s}, n) for (c, s), n in sorted(found.counts.items())],
            )
            waited = (
                0.0 if found.oldest_due is None else (self.now() - found.oldest_due).total_seconds()
            )
            out.family(
                "dvk_outbox_oldest_due_seconds",
                "gauge",
                "How long the oldest due pending outbox row has waited.",
                [({}, round(waited, 3))],
            )
        stats = self.stats or DeliveryStats()
        out.family(
            "dvk_outbox_sent_total",
            "counter",
            "Outbox rows sent by this process.",
            [({}, stats.sent)],
        )
        out.family(
            "dvk_outbox_send_errors_total",
            "counter",
            "Outbox sends that failed, by kind (transient: retried; failed: given up; "
            "unreachable: the person blocked the bot).",
            [
                ({"kind": "transient"}, stats.transient),
                ({"kind": "failed"}, stats.failed),
                ({"kind": "unreachable"}, stats.unreachable),
            ],
        )
        out.family(
            "dvk_outbox_retry_after_total",
            "counter",
            "429 answers to outbox sends.",
            [({}, stats.retry_after)],
        )
        out.family(
            "dvk_outbox_global_pauses_total",
            "counter",
            "Times a channel paused all sending after 429s on many chats.",
            [({}, stats.global_pauses)],
        )
        polls = [
            ({"channel": c.name}, c.polled_at) for c in self.channels if c.polled_at is not None
        ]
        out.family(
            "dvk_last_poll_timestamp_seconds",
            "gauge",
            "Unix time of the last poll answered.",
            [(labels, float(at)) for labels, at in polls],
        )
        out.family(
            "dvk_last_webhook_timestamp_seconds",
            "gauge",
            "Unix time of the last webhook call.",
            [({"channel": name}, at) for name, at in sorted(self.webhook_at.items())],
        )
        return out.text()

    async def metrics(self, _request: web.Request) -> web.Response:
        body = await self.exposition()
        return web.Response(
            body=body.encode(),
            headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"},
        )
