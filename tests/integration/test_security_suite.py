"""Security suite: every route and callback, tried as an attacker would.

Anonymous access, cross-origin callback POSTs, a recruiter asking for lead/admin data, hostile
filter/sort models and search strings (hypothesis), malformed and oversized uploads, session
fixation. Cookie flags, CSRF on forms and deactivated cookies are in test_web_security.py.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_project
from tests.helpers import callback_body, create_user, dash_post, login

GRID_OUTPUT_FRAGMENT = "profiles-grid.getRowsResponse"
LEAD_OR_ADMIN_PREFIXES = ("insights-", "admin-")


@pytest.fixture(scope="module")
def server() -> Any:
    from app import server as flask_server

    return flask_server


@pytest.fixture()
def anon(server: Any, db: psycopg.Connection) -> Any:
    return server.test_client()


@pytest.fixture()
def recruiter(server: Any, db: psycopg.Connection) -> Any:
    create_user(db, "rita@example.com", "recruiter")
    client = server.test_client()
    login(client, "rita@example.com")
    return client


def _dependencies(server: Any) -> list[dict[str, Any]]:
    """Every registered callback (read as an admin, who also exists as a data point to leak)."""
    admin_client = server.test_client()
    create_user(None, "deps@example.com", "admin")  # type: ignore[arg-type]
    login(admin_client, "deps@example.com")
    deps = admin_client.get("/_dash-dependencies").get_json()
    assert isinstance(deps, list) and deps
    return deps


def _body(dep: dict[str, Any]) -> dict[str, Any]:
    """A structurally valid callback body with empty values for every input and state."""
    return callback_body(dep)


def test_every_callback_refuses_anonymous_callers(server: Any, anon: Any) -> None:
    deps = _dependencies(server)
    for dep in deps:
        resp = anon.post(
            "/_dash-update-component", json=_body(dep), headers={"Origin": "http://localhost"}
        )
        assert resp.status_code == 401, dep["output"]


def test_every_callback_refuses_cross_origin_posts_even_when_signed_in(
    server: Any, recruiter: Any
) -> None:
    for dep in _dependencies(server):
        resp = recruiter.post(
            "/_dash-update-component",
            json=_body(dep),
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert resp.status_code == 403, dep["output"]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/profiles",
        "/projects",
        "/projects/1",
        "/insights",
        "/admin",
        "/filters",
        "/static/app.js",
        "/_dash-layout",
        "/_dash-dependencies",
        "/_reload-hash",
        "/download/profiles.csv",
        "/download/insights/funnel.csv",
        "/download/audit.csv",
        "/download/projects/1/shortlist.csv",
        "/download/projects/1/imports/1/rows.csv",
        "/metrics",
    ],
)
def test_every_route_refuses_anonymous_requests(anon: Any, path: str) -> None:
    resp = anon.get(path)
    assert resp.status_code in (302, 401), path
    if resp.status_code == 302:
        assert resp.headers["Location"].startswith("/login")
    assert b"linkedin.com" not in resp.data


def test_a_recruiter_gets_no_lead_or_admin_data_from_any_callback(
    server: Any, recruiter: Any, db: psycopg.Connection
) -> None:
    db.execute(
        "INSERT INTO api_usage (provider, operation, status, cost_usd)"
        " VALUES ('openai', 'chat', 'ok', 123.456789)"
    )
    # Clientside callbacks run in the browser: there is no server side to ask for data.
    guarded = [
        d
        for d in _dependencies(server)
        if any(p in d["output"] for p in LEAD_OR_ADMIN_PREFIXES)
        and not d.get("clientside_function")
    ]
    assert guarded, "expected insights/admin callbacks to exist"
    for dep in guarded:
        resp = recruiter.post(
            "/_dash-update-component", json=_body(dep), headers={"Origin": "http://localhost"}
        )
        text = resp.get_data(as_text=True)
        assert "deps@example.com" not in text, dep["output"]
        assert "123.45" not in text, dep["output"]


def _grid_request(client: Any, filter_model: Any, sort_model: Any, search: Any) -> Any:
    """POST the grid's block callback exactly as registered, with hostile values filled in."""
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if GRID_OUTPUT_FRAGMENT in d["output"])
    body = _body(dep)
    values = {
        ("profiles-grid", "getRowsRequest"): {
            "startRow": 0,
            "endRow": 100,
            "filterModel": filter_model,
            "sortModel": sort_model,
        },
        ("profiles-search", "value"): search,
    }
    for item in (*body["inputs"], *body["state"]):
        item["value"] = values.get((item["id"], item["property"]), item["value"])
    body["changedPropIds"] = ["profiles-grid.getRowsRequest"]
    return client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})


HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "'; DROP TABLE profiles; --",
            '" OR 1=1 --',
            "%' OR '1'='1",
            "\\",
            "full_name; DELETE FROM users",
            "$$",
            "\x00",
            "../../etc/passwd",
            "=cmd|' /C calc'!A0",
            "<script>alert(1)</script>",
            "a" * 5000,
        ]
    ),
)
JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), HOSTILE_TEXT),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(HOSTILE_TEXT, children, max_size=4)
    ),
    max_leaves=12,
)
FILTER_MODELS = st.one_of(
    JSONISH,
    st.dictionaries(
        st.sampled_from(["full_name", "id", "created_at", "skills"]) | HOSTILE_TEXT,
        st.fixed_dictionaries(
            {
                "filterType": st.sampled_from(["text", "number", "date"]) | HOSTILE_TEXT,
                "type": st.sampled_from(["contains", "inRange", "equals"]) | HOSTILE_TEXT,
                "filter": JSONISH,
            }
        ),
        max_size=3,
    ),
)
SORT_MODELS = st.one_of(
    JSONISH,
    st.lists(
        st.fixed_dictionaries(
            {
                "colId": st.sampled_from(["full_name", "id"]) | HOSTILE_TEXT,
                "sort": st.sampled_from(["asc", "desc"]) | HOSTILE_TEXT,
            }
        ),
        max_size=3,
    ),
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(filter_model=FILTER_MODELS, sort_model=SORT_MODELS, search=HOSTILE_TEXT)
def test_hostile_grid_models_never_crash_or_reach_sql(
    recruiter: Any, db: psycopg.Connection, filter_model: Any, sort_model: Any, search: str
) -> None:
    before = db.execute(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM profiles)"
    ).fetchone()
    resp = _grid_request(recruiter, filter_model, sort_model, search)
    assert resp.status_code == 200
    payload = resp.get_json()["response"]
    rows = payload["profiles-grid"]["getRowsResponse"]
    assert isinstance(rows["rowData"], list)  # always an answer, never a stuck block
    error = payload.get("profiles-error", {}).get("children")
    if error:
        assert "Traceback" not in error and "psycopg" not in error
    after = db.execute(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM profiles)"
    ).fetchone()
    assert before == after


def test_malformed_and_oversized_uploads_are_refused_with_a_message(
    recruiter: Any, db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(db, name="P")
    deps = recruiter.get("/_dash-dependencies").get_json()
    output = next(d["output"] for d in deps if "project-upload-feedback.children" in d["output"])
    outs = [o for o in output.strip(".").split("...") if o]

    def upload(contents: str, filename: str) -> str:
        def out(o: str) -> dict[str, Any]:
            ident, prop = o.rsplit(".", 1)
            return {
                "id": json.loads(ident) if ident.startswith("{") else ident,
                "property": prop.split("@")[0],
            }

        resp = dash_post(
            recruiter,
            output,
            [out(o) for o in outs],
            [{"id": "project-upload", "property": "contents", "value": contents}],
            state=[
                {"id": "project-upload", "property": "filename", "value": filename},
                {"id": "project-upload-sheet", "property": "value", "value": None},
                {"id": "project-id", "property": "data", "value": project},
            ],
        )
        assert resp.status_code == 200
        return resp.get_data(as_text=True)

    def data_url(raw: bytes) -> str:
        return "data:text/csv;base64," + base64.b64encode(raw).decode()

    assert "could not be read" in upload("data:text/csv;base64,!!!not-base64!!!", "x.csv")
    assert "No LinkedIn URL column" in upload(data_url(b"name,title\nJane,CTO\n"), "x.csv")
    assert "only CSV" in upload(data_url(b"%PDF-1.4"), "people.pdf")
    assert "damaged" in upload(data_url(b"PK\x03\x04zip"), "people.xlsx")
    assert "not a CSV or Excel file" in upload(data_url(b"\x89PNG\r\n\x1a\n" + bytes(64)), "a.csv")
    monkeypatch.setenv("UPLOAD_MAX_BYTES", "1000")
    from services.core.settings import get_settings

    get_settings.cache_clear()
    try:
        assert "limit is" in upload(data_url(b"profileUrl\n" + b"x" * 5000), "big.csv")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    for table in ("uploads", "profiles", "imports", "jobs"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def test_session_fixation_a_pre_login_cookie_is_replaced_and_worthless(
    server: Any, db: psycopg.Connection
) -> None:
    create_user(db, "rita@example.com", "recruiter")
    attacker = server.test_client()
    attacker.get("/login")  # the attacker obtains a pre-login session cookie…
    planted = attacker.get_cookie("sourcingx_session")
    assert planted is not None
    victim = server.test_client()
    victim.set_cookie("sourcingx_session", planted.value)  # …and plants it in the victim's browser
    login(victim, "rita@example.com")
    after = victim.get_cookie("sourcingx_session")
    assert after is not None and after.value != planted.value
    assert attacker.get("/profiles").status_code == 302  # the planted cookie grants nothing
    assert victim.get("/profiles").status_code == 200
