"""The callback kit across the whole app: every server callback and every download route states
the role it needs, and a failing callback shows a UserError's message as it is, but anything
else only as a generic message that never carries the exception's text."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from callbacks.kit import GENERIC_MESSAGE
from layouts import filters as filters_page
from layouts import ids
from services.core.errors import UserError
from tests.helpers import create_user, dash_post, login, output_key

pytestmark = pytest.mark.integration
SECRET = "password=hunter2 at db-internal:5432"  # what a programming error's text might carry


@pytest.fixture()
def client(db: psycopg.Connection, redis_conn: object) -> Any:
    from app import server

    create_user(db, "rita@example.com", "recruiter")
    c = server.test_client()
    login(c, "rita@example.com")
    c.get("/_dash-dependencies")  # Dash gathers the pages' callbacks on its first request
    return c


def test_every_server_callback_is_guarded(client: Any) -> None:
    from app import app

    # Dash's own pages router (`dash.dash.update`) only renders the pure page layouts; every
    # callback the app itself registers is listed here.
    server_side = [
        entry
        for entry in app.callback_map.values()
        if "callback" in entry and not entry["callback"].__module__.startswith("dash.")
    ]
    assert len(server_side) > 20  # the map is really populated
    unguarded = sorted(
        f"{entry['callback'].__module__}.{entry['callback'].__name__}"
        for entry in server_side
        if not getattr(entry["callback"], "guarded_role", None)
    )
    assert unguarded == []


def test_every_download_route_is_guarded(client: Any) -> None:
    from app import server

    routes = [rule for rule in server.url_map.iter_rules() if rule.rule.startswith("/download/")]
    assert len(routes) >= 5
    unguarded = sorted(
        rule.rule
        for rule in routes
        if not getattr(server.view_functions[rule.endpoint], "guarded_role", None)
    )
    assert unguarded == []


def _show_stats(client: Any) -> Any:
    return dash_post(
        client,
        f"{ids.HOME_STATS}.children",
        {"id": ids.HOME_STATS, "property": "children"},
        [{"id": ids.HOME_STATS, "property": "id", "value": ids.HOME_STATS}],
    )


def test_a_programming_error_shows_the_generic_message_not_its_text(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError(SECRET)

    monkeypatch.setattr("callbacks.home.overview", broken)
    resp = _show_stats(client)
    assert resp.status_code == 200
    body = resp.get_json()
    alert = body["sideUpdate"][ids.APP_ALERT]
    assert alert["children"].startswith(GENERIC_MESSAGE)
    assert alert["color"] == "danger" and alert["is_open"] is True
    assert SECRET not in resp.get_data(as_text=True)
    assert ids.HOME_STATS not in body.get("response", {})  # the page keeps what it showed


def test_a_user_error_shows_its_own_message(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused() -> None:
        raise UserError("The overview is being rebuilt; try again in a minute.")

    monkeypatch.setattr("callbacks.home.overview", refused)
    resp = _show_stats(client)
    assert resp.status_code == 200
    alert = resp.get_json()["sideUpdate"][ids.APP_ALERT]
    assert alert["children"] == "The overview is being rebuilt; try again in a minute."
    assert alert["is_open"] is True


def test_a_service_refusal_becomes_the_callbacks_own_refusal_outputs(client: Any) -> None:
    """A guarded callback with `refused=` shows a service's UserError in its own outputs."""
    key = output_key(client, f"{filters_page.FEEDBACK}.children", f"{filters_page.REFRESH}.data")
    inputs = [  # in the order the callback declares them: creating a list with no name
        {"id": filters_page.NEW_SUBMIT, "property": "n_clicks", "value": 1},
        {"id": filters_page.ADD_SUBMIT, "property": "n_clicks", "value": None},
        {"id": filters_page.REMOVE_SELECTED, "property": "n_clicks", "value": None},
        {"id": filters_page.DELETE_LIST, "property": "n_clicks", "value": None},
        {"id": filters_page.UPLOAD, "property": "contents", "value": None},
        {"id": filters_page.SHEET_SUBMIT, "property": "n_clicks", "value": None},
    ]
    state = [
        {"id": filters_page.NEW_NAME, "property": "value", "value": ""},
        {"id": filters_page.NEW_CATEGORY, "property": "value", "value": "excluded_companies"},
        {"id": filters_page.SELECTED, "property": "value", "value": None},
        {"id": filters_page.ADD_VALUES, "property": "value", "value": None},
        {"id": filters_page.ITEMS, "property": "selectedRows", "value": None},
        {"id": filters_page.UPLOAD, "property": "filename", "value": None},
        {"id": filters_page.REPLACE, "property": "value", "value": []},
        {"id": filters_page.SHEET_ID, "property": "value", "value": None},
        {"id": filters_page.SHEET_RANGE, "property": "value", "value": None},
        {"id": filters_page.REFRESH, "property": "data", "value": 0},
    ]
    outputs = [
        {"id": filters_page.FEEDBACK, "property": "children"},
        {"id": filters_page.REFRESH, "property": "data"},
        {"id": filters_page.SELECTED, "property": "value"},
    ]
    resp = dash_post(
        client, key, outputs, inputs, state, changed=[f"{filters_page.NEW_SUBMIT}.n_clicks"]
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    body = resp.get_json()
    assert "A list needs a name" in str(body["response"][filters_page.FEEDBACK]["children"])
    assert filters_page.REFRESH not in body["response"]  # nothing changed, nothing re-renders
    assert "sideUpdate" not in body
