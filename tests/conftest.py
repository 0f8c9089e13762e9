"""Test session wiring: a real Postgres and a real Redis, never mocks, started only when used.

With DATABASE_URL (or TEST_DATABASE_URL) set, a fresh database named SX_TEST_DB_NAME is created on
that server; without it, the embedded Postgres is started under a test var dir. Redis likewise:
REDIS_URL/TEST_REDIS_URL with database SX_TEST_REDIS_DB (default 15), else the embedded one.
Importing this module starts nothing: the `live_servers` session fixture does that the first time
a test needs them (tests/unit never does; the other tiers use it autouse), so a unit run needs no
server at all.

The session is hermetic: the test database is UTF8, C-collated and UTC whatever the server's
defaults; variables that change limits or budgets are dropped from the environment and `.env` is
not read; loopback bypasses any proxy; Hypothesis draws the same examples on every run.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis as redis_lib
from hypothesis import settings as hypothesis_settings
from psycopg import sql

from services.core import embedded

TABLES_KEPT = {"alembic_version"}
# The provider sandbox (a real HTTP server) and its controls, for any test that asks for them.
pytest_plugins = ["tests.integration.sandbox_fixture"]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _with_redis_db(url: str, db: int) -> str:
    if url.startswith("unix://"):
        base = url.split("?", 1)[0]
        return f"{base}?db={db}"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


# Embedded servers this test session started (and must stop), kept in the environment because
# pytest may import this module under two names and only one of them runs the start-up.
STARTED_ENV = "SX_TEST_EMBEDDED_STARTED"
# Set once the cheap, server-free part of the setup ran (at import); inherited by subprocesses.
PREPARED_ENV = "SX_TEST_PREPARED"
# Set once the test database exists and Redis answers; a subprocess inherits it and starts nothing.
SERVERS_READY_ENV = "SX_TEST_SERVERS_READY"
# Where the test database and Redis live when given (absent or empty: the embedded servers).
SERVER_ENV = "SX_TEST_DATABASE_SERVER"
REDIS_SERVER_ENV = "SX_TEST_REDIS_SERVER"


def _started(name: str) -> None:
    os.environ[STARTED_ENV] = ",".join(filter(None, [os.environ.get(STARTED_ENV, ""), name]))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # pgserver logs from atexit handlers, after pytest has closed the streams it captured;
    # silence it so the run ends on pytest's summary line, not on "--- Logging error ---".
    logging.getLogger("pgserver").disabled = True
    if os.getpid() != int(os.environ.get("SX_TEST_OWNER_PID", "0")):
        return  # a subprocess that inherited the environment owns nothing
    var_dir = Path(os.environ["SOURCINGX_VAR_DIR"])
    started = os.environ.get(STARTED_ENV, "").split(",")
    if "redis" in started:
        embedded.stop_redis(var_dir)
    if "postgres" in started:
        embedded.stop_postgres(var_dir)


# Variables that change what the code under test does (provider keys, plans, limits, budgets,
# retry timings, caps, bind addresses): a developer's shell or a CI runner must not flip a test, so
# the session starts without them; a test that needs one sets it itself (monkeypatch.setenv).
SCRUBBED_PREFIXES = (
    "PHANTOMBUSTER_",
    "CRUSTDATA_",
    "SALESQL_",
    "OPENAI_",
    "SHEETS_",
    "GOOGLE_SHEETS_",
)
SCRUBBED_NAMES = frozenset(
    {
        "SANDBOX_URL",
        "SANDBOX_CONFIG",
        "SANDBOX_PORT",
        "PROVIDER_LIMITER_FAIL_OPEN",
        "CONTACT_LOOKUP_FRESH_DAYS",
        "ENRICHMENT_FRESHNESS_DAYS",
        "EXPORT_ROW_CAP",
        "GRID_EXACT_COUNT_BUDGET_MS",
        "UPLOAD_MAX_BYTES",
        "SESSION_LIFETIME_HOURS",
        "SESSION_COOKIE_SECURE",
        "DB_POOL_MIN",
        "DB_POOL_MAX",
        "DB_STATEMENT_TIMEOUT_MS",
        "SEARCH_POLL_INTERVAL_S",
        "SEARCH_QUEUE_RECHECK_S",
        "SEARCH_UNKNOWN_DEADLINE_S",
        "SEARCH_MAX_RUN_S",
        "SCREENING_MODEL",
        "SCREENING_CONCURRENCY",
        "JOB_LOCK_TTL_S",
        "JOB_STALE_AFTER_S",
        "JOB_REAP_INTERVAL_S",
        "METRICS_TOKEN",
        "PROMETHEUS_MULTIPROC_DIR",
        "SOURCINGX_HOST_ID",
        "HOST",
        "PORT",
        "BIND",
        "WEB_CONCURRENCY",
        "WEB_THREADS",
        "WEB_MAX_REQUESTS",
        "WEB_MAX_REQUESTS_JITTER",
        "WEB_TIMEOUT",
        "WEB_ACCESS_LOG",
    }
)
# Loopback never goes through a proxy: httpx and urllib send 127.0.0.1 to HTTP(S)_PROXY/ALL_PROXY
# unless NO_PROXY names it, and the sandbox, gunicorn and the runner's probes all live there.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _scrub_environment() -> None:
    for name in list(os.environ):
        if name.startswith(SCRUBBED_PREFIXES) or name in SCRUBBED_NAMES:
            del os.environ[name]
    os.environ["SOURCINGX_DOTENV"] = ""  # settings read no `.env` (see services/core/settings.py)
    # Both spellings get the same list: urllib (which httpx asks as well) lets no_proxy win.
    hosts: list[str] = []
    for name in ("NO_PROXY", "no_proxy"):
        for host in os.environ.get(name, "").split(","):
            if host.strip() and host.strip() not in hosts:
                hosts.append(host.strip())
    hosts += [h for h in LOOPBACK if h not in hosts]
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = ",".join(hosts)


def _create_database(conn: psycopg.Connection, name: str) -> None:
    """A fresh database whose text order and clock do not depend on the server's defaults:
    UTF8 with C collation (byte order) and UTC sessions."""
    ident = sql.Identifier(name)
    # An ICU default (initdb --locale-provider=icu) would override LC_COLLATE; say libc (15+).
    libc = " LOCALE_PROVIDER 'libc'" if conn.info.server_version >= 150000 else ""
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(ident))
    conn.execute(
        sql.SQL(
            "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
            + libc
        ).format(ident)
    )
    conn.execute(sql.SQL("ALTER DATABASE {} SET TimeZone = 'UTC'").format(ident))


def _prepare_environment() -> None:
    """Runs once at import (before any app module reads settings) and starts nothing: the var
    dir, the test mode and secret, a scrubbed environment, and the Redis URL (a string; celery_app
    builds its broker from it at import). Servers start in `live_servers`, on first use."""
    if os.environ.get(PREPARED_ENV) == "1":
        return
    _scrub_environment()
    var_dir = Path(os.environ.get("SX_TEST_VAR_DIR") or tempfile.mkdtemp(prefix="sx-test-var-"))
    os.environ["SOURCINGX_VAR_DIR"] = str(var_dir)
    os.environ["SOURCINGX_ENV"] = "test"
    os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x1y2z3w4" * 4)
    # The server to create the test database on (empty: the embedded one). DATABASE_URL itself
    # stays unset until that database exists, so a test that needs none cannot reach one.
    given_url = os.environ.pop("DATABASE_URL", "")
    os.environ[SERVER_ENV] = os.environ.get("TEST_DATABASE_URL") or given_url
    redis_url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")
    if redis_url:
        os.environ[REDIS_SERVER_ENV] = redis_url
    else:
        os.environ.pop(REDIS_SERVER_ENV, None)
        redis_url = f"unix://{embedded.redis_socket_path(var_dir)}"  # where start_redis listens
    os.environ["REDIS_URL"] = _with_redis_db(
        redis_url, int(os.environ.get("SX_TEST_REDIS_DB", "15"))
    )
    os.environ["SX_TEST_OWNER_PID"] = str(os.getpid())
    os.environ[PREPARED_ENV] = "1"  # subprocesses (workers, servers) inherit the same setup


def _start_servers() -> None:
    """Create the test database (starting the embedded Postgres where no server is given) and
    start the embedded Redis where none is given; exports DATABASE_URL for this process and the
    subprocesses it starts later."""
    var_dir = Path(os.environ["SOURCINGX_VAR_DIR"])
    db_name = os.environ.get("SX_TEST_DB_NAME", "sourcingx_test")
    server_url = os.environ.get(SERVER_ENV, "")
    if server_url:
        admin_url = _with_database(server_url, "postgres")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (db_name,),
            )
            _create_database(conn, db_name)
        database_url = _with_database(server_url, db_name)
    else:
        uri = embedded.start_postgres(var_dir, stop_on_exit=False)  # stopped at session end
        _started("postgres")
        with psycopg.connect(uri, autocommit=True) as conn:
            _create_database(conn, db_name)
        database_url = _with_database(uri.split("?")[0], db_name) + "?" + uri.split("?", 1)[1]
    if not os.environ.get(REDIS_SERVER_ENV):
        embedded.start_redis(var_dir)
        _started("redis")
    os.environ["DATABASE_URL"] = database_url
    os.environ[SERVERS_READY_ENV] = "1"


_prepare_environment()

# The same inputs on every machine and every run: examples follow from the test alone, and no
# example database replays what an earlier run on this machine happened to find. Exploring with
# random inputs stays one flag away: `pytest --hypothesis-profile=explore`.
hypothesis_settings.register_profile("sourcingx", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile("sourcingx")

# A test whose few seconds must fall on one UTC day (a daily budget, a calendar-day limit window)
# waits out the last seconds before 00:00 UTC instead of straddling it. The margin covers the
# test's own run and clock skew between this host, Postgres and Redis.
MIDNIGHT_MARGIN_S = 60.0


@pytest.fixture()
def same_utc_day() -> dt.datetime:
    """Start a test at least MIDNIGHT_MARGIN_S before the next 00:00 UTC; returns its start."""
    now = dt.datetime.now(dt.UTC)
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    left = (midnight - now).total_seconds()
    if left < MIDNIGHT_MARGIN_S:
        time.sleep(left + 1.0)
    return dt.datetime.now(dt.UTC)


@pytest.fixture(scope="session")
def live_servers() -> None:
    """The test Postgres database and Redis, made ready once per session on first use; every
    fixture that talks to them depends on this, and the tiers that need them use it autouse."""
    if os.environ.get(SERVERS_READY_ENV) != "1":
        _start_servers()
    from services.core.settings import get_settings

    get_settings.cache_clear()  # settings read before this (at collection) had no database


@pytest.fixture(scope="session")
def database_url(live_servers: None) -> str:
    return os.environ["DATABASE_URL"]


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    from services.core import migrate

    migrate.upgrade(database_url)
    return database_url


@pytest.fixture()
def db(migrated: str) -> Iterator[psycopg.Connection]:
    """An empty, migrated database for one test; yields an autocommit connection to inspect it."""
    with psycopg.connect(migrated, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
            if r[0] not in TABLES_KEPT
        ]
        if tables:
            conn.execute(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
            )
        yield conn


@pytest.fixture()
def redis_conn(live_servers: None) -> Iterator[redis_lib.Redis]:
    """The test Redis database, emptied for this test."""
    client = redis_lib.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    client.flushdb()
    yield client
    client.close()
