"""Benchmark of the screening job against the provider sandbox with a configured OpenAI limit.

Runs the real `screening` job handler (the code a Celery worker runs) in this process on a
fresh database, against the sandbox started as a subprocess, with OpenAI limited to --rpm
requests per minute by the shared Redis limiter and the sandbox answering after --latency-ms
with --fail-429 of calls refused (Retry-After 1 s). Reports per run:

- achieved requests/min as seen by the provider (every request it received, retries
  included, first to last) as a fraction of the limit (target >= 0.9, never above);
- cost per 1,000 screened profiles (sandbox token counts at gpt-4o-mini list prices);
- failed screenings and duplicate paid calls (target 0).

Usage: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
       REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/bench_screening.py
Prints one line per run, then one JSON line with the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _db_url(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def _start_sandbox() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--plain", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    _tag, host, port = proc.stdout.readline().split()
    return proc, f"http://{host}:{port}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=600)
    parser.add_argument("--rpm", type=int, default=600)
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--fail-429", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import psycopg

    server = os.environ["DATABASE_URL"]
    db_name = "sx_bench_screening"
    with psycopg.connect(_db_url(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    os.environ["DATABASE_URL"] = _db_url(server, db_name)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "z9" * 16)
    sandbox, sandbox_url = _start_sandbox()
    os.environ.update(
        {
            "SANDBOX_URL": sandbox_url,
            "OPENAI_API_KEY": "",
            "OPENAI_RATE_PER_MIN": str(args.rpm),
            "OPENAI_TOKENS_PER_MIN": "100000000",
            "OPENAI_LIMIT_WAIT_S": "60",
            "OPENAI_DAILY_BUDGET": "0",
            "SCREENING_CONCURRENCY": str(args.concurrency),
            "DB_POOL_MAX": "8",
        }
    )
    import httpx
    import redis

    from services import jobs
    from services.core import migrate
    from services.core.db import unit_of_work
    from services.screening import prompt
    from services.screening.job import run_screening, start_screening

    migrate.upgrade(os.environ["DATABASE_URL"])
    # Only this benchmark's shared limiter/budget state is cleared (the Redis may be shared).
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    for pattern in ("sx:rl:openai*", "sx:budget:openai*"):
        for key in client.scan_iter(pattern):
            client.delete(key)
    # The job is run here, not through Celery: enqueue must not need a broker consumer.
    jobs.enqueue = lambda job_id, delay_s=0.0: None  # type: ignore[assignment]
    with unit_of_work() as conn:
        user = conn.execute(
            "INSERT INTO users (email, name, password_hash, role)"
            " VALUES ('bench@example.com', 'Bench', 'x', 'recruiter') RETURNING id"
        ).fetchone()[0]  # type: ignore[index]
    runs: list[dict[str, Any]] = []
    try:
        for run in range(args.repeats):
            httpx.post(
                f"{sandbox_url}/_sandbox/reset",
                json={
                    "plain": True,
                    "providers": {
                        "openai": {
                            "latency_ms": args.latency_ms,
                            "fail_429_ratio": args.fail_429,
                            "retry_after_s": 1.0,
                            "seed": run,
                        }
                    },
                },
                timeout=5,
            ).raise_for_status()
            with unit_of_work() as conn:
                project = conn.execute(
                    "INSERT INTO projects (name, owner_id) VALUES (%s, %s) RETURNING id",
                    (f"Bench {run}", user),
                ).fetchone()[0]  # type: ignore[index]
                conn.execute(
                    "WITH new AS (INSERT INTO profiles (linkedin_url, full_name, headline,"
                    " current_title, current_company, location, skills)"
                    " SELECT 'https://www.linkedin.com/in/bench-' || %(p)s || '-' || g,"
                    " 'Bench ' || g, 'Data engineer, Python, Spark', 'Data Engineer',"
                    " 'Company ' || (g %% 50), 'Berlin', ARRAY['Python', 'Spark', 'SQL']"
                    " FROM generate_series(1, %(n)s) g RETURNING id)"
                    " INSERT INTO project_profiles (project_id, profile_id)"
                    " SELECT %(p)s, id FROM new",
                    {"p": project, "n": args.profiles},
                )
            criteria = prompt.parse_criteria(
                "Python and Spark pipelines\nFive years of data engineering", "Kafka", "", ""
            )
            version = prompt.save_criteria(user, project, criteria)
            job_id = start_screening(user, project, version.id, scope="all")
            job = jobs.claim(job_id)
            assert job is not None
            started = time.monotonic()
            run_screening(job)
            wall = time.monotonic() - started
            stats = httpx.get(
                f"{sandbox_url}/_sandbox/stats", params={"provider": "openai"}, timeout=5
            ).json()["openai"]
            accepted = sorted(stats["accepted"])
            received = sum(stats["counts"].values())
            span = accepted[-1] - accepted[0]
            with unit_of_work() as conn:
                done, failed, cost = conn.execute(
                    "SELECT count(*) FILTER (WHERE status = 'done'),"
                    " count(*) FILTER (WHERE status = 'failed'), coalesce(sum(cost_usd), 0)"
                    " FROM screenings WHERE project_id = %s",
                    (project,),
                ).fetchone()  # type: ignore[misc]
                dupes = conn.execute(
                    "SELECT count(*) FROM (SELECT subject FROM api_usage WHERE project_id = %s"
                    " AND provider = 'openai' AND status = 'ok' GROUP BY subject"
                    " HAVING count(*) > 1) d",
                    (project,),
                ).fetchone()[0]  # type: ignore[index]
            # Every request the provider received counts (429s included), over the span of
            # the run as the provider saw it: first to last received request.
            rpm = (received - 1) / span * 60 if span > 0 else 0.0
            result = {
                "profiles": args.profiles,
                "wall_s": round(wall, 1),
                "requests": received,
                "rate_limited_429": stats["counts"].get("429", 0),
                "achieved_rpm": round(rpm, 1),
                "fraction_of_limit": round(rpm / args.rpm, 3),
                "done": done,
                "failed": failed,
                "duplicate_paid_calls": dupes,
                "usd_per_1000": round(float(cost) / max(1, done) * 1000, 4),
            }
            runs.append(result)
            print(json.dumps(result))
    finally:
        sandbox.terminate()
    summary = {
        "date": time.strftime("%Y-%m-%d"),
        "config": vars(args),
        "median_fraction_of_limit": statistics.median(r["fraction_of_limit"] for r in runs),
        "max_fraction_of_limit": max(r["fraction_of_limit"] for r in runs),
        "median_achieved_rpm": statistics.median(r["achieved_rpm"] for r in runs),
        "median_usd_per_1000": statistics.median(r["usd_per_1000"] for r in runs),
        "failed_total": sum(r["failed"] for r in runs),
        "duplicates_total": sum(r["duplicate_paid_calls"] for r in runs),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
