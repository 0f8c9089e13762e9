"""Users, passwords and roles.

Passwords are hashed with scrypt (werkzeug's default KDF). A user's `session_version` is carried in
the signed session cookie; deactivating a user or resetting a password bumps it, so every live
session of that user stops working at its next request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

import psycopg
from psycopg.rows import class_row
from werkzeug.security import check_password_hash, generate_password_hash

from services import audit
from services.core.db import unit_of_work
from services.core.errors import UserError

Role = Literal["recruiter", "lead", "admin"]
ROLES: tuple[Role, ...] = ("recruiter", "lead", "admin")
ROLE_RANK = {"recruiter": 1, "lead": 2, "admin": 3}
MIN_PASSWORD_LENGTH = 10
# Checked against when the email is unknown, so a wrong email costs the same time as a wrong
# password and the response cannot tell the two apart.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + "0" * 16)


class AuthError(UserError):
    """A user-management request that cannot be carried out (message is safe to show)."""


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    role: str
    active: bool
    session_version: int

    def has_role(self, minimum: str) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[minimum]


USER_COLUMNS = "id, email, name, role, active, session_version"


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"Password must have at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password, method="scrypt")


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(
    conn: psycopg.Connection,
    email: str,
    name: str,
    password: str,
    role: str,
    created_by: int | None = None,
) -> User:
    """Insert a user; a duplicate email (case-insensitive) is refused with a clear message."""
    email = email.strip()
    if "@" not in email or len(email) > 254:
        raise AuthError("Enter a valid email address")
    if role not in ROLES:
        raise AuthError(f"Role must be one of {', '.join(ROLES)}")
    with conn.cursor(row_factory=class_row(User)) as cur:
        try:
            cur.execute(
                f"INSERT INTO users (email, name, password_hash, role) VALUES (%s, %s, %s, %s)"
                f" RETURNING {USER_COLUMNS}",
                (email, name.strip() or email.split("@")[0], hash_password(password), role),
            )
        except psycopg.errors.UniqueViolation as exc:
            raise AuthError(f"A user with email {email} already exists") from exc
        user = cur.fetchone()
    assert user is not None
    audit.record(conn, created_by, "user.create", "user", user.id, {"role": role})
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer for any wrong part)."""
    with unit_of_work() as conn:
        row = conn.execute(
            f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(email) = lower(%s)",
            (email.strip(),),
        ).fetchone()
        if row is None:
            check_password_hash(_DUMMY_HASH, password)
            return None
        user = User(*row[:6])
        if not check_password_hash(row[6], password) or not user.active:
            return None
        conn.execute("UPDATE users SET last_login_at = now() WHERE id = %s", (user.id,))
        audit.record(conn, user.id, "user.login", "user", user.id)
    return user


def load_active_user(user_id: int, session_version: int) -> User | None:
    """The user behind a session cookie, if still active and the session is still current."""
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(
            f"SELECT {USER_COLUMNS} FROM users WHERE id = %s AND active AND session_version = %s",
            (user_id, session_version),
        )
        return cur.fetchone()


def count_users(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM users").fetchone()
    return int(row[0]) if row else 0


def set_active(conn: psycopg.Connection, user_id: int, active: bool, by: int | None) -> None:
    """(De)activate a user; deactivation ends their sessions by bumping session_version."""
    cur = conn.execute(
        "UPDATE users SET active = %s, session_version = session_version + 1 WHERE id = %s",
        (active, user_id),
    )
    if cur.rowcount != 1:
        raise AuthError("No such user")
    audit.record(conn, by, "user.activate" if active else "user.deactivate", "user", user_id)


def set_role(conn: psycopg.Connection, user_id: int, role: str, by: int | None) -> None:
    if role not in ROLES:
        raise AuthError(f"Role must be one of {', '.join(ROLES)}")
    cur = conn.execute("UPDATE users SET role = %s WHERE id = %s", (role, user_id))
    if cur.rowcount != 1:
        raise AuthError("No such user")
    audit.record(conn, by, "user.role", "user", user_id, {"role": role})


def reset_password(conn: psycopg.Connection, user_id: int, password: str, by: int | None) -> None:
    cur = conn.execute(
        "UPDATE users SET password_hash = %s, session_version = session_version + 1 WHERE id = %s",
        (hash_password(password), user_id),
    )
    if cur.rowcount != 1:
        raise AuthError("No such user")
    audit.record(conn, by, "user.password_reset", "user", user_id)
