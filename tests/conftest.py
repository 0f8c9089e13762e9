"""Test session wiring: a real Postgres and a real Redis, never mocks.

With DATABASE_URL (or TEST_DATABASE_URL) set, a fresh database named SX_TEST_DB_NAME is created on
that server; without it, the embedded Postgres is started under a test var dir. Redis likewise:
REDIS_URL/TEST_REDIS_URL with database SX_TEST_REDIS_DB (default 15), else the embedded one.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis as redis_lib

from services import embedded

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


def _prepare_environment() -> None:
    """Runs once at import (before any app module reads settings)."""
    if os.environ.get("SX_TEST_PREPARED") == "1":
        return
    var_dir = Path(os.environ.get("SX_TEST_VAR_DIR") or tempfile.mkdtemp(prefix="sx-test-var-"))
    os.environ["SOURCINGX_VAR_DIR"] = str(var_dir)
    os.environ["SOURCINGX_ENV"] = "test"
    os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x1y2z3w4" * 4)
    server_url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    db_name = os.environ.get("SX_TEST_DB_NAME", "sourcingx_test")
    if server_url:
        admin_url = _with_database(server_url, "postgres")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (db_name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
            conn.execute(f'CREATE DATABASE "{db_name}"')
        os.environ["DATABASE_URL"] = _with_database(server_url, db_name)
    else:
        uri = embedded.start_postgres(var_dir, stop_on_exit=False)  # stopped at session end
        _started("postgres")
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
            conn.execute(f'CREATE DATABASE "{db_name}"')
        os.environ["DATABASE_URL"] = (
            _with_database(uri.split("?")[0], db_name) + "?" + uri.split("?", 1)[1]
        )
    redis_url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")
    redis_db = int(os.environ.get("SX_TEST_REDIS_DB", "15"))
    if not redis_url:
        redis_url = embedded.start_redis(var_dir)
        _started("redis")
    os.environ["REDIS_URL"] = _with_redis_db(redis_url, redis_db)
    os.environ["SX_TEST_OWNER_PID"] = str(os.getpid())
    os.environ["SX_TEST_PREPARED"] = "1"  # subprocesses (workers, servers) inherit the same setup


_prepare_environment()


@pytest.fixture(scope="session")
def database_url() -> str:
    return os.environ["DATABASE_URL"]


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    from services import migrate

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
def redis_conn() -> Iterator[redis_lib.Redis]:
    """The test Redis database, emptied for this test."""
    client = redis_lib.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    client.flushdb()
    yield client
    client.close()
