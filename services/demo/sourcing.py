"""Bringing people into the demo projects: search runs, CSV uploads, and filter lists.

A search run cannot reach PhantomBuster, so its search and job rows and its usage rows are
written as `searches.run_search` leaves them; the result rows then go through the real import
(`imports.import_candidates` + `record_import`, dedup included). CSV uploads go through the
whole real path (`store_upload`, the `import_csv` job handler), and filter lists are applied by
the real `apply_filters` job.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from services import audit, imports
from services.csv_source import candidates_from_dicts
from services.demo.plan import ProjectPlan
from services.demo.state import Demo, ProjectState
from services.demo.usage import Who
from services.demo.work import provider_job, run_job
from services.filters.apply import run_apply_filters
from services.imports import import_candidates, record_import, store_upload
from services.searches import agent_for

UPLOAD_MAX_BYTES = 5_000_000
SEARCH_SIZES = (20, 25, 30, 40, 50)
CSV_NAMES = ("referrals", "meetup-attendees", "agency-shortlist", "conference-leads", "alumni")


def _members(demo: Demo, state: ProjectState) -> set[int]:
    with demo.db.tx() as conn:
        rows = conn.execute(
            "SELECT profile_id FROM project_profiles WHERE project_id = %s", (state.id,)
        ).fetchall()
    return {int(r[0]) for r in rows}


def _took_in(demo: Demo, state: ProjectState, at: datetime) -> int:
    """Record the members the last import added; returns how many."""
    now_members = _members(demo, state)
    added = sorted(now_members - state.members)
    state.members = now_members
    if added and not state.fresh:
        state.waiting_since = at
    state.fresh.extend(added)
    return len(added)


def _variant(rng: random.Random, url: str) -> str:
    """URLs as exports really write them: some without www, with a slash or query string."""
    roll = rng.random()
    if roll < 0.1:
        return url.replace("https://www.", "https://") + "/"
    if roll < 0.15:
        return url + "?miniProfileUrn=urn%3Ali%3Afs_miniProfile%3AACoAA"
    return url


ANONYMOUS_ROW = {
    "url": "",
    "first": "LinkedIn",
    "last": "Member",
    "title": "",
    "company": "",
    "location": "",
}


def _people(
    demo: Demo, state: ProjectState, at: datetime, count: int, new_share: float
) -> list[dict[str, Any]]:
    """Who a search or a file turns up: known profiles (mostly the project's titles), people not
    in the database yet, a few already in the project, a repeated row and an anonymous one."""
    found: list[dict[str, Any]] = []
    seen: set[int] = set(state.members)
    for _ in range(count):
        row = _one_found(demo, state, at, new_share, found, seen)
        if row is not None:
            found.append(row)
    for row in found:
        if row["url"]:
            row["url"] = _variant(demo.rng, row["url"])
    return found


def _one_found(
    demo: Demo,
    state: ProjectState,
    at: datetime,
    new_share: float,
    found: list[dict[str, Any]],
    seen: set[int],
) -> dict[str, Any] | None:
    """The next export row (None when the pool has no one left to find); `seen` gains whoever
    the pool gave, so a search does not find the same known profile twice."""
    rng, plan = demo.rng, state.plan
    roll = rng.random()
    if roll < 0.03:
        return dict(ANONYMOUS_ROW)
    if roll < 0.06 and found:
        return dict(rng.choice(found))  # the same person twice in one export
    if roll < 0.10 and state.members:
        known = demo.pool.by_id.get(rng.choice(sorted(state.members)))
        if known is not None:
            return _row_of(known)
    if roll < 0.10 + new_share and (person := demo.discover(plan.titles)) is not None:
        return _row_of(person)
    pick = demo.pool.pick(rng, plan.titles, at, seen)
    if pick is None:
        return None
    seen.add(pick.id)
    return _row_of(pick)


def _row_of(p: Any) -> dict[str, Any]:
    return {
        "url": p.url,
        "first": p.first,
        "last": p.last,
        "title": p.title,
        "company": p.company,
        "location": p.location,
    }


def _export_row(kind: str, r: dict[str, Any]) -> dict[str, object]:
    """A PhantomBuster result row: Sales Navigator and LinkedIn exports name fields differently."""
    name = f"{r['first']} {r['last']}".strip()
    if kind == "salesnav":
        return {
            "linkedInProfileUrl": r["url"],
            "fullName": name,
            "firstName": r["first"],
            "lastName": r["last"],
            "title": r["title"],
            "companyName": r["company"],
            "location": r["location"],
        }
    return {
        "profileUrl": r["url"],
        "fullName": name,
        "firstName": r["first"],
        "lastName": r["last"],
        "jobTitle": r["title"],
        "company": r["company"],
        "location": r["location"],
    }


@dataclass(frozen=True)
class _SearchRun:
    """What one PhantomBuster run was asked and what it did, drawn before any row is written."""

    kind: str
    requested: int
    query: str
    run_s: float
    started: datetime
    finished: datetime
    failed: bool
    rows: list[dict[str, Any]]
    container: str

    @property
    def agent(self) -> str:
        return agent_for(self.kind)

    @property
    def error(self) -> str | None:
        return "PhantomBuster run ended: finished (agent timeout)" if self.failed else None


def _search_query(rng: random.Random, plan: ProjectPlan, kind: str, title: str) -> str:
    city = plan.location.split(",")[0]
    if kind == "salesnav":
        return (
            f"https://www.linkedin.com/sales/search/people?keywords={title.replace(' ', '%20')}"
            f"&geo={city}"
        )
    return f'"{title}" {city} {" OR ".join(rng.sample(plan.skills, 2))}'


def _draw_run(demo: Demo, state: ProjectState, at: datetime, size: int) -> _SearchRun:
    """The run's parameters, timing, outcome and result rows, in the seeded stream's order."""
    rng, plan = demo.rng, state.plan
    kind = "salesnav" if rng.random() < 0.35 else "linkedin"
    requested = size or rng.choice(SEARCH_SIZES)
    query = _search_query(rng, plan, kind, rng.choice(plan.titles))
    run_s = requested * rng.uniform(1.4, 2.6) + rng.uniform(20, 60)
    started = at + timedelta(seconds=rng.uniform(2, 30))
    finished = started + timedelta(seconds=run_s + rng.uniform(3, 10))
    failed = rng.random() < 0.05
    rows = [] if failed else _people(demo, state, at, int(requested * rng.uniform(0.7, 1.0)), 0.22)
    container = str(rng.randint(10**15, 10**16 - 1))
    return _SearchRun(kind, requested, query, run_s, started, finished, failed, rows, container)


def search(demo: Demo, state: ProjectState, user_key: str, at: datetime, size: int = 0) -> None:
    """One search run: launched, run by PhantomBuster for a few minutes, its rows imported."""
    user = demo.user(user_key)
    run = _draw_run(demo, state, at, size)
    with demo.db.tx() as conn:
        search_id = _insert_search(conn, state, user, at, run)
        job_id = _launch_job(demo, conn, state, user, at, run, search_id)
        if not run.failed:
            _import_results(conn, state, user, run, search_id, job_id)
        demo.db.move(conn, run.finished, "profiles", "project_profiles", "imports")
    who = Who(user, state.id, job_id)
    _search_usage(demo, who, run.agent, run.container, run.started, run.run_s, run.failed)
    _took_in(demo, state, at)


def _insert_search(
    conn: psycopg.Connection, state: ProjectState, user: int, at: datetime, run: _SearchRun
) -> int:
    row = conn.execute(
        "INSERT INTO searches (project_id, agent_id, kind, query, requested_count,"
        " launched_by, status, container_id, error, created_at, started_at, finished_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            state.id,
            run.agent,
            run.kind,
            run.query,
            run.requested,
            user,
            "failed" if run.failed else "done",
            run.container,
            run.error,
            at,
            run.started,
            run.finished,
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _launch_job(
    demo: Demo,
    conn: psycopg.Connection,
    state: ProjectState,
    user: int,
    at: datetime,
    run: _SearchRun,
    search_id: int,
) -> int:
    """The search's job row and its launch audit row (at the history's time); returns the job."""
    job_id = provider_job(
        conn,
        "search_run",
        {"search_id": search_id},
        user,
        state.id,
        run.started,
        run.finished,
        total=run.requested,
        done=0,
    )
    conn.execute("UPDATE searches SET job_id = %s WHERE id = %s", (job_id, search_id))
    audit.record(
        conn,
        user,
        "search.launch",
        "search",
        search_id,
        {"project_id": state.id, "kind": run.kind, "count": run.requested},
    )
    conn.execute(
        "UPDATE audit_log SET ts = %s WHERE ts >= %s AND action = 'search.launch'",
        (at, demo.now),
    )
    return job_id


def _import_results(
    conn: psycopg.Connection,
    state: ProjectState,
    user: int,
    run: _SearchRun,
    search_id: int,
    job_id: int,
) -> None:
    """The run's rows through the real import, and the counts it reports on the search and job."""
    report = import_candidates(
        conn,
        state.id,
        candidates_from_dicts([_export_row(run.kind, r) for r in run.rows]),
        user,
        "search",
        search_id,
    )
    record_import(conn, state.id, f"search #{search_id}", run.kind, report, user, job_id, search_id)
    known = report.rows - report.new - report.skipped_count
    conn.execute(
        "UPDATE searches SET new_count = %s, known_count = %s WHERE id = %s",
        (report.new, known, search_id),
    )
    conn.execute(
        "UPDATE jobs SET total = %s, done = %s, failed = %s, message = %s WHERE id = %s",
        (
            report.rows,
            report.rows - report.skipped_count,
            report.skipped_count,
            f"{report.new:,} new, {report.linked:,} already known",
            job_id,
        ),
    )


def _search_usage(
    demo: Demo, who: Who, agent: str, container: str, started: datetime, run_s: float, failed: bool
) -> None:
    """What the PhantomBuster client meters for one run: the agent, the launch, a poll every
    couple of seconds, the result, and the run's execution time (what PhantomBuster bills)."""
    u, rng = demo.usage, demo.rng
    u.add(started, who, "phantombuster", "agent_fetch", subject=agent)
    u.add(
        started + timedelta(seconds=1),
        who,
        "phantombuster",
        "agent_launch",
        subject=agent,
        latency=(400, 1200),
    )
    polls = max(3, int(run_s / rng.uniform(6, 12)))
    for i in range(polls):
        at = started + timedelta(seconds=2 + run_s * (i + 1) / polls)
        u.add(at, who, "phantombuster", "container_fetch", subject=container, latency=(90, 350))
    end = started + timedelta(seconds=run_s + 2)
    if not failed:
        u.add(end, who, "phantombuster", "container_result", subject=container, latency=(300, 900))
    u.add(
        end,
        who,
        "phantombuster",
        "execution_time",
        units=round(run_s, 1),
        subject=container,
        http_status=None,
        latency=(0, 0),
    )


def upload(demo: Demo, state: ProjectState, user_key: str, at: datetime) -> None:
    """A recruiter uploads a CSV (referrals, an event list) and the import job runs it."""
    rng, user = demo.rng, demo.user(user_key)
    people = _people(demo, state, at, rng.randint(12, 45), 0.45)
    lines = ["LinkedIn URL,First Name,Last Name,Company,Title,Location"]
    for p in people:
        cells = (p["url"], p["first"], p["last"], p["company"], p["title"], p["location"])
        lines.append(",".join(f'"{c}"' if "," in c else c for c in cells))
    name = f"{rng.choice(CSV_NAMES)}-{at:%Y-%m-%d}.csv"
    content = ("\n".join(lines) + "\n").encode()
    started = at + timedelta(seconds=rng.uniform(5, 40))
    upload_id, _fmt, rows = store_upload(state.id, name, content, user, UPLOAD_MAX_BYTES)
    run_job(
        demo.db,
        "import_csv",
        {"upload_id": upload_id, "rows": rows},
        user,
        state.id,
        imports.run_import,
        started,
        rng.uniform(1, 4),
        "profiles",
        "project_profiles",
        "imports",
    )
    _took_in(demo, state, at)


def apply_filters(demo: Demo, state: ProjectState, user_key: str, at: datetime) -> None:
    """The project's filter lists, applied by the real `apply_filters` job."""
    run_job(
        demo.db,
        "apply_filters",
        {"project_id": state.id},
        demo.user(user_key),
        state.id,
        run_apply_filters,
        at,
        demo.rng.uniform(0.5, 2.5),
        "filter_results",
    )
