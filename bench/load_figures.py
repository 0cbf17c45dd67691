"""What one load run measured: latency percentiles (all updates and per step), throughput, the
CPU of the bot's process and of the load generator; the errors the core logged."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.load_generator import LoadResult, Plan


class ErrorCounter(logging.Handler):
    """Counts ERROR records (the core logs every failed message) and keeps the first few."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 3:
            self.first.append(f"{record.name}: {record.getMessage()}")

    def reset(self) -> None:
        self.count = 0
        self.first = []


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Figures:
    label: str
    updates: int  # answered updates
    planned: int
    elapsed: float
    p50: float
    p95: float
    p99: float
    max_ms: float
    bot_cpu: float
    load_cpu: float
    polls: int
    p95_by_step: list[float]

    @property
    def throughput(self) -> float:
        return self.updates / self.elapsed if self.elapsed > 0 else 0.0

    @classmethod
    def of(cls, label: str, plan: Plan, result: LoadResult) -> Figures:
        lat = [ms for per_user in result.latencies_ms for ms in per_user]
        steps = max(len(script) for _, script in plan.scripts)
        by_step = [
            percentile([u[i] for u in result.latencies_ms if len(u) > i], 95) for i in range(steps)
        ]
        return cls(
            label,
            len(lat),
            plan.updates,
            result.elapsed,
            percentile(lat, 50),
            percentile(lat, 95),
            percentile(lat, 99),
            max(lat, default=math.nan),
            result.bot_cpu,
            result.load_cpu,
            result.polls,
            by_step,
        )

    def lines(self) -> list[str]:
        per_update = 1000 / self.updates if self.updates else math.nan
        return [
            f"  updates {self.updates}/{self.planned}, elapsed {self.elapsed:.2f} s, "
            f"throughput {self.throughput:.0f} updates/s",
            f"  latency p50 {self.p50:.1f} ms, p95 {self.p95:.1f} ms, p99 {self.p99:.1f} ms, "
            f"max {self.max_ms:.1f} ms",
            f"  CPU: bot process {self.bot_cpu:.1f} s ({self.bot_cpu * per_update:.2f} ms/update), "
            f"load generator {self.load_cpu:.1f} s; getUpdates calls {self.polls}",
            "  p95 by step (ms): "
            + ", ".join(f"{i + 1}: {ms:.0f}" for i, ms in enumerate(self.p95_by_step)),
        ]
