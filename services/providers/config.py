"""Per-provider limits, budgets, prices, timeouts and base URLs, read from the environment.

Every number has a default taken from the provider's documentation (external-apis.md) and can be
overridden with an environment variable named `<PROVIDER>_<SETTING>`, e.g. `CRUSTDATA_RATE_PER_MIN`.
When a provider's API key is empty the base URL becomes the local sandbox (`SANDBOX_URL` + a
provider prefix), so development and tests never reach a real provider by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from services.core.settings import Settings, environment, get_settings
from services.providers.errors import NotConfigured, register_secret

Provider = Literal["phantombuster", "crustdata", "salesql", "openai", "sheets"]
PROVIDERS: tuple[Provider, ...] = ("phantombuster", "crustdata", "salesql", "openai", "sheets")

# Path under the sandbox server that mirrors each provider's real base URL path.
SANDBOX_PREFIX: dict[Provider, str] = {
    "phantombuster": "/phantombuster/api/v2",
    "crustdata": "/crustdata",
    "salesql": "/salesql/v1",
    "openai": "/openai/v1",
    "sheets": "/sheets/v4",
}
# Sent to the sandbox when no real key is configured; the sandbox only checks that one is present.
SANDBOX_KEY = "sandbox-key"

_KEY_ATTR: dict[Provider, str] = {
    "phantombuster": "phantombuster_key",
    "crustdata": "crustdata_key",
    "salesql": "salesql_key",
    "openai": "openai_key",
    "sheets": "google_sheets_key",
}

Scope = Literal["provider", "user"]
Metric = Literal["units", "cost_usd"]


@dataclass(frozen=True)
class RuleSpec:
    """One rate limit: `limit` per `period_s`, shared by every process (GCRA in Redis)."""

    name: str
    limit: int
    period_s: float
    burst: int = 1
    scope: Scope = "provider"
    # "requests": each call costs 1; "tokens": each call costs its estimated token count.
    counts: Literal["requests", "tokens"] = "requests"
    # "gcra" spaces calls evenly; "window" is a calendar window (a daily one resets at 00:00 UTC).
    kind: Literal["gcra", "window"] = "gcra"


@dataclass(frozen=True)
class Prices:
    """USD prices: per unit (credit, launch) or, for OpenAI, per million tokens."""

    usd_per_unit: float = 0.0
    input_per_m: float = 0.0
    cached_input_per_m: float = 0.0
    output_per_m: float = 0.0


@dataclass(frozen=True)
class ProviderConfig:
    """Everything a client needs: where to call, with which key, how fast, how often, how much."""

    provider: Provider
    base_url: str
    api_key: str = field(repr=False)
    sandbox: bool
    rules: tuple[RuleSpec, ...]
    concurrency: int
    daily_budget: float  # 0 means no budget
    budget_metric: Metric
    connect_timeout_s: float
    read_timeout_s: float
    max_attempts: int
    max_retry_s: float
    backoff_base_s: float
    backoff_max_s: float
    limiter_wait_s: float
    concurrency_ttl_s: float
    prices: Prices
    plan: str | None = None  # the account's plan where limits depend on it (SalesQL)

    def __repr__(self) -> str:  # the key is never part of a repr
        return f"ProviderConfig({self.provider!r}, base_url={self.base_url!r}, key=<redacted>)"

    def require_base_url(self) -> str:
        if not self.base_url:
            raise NotConfigured(
                self.provider, "no API key and no SANDBOX_URL configured for this provider"
            )
        return self.base_url


def _num(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    if raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(_num(env, name, default))


# Documented limits (external-apis.md); PhantomBuster documents none, so ours is conservative.
_DEFAULTS: dict[Provider, dict[str, float]] = {
    # PhantomBuster bills execution time: its budget is seconds of runs per day (2 h).
    "phantombuster": {"CONCURRENCY": 4, "DAILY_BUDGET": 7200, "READ_TIMEOUT_S": 30},
    "crustdata": {"CONCURRENCY": 2, "DAILY_BUDGET": 5000, "READ_TIMEOUT_S": 60},
    "salesql": {"CONCURRENCY": 4, "DAILY_BUDGET": 2000, "READ_TIMEOUT_S": 30},
    "openai": {"CONCURRENCY": 8, "DAILY_BUDGET": 20.0, "READ_TIMEOUT_S": 60},
    "sheets": {"CONCURRENCY": 4, "DAILY_BUDGET": 0, "READ_TIMEOUT_S": 20},
}


# SalesQL's limits by plan (help.salesql.com FAQ, docs.salesql.com pricing): calls per day and
# per minute. "starter" is the older 600/day tier (Starter, Advanced, Pro Monthly; ≤50/min).
SALESQL_PLANS: dict[str, tuple[int, int]] = {
    "starter": (600, 50),
    "professional": (5000, 180),
    "organization": (20000, 300),
}


def salesql_plan(env: Mapping[str, str]) -> str:
    """`SALESQL_PLAN` (default professional); an unknown name is refused, not guessed."""
    plan = (env.get("SALESQL_PLAN") or "professional").strip().lower()
    if plan not in SALESQL_PLANS:
        raise ValueError(f"SALESQL_PLAN must be one of {', '.join(SALESQL_PLANS)}, got {plan!r}")
    return plan


def _rules(provider: Provider, env: Mapping[str, str]) -> tuple[RuleSpec, ...]:
    p = provider.upper()
    if provider == "phantombuster":
        return (RuleSpec("rpm", _int(env, f"{p}_RATE_PER_MIN", 30), 60.0),)
    if provider == "crustdata":
        return (RuleSpec("rpm", _int(env, f"{p}_RATE_PER_MIN", 15), 60.0),)
    if provider == "salesql":
        per_day, per_min = SALESQL_PLANS[salesql_plan(env)]
        return (
            RuleSpec("rpm", _int(env, f"{p}_RATE_PER_MIN", per_min), 60.0),
            RuleSpec("rpd", _int(env, f"{p}_RATE_PER_DAY", per_day), 86400.0, kind="window"),
        )
    if provider == "openai":
        tpm = _int(env, "OPENAI_TOKENS_PER_MIN", 200_000)
        return (
            RuleSpec("rpm", _int(env, "OPENAI_RATE_PER_MIN", 500), 60.0),
            # Tokens need a burst: one request may cost thousands of tokens at once.
            RuleSpec(
                "tpm",
                tpm,
                60.0,
                burst=_int(env, "OPENAI_TOKENS_BURST", max(1, tpm // 6)),
                counts="tokens",
            ),
        )
    return (
        RuleSpec("rpm_user", _int(env, "SHEETS_RATE_PER_MIN_PER_USER", 60), 60.0, scope="user"),
        RuleSpec("rpm", _int(env, "SHEETS_RATE_PER_MIN", 300), 60.0),
    )


def _prices(provider: Provider, env: Mapping[str, str]) -> Prices:
    if provider == "openai":
        # gpt-4o-mini list prices (third-party tables, external-apis.md); override per deployment.
        return Prices(
            input_per_m=_num(env, "OPENAI_PRICE_INPUT_PER_M", 0.15),
            cached_input_per_m=_num(env, "OPENAI_PRICE_CACHED_INPUT_PER_M", 0.075),
            output_per_m=_num(env, "OPENAI_PRICE_OUTPUT_PER_M", 0.60),
        )
    # Crustdata and SalesQL: USD per credit; PhantomBuster: USD per second of execution time
    # (about a Pro plan's price per hour / 3600; set your plan's).
    default_unit = {"crustdata": 0.01, "salesql": 0.02, "phantombuster": 0.0006}.get(provider, 0.0)
    return Prices(usd_per_unit=_num(env, f"{provider.upper()}_USD_PER_UNIT", default_unit))


def _base_url(provider: Provider, settings: Settings) -> tuple[str, str, bool]:
    """(base_url, key, is_sandbox): a real key uses the configured base URL, else the sandbox."""
    keys = settings.providers
    key = str(getattr(keys, _KEY_ATTR[provider]))
    if key:
        register_secret(key)
        url = str(getattr(keys, f"{provider}_base_url")).rstrip("/")
        sandbox = bool(settings.sandbox_url) and url.startswith(
            str(settings.sandbox_url).rstrip("/")
        )
        return url, key, sandbox
    if not settings.sandbox_url:
        return "", "", True
    return settings.sandbox_url.rstrip("/") + SANDBOX_PREFIX[provider], SANDBOX_KEY, True


def load_config(
    provider: Provider,
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
) -> ProviderConfig:
    """Build one provider's configuration from settings (keys, URLs) and env (limits, budgets)."""
    settings = settings or get_settings()
    env = environment() if env is None else env
    p = provider.upper()
    d = _DEFAULTS[provider]
    base_url, key, sandbox = _base_url(provider, settings)
    budget_metric: Metric = "cost_usd" if provider == "openai" else "units"
    return ProviderConfig(
        provider=provider,
        base_url=base_url,
        api_key=key,
        sandbox=sandbox,
        rules=_rules(provider, env),
        concurrency=_int(env, f"{p}_CONCURRENCY", int(d["CONCURRENCY"])),
        daily_budget=_num(env, f"{p}_DAILY_BUDGET", d["DAILY_BUDGET"]),
        budget_metric=budget_metric,
        connect_timeout_s=_num(env, f"{p}_CONNECT_TIMEOUT_S", 5.0),
        read_timeout_s=_num(env, f"{p}_READ_TIMEOUT_S", d["READ_TIMEOUT_S"]),
        max_attempts=_int(env, f"{p}_MAX_ATTEMPTS", 5),
        max_retry_s=_num(env, f"{p}_MAX_RETRY_S", 120.0),
        backoff_base_s=_num(env, f"{p}_BACKOFF_BASE_S", 1.0),
        backoff_max_s=_num(env, f"{p}_BACKOFF_MAX_S", 30.0),
        limiter_wait_s=_num(env, f"{p}_LIMIT_WAIT_S", 30.0),
        concurrency_ttl_s=_num(env, f"{p}_CONCURRENCY_TTL_S", 120.0),
        prices=_prices(provider, env),
        plan=salesql_plan(env) if provider == "salesql" else None,
    )
