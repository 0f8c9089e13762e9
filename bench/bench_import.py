"""Import with dedup: 100,000 search-result rows, half of them already known.

Usage:
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sx_bench_import \\
        .venv/bin/python bench/bench_import.py [--rows 100000]

Seeds rows/2 known profiles, writes a Sales Navigator-shaped CSV whose rows are half known
(under other spellings of their URLs) and half new, stores it as an upload, then imports it in a
separate worker-like process, measuring rows/s and that process's peak memory (ru_maxrss). The
same run at a quarter of the rows shows whether memory grows with the file. Last line: JSON.

With --keep-existing the database is not emptied: the import runs on top of the profiles already
there (e.g. the 10M of bench_grid_sql.py), with names of its own, which are deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = "profileUrl,fullName,firstName,lastName,companyName,title,location,vmid\n"


def csv_bytes(rows: int, known: int, tag: str = "") -> bytes:
    lines = [HEADER]
    for i in range(rows):
        if i % 2 == 0 and i // 2 < known:
            slug = f"{tag}known-person-{i // 2:07d}"  # a known profile, under another spelling
            url = f"https://de.linkedin.com/in/{slug.upper()}/?trk=search"
        else:
            url = f"https://www.linkedin.com/in/{tag}new-person-{i:07d}"
        lines.append(f"{url},Person {i},Person,{i},Acme {i % 97},Engineer,Berlin,\n")
    return "".join(lines).encode()


def seed_known(conn: psycopg.Connection, known: int, tag: str = "") -> int:
    """The known half (and a project); returns the project's id. Without a tag, empties first."""
    if not tag:
        conn.execute("TRUNCATE profiles, projects, uploads, imports RESTART IDENTITY CASCADE")
    conn.execute(
        "INSERT INTO profiles (linkedin_url, public_id, full_name, source)"
        " SELECT 'https://www.linkedin.com/in/' || %(tag)s || 'known-person-'"
        "        || lpad(i::text, 7, '0'),"
        "        %(tag)s || 'known-person-' || lpad(i::text, 7, '0'), 'Known ' || i, 'bench'"
        " FROM generate_series(0, %(known)s - 1) i",
        {"tag": tag, "known": known},
    )
    row = conn.execute(
        "INSERT INTO projects (name) VALUES (%s) RETURNING id", (f"Import bench {tag}",)
    ).fetchone()
    conn.commit()
    assert row is not None
    return int(row[0])


def remove_tagged(conn: psycopg.Connection, tag: str, project_id: int) -> None:
    """What a --keep-existing run added: its project (memberships cascade) and its profiles."""
    conn.execute("DELETE FROM projects WHERE id = %s", (project_id,))
    conn.execute("DELETE FROM profiles WHERE public_id LIKE %s", (f"{tag}%",))
    conn.commit()


def import_in_child(upload_id: int) -> dict[str, float]:
    """Run the import in a fresh process (like a Celery worker) and report its time and memory."""
    code = (
        "import json, resource, sys, time\n"
        "from services.imports import import_upload\n"
        "from services.core.db import get_pool\n"
        "get_pool()\n"  # connections opened before the baseline: the import's growth is measured
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "t = time.perf_counter()\n"
        f"r = import_upload({upload_id}, None)\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'rows': r.rows, 'new': r.new,"
        " 'linked': r.linked, 'skipped': r.skipped_count,"
        " 'rss_before_mb': before,"
        " 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def baseline_rss_mb() -> float:
    code = (
        "import resource, services.imports\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def run(rows: int, database_url: str, tag: str = "") -> dict[str, float]:
    from services.imports import store_upload

    with psycopg.connect(database_url) as conn:
        project_id = seed_known(conn, rows // 2, tag)
    content = csv_bytes(rows, rows // 2, tag)
    upload_id, _fmt, _n = store_upload(project_id, "bench.csv", content, None, 200 * 1024 * 1024)
    try:
        result = import_in_child(upload_id)
    finally:
        if tag:
            with psycopg.connect(database_url) as conn:
                remove_tagged(conn, tag, project_id)
    result["rows_per_s"] = result["rows"] / result["seconds"]
    result["file_mb"] = len(content) / 2**20
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep-existing", action="store_true", help="import on top of the data")
    args = parser.parse_args()
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/sx_bench_import"
    )
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
        }
    )
    from services.core import migrate

    migrate.upgrade(database_url)
    base = baseline_rss_mb()
    tag = f"bench{os.getpid()}-" if args.keep_existing else ""
    small = run(args.rows // 4, database_url, tag and tag + "q-")
    full = run(args.rows, database_url, tag)
    with psycopg.connect(database_url) as conn:
        existing = conn.execute("SELECT count(*) FROM profiles").fetchone()
    summary = {
        "rows": args.rows,
        "profiles_already_there": int(existing[0]) if existing and tag else 0,
        "rows_per_s": round(full["rows_per_s"]),
        "seconds": round(full["seconds"], 2),
        "new": full["new"],
        "linked": full["linked"],
        "skipped": full["skipped"],
        "file_mb": round(full["file_mb"], 1),
        "peak_rss_mb": round(full["peak_rss_mb"], 1),
        "peak_rss_mb_quarter_file": round(small["peak_rss_mb"], 1),
        "growth_during_import_mb": round(full["peak_rss_mb"] - full["rss_before_mb"], 1),
        "growth_during_import_mb_quarter_file": round(
            small["peak_rss_mb"] - small["rss_before_mb"], 1
        ),
        "baseline_rss_mb": round(base, 1),
        "rows_per_s_quarter_file": round(small["rows_per_s"]),
    }
    print(
        f"import {args.rows:,} rows (half known): {summary['rows_per_s']:,} rows/s; the "
        f"worker's peak RSS grew {summary['growth_during_import_mb']} MB during the import, "
        f"{summary['growth_during_import_mb_quarter_file']} MB for a quarter of the file"
    )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
