"""What the demo team looks like: its people, its filter lists and its hiring projects.

Plain data. Each project names who works on it, when it opened (days before `now`), which
titles and skills it is after (searches lean towards them and screening scores reward them),
its screening criteria with the profile fact each criterion is judged on, and, for some, the
day its criteria were tightened (prompt version 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DOMAIN = "demo.sourcingx.local"


@dataclass(frozen=True)
class Member:
    key: str
    name: str
    role: str

    @property
    def email(self) -> str:
        return f"{self.name.lower().replace(' ', '.')}@{DOMAIN}"


TEAM: tuple[Member, ...] = (
    Member("lead", "Marta Keller", "lead"),
    Member("rita", "Rita Novak", "recruiter"),
    Member("jonas", "Jonas Weber", "recruiter"),
    Member("aylin", "Aylin Demir", "recruiter"),
    Member("sam", "Samuel Okafor", "recruiter"),
)


@dataclass(frozen=True)
class ListSpec:
    key: str
    name: str
    category: str
    values: tuple[str, ...]
    source: str = "manual"  # manual | csv | sheet: how the team first filled it


LISTS: tuple[ListSpec, ...] = (
    ListSpec(
        "clients",
        "Current clients (do not poach)",
        "excluded_companies",
        ("Acme GmbH", "Initech", "Umbrella Ltd", "Globex Inc", "Hooli"),
        "csv",
    ),
    ListSpec(
        "hubs",
        "EU hubs and remote",
        "locations",
        (
            "Berlin",
            "Munich",
            "Hamburg",
            "Frankfurt",
            "Cologne",
            "Vienna",
            "Zurich",
            "Amsterdam",
            "Copenhagen",
            "Stockholm",
            "Lisbon",
            "Barcelona",
            "Remote",
        ),
    ),
    ListSpec(
        "engineers",
        "Engineering titles",
        "titles_include",
        ("Engineer", "Developer", "Architect", "Scientist"),
    ),
    ListSpec(
        "leaders",
        "Leadership titles",
        "titles_include",
        ("Manager", "Head of", "VP", "Director", "Lead"),
    ),
    ListSpec(
        "targets",
        "Target companies (from the hiring plan sheet)",
        "target_companies",
        (
            "Zalando",
            "Delivery Hero",
            "N26",
            "Celonis",
            "Spotify",
            "Klarna",
            "Adyen",
            "Booking.com",
            "Personio",
            "Trade Republic",
            "Contentful",
            "GetYourGuide",
            "Datadog",
            "Snowflake",
            "Databricks",
            "Stripe",
            "Shopify",
            "Atlassian",
            "DeepL",
            "Mistral AI",
        ),
        "sheet",
    ),
)
SHEET_ID = "1DemoHiringPlanSheet0000000000000000000000"
SHEET_RANGE = "Targets!A:A"

# What a criterion is judged on: a title family match, skills, years, location or company.
Fact = str  # "title" | "skills" | "years" | "location" | "not_client" | "senior"


@dataclass(frozen=True)
class ProjectPlan:
    name: str
    description: str
    location: str
    opened_days_ago: int
    owner: str
    team: tuple[str, ...]
    titles: tuple[str, ...]
    skills: tuple[str, ...]
    min_years: int
    lists: dict[str, str]  # list key -> must_match | must_not_match
    must: tuple[tuple[str, Fact], ...]
    nice: tuple[tuple[str, Fact], ...]
    deal: tuple[tuple[str, Fact], ...]
    notes: str = ""
    # Prompt v2: the day (days before now) the criteria were tightened, and the added line.
    v2_days_ago: int | None = None
    v2_must: tuple[tuple[str, Fact], ...] = field(default_factory=tuple)


NOT_CLIENT = ("Currently works at one of our clients", "not_client")
PROJECTS: tuple[ProjectPlan, ...] = (
    ProjectPlan(
        name="Senior Data Engineer, Berlin",
        description="Batch and streaming pipelines for the data platform team.",
        location="Berlin, Germany",
        opened_days_ago=88,
        owner="rita",
        team=("rita", "aylin"),
        titles=("Data Engineer", "Analytics Engineer", "Backend Engineer", "Platform Engineer"),
        skills=("Spark", "Airflow", "Kafka", "dbt", "SQL", "Python", "Snowflake", "BigQuery"),
        min_years=5,
        lists={"clients": "must_not_match", "hubs": "must_match", "engineers": "must_match"},
        must=(
            ("Builds data pipelines (Spark, Airflow, dbt or Kafka)", "skills"),
            ("5+ years of engineering experience", "years"),
        ),
        nice=(("Has worked in Berlin or remote in the EU", "location"),),
        deal=(NOT_CLIENT,),
        notes="Hiring manager prefers people who have owned a platform end to end.",
        v2_days_ago=41,
        v2_must=(("Has run streaming in production (Kafka or Spark)", "skills"),),
    ),
    ProjectPlan(
        name="Backend Engineer (Go), Remote EU",
        description="Payments backend; Go, Postgres, Kafka.",
        location="Remote",
        opened_days_ago=80,
        owner="jonas",
        team=("jonas", "sam"),
        titles=(
            "Backend Engineer",
            "Software Engineer",
            "Platform Engineer",
            "Site Reliability Engineer",
            "Full Stack Developer",
        ),
        skills=("Go", "PostgreSQL", "Kafka", "Kubernetes", "gRPC", "Microservices", "Redis"),
        min_years=3,
        lists={"clients": "must_not_match", "engineers": "must_match"},
        must=(
            ("Writes Go or a comparable backend language", "skills"),
            ("Backend or platform engineering title", "title"),
        ),
        nice=(("Payments or fintech exposure", "senior"),),
        deal=(NOT_CLIENT,),
    ),
    ProjectPlan(
        name="ML Engineer, Munich",
        description="Ranking and recommendations; PyTorch in production.",
        location="Munich, Germany",
        opened_days_ago=66,
        owner="aylin",
        team=("aylin", "jonas"),
        titles=("Machine Learning Engineer", "Data Scientist", "Software Engineer"),
        skills=("PyTorch", "Python", "MLOps", "NLP", "TensorFlow", "scikit-learn", "LLMs"),
        min_years=3,
        lists={"clients": "must_not_match", "hubs": "must_match", "engineers": "must_match"},
        must=(
            ("Ships models to production (PyTorch or TensorFlow)", "skills"),
            ("ML engineering or data science title", "title"),
        ),
        nice=(("Based in or near Munich", "location"), ("3+ years of experience", "years")),
        deal=(NOT_CLIENT,),
        v2_days_ago=24,
        v2_must=(("Owns MLOps: training pipelines, serving, monitoring", "skills"),),
    ),
    ProjectPlan(
        name="Engineering Manager, Platform",
        description="Lead a team of 8 platform engineers.",
        location="Amsterdam, Netherlands",
        opened_days_ago=52,
        owner="sam",
        team=("sam", "rita"),
        titles=(
            "Engineering Manager",
            "VP Engineering",
            "Head of Data",
            "Platform Engineer",
            "Site Reliability Engineer",
        ),
        skills=("Kubernetes", "Terraform", "AWS", "System Design", "CI/CD", "GCP"),
        min_years=8,
        lists={"clients": "must_not_match", "leaders": "must_match"},
        must=(
            ("Has managed engineers (title or evidence)", "title"),
            ("8+ years in engineering", "years"),
        ),
        nice=(("Platform or infrastructure background", "skills"),),
        deal=(NOT_CLIENT,),
        notes="People leadership first; hands-on Kubernetes is a plus, not a must.",
    ),
    ProjectPlan(
        name="Frontend Engineer, React",
        description="Design-system minded React engineer.",
        location="Hamburg, Germany",
        opened_days_ago=38,
        owner="rita",
        team=("rita", "sam", "jonas"),
        titles=(
            "Frontend Engineer",
            "Full Stack Developer",
            "Mobile Developer",
            "Software Engineer",
        ),
        skills=("React", "TypeScript", "GraphQL", "Node.js"),
        min_years=2,
        lists={"clients": "must_not_match", "hubs": "must_match", "engineers": "must_match"},
        must=(("React and TypeScript", "skills"), ("Frontend or full stack title", "title")),
        nice=(("Hamburg or remote in Germany", "location"),),
        deal=(NOT_CLIENT,),
    ),
)
