"""Resolve where Postgres and Redis are: the configured URLs, or the embedded defaults started here.

Called once by whichever process owns the deployment (the runner, a test session, or a plain
`gunicorn app:server` master before it forks); children inherit the resolved URLs through the
environment, so web and task workers never start servers themselves.
"""

from __future__ import annotations

import os

from services.core import embedded
from services.core.settings import Settings


def resolve_service_urls(settings: Settings, *, stop_on_exit: bool = False) -> tuple[str, str]:
    """Return (database_url, redis_url), starting embedded servers where none is configured."""
    database_url = settings.database_url or embedded.start_postgres(
        settings.var_dir, stop_on_exit=stop_on_exit
    )
    redis_url = settings.redis_url or embedded.start_redis(settings.var_dir)
    return database_url, redis_url


def export_service_urls(database_url: str, redis_url: str) -> None:
    """Put resolved URLs in the environment so child processes (workers) take the same ones."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
