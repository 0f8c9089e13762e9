"""What the demo history knows while it runs: the team's ids, each project's state, the profile
pool searches draw from, the usage rows collected so far, and one seeded random stream."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from services.core.db import unit_of_work
from services.demo.clock import HistoryDb
from services.demo.plan import ProjectPlan
from services.demo.profiles import Person
from services.demo.usage import Usage

POOL_LIMIT = 8000


@dataclass(frozen=True)
class PoolProfile:
    id: int
    url: str
    first: str
    last: str
    title: str
    company: str
    location: str
    created_at: datetime


@dataclass
class ProjectState:
    plan: ProjectPlan
    id: int
    version_id: int = 0
    version: int = 0
    prompt_text: str = ""
    model: str = ""
    members: set[int] = field(default_factory=set)
    # Members added since the project's pipeline (enrich, filter, screen) last ran, and the
    # time the first of them came in.
    fresh: list[int] = field(default_factory=list)
    waiting_since: datetime | None = None

    @property
    def team(self) -> tuple[str, ...]:
        return self.plan.team


@dataclass
class Pool:
    """The seeded profiles searches find again ("already known"), by title for relevance."""

    profiles: list[PoolProfile]
    by_title: dict[str, list[PoolProfile]]
    by_id: dict[int, PoolProfile]

    @classmethod
    def load(cls, limit: int = POOL_LIMIT) -> Pool:
        with unit_of_work() as conn:
            rows = conn.execute(
                "SELECT id, linkedin_url, coalesce(first_name, ''), coalesce(last_name, ''),"
                " coalesce(current_title, ''), coalesce(current_company, ''),"
                " coalesce(location, ''), created_at FROM profiles WHERE source = 'demo'"
                " ORDER BY id LIMIT %s",
                (limit,),
            ).fetchall()
        profiles = [PoolProfile(*r) for r in rows]
        by_title: dict[str, list[PoolProfile]] = {}
        for p in profiles:
            by_title.setdefault(p.title, []).append(p)
        return cls(profiles, by_title, {p.id: p for p in profiles})

    def pick(
        self, rng: random.Random, titles: tuple[str, ...], before: datetime, exclude: set[int]
    ) -> PoolProfile | None:
        """A profile the search is likely to find: mostly the project's titles, added to the
        database before the search, not yet in the project."""
        for _ in range(12):
            family = [t for t in titles if self.by_title.get(t)]
            if family and rng.random() < 0.8:
                candidates = self.by_title[rng.choice(family)]
            else:
                candidates = self.profiles
            if not candidates:
                return None
            p = rng.choice(candidates)
            if p.created_at < before and p.id not in exclude:
                return p
        return None


@dataclass
class Demo:
    now: datetime
    rng: random.Random
    usage: Usage
    pool: Pool
    db: HistoryDb
    days: int = 90
    users: dict[str, int] = field(default_factory=dict)
    lists: dict[str, int] = field(default_factory=dict)
    projects: list[ProjectState] = field(default_factory=list)
    # Generated people held back from the initial load, for searches and files to find; and
    # those found, by URL (enrichment later fills in what their export row did not say).
    unfound: list[Person] = field(default_factory=list)
    people: dict[str, Person] = field(default_factory=dict)
    # Profiles Crustdata has no match for: every later attempt fails the same way.
    unmatched: set[int] = field(default_factory=set)
    attempted: set[int] = field(default_factory=set)
    crustdata_credits: int = 48_000

    def user(self, key: str) -> int:
        return self.users[key]

    def discover(self, titles: tuple[str, ...]) -> Person | None:
        """Someone not in the database yet, preferably with one of `titles` (a search leans
        towards its titles); None once everyone held back has been found."""
        if not self.unfound:
            return None
        for i in range(min(len(self.unfound), 40)):
            if self.unfound[i].title in titles:
                break
        else:
            i = 0
        person = self.unfound.pop(i)
        self.people[person.url] = person
        return person
