"""Tags and notes on profiles (services/tags_notes.py) against real Postgres and Redis, the
grid's tag filter (rows, count, URL) and the detail panel's callbacks over the Dash endpoint."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from layouts import profile_detail as panel
from services import tags_notes
from services.core.cache import data_version
from services.grid import (
    GridQueryError,
    count_rows,
    fetch_block,
    parse_grid_query,
    query_to_url_params,
    url_params_to_query,
)
from tests.factories import seed_profiles
from tests.helpers import create_user, dash_post, login, output_key

pytestmark = pytest.mark.integration


@pytest.fixture()
def people(db: psycopg.Connection, redis_conn: Any) -> dict[str, int]:
    seed_profiles(db, 300, seed=5)
    return {
        "rita": create_user(db, "rita@example.com", "recruiter"),
        "rob": create_user(db, "rob@example.com", "recruiter"),
        "ada": create_user(db, "ada@example.com", "admin"),
    }


def _audit(db: psycopg.Connection, action: str) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT user_id, object_type, object_id, details FROM audit_log WHERE action = %s"
        " ORDER BY id",
        (action,),
    ).fetchall()


def test_a_tag_is_team_wide_case_insensitive_and_audited(
    db: psycopg.Connection, people: dict[str, int]
) -> None:
    first = tags_notes.tag_profile(people["rita"], 1, "  Strong   Python ")
    assert first.name == "Strong Python"  # spaces collapsed, case kept for display
    again = tags_notes.tag_profile(people["rob"], 2, "strong python")
    assert again.id == first.id and again.name == "Strong Python"  # the same tag, not a new one
    tags_notes.tag_profile(people["rob"], 2, "STRONG PYTHON")  # already on it: nothing changes
    assert db.execute("SELECT count(*) FROM tags").fetchone() == (1,)
    assert db.execute(
        "SELECT profile_id, added_by FROM profile_tags ORDER BY profile_id"
    ).fetchall() == [(1, people["rita"]), (2, people["rob"])]
    assert _audit(db, "tag.create") == [
        (people["rita"], "tag", str(first.id), {"name": "Strong Python"})
    ]
    assert [(u, o) for u, _, o, _ in _audit(db, "profile.tag")] == [
        (people["rita"], "1"),
        (people["rob"], "2"),
    ]
    listed = tags_notes.list_tags()
    assert [(t.name, t.profile_count) for t in listed] == [("Strong Python", 2)]

    assert tags_notes.untag_profile(people["rob"], 1, first.id) is True
    assert tags_notes.untag_profile(people["rob"], 1, first.id) is False  # already off
    assert [t.name for t in tags_notes.profile_tags(1)] == []
    assert [t.name for t in tags_notes.profile_tags(2)] == ["Strong Python"]
    assert [(u, o, d) for u, _, o, d in _audit(db, "profile.untag")] == [
        (people["rob"], "1", {"tag_id": first.id})
    ]


def test_tag_writes_make_cached_grid_counts_stale(people: dict[str, int]) -> None:
    before = data_version("profiles")
    tag = tags_notes.tag_profile(people["rita"], 3, "Berlin")
    assert data_version("profiles") == before + 1
    tags_notes.tag_profile(people["rita"], 3, "berlin")  # no change: no bump
    assert data_version("profiles") == before + 1
    tags_notes.untag_profile(people["rita"], 3, tag.id)
    assert data_version("profiles") == before + 2


@pytest.mark.parametrize(
    ("name", "reason"),
    [("", "Type a tag name"), ("   ", "Type a tag name"), ("x" * 51, "at most 50"),
     ("bad\x07bell", "control characters"), (42, "must be text")],
)  # fmt: skip
def test_bad_tag_names_are_refused_with_the_reason(
    db: psycopg.Connection, people: dict[str, int], name: Any, reason: str
) -> None:
    with pytest.raises(tags_notes.AnnotationError, match=reason):
        tags_notes.tag_profile(people["rita"], 1, name)
    assert db.execute("SELECT count(*) FROM tags").fetchone() == (0,)


def test_tagging_a_missing_profile_is_refused_and_creates_no_tag(
    db: psycopg.Connection, people: dict[str, int]
) -> None:
    with pytest.raises(tags_notes.AnnotationError, match="No such profile"):
        tags_notes.tag_profile(people["rita"], 999_999, "Ghost")
    assert db.execute("SELECT count(*) FROM tags").fetchone() == (0,)
    assert _audit(db, "tag.create") == []


def test_notes_newest_first_for_everyone_deleted_only_by_author_or_admin(
    db: psycopg.Connection, people: dict[str, int]
) -> None:
    first = tags_notes.add_note(people["rita"], 7, "  Spoke on the phone.\r\nKeen on Berlin. ")
    second = tags_notes.add_note(people["rob"], 7, "Asked for 90k.")
    tags_notes.add_note(people["rob"], 8, "Another profile.")
    seen = tags_notes.for_profile(7)  # any user sees every note of the team
    assert [(n.id, n.author_name, n.body) for n in seen.notes] == [
        (second, "rob", "Asked for 90k."),
        (first, "rita", "Spoke on the phone.\nKeen on Berlin."),
    ]
    assert seen.note_count == 2
    limited = tags_notes.for_profile(7, notes_shown=1)
    assert [n.id for n in limited.notes] == [second] and limited.note_count == 2

    with pytest.raises(tags_notes.AnnotationError, match="author or an admin"):
        tags_notes.delete_note(people["rob"], first)  # not his
    tags_notes.delete_note(people["rita"], first)  # her own
    tags_notes.delete_note(people["ada"], second)  # an admin may
    assert [n.id for n in tags_notes.for_profile(7).notes] == []
    with pytest.raises(tags_notes.AnnotationError, match="no longer exists"):
        tags_notes.delete_note(people["ada"], second)

    created = _audit(db, "note.create")
    assert [(u, o) for u, _, o, _ in created] == [
        (people["rita"], "7"), (people["rob"], "7"), (people["rob"], "8"),
    ]  # fmt: skip
    assert "Asked" not in json.dumps([d for *_, d in created])  # ids and lengths, no text
    assert [(u, d["note_id"], d["author_id"]) for u, _, _, d in _audit(db, "note.delete")] == [
        (people["rita"], first, people["rita"]),
        (people["ada"], second, people["rob"]),
    ]


def test_a_demoted_admin_cannot_delete_others_notes(
    db: psycopg.Connection, people: dict[str, int]
) -> None:
    note = tags_notes.add_note(people["rob"], 9, "Rob's note")
    db.execute("UPDATE users SET role = 'recruiter' WHERE id = %s", (people["ada"],))
    with pytest.raises(tags_notes.AnnotationError, match="author or an admin"):
        tags_notes.delete_note(people["ada"], note)  # the role is read from the database
    assert db.execute("SELECT count(*) FROM profile_notes").fetchone() == (1,)


@pytest.mark.parametrize(
    ("body", "reason"),
    [("", "Write the note"), (" \n ", "Write the note"), ("x" * 4001, "at most 4,000"),
     ("nul\x00byte", "control characters")],
)  # fmt: skip
def test_bad_notes_are_refused(
    db: psycopg.Connection, people: dict[str, int], body: str, reason: str
) -> None:
    with pytest.raises(tags_notes.AnnotationError, match=reason):
        tags_notes.add_note(people["rita"], 1, body)
    assert db.execute("SELECT count(*) FROM profile_notes").fetchone() == (0,)


def test_the_grid_filters_by_tags_in_pages_and_counts(
    db: psycopg.Connection, people: dict[str, int]
) -> None:
    hot = tags_notes.tag_profile(people["rita"], 5, "Hot")
    warm = tags_notes.tag_profile(people["rita"], 250, "Warm")
    for profile_id in (17, 42, 120, 299):
        tags_notes.tag_profile(people["rita"], profile_id, "Hot")
    tags_notes.tag_profile(people["rita"], 42, "Warm")  # two tags: counted once

    hot_only = parse_grid_query({}, [], tag_ids=[hot.id])
    block = fetch_block(hot_only, 0, 100)
    assert [r["id"] for r in block.rows] == [5, 17, 42, 120, 299]
    assert count_rows(hot_only) == 5
    either = parse_grid_query({}, [{"colId": "id", "sort": "desc"}], tag_ids=[warm.id, hot.id])
    assert [r["id"] for r in fetch_block(either, 0, 100).rows] == [299, 250, 120, 42, 17, 5]
    assert count_rows(either) == 6
    # Combined with another filter, and paged: block two continues where block one stopped.
    narrowed = parse_grid_query(
        {"id": {"filterType": "number", "type": "greaterThan", "filter": 20}}, [],
        tag_ids=[hot.id, warm.id],
    )  # fmt: skip
    assert [r["id"] for r in fetch_block(narrowed, 0, 2).rows] == [42, 120]
    assert [r["id"] for r in fetch_block(narrowed, 2, 4).rows] == [250, 299]
    assert count_rows(narrowed) == 4
    assert count_rows(parse_grid_query({}, [], tag_ids=[999])) == 0  # unknown id: no rows

    # Untagging changes the cached count (the data version moved).
    tags_notes.untag_profile(people["rob"], 299, hot.id)
    assert count_rows(hot_only) == 4


def test_tags_travel_in_the_url_and_are_validated() -> None:
    query = parse_grid_query({}, [], tag_ids=[7, 3, 7])
    assert query.tag_ids == (3, 7)
    params = query_to_url_params(query)
    assert params == {"tag": "3,7"}
    assert url_params_to_query(params) == query
    assert url_params_to_query({"tag": ["1", "3,7"]}) == query  # a repeated key: the last wins
    assert parse_grid_query({}, []).filter_identity() != query.filter_identity()
    arabic_one = "\u0661"  # isdigit() says yes; int() would take it
    for bad in ("x", "1;DROP TABLE tags", "-1", "1,,2e3", arabic_one):
        with pytest.raises(GridQueryError, match="'tag'"):
            url_params_to_query({"tag": bad})
    for bad_ids in (["1"], [True], [0], [2**63], list(range(1, 30)), "1"):
        with pytest.raises(GridQueryError):
            parse_grid_query({}, [], tag_ids=bad_ids)


# --- the panel's callbacks over the Dash endpoint -------------------------------------------------


def _outputs(key: str) -> list[dict[str, Any]]:
    return [
        {"id": json.loads(o.rsplit(".", 1)[0]) if o.startswith("{") else o.rsplit(".", 1)[0],
         "property": o.rsplit(".", 1)[1].split("@")[0]}
        for o in key.strip(".").split("...")
    ]  # fmt: skip


def _annotate(client: Any, clicked: str, profile_id: Any, tag: str = "", note: str = "") -> Any:
    """Click "Add tag" or "Add note" with the given texts, no badges or notes on screen (a
    pattern-matching ALL input arrives as the list of matching components: none here)."""
    key = output_key(client, f"{panel.CHANGED}.data")
    inputs = [
        {"id": panel.TAG_ADD, "property": "n_clicks", "value": 1 if clicked == "tag" else None},
        {"id": panel.TAG_INPUT, "property": "n_submit", "value": None},
        {"id": panel.NOTE_ADD, "property": "n_clicks", "value": 1 if clicked == "note" else None},
        [],
        [],
    ]
    state = [
        {"id": panel.PROFILE_ID, "property": "data", "value": profile_id},
        {"id": panel.TAG_INPUT, "property": "value", "value": tag},
        {"id": panel.NOTE_INPUT, "property": "value", "value": note},
    ]
    changed = {"tag": panel.TAG_ADD, "note": panel.NOTE_ADD}[clicked]
    return dash_post(client, key, _outputs(key), inputs, state, [f"{changed}.n_clicks"])


def test_the_panel_tags_and_notes_through_its_callbacks(
    db: psycopg.Connection, people: dict[str, int]
) -> None:
    from app import server

    client = server.test_client()
    login(client, "rob@example.com")
    resp = _annotate(client, "tag", 12, tag="Shortlist later")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    out = resp.get_json()["response"]
    assert out[panel.TAG_INPUT]["value"] == ""  # cleared for the next tag
    assert isinstance(out[panel.CHANGED]["data"], int)
    assert [t.name for t in tags_notes.profile_tags(12)] == ["Shortlist later"]

    resp = _annotate(client, "note", 12, note="Prefers remote.")
    assert resp.get_json()["response"][panel.NOTE_INPUT]["value"] == ""
    assert [n.body for n in tags_notes.for_profile(12).notes] == ["Prefers remote."]

    refused = _annotate(client, "tag", 12, tag="x" * 60).get_data(as_text=True)
    assert "at most 50 characters" in refused
    assert "Open a profile first" in _annotate(client, "note", None, note="x").get_data(
        as_text=True
    )

    # Showing the panel's lists: the note author sees a delete button on their own note only.
    show = output_key(client, f"{panel.TAG_LIST}.children")
    resp = dash_post(
        client, show, _outputs(show),
        [{"id": panel.PROFILE_ID, "property": "data", "value": 12},
         {"id": panel.CHANGED, "property": "data", "value": None}],
        changed=[f"{panel.PROFILE_ID}.data"],
    )  # fmt: skip
    text = resp.get_data(as_text=True)
    assert "Shortlist later" in text and "Prefers remote." in text
    assert panel.NOTE_DELETE_TYPE in text
    other = server.test_client()
    login(other, "rita@example.com")
    text = dash_post(
        other, show, _outputs(show),
        [{"id": panel.PROFILE_ID, "property": "data", "value": 12},
         {"id": panel.CHANGED, "property": "data", "value": None}],
        changed=[f"{panel.PROFILE_ID}.data"],
    ).get_data(as_text=True)  # fmt: skip
    assert "Prefers remote." in text and panel.NOTE_DELETE_TYPE not in text


def test_removing_a_tag_and_deleting_a_note_from_the_panel(
    db: psycopg.Connection, people: dict[str, int]
) -> None:
    from app import server

    tag = tags_notes.tag_profile(people["rita"], 20, "Remote only")
    note = tags_notes.add_note(people["rita"], 20, "Rita's note")
    client = server.test_client()
    login(client, "rob@example.com")
    key = output_key(client, f"{panel.CHANGED}.data")

    def click(kind: str, ident: dict[str, Any]) -> Any:
        button = [{"id": ident, "property": "n_clicks", "value": 1}]
        inputs = [
            {"id": panel.TAG_ADD, "property": "n_clicks", "value": None},
            {"id": panel.TAG_INPUT, "property": "n_submit", "value": None},
            {"id": panel.NOTE_ADD, "property": "n_clicks", "value": None},
            button if kind == "tag" else [],
            button if kind == "note" else [],
        ]
        state = [
            {"id": panel.PROFILE_ID, "property": "data", "value": 20},
            {"id": panel.TAG_INPUT, "property": "value", "value": ""},
            {"id": panel.NOTE_INPUT, "property": "value", "value": ""},
        ]
        changed = json.dumps(ident, sort_keys=True, separators=(",", ":")) + ".n_clicks"
        return dash_post(client, key, _outputs(key), inputs, state, [changed])

    # Rob may not delete Rita's note: the reason is shown and the note stays.
    refused = click("note", panel.note_delete_id(note))
    assert "Only the note's author or an admin" in refused.get_data(as_text=True)
    assert [n.id for n in tags_notes.for_profile(20).notes] == [note]
    # Anyone may take a tag off.
    assert click("tag", panel.tag_remove_id(tag.id)).status_code == 200
    assert tags_notes.profile_tags(20) == []
    # A forged button id changes nothing and breaks nothing.
    forged = click("tag", {"type": panel.TAG_REMOVE_TYPE, "tag": "1 OR 1=1"})
    assert forged.status_code == 204
