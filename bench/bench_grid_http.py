"""Benchmark of the Profiles grid through real HTTP: gunicorn, login, Dash callback POSTs.

Starts `gunicorn -c gunicorn.conf.py app:server` itself (2 workers by default) on a free port
against the bench database (BENCH_DATABASE_URL, default `sx_bench` on
postgresql://postgres@127.0.0.1:5432, migrated to head; seeded like bench_grid_sql.py when it
does not hold --rows profiles) and BENCH_REDIS_URL (default redis://127.0.0.1:6379/9, flushed at
start). It creates a bench user, signs in through /login with the form's CSRF token, finds the
`serve_block` callback in /_dash-dependencies and POSTs `/_dash-update-component` bodies built
the way the Dash renderer builds them (output, outputs, inputs, state, changedPropIds).

Measured, each as p50/p95 of --repeat sequential requests on one keep-alive connection:
first page, deep page (row 900,000) right after the preceding block was served ("scrolled",
keyset) and cold ("jump", deferred join), a deep page sorted by current_company desc (cold), a
text-filtered and a combined-filter first page, and a text-filtered first page whose count is
cold / cached (a first block never waits for a count: an uncounted view answers rowCount None and
the page asks for its count with a second callback, measured on its own, cold and cached).
In the same run: the same pages through `services.grid.fetch_block` in this process ("sql") and
the exact statements it issues replayed on a plain psycopg connection ("psycopg"), plus a naive
`ORDER BY id OFFSET 900000 LIMIT 100`. Then --warmup-mixed and --mixed grid requests of mixed
page types (scrolling on, jumps, first pages of five views) from --clients threads, with each
worker's PSS (psutil) after the warm-up ("before"), half-way and after. Workers are not recycled
during the run (WEB_MAX_REQUESTS=0), so the PSS figures follow the same processes.
The last line printed is one JSON object with every figure.

    .venv/bin/python bench/bench_grid_http.py [--rows 1000000] [--repeat 30] [--mixed 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/sx_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
BENCH_EMAIL = "bench-http@sourcingx.local"
GRID = "profiles-grid"
BLOCK = 100
TARGET_P95_MS = 50.0
TARGET_DEEP_SPEEDUP = 10.0
PSS_EVERY = 250  # requests between two PSS samples of the mixed run

# The views measured (AG Grid models plus the page's external filters, as the browser sends them).
TEXT_FILTER = {"full_name": {"filterType": "text", "type": "contains", "filter": "ann"}}
COMBINED_FILTER = {
    "current_title": {"filterType": "text", "operator": "OR", "conditions": [
        {"filterType": "text", "type": "contains", "filter": "engineer"},
        {"filterType": "text", "type": "startsWith", "filter": "head"}]},
    "years_experience": {"filterType": "number", "type": "inRange", "filter": 3, "filterTo": 12},
    "enriched_at": {"filterType": "date", "type": "greaterThan", "dateFrom": "2026-03-01"},
}  # fmt: skip


class View:
    """One grid view: what the browser sends (models + external filter values)."""

    def __init__(
        self,
        filter_model: dict[str, Any] | None = None,
        sort_model: list[dict[str, str]] | None = None,
        search: str = "",
        location: str = "",
        seniority: list[str] | None = None,
        enriched: str = "any",
    ) -> None:
        self.filter_model = filter_model or {}
        self.sort_model = sort_model or []
        self.search = search
        self.location = location
        self.seniority = seniority or []
        self.enriched = enriched

    def grid_query(self) -> Any:
        from services.grid import parse_grid_query

        return parse_grid_query(
            self.filter_model,
            self.sort_model,
            self.search,
            self.location,
            self.seniority,
            {"yes": True, "no": False}.get(self.enriched),
            None,
        )


PLAIN = View()
BY_COMPANY = View(sort_model=[{"colId": "current_company", "sort": "desc"}])
TEXT = View(TEXT_FILTER, [{"colId": "full_name", "sort": "asc"}])
SEARCH = View(search="kuber")
COMBINED = View(
    COMBINED_FILTER,
    [{"colId": "created_at", "sort": "desc"}, {"colId": "full_name", "sort": "asc"}],
    search="python",
    location="germany",
    seniority=["Senior", "Lead"],
    enriched="yes",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stats(samples: list[float]) -> dict[str, Any]:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(p95, 2),
        "n": len(samples),
    }


def timed(
    fn: Callable[[], Any], repeat: int, before: Callable[[], Any] | None = None, warmup: int = 1
) -> dict[str, Any]:
    samples: list[float] = []
    for i in range(warmup + repeat):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        if i >= warmup:
            samples.append((time.perf_counter() - t0) * 1000)
    return stats(samples)


class DashGrid:
    """POSTs of the serve_block callback, built from what /_dash-dependencies says about it."""

    def __init__(self, client: httpx.Client, origin: str) -> None:
        self.client = client
        self.origin = origin
        deps = client.get("/_dash-dependencies").raise_for_status().json()
        matches = [d for d in deps if f"{GRID}.getRowsResponse" in d["output"]]
        if len(matches) != 1:
            raise SystemExit(f"expected one serve_block callback, found {len(matches)}")
        dep = matches[0]
        self.output = dep["output"]
        self.outputs = [
            {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
            for part in self.output.strip(".").split("...")
        ]
        self.inputs = [(i["id"], i["property"]) for i in dep["inputs"]]
        counts = [d for d in deps if "profiles-count.children@" in d["output"]]
        if len(counts) != 1:
            raise SystemExit(f"expected one count callback, found {len(counts)}")
        self.count_dep = counts[0]
        self.state = [(s["id"], s["property"]) for s in dep["state"]]

    def body(self, view: View, start: int, end: int) -> dict[str, Any]:
        request = {
            "startRow": start,
            "endRow": end,
            "sortModel": view.sort_model,
            "filterModel": view.filter_model,
            "api": {},
        }
        values = {
            (GRID, "getRowsRequest"): request,
            ("profiles-search", "value"): view.search,
            ("profiles-location", "value"): view.location,
            ("profiles-seniority", "value"): view.seniority,
            ("profiles-enriched", "value"): view.enriched,
            ("profiles-project", "value"): None,
            ("profiles-location-exact", "data"): {"location": view.location, "exact": False},
            ("url", "search"): "",
        }
        return {
            "output": self.output,
            "outputs": self.outputs,
            "inputs": [{"id": i, "property": p, "value": values[(i, p)]} for i, p in self.inputs],
            "state": [{"id": i, "property": p, "value": values.get((i, p))} for i, p in self.state],
            "changedPropIds": [f"{GRID}.getRowsRequest"],
        }

    def block(self, view: View, start: int, client: httpx.Client | None = None) -> dict[str, Any]:
        resp = (client or self.client).post(
            "/_dash-update-component",
            json=self.body(view, start, start + BLOCK),
            headers={"Origin": self.origin},
        )
        if resp.status_code != 200:
            raise RuntimeError(f"callback answered {resp.status_code}: {resp.text[:300]}")
        out = resp.json()["response"]
        if "profiles-error" in out and out["profiles-error"].get("is_open"):
            raise RuntimeError(f"grid error: {out['profiles-error']}")
        return dict(out[GRID]["getRowsResponse"])

    def count(self, view: View) -> str:
        """POST the count callback the way the page does after an uncounted first block."""
        from layouts.profiles import view_search

        dep = self.count_dep
        request = {"view": view_search(view.grid_query()), "n": time.time_ns()}
        body = {
            "output": dep["output"],
            "outputs": [
                {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1].split("@")[0]}
                for part in dep["output"].strip(".").split("...")
            ],
            "inputs": [{"id": "profiles-count-request", "property": "data", "value": request}],
            "state": [],
            "changedPropIds": ["profiles-count-request.data"],
        }
        resp = self.client.post(
            "/_dash-update-component", json=body, headers={"Origin": self.origin}
        )
        if resp.status_code != 200:
            raise RuntimeError(f"count callback answered {resp.status_code}: {resp.text[:300]}")
        return str(resp.json()["response"]["profiles-count"]["children"])


def ensure_user(db_url: str) -> str:
    from services import auth

    password = secrets.token_urlsafe(18)
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT id FROM users WHERE lower(email) = lower(%s)", (BENCH_EMAIL,)
        ).fetchone()
        if row:
            auth.reset_password(conn, row[0], password, None)
        else:
            auth.create_user(conn, BENCH_EMAIL, "Bench", password, "recruiter")
    return password


def login(base: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/login").raise_for_status().text
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if not match:
        raise SystemExit("no CSRF token in the login form")
    resp = client.post(
        "/login",
        data={"email": BENCH_EMAIL, "password": password, "csrf_token": match.group(1)},
        headers={"Origin": base},
    )
    if resp.status_code != 302:
        raise SystemExit(f"login failed: {resp.status_code}")
    return client


def start_gunicorn(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "app:server",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{env['PORT']}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see {log_path}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"gunicorn did not become healthy; see {log_path}")


def workers_pss_mb(master: subprocess.Popen[bytes]) -> dict[int, float]:
    out = {}
    for child in psutil.Process(master.pid).children():
        out[child.pid] = round(child.memory_full_info().pss / 2**20, 1)
    return dict(sorted(out.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--mixed", type=int, default=2000, help="grid requests for the PSS check")
    parser.add_argument("--warmup-mixed", type=int, default=2000, help="before the PSS check")
    parser.add_argument("--clients", type=int, default=4, help="threads of the mixed requests")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    port = free_port()
    secret = secrets.token_urlsafe(36)  # 48 characters
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(args.workers),
        "SOURCINGX_ENV": "development",
        "SECRET_KEY": secret,
        "WEB_MAX_REQUESTS": "0",  # no recycling mid-run: the PSS check follows the same workers
        "MALLOC_ARENA_MAX": os.environ.get(
            "MALLOC_ARENA_MAX", "2"
        ),  # as manage.py run and the image
    }
    env.pop("WEB_ACCESS_LOG", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SOURCINGX_ENV")})
    os.environ["SECRET_KEY"] = secret

    from bench_grid_sql import ensure_database, seed
    from psycopg import sql as psql

    from services.core import migrate
    from services.core.cache import data_version
    from services.grid import boundaries, count_rows, fetch_block, jumpmap, pages
    from services.grid.params import Params
    from services.grid.query import where_clause

    ensure_database(db_url)
    migrate.upgrade(db_url)
    with psycopg.connect(db_url) as conn:
        have = conn.execute("SELECT count(*) FROM profiles").fetchone()
        pg_version = conn.execute("SHOW server_version").fetchone()
    seed_s = None
    if args.reseed or not have or have[0] != args.rows:
        print(f"seeding {args.rows:,} profiles ...", flush=True)
        seed_s = round(seed(db_url, args.rows), 1)
    rds = redis.Redis.from_url(redis_url)
    rds.flushdb()
    password = ensure_user(db_url)

    def forget_boundaries() -> None:
        for key in rds.scan_iter("sx:grid:bound:*", count=1000):
            rds.delete(key)

    def forget_counts() -> None:
        for key in rds.scan_iter("sx:cache:grid:count:*", count=1000):
            rds.delete(key)

    n, r = args.rows, args.repeat
    deep = max(BLOCK, min(n * 9 // 10, n - 2 * BLOCK))  # row 900,000 of 1M, 9M of 10M
    log_path = Path(tempfile.gettempdir()) / f"bench-grid-http-{port}.log"
    master = start_gunicorn(env, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        client = login(base, password)
        grid = DashGrid(client, base)

        # page type -> (view, start row, prepare-before-each-run(http: bool))
        def scrolled(view: View) -> Callable[[bool], None]:
            def prepare(http: bool) -> None:
                if http:
                    grid.block(view, deep - BLOCK)
                else:
                    fetch_block(view.grid_query(), deep - BLOCK, deep)

            return prepare

        def cold_jump(_: bool) -> None:
            forget_boundaries()

        def mapped(view: View) -> Callable[[bool], None]:
            # What the Celery task does after the first deep jump into a view (no worker runs
            # during this bench, so the map is built here, in-process, the same way).
            def prepare(_: bool) -> None:
                q = view.grid_query()
                version = data_version("profiles")
                if rds.zcard(boundaries.boundary_key(q, version)) < 1000:
                    jumpmap.build_map(jumpmap.query_args(q), version)

            return prepare

        def cold_count(_: bool) -> None:
            forget_counts()

        cases: dict[str, tuple[View, int, Callable[[bool], None] | None]] = {
            "first": (PLAIN, 0, None),
            "deep_scrolled": (PLAIN, deep, scrolled(PLAIN)),
            "deep_jump": (PLAIN, deep, cold_jump),
            "deep_jump_mapped": (PLAIN, deep, mapped(PLAIN)),
            "deep_sorted": (BY_COMPANY, deep, cold_jump),
            "deep_sorted_mapped": (BY_COMPANY, deep, mapped(BY_COMPANY)),
            "deep_sorted_scrolled": (BY_COMPANY, deep, scrolled(BY_COMPANY)),
            "filtered": (TEXT, 0, None),
            "search": (SEARCH, 0, None),
            "combined": (COMBINED, 0, None),
            "filtered_count_cold": (TEXT, 0, cold_count),
            "filtered_count_cached": (TEXT, 0, None),
        }
        slow = {"filtered_count_cold", "deep_jump", "deep_sorted"}

        # Warm: counts cached, and every page served once through both paths; check they agree.
        for name, (view, start, prepare) in cases.items():
            if prepare:
                prepare(True)
            want = fetch_block(view.grid_query(), start, start + BLOCK)  # counts and caches
            got = grid.block(view, start)
            ids_http = [row["id"] for row in got["rowData"]]
            if ids_http != [row["id"] for row in want.rows] or not ids_http:
                raise SystemExit(f"{name}: HTTP and service rows differ")
            if got["rowCount"] != want.row_count:
                raise SystemExit(f"{name}: rowCount {got['rowCount']} != {want.row_count}")
            print(f"  {name:22s} ok: {len(ids_http)} rows, rowCount {got['rowCount']}")

        results: dict[str, Any] = {}
        for name, (view, start, prepare) in cases.items():
            reps = max(8, r // 2) if name in slow else r
            before = (lambda p=prepare: p(True)) if prepare else None
            results[name] = timed(lambda v=view, s=start: grid.block(v, s), reps, before)
            print(f"http    {name:22s} {results[name]}", flush=True)
        # The view's total, as the page's second callback computes it (TEXT: 100k+ matches).
        expected_label = f"{count_rows(TEXT.grid_query()):,} profiles"
        if grid.count(TEXT) != expected_label:
            raise SystemExit(f"count callback said {grid.count(TEXT)!r}, not {expected_label!r}")
        counts: dict[str, Any] = {
            "http_cold": timed(lambda: grid.count(TEXT), max(8, r // 2), forget_counts),
            # Cached as a worker (or an earlier exact count) leaves it: a cold ask over the
            # budget only shows the estimate and caches nothing (no worker runs here).
            "http_cached": timed(
                lambda: grid.count(TEXT), r, lambda: count_rows(TEXT.grid_query())
            ),
            "service_cold": timed(
                lambda: count_rows(TEXT.grid_query()), max(8, r // 2), forget_counts
            ),
            "service_cached": timed(lambda: count_rows(TEXT.grid_query()), r),
        }
        print(f"count   {counts}", flush=True)

        # How long a view stays unmapped: the jump-map walk a task worker runs when the view's
        # first blocks find it large (jumpmap.AHEAD_MIN_ROWS), or at its first deep jump.
        def build(view: View) -> Callable[[], None]:
            q = view.grid_query()
            return lambda: jumpmap.build_map(jumpmap.query_args(q), data_version("profiles"))

        map_build = {
            "plain": timed(build(PLAIN), 3, forget_boundaries, warmup=0),
            "sorted_company_desc": timed(build(BY_COMPANY), 3, forget_boundaries, warmup=0),
        }
        print(f"map build {map_build}", flush=True)

        sql_results: dict[str, Any] = {}
        for name, (view, start, prepare) in cases.items():
            reps = max(8, r // 2) if name in slow else r
            before = (lambda p=prepare: p(False)) if prepare else None
            q = view.grid_query()
            sql_results[name] = timed(
                lambda q=q, s=start: fetch_block(q, s, s + BLOCK), reps, before
            )
            print(f"service {name:22s} {sql_results[name]}", flush=True)

        # The exact statements fetch_block runs, replayed on a plain connection (no pool, no
        # Redis): a captured page statement, plus the count statement for the cold count.
        captured: list[tuple[Any, dict[str, Any]]] = []
        original_run = pages._run

        def capturing_run(stmt: Any, params: Any) -> list[dict[str, Any]]:
            captured.append((stmt, dict(params.values)))
            return original_run(stmt, params)

        pages._run = capturing_run  # type: ignore[assignment]
        raw_results: dict[str, Any] = {}
        with psycopg.connect(db_url, autocommit=True) as conn:
            # Unprepared, as services/grid/pages.py runs them (never a generic plan).
            for name, (view, start, prepare) in cases.items():
                q = view.grid_query()
                if prepare:
                    prepare(False)
                captured.clear()
                fetch_block(q, start, start + BLOCK)
                stmt, values = captured[-1]
                statements = [(stmt, values)]
                if name == "filtered_count_cold":
                    params = Params()
                    count_stmt = psql.SQL("SELECT count(*) FROM profiles p WHERE {}").format(
                        where_clause(q, params)
                    )
                    statements.append((count_stmt, params.values))

                def replay(statements: list[tuple[Any, dict[str, Any]]] = statements) -> None:
                    for s, v in statements:
                        conn.execute(s, v, prepare=False).fetchall()  # as the app runs them

                reps = max(8, r // 2) if name in slow else r
                raw_results[name] = timed(replay, reps)
                print(f"psycopg {name:22s} {raw_results[name]}", flush=True)
            naive = timed(
                lambda: conn.execute(
                    f"SELECT * FROM profiles ORDER BY id OFFSET {deep} LIMIT {BLOCK}"
                ).fetchall(),
                max(5, r // 4),
            )
            naive_sorted = timed(
                lambda: conn.execute(
                    "SELECT * FROM profiles ORDER BY current_company DESC, id DESC"
                    f" OFFSET {deep} LIMIT {BLOCK}"
                ).fetchall(),
                3,
                warmup=0,
            )
        pages._run = original_run  # type: ignore[assignment]
        print(f"psycopg naive_offset_id            {naive}")
        print(f"psycopg naive_offset_company_desc  {naive_sorted}", flush=True)

        # Mixed traffic from several threads (own connections, same session), PSS around it.
        # The sequential timings above ran on one keep-alive connection, i.e. mostly one
        # worker: a short mixed warm-up first, so that "before" is every worker warmed up.
        pss_at_start = workers_pss_mb(master)
        run_mixed(grid, client, args.warmup_mixed, args.clients, n, master, seed=1000)
        pss_before = workers_pss_mb(master)
        mixed = run_mixed(grid, client, args.mixed, args.clients, n, master)
        pss_after = workers_pss_mb(master)
        print(f"mixed {mixed['summary']}")
        print(
            f"pss at start {pss_at_start} before {pss_before} mid {mixed['pss_mid']} after {pss_after}",
            flush=True,
        )
    finally:
        master.terminate()
        try:
            master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            master.kill()

    naive_p50 = naive["p50_ms"]
    summary = {
        "bench": "grid_http",
        "profiles": n,
        "deep_row": deep,
        "repeat": r,
        "gunicorn": {"workers": args.workers, "threads": int(env.get("WEB_THREADS", "4"))},
        "nproc": os.cpu_count(),
        "machine": platform.machine(),
        "postgres": pg_version[0] if pg_version else None,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "seed_s": seed_s,
        "pages": results,
        "count": counts,
        "map_build": map_build,
        "sql": sql_results,
        "psycopg": raw_results,
        "naive_offset_deep_p50_ms": naive_p50,
        "naive_offset_deep_p95_ms": naive["p95_ms"],
        "naive_offset_deep_sorted_p50_ms": naive_sorted["p50_ms"],
        "speedup_vs_naive_p50": {
            name: round(naive_p50 / results[name]["p50_ms"], 1)
            for name in ("deep_scrolled", "deep_jump", "deep_jump_mapped")
        }
        | {
            name: round(naive_sorted["p50_ms"] / results[name]["p50_ms"], 1)
            for name in ("deep_sorted", "deep_sorted_scrolled", "deep_sorted_mapped")
        },
        "http_overhead_p50_ms": {
            name: round(results[name]["p50_ms"] - sql_results[name]["p50_ms"], 2)
            for name in results
        },
        "mixed": mixed["summary"],
        "worker_pids": list(pss_before),
        "worker_pss_mb": {
            "after_timings_one_worker_busy": list(pss_at_start.values()),
            "before": list(pss_before.values()),
            "mid": list(mixed["pss_mid"].values()),
            "after": list(pss_after.values()),
        },
    }
    summary["targets"] = {
        "p95_le_50ms": {name: results[name]["p95_ms"] <= TARGET_P95_MS for name in results},
        "deep_10x_vs_naive": {
            name: speedup >= TARGET_DEEP_SPEEDUP
            for name, speedup in summary["speedup_vs_naive_p50"].items()
        },
        "same_workers_after": list(pss_before) == list(pss_after),
    }
    print(json.dumps(summary, separators=(",", ":")))


def run_mixed(
    grid: DashGrid,
    client: httpx.Client,
    total: int,
    clients: int,
    rows: int,
    master: subprocess.Popen[bytes],
    seed: int = 0,
) -> dict[str, Any]:
    """`total` grid requests of mixed page types from `clients` threads (seeded choices)."""
    last_block = rows // BLOCK - 1
    views = [PLAIN, BY_COMPANY, TEXT, SEARCH, COMBINED]
    weights = [15, 10, 10, 10, 3]
    counter = iter(range(total))
    lock = threading.Lock()
    samples: list[float] = []
    errors: list[str] = []
    pss_mid: dict[int, float] = {}
    pss_curve: list[list[float]] = []  # [requests so far, PSS of each worker...]
    half = total // 2

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        own = httpx.Client(base_url=client.base_url, cookies=client.cookies, timeout=60)
        position: tuple[View, int] | None = None
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            if i == half:
                pss_mid.update(workers_pss_mb(master))
            if i % PSS_EVERY == 0:
                pss_curve.append([i, *workers_pss_mb(master).values()])
            roll = rng.random()
            if position is not None and roll < 0.45:  # keep scrolling: the next block
                view, start = position[0], position[1] + BLOCK
            elif roll < 0.65:  # jump somewhere in the plain or the sorted view
                view = rng.choice([PLAIN, BY_COMPANY])
                start = rng.randint(1, last_block) * BLOCK
            else:  # a new view from its first page
                view, start = rng.choices(views, weights)[0], 0
            t0 = time.perf_counter()
            try:
                got = grid.block(view, start, own)
                full = len(got["rowData"]) == BLOCK
                position = (view, start) if full else None
            except Exception as exc:  # counted and reported
                with lock:
                    errors.append(repr(exc)[:200])
                position = None
                continue
            with lock:
                samples.append((time.perf_counter() - t0) * 1000)
        own.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(seed + k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    summary = {
        "requests": total,
        "clients": clients,
        "seconds": round(seconds, 1),
        "req_per_s": round(total / seconds, 1),
        "errors": len(errors),
        "first_errors": errors[:3],
        **stats(samples or [0.0]),
    }
    summary["pss_curve_mb"] = pss_curve
    return {"summary": summary, "pss_mid": dict(sorted(pss_mid.items()))}


if __name__ == "__main__":
    main()
