"""Audit log: who did what to which object. Written inside the caller's transaction."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb


def record(
    conn: psycopg.Connection,
    user_id: int | None,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one audit row; details hold identifiers and counts, never copies of profile data."""
    conn.execute(
        "INSERT INTO audit_log (user_id, action, object_type, object_id, details)"
        " VALUES (%s, %s, %s, %s, %s)",
        (
            user_id,
            action,
            object_type,
            None if object_id is None else str(object_id),
            Jsonb(details or {}),
        ),
    )
