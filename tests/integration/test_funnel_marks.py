"""The funnel rollup's bookkeeping (migration 0010, services/insights/funnel_rollup.py) against
real Postgres and Redis: triggers mark exactly the affected projects, once per statement; the
refresh skips what another worker or an uncommitted writer holds, and a mark made meanwhile
stays; deleted projects; the migration's backfill; the one-at-a-time Celery task the jobs
enqueue, and an unreachable Redis."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import psycopg
import pytest
import redis as redis_lib

from services import stages
from services.contacts import set_shortlisted
from services.insights import funnel, funnel_rollup
from tests.factories import make_project, make_prompt_version
from tests.helpers import celery_worker, create_user, free_port, wait_for
from tests.integration.test_funnel_rollup import (
    DAY0,
    WIDE,
    funnel_rows,
    marked,
    recomputed_rows,
    rollup_rows,
)

pytestmark = pytest.mark.integration


@pytest.fixture()
def three(db: psycopg.Connection) -> None:
    """Projects 1, 2, 3; profile 1 in projects 1 and 2, profile 2 in project 3, profile 3 in
    none; the rollup is fresh."""
    for project_id, name in enumerate("ABC", start=1):
        make_project(db, id=project_id, name=name)
    db.execute(
        "INSERT INTO profiles (id, linkedin_url) SELECT g, 'https://www.linkedin.com/in/t' || g"
        " FROM generate_series(1, 3) g"
    )
    db.execute(
        "INSERT INTO project_profiles (project_id, profile_id, added_at) VALUES"
        " (1, 1, %(t)s), (2, 1, %(t)s), (3, 2, %(t)s)",
        {"t": DAY0},
    )
    make_prompt_version(db, id=1, project_id=3)
    assert funnel_rollup.refresh_dirty() == 3  # a fresh rollup, nothing marked


def _marked_by(db: psycopg.Connection, statement: str, *params: Any) -> set[int]:
    db.execute("DELETE FROM funnel_dirty")
    db.execute(statement, params or None)
    return marked(db)


def test_triggers_mark_exactly_the_projects_affected(db: psycopg.Connection, three: None) -> None:
    lookup = "INSERT INTO contact_lookups (profile_id, status, provider) VALUES (%s, 'found', 's')"
    assert _marked_by(db, lookup, 1) == {1, 2}  # the profile is in both
    assert _marked_by(db, lookup, 3) == set()  # in no project
    again = "UPDATE contact_lookups SET looked_up_at = now(), error = 'x' WHERE profile_id = 1"
    assert _marked_by(db, again) == set()  # nothing counted changed
    assert _marked_by(db, "UPDATE contact_lookups SET status = 'failed'") == {1, 2}
    assert _marked_by(db, "UPDATE profiles SET headline = 'x', updated_at = now()") == set()
    same = "UPDATE profiles SET enrichment_status = enrichment_status"
    assert _marked_by(db, same) == set()
    enriched = "UPDATE profiles SET enrichment_status = 'enriched' WHERE id = %s"
    assert _marked_by(db, enriched, 2) == {3}
    result = "INSERT INTO filter_results (project_id, profile_id, passed) VALUES (3, 2, true)"
    assert _marked_by(db, result) == {3}
    assert (
        _marked_by(db, "UPDATE filter_results SET reasons = '[1]', evaluated_at = now()") == set()
    )
    assert _marked_by(db, "UPDATE filter_results SET passed = false") == {3}
    screening = (
        "INSERT INTO screenings (project_id, profile_id, prompt_version_id) VALUES (3, 2, 1)"
    )
    assert _marked_by(db, screening) == {3}
    assert _marked_by(db, "UPDATE screenings SET attempts = 2, updated_at = now()") == set()
    assert _marked_by(db, "UPDATE screenings SET status = 'done', score = 5, fit = 'good'") == {3}
    noted = "UPDATE project_profiles SET stage_changed_at = now() WHERE profile_id = 1"
    assert _marked_by(db, noted) == set()
    moved = (
        "UPDATE project_profiles SET stage = 'contacted', stage_reached = 1 WHERE project_id = 2"
    )
    assert _marked_by(db, moved) == {2}
    assert _marked_by(db, "DELETE FROM project_profiles WHERE project_id = 1") == {1}
    assert _marked_by(db, "DELETE FROM profiles WHERE id = 2") == {3}  # through the cascade
    assert _marked_by(db, "DELETE FROM screenings") == set()  # went with the profile


def test_a_bulk_copy_marks_each_project_once(db: psycopg.Connection) -> None:
    for project_id, name in enumerate("ABC", start=1):
        make_project(db, id=project_id, name=name)
    db.execute(
        "INSERT INTO profiles (linkedin_url)"
        " SELECT 'https://www.linkedin.com/in/bulk-' || g FROM generate_series(1, 50000) g"
    )
    db.execute("DELETE FROM funnel_dirty")
    with psycopg.connect(db.info.dsn) as conn:
        conn.execute("SET LOCAL track_functions = 'pl'")
        with (
            conn.cursor() as cur,
            cur.copy("COPY project_profiles (project_id, profile_id, added_at) FROM STDIN") as copy,
        ):
            for project_id in (1, 2):
                for profile_id in range(1, 50001):
                    copy.write_row((project_id, profile_id, DAY0))
        calls = dict(
            conn.execute(
                "SELECT funcname, calls FROM pg_stat_xact_user_functions"
                " WHERE funcname LIKE 'funnel_mark%'"
            ).fetchall()
        )
    assert calls == {"funnel_mark_project_profiles": 1, "funnel_mark": 1}  # not 100,000
    assert marked(db) == {1, 2}
    triggers = db.execute(
        "SELECT tgname, tgtype & 1, tgnewtable IS NOT NULL OR tgoldtable IS NOT NULL"
        " FROM pg_trigger WHERE tgname LIKE '%funnel%' ORDER BY tgname"
    ).fetchall()
    assert len(triggers) == 13  # four tables times three events, and the profiles trigger
    for name, row_level, transition in triggers:
        if name == "profiles_funnel_enrichment":
            assert row_level == 1  # UPDATE OF enrichment_status: a column list, so per row
        else:
            assert (row_level, transition) == (0, True), name
    assert funnel_rollup.refresh_dirty() == 2
    assert funnel_rows(WIDE) == funnel.funnel_full(WIDE)
    assert funnel_rows(WIDE)[0].sourced == 100_000


def _waiting_on_advisory_lock(db: psycopg.Connection) -> bool:
    row = db.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
    ).fetchone()
    return bool(row and row[0])


def _insert_member(dsn: str, project_id: int, profile_id: int, at: dt.datetime) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO project_profiles (project_id, profile_id, added_at) VALUES (%s, %s, %s)",
            (project_id, profile_id, at),
        )


def test_a_refresh_skips_a_project_another_holds_and_a_mark_made_meanwhile_stays(
    db: psycopg.Connection, three: None
) -> None:
    late = DAY0 + dt.timedelta(hours=23, minutes=30)  # the next day east of UTC
    db.execute(
        "INSERT INTO project_profiles (project_id, profile_id, added_at) VALUES (1, 2, %s)", (late,)
    )
    db.execute("UPDATE project_profiles SET added_at = %s WHERE project_id = 2", (late,))
    assert marked(db) == {1, 2}
    with psycopg.connect(db.info.dsn) as worker:
        worker.execute("SET TIME ZONE 'Pacific/Kiritimati'")  # UTC+14: days stay UTC days
        assert funnel_rollup.refresh_next(worker) == (1, True)  # uncommitted: holds project 1
        assert funnel_rollup.refresh_dirty() == 1  # project 2 only: 1 is skipped, not waited for
        assert marked(db) == {1}  # the worker's delete is not committed yet
        writer = threading.Thread(target=_insert_member, args=(db.info.dsn, 1, 3, DAY0))
        writer.start()
        wait_for(lambda: _waiting_on_advisory_lock(db), timeout_s=20, interval_s=0.05)
        assert writer.is_alive()  # it marks only once the worker's recompute is committed
        worker.commit()
    writer.join(timeout=20)
    assert not writer.is_alive()
    assert marked(db) == {1}  # marked again: the recompute could not have seen the new member
    days = db.execute("SELECT DISTINCT day FROM funnel_daily WHERE project_id = 1").fetchall()
    assert days == [(DAY0.date(),)]  # recomputed at UTC+14, yet 23:30 UTC is still that UTC day
    sourced = db.execute("SELECT sum(sourced) FROM funnel_daily WHERE project_id = 1").fetchone()
    assert sourced == (2,)  # profiles 1 and 2, not 3
    assert rollup_rows(db) != recomputed_rows(db)
    assert funnel_rows(WIDE) == funnel.funnel_full(WIDE)
    assert funnel_rows(WIDE)[0].sourced == 5
    assert marked(db) == set() and rollup_rows(db) == recomputed_rows(db)


def test_a_writer_in_flight_keeps_its_project_marked_and_the_read_counts_it_live(
    db: psycopg.Connection, three: None
) -> None:
    assert funnel_rollup.refresh_dirty() == 0
    db.execute(
        "INSERT INTO project_profiles (project_id, profile_id, added_at) VALUES (1, 2, %s)", (DAY0,)
    )
    with psycopg.connect(db.info.dsn) as writer:
        # A committed mark exists, so this writer's mark is a no-op; its lock is what counts.
        writer.execute(
            "INSERT INTO project_profiles (project_id, profile_id, added_at) VALUES (1, 3, %s)",
            (DAY0,),
        )
        assert funnel_rollup.refresh_dirty() == 0  # project 1 is held by the writer
        assert marked(db) == {1}
        rows = funnel_rows(WIDE)
        assert rows == funnel.funnel_full(WIDE)
        assert rows[0].sourced == 4  # counted live: the committed member is in, the other not
        assert marked(db) == {1}
        writer.commit()
    assert funnel_rows(WIDE) == funnel.funnel_full(WIDE)
    assert funnel_rows(WIDE)[0].sourced == 5
    assert marked(db) == set() and rollup_rows(db) == recomputed_rows(db)


def test_a_deleted_project_drops_its_mark_and_rows(db: psycopg.Connection, three: None) -> None:
    db.execute("INSERT INTO funnel_dirty (project_id) VALUES (1), (2), (3)")
    assert funnel_rollup.refresh_dirty() == 3
    assert {r[0] for r in rollup_rows(db)} == {1, 2, 3}
    db.execute("DELETE FROM projects WHERE id = 2")  # its members' delete marks it: no FK error
    assert marked(db) == {2}
    assert funnel_rollup.refresh_dirty(project_id=1) == 0  # another project's mark: untouched
    assert funnel_rollup.refresh_dirty(limit=1) == 1
    assert marked(db) == set()
    assert {r[0] for r in rollup_rows(db)} == {1, 3}


def test_the_migration_marks_existing_projects_and_round_trips(
    db: psycopg.Connection, migrated: str, three: None
) -> None:
    from services.core import migrate

    migrate.downgrade(migrated, "0009")
    tables = "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'funnel%'"
    assert db.execute(tables).fetchone() == (0,)
    functions = "SELECT count(*) FROM pg_proc WHERE proname LIKE 'funnel%'"
    assert db.execute(functions).fetchone() == (0,)
    migrate.upgrade(migrated)
    assert marked(db) == {1, 2, 3}  # the backfill: every existing project
    assert funnel_rollup.refresh_dirty() == 3
    assert funnel_rows(WIDE) == funnel.funnel_full(WIDE)


QUEUE = "sourcingx"  # celery_app's task_default_queue: a Redis list on the broker


def test_jobs_enqueue_one_refresh_at_a_time_and_a_worker_runs_it(
    db: psycopg.Connection, three: None, redis_conn: redis_lib.Redis
) -> None:
    rita = create_user(db, "rita@example.com", "recruiter")
    assert stages.move_stage(rita, 1, [1], "contacted").moved == 1  # commits, then asks
    assert redis_conn.exists(funnel_rollup.FLAG_KEY)
    assert redis_conn.llen(QUEUE) == 1
    set_shortlisted(rita, 2, [1])
    assert redis_conn.llen(QUEUE) == 1  # one already queued: no second task
    assert marked(db) == {1, 2}
    with celery_worker():
        wait_for(lambda: not marked(db), timeout_s=60)
        wait_for(lambda: redis_conn.llen(QUEUE) == 0, timeout_s=30)
    assert not redis_conn.exists(funnel_rollup.FLAG_KEY)  # the task freed it
    assert rollup_rows(db) == recomputed_rows(db)
    assert funnel_rollup.request_refresh()  # free again: the next commit asks again


def test_an_unreachable_redis_never_fails_the_caller(
    db: psycopg.Connection, three: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.core.cache import reset_cache
    from services.core.db import close_pool
    from services.core.redis_client import reset_redis
    from services.core.settings import get_settings

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    get_settings.cache_clear()
    reset_redis()
    reset_cache()
    try:
        assert funnel_rollup.request_refresh() is False
        funnel_rollup.run_refresh_task()  # clearing the flag fails quietly too
        assert marked(db) == set()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        close_pool()
        reset_redis()
        reset_cache()
