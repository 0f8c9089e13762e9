"""The Filters page and the project page's pipeline tabs through Dash's callback endpoint, as a
logged-in recruiter: create and fill a list, choose it for a project, the project grid, and
shortlisting selected rows."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from layouts import filters as filters_page
from layouts import project_pipeline as page
from services.filters import apply, lists
from tests.factories import add_profile, make_project
from tests.helpers import create_user, dash_post, login, output_key

pytestmark = pytest.mark.integration


@pytest.fixture()
def client(db: psycopg.Connection, redis_conn: object) -> Any:
    from app import server

    create_user(db, "rita@example.com", "recruiter")
    c = server.test_client()
    login(c, "rita@example.com")
    return c


def _response(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return dict(resp.get_json()["response"])


def test_pages_render_and_nav_has_filters(client: Any) -> None:
    layout = client.get("/_dash-layout").get_json()
    assert "/filters" in str(layout)
    assert client.get("/filters").status_code == 200


def test_create_list_and_add_values_through_the_page(client: Any, db: psycopg.Connection) -> None:
    key = output_key(client, filters_page.FEEDBACK, filters_page.REFRESH)
    states = [
        {"id": filters_page.NEW_NAME, "property": "value", "value": "Competitors"},
        {"id": filters_page.NEW_CATEGORY, "property": "value", "value": "excluded_companies"},
        {"id": filters_page.SELECTED, "property": "value", "value": None},
        {"id": filters_page.ADD_VALUES, "property": "value", "value": None},
        {"id": filters_page.ITEMS, "property": "selectedRows", "value": []},
        {"id": filters_page.UPLOAD, "property": "filename", "value": None},
        {"id": filters_page.REPLACE, "property": "value", "value": []},
        {"id": filters_page.SHEET_ID, "property": "value", "value": None},
        {"id": filters_page.SHEET_RANGE, "property": "value", "value": None},
        {"id": filters_page.REFRESH, "property": "data", "value": 0},
    ]
    buttons = [
        filters_page.NEW_SUBMIT,
        filters_page.ADD_SUBMIT,
        filters_page.REMOVE_SELECTED,
        filters_page.DELETE_LIST,
    ]

    def inputs(clicked: str) -> list[dict[str, Any]]:
        out = [
            {"id": b, "property": "n_clicks", "value": 1 if b == clicked else None} for b in buttons
        ]
        out.append({"id": filters_page.UPLOAD, "property": "contents", "value": None})
        out.append({"id": filters_page.SHEET_SUBMIT, "property": "n_clicks", "value": None})
        return out

    outputs = [
        {"id": filters_page.FEEDBACK, "property": "children"},
        {"id": filters_page.REFRESH, "property": "data"},
        {"id": filters_page.SELECTED, "property": "value"},
    ]
    created = _response(
        dash_post(
            client,
            key,
            outputs,
            inputs(filters_page.NEW_SUBMIT),
            states,
            changed=[f"{filters_page.NEW_SUBMIT}.n_clicks"],
        )
    )
    list_id = created[filters_page.SELECTED]["value"]
    assert "List created" in str(created[filters_page.FEEDBACK])
    states[2]["value"] = list_id
    states[3]["value"] = "ACME Inc.\nGlobex GmbH\nacme"
    added = _response(
        dash_post(
            client,
            key,
            outputs,
            inputs(filters_page.ADD_SUBMIT),
            states,
            changed=[f"{filters_page.ADD_SUBMIT}.n_clicks"],
        )
    )
    assert "2 added" in str(added[filters_page.FEEDBACK])
    assert sorted(i.normalized for i in lists.list_items(list_id)) == ["acme", "globex"]


def test_project_grid_shows_outcomes_and_shortlists_selected_rows(
    client: Any, db: psycopg.Connection
) -> None:
    user = int(db.execute("SELECT id FROM users").fetchone()[0])  # type: ignore[index]
    project = make_project(db, name="Data Eng", owner_id=user)
    a = add_profile(db, project, "ann-a", company="Acme")
    b = add_profile(db, project, "bob-b", company="Globex")
    competitors = lists.create_list(user, "Competitors", "excluded_companies")
    lists.add_items(user, competitors, ["Acme"])
    apply.set_project_lists(user, project, {competitors: "must_not_match"})
    from services.jobs import Job

    job_row = db.execute(
        "INSERT INTO jobs (kind, project_id, created_by, params) VALUES ('apply_filters', %s, %s,"
        " jsonb_build_object('project_id', %s::bigint)) RETURNING id",
        (project, user, project),
    ).fetchone()
    assert job_row is not None
    from services.jobs import get_job

    job = get_job(int(job_row[0]))
    assert isinstance(job, Job)
    apply.run_apply_filters(job)  # the job's body, run inline here (the worker is tested apart)

    key = output_key(client, f"{page.GRID}.getRowsResponse")
    request = {
        "startRow": 0,
        "endRow": 100,
        "sortModel": [{"colId": "full_name", "sort": "asc"}],
        "filterModel": {
            "filter_outcome": {"filterType": "text", "type": "equals", "filter": "failed"}
        },
    }
    resp = _response(
        dash_post(
            client,
            key,
            [
                {"id": page.GRID, "property": "getRowsResponse"},
                {"id": page.GRID_FEEDBACK, "property": "children"},
            ],
            [{"id": page.GRID, "property": "getRowsRequest", "value": request}],
            [{"id": "project-id", "property": "data", "value": project}],
        )
    )
    rows = resp[page.GRID]["getRowsResponse"]["rowData"]
    assert [r["id"] for r in rows] == [a]
    assert rows[0]["filter_reasons"] == "excluded: current company 'Acme' is on 'Competitors'"

    deps = client.get("/_dash-dependencies").get_json()
    action = [
        d["output"] for d in deps if any(i["id"] == page.SHORTLIST_SELECTED for i in d["inputs"])
    ]
    assert len(action) == 1
    resp = _response(
        dash_post(
            client,
            action[0],
            {"id": page.GRID_FEEDBACK, "property": "children"},
            [
                {"id": page.SHORTLIST_SELECTED, "property": "n_clicks", "value": 1},
                {"id": page.UNSHORTLIST_SELECTED, "property": "n_clicks", "value": None},
                {"id": page.SHORTLIST_STRONG, "property": "n_clicks", "value": None},
                {"id": page.SCREEN_SELECTED, "property": "n_clicks", "value": None},
            ],
            [
                {"id": page.GRID, "property": "selectedRows", "value": [{"id": b}]},
                {"id": "project-id", "property": "data", "value": project},
            ],
            changed=[f"{page.SHORTLIST_SELECTED}.n_clicks"],
        )
    )
    assert "1 added to the shortlist" in str(resp)
    assert db.execute(
        "SELECT profile_id FROM project_profiles WHERE project_id = %s AND shortlisted",
        (project,),
    ).fetchall() == [(b,)]
