"""One typed settings object, read once from the environment (and an optional git-ignored `.env`).

Production mode refuses to start without a strong `SECRET_KEY`; development mode generates one and
keeps it under `./var/` so every worker and every restart signs sessions with the same key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIN_SECRET_LENGTH = 32
# Values that have shipped as "defaults" in tutorials and templates; a key equal to one of them is
# as good as public (see Superset CVE-2023-27524).
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "CHANGE_ME",
        "secret",
        "dev",
        "development",
        "your-secret-key",
        "supersecret",
        "please-change-this-secret-key-in-production",
    }
)


class SettingsError(RuntimeError):
    """The environment does not describe a runnable configuration."""


@dataclass(frozen=True)
class ProviderKeys:
    """API keys and base URLs of the external providers; an empty key means 'use the sandbox'."""

    phantombuster_key: str = ""
    crustdata_key: str = ""
    salesql_key: str = ""
    openai_key: str = ""
    google_sheets_key: str = ""
    phantombuster_base_url: str = "https://api.phantombuster.com/api/v2"
    crustdata_base_url: str = "https://api.crustdata.com"
    salesql_base_url: str = "https://api-public.salesql.com/v1"
    openai_base_url: str = "https://api.openai.com/v1"
    sheets_base_url: str = "https://sheets.googleapis.com/v4"

    @property
    def any_real_key(self) -> bool:
        return any(
            (
                self.phantombuster_key,
                self.crustdata_key,
                self.salesql_key,
                self.openai_key,
                self.google_sheets_key,
            )
        )

    def __repr__(self) -> str:  # keys must never reach a log line through repr()
        return "ProviderKeys(<redacted>)"


@dataclass(frozen=True)
class Settings:
    """Everything the web tier, the task workers and the CLI need to know about their environment."""

    env: Literal["development", "production", "test"]
    secret_key: str = field(repr=False)
    database_url: str | None
    redis_url: str | None
    var_dir: Path
    sandbox_url: str | None
    providers: ProviderKeys
    db_pool_min: int = 1
    db_pool_max: int = 4
    db_statement_timeout_ms: int = 15000
    export_row_cap: int = 200_000
    # How long the profiles page's count may run in a web request before the page shows
    # Postgres's estimate and a task worker counts exactly; 0: always the estimate first.
    grid_exact_count_budget_ms: int = 400
    upload_max_bytes: int = 20 * 1024 * 1024
    enrichment_freshness_days: int = 90
    session_lifetime_hours: int = 12
    trust_tls: bool = False
    # Where providers can reach this app (PhantomBuster's run webhook); None: poll only.
    public_url: str | None = None
    host_id: str = ""  # named in a response header: which host answered, behind a balancer

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def uses_sandbox(self) -> bool:
        return not self.providers.any_real_key


def _read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; the real environment always wins over the file."""
    try:
        stat = path.stat()
    except OSError:
        return {}
    # Knobs are read per use (see `tuning()`): parse the file again only when it changed.
    return dict(_parse_dotenv(path, stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=4)
def _parse_dotenv(path: Path, _mtime_ns: int, _size: int) -> tuple[tuple[str, str], ...]:
    values: dict[str, str] = {}
    if not path.is_file():
        return ()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return tuple(values.items())


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def check_secret_key(key: str | None) -> str:
    """Return the key if it is fit for production, else raise SettingsError saying why."""
    if not key:
        raise SettingsError(
            "SECRET_KEY is missing: production mode needs a random key of 32+ chars"
        )
    if key in KNOWN_DEFAULT_SECRETS or key.lower() in KNOWN_DEFAULT_SECRETS:
        raise SettingsError("SECRET_KEY is a well-known default: generate a random one")
    if len(key) < MIN_SECRET_LENGTH:
        raise SettingsError(f"SECRET_KEY is too short: use at least {MIN_SECRET_LENGTH} characters")
    if len(set(key)) < 8:
        raise SettingsError("SECRET_KEY is not random enough: too few distinct characters")
    return key


def _development_secret(var_dir: Path) -> str:
    """A per-checkout key kept under var/, so all workers and restarts share it."""
    path = var_dir / "secret_key"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key, encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)  # atomic, so two processes starting at once agree on one key
    return path.read_text(encoding="utf-8").strip()


def dotenv_path(environ: Mapping[str, str]) -> Path | None:
    """The `.env` file to read: `SOURCINGX_DOTENV` if set (empty: none), else the project's."""
    raw = environ.get("SOURCINGX_DOTENV")
    if raw is None:
        return PROJECT_ROOT / ".env"
    return Path(raw) if raw.strip() else None


def environment() -> dict[str, str]:
    """The process's configuration: os.environ over the `.env` file (the real environment wins).
    This module is the one place the environment is read; everything else asks it."""
    path = dotenv_path(os.environ)
    base = _read_dotenv(path) if path else {}
    base.update(os.environ)
    return base


def _env_name(base: Mapping[str, str]) -> str:
    env_name = base.get("SOURCINGX_ENV", "development").strip().lower()
    if env_name not in {"development", "production", "test"}:
        raise SettingsError(
            f"SOURCINGX_ENV must be development, production or test, not {env_name!r}"
        )
    return env_name


def _secret_key(base: Mapping[str, str], env_name: str, var_dir: Path) -> str:
    if env_name == "production":
        return check_secret_key(base.get("SECRET_KEY"))
    return base.get("SECRET_KEY") or _development_secret(var_dir)


def _provider_keys(base: Mapping[str, str]) -> ProviderKeys:
    return ProviderKeys(
        phantombuster_key=base.get("PHANTOMBUSTER_API_KEY", ""),
        crustdata_key=base.get("CRUSTDATA_API_KEY", ""),
        salesql_key=base.get("SALESQL_API_KEY", ""),
        openai_key=base.get("OPENAI_API_KEY", ""),
        google_sheets_key=base.get("GOOGLE_SHEETS_API_KEY", ""),
        **{
            f"{name}_base_url": base[f"{name.upper()}_BASE_URL"]
            for name in ("phantombuster", "crustdata", "salesql", "openai", "sheets")
            if base.get(f"{name.upper()}_BASE_URL")
        },
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from `environ` alone when one is given; by default from `environment()`.
    An explicit mapping is the whole configuration, so a developer's `.env` cannot change what a
    test or tool asked for."""
    base = environment() if environ is None else dict(environ)
    env_name = _env_name(base)
    var_dir = Path(base.get("SOURCINGX_VAR_DIR") or PROJECT_ROOT / "var").resolve()
    return Settings(
        env=env_name,  # type: ignore[arg-type]
        secret_key=_secret_key(base, env_name, var_dir),
        database_url=base.get("DATABASE_URL") or None,
        redis_url=base.get("REDIS_URL") or None,
        var_dir=var_dir,
        sandbox_url=base.get("SANDBOX_URL") or None,
        providers=_provider_keys(base),
        db_pool_min=_int(base, "DB_POOL_MIN", 1),
        db_pool_max=_int(base, "DB_POOL_MAX", 4),
        db_statement_timeout_ms=_int(base, "DB_STATEMENT_TIMEOUT_MS", 15000),
        export_row_cap=_int(base, "EXPORT_ROW_CAP", 200_000),
        grid_exact_count_budget_ms=_int(base, "GRID_EXACT_COUNT_BUDGET_MS", 400),
        upload_max_bytes=_int(base, "UPLOAD_MAX_BYTES", 20 * 1024 * 1024),
        enrichment_freshness_days=_int(base, "ENRICHMENT_FRESHNESS_DAYS", 90),
        session_lifetime_hours=_int(base, "SESSION_LIFETIME_HOURS", 12),
        trust_tls=_bool(base, "SESSION_COOKIE_SECURE", env_name == "production"),
        public_url=(base.get("PUBLIC_BASE_URL") or "").strip().rstrip("/") or None,
        host_id=base.get("SOURCINGX_HOST_ID", ""),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once. Settings are configuration, not user data."""
    return load_settings()


@dataclass(frozen=True)
class Tuning:
    """Operational knobs: intervals, limits and switches that ops (and tests) change per process
    start. Unlike `Settings` they are read on every `tuning()` call, so a worker started with a
    changed environment uses it without any cache to clear."""

    search_poll_interval_s: float = 2.0
    search_queue_recheck_s: float = 5.0
    search_unknown_deadline_s: float = 600.0
    search_max_run_s: float = 3 * 3600.0
    search_webhook_poll_s: float = 60.0
    phantombuster_agents: Mapping[str, str] = field(default_factory=dict)  # kind -> agent id
    phantombuster_identity_id: str = ""
    phantombuster_result_hosts: frozenset[str] = frozenset({"phantombuster.s3.amazonaws.com"})
    crustdata_result_hosts: frozenset[str] = frozenset(
        {"crustdata-batch-api-data.s3.amazonaws.com"}
    )
    crustdata_batch_min: int = 500
    crustdata_batch_busy_s: float = 60.0
    crustdata_batch_poll_s: float = 30.0
    salesql_bare_429_wait_s: float = 60.0
    provider_limiter_fail_open: bool = False
    screening_model: str = "gpt-4o-mini"
    screening_concurrency: int = 4
    contact_lookup_fresh_days: int = 30
    job_lock_ttl_s: int = 60
    job_stale_after_s: int = 120
    job_reap_interval_s: float = 30.0
    metrics_token: str = field(default="", repr=False)
    prometheus_multiproc_dir: str | None = None
    log_format: str = "json"
    log_level: str = "INFO"


@dataclass(frozen=True)
class WebServer:
    """How `manage.py run` and gunicorn serve the app."""

    host: str = "127.0.0.1"
    port: int = 8050
    bind: str = "127.0.0.1:8050"
    workers: int = 2
    threads: int = 4
    max_requests: int = 5000
    max_requests_jitter: int = 500
    timeout_s: int = 30
    access_log: str | None = None
    log_level: str = "info"
    malloc_arena_max: str = "2"


def _hosts(env: Mapping[str, str], name: str, default: frozenset[str]) -> frozenset[str]:
    raw = env.get(name)
    if raw is None:
        return default
    return frozenset(h.strip() for h in raw.split(",") if h.strip())


def _screening_concurrency(env: Mapping[str, str]) -> int:
    try:  # a typo falls back to the default rather than stopping a running worker
        return int(env.get("SCREENING_CONCURRENCY", "4"))
    except ValueError:
        return 4


def tuning(environ: Mapping[str, str] | None = None) -> Tuning:
    """The operational knobs, read now from `environ` (default: `environment()`)."""
    env = environment() if environ is None else environ
    d = Tuning()
    return Tuning(
        search_poll_interval_s=_float(env, "SEARCH_POLL_INTERVAL_S", d.search_poll_interval_s),
        search_queue_recheck_s=_float(env, "SEARCH_QUEUE_RECHECK_S", d.search_queue_recheck_s),
        search_unknown_deadline_s=_float(
            env, "SEARCH_UNKNOWN_DEADLINE_S", d.search_unknown_deadline_s
        ),
        search_max_run_s=_float(env, "SEARCH_MAX_RUN_S", d.search_max_run_s),
        search_webhook_poll_s=_float(env, "SEARCH_WEBHOOK_POLL_S", d.search_webhook_poll_s),
        phantombuster_agents={
            name.removeprefix("PHANTOMBUSTER_AGENT_").lower(): value
            for name, value in env.items()
            if name.startswith("PHANTOMBUSTER_AGENT_")
        },
        phantombuster_identity_id=env.get("PHANTOMBUSTER_IDENTITY_ID", "").strip(),
        phantombuster_result_hosts=_hosts(
            env, "PHANTOMBUSTER_RESULT_HOSTS", d.phantombuster_result_hosts
        ),
        crustdata_result_hosts=_hosts(env, "CRUSTDATA_RESULT_HOSTS", d.crustdata_result_hosts),
        crustdata_batch_min=_int(env, "CRUSTDATA_BATCH_MIN", d.crustdata_batch_min),
        crustdata_batch_busy_s=_float(env, "CRUSTDATA_BATCH_BUSY_S", d.crustdata_batch_busy_s),
        crustdata_batch_poll_s=_float(env, "CRUSTDATA_BATCH_POLL_S", d.crustdata_batch_poll_s),
        salesql_bare_429_wait_s=_float(env, "SALESQL_BARE_429_WAIT_S", d.salesql_bare_429_wait_s),
        provider_limiter_fail_open=env.get("PROVIDER_LIMITER_FAIL_OPEN", "").lower()
        in {"1", "true", "yes"},
        screening_model=env.get("SCREENING_MODEL", d.screening_model),
        screening_concurrency=_screening_concurrency(env),
        contact_lookup_fresh_days=_int(env, "CONTACT_LOOKUP_FRESH_DAYS", 30),
        job_lock_ttl_s=_int(env, "JOB_LOCK_TTL_S", d.job_lock_ttl_s),
        job_stale_after_s=_int(env, "JOB_STALE_AFTER_S", d.job_stale_after_s),
        job_reap_interval_s=_float(env, "JOB_REAP_INTERVAL_S", d.job_reap_interval_s),
        metrics_token=env.get("METRICS_TOKEN", ""),
        prometheus_multiproc_dir=env.get("PROMETHEUS_MULTIPROC_DIR") or None,
        log_format=env.get("LOG_FORMAT", d.log_format),
        log_level=env.get("LOG_LEVEL", d.log_level),
    )


def web_server(environ: Mapping[str, str] | None = None) -> WebServer:
    """Serving parameters (gunicorn and `manage.py run`), read now from `environ`."""
    env = environment() if environ is None else environ
    d = WebServer()
    host = env.get("HOST", d.host)
    port = _int(env, "PORT", d.port)
    return WebServer(
        host=host,
        port=port,
        bind=env.get("BIND", f"{host}:{port}"),
        workers=_int(env, "WEB_CONCURRENCY", d.workers),
        threads=_int(env, "WEB_THREADS", d.threads),
        max_requests=_int(env, "WEB_MAX_REQUESTS", d.max_requests),
        max_requests_jitter=_int(env, "WEB_MAX_REQUESTS_JITTER", d.max_requests_jitter),
        timeout_s=_int(env, "WEB_TIMEOUT", d.timeout_s),
        access_log=env.get("WEB_ACCESS_LOG") or None,
        log_level=env.get("LOG_LEVEL", d.log_level).lower(),
        malloc_arena_max=env.get("MALLOC_ARENA_MAX", d.malloc_arena_max),
    )
