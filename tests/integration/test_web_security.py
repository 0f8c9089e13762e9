"""The login gate, roles, CSRF/same-origin checks and cookie flags, through the real Flask app."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.helpers import create_user, dash_post, login

ANON_ROUTES = ["/", "/profiles", "/projects", "/insights", "/admin", "/no-such-page"]
ANON_API = [
    "/_dash-layout",
    "/_dash-dependencies",
    "/download/profiles.csv",
    "/metrics",
    "/_dash-component-suites/dash/dcc/dash_core_components.js",
]


@pytest.fixture()
def client(db: psycopg.Connection) -> Any:
    from app import server

    server.config["TESTING"] = True
    return server.test_client()


@pytest.mark.parametrize("path", ANON_ROUTES)
def test_anonymous_pages_redirect_to_login(client: Any, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ANON_API)
def test_anonymous_dash_routes_and_downloads_get_401(client: Any, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 401
    assert resp.get_json() == {"error": "login required"}


def test_anonymous_callback_post_gets_401_not_data(client: Any) -> None:
    resp = dash_post(
        client,
        "nav-profile-count.children",
        {"id": "nav-profile-count", "property": "children"},
        [{"id": "url", "property": "pathname", "value": "/"}],
    )
    assert resp.status_code == 401
    assert b"profiles" not in resp.data


def test_health_is_public_and_reports_dependencies(client: Any) -> None:
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["checks"]["postgres"]["ok"] and body["checks"]["redis"]["ok"]


def test_wrong_password_and_unknown_email_fail_the_same_way(
    client: Any, db: psycopg.Connection
) -> None:
    create_user(db, "rita@example.com", "recruiter")
    wrong_password = login(client, "rita@example.com", "not-the-password")
    unknown_email = login(client, "nobody@example.com", "not-the-password")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert b"Wrong email or password." in wrong_password.data
    assert b"Wrong email or password." in unknown_email.data
    assert client.get("/profiles").status_code == 302  # still signed out


def test_login_sets_hardened_session_cookie_and_opens_pages(
    client: Any, db: psycopg.Connection
) -> None:
    create_user(db, "rita@example.com", "recruiter")
    resp = login(client, "rita@example.com")
    assert resp.status_code == 302
    cookie = next(
        h for h in resp.headers.getlist("Set-Cookie") if h.startswith("sourcingx_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/profiles").status_code == 200
    assert client.get("/_dash-layout").status_code == 200


def test_login_refuses_a_form_without_its_csrf_token(client: Any, db: psycopg.Connection) -> None:
    create_user(db, "rita@example.com", "recruiter")
    client.get("/login")
    resp = client.post(
        "/login", data={"email": "rita@example.com", "password": "correct-horse-battery"}
    )
    assert resp.status_code == 400
    assert client.get("/profiles").status_code == 302


def test_cross_origin_callback_post_is_refused(client: Any, db: psycopg.Connection) -> None:
    create_user(db, "rita@example.com", "recruiter")
    login(client, "rita@example.com")
    inputs = [{"id": "url", "property": "pathname", "value": "/"}]
    out = {"id": "nav-profile-count", "property": "children"}
    evil = dash_post(
        client,
        "nav-profile-count.children",
        out,
        inputs,
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert evil.status_code == 403
    same = dash_post(
        client, "nav-profile-count.children", out, inputs, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert same.status_code == 200
    assert "profiles" in same.get_data(as_text=True)


def test_open_redirect_after_login_is_neutralised(client: Any, db: psycopg.Connection) -> None:
    create_user(db, "rita@example.com", "recruiter")
    page = client.get("/login?next=https://evil.example/")
    from tests.helpers import csrf_from

    resp = client.post(
        "/login",
        data={
            "email": "rita@example.com",
            "password": "correct-horse-battery",
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "next": "//evil.example/",
        },
    )
    assert resp.headers["Location"] == "/"


def test_deactivated_user_session_stops_at_next_request(
    client: Any, db: psycopg.Connection
) -> None:
    user_id = create_user(db, "rita@example.com", "recruiter")
    login(client, "rita@example.com")
    assert client.get("/profiles").status_code == 200
    from services import auth

    with psycopg.connect(db.info.dsn) as conn:
        auth.set_active(conn, user_id, False, by=None)
    assert client.get("/profiles").status_code == 302
    assert client.get("/_dash-layout").status_code == 401


def test_recruiter_cannot_reach_admin_user_list(client: Any, db: psycopg.Connection) -> None:
    create_user(db, "rita@example.com", "recruiter")
    create_user(db, "ada@example.com", "admin")
    login(client, "rita@example.com")
    resp = dash_post(
        client,
        "admin-users.children",
        {"id": "admin-users", "property": "children"},
        [{"id": "admin-users", "property": "id", "value": "admin-users"}],
    )
    assert "ada@example.com" not in resp.get_data(as_text=True)
    assert resp.status_code == 200 and "admin role" in resp.get_data(as_text=True)
    client.post("/logout", data={})  # no token: refused, still signed in as rita
    admin = client.application.test_client()
    login(admin, "ada@example.com")
    ok = dash_post(
        admin,
        "admin-users.children",
        {"id": "admin-users", "property": "children"},
        [{"id": "admin-users", "property": "id", "value": "admin-users"}],
    )
    assert "ada@example.com" in ok.get_data(as_text=True)
