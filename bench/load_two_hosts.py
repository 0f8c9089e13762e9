"""Load test through nginx in front of two app hosts, one of which dies halfway (Locust).

Usage:
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sx_bench_insights \\
        .venv/bin/python bench/load_two_hosts.py [--users 100] [--seconds 120] [--wait 0.5,2]

Two "hosts" on this machine, as tests/integration/test_two_hosts.py starts them: each its own
gunicorn master (1 worker x 4 threads, so both hosts together have the 2 workers of
bench/load_test.py) and its own Celery worker, behind Debian's nginx running deploy/nginx.conf
(host addresses, port and paths rewritten). Locust drives the load profile of
bench/load/locustfile.py through nginx. At half time host B dies at once (SIGKILL of its gunicorn
and Celery process groups). Locust's per-second history splits requests and failures into before
the kill, the two seconds after it, and the rest; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_test import PASSWORD, ensure_users, free_port, read_stats, run_stage  # noqa: E402
from tests.integration.test_two_hosts import NGINX, TEMPLATE, render_nginx_conf  # noqa: E402

BIN = Path(sys.executable).parent


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    # A session of its own, so that one signal reaches the master and all its children.
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "wb"),
        start_new_session=True,
    )  # fmt: skip


def _wait_healthy(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy")


def start_host(name: str, env: dict[str, str], logs: Path) -> tuple[int, list[Any]]:
    port = free_port()
    host_env = {**env, "SOURCINGX_HOST_ID": name, "PORT": str(port), "WEB_CONCURRENCY": "1"}
    web = _spawn([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "app:server"], host_env,
                 logs / f"{name}-web.log")  # fmt: skip
    worker = _spawn(
        [str(BIN / "celery"), "-A", "celery_app", "worker", "-c", "1", "--pool", "prefork",
         "-n", f"{name}@%h", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        host_env, logs / f"{name}-worker.log",
    )  # fmt: skip
    _wait_healthy(f"http://127.0.0.1:{port}")
    return port, [web, worker]


def start_nginx(ports: list[int], prefix: Path) -> tuple[str, subprocess.Popen[bytes]]:
    for sub in ("logs", "lib"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    listen = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(render_nginx_conf(TEMPLATE.read_text(), ports, listen, prefix))
    base = [NGINX, "-p", f"{prefix}/", "-c", str(conf), "-e", f"{prefix}/logs/error.log"]
    proc = _spawn([*base, "-g", "daemon off;"], dict(os.environ), prefix / "logs" / "stdout.log")
    url = f"http://127.0.0.1:{listen}"
    _wait_healthy(url)
    return url, proc


def kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def split_history(path: Path, killed_at: float) -> dict[str, Any]:
    """Requests and failures before the kill, within 2 s after it, and after that (from Locust's
    cumulative per-second Aggregated row)."""
    marks: list[tuple[float, int, int]] = []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == "Aggregated":
                marks.append(
                    (float(row["Timestamp"]), int(row["Total Request Count"]),
                     int(row["Total Failure Count"]))
                )  # fmt: skip

    def at(t: float) -> tuple[int, int]:
        before = [(r, f) for ts, r, f in marks if ts <= t]
        return before[-1] if before else (0, 0)

    kill_r, kill_f = at(killed_at)
    settle_r, settle_f = at(killed_at + 2)
    end_r, end_f = marks[-1][1:] if marks else (0, 0)
    return {
        "before_kill": {"requests": kill_r, "failures": kill_f},
        "kill_to_plus_2s": {"requests": settle_r - kill_r, "failures": settle_f - kill_f},
        "after_plus_2s": {"requests": end_r - settle_r, "failures": end_f - settle_f},
    }


def hosts_in_access_log(log: Path, killed_at_iso: str) -> dict[str, dict[str, int]]:
    """Which upstream answered, before and after the kill (nginx's $upstream_addr)."""
    out: dict[str, dict[str, int]] = {"before": {}, "after": {}}
    for line in log.read_text().splitlines():
        stamp = line.split("[", 1)[1].split("]", 1)[0]
        upstream = line.split('upstream="', 1)[1].split('"', 1)[0]
        side = out["before" if stamp < killed_at_iso else "after"]
        side[upstream] = side.get(upstream, 0) + 1
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--wait", default="0.5,2", help="think time 'min,max' seconds")
    parser.add_argument("--spawn-rate", type=float, default=20)
    args = parser.parse_args()
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sx_bench_insights"
    )
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    redis.Redis.from_url(redis_url).flushdb()
    var_dir = Path(tempfile.mkdtemp(prefix="sx-load2-"))
    var_dir.chmod(0o755)  # nginx's workers (nobody, when run as root) read their temp dirs here
    env = {
        **os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "SOURCINGX_VAR_DIR": str(var_dir), "SECRET_KEY": secrets.token_urlsafe(48),
        "SOURCINGX_ENV": "development", "WEB_THREADS": "4", "WEB_MAX_REQUESTS": "0",
        "MALLOC_ARENA_MAX": "2", "DB_POOL_MAX": "4", "LOG_LEVEL": "WARNING",
        "LOAD_RECRUITER": f"load-recruiter@example.com:{PASSWORD}",
        "LOAD_LEAD": f"load-lead@example.com:{PASSWORD}",
        "LOAD_PROJECT_IDS": ",".join(str(i) for i in range(1, 51)), "LOAD_WAIT": args.wait,
    }  # fmt: skip
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SOURCINGX_VAR_DIR")})
    ensure_users(database_url)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        port_a, host_a = start_host("host-a", env, var_dir)
        port_b, host_b = start_host("host-b", env, var_dir)
        procs += host_a + host_b
        url, nginx = start_nginx([port_a, port_b], var_dir / "nginx")
        procs.append(nginx)
        killed: dict[str, float | str] = {}

        def kill_b() -> None:
            killed["t"] = time.time()
            killed["iso"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(killed["t"]))
            for proc in host_b:
                kill_group(proc)

        timer = threading.Timer(args.seconds / 2, kill_b)
        out = var_dir / "locust"
        out.mkdir()
        timer.start()
        stats_csv = run_stage(args.users, args.seconds, url, env, out, args.spawn_rate, True)
        timer.join()
        stats = read_stats(stats_csv)
        history = split_history(Path(str(stats_csv).replace("_stats.csv", "_stats_history.csv")),
                                float(killed["t"]))  # fmt: skip
        hosts = hosts_in_access_log(var_dir / "nginx" / "logs" / "access.log", str(killed["iso"]))
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                kill_group(proc, signal.SIGTERM)
    result = {
        "bench": "load_two_hosts", "users": args.users, "seconds": args.seconds,
        "think_time_s": args.wait, "ports": {"host-a": port_a, "host-b": port_b},
        "total": stats["total"], "actions": stats["actions"], "split": history,
        "upstreams": hosts, "date": time.strftime("%Y-%m-%d"), "nproc": os.cpu_count(),
    }  # fmt: skip
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
