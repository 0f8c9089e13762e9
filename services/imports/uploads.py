"""Upload storage: an uploaded file checked whole and kept as UTF-8 CSV chunks until imported.

An upload (CSV in any encoding Excel writes, or an .xlsx sheet) is checked as it streams and
stored in the same pass, so the worker reads one format and the row numbers stay the file's
own. Reading it back goes one chunk per query, so no process ever holds the whole file.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator

import psycopg

from services.core.db import direct_connection, unit_of_work
from services.csv_source import ImportRefused, Table, numbered_records, open_table
from services.imports.report import MAX_ROWS, require_active_project
from services.spreadsheet import file_kind, xlsx_records

CHUNK_BYTES = 256 * 1024
CHUNKS_PER_INSERT = 8
UPLOAD_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xls")


def _slices(content: bytes) -> Iterator[bytes]:
    view = memoryview(content)
    for i in range(0, len(content), CHUNK_BYTES):
        yield bytes(view[i : i + CHUNK_BYTES])


def _checked_table(content: bytes, sheet: str | None) -> Table:
    """The upload's rows as a checked table, whatever the file is (the content decides)."""
    if file_kind(content) == "xlsx":
        return open_table(xlsx_records(content, sheet), MAX_ROWS, label="Row")
    return open_table(numbered_records(_slices(content), delimiter=None), MAX_ROWS)


def _csv_chunks(table: Table) -> Iterator[bytes]:
    """The table as UTF-8 CSV chunks, every record kept (blank ones too) so numbering holds.
    Reading the chunks is what checks the rows: a refusal stops the stream."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for _number, record in itertools.chain(table.leading, table.rows()):
        writer.writerow(record)
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def _refuse_unacceptable_file(filename: str, content: bytes, max_bytes: int) -> None:
    if not filename.lower().endswith(UPLOAD_SUFFIXES):
        raise ImportRefused(
            f"{filename}: only CSV (.csv, .txt) and Excel (.xlsx) files can be imported"
        )
    if len(content) > max_bytes:
        raise ImportRefused(
            f"{filename} is {len(content) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB"
        )


def _store_chunks(conn: psycopg.Connection, upload_id: int, table: Table) -> None:
    numbered = enumerate(_csv_chunks(table))
    with conn.cursor() as cur:
        while batch := list(itertools.islice(numbered, CHUNKS_PER_INSERT)):
            cur.executemany(
                "INSERT INTO upload_chunks (upload_id, seq, data) VALUES (%s, %s, %s)",
                [(upload_id, seq, chunk) for seq, chunk in batch],
            )


def store_upload(
    project_id: int,
    filename: str,
    content: bytes,
    user_id: int | None,
    max_bytes: int,
    sheet: str | None = None,
) -> tuple[int, str, int]:
    """Check an upload whole and store it as UTF-8 CSV chunks. Returns (upload id, format, rows).

    A CSV in UTF-8, UTF-16 or Windows-1252 (delimited by , ; or TAB), or an .xlsx workbook's
    first sheet (or `sheet`). Checking and storing are one streamed pass in one transaction on
    a connection of its own (not the request pool's): nothing is stored for a refused file,
    and the ImportRefused message says what and where.
    """
    _refuse_unacceptable_file(filename, content, max_bytes)
    table = _checked_table(content, (sheet or "").strip() or None)
    fmt = table.columns.format
    with direct_connection() as conn:
        require_active_project(conn, project_id)
        row = conn.execute(
            "INSERT INTO uploads (project_id, filename, size_bytes, format, created_by)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (project_id, filename[:200], len(content), fmt, user_id),
        ).fetchone()
        assert row is not None
        upload_id = int(row[0])
        _store_chunks(conn, upload_id, table)
        if table.data_rows == 0:
            raise ImportRefused(f"{filename} has a header but no data rows")  # rolls back
    return upload_id, fmt, table.data_rows


def upload_chunks(upload_id: int) -> Iterator[bytes]:
    """Stream an upload back one chunk per query, so memory never holds the whole file."""
    seq = 0
    while True:
        with unit_of_work() as conn:
            # Binary results: a text-format bytea arrives hex-encoded at twice its size.
            row = conn.execute(
                "SELECT data FROM upload_chunks WHERE upload_id = %s AND seq = %s",
                (upload_id, seq),
                binary=True,
            ).fetchone()
        if row is None:
            return
        yield bytes(row[0])
        seq += 1
