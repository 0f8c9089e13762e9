"""Benchmark of the grid service layer (services.grid) on N profiles: raw service-call latencies.

Seeds N profiles (default 1,000,000) into BENCH_DATABASE_URL (default database `sx_bench` on
postgresql://postgres@127.0.0.1:5432, created if missing, migrated to head): rows come from
`services.demo_data.generate_rows` (the demo-data generator), streamed with COPY while the
secondary indexes are dropped and rebuilt after (one sorted build beats 1M incremental inserts);
profile_raw is not filled (the grid never reads it). Then VACUUM ANALYZE, and p50/p95 of
fetch_block / count_rows / export_csv for the page types of the grid, next to a naive
`OFFSET 900000`. Redis: BENCH_REDIS_URL (default redis://127.0.0.1:6379/13, flushed).
The last line printed is one JSON object with every figure.

    .venv/bin/python bench/bench_grid_sql.py [--rows 1000000] [--repeat 20] [--reseed]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/sx_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
SEED = 42


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(url: str, rows: int) -> float:
    """Fill profiles with `rows` demo profiles; returns seconds taken."""
    from services import demo_data

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL synchronous_commit = off")
        conn.execute("TRUNCATE profiles RESTART IDENTITY CASCADE")
        indexes = conn.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = 'profiles'::regclass AND NOT i.indisprimary"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        columns = ", ".join(demo_data.COPY_COLUMNS)
        with conn.cursor() as cur, cur.copy(f"COPY profiles ({columns}) FROM STDIN") as copy:
            batch: list[str] = []
            for line in demo_data.generate_rows(rows, SEED):
                batch.append(line)
                if len(batch) >= 10_000:
                    copy.write("".join(batch))
                    batch.clear()
            copy.write("".join(batch))
        copied = time.perf_counter()
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            conn.execute(definition)
        print(f"  copy {copied - started:.1f}s, indexes {time.perf_counter() - copied:.1f}s")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE profiles")  # visibility map: index-only scans for OFFSET
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], repeat: int, before: Callable[[], Any] | None = None) -> dict:
    samples = []
    for _ in range(repeat):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(p95, 2), "n": repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reseed", action="store_true", help="seed even if N rows are there")
    parser.add_argument("--seed-only", action="store_true", help="seed (if needed), then stop")
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    # Settings are read once, on first use: point the service layer at the bench servers first.
    os.environ.update(
        DATABASE_URL=db_url, REDIS_URL=redis_url, SOURCINGX_ENV="test",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-secret-" + "k3y9" * 8),
    )  # fmt: skip

    from services.core import migrate
    from services.grid import count_rows, export_csv, fetch_block, parse_grid_query
    from services.grid.pages import _count
    from services.grid.query import GridQuery

    ensure_database(db_url)
    migrate.upgrade(db_url)
    with psycopg.connect(db_url) as conn:
        have = conn.execute("SELECT count(*) FROM profiles").fetchone()
    seed_s = None
    if args.reseed or not have or have[0] != args.rows:
        print(f"seeding {args.rows:,} profiles ...")
        seed_s = round(seed(db_url, args.rows), 1)
        print(f"  seeded in {seed_s}s")
    if args.seed_only:
        print(json.dumps({"bench": "grid_sql_seed", "rows": args.rows, "seed_s": seed_s}))
        return
    rds = redis.Redis.from_url(redis_url)
    rds.flushdb()

    def forget_boundaries() -> None:
        for key in rds.scan_iter("sx:grid:bound:*"):
            rds.delete(key)

    n, r = args.rows, args.repeat
    deep = max(0, min(n * 9 // 10, n - 200))  # row 900,000 of 1M, 9,000,000 of 10M
    plain = parse_grid_query({}, [], "", "", (), None, None)
    by_company = parse_grid_query({}, [{"colId": "current_company", "sort": "desc"}])
    text_filter = parse_grid_query(
        {"full_name": {"filterType": "text", "type": "contains", "filter": "ann"}},
        [{"colId": "full_name", "sort": "asc"}],
    )
    combined = parse_grid_query(
        {
            "current_title": {"filterType": "text", "operator": "OR", "conditions": [
                {"filterType": "text", "type": "contains", "filter": "engineer"},
                {"filterType": "text", "type": "startsWith", "filter": "head"}]},
            "years_experience": {"filterType": "number", "type": "inRange", "filter": 3,
                                 "filterTo": 12},
            "enriched_at": {"filterType": "date", "type": "greaterThan", "dateFrom": "2026-03-01"},
        },
        [{"colId": "created_at", "sort": "desc"}, {"colId": "full_name", "sort": "asc"}],
        "python", "germany", ("Senior", "Lead"), True, None,
    )  # fmt: skip
    search = parse_grid_query({}, [], "kuber")
    results: dict[str, Any] = {}

    def page(q: GridQuery, start: int) -> Callable[[], Any]:
        return lambda: fetch_block(q, start, start + 100)

    def strategy(q: GridQuery, start: int) -> str:
        return fetch_block(q, start, start + 100).strategy

    for q in (plain, by_company, text_filter, combined, search):
        count_rows(q)  # counts cached, so page timings are page timings
    results["first_page"] = timed(page(plain, 0), r)
    results["first_page_sorted_company_desc"] = timed(page(by_company, 0), r)
    results["search_first_page"] = timed(page(search, 0), r)
    results["text_filter_first_page"] = timed(page(text_filter, 0), r)
    results["combined_filter_first_page"] = timed(page(combined, 0), r)
    fetch_block(combined, 0, 100)
    results["combined_filter_page2_keyset"] = timed(page(combined, 100), r)
    for name, q in (("deep", plain), ("deep_sorted_company_desc", by_company)):
        forget_boundaries()
        assert strategy(q, deep) == "deferred"
        results[f"{name}_deferred_cold"] = timed(page(q, deep), r, forget_boundaries)
        fetch_block(q, deep - 100, deep)  # as if the user had scrolled here: boundary known
        assert strategy(q, deep) == "keyset"
        results[f"{name}_keyset"] = timed(page(q, deep), r)
    forget_boundaries()
    results["text_filter_page_10000_deferred"] = timed(page(text_filter, 10_000), max(3, r // 4))
    results["count_all_cold"] = timed(lambda: _count(plain), max(3, r // 4))
    results["count_combined_cold"] = timed(lambda: _count(combined), max(3, r // 4))
    results["count_text_filter_cold"] = timed(lambda: _count(text_filter), max(3, r // 4))
    results["count_cached"] = timed(lambda: count_rows(combined), r)
    with psycopg.connect(db_url) as conn:

        def naive(order: str) -> Callable[[], Any]:
            stmt = f"SELECT * FROM profiles ORDER BY {order} OFFSET {deep} LIMIT 100"
            return lambda: conn.execute(stmt).fetchall()

        results["naive_offset_900000"] = timed(naive("id"), max(3, r // 4))
        results["naive_offset_900000_company_desc"] = timed(
            naive("current_company DESC, id DESC"), max(3, r // 4)
        )
    export_rows = min(200_000, n)
    t0 = time.perf_counter()
    chars = sum(len(c) for c in export_csv(plain, row_cap=export_rows))
    export_s = time.perf_counter() - t0
    results["export_csv"] = {
        "rows": export_rows, "seconds": round(export_s, 2), "mb": round(chars / 1e6, 1),
        "rows_per_s": round(export_rows / export_s),
    }  # fmt: skip
    with psycopg.connect(db_url) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        sizes = conn.execute(
            "SELECT pg_relation_size('profiles'), pg_indexes_size('profiles'),"
            " pg_total_relation_size('profiles')"
        ).fetchone()
    if sizes:
        results["sizes_mb"] = {
            "table": round(sizes[0] / 2**20), "indexes": round(sizes[1] / 2**20),
            "total_with_toast": round(sizes[2] / 2**20),
        }  # fmt: skip
    summary = {
        "bench": "grid_sql", "rows": n, "repeat": r, "deep_row": deep, "seed_s": seed_s,
        "nproc": os.cpu_count(), "machine": platform.machine(),
        "postgres": version[0] if version else None,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"), "results": results,
    }  # fmt: skip
    for name, figures in results.items():
        print(f"{name:40s} {figures}")
    print(json.dumps(summary, separators=(",", ":")))


if __name__ == "__main__":
    main()
