"""Pipeline stages (services/stages.py) against real Postgres and Redis: bulk moves with their
history and audit row, how far a member got (kept through a rejection), the project grid's
columns and its stage action over the Dash endpoint, and the funnel's stage steps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest

from layouts import project_pipeline as page
from services import stages
from services.core.cache import data_version
from services.grid.project_view import fetch_project_block
from services.insights import InsightsFilter, funnel
from tests.factories import make_project, seed_profiles
from tests.helpers import create_user, dash_post, login

pytestmark = pytest.mark.integration
DAY = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)  # the members' "added" day
IN_RANGE = InsightsFilter(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


@pytest.fixture()
def project(db: psycopg.Connection, redis_conn: Any) -> dict[str, int]:
    """Project 1 "Alpha" with profiles 1..10 (added on DAY), project 2 "Beta" with 11..12."""
    seed_profiles(db, 20, seed=3)
    rita = create_user(db, "rita@example.com", "recruiter")
    make_project(db, name="Alpha", owner_id=rita)
    make_project(db, name="Beta", owner_id=rita)
    db.execute(
        "INSERT INTO project_profiles (project_id, profile_id, added_by, added_at)"
        " SELECT CASE WHEN g <= 10 THEN 1 ELSE 2 END, g, %s, %s FROM generate_series(1, 12) g",
        (rita, DAY),
    )
    return {"rita": rita, "project": 1}


def _stages(db: psycopg.Connection) -> dict[int, tuple[str, int]]:
    rows = db.execute(
        "SELECT profile_id, stage, stage_reached FROM project_profiles WHERE project_id = 1"
    ).fetchall()
    return {int(r[0]): (str(r[1]), int(r[2])) for r in rows}


def test_a_bulk_move_writes_stage_history_and_one_audit_row(
    db: psycopg.Connection, project: dict[str, int]
) -> None:
    at = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.UTC)
    version = data_version("insights")
    result = stages.move_stage(project["rita"], 1, [3, 1, 2, 2, 15], "contacted", at=at)
    assert result == stages.MoveResult(moved=3, unchanged=0, not_members=1)  # 15 is not in it
    assert data_version("insights") == version + 1  # the funnel's cache is stale now
    state = _stages(db)
    assert [state[i] for i in (1, 2, 3, 4)] == [("contacted", 1)] * 3 + [("sourced", 0)]
    assert db.execute(
        "SELECT stage_changed_at FROM project_profiles WHERE project_id = 1 AND profile_id = 1"
    ).fetchone() == (at,)
    history = db.execute(
        "SELECT project_id, profile_id, from_stage, to_stage, changed_by, changed_at"
        " FROM project_stage_history ORDER BY profile_id"
    ).fetchall()
    assert history == [(1, p, "sourced", "contacted", project["rita"], at) for p in (1, 2, 3)]
    audit = db.execute(
        "SELECT user_id, object_type, object_id, details FROM audit_log WHERE action = 'stage.move'"
    ).fetchall()
    assert audit == [
        (project["rita"], "project", "1",
         {"stage": "contacted", "count": 3, "profile_ids": [1, 2, 3, 15]})
    ]  # fmt: skip

    # Again: nothing changes, nothing is logged, nothing is bumped.
    again = stages.move_stage(project["rita"], 1, [1, 2], "contacted", at=at)
    assert again == stages.MoveResult(moved=0, unchanged=2, not_members=0)
    assert db.execute("SELECT count(*) FROM project_stage_history").fetchone() == (3,)
    moves = db.execute("SELECT count(*) FROM audit_log WHERE action = 'stage.move'").fetchone()
    assert moves == (1,)
    assert data_version("insights") == version + 1


def test_how_far_a_member_got_survives_a_rejection_but_not_a_correction(
    db: psycopg.Connection, project: dict[str, int]
) -> None:
    rita = project["rita"]
    stages.move_stage(rita, 1, [1, 2], "interviewing")
    stages.move_stage(rita, 1, [1], "rejected")  # rejected after the interview
    stages.move_stage(rita, 1, [2], "replied")  # "interviewing" was a mistake
    stages.move_stage(rita, 1, [3], "hired")
    state = _stages(db)
    assert state[1] == ("rejected", 3)
    assert state[2] == ("replied", 2)
    assert state[3] == ("hired", 4)
    assert [(c.from_stage, c.to_stage) for c in stages.history(1, 1)] == [
        ("sourced", "interviewing"),
        ("interviewing", "rejected"),
    ]
    stages.move_stage(rita, 1, [1], "contacted")  # back into the pipeline
    assert _stages(db)[1] == ("contacted", 1)


@pytest.mark.parametrize(
    ("ids", "stage", "reason"),
    [([1], "phoned", "Choose a stage"), ([], "contacted", "Select rows"),
     (list(range(1, 5003)), "contacted", "At most 5,000")],
)  # fmt: skip
def test_bad_moves_are_refused_and_change_nothing(
    db: psycopg.Connection, project: dict[str, int], ids: list[int], stage: str, reason: str
) -> None:
    with pytest.raises(stages.StageError, match=reason):
        stages.move_stage(project["rita"], 1, ids, stage)
    assert set(_stages(db).values()) == {("sourced", 0)}
    assert db.execute("SELECT count(*) FROM project_stage_history").fetchone() == (0,)


def test_the_database_refuses_a_stage_outside_the_pipeline(
    db: psycopg.Connection, project: dict[str, int]
) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("UPDATE project_profiles SET stage = 'ghosted' WHERE profile_id = 1")


def test_the_project_grid_shows_stage_and_since_when(
    db: psycopg.Connection, project: dict[str, int]
) -> None:
    at = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
    stages.move_stage(project["rita"], 1, [4, 5], "replied", at=at)
    model = {"stage": {"filterType": "text", "type": "equals", "filter": "replied"}}
    block = fetch_project_block(1, model, [{"colId": "id", "sort": "asc"}], 0, 100)
    assert [(r["id"], r["stage"], r["stage_changed_at"][:10]) for r in block.rows] == [
        (4, "replied", "2026-11-25"),
        (5, "replied", "2026-11-25"),
    ]
    since = {"stage_changed_at": {"filterType": "date", "type": "lessThan",
                                  "dateFrom": "2026-11-21 00:00:00"}}  # fmt: skip
    unmoved = fetch_project_block(1, since, [], 0, 100)
    assert unmoved.row_count == 8  # never moved: their stage dates from when they were added


def test_the_funnel_counts_how_far_members_got_after_the_existing_steps(
    db: psycopg.Connection, project: dict[str, int]
) -> None:
    rita = project["rita"]
    stages.move_stage(rita, 1, [1, 2, 3, 4, 5], "contacted")
    stages.move_stage(rita, 1, [1, 2, 3], "replied")
    stages.move_stage(rita, 1, [1, 2], "interviewing")
    stages.move_stage(rita, 1, [1], "hired")
    stages.move_stage(rita, 1, [2, 9], "rejected")  # 2 after the interview, 9 straight away
    stages.move_stage(rita, 2, [11], "contacted")
    rows = {r.project_name: r for r in funnel.funnel(IN_RANGE)}
    alpha, beta, team = rows["Alpha"], rows["Beta"], rows["All projects"]
    labels = [label for _, label in funnel.STAGES]
    assert labels[:7] == ["Sourced", "Enriched", "Passed filters", "Screened",
                          "Strong/good fit", "Shortlisted", "Contacts found"]  # fmt: skip
    assert labels[7:] == ["Contacted", "Replied", "Interviewing", "Hired"]
    assert alpha.counts()[7:] == [5, 3, 2, 1]
    assert (alpha.sourced, alpha.rejected) == (10, 2)
    assert beta.counts()[7:] == [1, 0, 0, 0] and beta.rejected == 0
    assert team.counts()[7:] == [6, 3, 2, 1] and team.rejected == 2
    # The cohort is still "added in the range": nobody was added in October.
    october = InsightsFilter(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert funnel.funnel(october) == []
    assert [r.project_name for r in funnel.funnel(InsightsFilter(
        IN_RANGE.date_from, IN_RANGE.date_to, project_id=2))] == ["All projects", "Beta"]  # fmt: skip


def test_the_funnel_figure_has_the_stage_steps() -> None:
    from layouts.insights_charts import funnel_figure

    row = funnel.FunnelRow(None, "All projects", 9, 8, 7, 6, 5, 4, 3, 3, 2, 1, 1, 2)
    trace = funnel_figure([row])["data"][0]
    assert trace["y"][-4:] == ["Contacted", "Replied", "Interviewing", "Hired"]
    assert trace["x"] == [9, 8, 7, 6, 5, 4, 3, 3, 2, 1, 1]


def test_the_grid_stage_action_over_the_dash_endpoint(
    db: psycopg.Connection, project: dict[str, int]
) -> None:
    from app import server

    client = server.test_client()
    login(client, "rita@example.com")
    deps = client.get("/_dash-dependencies").get_json()
    [key] = [d["output"] for d in deps if any(i["id"] == page.STAGE_APPLY for i in d["inputs"])]

    def click(stage: str, selected: list[dict[str, Any]]) -> str:
        resp = dash_post(
            client, key, {"id": page.GRID_FEEDBACK, "property": "children"},
            [{"id": page.STAGE_APPLY, "property": "n_clicks", "value": 1}],
            [{"id": page.STAGE_PICK, "property": "value", "value": stage},
             {"id": page.GRID, "property": "selectedRows", "value": selected},
             {"id": "project-id", "property": "data", "value": 1}],
        )  # fmt: skip
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        return str(resp.get_data(as_text=True))

    assert "2 moved to Contacted." in click("contacted", [{"id": 6}, {"id": 7}])
    assert "0 moved to Contacted (1 already there)." in click("contacted", [{"id": 6}])
    assert "Select rows" in click("contacted", [])
    assert "Choose a stage" in click("'; DROP TABLE projects; --", [{"id": 6}])
    assert _stages(db)[6] == ("contacted", 1) and _stages(db)[8] == ("sourced", 0)
