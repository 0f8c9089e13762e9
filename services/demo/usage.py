"""The `api_usage` rows of the demo history: one per provider attempt, as metering writes them.

The history cannot call PhantomBuster, Crustdata, SalesQL, OpenAI or Google Sheets, so each step
that would have called one adds the rows `services.providers.metering.record_usage` would have
written (same operations, statuses, units, and costs from the configured prices), with the
history's timestamp. They are collected here and written with one COPY at the end.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg

from services.providers.config import Prices, load_config
from services.providers.openai_client import TokenUsage, cost_of

COLUMNS = (
    "ts",
    "user_id",
    "project_id",
    "job_id",
    "provider",
    "operation",
    "units",
    "cost_usd",
    "status",
    "http_status",
    "latency_ms",
    "attempt",
    "subject",
    "error",
)


@dataclass(frozen=True)
class Who:
    """The CallContext of a call: who it was for (any may be None)."""

    user_id: int | None
    project_id: int | None = None
    job_id: int | None = None


@dataclass
class Usage:
    rng: random.Random
    rows: list[tuple[object, ...]] = field(default_factory=list)
    _prices: dict[str, Prices] = field(default_factory=dict)

    def price(self, provider: str) -> Prices:
        if provider not in self._prices:
            self._prices[provider] = load_config(provider).prices  # type: ignore[arg-type]
        return self._prices[provider]

    def add(
        self,
        at: datetime,
        who: Who,
        provider: str,
        operation: str,
        *,
        status: str = "ok",
        units: float = 0.0,
        cost_usd: float | None = None,
        http_status: int | None = 200,
        latency: tuple[int, int] = (120, 600),
        attempt: int = 1,
        subject: str | None = None,
        error: str | None = None,
    ) -> None:
        if cost_usd is None:
            cost_usd = units * self.price(provider).usd_per_unit
        self.rows.append(
            (
                at,
                who.user_id,
                who.project_id,
                who.job_id,
                provider,
                operation,
                units,
                round(cost_usd, 6),
                status,
                http_status,
                self.rng.randint(*latency),
                attempt,
                subject and subject[:500],
                error,
            )
        )

    def openai_cost(self, tokens_in: int, tokens_out: int) -> float:
        return cost_of(TokenUsage(tokens_in, tokens_out), self.price("openai"))

    def spread(self, start: datetime, seconds: float) -> datetime:
        """A moment within `seconds` after `start` (calls of one job are spread over its run)."""
        return start + timedelta(seconds=self.rng.uniform(0, max(seconds, 0.0)))

    def write(self, conn: psycopg.Connection) -> int:
        """COPY every collected row (inside the caller's transaction); returns how many."""
        if not self.rows:
            return 0
        _copy(conn, self.rows)
        written, self.rows = len(self.rows), []
        return written


def _copy(conn: psycopg.Connection, rows: list[tuple[object, ...]]) -> None:
    ordered = sorted(rows, key=lambda r: r[0])  # type: ignore[arg-type, return-value]
    with conn.cursor() as cur, cur.copy(f"COPY api_usage ({', '.join(COLUMNS)}) FROM STDIN") as cp:
        for row in ordered:
            cp.write_row(row)
