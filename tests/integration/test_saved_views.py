"""Saved views of the profile grid (services/saved_views.py) against real Postgres: canonical
queries, private and shared views, owner-only changes with audit rows, and the Profiles page's
callbacks over the Dash endpoint."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import psycopg
import pytest

from layouts import profiles as page
from layouts import saved_views as layout
from services import saved_views
from services.grid import url_params_to_query
from tests.helpers import create_user, dash_post, login, output_key

pytestmark = pytest.mark.integration
VIEW = '?f={"full_name":{"filterType":"text","type":"contains","filter":"ann"}}&s=-years_experience'


@pytest.fixture()
def users(db: psycopg.Connection) -> dict[str, int]:
    return {
        "rita": create_user(db, "rita@example.com", "recruiter"),
        "rob": create_user(db, "rob@example.com", "recruiter"),
    }


def test_a_view_is_stored_canonically_and_opens_as_the_same_view(users: dict[str, int]) -> None:
    # Hand-written: keys out of order, blank parameters, a seniority list in another order.
    messy = "?sen=%5B%22Senior%22%2C%22Lead%22%5D&q=python&enr=&tag=9,2&s=-years_experience"
    view = saved_views.save_view(users["rita"], "  Senior   Python ", messy)
    assert view.name == "Senior Python" and view.owner_name == "rita" and not view.shared
    assert (
        view.query == "s=-years_experience&q=python&sen=%5B%22Lead%22%2C%22Senior%22%5D&tag=2%2C9"
    )
    assert view.url == "/profiles?" + view.query
    reopened = url_params_to_query(parse_qs(view.query))
    assert reopened == url_params_to_query(parse_qs(messy.lstrip("?"), keep_blank_values=True))
    assert reopened.tag_ids == (2, 9)
    default = saved_views.save_view(users["rita"], "Everything", "")
    assert default.query == "" and default.url == "/profiles"


@pytest.mark.parametrize(
    ("query", "reason"),
    [('?f={"nope":{"filterType":"text","type":"contains","filter":"x"}}', "Unknown column"),
     ("?tag=1;2", "'tag'"), ("?enr=maybe", "'enr'"), ("?f={broken", "not valid JSON"),
     ("?q=" + "x" * 5000, "too long"), (None, "URL query string")],
)  # fmt: skip
def test_a_bad_view_is_refused_with_the_parsers_reason(
    db: psycopg.Connection, users: dict[str, int], query: Any, reason: str
) -> None:
    with pytest.raises(saved_views.SavedViewError, match=reason):
        saved_views.save_view(users["rita"], "Bad", query)
    assert db.execute("SELECT count(*) FROM saved_views").fetchone() == (0,)


def test_private_and_shared_views_and_names_unique_per_owner(
    db: psycopg.Connection, users: dict[str, int]
) -> None:
    rita, rob = users["rita"], users["rob"]
    mine = saved_views.save_view(rita, "Berlin leads", "?loc=Berlin")
    team = saved_views.save_view(rita, "Python", "?q=python", shared=True)
    robs = saved_views.save_view(rob, "berlin LEADS", "?loc=Berlin&loc_eq=1")  # his own name
    with pytest.raises(saved_views.SavedViewError, match="already have a view called"):
        saved_views.save_view(rita, "BERLIN leads", "?loc=Munich")
    with pytest.raises(saved_views.SavedViewError, match="Give the view a name"):
        saved_views.save_view(rita, "   ", "?loc=Munich")

    assert [v.name for v in saved_views.list_views(rita)] == ["Berlin leads", "Python"]
    # Rob: his own first, then what others share; Rita's private view is not his to see.
    assert [(v.name, v.owner_name) for v in saved_views.list_views(rob)] == [
        ("berlin LEADS", "rob"),
        ("Python", "rita"),
    ]
    assert saved_views.get_view(rob, team.id) is not None
    assert saved_views.get_view(rob, mine.id) is None
    assert saved_views.get_view(rob, robs.id) is not None

    audit = db.execute(
        "SELECT user_id, object_id, details FROM audit_log WHERE action = 'view.save' ORDER BY id"
    ).fetchall()
    assert [(u, o, d["shared"]) for u, o, d in audit] == [
        (rita, str(mine.id), False), (rita, str(team.id), True), (rob, str(robs.id), False),
    ]  # fmt: skip


def test_only_the_owner_renames_shares_or_deletes(
    db: psycopg.Connection, users: dict[str, int]
) -> None:
    rita, rob = users["rita"], users["rob"]
    view = saved_views.save_view(rita, "Python", "?q=python", shared=True)
    other = saved_views.save_view(rita, "Kafka", "?q=kafka")
    for change in (
        lambda: saved_views.rename_view(rob, view.id, "Mine now"),
        lambda: saved_views.set_shared(rob, view.id, False),
        lambda: saved_views.delete_view(rob, view.id),
    ):
        with pytest.raises(saved_views.SavedViewError, match="Only the view's owner"):
            change()
    assert saved_views.get_view(rob, view.id) == view  # untouched

    with pytest.raises(saved_views.SavedViewError, match="already have a view called"):
        saved_views.rename_view(rita, other.id, "python")
    saved_views.rename_view(rita, view.id, "Python devs")
    saved_views.set_shared(rita, view.id, False)
    assert saved_views.get_view(rob, view.id) is None  # private again
    assert saved_views.get_view(rita, view.id).name == "Python devs"  # type: ignore[union-attr]
    saved_views.delete_view(rita, view.id)
    with pytest.raises(saved_views.SavedViewError, match="no longer exists"):
        saved_views.delete_view(rita, view.id)
    actions = db.execute(
        "SELECT action, user_id, object_id FROM audit_log WHERE action LIKE 'view.%%'"
        " AND action <> 'view.save' ORDER BY id"
    ).fetchall()
    assert actions == [
        ("view.rename", rita, str(view.id)),
        ("view.unshare", rita, str(view.id)),
        ("view.delete", rita, str(view.id)),
    ]


def _outputs(key: str) -> list[dict[str, Any]]:
    return [
        {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1].split("@")[0]}
        for o in key.strip(".").split("...")
    ]


def test_the_profiles_page_saves_lists_and_shares_views(
    db: psycopg.Connection, redis_conn: Any, users: dict[str, int]
) -> None:
    from app import server

    rita = server.test_client()
    login(rita, "rita@example.com")
    key = output_key(rita, f"{layout.CHANGED}.data")

    def act(
        save: int | None, name: str, shared: bool, view: str, share: list[dict[str, Any]]
    ) -> dict[str, Any]:
        resp = dash_post(
            rita, key, _outputs(key),
            [{"id": layout.SAVE, "property": "n_clicks", "value": save},
             {"id": layout.NAME, "property": "n_submit", "value": None}, [], share, []],
            [{"id": layout.NAME, "property": "value", "value": name},
             {"id": layout.SHARED, "property": "value", "value": shared},
             {"id": page.VIEW, "property": "data", "value": view}, [], []],
            changed=[f"{layout.SAVE}.n_clicks"] if save else
            [json.dumps(share[0]["id"], sort_keys=True, separators=(",", ":")) + ".n_clicks"],
        )  # fmt: skip
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        return dict(resp.get_json()["response"])

    out = act(1, "Ann, by experience", True, VIEW, [])
    assert "Saved the view 'Ann, by experience' for the team." in json.dumps(out)
    assert out[layout.NAME]["value"] == "" and out[layout.COLLAPSE]["is_open"] is True
    [stored] = saved_views.list_views(users["rita"])
    assert stored.shared and stored.query == saved_views.canonical_query(VIEW)
    assert "already have a view" in json.dumps(act(1, "ann, BY experience", False, VIEW, []))

    share_button = layout.action_id(layout.SHARE_TYPE, stored.id)
    out = act(None, "", False, VIEW, [{"id": share_button, "property": "n_clicks", "value": 1}])
    assert "Now private." in json.dumps(out)
    assert not saved_views.list_views(users["rita"])[0].shared

    # The list: a link to the view's URL, with owner actions for the owner only.
    rob = server.test_client()
    login(rob, "rob@example.com")
    saved_views.set_shared(users["rita"], stored.id, True)
    listing = output_key(rob, f"{layout.LIST}.children")
    for client, owner_actions in ((rita, True), (rob, False)):
        resp = dash_post(
            client, listing, {"id": layout.LIST, "property": "children"},
            [{"id": layout.CHANGED, "property": "data", "value": None}],
        )  # fmt: skip
        assert _hrefs(resp.get_json()) == [stored.url]
        assert (layout.DELETE_TYPE in resp.get_data(as_text=True)) is owner_actions


def _hrefs(node: Any) -> list[str]:
    """Every href in a rendered component tree (Dash's JSON)."""
    if isinstance(node, dict):
        own = [node["href"]] if isinstance(node.get("href"), str) else []
        return own + [h for value in node.values() for h in _hrefs(value)]
    if isinstance(node, list):
        return [h for item in node for h in _hrefs(item)]
    return []
