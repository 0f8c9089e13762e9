"""Profiles page callbacks over HTTP: rows come first, the count of an uncounted view follows."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from layouts import ids
from layouts import profiles as page
from tests.factories import seed_profiles
from tests.helpers import create_user, dash_post, login, output_key

pytestmark = pytest.mark.integration
COUNT_OUTPUTS = [
    {"id": page.COUNT, "property": "children"},
    {"id": page.COUNT_TOTAL, "property": "data"},
]


@pytest.fixture()
def client(db: psycopg.Connection, redis_conn: object) -> Any:
    from app import server

    seed_profiles(db, 250, seed=11)
    create_user(db, "rita@example.com", "recruiter")
    c = server.test_client()
    login(c, "rita@example.com")
    return c


def _state(search: str = "") -> list[dict[str, Any]]:
    values = {
        page.SEARCH: search, page.LOCATION: "", page.SENIORITY: [], page.ENRICHED: "any",
        page.PROJECT: None, page.LOCATION_EXACT: None,
    }  # fmt: skip
    props = {page.LOCATION_EXACT: "data"}
    state = [{"id": k, "property": props.get(k, "value"), "value": v} for k, v in values.items()]
    return [
        *state,
        {"id": ids.URL, "property": "search", "value": ""},
        {"id": page.TAGS, "property": "value", "value": []},
    ]


def _block(client: Any, start: int, filter_model: dict[str, Any]) -> dict[str, Any]:
    key = output_key(client, "profiles-grid.getRowsResponse")
    request = {
        "startRow": start,
        "endRow": start + 100,
        "sortModel": [],
        "filterModel": filter_model,
    }
    outputs = [
        {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1].split("@")[0]}
        for o in key.strip(".").split("...")
    ]
    resp = dash_post(
        client, key, outputs, [{"id": page.GRID, "property": "getRowsRequest", "value": request}],
        _state(),
    )  # fmt: skip
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return dict(resp.get_json()["response"])


def test_first_block_does_not_wait_for_the_count_which_follows(
    client: Any, db: psycopg.Connection
) -> None:
    model = {"full_name": {"filterType": "text", "type": "contains", "filter": "a"}}
    expected = db.execute("SELECT count(*) FROM profiles WHERE full_name ILIKE '%a%'").fetchone()
    assert expected and expected[0] > 100

    first = _block(client, 0, model)
    assert len(first[page.GRID]["getRowsResponse"]["rowData"]) == 100
    assert first[page.GRID]["getRowsResponse"]["rowCount"] is None  # unknown, not invented
    assert first[page.COUNT]["children"] == "Counting…"
    request = first[page.COUNT_REQUEST]["data"]
    assert request["view"].startswith("?f=")

    count_key = output_key(client, "profiles-count.children@")
    resp = dash_post(client, count_key, COUNT_OUTPUTS,
                     [{"id": page.COUNT_REQUEST, "property": "data", "value": request}])  # fmt: skip
    counted = resp.get_json()["response"]
    assert counted[page.COUNT]["children"] == f"{expected[0]:,} profiles"
    assert counted[page.COUNT_TOTAL]["data"] == {"view": request["view"], "total": expected[0]}

    # The count is now cached: the next block gives the grid its length, a new first block its
    # label, and neither asks for another count.
    assert _block(client, 100, model)[page.GRID]["getRowsResponse"]["rowCount"] == expected[0]
    again = _block(client, 0, model)
    assert again[page.COUNT]["children"] == f"{expected[0]:,} profiles"
    assert page.COUNT_REQUEST not in again


def test_count_callback_refuses_a_bad_view_with_its_reason(client: Any) -> None:
    count_key = output_key(client, "profiles-count.children@")
    bad = {"view": '?f={"nope":{"filterType":"text","type":"contains","filter":"x"}}', "n": 1}
    resp = dash_post(client, count_key, COUNT_OUTPUTS,
                     [{"id": page.COUNT_REQUEST, "property": "data", "value": bad}])  # fmt: skip
    text = resp.get_json()["response"][page.COUNT]["children"]
    assert text.startswith("Could not count:") and "nope" in text
