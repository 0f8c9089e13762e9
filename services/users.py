"""Reading the team's users for the admin area (never their password hashes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from services.db import transaction


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    name: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None


def list_users() -> list[UserRow]:
    with transaction() as conn, conn.cursor(row_factory=class_row(UserRow)) as cur:
        cur.execute(
            "SELECT id, email, name, role, active, created_at, last_login_at FROM users ORDER BY id"
        )
        return cur.fetchall()
