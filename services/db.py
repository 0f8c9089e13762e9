"""Postgres access: one connection pool per process, opened lazily after fork.

Repository functions take a psycopg Connection and never commit; a use case opens one
transaction with `transaction()` and everything inside commits or rolls back together.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool

from services.per_process import PerProcess
from services.settings import get_settings

POOL_TIMEOUT_S = 10.0


def database_url() -> str:
    url = get_settings().database_url
    if not url:
        raise RuntimeError("DATABASE_URL is not resolved; call services.runtime first")
    return url


def _configure(conn: psycopg.Connection) -> None:
    timeout = get_settings().db_statement_timeout_ms
    conn.execute(f"SET statement_timeout = {int(timeout)}")
    conn.execute("SET idle_in_transaction_session_timeout = 60000")
    conn.commit()


def _open_pool() -> ConnectionPool:
    settings = get_settings()
    return ConnectionPool(
        database_url(),
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        timeout=POOL_TIMEOUT_S,
        configure=_configure,
        check=ConnectionPool.check_connection,
        open=True,
        name=f"sourcingx-{os.getpid()}",
    )


_pool: PerProcess[ConnectionPool] = PerProcess(_open_pool, close=ConnectionPool.close)


def get_pool() -> ConnectionPool:
    """The pool of this process, created on first use (so never before gunicorn forks)."""
    return _pool.get()


def close_pool() -> None:
    _pool.reset()


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """One unit of work: commits when the block succeeds, rolls back when it raises."""
    with get_pool().connection() as conn:
        yield conn


@contextmanager
def direct_connection(autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A connection outside the pool, for long streams (exports, COPY) and CLI commands."""
    with psycopg.connect(database_url(), autocommit=autocommit) as conn:
        yield conn
