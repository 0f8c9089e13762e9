"""Deterministic synthetic profiles (plus raw provider JSON), and the people a demo search finds.

Rows are generated from `random.Random(seed)` and streamed into Postgres with COPY through an
unindexed staging table, then moved with one set-based INSERT ... ON CONFLICT DO NOTHING, so a
second run with the same seed adds nothing. The raw provider JSON (a few KB, Crustdata-shaped)
is built by Postgres from the parsed columns in one statement rather than serialised in Python.

Dates are relative to a reference time `now` (profiles were added over the 330 days before it
and enriched between then and `now`); without one they keep the fixed 2026 calendar the
benchmarks were measured on.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import psycopg

from services.demo.words import (
    COMPANIES,
    FIRST,
    LAST,
    LOCATIONS,
    SENIORITY_BY_YEARS,
    SKILLS,
    TITLES,
)

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=330)
COPY_COLUMNS = (
    "linkedin_url",
    "public_id",
    "full_name",
    "first_name",
    "last_name",
    "headline",
    "current_title",
    "current_company",
    "location",
    "seniority",
    "years_experience",
    "skills",
    "source",
    "enrichment_status",
    "enriched_at",
    "created_at",
)
LINKEDIN = "https://www.linkedin.com/in/"


@dataclass(frozen=True)
class SeedResult:
    requested: int
    inserted: int
    # The last `hold_back` generated people, not inserted: the demo history's searches and
    # uploads find them (see seed_profiles).
    held_back: tuple[Person, ...] = ()


def seniority(years: int, title: str) -> str:
    if title in ("CTO", "VP Engineering", "Head of Data"):
        return "C-level" if title == "CTO" else ("VP" if title.startswith("VP") else "Director")
    if "Manager" in title:
        return "Lead"
    for limit, label in SENIORITY_BY_YEARS:
        if years <= limit:
            return label
    return "Principal"


def _slug(first: str, last: str) -> str:
    return f"{first}-{last}".lower().replace("'", "").replace("ü", "u").replace("ö", "o")


def _pg_array(values: list[str]) -> str:
    return (
        "{"
        + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )


def _copy_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def generate_rows(count: int, seed: int, now: datetime | None = None) -> Iterator[str]:
    """COPY text lines for `count` profiles; the same (count, seed, now) always yields the same
    lines. The draws do not depend on `now`, so only the dates move with it."""
    for line, _ in _generated(count, seed, now):
        yield line


class _Drawn(NamedTuple):
    """One profile's draws from the seeded stream, before they become a COPY line."""

    public_id: str
    first: str
    last: str
    title: str
    company: str
    location: str
    years: int
    skills: list[str]
    created: datetime
    enriched_at: datetime | None


def _generated(
    count: int, seed: int, now: datetime | None
) -> Iterator[tuple[str, Callable[[], Person]]]:
    """Each profile's COPY line, with a way to build it as a Person (only when one is wanted:
    a million of them would cost seconds)."""
    rng = random.Random(seed)
    start = EPOCH if now is None else now - SPAN
    for i in range(count):
        d = _draw(rng, seed, i, start, now)
        url = f"{LINKEDIN}{d.public_id}"
        line = _copy_line(url, d)
        yield (
            line,
            functools.partial(
                Person,
                url,
                d.first,
                d.last,
                d.title,
                d.company,
                d.location,
                d.years,
                tuple(d.skills),
                line,
            ),
        )


def _draw(rng: random.Random, seed: int, i: int, start: datetime, now: datetime | None) -> _Drawn:
    """The `i`th profile's draws, always in the same order (the dates alone depend on `now`)."""
    choice, randint = rng.choice, rng.randint
    first, last = choice(FIRST), choice(LAST)
    title, company, location = choice(TITLES), choice(COMPANIES), choice(LOCATIONS)
    years = randint(0, 25)
    skills = rng.sample(SKILLS, randint(3, 9))
    public_id = f"{_slug(first, last)}-{seed:x}{i:07x}"
    created = start + timedelta(minutes=randint(0, 60 * 24 * 330))
    if now is not None and created >= now:  # the last minute of the span: strictly before
        created = now - timedelta(minutes=1)
    enriched_at = None
    if rng.random() < 0.7:
        days = randint(0, 300)
        # Relative to `now`: somewhere between being added and now, always before it.
        enriched_at = created + (
            timedelta(days=days) if now is None else (now - created) * days / 301
        )
    return _Drawn(
        public_id, first, last, title, company, location, years, skills, created, enriched_at
    )


def _copy_line(url: str, d: _Drawn) -> str:
    fields = (
        url,
        d.public_id,
        f"{d.first} {d.last}",
        d.first,
        d.last,
        f"{d.title} at {d.company} · {', '.join(d.skills[:3])}",
        d.title,
        d.company,
        d.location,
        seniority(d.years, d.title),
        str(d.years),
        _pg_array(d.skills),
        "demo",
        "pending" if d.enriched_at is None else "enriched",
        "\\N" if d.enriched_at is None else d.enriched_at.isoformat(),
        d.created.isoformat(),
    )
    return "\t".join(f if f == "\\N" else _copy_escape(f) for f in fields) + "\n"


@dataclass(frozen=True)
class Person:
    """A generated profile held back from the initial load: someone a demo search or CSV finds
    who is not in the database yet. The export row says the name, title, company and location;
    enrichment later adds the skills, years and seniority."""

    url: str
    first: str
    last: str
    title: str
    company: str
    location: str
    years: int
    skills: tuple[str, ...]
    line: str = field(default="", repr=False, compare=False)  # its COPY line, if never found

    @property
    def full_name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def headline(self) -> str:
        return f"{self.title} at {self.company} · {', '.join(self.skills[:3])}"

    @property
    def seniority(self) -> str:
        return seniority(self.years, self.title)


RAW_SQL = """
INSERT INTO profile_raw (profile_id, provider, payload, fetched_at)
SELECT p.id, 'crustdata', jsonb_build_object(
    '_sandbox', true,
    'linkedin_profile_url', p.linkedin_url,
    'name', p.full_name, 'headline', p.headline, 'title', p.current_title,
    'location', p.location, 'skills', to_jsonb(p.skills),
    'summary', p.full_name || ' is a ' || lower(p.seniority) || ' ' || p.current_title ||
        ' with ' || p.years_experience || ' years of experience, currently at ' ||
        p.current_company || '. ' || repeat('Builds reliable systems with ' ||
        array_to_string(p.skills, ', ') || '. ', 6),
    'num_of_connections', 100 + (p.id * 37) %% 900,
    'current_employers', jsonb_build_array(jsonb_build_object(
        'employer_name', p.current_company, 'employee_title', p.current_title,
        'employee_location', p.location,
        'start_date', to_char(p.created_at - make_interval(days => (p.id %% 1500)::int), 'YYYY-MM-DD'),
        'employee_description', 'Owns ' || array_to_string(p.skills[1:3], ', ') || ' work.')),
    'past_employers', jsonb_build_array(
        jsonb_build_object('employer_name', 'Previous Co ' || (p.id %% 97),
                           'employee_title', p.current_title, 'start_date', '2015-01-01',
                           'end_date', '2019-06-30'),
        jsonb_build_object('employer_name', 'Startup ' || (p.id %% 53),
                           'employee_title', 'Engineer', 'start_date', '2012-03-01',
                           'end_date', '2014-12-31')),
    'education_background', jsonb_build_array(jsonb_build_object(
        'degree_name', CASE p.id %% 3 WHEN 0 THEN 'BSc' WHEN 1 THEN 'MSc' ELSE 'PhD' END,
        'institute_name', (ARRAY['TU Munich','ETH Zurich','KTH','TU Berlin','Imperial College',
                                 'University of Amsterdam','Sorbonne','Politecnico di Milano'])
                          [1 + (p.id %% 8)::int],
        'field_of_study', 'Computer Science', 'start_date', '2008-09-01', 'end_date', '2012-07-31')),
    'languages', jsonb_build_array('English', 'German')),
    coalesce(p.enriched_at, p.created_at)
FROM profiles p
WHERE p.enrichment_status = 'enriched' AND {where}
ON CONFLICT (profile_id, provider) DO {conflict}
"""
RAW_FROM_COLUMNS = RAW_SQL.format(where="p.id > %s", conflict="NOTHING")
# What an enrichment writes for the profiles it just enriched again: a fresh payload and time.
RAW_REFRESHED = RAW_SQL.format(
    where="p.id = ANY(%s::bigint[])",
    conflict="UPDATE SET payload = EXCLUDED.payload, fetched_at = EXCLUDED.fetched_at",
)


def write_raw(conn: psycopg.Connection, profile_ids: list[int]) -> None:
    """The raw Crustdata JSON of these (enriched) profiles, as of their enrichment."""
    if profile_ids:
        conn.execute(RAW_REFRESHED, (profile_ids,))


BULK_THRESHOLD = 200_000


@contextmanager
def _secondary_indexes_rebuilt(
    conn: psycopg.Connection, table: str, enabled: bool
) -> Iterator[None]:
    """For a big load, drop the table's non-unique indexes and rebuild them after: one sorted
    build is several times faster than a million incremental B-tree and GIN insertions. The
    definitions are read back from the catalog, so the migrations stay their only source."""
    if not enabled:
        yield
        return
    rows = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary",
        (table,),
    ).fetchall()
    for name, _ in rows:
        conn.execute(f"DROP INDEX {name}")
    yield
    conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for _, definition in rows:
        conn.execute(definition)


def seed_profiles(
    conn: psycopg.Connection,
    count: int,
    seed: int = 42,
    now: datetime | None = None,
    hold_back: int = 0,
) -> SeedResult:
    """Insert `count` deterministic profiles (and their raw JSON) in one transaction; the last
    `hold_back` of them are returned instead of inserted (`SeedResult.held_back`)."""
    conn.execute("SET LOCAL synchronous_commit = off")
    keep = count - hold_back
    held: list[Person] = []

    def lines() -> Iterator[str]:
        for n, (line, person) in enumerate(_generated(count, seed, now)):
            if n < keep:
                yield line
            else:
                held.append(person())

    inserted = insert_lines(conn, lines(), bulk=keep >= BULK_THRESHOLD)
    return SeedResult(requested=count, inserted=inserted, held_back=tuple(held))


def insert_lines(conn: psycopg.Connection, lines: Iterable[str], bulk: bool = False) -> int:
    """COPY profile lines through an unindexed staging table into `profiles` (a URL already
    there is skipped), then build the raw JSON of the new enriched ones. Returns how many."""
    before = conn.execute("SELECT coalesce(max(id), 0) FROM profiles").fetchone()
    max_id_before = int(before[0]) if before else 0
    columns = ", ".join(COPY_COLUMNS)
    # Only the copied columns, no constraints or sequence defaults: ids are assigned on insert.
    conn.execute(
        f"CREATE TEMP TABLE demo_stage ON COMMIT DROP AS SELECT {columns} FROM profiles WITH NO DATA"
    )
    with conn.cursor() as cur, cur.copy(f"COPY demo_stage ({columns}) FROM STDIN") as copy:
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= 5000:
                copy.write("".join(batch))
                batch.clear()
        if batch:
            copy.write("".join(batch))
    with _secondary_indexes_rebuilt(conn, "profiles", bulk):
        inserted = conn.execute(
            f"INSERT INTO profiles ({columns}) SELECT {columns} FROM demo_stage ORDER BY created_at"
            " ON CONFLICT (linkedin_url) DO NOTHING"
        ).rowcount
    conn.execute(RAW_FROM_COLUMNS, (max_id_before,))
    conn.execute("DROP TABLE demo_stage")  # before commit: a second call may follow in this one
    return inserted
