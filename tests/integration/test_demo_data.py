"""Demo data: deterministic for a seed, realistic, idempotent, with raw JSON of a few KB."""

from __future__ import annotations

import hashlib

import psycopg

from services import demo_data

FINGERPRINT = (
    "SELECT md5(string_agg(linkedin_url || full_name || coalesce(current_title, '') ||"
    " coalesce(current_company, '') || coalesce(location, '') || array_to_string(skills, ','),"
    " '|' ORDER BY linkedin_url)) FROM profiles"
)


def _seed(db: psycopg.Connection, count: int, seed: int) -> str:
    db.execute("TRUNCATE profiles RESTART IDENTITY CASCADE")
    with psycopg.connect(db.info.dsn) as conn:
        result = demo_data.seed_profiles(conn, count, seed)
    assert result.inserted == count
    row = db.execute(FINGERPRINT).fetchone()
    assert row is not None
    return str(row[0])


def test_same_seed_gives_identical_profiles_and_other_seed_differs(db: psycopg.Connection) -> None:
    first = _seed(db, 500, 7)
    again = _seed(db, 500, 7)
    other = _seed(db, 500, 8)
    assert first == again
    assert first != other


def test_generated_lines_are_deterministic_without_a_database() -> None:
    a = hashlib.sha256("".join(demo_data.generate_rows(200, 3)).encode()).hexdigest()
    b = hashlib.sha256("".join(demo_data.generate_rows(200, 3)).encode()).hexdigest()
    assert a == b


def test_profiles_are_realistic_and_raw_json_is_a_few_kb(db: psycopg.Connection) -> None:
    _seed(db, 300, 42)
    row = db.execute(
        "SELECT count(*) FILTER (WHERE full_name <> '' AND current_title IS NOT NULL"
        " AND linkedin_url LIKE 'https://www.linkedin.com/in/%%' AND cardinality(skills) >= 3),"
        " count(DISTINCT current_company), count(DISTINCT location) FROM profiles"
    ).fetchone()
    assert row == (300, row[1], row[2]) and row[1] > 20 and row[2] > 10
    raw = db.execute(
        "SELECT min(length(payload::text)), count(*) FROM profile_raw WHERE provider = 'crustdata'"
    ).fetchone()
    assert raw is not None and raw[0] > 1000 and raw[1] > 150  # ~70% are enriched


def test_second_run_with_same_seed_adds_nothing(db: psycopg.Connection) -> None:
    _seed(db, 200, 5)
    with psycopg.connect(db.info.dsn) as conn:
        again = demo_data.seed_profiles(conn, 200, 5)
    assert again.inserted == 0
    assert db.execute("SELECT count(*) FROM profiles").fetchone() == (200,)


def test_demo_projects_link_profiles_once(db: psycopg.Connection) -> None:
    _seed(db, 2000, 1)
    with psycopg.connect(db.info.dsn) as conn:
        assert demo_data.seed_projects(conn, None, per_project=50) == len(demo_data.PROJECTS)
        assert demo_data.seed_projects(conn, None, per_project=50) == 0
    counts = db.execute("SELECT profile_count FROM projects ORDER BY id").fetchall()
    assert [c[0] for c in counts] == [50] * len(demo_data.PROJECTS)
