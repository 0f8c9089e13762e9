"""Postgres access: one connection pool per process, opened lazily after fork.

Repository functions take a psycopg Connection and never commit; a use case opens one
transaction with `unit_of_work()` and everything inside commits or rolls back together. A unit
of work opened inside another joins it, and `after_commit` hooks (enqueueing a job, asking for a
refresh) run only once the outermost one has committed: never for work that rolled back.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import psycopg
from psycopg_pool import ConnectionPool

from services.core.per_process import PerProcess
from services.core.settings import get_settings

log = logging.getLogger(__name__)
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


@dataclass
class _Unit:
    conn: psycopg.Connection
    hooks: list[Callable[[], object]] = field(default_factory=list)


_current: ContextVar[_Unit | None] = ContextVar("sx_unit_of_work", default=None)


@contextmanager
def unit_of_work() -> Iterator[psycopg.Connection]:
    """One use case's transaction: commits when the outermost block succeeds, rolls back when it
    raises. Nested blocks share the outer connection, so a use case built from other use cases
    still commits once."""
    outer = _current.get()
    if outer is not None:
        yield outer.conn
        return
    with get_pool().connection() as conn:
        unit = _Unit(conn)
        token = _current.set(unit)
        try:
            yield conn
        finally:
            _current.reset(token)
    _run_hooks(unit.hooks)  # reached only when the block committed


def after_commit(hook: Callable[[], object]) -> None:
    """Run `hook` once the current unit of work has committed (at once outside of one), e.g.
    enqueue a job whose row the unit inserts: a worker must never look for a row not yet
    committed, and a rolled-back row must never be enqueued."""
    unit = _current.get()
    if unit is None:
        hook()
    else:
        unit.hooks.append(hook)


def _run_hooks(hooks: list[Callable[[], object]]) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # the data is committed; a hook's failure must not undo the answer
            log.exception("after-commit hook %r failed", hook)


@contextmanager
def direct_connection(autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A connection outside the pool, for long streams (exports, COPY) and CLI commands."""
    with psycopg.connect(database_url(), autocommit=autocommit) as conn:
        yield conn
