"""The insights funnel's rollup (services/insights/funnel_rollup.py, migration 0010) against real
Postgres and Redis: equal to the full query for several filters over varied data written through
the services (imports by several recruiters over many days, the filter job, prompt versions and
several screenings per member, enrichment, contact lookups, shortlists, stage moves and
rejections), and still equal after erasure, deletions and more changes, without being told.
Marking, locking and the refresh task: test_funnel_marks.py."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import psycopg
import pytest
from psycopg import sql

from services import erasure, jobs, projects, stages
from services.contacts import set_shortlisted
from services.core.cache import bump_data_version
from services.filters import apply, lists
from services.imports import import_upload, store_upload
from services.insights import InsightsFilter, funnel, funnel_rollup
from services.screening import prompt
from tests.helpers import create_user

pytestmark = pytest.mark.integration

DAY0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
WIDE = InsightsFilter(dt.date(2026, 9, 1), dt.date(2026, 11, 30))
HEADER = "profileUrl,fullName,headline,location,company,jobTitle,vmid\n"
PEOPLE = 60
FITS = ("strong", "good", "maybe", "no")


def funnel_rows(f: InsightsFilter) -> list[funnel.FunnelRow]:
    return funnel_rollup.read(f, funnel.FunnelRow)


def marked(db: psycopg.Connection) -> set[int]:
    return {int(r[0]) for r in db.execute("SELECT project_id FROM funnel_dirty").fetchall()}


def rollup_rows(db: psycopg.Connection) -> list[tuple[Any, ...]]:
    return db.execute("SELECT * FROM funnel_daily ORDER BY project_id, day, added_by").fetchall()


def recomputed_rows(db: psycopg.Connection) -> list[tuple[Any, ...]]:
    """The rollup's rows recomputed now over every project (what a fresh table would hold)."""
    grain = funnel_rollup.grain_query([], sql.SQL(""))
    return db.execute(sql.SQL("SELECT * FROM ({}) g ORDER BY 1, 2, 3").format(grain)).fetchall()


def _person(i: int) -> str:
    return f"https://www.linkedin.com/in/person-{i},Person {i},Engineer,Berlin,Acme {i % 5},Dev,\n"


def _import(project_id: int, people: list[int], user_id: int | None) -> None:
    body = (HEADER + "".join(_person(i) for i in people)).encode()
    upload_id, _fmt, _rows = store_upload(project_id, "people.csv", body, None, 10_000_000)
    import_upload(upload_id, user_id)


def _team(db: psycopg.Connection) -> dict[str, int]:
    users = {
        name: create_user(db, f"{name}@example.com", "lead" if name == "lead" else "recruiter")
        for name in ("lead", "rita", "rob", "rosa")
    }
    for name in ("Alpha", "Beta", "Gamma", "Delta"):
        users[name] = projects.create_project(users["lead"], name)
    return users


def _members(db: psycopg.Connection, rng: random.Random, ids: dict[str, int]) -> None:
    """Each project gets people imported by two recruiters and one import by nobody, shared
    between projects, then spread over 20 days (some right at a day's first or last instant)."""
    for project in ("Alpha", "Beta", "Gamma", "Delta"):
        people = rng.sample(range(PEOPLE), 36)
        for n, who in enumerate([*rng.sample(["rita", "rob", "rosa"], 2), None]):
            _import(ids[project], people[n * 12 : (n + 1) * 12], ids[who] if who else None)
    members = db.execute(
        "SELECT project_id, profile_id FROM project_profiles ORDER BY 1, 2"
    ).fetchall()
    moments = [dt.timedelta(0), dt.timedelta(days=1, microseconds=-1), dt.timedelta(hours=13)]
    at = [DAY0 + dt.timedelta(days=rng.randrange(20)) + rng.choice(moments) for _ in members]
    db.execute(
        "UPDATE project_profiles pp SET added_at = v.at"
        " FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[]) v(project_id, profile_id, at)"
        " WHERE pp.project_id = v.project_id AND pp.profile_id = v.profile_id",
        ([m[0] for m in members], [m[1] for m in members], at),
    )


def _filters_job(ids: dict[str, int]) -> None:
    """The real filter job on Alpha and Beta: members at Acme 1 or Acme 2 pass."""
    targets = lists.create_list(ids["lead"], "Targets", "target_companies")
    lists.add_items(ids["lead"], targets, ["Acme 1", "Acme 2"])
    for project in ("Alpha", "Beta"):
        apply.set_project_lists(ids["lead"], ids[project], {targets: "must_match"})
        job_id = _job("apply_filters", ids[project], ids["lead"])
        claimed = jobs.claim(job_id)
        assert claimed is not None
        apply.run_apply_filters(claimed)


def _job(kind: str, project_id: int, user_id: int) -> int:
    from services.core.db import unit_of_work

    with unit_of_work() as conn:  # not enqueued: this test runs it here
        return jobs.insert_job(conn, kind, {"project_id": project_id}, user_id, project_id)


def _screenings(db: psycopg.Connection, rng: random.Random, ids: dict[str, int]) -> None:
    """Two prompt versions per project; several screenings per member, some pending or failed,
    and the newer version's verdict (when done) is the one that counts."""
    for project in ("Alpha", "Beta", "Gamma"):
        for notes in ("first", "second"):
            prompt.save_criteria(ids["lead"], ids[project], prompt.Criteria(notes=notes))
    versions = db.execute("SELECT id, project_id FROM prompt_versions ORDER BY id").fetchall()
    members = db.execute("SELECT project_id, profile_id FROM project_profiles").fetchall()
    for version_id, project_id in versions:
        for member in (m for m in members if m[0] == project_id and rng.random() < 0.6):
            status = rng.choice(("done", "done", "done", "failed", "pending"))
            db.execute(
                "INSERT INTO screenings (project_id, profile_id, prompt_version_id, status,"
                " score, fit, error) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (*member, version_id, status, 7 if status == "done" else None,
                 rng.choice(FITS) if status == "done" else None,
                 "boom" if status == "failed" else None),
            )  # fmt: skip
    db.execute(  # a retried call finishing later: pending becomes done
        "UPDATE screenings SET status = 'done', score = 9, fit = 'strong'"
        " WHERE status = 'pending' AND id % 2 = 0"
    )


def _profiles_and_contacts(db: psycopg.Connection, rng: random.Random) -> None:
    people = [int(r[0]) for r in db.execute("SELECT id FROM profiles ORDER BY id").fetchall()]
    for profile_id in people:
        status = rng.choice(("enriched", "enriched", "failed", "pending"))
        db.execute("UPDATE profiles SET enrichment_status = %s WHERE id = %s", (status, profile_id))
        if rng.random() < 0.5:
            db.execute(
                "INSERT INTO contact_lookups (profile_id, status, provider) VALUES (%s, %s, 's')",
                (profile_id, rng.choice(("found", "found", "not_found", "failed"))),
            )


def _pipeline(db: psycopg.Connection, rng: random.Random, ids: dict[str, int]) -> None:
    """Shortlists and stage moves (through the services), a rejection after an interview."""
    for project in ("Alpha", "Beta", "Gamma", "Delta"):
        members = [
            int(r[0])
            for r in db.execute(
                "SELECT profile_id FROM project_profiles WHERE project_id = %s ORDER BY 1",
                (ids[project],),
            ).fetchall()
        ]
        set_shortlisted(ids["rita"], ids[project], rng.sample(members, 10))
        moved = rng.sample(members, 12)
        at = DAY0 + dt.timedelta(days=25)
        for n, stage in enumerate(("contacted", "replied", "interviewing", "hired")):
            stages.move_stage(ids["rob"], ids[project], moved[n * 3 :], stage, at=at)
        stages.move_stage(ids["rob"], ids[project], moved[4:6] + members[-2:], "rejected", at=at)


def _build(db: psycopg.Connection, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    ids = _team(db)
    _members(db, rng, ids)
    _filters_job(ids)
    _screenings(db, rng, ids)
    _profiles_and_contacts(db, rng)
    _pipeline(db, rng, ids)
    return ids


def _filters(ids: dict[str, int]) -> list[InsightsFilter]:
    day = dt.date(2026, 10, 1)
    return [
        WIDE,
        InsightsFilter(WIDE.date_from, WIDE.date_to, project_id=ids["Alpha"]),
        InsightsFilter(WIDE.date_from, WIDE.date_to, user_id=ids["rita"]),
        InsightsFilter(WIDE.date_from, WIDE.date_to, project_id=ids["Beta"], user_id=ids["rob"]),
        InsightsFilter(day + dt.timedelta(days=4), day + dt.timedelta(days=9)),  # cuts the days
        InsightsFilter(day + dt.timedelta(days=7), day + dt.timedelta(days=7), user_id=ids["rosa"]),
    ]


def _assert_equal(db: psycopg.Connection, ids: dict[str, int]) -> None:
    for f in _filters(ids):
        assert funnel_rows(f) == funnel.funnel_full(f), f
    assert marked(db) == set()  # the reads refreshed what the writes marked
    assert rollup_rows(db) == recomputed_rows(db)


@pytest.mark.parametrize("seed", [7, 11])
def test_the_rollup_funnel_equals_the_full_query(
    db: psycopg.Connection, redis_conn: Any, seed: int
) -> None:
    ids = _build(db, seed)
    team = funnel.funnel_full(WIDE)[0]
    assert team.project_name == "All projects" and all(team.counts()) and team.rejected
    _assert_equal(db, ids)
    # More writes after the rollup is fresh; every read must see them without being told.
    alpha, beta = ids["Alpha"], ids["Beta"]
    shared = db.execute(
        "SELECT profile_id FROM project_profiles WHERE project_id = %s"
        " INTERSECT SELECT profile_id FROM project_profiles WHERE project_id = %s ORDER BY 1",
        (alpha, beta),
    ).fetchall()
    assert len(shared) >= 3
    erasure.erase_profile(int(shared[0][0]), ids["lead"])  # in both projects
    assert stages.move_stage(ids["rosa"], beta, [shared[1][0], shared[2][0]], "hired").moved
    db.execute(
        "UPDATE screenings SET fit = 'no' WHERE project_id = %s AND fit = 'strong'", (alpha,)
    )
    db.execute(
        "DELETE FROM project_profiles WHERE project_id = %s AND profile_id %% 3 = 0", (beta,)
    )
    db.execute("UPDATE contact_lookups SET status = 'found' WHERE status = 'failed'")
    db.execute("DELETE FROM projects WHERE id = %s", (ids["Delta"],))
    _assert_equal(db, ids)
    bump_data_version("insights")
    assert funnel.funnel(WIDE) == funnel.funnel_full(WIDE)  # the chart, through its cache
    empty = InsightsFilter(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert funnel_rows(empty) == funnel.funnel_full(empty) == []
    lead_only = InsightsFilter(WIDE.date_from, WIDE.date_to, user_id=ids["lead"])
    assert funnel_rows(lead_only) == []


def test_the_row_type_and_the_rollup_name_the_same_counts() -> None:
    fields = list(funnel.FunnelRow.__dataclass_fields__)
    assert fields == ["project_id", "project_name", *funnel_rollup.COUNT_COLUMNS]
