"""Saved views of the profile grid: a name for a Profiles page URL query.

The Profiles URL already is the whole view, so a saved view stores only its query string, in the
canonical form `services.grid.urlstate` writes: it is parsed (a tampered or stale query is
refused with the parser's reason) and written back, so equal views are stored equally. A view is
private to its owner or shared with the team; the owner alone renames, shares or deletes it.
Names are unique per owner ignoring case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlencode

import psycopg
from psycopg.rows import class_row

from services import audit
from services.core.db import unit_of_work
from services.core.errors import UserError
from services.grid import GridQueryError, query_to_url_params, url_params_to_query

MAX_NAME = 100
MAX_QUERY = 4000
PAGE_PATH = "/profiles"


class SavedViewError(UserError):
    """A saved-view request that cannot be carried out (message is safe to show)."""


@dataclass(frozen=True)
class SavedView:
    id: int
    owner_id: int
    owner_name: str
    name: str
    query: str  # canonical, without the leading "?"
    shared: bool
    created_at: datetime

    @property
    def url(self) -> str:
        return f"{PAGE_PATH}?{self.query}" if self.query else PAGE_PATH


def canonical_query(raw: object) -> str:
    """The canonical query string of a Profiles URL search ("?a=b" or "a=b"); refuses bad ones."""
    if not isinstance(raw, str):
        raise SavedViewError("The view must be a URL query string.")
    text = raw.strip().lstrip("?")
    if len(text) > MAX_QUERY:
        raise SavedViewError("This view's URL is too long to save.")
    try:
        query = url_params_to_query(parse_qs(text, keep_blank_values=True, strict_parsing=False))
    except GridQueryError as exc:
        raise SavedViewError(f"This view cannot be saved: {exc}") from exc
    return urlencode(query_to_url_params(query))


def normalize_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise SavedViewError("Give the view a name.")
    clean = " ".join(name.split())
    if len(clean) > MAX_NAME:
        raise SavedViewError(f"View names are at most {MAX_NAME} characters.")
    return clean


VIEW_SQL = """
SELECT v.id, v.owner_id, coalesce(u.name, '') AS owner_name, v.name, v.query, v.shared,
       v.created_at
FROM saved_views v JOIN users u ON u.id = v.owner_id
"""


def save_view(user_id: int, name: object, query: object, shared: bool = False) -> SavedView:
    """Save the view under a name of the user's; the name must be new to them."""
    clean_name = normalize_name(name)
    clean_query = canonical_query(query)
    with unit_of_work() as conn:
        try:
            row = conn.execute(
                "INSERT INTO saved_views (owner_id, name, query, shared) VALUES (%s, %s, %s, %s)"
                " RETURNING id",
                (user_id, clean_name, clean_query, bool(shared)),
            ).fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise SavedViewError(f"You already have a view called {clean_name!r}.") from exc
        assert row is not None
        view_id = int(row[0])
        audit.record(
            conn, user_id, "view.save", "saved_view", view_id,
            {"shared": bool(shared), "query_length": len(clean_query)},
        )  # fmt: skip
        view = _get(conn, view_id)
    assert view is not None
    return view


def _get(conn: psycopg.Connection, view_id: int) -> SavedView | None:
    with conn.cursor(row_factory=class_row(SavedView)) as cur:
        return cur.execute(VIEW_SQL + " WHERE v.id = %s", (view_id,)).fetchone()


def get_view(user_id: int, view_id: int) -> SavedView | None:
    """A view the user may open: their own, or one shared with the team."""
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(SavedView)) as cur:
        cur.execute(
            VIEW_SQL + " WHERE v.id = %s AND (v.owner_id = %s OR v.shared)", (view_id, user_id)
        )
        return cur.fetchone()


def list_views(user_id: int) -> list[SavedView]:
    """The user's own views by name, then the views others share, by name."""
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(SavedView)) as cur:
        cur.execute(
            VIEW_SQL + " WHERE v.owner_id = %(u)s OR v.shared"
            " ORDER BY v.owner_id <> %(u)s, lower(v.name), v.id",
            {"u": user_id},
        )
        return cur.fetchall()


def _owned(conn: psycopg.Connection, user_id: int, view_id: int) -> None:
    row = conn.execute(
        "SELECT owner_id FROM saved_views WHERE id = %s FOR UPDATE", (view_id,)
    ).fetchone()
    if row is None:
        raise SavedViewError("That view no longer exists.")
    if int(row[0]) != user_id:
        raise SavedViewError("Only the view's owner can change it.")


def rename_view(user_id: int, view_id: int, name: object) -> None:
    clean = normalize_name(name)
    with unit_of_work() as conn:
        _owned(conn, user_id, view_id)
        try:
            conn.execute(
                "UPDATE saved_views SET name = %s, updated_at = now() WHERE id = %s",
                (clean, view_id),
            )
        except psycopg.errors.UniqueViolation as exc:
            raise SavedViewError(f"You already have a view called {clean!r}.") from exc
        audit.record(conn, user_id, "view.rename", "saved_view", view_id)


def set_shared(user_id: int, view_id: int, shared: bool) -> None:
    with unit_of_work() as conn:
        _owned(conn, user_id, view_id)
        conn.execute(
            "UPDATE saved_views SET shared = %s, updated_at = now() WHERE id = %s",
            (bool(shared), view_id),
        )
        audit.record(
            conn, user_id, "view.share" if shared else "view.unshare", "saved_view", view_id
        )


def delete_view(user_id: int, view_id: int) -> None:
    with unit_of_work() as conn:
        _owned(conn, user_id, view_id)
        conn.execute("DELETE FROM saved_views WHERE id = %s", (view_id,))
        audit.record(conn, user_id, "view.delete", "saved_view", view_id)
