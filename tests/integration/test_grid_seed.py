"""Test data for the grid tests: deterministic profiles COPY-ed into the test database.

`seed_profiles` makes data that is hard on a grid on purpose: many ties in every sortable column,
NULLs in the nullable ones, empty and blank strings, mixed case, LIKE wildcards and quotes in
text, and timestamps on exact UTC midnights. The other grid test modules import it from here.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import psycopg

COPY_COLUMNS = (
    "linkedin_url", "full_name", "headline", "current_title", "current_company", "location",
    "seniority", "years_experience", "skills", "enrichment_status", "enriched_at", "created_at",
)  # fmt: skip
FIRST = ["Anna", "ben", "Chloé", "DAVID", "Eve", "O'Brien", "Zoë", "li", "Max_1", "50%"]
LAST = ["Smith", "müller", "Nguyen", "de la Cruz", "Back\\slash", "Kim", "O'Hara", "Ng"]
HEADLINES = [
    None, "", "   ", "Senior Python Engineer", "python developer", "Data Scientist @ Acme",
    "=HYPERLINK(\"x\")", "-Growth hacker", "Engineering Manager", "100% remote SRE",
    "Recruiter_Tech", "Full-stack dev",
]  # fmt: skip
TITLES = [None, "Engineer", "engineer", "Senior Engineer", "CTO", "Data Scientist", "Manager"]
COMPANIES = [None, "Acme", "acme gmbh", "Globex", "Initech", "Umbrella", "Hooli", "Stark & Co"]
LOCATIONS = [None, "Berlin, Germany", "berlin", "Paris, France", "London, UK", "Remote", ""]
SENIORITY = [None, "junior", "mid", "senior", "lead", "director"]
SKILLS = ["Python", "SQL", "Go", "Java", "Kubernetes", "React", "C++", "Data_Science", "100%"]
STATUSES = ["pending", "enriched", "failed"]
BASE = datetime(2024, 1, 1, tzinfo=UTC)


def make_rows(count: int, seed: int = 7, start: int = 0) -> list[tuple[object, ...]]:
    """Deterministic profile rows (COPY_COLUMNS order)."""
    rng = random.Random(seed)
    rows = []
    for i in range(start, start + count):
        status = rng.choice(STATUSES)
        enriched_at = None
        if status == "enriched" or rng.random() < 0.1:
            # A few on exact midnights, to pin down the day boundaries of date filters.
            day = BASE + timedelta(days=rng.randrange(0, 60))
            enriched_at = (
                day if rng.random() < 0.2 else day + timedelta(seconds=rng.randrange(86400))
            )
        rows.append(
            (
                f"https://www.linkedin.com/in/t{seed}-{i}",
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                rng.choice(HEADLINES),
                rng.choice(TITLES),
                rng.choice(COMPANIES),
                rng.choice(LOCATIONS),
                rng.choice(SENIORITY),
                None if rng.random() < 0.15 else rng.randrange(0, 31),
                rng.sample(SKILLS, rng.randrange(0, 4)),
                status,
                enriched_at,
                BASE + timedelta(hours=rng.randrange(0, 200)),  # many exact ties
            )
        )
    return rows


def seed_profiles(conn: psycopg.Connection, count: int, seed: int = 7, start: int = 0) -> int:
    """COPY `count` generated profiles into the database; returns the number written."""
    columns = ", ".join(COPY_COLUMNS)
    with conn.cursor() as cur, cur.copy(f"COPY profiles ({columns}) FROM STDIN") as copy:
        for row in make_rows(count, seed, start):
            copy.write_row(row)
    if not conn.autocommit:
        conn.commit()
    conn.execute("ANALYZE profiles")
    return count


def test_seed_profiles_writes_ties_nulls_and_blanks(db: psycopg.Connection) -> None:
    assert seed_profiles(db, 500) == 500
    stats = db.execute(
        "SELECT count(*), count(DISTINCT created_at), count(*) FILTER (WHERE headline IS NULL),"
        " count(*) FILTER (WHERE years_experience IS NULL),"
        " count(*) FILTER (WHERE cardinality(skills) = 0) FROM profiles"
    ).fetchone()
    assert stats is not None
    total, distinct_created, null_headlines, null_years, no_skills = stats
    assert total == 500 and distinct_created < 250
    assert null_headlines > 0 and null_years > 0 and no_skills > 0
