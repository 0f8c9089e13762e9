"""Row factories for tests: one typed function per table that tests fill by hand.

Each inserts one row over the connection it is given (so it joins that connection's transaction,
if any) and returns its id. Only the columns a test names are written; every other column keeps
its schema default, so a test states exactly the data its assertions depend on. An explicit `id`
is written as given and does not advance the table's sequence, as with a hand-written INSERT.
Users that must be able to sign in come from `tests.helpers.create_user` (the real password
hashing), not from here.

`seed_profiles` makes many profiles at once that are hard on a grid on purpose: many ties in every
sortable column, NULLs in the nullable ones, empty and blank strings, mixed case, LIKE wildcards
and quotes in text, and timestamps on exact UTC midnights.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql


def insert_row(conn: psycopg.Connection, table: str, columns: dict[str, Any]) -> int:
    """INSERT one row of `columns` into `table`; returns its id."""
    names = list(columns)
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(n) for n in names),
        sql.SQL(", ").join(sql.Placeholder() * len(names)),
    )
    row = conn.execute(statement, [columns[n] for n in names]).fetchone()
    assert row is not None
    return int(row[0])


def _given(**columns: Any) -> dict[str, Any]:
    """The columns a caller named (None means "not named": the schema default applies)."""
    return {name: value for name, value in columns.items() if value is not None}


def make_user(
    conn: psycopg.Connection,
    *,
    email: str = "rita@example.com",
    name: str = "Rita",
    role: str = "recruiter",
    password_hash: str = "x",
    **overrides: Any,
) -> int:
    """A user row that cannot sign in (its password hash is not a hash): an owner or an actor."""
    columns = {"email": email, "name": name, "password_hash": password_hash, "role": role}
    return insert_row(conn, "users", {**columns, **overrides})


def make_project(
    conn: psycopg.Connection,
    *,
    name: str = "Project",
    owner_id: int | None = None,
    id: int | None = None,
    **overrides: Any,
) -> int:
    """A project (active, no criteria unless overridden)."""
    return insert_row(
        conn, "projects", {**_given(id=id, name=name, owner_id=owner_id), **overrides}
    )


def make_job(
    conn: psycopg.Connection,
    *,
    kind: str,
    project_id: int | None = None,
    created_by: int | None = None,
    id: int | None = None,
    **overrides: Any,
) -> int:
    """A jobs row as the UI would queue it (status queued unless overridden)."""
    columns = _given(id=id, kind=kind, project_id=project_id, created_by=created_by)
    return insert_row(conn, "jobs", {**columns, **overrides})


def make_prompt_version(
    conn: psycopg.Connection,
    *,
    project_id: int,
    version: int = 1,
    id: int | None = None,
    criteria: str = "{}",
    prompt_text: str = "p",
    model: str = "m",
) -> int:
    """A screening prompt version whose text and model no test reads."""
    columns = {
        **_given(id=id),
        "project_id": project_id,
        "version": version,
        "criteria": criteria,
        "prompt_text": prompt_text,
        "model": model,
    }
    return insert_row(conn, "prompt_versions", columns)


def make_profile(conn: psycopg.Connection, *, linkedin_url: str, **columns: Any) -> int:
    """A profile with the given columns (the rest default: pending enrichment, no skills)."""
    return insert_row(conn, "profiles", {"linkedin_url": linkedin_url, **columns})


def add_to_project(
    conn: psycopg.Connection, project_id: int, profile_id: int, **columns: Any
) -> None:
    """Put a profile in a project (stage, added_at, added_by... as given, else the defaults)."""
    names = ["project_id", "profile_id", *columns]
    conn.execute(
        sql.SQL("INSERT INTO project_profiles ({}) VALUES ({})").format(
            sql.SQL(", ").join(sql.Identifier(n) for n in names),
            sql.SQL(", ").join(sql.Placeholder() * len(names)),
        ),
        [project_id, profile_id, *columns.values()],
    )


def add_profile(
    conn: psycopg.Connection,
    project_id: int,
    slug: str,
    *,
    company: str | None = None,
    title: str | None = None,
    location: str | None = None,
    headline: str | None = None,
    skills: tuple[str, ...] = (),
    schools: tuple[str, ...] = (),
) -> int:
    """A profile named after its LinkedIn slug ("jane-doe" is "Jane Doe"), in `project_id`."""
    profile_id = make_profile(
        conn,
        linkedin_url=f"https://www.linkedin.com/in/{slug}",
        public_id=slug,
        full_name=slug.replace("-", " ").title(),
        current_company=company,
        current_title=title,
        location=location,
        headline=headline,
        skills=list(skills),
        schools=list(schools),
    )
    add_to_project(conn, project_id, profile_id)
    return profile_id


# ------------------------------------------------------------ many profiles at once

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
SEED_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def make_rows(count: int, seed: int = 7, start: int = 0) -> list[tuple[object, ...]]:
    """Deterministic profile rows (COPY_COLUMNS order)."""
    rng = random.Random(seed)
    rows = []
    for i in range(start, start + count):
        status = rng.choice(STATUSES)
        enriched_at = None
        if status == "enriched" or rng.random() < 0.1:
            # A few on exact midnights, to pin down the day boundaries of date filters.
            day = SEED_EPOCH + timedelta(days=rng.randrange(0, 60))
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
                SEED_EPOCH + timedelta(hours=rng.randrange(0, 200)),  # many exact ties
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
