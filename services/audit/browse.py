"""The audit log, self-serve for admins: a filtered listing paged by keyset (newest first) and a
CSV export streamed from a server-side cursor.

Filters: who (user id), what (an action, or a family of actions with a trailing dot, "user."),
which object (type and id) and when (UTC days, inclusive).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from psycopg.rows import class_row

from services.core.db import direct_connection, unit_of_work
from services.core.errors import UserError
from services.core.settings import get_settings

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_TEXT = 100


class AuditFilterError(UserError):
    """A filter value that cannot be used (message is safe to show)."""


@dataclass(frozen=True)
class AuditFilter:
    user_id: int | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def to_params(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key in ("user_id", "action", "object_type", "object_id", "date_from", "date_to"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value.isoformat() if isinstance(value, dt.date) else str(value)
        return out


@dataclass(frozen=True)
class AuditEntry:
    id: int
    ts: dt.datetime
    user_id: int | None
    user_email: str | None
    action: str
    object_type: str
    object_id: str | None
    details: str  # compact JSON


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_before_id: int | None  # pass as before_id for the next (older) page; None at the end


def _text(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    value = str(value).strip()
    if len(value) > MAX_TEXT:
        raise AuditFilterError(f"{key} is too long.")
    return value


def parse_audit_filter(params: Mapping[str, Any]) -> AuditFilter:
    user = _text(params, "user_id")
    if user is not None and not user.isdigit():
        raise AuditFilterError("user_id must be a whole number.")
    dates: dict[str, dt.date | None] = {}
    for key in ("date_from", "date_to"):
        raw = _text(params, key)
        try:
            dates[key] = dt.date.fromisoformat(raw[:10]) if raw else None
        except ValueError as exc:
            raise AuditFilterError(f"{key} must be a date like 2026-01-31.") from exc
    return AuditFilter(
        user_id=int(user) if user else None,
        action=_text(params, "action"),
        object_type=_text(params, "object_type"),
        object_id=_text(params, "object_id"),
        date_from=dates["date_from"],
        date_to=dates["date_to"],
    )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(f: AuditFilter, before_id: int | None) -> tuple[sql.Composed, dict[str, Any]]:
    conds: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if f.user_id is not None:
        conds.append(sql.SQL("a.user_id = %(user_id)s"))
        params["user_id"] = f.user_id
    if f.action:
        if f.action.endswith("."):  # a family: "user." matches user.create, user.role, ...
            conds.append(sql.SQL("a.action LIKE %(action)s"))
            params["action"] = _escape_like(f.action) + "%"
        else:
            conds.append(sql.SQL("a.action = %(action)s"))
            params["action"] = f.action
    if f.object_type:
        conds.append(sql.SQL("a.object_type = %(object_type)s"))
        params["object_type"] = f.object_type
    if f.object_id:
        conds.append(sql.SQL("a.object_id = %(object_id)s"))
        params["object_id"] = f.object_id
    if f.date_from:
        conds.append(sql.SQL("a.ts >= %(ts_from)s"))
        params["ts_from"] = dt.datetime.combine(f.date_from, dt.time.min, tzinfo=dt.UTC)
    if f.date_to:
        conds.append(sql.SQL("a.ts < %(ts_to)s"))
        params["ts_to"] = dt.datetime.combine(
            f.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC
        )
    if before_id is not None:
        conds.append(sql.SQL("a.id < %(before_id)s"))
        params["before_id"] = before_id
    where = sql.SQL("WHERE ") + sql.SQL(" AND ").join(conds) if conds else sql.Composed([])
    return sql.Composed([where]), params


# id order is insertion order, so newest-first by id pages by keyset on the primary key.
LIST_SQL = """
SELECT a.id, a.ts, a.user_id, u.email AS user_email, a.action, a.object_type, a.object_id,
       a.details::text AS details
FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
{where}
ORDER BY a.id DESC
LIMIT %(limit)s
"""


def list_entries(f: AuditFilter, before_id: int | None = None, limit: int = PAGE_SIZE) -> AuditPage:
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    where, params = _where(f, before_id)
    query = sql.SQL(LIST_SQL).format(where=where)
    with unit_of_work() as conn, conn.cursor(row_factory=class_row(AuditEntry)) as cur:
        cur.execute(query, {**params, "limit": limit + 1})
        rows = cur.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, rows[-1].id if more and rows else None)


def actions() -> list[str]:
    """The actions recorded so far, for the filter's choices."""
    with unit_of_work() as conn:
        return [
            str(r[0])
            for r in conn.execute("SELECT DISTINCT action FROM audit_log ORDER BY 1").fetchall()
        ]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXPORT_COLUMNS = (
    "id",
    "ts",
    "user_id",
    "user_email",
    "action",
    "object_type",
    "object_id",
    "details",
)


def _safe(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_rows(f: AuditFilter, row_cap: int | None = None) -> Iterator[list[str]]:
    """Header then formula-safe rows, newest first, at most EXPORT_ROW_CAP, in bounded memory."""
    cap = row_cap or get_settings().export_row_cap
    where, params = _where(f, None)
    query = sql.SQL(LIST_SQL).format(where=where)
    yield list(EXPORT_COLUMNS)
    with direct_connection() as conn, conn.cursor(name="audit_export") as cur:
        cur.itersize = 2000
        cur.execute(query, {**params, "limit": cap})
        for row in cur:
            yield [_safe(v) for v in row]


def details_text(details: str) -> str:
    """Details JSON as short `key=value` pairs for the table view."""
    try:
        data = json.loads(details)
    except ValueError:
        return details
    if not isinstance(data, dict):
        return details
    return ", ".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in data.items())
