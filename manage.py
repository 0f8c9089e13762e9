"""SourcingX command line: run everything, migrate, create users, seed demo data, run a worker.

`python manage.py run` is the one-command start: it resolves Postgres and Redis (configured or
embedded), migrates, creates the first admin (printing its password once), seeds demo data into
an empty database, and runs the sandbox providers, gunicorn and a Celery worker as children,
stopping them all on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

from services import auth, demo
from services.core import migrate
from services.core.db import close_pool, direct_connection
from services.core.metrics import prepare_multiprocess_dir
from services.core.runtime import export_service_urls, resolve_service_urls
from services.core.settings import PROJECT_ROOT, environment, get_settings, web_server

BIN = Path(sys.executable).parent


def _resolve(stop_on_exit: bool = False) -> None:
    settings = get_settings()
    database_url, redis_url = resolve_service_urls(settings, stop_on_exit=stop_on_exit)
    export_service_urls(database_url, redis_url)
    get_settings.cache_clear()


def cmd_migrate(_: argparse.Namespace) -> int:
    _resolve()
    migrate.upgrade()
    print("database is at the latest migration")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    _resolve()
    password = args.password or auth.generate_password()
    with direct_connection() as conn:
        user = auth.create_user(conn, args.email, args.name or "", password, args.role)
    print(
        f"created {user.role} {user.email}"
        + ("" if args.password else f" with password {password}")
    )
    return 0


def _seed(conn: psycopg.Connection, count: int, seed: int) -> demo.DemoReport:
    """The demo data up to the database's current time (the one place `now` is read: the
    clock, not the transaction's start, so it is after anything this transaction wrote)."""
    row = conn.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    try:
        return demo.seed_demo(conn, count, seed, now=row[0])
    finally:
        close_pool()  # the seed's pooled connections are not needed by this process after it


def cmd_seed_demo(args: argparse.Namespace) -> int:
    _resolve()
    started = time.perf_counter()
    with direct_connection() as conn:
        report = _seed(conn, args.count, args.seed)
    _bump_all()
    result = report.profiles
    history = (
        "; team history: " + ", ".join(f"{n:,} {table}" for table, n in report.counts.items())
        if report.history
        else "; projects exist already, so no demo history was added"
    )
    print(
        f"seeded {result.inserted:,} of {result.requested:,} profiles in "
        f"{time.perf_counter() - started:.1f}s (seed {args.seed}){history}"
    )
    return 0


def _bump_all() -> None:
    from services.core.cache import bump_data_version

    bump_data_version("profiles", "projects", "insights")


def _first_start(seed_count: int) -> str | None:
    """Migrate; create the first admin and demo data on an empty database. Returns a one-time
    message with the admin's credentials, or None when users already existed."""
    migrate.upgrade()
    message = None
    with direct_connection() as conn:
        if auth.count_users(conn) == 0:
            password = auth.generate_password()
            auth.create_user(conn, "admin@sourcingx.local", "Admin", password, "admin")
            message = f"Sign in as admin@sourcingx.local with password {password} (shown once)"
        empty = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM profiles)").fetchone()
        if empty and empty[0] and seed_count > 0:
            _seed(conn, seed_count, 42)
    _bump_all()
    return message


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 - our own localhost
                if resp.status < 500:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def _start_sandbox(children: list[subprocess.Popen[bytes]]) -> None:
    if not get_settings().uses_sandbox or environment().get("SANDBOX_URL"):
        return
    if not (PROJECT_ROOT / "sandbox" / "__main__.py").exists():
        return
    port = _free_port()
    children.append(
        subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port)], cwd=PROJECT_ROOT)
    )
    os.environ["SANDBOX_URL"] = f"http://127.0.0.1:{port}"
    _wait_http(f"http://127.0.0.1:{port}/_sandbox/health", 15)


def _serving_env(args: argparse.Namespace, metrics_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "PORT": str(args.port),
        "HOST": args.host,
        "WEB_CONCURRENCY": str(web_server().workers),
        # glibc gives each thread that allocates its own arena; with 4 threads per worker that is
        # a one-time step of ~10 MB per worker that looks like growth. Two arenas are plenty.
        "MALLOC_ARENA_MAX": web_server().malloc_arena_max,
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
    }


def _start_web_and_worker(
    args: argparse.Namespace, env: dict[str, str], children: list[subprocess.Popen[bytes]]
) -> None:
    gunicorn = [str(BIN / "gunicorn"), "-c", str(PROJECT_ROOT / "gunicorn.conf.py"), "app:server"]
    worker = [
        str(BIN / "celery"),
        "-A",
        "celery_app",
        "worker",
        "-c",
        str(args.worker_concurrency),
        "-O",
        "fair",
        "--loglevel",
        "INFO",
        "-n",
        f"sourcingx-{os.getpid()}@%h",
    ]
    children.append(subprocess.Popen(gunicorn, cwd=PROJECT_ROOT, env=env))
    children.append(subprocess.Popen(worker, cwd=PROJECT_ROOT, env=env))


def _print_banner(url: str, ok: bool, seconds: float, credentials: str | None) -> None:
    print("\n" + "=" * 72)
    print(f"SourcingX is {'up' if ok else 'starting (slowly)'} at {url}  (ready in {seconds:.1f}s)")
    print(
        credentials
        or "Sign in with your existing account (create one: python manage.py "
        "create-user EMAIL --role admin)"
    )
    if get_settings().uses_sandbox:
        print("Providers: local SANDBOX (no API keys configured); data is synthetic.")
    print("Press Ctrl-C to stop everything.")
    print("=" * 72 + "\n", flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    _resolve(stop_on_exit=True)
    credentials = _first_start(args.seed)
    children: list[subprocess.Popen[bytes]] = []
    _start_sandbox(children)
    get_settings.cache_clear()
    metrics_dir = str(get_settings().var_dir / "prometheus")
    prepare_multiprocess_dir(metrics_dir)  # stale files from a previous run would be summed in
    _start_web_and_worker(args, _serving_env(args, metrics_dir), children)
    url = f"http://{args.host}:{args.port}"
    ok = _wait_http(f"{url}/healthz", 60)
    _print_banner(url, ok, time.perf_counter() - started, credentials)
    return _supervise(children)


def _supervise(children: list[subprocess.Popen[bytes]]) -> int:
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    code = 0
    while not stopping:
        for child in children:
            if child.poll() is not None:
                print(f"child {child.args!r} exited with {child.returncode}; stopping", flush=True)
                stopping, code = True, 1
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
    if not get_settings().redis_url or "redis/redis.sock" in (environment().get("REDIS_URL") or ""):
        from services.core import embedded

        embedded.stop_redis(get_settings().var_dir)
    print("stopped", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sourcingx", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="start everything (embedded defaults when nothing is configured)"
    )
    run.add_argument("--port", type=int, default=web_server().port)
    run.add_argument("--host", default=web_server().host)
    run.add_argument("--seed", type=int, default=5000, help="demo profiles for an empty database")
    run.add_argument("--worker-concurrency", type=int, default=2)
    run.set_defaults(func=cmd_run)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    user = sub.add_parser("create-user", help="create a user (prints a generated password)")
    user.add_argument("email")
    user.add_argument("--name", default="")
    user.add_argument("--role", choices=auth.ROLES, default="recruiter")
    user.add_argument("--password", default=None)
    user.set_defaults(func=cmd_create_user)
    seed = sub.add_parser(
        "seed-demo", help="add deterministic synthetic profiles (and, once, a team history)"
    )
    seed.add_argument("--count", type=int, default=5000)
    seed.add_argument("--seed", type=int, default=42)
    seed.set_defaults(func=cmd_seed_demo)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
