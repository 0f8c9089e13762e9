"""Load test: recruiters and leads (Locust) at 10, 50 and 100 users against 2 gunicorn workers.

Usage:
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sx_bench_insights \\
        .venv/bin/python bench/load_test.py [--users 10,50,100] [--seconds 60] [--wait 2,8] \\
        [--spawn-rate 10]

The database must hold the data to browse (bench/bench_insights.py seeds 1M profiles, 50
projects, screenings and usage). Prints a table per stage and one JSON object as the last line:
p50/p95/p99 per action, error rate, requests/s, and each worker's PSS before and after.
gunicorn's max_requests is switched off here so worker memory is comparable across stages. One
Celery worker runs beside gunicorn, as in a deployment (it builds the grid's jump maps).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = secrets.token_urlsafe(16)  # fresh per run: the bench users exist only for it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_users(database_url: str) -> None:
    from services import auth
    from services.core import migrate

    migrate.upgrade(database_url)
    with psycopg.connect(database_url) as conn:
        for email, role in (
            ("load-recruiter@example.com", "recruiter"),
            ("load-lead@example.com", "lead"),
        ):
            conn.execute("DELETE FROM users WHERE email = %s", (email,))
            auth.create_user(conn, email, email.split("@")[0], PASSWORD, role)


def worker_pss_mb(master: subprocess.Popen[bytes]) -> list[float]:
    children = psutil.Process(master.pid).children()
    return sorted(round(c.memory_full_info().pss / 2**20, 1) for c in children)


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "app:server"],
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=open(Path(env["SOURCINGX_VAR_DIR"]) / "gunicorn.log", "wb"),  # noqa: SIM115
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not start")


def start_celery(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """One task worker, as a deployment has: it builds the grid's jump maps the jumps ask for."""
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "celery_app", "worker", "-c", "1",
         "--pool", "prefork", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(env["SOURCINGX_VAR_DIR"]) / "celery.log", "wb"),
    )  # fmt: skip


def run_stage(
    users: int,
    seconds: int,
    host: str,
    env: dict[str, str],
    out: Path,
    spawn_rate: float = 0,
    history: bool = False,
    reset_stats: bool = False,
) -> Path:
    """One Locust run; spawn_rate 0 means users/5 per second. With history, Locust also writes
    <prefix>_stats_history.csv (cumulative figures per second); with reset_stats the figures
    start once every user is spawned (and logged in), leaving the login storm out."""
    prefix = out / f"u{users}"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            str(ROOT / "bench/load/locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(spawn_rate or max(1, users // 5)),
            "-t",
            f"{seconds}s",
            "--host",
            host,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            *(["--csv-full-history"] if history else []),
            *(["--reset-stats"] if reset_stats else []),
        ],
        cwd=ROOT,
        env=env,
        check=False,
    )
    return Path(f"{prefix}_stats.csv")


def read_stats(path: Path) -> dict[str, Any]:
    actions: dict[str, Any] = {}
    total: dict[str, Any] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            entry = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0),
                "rps": round(float(row["Requests/s"] or 0), 1),
            }
            if row["Name"] == "Aggregated":
                total = entry
            elif row["Name"] not in ("login page", "login", "dash dependencies"):
                actions[row["Name"]] = entry
    return {"actions": actions, "total": total}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", default="10,50,100")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--spawn-rate", type=float, default=0, help="users started per second (default users/5)"
    )
    parser.add_argument(
        "--steady", action="store_true", help="count only after every user has started"
    )
    parser.add_argument(
        "--wait",
        default="0.5,2",
        help="think time between two actions of a user, 'min,max' seconds",
    )
    args = parser.parse_args()
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sx_bench_insights"
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    redis.Redis.from_url(redis_url).flushdb()
    var_dir = tempfile.mkdtemp(prefix="sx-load-")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SOURCINGX_VAR_DIR": var_dir,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SOURCINGX_ENV": "development",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": os.environ.get("WEB_THREADS", "4"),
        "WEB_MAX_REQUESTS": "0",
        "MALLOC_ARENA_MAX": os.environ.get(
            "MALLOC_ARENA_MAX", "2"
        ),  # as manage.py run and the image
        "DB_POOL_MAX": os.environ.get("DB_POOL_MAX", "4"),
        "LOG_LEVEL": "WARNING",
        "LOAD_RECRUITER": f"load-recruiter@example.com:{PASSWORD}",
        "LOAD_LEAD": f"load-lead@example.com:{PASSWORD}",
        "LOAD_PROJECT_IDS": ",".join(str(i) for i in range(1, 51)),
        "LOAD_WAIT": args.wait,
    }
    os.environ.update(
        {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SOURCINGX_VAR_DIR": var_dir}
    )
    ensure_users(database_url)
    port = free_port()
    master = start_gunicorn(env, port)
    worker = start_celery(env)
    host = f"http://127.0.0.1:{port}"
    out = Path(var_dir) / "locust"
    out.mkdir()
    results: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores",
        "think_time_s": args.wait,
        "stages": {},
    }
    try:
        for users in (int(u) for u in args.users.split(",")):
            before = worker_pss_mb(master)
            stats = read_stats(
                run_stage(users, args.seconds, host, env, out, args.spawn_rate, False, args.steady)
            )
            after = worker_pss_mb(master)
            total = stats["total"]
            results["stages"][str(users)] = {
                **stats,
                "error_rate": round(total["failures"] / max(total["requests"], 1), 4),
                "worker_pss_mb": {"before": before, "after": after},
            }
            print(
                f"\n== {users} users: {total['requests']} requests, {total['failures']} failed, "
                f"{total['rps']} req/s; worker PSS {before} -> {after} MB"
            )
            for name, a in sorted(stats["actions"].items()):
                print(
                    f"  {name:28s} n={a['requests']:6d} p50={a['p50_ms']:7.0f} "
                    f"p95={a['p95_ms']:7.0f} p99={a['p99_ms']:7.0f} fail={a['failures']}"
                )
    finally:
        worker.terminate()
        master.terminate()
        master.wait(timeout=30)
        worker.wait(timeout=30)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
