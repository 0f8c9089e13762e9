"""The team's users for the admin area: listing (never password hashes), inviting, role changes,
(de)activation and password resets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from services import auth
from services.core.db import unit_of_work


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
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(UserRow)) as cur:
        cur.execute(
            "SELECT id, email, name, role, active, created_at, last_login_at FROM users ORDER BY id"
        )
        return cur.fetchall()


# --- Admin use cases: one transaction each, audited inside it by services.auth ---------------


def _not_self(user_id: int, by: int | None, what: str) -> None:
    # An admin locking themselves out would leave the team without a way back in.
    if by is not None and user_id == by:
        raise auth.AuthError(f"You cannot {what} yourself; ask another admin.")


def invite_user(email: str, name: str, role: str, by: int | None) -> tuple[auth.User, str]:
    """Create an active user with a generated password, shown once to the admin to hand over."""
    password = auth.generate_password()
    with unit_of_work() as conn:
        user = auth.create_user(conn, email, name, password, role, created_by=by)
    return user, password


def change_role(user_id: int, role: str, by: int | None) -> None:
    if role != "admin":
        _not_self(user_id, by, "remove the admin role from")
    with unit_of_work() as conn:
        auth.set_role(conn, user_id, role, by)


def set_active(user_id: int, active: bool, by: int | None) -> None:
    """(De)activate; a deactivated user's live sessions stop at their next request."""
    if not active:
        _not_self(user_id, by, "deactivate")
    with unit_of_work() as conn:
        auth.set_active(conn, user_id, active, by)


def reset_password(user_id: int, by: int | None) -> str:
    """Set a new generated password (returned once) and end the user's live sessions."""
    password = auth.generate_password()
    with unit_of_work() as conn:
        auth.reset_password(conn, user_id, password, by)
    return password
