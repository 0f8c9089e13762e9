"""Team annotations on profiles: tags (team-wide, filterable in the grid) and notes.

Everyone signed in sees every tag and note. Anyone may tag, untag and write; a note is deleted
only by its author or an admin (checked here against the users table, not trusted from the
caller). Every write is one transaction with its audit row; audit details carry ids and lengths,
never a note's text. Tag writes bump the "profiles" data version, because the grid's cached
counts and page boundaries of a tag-filtered view depend on them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from services import audit
from services.core.cache import bump_data_version
from services.core.db import unit_of_work
from services.core.errors import UserError

MAX_TAG_NAME = 50
MAX_NOTE_LENGTH = 4000
NOTES_SHOWN = 100
_SPACES = re.compile(r"\s+")


class AnnotationError(UserError):
    """A tag or note request that cannot be carried out (message is safe to show)."""


@dataclass(frozen=True)
class Tag:
    id: int
    name: str
    profile_count: int = 0


@dataclass(frozen=True)
class Note:
    id: int
    profile_id: int
    author_id: int | None
    author_name: str | None
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Annotations:
    """What the detail panel shows of one profile: its tags by name, its newest notes."""

    tags: list[Tag]
    notes: list[Note]
    note_count: int


def _has_control(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


def normalize_tag_name(name: object) -> str:
    """One line, single spaces, 1..MAX_TAG_NAME characters; case is kept for display."""
    if not isinstance(name, str):
        raise AnnotationError("A tag name must be text.")
    clean = _SPACES.sub(" ", name).strip()
    if not clean:
        raise AnnotationError("Type a tag name first.")
    if len(clean) > MAX_TAG_NAME:
        raise AnnotationError(f"Tag names are at most {MAX_TAG_NAME} characters.")
    if _has_control(clean):
        raise AnnotationError("Tag names cannot contain control characters.")
    return clean


def normalize_note(body: object) -> str:
    if not isinstance(body, str):
        raise AnnotationError("A note must be text.")
    clean = body.replace("\r\n", "\n").strip()
    if not clean:
        raise AnnotationError("Write the note first.")
    if len(clean) > MAX_NOTE_LENGTH:
        raise AnnotationError(f"Notes are at most {MAX_NOTE_LENGTH:,} characters.")
    if _has_control(clean, allowed="\n\t"):
        raise AnnotationError("Notes cannot contain control characters.")
    return clean


def _positive_id(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise AnnotationError(f"No such {what}.")
    return value


def _profile_exists(conn: psycopg.Connection, profile_id: int) -> None:
    if conn.execute("SELECT 1 FROM profiles WHERE id = %s", (profile_id,)).fetchone() is None:
        raise AnnotationError("No such profile (it may have been erased).")


# --- tags ----------------------------------------------------------------------------------------

TAGS_SQL = """
SELECT t.id, t.name, count(pt.profile_id)::int AS profile_count
FROM tags t LEFT JOIN profile_tags pt ON pt.tag_id = t.id
GROUP BY t.id ORDER BY lower(t.name), t.id
"""
PROFILE_TAGS_SQL = """
SELECT t.id, t.name FROM profile_tags pt JOIN tags t ON t.id = pt.tag_id
WHERE pt.profile_id = %s ORDER BY lower(t.name), t.id
"""
# Find-or-create in one statement: ON CONFLICT on the lower(name) index makes two people typing
# the same new tag at once end up with one tag.
ENSURE_TAG_SQL = """
WITH new AS (
    INSERT INTO tags (name, created_by) VALUES (%(name)s, %(user)s)
    ON CONFLICT (lower(name)) DO NOTHING
    RETURNING id, name, true AS created
)
SELECT id, name, created FROM new
UNION ALL
SELECT id, name, false FROM tags WHERE lower(name) = lower(%(name)s)
LIMIT 1
"""


def list_tags() -> list[Tag]:
    """Every tag of the team, by name, with how many profiles carry it."""
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(Tag)) as cur:
        cur.execute(TAGS_SQL)
        return cur.fetchall()


def profile_tags(profile_id: int) -> list[Tag]:
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(Tag)) as cur:
        cur.execute(PROFILE_TAGS_SQL, (profile_id,))
        return cur.fetchall()


def tag_profile(user_id: int, profile_id: int, name: object) -> Tag:
    """Put the tag called `name` (any case; created if the team has none) on a profile."""
    profile_id = _positive_id(profile_id, "profile")
    clean = normalize_tag_name(name)
    with unit_of_work() as conn:
        _profile_exists(conn, profile_id)
        row = conn.execute(ENSURE_TAG_SQL, {"name": clean, "user": user_id}).fetchone()
        if row is None:  # created by someone else this instant, not yet visible to us
            raise AnnotationError("Someone just created this tag; add it again.")
        tag = Tag(int(row[0]), str(row[1]))
        if row[2]:
            audit.record(conn, user_id, "tag.create", "tag", tag.id, {"name": tag.name})
        added = conn.execute(
            "INSERT INTO profile_tags (profile_id, tag_id, added_by) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (profile_id, tag.id, user_id),
        ).rowcount
        if added:
            audit.record(conn, user_id, "profile.tag", "profile", profile_id, {"tag_id": tag.id})
    if added:
        bump_data_version("profiles")
    return tag


def untag_profile(user_id: int, profile_id: int, tag_id: int) -> bool:
    """Take a tag off a profile; False when it was not on it."""
    profile_id = _positive_id(profile_id, "profile")
    tag_id = _positive_id(tag_id, "tag")
    with unit_of_work() as conn:
        removed = conn.execute(
            "DELETE FROM profile_tags WHERE profile_id = %s AND tag_id = %s", (profile_id, tag_id)
        ).rowcount
        if removed:
            audit.record(conn, user_id, "profile.untag", "profile", profile_id, {"tag_id": tag_id})
    if removed:
        bump_data_version("profiles")
    return bool(removed)


# --- notes ---------------------------------------------------------------------------------------

NOTES_SQL = """
SELECT n.id, n.profile_id, n.author_id, u.name AS author_name, n.body, n.created_at
FROM profile_notes n LEFT JOIN users u ON u.id = n.author_id
WHERE n.profile_id = %s ORDER BY n.id DESC LIMIT %s
"""


def add_note(user_id: int, profile_id: int, body: object) -> int:
    """Write a note on a profile; returns its id."""
    profile_id = _positive_id(profile_id, "profile")
    clean = normalize_note(body)
    with unit_of_work() as conn:
        _profile_exists(conn, profile_id)
        row = conn.execute(
            "INSERT INTO profile_notes (profile_id, author_id, body) VALUES (%s, %s, %s)"
            " RETURNING id",
            (profile_id, user_id, clean),
        ).fetchone()
        assert row is not None
        note_id = int(row[0])
        audit.record(
            conn, user_id, "note.create", "profile", profile_id,
            {"note_id": note_id, "length": len(clean)},
        )  # fmt: skip
    return note_id


def delete_note(user_id: int, note_id: int) -> None:
    """Delete a note: allowed to its author and to admins only."""
    note_id = _positive_id(note_id, "note")
    with unit_of_work() as conn:
        row = conn.execute(
            "SELECT n.profile_id, n.author_id,"
            " EXISTS (SELECT 1 FROM users u WHERE u.id = %s AND u.active AND u.role = 'admin')"
            " FROM profile_notes n WHERE n.id = %s FOR UPDATE OF n",
            (user_id, note_id),
        ).fetchone()
        if row is None:
            raise AnnotationError("That note no longer exists.")
        profile_id, author_id, is_admin = int(row[0]), row[1], bool(row[2])
        if author_id != user_id and not is_admin:
            raise AnnotationError("Only the note's author or an admin can delete it.")
        conn.execute("DELETE FROM profile_notes WHERE id = %s", (note_id,))
        audit.record(
            conn, user_id, "note.delete", "profile", profile_id,
            {"note_id": note_id, "author_id": author_id},
        )  # fmt: skip


def for_profile(profile_id: int, notes_shown: int = NOTES_SHOWN) -> Annotations:
    """A profile's tags and its newest notes (newest first), in one read transaction."""
    with unit_of_work() as conn:
        with conn.cursor(row_factory=class_row(Tag)) as cur:
            tags = cur.execute(PROFILE_TAGS_SQL, (profile_id,)).fetchall()
        with conn.cursor(row_factory=class_row(Note)) as cur:
            notes = cur.execute(NOTES_SQL, (profile_id, notes_shown)).fetchall()
        total = conn.execute(
            "SELECT count(*) FROM profile_notes WHERE profile_id = %s", (profile_id,)
        ).fetchone()
    return Annotations(tags, notes, int(total[0]) if total else len(notes))
