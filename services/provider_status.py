"""What the admin page shows about each provider: configured or sandbox, limits and budget, and
today's use. Never the key, nor anything derived from it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from services.providers.config import PROVIDERS, load_config
from services.providers.metering import spent_today


@dataclass(frozen=True)
class ProviderStatus:
    provider: str
    mode: str  # "configured", "sandbox" or "not configured"
    host: str
    limits: str
    concurrency: int
    daily_budget: float
    budget_metric: str
    used_today: float


def _period(seconds: float) -> str:
    return {60.0: "min", 86400.0: "day", 1.0: "s"}.get(seconds, f"{seconds:g}s")


def provider_status() -> list[ProviderStatus]:
    rows: list[ProviderStatus] = []
    for provider in PROVIDERS:
        config = load_config(provider)
        mode = "sandbox" if config.sandbox else "configured"
        if not config.base_url:
            mode = "not configured"
        limits = ", ".join(
            f"{r.limit:,} {r.counts}/{_period(r.period_s)}"
            + (" per user" if r.scope == "user" else "")
            for r in config.rules
        )
        if config.plan:
            limits = f"{config.plan} plan: {limits}"
        rows.append(
            ProviderStatus(
                provider=provider,
                mode=mode,
                host=urlsplit(config.base_url).netloc,
                limits=limits,
                concurrency=config.concurrency,
                daily_budget=config.daily_budget,
                budget_metric=config.budget_metric,
                used_today=spent_today(provider, config.budget_metric),
            )
        )
    return rows
