"""CSV export of the current view, streamed from a server-side cursor in bounded memory.

The rows come from a named (server-side) cursor on a dedicated connection outside the pool,
`fetch_rows` at a time, and leave as CSV text chunks of about `chunk_chars`; nothing holds the
whole result. Postgres renders every cell as CSV-ready text (far cheaper than converting cell by
cell in Python): text cells that a spreadsheet would run as a formula (first character = + - @
tab CR, per OWASP "CSV injection") get a leading single quote, skills are joined by '; ' and
timestamps are ISO 8601 in UTC.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from psycopg import sql

from services.core.db import direct_connection
from services.core.settings import get_settings
from services.grid.columns import COLUMNS, ROW_KEYS, TABLE
from services.grid.errors import GridQueryError
from services.grid.params import Params
from services.grid.query import GridQuery, where_clause
from services.grid.sorting import order_by, sort_keys

FETCH_ROWS = 2000
CHUNK_CHARS = 64 * 1024
# Fixed code constants (never user input): the characters that start a spreadsheet formula.
FORMULA_START = sql.SQL("('=', '+', '-', '@', chr(9), chr(13))")
NEUTRALISED = "CASE WHEN left({e}, 1) IN {chars} THEN '''' || {e} ELSE {e} END"
ISO_UTC = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


def _neutralised(expr: sql.Composable) -> sql.Composable:
    return sql.SQL(NEUTRALISED).format(e=expr, chars=FORMULA_START)


def export_columns(alias: str = "p") -> sql.Composable:
    """The grid columns (ROW_KEYS order) as the CSV cells Postgres computes for them."""
    parts: list[sql.Composable] = []
    for key in ROW_KEYS:
        column = COLUMNS[key]
        ref = column.ref(alias)
        if column.is_array:
            parts.append(_neutralised(sql.SQL("array_to_string({}, '; ')").format(ref)))
        elif column.is_flag:
            parts.append(column.filter_expr(alias))  # 'yes' / 'no', never a formula
        elif column.kind == "text":
            parts.append(_neutralised(ref))
        elif column.kind == "date":
            parts.append(sql.SQL(ISO_UTC).format(ref))
        else:
            parts.append(ref)
    return sql.SQL(", ").join(parts)


def export_csv(
    query: GridQuery,
    row_cap: int | None = None,
    *,
    fetch_rows: int = FETCH_ROWS,
    chunk_chars: int = CHUNK_CHARS,
) -> Iterator[str]:
    """CSV text chunks (header first) of the view in its sort order, at most row_cap rows
    (settings.export_row_cap by default).

    The query is validated now (GridQueryError raises at the call); the database is only
    touched when the first chunk is requested.
    """
    cap = get_settings().export_row_cap if row_cap is None else row_cap
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
        raise GridQueryError("The export row cap must be a whole number >= 0.")
    params = Params()
    stmt = sql.SQL("SELECT {cols} FROM {t} p WHERE {w} {o} LIMIT {n}").format(
        cols=export_columns("p"),
        t=sql.Identifier(TABLE),
        w=where_clause(query, params),
        o=order_by(sort_keys(query.sort_model), "p"),
        n=params.add(cap),
    )
    return _stream(stmt, params, fetch_rows, chunk_chars)


def _stream(stmt: sql.Composed, params: Params, fetch_rows: int, chunk_chars: int) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ROW_KEYS)
    timeout_ms = int(get_settings().db_statement_timeout_ms)
    with direct_connection() as conn:
        # Each FETCH is its own statement; a consumer that stops reading must not pin a snapshot.
        conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(timeout_ms)))
        conn.execute("SET LOCAL idle_in_transaction_session_timeout = 60000")
        # A cursor is planned for its first 10% of rows by default (a fast-start plan walking an
        # index in sort order); an export reads them all. With 1.0 a selective search uses its
        # indexes: 306 ms -> 54 ms for a 77-row export over 1M profiles.
        conn.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        with conn.cursor(name="sx_grid_export") as cur:
            cur.execute(stmt, params.values)
            while batch := cur.fetchmany(fetch_rows):
                writer.writerows(batch)  # NULL -> empty cell
                if buffer.tell() >= chunk_chars:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
