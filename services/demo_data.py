"""Deterministic synthetic demo data: realistic profiles (plus raw provider JSON) and projects.

Rows are generated from `random.Random(seed)` and streamed into Postgres with COPY through an
unindexed staging table, then moved with one set-based INSERT ... ON CONFLICT DO NOTHING, so a
second run with the same seed adds nothing. The raw provider JSON (a few KB, Crustdata-shaped)
is built by Postgres from the parsed columns in one statement rather than serialised in Python.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elena",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Katrin",
    "Lukas",
    "Maria",
    "Noah",
    "Olga",
    "Paul",
    "Queenie",
    "Rafael",
    "Sofia",
    "Tobias",
    "Ursula",
    "Viktor",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
    "Amir",
    "Bianca",
    "Chen",
    "Dmitri",
    "Emre",
    "Fatima",
    "Giulia",
    "Hiro",
    "Ivan",
    "Julia",
    "Kofi",
    "Lea",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quentin",
    "Rosa",
    "Samuel",
    "Tara",
    "Umar",
    "Vera",
    "Wojciech",
    "Ximena",
    "Yusuf",
    "Zainab",
    "Leon",
    "Mila",
    "Aiko",
    "Lars",
    "Nora",
    "Pedro",
]
LAST = [
    "Schmidt",
    "Müller",
    "Garcia",
    "Rossi",
    "Novak",
    "Kowalski",
    "Jensen",
    "Dubois",
    "Silva",
    "Nakamura",
    "Khan",
    "Okafor",
    "Andersson",
    "Petrov",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Klein",
    "Wolf",
    "Neumann",
    "Braun",
    "Zimmermann",
    "Krüger",
    "Hartmann",
    "Lange",
    "Werner",
    "Lehmann",
    "Fernandez",
    "Moreau",
    "Lopez",
    "Bianchi",
    "Costa",
    "Yilmaz",
    "Ivanova",
    "Tanaka",
    "Kim",
    "Nguyen",
    "Patel",
    "Singh",
    "Cohen",
    "Berg",
    "Lindqvist",
    "Horvath",
    "Varga",
    "Popescu",
    "Santos",
    "Murphy",
    "O'Brien",
    "Walsh",
    "Kelly",
    "Byrne",
    "Ryan",
    "Evans",
    "Hughes",
]
TITLES = (
    "Software Engineer",
    "Backend Engineer",
    "Data Engineer",
    "Frontend Engineer",
    "DevOps Engineer",
    "Machine Learning Engineer",
    "Data Scientist",
    "Site Reliability Engineer",
    "Product Manager",
    "Engineering Manager",
    "QA Engineer",
    "Security Engineer",
    "Mobile Developer",
    "Full Stack Developer",
    "Platform Engineer",
    "Analytics Engineer",
    "Solutions Architect",
    "Head of Data",
    "CTO",
    "VP Engineering",
)
COMPANIES = (
    "Acme GmbH",
    "Globex Inc",
    "Initech",
    "Umbrella Ltd",
    "Hooli",
    "Stark Industries",
    "Wayne Enterprises",
    "Zalando",
    "Delivery Hero",
    "N26",
    "Celonis",
    "SAP",
    "Spotify",
    "Klarna",
    "Adyen",
    "Booking.com",
    "Miro",
    "Personio",
    "HelloFresh",
    "Trade Republic",
    "Contentful",
    "GetYourGuide",
    "Babbel",
    "Wolt",
    "Revolut",
    "Monzo",
    "Deliveroo",
    "Datadog",
    "Snowflake",
    "Databricks",
    "Stripe",
    "Shopify",
    "Atlassian",
    "Canva",
    "Siemens",
    "Bosch",
    "Allianz",
    "BMW Group",
    "Volkswagen",
    "Zeiss",
    "Infineon",
    "Mistral AI",
    "DeepL",
    "Aleph Alpha",
    "Wefox",
    "Flix",
    "Scalable Capital",
    "Raisin",
    "Sennder",
    "Forto",
    "Tier Mobility",
    "Gorillas",
    "Pitch",
    "Hopin",
    "Taxfix",
)
LOCATIONS = (
    "Berlin, Germany",
    "Munich, Germany",
    "Hamburg, Germany",
    "Frankfurt, Germany",
    "Cologne, Germany",
    "Vienna, Austria",
    "Zurich, Switzerland",
    "Amsterdam, Netherlands",
    "London, United Kingdom",
    "Paris, France",
    "Barcelona, Spain",
    "Madrid, Spain",
    "Lisbon, Portugal",
    "Warsaw, Poland",
    "Prague, Czechia",
    "Stockholm, Sweden",
    "Copenhagen, Denmark",
    "Dublin, Ireland",
    "Milan, Italy",
    "Tallinn, Estonia",
    "New York, United States",
    "San Francisco, United States",
    "Toronto, Canada",
    "Remote",
)
SKILLS = (
    "Python",
    "Go",
    "Java",
    "Kotlin",
    "TypeScript",
    "React",
    "SQL",
    "PostgreSQL",
    "Kafka",
    "Spark",
    "Airflow",
    "dbt",
    "Kubernetes",
    "Terraform",
    "AWS",
    "GCP",
    "Azure",
    "Docker",
    "Redis",
    "Django",
    "Flask",
    "FastAPI",
    "PyTorch",
    "TensorFlow",
    "scikit-learn",
    "Pandas",
    "Rust",
    "C++",
    "Scala",
    "Snowflake",
    "BigQuery",
    "Looker",
    "Tableau",
    "GraphQL",
    "gRPC",
    "Linux",
    "CI/CD",
    "Microservices",
    "System Design",
    "LLMs",
    "NLP",
    "Computer Vision",
    "MLOps",
    "Data Modeling",
    "ETL",
    "Elasticsearch",
    "Node.js",
    "Swift",
)
SENIORITY_BY_YEARS = ((2, "Junior"), (5, "Mid"), (9, "Senior"), (13, "Lead"), (18, "Principal"))
PROJECTS = (
    (
        "Senior Data Engineer, Berlin",
        "Batch and streaming pipelines for the data platform team.",
        "Berlin, Germany",
    ),
    ("Backend Engineer (Go), Remote EU", "Payments backend; Go, Postgres, Kafka.", "Remote"),
    (
        "ML Engineer, Munich",
        "Ranking and recommendations; PyTorch in production.",
        "Munich, Germany",
    ),
    (
        "Engineering Manager, Platform",
        "Lead a team of 8 platform engineers.",
        "Amsterdam, Netherlands",
    ),
    ("Frontend Engineer, React", "Design-system minded React engineer.", "Hamburg, Germany"),
)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
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


@dataclass(frozen=True)
class SeedResult:
    requested: int
    inserted: int


def _seniority(years: int, title: str) -> str:
    if title in ("CTO", "VP Engineering", "Head of Data"):
        return "C-level" if title == "CTO" else ("VP" if title.startswith("VP") else "Director")
    if "Manager" in title:
        return "Lead"
    for limit, label in SENIORITY_BY_YEARS:
        if years <= limit:
            return label
    return "Principal"


def _pg_array(values: list[str]) -> str:
    return (
        "{"
        + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )


def _copy_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def generate_rows(count: int, seed: int) -> Iterator[str]:
    """COPY text lines for `count` profiles; the same (count, seed) always yields the same lines."""
    rng = random.Random(seed)
    choice, randint, random_ = rng.choice, rng.randint, rng.random
    for i in range(count):
        first, last = choice(FIRST), choice(LAST)
        title, company, location = choice(TITLES), choice(COMPANIES), choice(LOCATIONS)
        years = randint(0, 25)
        skills = rng.sample(SKILLS, randint(3, 9))
        slug = f"{first}-{last}".lower().replace("'", "").replace("ü", "u").replace("ö", "o")
        public_id = f"{slug}-{seed:x}{i:07x}"
        created = EPOCH + timedelta(minutes=randint(0, 60 * 24 * 330))
        enriched = random_() < 0.7
        enriched_at = (created + timedelta(days=randint(0, 300))).isoformat() if enriched else "\\N"
        headline = f"{title} at {company} · {', '.join(skills[:3])}"
        fields = (
            f"https://www.linkedin.com/in/{public_id}",
            public_id,
            f"{first} {last}",
            first,
            last,
            headline,
            title,
            company,
            location,
            _seniority(years, title),
            str(years),
            _pg_array(skills),
            "demo",
            "enriched" if enriched else "pending",
            enriched_at,
            created.isoformat(),
        )
        yield "\t".join(f if f == "\\N" else _copy_escape(f) for f in fields) + "\n"


RAW_FROM_COLUMNS = """
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
WHERE p.enrichment_status = 'enriched' AND p.id > %s
ON CONFLICT (profile_id, provider) DO NOTHING
"""


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


def seed_profiles(conn: psycopg.Connection, count: int, seed: int = 42) -> SeedResult:
    """Insert `count` deterministic profiles (and their raw JSON) in one transaction."""
    conn.execute("SET LOCAL synchronous_commit = off")
    before = conn.execute("SELECT coalesce(max(id), 0) FROM profiles").fetchone()
    max_id_before = int(before[0]) if before else 0
    columns = ", ".join(COPY_COLUMNS)
    # Only the copied columns, no constraints or sequence defaults: ids are assigned on insert.
    conn.execute(
        f"CREATE TEMP TABLE demo_stage ON COMMIT DROP AS SELECT {columns} FROM profiles WITH NO DATA"
    )
    with conn.cursor() as cur, cur.copy(f"COPY demo_stage ({columns}) FROM STDIN") as copy:
        batch: list[str] = []
        for line in generate_rows(count, seed):
            batch.append(line)
            if len(batch) >= 5000:
                copy.write("".join(batch))
                batch.clear()
        if batch:
            copy.write("".join(batch))
    with _secondary_indexes_rebuilt(conn, "profiles", count >= BULK_THRESHOLD):
        inserted = conn.execute(
            f"INSERT INTO profiles ({columns}) SELECT {columns} FROM demo_stage ORDER BY created_at"
            " ON CONFLICT (linkedin_url) DO NOTHING"
        ).rowcount
    conn.execute(RAW_FROM_COLUMNS, (max_id_before,))
    return SeedResult(requested=count, inserted=inserted)


def seed_projects(conn: psycopg.Connection, owner_id: int | None, per_project: int = 400) -> int:
    """Create the demo hiring projects (once) and link a deterministic sample of profiles."""
    existing = conn.execute("SELECT count(*) FROM projects").fetchone()
    if existing and existing[0]:
        return 0
    for index, (name, description, location) in enumerate(PROJECTS):
        row = conn.execute(
            "INSERT INTO projects (name, description, location, owner_id) VALUES (%s, %s, %s, %s)"
            " RETURNING id",
            (name, description, location, owner_id),
        ).fetchone()
        assert row is not None
        conn.execute(
            "INSERT INTO project_profiles (project_id, profile_id, stage, added_by)"
            " SELECT %s, id, 'sourced', %s FROM profiles WHERE id %% %s = 0 ORDER BY id LIMIT %s",
            (row[0], owner_id, 7 + index * 3, per_project),
        )
    conn.execute(
        "UPDATE projects p SET profile_count ="
        " (SELECT count(*) FROM project_profiles pp WHERE pp.project_id = p.id)"
    )
    return len(PROJECTS)
