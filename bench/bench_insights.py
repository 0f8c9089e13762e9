"""Benchmark of the insights page: each chart callback through real HTTP, cold and warm.

Seeds BENCH_DATABASE_URL (default database `sx_bench_insights` on postgresql://postgres@127.0.0.1,
created if missing, migrated to head) with 1,000,000 profiles (`services.demo_data.seed_profiles`)
plus, in SQL with generate_series: 11 users, 50 projects, 400,000 project memberships with filter
results, 200,000 screenings (with reviews), 100,000 contact lookups, searches, imports and
1,000,000 api_usage rows, spread over the last 180 days. Then starts gunicorn
(`gunicorn -c gunicorn.conf.py app:server`) on BENCH_PORT, signs in as a lead through /login and
POSTs each chart's callback to /_dash-update-component:

- cold: after `bump_data_version("insights")` (the cache entry is unreachable), `--cold` times;
- warm: the same request again, `--warm` times (served from Redis);
- burst: 50 concurrent requests for one chart right after a bump (single flight: one query).

The funnel sums its rollup (services/insights/funnel_rollup.py): it is filled once before the
timings (`funnel_rollup_fill`), so a cold funnel request measures the sum over a fresh rollup;
`funnel_refresh_one_project` is, separately, `refresh_dirty()` recomputing one marked project of
8,000 members (`--cold` times, in this process, no HTTP).

Redis: BENCH_REDIS_URL (default redis://127.0.0.1:6379/12, flushed). The last line printed is one
JSON object with every figure.

    .venv/bin/python bench/bench_insights.py [--profiles 1000000] [--cold 5] [--warm 50] [--reseed]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/sx_bench_insights"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
PASSWORD = "bench-password-123"  # noqa: S105  (bench-only user in a throwaway database)
DAYS = 180

PIPELINE_SQL = [
    # 50 projects with two prompt versions each, 10 recruiters.
    """INSERT INTO projects (name, owner_id)
       SELECT 'Project ' || lpad(g::text, 2, '0'), 1 FROM generate_series(1, 50) g""",
    """INSERT INTO prompt_versions (project_id, version, criteria, prompt_text, model)
       SELECT p.id, v, '{}', 'prompt', 'gpt-4o-mini'
       FROM projects p CROSS JOIN generate_series(1, 2) v""",
    """INSERT INTO jobs (kind, project_id, created_by, status)
       SELECT k, p.id, u.id, 'done'
       FROM projects p CROSS JOIN (SELECT id FROM users WHERE role = 'recruiter') u
       CROSS JOIN (VALUES ('screen_profiles'), ('lookup_contacts')) kinds(k)""",
    # 8,000 members per project: a deterministic spread over the 1M profiles and 180 days.
    """INSERT INTO project_profiles (project_id, profile_id, stage, shortlisted, added_by, added_at)
       SELECT p.id, ((p.id * 7919 + g * 104729) %% %(profiles)s) + 1, 'sourced', g %% 20 = 0,
              2 + (g %% 10), now() - make_interval(secs => (g * 1943.0) %% (%(days)s * 86400))
       FROM projects p CROSS JOIN generate_series(1, 8000) g
       ON CONFLICT DO NOTHING""",
    """INSERT INTO filter_results (project_id, profile_id, passed)
       SELECT project_id, profile_id, profile_id %% 5 <> 0 FROM project_profiles
       WHERE profile_id %% 10 <> 3""",
    # 200,000 screenings on half of the memberships: 90 % done, 5 % failed, 5 % pending.
    """INSERT INTO screenings (project_id, profile_id, prompt_version_id, status, score, fit, error,
                               job_id, cost_usd, created_at)
       SELECT pp.project_id, pp.profile_id, pv.id, st.status,
              CASE WHEN st.status = 'done' THEN 1 + (pp.profile_id %% 10) END,
              CASE WHEN st.status <> 'done' THEN NULL
                   WHEN pp.profile_id %% 10 >= 8 THEN 'strong'
                   WHEN pp.profile_id %% 10 >= 6 THEN 'good'
                   WHEN pp.profile_id %% 10 >= 3 THEN 'maybe' ELSE 'no' END,
              CASE WHEN st.status = 'failed' THEN 'timeout' END,
              j.id, 0.0004, pp.added_at + interval '1 hour'
       FROM (SELECT *, row_number() OVER (ORDER BY profile_id, project_id) AS n
             FROM project_profiles) pp
       JOIN prompt_versions pv ON pv.project_id = pp.project_id AND pv.version = 1 + (pp.n %% 2)
       JOIN jobs j ON j.project_id = pp.project_id AND j.created_by = pp.added_by
                  AND j.kind = 'screen_profiles'
       CROSS JOIN LATERAL (SELECT CASE WHEN pp.n %% 20 = 0 THEN 'failed'
                                       WHEN pp.n %% 20 = 1 THEN 'pending'
                                       ELSE 'done' END AS status) st
       WHERE pp.n <= 200000""",
    """INSERT INTO screening_overrides (screening_id, user_id, verdict)
       SELECT id, 2 + (id %% 10), CASE WHEN id %% 4 = 0 THEN 'disagree' ELSE 'agree' END
       FROM screenings WHERE status = 'done' AND id %% 10 = 0""",
    """INSERT INTO contact_lookups (profile_id, status, provider, job_id, looked_up_at)
       SELECT DISTINCT ON (pp.profile_id) pp.profile_id,
              CASE WHEN pp.profile_id %% 5 < 3 THEN 'found' ELSE 'not_found' END, 'salesql',
              j.id, pp.added_at + interval '2 hours'
       FROM project_profiles pp
       JOIN jobs j ON j.project_id = pp.project_id AND j.created_by = pp.added_by
                  AND j.kind = 'lookup_contacts'
       WHERE pp.shortlisted OR pp.profile_id %% 7 = 0
       ORDER BY pp.profile_id
       LIMIT 100000""",
    """INSERT INTO searches (project_id, agent_id, kind, query, requested_count, launched_by,
                             status, created_at)
       SELECT 1 + g %% 50, 'agent-' || g, 'linkedin', 'q', 100, 2 + g %% 10, 'done',
              now() - make_interval(secs => (g * 7777.0) %% (%(days)s * 86400))
       FROM generate_series(1, 2000) g""",
    """INSERT INTO imports (project_id, filename, format, imported_by, created_at)
       SELECT 1 + g %% 50, 'f.csv', 'csv', 2 + g %% 10,
              now() - make_interval(secs => (g * 15551.0) %% (%(days)s * 86400))
       FROM generate_series(1, 1000) g""",
    # 1,000,000 usage rows over 180 days; one in ten without a project.
    """INSERT INTO api_usage (ts, user_id, project_id, provider, operation, units, cost_usd,
                              status, subject)
       SELECT now() - make_interval(secs => (g * 15.5521) %% (%(days)s * 86400)),
              2 + g %% 10, CASE WHEN g %% 10 = 0 THEN NULL ELSE 1 + g %% 50 END,
              (ARRAY['crustdata', 'salesql', 'openai', 'phantombuster'])[1 + g %% 4], 'op',
              1 + g %% 3, CASE g %% 4 WHEN 0 THEN 0.01 WHEN 1 THEN 0.02 WHEN 2 THEN 0.0004
                                      ELSE 0 END,
              'ok', 'https://www.linkedin.com/in/x-' || g
       FROM generate_series(1, 1000000) g""",
    """UPDATE projects p SET profile_count =
       (SELECT count(*) FROM project_profiles pp WHERE pp.project_id = p.id)""",
]


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(url: str, profiles: int) -> dict[str, float]:
    from services import auth, demo_data

    timings: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'alembic_version'"
            ).fetchall()
        ]
        conn.execute(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        demo_data.seed_profiles(conn, profiles, seed=42)
    timings["profiles_s"] = round(time.perf_counter() - started, 1)
    with psycopg.connect(url) as conn:
        auth.create_user(conn, "lead@bench.test", "Lead", PASSWORD, "lead")
        for i in range(10):
            auth.create_user(conn, f"r{i}@bench.test", f"Recruiter {i}", PASSWORD, "recruiter")
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL synchronous_commit = off")
        for statement in PIPELINE_SQL:
            conn.execute(statement, {"profiles": profiles, "days": DAYS})
    timings["pipeline_s"] = round(time.perf_counter() - started, 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return timings


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
            for t in ("profiles", "projects", "project_profiles", "screenings", "api_usage")
        }


def start_server(url: str, redis_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "SOURCINGX_ENV": "development",
        "SECRET_KEY": "bench-secret-" + "k9" * 16,
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
        "WEB_THREADS": os.environ.get("WEB_THREADS", "4"),
        "LOG_LEVEL": "warning",
    }
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "app:server"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("gunicorn did not become healthy")


def signed_in(base: str) -> requests.Session:
    import re

    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    resp = session.post(
        f"{base}/login",
        data={"email": "lead@bench.test", "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 302, resp.status_code
    return session


def chart_body(deps: list[dict[str, Any]], chart: str, params: dict[str, str]) -> dict[str, Any]:
    graph, table = f"insights-graph-{chart}", f"insights-table-{chart}"
    output = next(d["output"] for d in deps if f"{graph}.figure" in d["output"])
    return {
        "output": output,
        "outputs": [{"id": graph, "property": "figure"}, {"id": table, "property": "children"}],
        "inputs": [{"id": "insights-filter", "property": "data", "value": params}],
        "state": [],
        "changedPropIds": ["insights-filter.data"],
    }


def post(session: requests.Session, base: str, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    resp = session.post(f"{base}/_dash-update-component", json=body, timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    resp.raise_for_status()
    return elapsed


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "n": len(ordered),
    }


def fill_rollup() -> dict[str, float]:
    """Recompute every marked project (after a seed or the migration, all of them)."""
    from services.insights import funnel_rollup

    started = time.perf_counter()
    projects = funnel_rollup.refresh_dirty()
    return {"projects": projects, "s": round(time.perf_counter() - started, 2)}


def time_refresh(url: str, times: int, project_id: int = 1) -> dict[str, float]:
    """`refresh_dirty()` for one marked project (project 1: 8,000 members)."""
    from services.insights import funnel_rollup

    samples: list[float] = []
    for _ in range(times):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO funnel_dirty (project_id) VALUES (%s) ON CONFLICT DO NOTHING",
                (project_id,),
            )
        started = time.perf_counter()
        refreshed = funnel_rollup.refresh_dirty()
        samples.append((time.perf_counter() - started) * 1000)
        assert refreshed == 1, refreshed
    return summary(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    port = int(os.environ.get("BENCH_PORT", "8071"))
    os.environ.update({"DATABASE_URL": url, "REDIS_URL": redis_url, "SOURCINGX_ENV": "development"})
    os.environ.setdefault("SECRET_KEY", "bench-secret-" + "k9" * 16)

    from services.core import migrate
    from services.core.cache import bump_data_version
    from services.insights import CHARTS, InsightsFilter

    ensure_database(url)
    migrate.upgrade(url)
    seeded: dict[str, float] = {}
    have = counts(url)
    if args.reseed or have["profiles"] < args.profiles or have["api_usage"] == 0:
        print(f"seeding {args.profiles:,} profiles and the pipeline tables ...", flush=True)
        seeded = seed(url, args.profiles)
        print(f"  {seeded}", flush=True)
        have = counts(url)
    print(f"data: {have}", flush=True)
    redis.Redis.from_url(redis_url).flushdb()
    results: dict[str, Any] = {"funnel_rollup_fill": fill_rollup()}
    print(f"funnel rollup filled: {results['funnel_rollup_fill']}", flush=True)
    results["funnel_refresh_one_project"] = time_refresh(url, max(args.cold, 1))
    print(f"refresh of one 8,000-member project: {results['funnel_refresh_one_project']}")

    today = datetime.now(UTC).date()
    ranges = {
        "30d": InsightsFilter(today - timedelta(days=29), today).to_params(),
        "180d": InsightsFilter(today - timedelta(days=DAYS - 1), today).to_params(),
    }
    server = start_server(url, redis_url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        session = signed_in(base)
        deps = session.get(f"{base}/_dash-dependencies", timeout=10).json()
        for name in CHARTS:  # first touch: imports, pools and plans warmed outside the timings
            post(session, base, chart_body(deps, name, ranges["30d"]))
        for label, params in ranges.items():
            for name in CHARTS:
                body = chart_body(deps, name, params)
                cold: list[float] = []
                for _ in range(args.cold):
                    bump_data_version("insights")
                    cold.append(post(session, base, body))
                warm = [post(session, base, body) for _ in range(args.warm)]
                results[f"{name}:{label}"] = {"cold": summary(cold), "warm": summary(warm)}
                print(
                    f"{label:>4} {name:<15} cold {summary(cold)}  warm {summary(warm)}", flush=True
                )
        # Fifty leads at once on a cold cache: one of them computes, the others wait for it.
        body = chart_body(deps, "funnel", ranges["30d"])
        sessions = [signed_in(base) for _ in range(args.burst)]
        bump_data_version("insights")
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.burst) as pool:
            burst = list(pool.map(lambda s: post(s, base, body), sessions))
        results["burst_funnel_30d"] = {
            "wall_ms": round((time.perf_counter() - started) * 1000, 1),
            **summary(burst),
        }
        print(f"burst of {args.burst} cold funnel requests: {results['burst_funnel_30d']}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        json.dumps(
            {
                "bench": "insights",
                "date": date.today().isoformat(),
                "machine": {"nproc": os.cpu_count(), "python": platform.python_version()},
                "data": have,
                "seed": seeded,
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
