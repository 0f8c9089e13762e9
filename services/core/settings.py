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

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def uses_sandbox(self) -> bool:
        return not self.providers.any_real_key


def _read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; the real environment always wins over the file."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from `environ` alone when one is given; by default from os.environ over
    the `.env` file (the real environment wins). An explicit mapping is the whole configuration,
    so a developer's `.env` cannot change what a test or tool asked for."""
    if environ is None:
        path = dotenv_path(os.environ)
        base = _read_dotenv(path) if path else {}
        base.update(os.environ)
    else:
        base = dict(environ)
    env_name = base.get("SOURCINGX_ENV", "development").strip().lower()
    if env_name not in {"development", "production", "test"}:
        raise SettingsError(
            f"SOURCINGX_ENV must be development, production or test, not {env_name!r}"
        )
    var_dir = Path(base.get("SOURCINGX_VAR_DIR") or PROJECT_ROOT / "var").resolve()
    if env_name == "production":
        secret = check_secret_key(base.get("SECRET_KEY"))
    else:
        secret = base.get("SECRET_KEY") or _development_secret(var_dir)
    providers = ProviderKeys(
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
    return Settings(
        env=env_name,  # type: ignore[arg-type]
        secret_key=secret,
        database_url=base.get("DATABASE_URL") or None,
        redis_url=base.get("REDIS_URL") or None,
        var_dir=var_dir,
        sandbox_url=base.get("SANDBOX_URL") or None,
        providers=providers,
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
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once. Settings are configuration, not user data."""
    return load_settings()
